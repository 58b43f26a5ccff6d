"""S3 versioning: noncurrent versions, delete markers, ``list_object_versions``.

The current version of a key stays in ``objects`` (so unversioned buckets pay nothing);
noncurrent versions and delete markers live in ``versions``. A version's bytes are the same
blob as when it was current: moving a row between the two tables copies no byte, and the
garbage triggers free a blob only when neither table points to it.
"""
from __future__ import annotations

import os
import time

from local_backends.core.base import operation

from . import errors
from .buckets import utc

ROW_COLUMNS = ("bucket, key, blob, size, etag, modified, content_type, headers, metadata, "
               "storage_class, checksum, parts, data, segments, version_id")
MAX_KEYS = 1000


def new_version_id() -> str:
    """An opaque, unique version id (S3's are 32 URL-safe characters)."""
    return os.urandom(24).hex()[:32]


def public_id(version_id: str | None) -> str:
    return "null" if version_id is None else version_id


class Versions:
    """Versioning (mixed into :class:`local_backends.s3.S3Backend`)."""

    def _archive_current(self, db, bucket: str, key: str, status: str) -> None:
        """Before the current version is replaced or deleted in a versioning bucket: keep it
        as a noncurrent version (a "null" version is overwritten while Suspended)."""
        cur = db.execute("SELECT version_id FROM objects WHERE bucket = ? AND key = ?", (bucket, key)).fetchone()
        if status == "Suspended":
            db.execute("DELETE FROM versions WHERE bucket = ? AND key = ? AND version_id = 'null'", (bucket, key))
        if cur is None or (cur["version_id"] is None and status == "Suspended"):
            return
        db.execute(f"INSERT OR REPLACE INTO versions ({ROW_COLUMNS}, is_marker) "
                   f"SELECT bucket, key, blob, size, etag, modified, content_type, headers, metadata, "
                   f"storage_class, checksum, parts, data, segments, coalesce(version_id, 'null'), 0 "
                   f"FROM objects WHERE bucket = ? AND key = ?", (bucket, key))

    def _commit_versioned(self, db, bucket: str, status: str, row: tuple) -> str | None:
        """Write ``row`` (objects columns) as the new current version; returns its id."""
        key = row[1]
        self._archive_current(db, bucket, key, status)
        version_id = new_version_id() if status == "Enabled" else None
        db.execute(f"INSERT OR REPLACE INTO objects ({ROW_COLUMNS}) VALUES "
                   "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", (*row, version_id))
        return version_id

    def _delete_versioned(self, db, bucket: str, key: str, status: str) -> str:
        """delete_object without a version id: a delete marker becomes the latest version."""
        self._archive_current(db, bucket, key, status)
        db.execute("DELETE FROM objects WHERE bucket = ? AND key = ?", (bucket, key))
        marker = new_version_id() if status == "Enabled" else "null"
        db.execute("INSERT OR REPLACE INTO versions (bucket, key, blob, size, etag, modified, version_id, "
                   "is_marker, storage_class) VALUES (?, ?, ?, 0, '', ?, ?, 1, 'STANDARD')",
                   (bucket, key, f"marker-{marker}-{new_version_id()}", time.time(), marker))
        return marker

    def _delete_version(self, db, bucket: str, key: str, version_id: str) -> dict:
        """delete_object with a version id: that version is gone for good; if it was the
        current one, the newest remaining version becomes current."""
        vid = None if version_id == "null" else version_id
        cur = db.execute("SELECT version_id FROM objects WHERE bucket = ? AND key = ? AND "
                         "version_id IS ?", (bucket, key, vid)).fetchone()
        out: dict = {"VersionId": version_id}
        if cur is not None:
            db.execute("DELETE FROM objects WHERE bucket = ? AND key = ?", (bucket, key))
        else:
            gone = db.execute("DELETE FROM versions WHERE bucket = ? AND key = ? AND version_id = ? "
                              "RETURNING is_marker", (bucket, key, version_id)).fetchone()
            if gone is not None and gone["is_marker"]:
                out["DeleteMarker"] = True
            if db.execute("SELECT 1 FROM objects WHERE bucket = ? AND key = ?", (bucket, key)).fetchone():
                return out
        # The key has no current version: the newest remaining one becomes current, unless
        # it is a delete marker.
        newest = db.execute("SELECT version_id, is_marker FROM versions WHERE bucket = ? AND key = ? "
                            "ORDER BY modified DESC LIMIT 1", (bucket, key)).fetchone()
        if newest is not None and not newest["is_marker"]:
            db.execute(f"INSERT INTO objects ({ROW_COLUMNS}) SELECT bucket, key, blob, size, etag, "
                       f"modified, content_type, headers, metadata, storage_class, checksum, parts, "
                       f"data, segments, nullif(version_id, 'null') FROM versions "
                       f"WHERE bucket = ? AND key = ? AND version_id = ?",
                       (bucket, key, newest["version_id"]))
            db.execute("DELETE FROM versions WHERE bucket = ? AND key = ? AND version_id = ?",
                       (bucket, key, newest["version_id"]))
        return out

    def _version_row(self, bucket: str, key: str, version_id: str):
        """The row of one version (current or not), for get/head/copy with a VersionId."""
        db = self.store.db.connection()
        b = db.execute("SELECT id FROM buckets WHERE name = ?", (bucket,)).fetchone()
        if b is None:
            raise errors.NoSuchBucket("The specified bucket does not exist", BucketName=bucket)
        vid = None if version_id == "null" else version_id
        row = db.execute(f"SELECT {ROW_COLUMNS}, 0 AS is_marker, ? AS bucket_id FROM objects "
                         "WHERE bucket = ? AND key = ? AND version_id IS ?", (b["id"], bucket, key, vid)).fetchone()
        if row is None:
            row = db.execute(f"SELECT {ROW_COLUMNS}, is_marker, ? AS bucket_id FROM versions "
                             "WHERE bucket = ? AND key = ? AND version_id = ?",
                             (b["id"], bucket, key, version_id)).fetchone()
        if row is None:
            raise errors.NoSuchVersion("The specified version does not exist.", Key=key, VersionId=version_id)
        if row["is_marker"]:
            raise errors.MethodNotAllowed("The specified method is not allowed against this resource.",
                                          Method="GET", ResourceType="DeleteMarker")
        return row

    @operation
    def list_object_versions(self, Bucket: str, Prefix: str = "", Delimiter: str | None = None,
                             KeyMarker: str | None = None, VersionIdMarker: str | None = None,
                             MaxKeys: int | None = None, EncodingType: str | None = None, **_):
        self._bucket_id(Bucket)
        max_keys = MAX_KEYS if MaxKeys is None else min(MaxKeys, MAX_KEYS)
        prefix = Prefix or ""
        db = self.store.db.connection()
        rows = db.execute(
            "SELECT key, version_id, modified, size, etag, storage_class, 0 AS is_marker, 1 AS latest "
            "FROM objects WHERE bucket = ? AND substr(key, 1, ?) = ? "
            "UNION ALL SELECT key, version_id, modified, size, etag, storage_class, is_marker, 0 "
            "FROM versions WHERE bucket = ? AND substr(key, 1, ?) = ? "
            "ORDER BY key, latest DESC, modified DESC",
            (Bucket, len(prefix), prefix, Bucket, len(prefix), prefix)).fetchall()
        entries: list = []   # ("v", row) / ("p", prefix) in listing order
        seen_key = None
        seen_prefixes: set[str] = set()
        for r in rows:
            key = r["key"]
            if Delimiter:
                i = key.find(Delimiter, len(prefix))
                if i >= 0:
                    cp = key[: i + len(Delimiter)]
                    if cp not in seen_prefixes:
                        seen_prefixes.add(cp)
                        entries.append(("p", cp, None))
                    continue
            latest = key != seen_key  # the first row of a key is its latest version
            seen_key = key
            entries.append(("v", r, latest))
        start = 0
        if KeyMarker:
            start = len(entries)
            for i, (kind, item, _) in enumerate(entries):
                k = item if kind == "p" else item["key"]
                if (VersionIdMarker and kind == "v" and k == KeyMarker
                        and public_id(item["version_id"]) == VersionIdMarker):
                    start = i + 1
                    break
                if k > KeyMarker:
                    start = i
                    break
        page = entries[start:start + max_keys]
        truncated = start + max_keys < len(entries)
        out = {"IsTruncated": truncated, "KeyMarker": KeyMarker or "", "VersionIdMarker": VersionIdMarker or "",
               "Name": Bucket, "Prefix": prefix, "MaxKeys": MaxKeys if MaxKeys is not None else MAX_KEYS}
        versions, markers, prefixes = [], [], []
        for kind, item, latest in page:
            if kind == "p":
                prefixes.append({"Prefix": item})
                continue
            common = {"Key": item["key"], "VersionId": public_id(item["version_id"]), "IsLatest": latest,
                      "LastModified": utc(item["modified"]), "Owner": self.owner}
            if item["is_marker"]:
                markers.append(common)
            else:
                versions.append({**common, "ETag": f'"{item["etag"]}"', "Size": item["size"],
                                 "StorageClass": item["storage_class"]})
        if versions:
            out["Versions"] = versions
        if markers:
            out["DeleteMarkers"] = markers
        if prefixes:
            out["CommonPrefixes"] = prefixes
        if Delimiter:
            out["Delimiter"] = Delimiter
        if truncated:
            kind, item, _ = page[-1]
            out["NextKeyMarker"] = item if kind == "p" else item["key"]
            if kind == "v":
                out["NextVersionIdMarker"] = public_id(item["version_id"])
        return out


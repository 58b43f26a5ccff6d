"""S3 multipart uploads: create, upload (and copy) parts, list, complete, abort.

Each part is its own blob. Completion concatenates the parts into one new blob with
kernel-side copies, then one transaction points the key at it and forgets the upload, so a
reader sees the old object or the new one, never a mix, and a writer killed at any point
leaves either the upload (which can be completed again) or the finished object.
"""
from __future__ import annotations

import base64
import hashlib
import json
import time
import uuid

from local_backends.core.base import operation

from . import errors
from .buckets import utc
from .objects import _check_md5, _checked, _parse_copy_source, check_key, object_attrs, parse_range, requested_checksum
from .store import b64, new_checksum

MIN_PART = 5 * 1024 * 1024
MAX_PART_NUMBER = 10000
MAX_PARTS_LISTED = 1000


class Multipart:
    """Multipart operations (mixed into :class:`local_backends.s3.S3Backend`)."""

    def _upload(self, db, bucket: str, key: str, upload_id: str):
        if db.execute("SELECT 1 FROM buckets WHERE name = ?", (bucket,)).fetchone() is None:
            raise errors.NoSuchBucket("The specified bucket does not exist", BucketName=bucket)
        row = db.execute("SELECT * FROM uploads WHERE upload_id = ? AND bucket = ? AND key = ?",
                         (upload_id, bucket, key)).fetchone()
        if row is None:
            raise errors.NoSuchUpload("The specified upload does not exist. The upload ID may be "
                                      "invalid, or the upload may have been aborted or completed.",
                                      UploadId=upload_id)
        return row

    @operation
    def create_multipart_upload(self, Bucket: str, Key: str, **params):
        check_key(Key)
        content_type, headers, metadata, storage_class = object_attrs(params)
        algorithm, _ = requested_checksum(params)
        self._bucket_id(Bucket)
        upload_id = base64.urlsafe_b64encode(uuid.uuid4().bytes + uuid.uuid4().bytes).decode().rstrip("=")
        attrs = {"content_type": content_type, "headers": headers, "metadata": metadata,
                 "storage_class": storage_class, "checksum_algorithm": algorithm,
                 "checksum_type": params.get("ChecksumType") or ("COMPOSITE" if algorithm else None)}
        with self.store.db.transaction() as db:
            if db.execute("SELECT 1 FROM buckets WHERE name = ?", (Bucket,)).fetchone() is None:
                raise errors.NoSuchBucket("The specified bucket does not exist", BucketName=Bucket)
            db.execute("INSERT INTO uploads (upload_id, bucket, key, created, attrs) VALUES (?, ?, ?, ?, ?)",
                       (upload_id, Bucket, Key, time.time(), json.dumps(attrs)))
        out = {"Bucket": Bucket, "Key": Key, "UploadId": upload_id}
        if algorithm:
            out["ChecksumAlgorithm"] = algorithm
            out["ChecksumType"] = attrs["checksum_type"]
        return out

    def _put_part(self, bucket, key, upload_id, part_number, writer) -> tuple[str, dict | None]:
        if not 1 <= part_number <= MAX_PART_NUMBER:
            raise errors.InvalidArgument("Part number must be an integer between 1 and 10000, inclusive",
                                         ArgumentName="partNumber", ArgumentValue=part_number)
        db = self.store.db.connection()
        upload = self._upload(db, bucket, key, upload_id)
        bucket_id = self._bucket_id(bucket)
        algorithm = json.loads(upload["attrs"]).get("checksum_algorithm")
        blob, size, md5, checksum = writer(bucket_id, algorithm)
        try:
            with self.store.db.transaction() as tx:
                self._upload(tx, bucket, key, upload_id)
                old = tx.execute("SELECT blob FROM parts WHERE upload_id = ? AND part_number = ?",
                                 (upload_id, part_number)).fetchone()
                tx.execute("INSERT OR REPLACE INTO parts VALUES (?, ?, ?, ?, ?, ?, ?)",
                           (upload_id, part_number, blob, size, md5.hex(), time.time(),
                            json.dumps(checksum) if checksum else None))
        except BaseException:
            self.store.discard(bucket_id, blob)
            raise
        if old is not None:
            self.store.discard(bucket_id, old["blob"])
        return md5.hex(), checksum

    @operation
    def upload_part(self, Bucket: str, Key: str, UploadId: str, PartNumber: int, Body=None,
                    ContentMD5: str | None = None, **params):
        algorithm_asked, expected = requested_checksum(params)

        def write(bucket_id, algorithm):
            algorithm = algorithm_asked or algorithm
            blob, size, md5, digest, _ = self.store.write_blob(bucket_id, Body, algorithm, inline=False)
            try:
                _check_md5(ContentMD5, md5)
                checksum = _checked(algorithm, expected, digest)
            except BaseException:
                self.store.discard(bucket_id, blob)
                raise
            return blob, size, md5, checksum

        etag, checksum = self._put_part(Bucket, Key, UploadId, PartNumber, write)
        out = {"ETag": f'"{etag}"'}
        if checksum:
            out[f"Checksum{checksum['algorithm']}"] = checksum["value"]
        return out

    @operation
    def upload_part_copy(self, Bucket: str, Key: str, UploadId: str, PartNumber: int,
                         CopySource: str, CopySourceRange: str | None = None, **_):
        src_bucket, src_key, src_version = _parse_copy_source(CopySource)
        src = self._object_row(src_bucket, src_key, src_version)
        start, end = 0, src["size"] - 1
        if CopySourceRange:
            rng = parse_range(CopySourceRange, src["size"])
            if rng is None:
                raise errors.InvalidArgument("The x-amz-copy-source-range value must be of the form "
                                             "bytes=first-last where first and last are the zero-based "
                                             "offsets of the first and last bytes to copy",
                                             ArgumentName="x-amz-copy-source-range")
            start, end = rng

        def write(bucket_id, algorithm):
            data = self.store.read_range(src["bucket_id"], src, start, end - start + 1)
            blob, size, md5, digest, _ = self.store.write_blob(bucket_id, data, algorithm, inline=False)
            return blob, size, md5, _checked(algorithm, None, digest)

        etag, _ = self._put_part(Bucket, Key, UploadId, PartNumber, write)
        now = utc(time.time())
        return {"CopyPartResult": {"ETag": f'"{etag}"', "LastModified": now}}

    @operation
    def list_parts(self, Bucket: str, Key: str, UploadId: str, MaxParts: int | None = None,
                   PartNumberMarker: int | str | None = None, **_):
        db = self.store.db.connection()
        upload = self._upload(db, Bucket, Key, UploadId)
        attrs = json.loads(upload["attrs"])
        limit = min(MaxParts or MAX_PARTS_LISTED, MAX_PARTS_LISTED)
        marker = int(PartNumberMarker or 0)
        rows = db.execute("SELECT * FROM parts WHERE upload_id = ? AND part_number > ? "
                          "ORDER BY part_number LIMIT ?", (UploadId, marker, limit + 1)).fetchall()
        parts = []
        for r in rows[:limit]:
            part = {"PartNumber": r["part_number"], "LastModified": utc(r["modified"]),
                    "ETag": f'"{r["etag"]}"', "Size": r["size"]}
            if r["checksum"]:
                c = json.loads(r["checksum"])
                part[f"Checksum{c['algorithm']}"] = c["value"]
            parts.append(part)
        out = {"Bucket": Bucket, "Key": Key, "UploadId": UploadId, "PartNumberMarker": marker,
               "MaxParts": limit, "IsTruncated": len(rows) > limit, "Parts": parts,
               "StorageClass": attrs["storage_class"], "Owner": self.owner,
               "Initiator": {"ID": self.owner["ID"], "DisplayName": self.owner["DisplayName"]}}
        if parts:
            out["NextPartNumberMarker"] = parts[-1]["PartNumber"]
        if attrs.get("checksum_algorithm"):
            out["ChecksumAlgorithm"] = attrs["checksum_algorithm"]
            out["ChecksumType"] = attrs["checksum_type"]
        return out

    @operation
    def list_multipart_uploads(self, Bucket: str, Prefix: str = "", MaxUploads: int | None = None,
                               KeyMarker: str | None = None, UploadIdMarker: str | None = None, **_):
        self._bucket_id(Bucket)
        limit = min(MaxUploads or 1000, 1000)
        rows = self.store.db.query(
            "SELECT * FROM uploads WHERE bucket = ? AND substr(key, 1, ?) = ? AND key > ? "
            "ORDER BY key, created LIMIT ?",
            (Bucket, len(Prefix or ""), Prefix or "", KeyMarker or "", limit + 1))
        uploads = [{"UploadId": r["upload_id"], "Key": r["key"], "Initiated": utc(r["created"]),
                    "StorageClass": json.loads(r["attrs"])["storage_class"], "Owner": self.owner,
                    "Initiator": {"ID": self.owner["ID"], "DisplayName": self.owner["DisplayName"]}}
                   for r in rows[:limit]]
        out = {"Bucket": Bucket, "KeyMarker": KeyMarker or "", "UploadIdMarker": UploadIdMarker or "",
               "Prefix": Prefix or "", "MaxUploads": limit, "IsTruncated": len(rows) > limit,
               "Uploads": uploads}
        if len(rows) > limit:
            out["NextKeyMarker"] = uploads[-1]["Key"]
            out["NextUploadIdMarker"] = uploads[-1]["UploadId"]
        return out

    @operation
    def abort_multipart_upload(self, Bucket: str, Key: str, UploadId: str, **_):
        with self.store.db.transaction() as db:
            self._upload(db, Bucket, Key, UploadId)
            blobs = [r["blob"] for r in db.execute("DELETE FROM parts WHERE upload_id = ? RETURNING blob",
                                                   (UploadId,))]
            db.execute("DELETE FROM uploads WHERE upload_id = ?", (UploadId,))
        self.store.discard(self._bucket_id(Bucket), *blobs)
        return {"ResponseMetadata": {"HTTPStatusCode": 204}}

    @operation
    def complete_multipart_upload(self, Bucket: str, Key: str, UploadId: str,
                                  MultipartUpload: dict | None = None, **_):
        asked = (MultipartUpload or {}).get("Parts") or []
        if not asked:
            raise errors.MalformedXML("The XML you provided was not well-formed or did not validate "
                                      "against our published schema")
        db = self.store.db.connection()
        upload = self._upload(db, Bucket, Key, UploadId)
        attrs = json.loads(upload["attrs"])
        stored = {r["part_number"]: r for r in
                  db.execute("SELECT * FROM parts WHERE upload_id = ?", (UploadId,))}
        numbers = [p["PartNumber"] for p in asked]
        if numbers != sorted(numbers) or len(set(numbers)) != len(numbers):
            raise errors.InvalidPartOrder("The list of parts was not in ascending order. The parts "
                                          "list must be specified in order by part number.",
                                          UploadId=UploadId)
        chosen = []
        for i, p in enumerate(asked):
            r = stored.get(p["PartNumber"])
            if r is None or p.get("ETag", "").strip('"') != r["etag"]:
                raise errors.InvalidPart("One or more of the specified parts could not be found. The "
                                         "part might not have been uploaded, or the specified entity "
                                         "tag might not have matched the part's entity tag.",
                                         UploadId=UploadId, PartNumber=p["PartNumber"],
                                         ETag=p.get("ETag"))
            if i < len(asked) - 1 and r["size"] < MIN_PART:
                raise errors.EntityTooSmall("Your proposed upload is smaller than the minimum allowed "
                                            "object size.", ProposedSize=r["size"],
                                            MinSizeAllowed=MIN_PART, PartNumber=p["PartNumber"])
            chosen.append(r)
        etag = hashlib.md5(b"".join(bytes.fromhex(r["etag"]) for r in chosen)).hexdigest() + f"-{len(chosen)}"
        checksum = _composite_checksum(attrs, chosen)
        bucket_id = self._bucket_id(Bucket)
        # The parts become the object's segments: nothing is copied.
        segments = [[r["blob"], r["size"]] for r in chosen]
        size = sum(r["size"] for r in chosen)
        with self.store.db.transaction() as tx:
            self._upload(tx, Bucket, Key, UploadId)  # still there: nobody completed or aborted it
            _, version_id = self._commit_object(
                Bucket, Key, uuid.uuid4().hex, size, etag, attrs["content_type"], attrs["headers"],
                attrs["metadata"], attrs["storage_class"], checksum, len(chosen),
                segments=json.dumps(segments), db=tx)
            parts = [r["blob"] for r in tx.execute("DELETE FROM parts WHERE upload_id = ? RETURNING blob",
                                                   (UploadId,))]
            tx.execute("DELETE FROM uploads WHERE upload_id = ?", (UploadId,))
        used = {b for b, _ in segments}
        self.store.discard(bucket_id, *[b for b in parts if b not in used])  # parts left out
        self.store.collect()
        out = {"Location": f"https://{Bucket}.s3.{self.region}.amazonaws.com/{Key}", "Bucket": Bucket,
               "Key": Key, "ETag": f'"{etag}"'}
        if version_id is not None:
            out["VersionId"] = version_id
        if checksum:
            out[f"Checksum{checksum['algorithm']}"] = checksum["value"]
            out["ChecksumType"] = checksum["type"]
        return out


def _composite_checksum(attrs: dict, parts: list) -> dict | None:
    algorithm = attrs.get("checksum_algorithm")
    if not algorithm or not all(r["checksum"] for r in parts):
        return None
    h = new_checksum(algorithm)
    for r in parts:
        h.update(base64.b64decode(json.loads(r["checksum"])["value"]))
    return {"algorithm": algorithm, "value": f"{b64(h.digest())}-{len(parts)}", "type": "COMPOSITE"}

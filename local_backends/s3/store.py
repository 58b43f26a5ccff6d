"""Where local S3 keeps things: metadata in SQLite, bytes in immutable blob files.

* ``meta.db`` holds buckets, objects (key -> blob), multipart uploads and their parts.
  Keys live only in the database, so no key (unicode, ``..``, ``//``, a leading ``/``,
  1,024 bytes) ever becomes a file path.
* ``blobs/<bucket-id>/<uuid>`` holds the bytes. A blob is written in full before the
  transaction that points a key at it commits, and is never modified afterwards: a reader
  never sees a partial object, a killed writer leaves at most an orphan blob that no key
  points to, and concurrent writers of one key end with one complete version (the last
  commit). Objects up to 64 KiB live in their database row instead; a completed multipart
  upload keeps its parts as the object's segments (nothing is copied); copies are hard links.
"""
from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import shutil
import uuid
import zlib
from pathlib import Path
from typing import BinaryIO, Callable

from local_backends.core.state import SqliteStore

from .reader import RangeReader

SCHEMA = """
CREATE TABLE IF NOT EXISTS buckets (
    name TEXT PRIMARY KEY,
    id TEXT NOT NULL,
    region TEXT NOT NULL,
    created REAL NOT NULL,
    config TEXT NOT NULL DEFAULT '{}',
    versioning TEXT         -- NULL (never enabled), 'Enabled' or 'Suspended'
);
CREATE TABLE IF NOT EXISTS objects (
    bucket TEXT NOT NULL,
    key TEXT NOT NULL,
    blob TEXT NOT NULL,
    size INTEGER NOT NULL,
    etag TEXT NOT NULL,
    modified REAL NOT NULL,
    content_type TEXT,
    headers TEXT,           -- JSON: ContentEncoding, CacheControl, ... (only those set)
    metadata TEXT,          -- JSON: user metadata (x-amz-meta-*)
    storage_class TEXT NOT NULL DEFAULT 'STANDARD',
    checksum TEXT,          -- JSON: {"algorithm", "value", "type"}
    parts INTEGER,          -- number of parts of a multipart object
    data BLOB,              -- the bytes of a small object (then no blob file exists)
    segments TEXT,          -- JSON [[blob, size], ...]: a multipart object's parts, in order
    version_id TEXT,        -- NULL: the "null" version (unversioned bucket)
    PRIMARY KEY (bucket, key)
) WITHOUT ROWID;
-- Noncurrent versions and delete markers of versioning buckets.
CREATE TABLE IF NOT EXISTS versions (
    bucket TEXT NOT NULL, key TEXT NOT NULL, version_id TEXT NOT NULL,
    is_marker INTEGER NOT NULL DEFAULT 0,
    blob TEXT NOT NULL, size INTEGER NOT NULL, etag TEXT NOT NULL, modified REAL NOT NULL,
    content_type TEXT, headers TEXT, metadata TEXT, storage_class TEXT NOT NULL DEFAULT 'STANDARD',
    checksum TEXT, parts INTEGER, data BLOB, segments TEXT,
    PRIMARY KEY (bucket, key, version_id)
) WITHOUT ROWID;
-- Blobs no key points to any more. A trigger fills it in the same statement that drops or
-- replaces an object row, so a blob is never lost track of, even if the process dies
-- before it removes the file; whoever writes next removes the files.
CREATE TABLE IF NOT EXISTS garbage (bucket_id TEXT NOT NULL, blob TEXT NOT NULL);
CREATE TRIGGER IF NOT EXISTS objects_garbage AFTER DELETE ON objects
WHEN NOT EXISTS (SELECT 1 FROM versions v WHERE v.bucket = old.bucket AND v.key = old.key
                 AND v.blob = old.blob) BEGIN
    INSERT INTO garbage SELECT id, old.blob FROM buckets WHERE name = old.bucket;
    INSERT INTO garbage SELECT b.id, json_extract(j.value, '$[0]')
        FROM buckets b, json_each(coalesce(old.segments, '[]')) j WHERE b.name = old.bucket;
END;
CREATE TRIGGER IF NOT EXISTS versions_garbage AFTER DELETE ON versions
WHEN NOT EXISTS (SELECT 1 FROM objects o WHERE o.bucket = old.bucket AND o.key = old.key
                 AND o.blob = old.blob) BEGIN
    INSERT INTO garbage SELECT id, old.blob FROM buckets WHERE name = old.bucket;
    INSERT INTO garbage SELECT b.id, json_extract(j.value, '$[0]')
        FROM buckets b, json_each(coalesce(old.segments, '[]')) j WHERE b.name = old.bucket;
END;
CREATE TABLE IF NOT EXISTS uploads (
    upload_id TEXT PRIMARY KEY,
    bucket TEXT NOT NULL,
    key TEXT NOT NULL,
    created REAL NOT NULL,
    attrs TEXT NOT NULL     -- JSON: content type, headers, metadata, storage class, checksum algorithm
);
CREATE INDEX IF NOT EXISTS uploads_by_key ON uploads (bucket, key, created);
CREATE TABLE IF NOT EXISTS parts (
    upload_id TEXT NOT NULL,
    part_number INTEGER NOT NULL,
    blob TEXT NOT NULL,
    size INTEGER NOT NULL,
    etag TEXT NOT NULL,
    modified REAL NOT NULL,
    checksum TEXT,
    PRIMARY KEY (upload_id, part_number)
) WITHOUT ROWID;
"""

SCHEMA_VERSION = 2  # 1: before versioning and segments
CHUNK = 8 << 20
INLINE_MAX = 64 << 10
"""Objects up to this size live in the database row: SQLite stores small blobs faster than
a file system creates files (https://www.sqlite.org/fasterthanfs.html)."""

CHECKSUM_ALGORITHMS = ("CRC32", "SHA1", "SHA256")


class _Crc32:
    def __init__(self) -> None:
        self.value = 0

    def update(self, data: bytes) -> None:
        self.value = zlib.crc32(data, self.value)

    def digest(self) -> bytes:
        return self.value.to_bytes(4, "big")


def new_checksum(algorithm: str):
    """A hasher for one of S3's flexible checksum algorithms."""
    if algorithm == "CRC32":
        return _Crc32()
    if algorithm == "SHA1":
        return hashlib.sha1()
    if algorithm == "SHA256":
        return hashlib.sha256()
    raise ValueError(algorithm)


def b64(digest: bytes) -> str:
    return base64.b64encode(digest).decode()


class Store:
    """The metadata database and the blob directory of one state root."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.blobs = self.root / "blobs"
        self.blobs.mkdir(parents=True, exist_ok=True)
        # recursive_triggers: the REPLACE of INSERT OR REPLACE fires the garbage trigger too.
        self.db = SqliteStore(self.root / "meta.db", SCHEMA, pragmas=("recursive_triggers=ON",), version=SCHEMA_VERSION)

    # -- blobs -------------------------------------------------------------------------
    def blob_path(self, bucket_id: str, blob: str) -> Path:
        return self.blobs / bucket_id / blob

    def bucket_dir(self, bucket_id: str) -> Path:
        return self.blobs / bucket_id

    def write_blob(self, bucket_id: "str | Callable[[], str]", body: BinaryIO | bytes | None,
                   checksum_algorithm: str | None = None, inline: bool = True
                   ) -> tuple[str, int, bytes, bytes | None, bytes | None]:
        """Store ``body``: ``(blob, size, md5 digest, checksum digest, inline data)``.

        A body of at most ``INLINE_MAX`` bytes (with ``inline``) is returned as ``data``
        for the caller to keep in the database; a larger one is written to a new blob file.
        ``bucket_id`` may be a callable, called only when a file is written.
        """
        blob = uuid.uuid4().hex
        md5 = hashlib.md5()
        extra = new_checksum(checksum_algorithm) if checksum_algorithm else None
        if body is None:
            first = b""
        elif isinstance(body, (bytes, bytearray, memoryview)):
            first = bytes(body)
            body = None
        else:
            first = body.read(INLINE_MAX + 1 if inline else CHUNK)
            if isinstance(first, str):
                first = first.encode()
        if inline and len(first) <= INLINE_MAX and (body is None or len(first) < INLINE_MAX + 1):
            md5.update(first)
            if extra is not None:
                extra.update(first)
            return blob, len(first), md5.digest(), _digest(extra), first
        if callable(bucket_id):
            bucket_id = bucket_id()
        path = self.blob_path(bucket_id, blob)
        size = 0
        try:
            with open(path, "wb", buffering=0) as out:
                data = first
                while data:
                    out.write(data)
                    md5.update(data)
                    if extra is not None:
                        extra.update(data)
                    size += len(data)
                    if body is None:
                        break
                    data = body.read(CHUNK)
                    if isinstance(data, str):
                        data = data.encode()
        except FileNotFoundError:
            raise  # the bucket's directory is gone: the caller reports NoSuchBucket
        except BaseException:
            self.discard(bucket_id, blob)
            raise
        return blob, size, md5.digest(), _digest(extra), None

    # -- reading an object, whichever way it is kept --------------------------------------
    def open_range(self, bucket_id: str, row, start: int, length: int):
        """A raw reader of ``length`` bytes of the object from ``start`` (inline data, one
        blob file, or the segment files of a multipart object). FileNotFoundError if the
        object was replaced since ``row`` was read."""
        if row["data"] is not None:
            return io.BytesIO(row["data"][start:start + length])
        pieces = self._pieces(bucket_id, row, start, length)
        if len(pieces) == 1 and pieces[0][1] == 0 and pieces[0][2] == pieces[0][3]:
            # One whole file (a whole object, or one part of a multipart object, which is what a
            # ranged download asks for): the file itself, read to its end without Python code.
            return open(pieces[0][0], "rb", buffering=0)
        return RangeReader([p[:3] for p in pieces])

    def read_range(self, bucket_id: str, row, start: int, length: int) -> bytes:
        if row["data"] is not None:
            return row["data"][start:start + length]
        with RangeReader([p[:3] for p in self._pieces(bucket_id, row, start, length)]) as reader:
            return reader.read(length)

    def _pieces(self, bucket_id: str, row, start: int, length: int) -> list[tuple[Path, int, int, int]]:
        """``(file, start, length, file size)`` of the pieces of a range of a file object."""
        if not row["segments"]:
            return [(self.blob_path(bucket_id, row["blob"]), start, length, row["size"])]
        pieces = []
        offset = 0
        for blob, size in json.loads(row["segments"]):
            lo, hi = max(start, offset), min(start + length, offset + size)
            if lo < hi:
                pieces.append((self.blob_path(bucket_id, blob), lo - offset, hi - lo, size))
            offset += size
        return pieces

    def file_of(self, bucket_id: str, row) -> Path:
        """One file holding the whole object (made once, atomically, if it is kept otherwise)."""
        if row["data"] is None and not row["segments"]:
            return self.blob_path(bucket_id, row["blob"])
        path = self.blob_path(bucket_id, row["blob"])
        if not path.exists():
            tmp = path.with_name(f".{row['blob']}.{uuid.uuid4().hex}.tmp")
            try:
                if row["data"] is not None:
                    tmp.write_bytes(row["data"])
                else:
                    with open(tmp, "wb") as out:
                        for blob, size in json.loads(row["segments"]):
                            with open(self.blob_path(bucket_id, blob), "rb") as inp:
                                _copy_fd(inp.fileno(), out.fileno(), size)
                os.replace(tmp, path)
            except BaseException:
                tmp.unlink(missing_ok=True)
                raise
        return path

    def copy_content(self, dst_bucket_id: str, src_bucket_id: str, row) -> tuple[str, str | None, bytes | None]:
        """New ``(blob, segments, data)`` holding the same bytes as ``row`` (hard links)."""
        blob = uuid.uuid4().hex
        if row["data"] is not None:
            return blob, None, row["data"]
        if row["segments"]:
            segments = [[self.link_blob(dst_bucket_id, src_bucket_id, b), size]
                        for b, size in json.loads(row["segments"])]
            return blob, json.dumps(segments), None
        return self.link_blob(dst_bucket_id, src_bucket_id, row["blob"]), None, None

    def link_blob(self, dst_bucket_id: str, src_bucket_id: str, src_blob: str) -> str:
        """A new name for an existing blob (blobs are immutable, so a hard link is a copy)."""
        blob = uuid.uuid4().hex
        src = self.blob_path(src_bucket_id, src_blob)
        dst = self.blob_path(dst_bucket_id, blob)
        try:
            os.link(src, dst)
        except OSError as exc:
            if isinstance(exc, FileNotFoundError):
                raise
            shutil.copyfile(src, dst)  # a filesystem without hard links
        return blob

    def collect(self) -> None:
        """Remove the files of every blob the garbage table lists."""
        for bucket_id, blob in self.db.connection().execute(
                "DELETE FROM garbage RETURNING bucket_id, blob").fetchall():
            self.discard(bucket_id, blob)

    def discard(self, bucket_id: str, *blobs: str) -> None:
        """Remove blobs no key points to any more (missing ones are already gone)."""
        for blob in blobs:
            try:
                os.unlink(self.blob_path(bucket_id, blob))
            except FileNotFoundError:
                pass


def _digest(hasher) -> bytes | None:
    return hasher.digest() if hasher is not None else None


def _copy_fd(src: int, dst: int, size: int) -> None:
    copied = 0
    try:
        while copied < size:
            n = os.copy_file_range(src, dst, min(size - copied, 1 << 30))
            if n == 0:
                break
            copied += n
    except OSError:
        pass  # not supported here: fall back to read/write below
    if copied < size:
        os.lseek(src, copied, os.SEEK_SET)
        while True:
            data = os.read(src, CHUNK)
            if not data:
                break
            os.write(dst, data)

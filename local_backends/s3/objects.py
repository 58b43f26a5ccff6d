"""S3 object operations: put, get (ranges, conditions), head, delete, copy."""
from __future__ import annotations

import base64
import binascii
import io
import json
import time
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import unquote

from botocore.response import StreamingBody

from local_backends.core.base import operation

from . import errors
from .buckets import utc
from .store import CHECKSUM_ALGORITHMS, b64

MAX_KEY_BYTES = 1024
MAX_METADATA_BYTES = 2048
MAX_PUT_BYTES = 5 * 1024 ** 3
SMALL_OBJECT = 1 << 20  # bodies below this are returned from memory
READ_BUFFER = 64 << 10  # buffer of a larger body: for small reads (lines, 1 KiB iteration)

# Stored object headers: API member -> kept as given.
HEADER_MEMBERS = ("CacheControl", "ContentDisposition", "ContentEncoding", "ContentLanguage",
                  "Expires", "WebsiteRedirectLocation")

_OBJECT_COLUMNS = ("bucket, key, blob, size, etag, modified, content_type, headers, metadata, "
                   "storage_class, checksum, parts, data, segments, version_id")


def check_key(key: str) -> None:
    if len(key.encode("utf-8", "surrogatepass")) > MAX_KEY_BYTES:
        raise errors.KeyTooLongError("Your key is too long", Size=len(key.encode()),
                                     MaxSizeAllowed=MAX_KEY_BYTES)


def object_attrs(params: dict) -> tuple[str, dict, dict, str]:
    """Content type, stored headers, user metadata and storage class from request params."""
    metadata = {k.lower(): v for k, v in (params.get("Metadata") or {}).items()}
    if sum(len(k.encode()) + len(v.encode()) for k, v in metadata.items()) > MAX_METADATA_BYTES:
        raise errors.MetadataTooLarge("Your metadata headers exceed the maximum allowed metadata size",
                                      MaxSizeAllowed=MAX_METADATA_BYTES)
    headers = {}
    for member in HEADER_MEMBERS:
        value = params.get(member)
        if value is not None:
            headers[member] = value.timestamp() if isinstance(value, datetime) else value
    content_type = params.get("ContentType") or "binary/octet-stream"
    return content_type, headers, metadata, params.get("StorageClass") or "STANDARD"


def requested_checksum(params: dict) -> tuple[str | None, str | None]:
    """(algorithm, expected base64 value) asked for by a put or an upload_part."""
    for algorithm in CHECKSUM_ALGORITHMS:
        value = params.get(f"Checksum{algorithm}")
        if value:
            return algorithm, value
    algorithm = params.get("ChecksumAlgorithm")
    if algorithm:
        algorithm = algorithm.upper()
        if algorithm not in CHECKSUM_ALGORITHMS:
            raise errors.InvalidRequest(
                f"Checksum algorithm {algorithm} is not supported by the local S3 backend "
                f"(supported: {', '.join(CHECKSUM_ALGORITHMS)})")
        return algorithm, None
    return None, None


def parse_range(header: str, size: int) -> tuple[int, int] | None:
    """``(start, end)`` inclusive for a ``bytes=`` range, ``None`` to ignore it as S3 does."""
    if not header.startswith("bytes="):
        return None
    spec = header[6:]
    if "," in spec or "-" not in spec:
        return None  # S3 ignores multiple or malformed ranges and returns the whole object
    first, _, last = spec.partition("-")
    try:
        if first == "":
            n = int(last)
            if n == 0:
                raise errors.InvalidRange("The requested range is not satisfiable",
                                          RangeRequested=header, ActualObjectSize=size)
            return max(size - n, 0), size - 1
        start = int(first)
        end = int(last) if last else size - 1
    except ValueError:
        return None
    if end < start:
        return None
    if start >= size:
        raise errors.InvalidRange("The requested range is not satisfiable",
                                  RangeRequested=header, ActualObjectSize=size)
    return start, min(end, size - 1)


class Objects:
    """Object operations (mixed into :class:`local_backends.s3.S3Backend`)."""

    # -- helpers shared with multipart and other backends ------------------------------
    def _object_row(self, bucket: str, key: str, version_id: str | None = None):
        if version_id is not None:
            return self._version_row(bucket, key, version_id)
        db = self.store.db.connection()
        row = db.execute(f"SELECT {_OBJECT_COLUMNS}, b.id AS bucket_id FROM buckets b "
                         "LEFT JOIN objects o ON o.bucket = b.name AND o.key = ? WHERE b.name = ?",
                         (key, bucket)).fetchone()
        if row is None:
            raise errors.NoSuchBucket("The specified bucket does not exist", BucketName=bucket)
        if row["key"] is None:
            raise errors.NoSuchKey("The specified key does not exist.", Key=key)
        return row

    def _commit_object(self, bucket: str, key: str, blob: str, size: int, etag: str,
                       content_type: str, headers: dict, metadata: dict, storage_class: str,
                       checksum: dict | None, parts: int | None, data: bytes | None = None,
                       segments: str | None = None, db=None) -> tuple[float, str | None]:
        """Point ``key`` at ``blob``: ``(time, version id)``.

        An unversioned bucket takes one statement that writes only if the bucket exists; a
        versioning bucket keeps the replaced version (:mod:`local_backends.s3.versions`).
        A replaced blob goes to the garbage table (a trigger); without ``db`` its file is
        removed at once, inside a caller's transaction (``db``) the caller calls
        ``store.collect()`` after its commit.
        """
        now = time.time()
        row = (bucket, key, blob, size, etag, now, content_type,
               json.dumps(headers) if headers else None, json.dumps(metadata) if metadata else None,
               storage_class, json.dumps(checksum) if checksum else None, parts, data, segments)
        conn = db if db is not None else self.store.db.connection()
        before = conn.total_changes
        cur = conn.execute(f"INSERT OR REPLACE INTO objects ({_OBJECT_COLUMNS}) "
                           "SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL FROM buckets "
                           "WHERE name = ? AND versioning IS NULL", (*row, bucket))
        version_id = None
        if cur.rowcount == 0:
            if db is not None:
                version_id = self._commit_in_versioning_bucket(db, bucket, row)
            else:
                with self.store.db.transaction() as tx:
                    version_id = self._commit_in_versioning_bucket(tx, bucket, row)
                self.store.collect()
        elif db is None and conn.total_changes - before > 1:
            self.store.collect()
        return now, version_id

    def _commit_in_versioning_bucket(self, db, bucket: str, row: tuple) -> str | None:
        b = db.execute("SELECT versioning FROM buckets WHERE name = ?", (bucket,)).fetchone()
        if b is None:
            raise errors.NoSuchBucket("The specified bucket does not exist", BucketName=bucket)
        return self._commit_versioned(db, bucket, b["versioning"], row)

    def _bucket_id(self, bucket: str) -> str:
        row = self.store.db.query_one("SELECT id FROM buckets WHERE name = ?", (bucket,))
        if row is None:
            raise errors.NoSuchBucket("The specified bucket does not exist", BucketName=bucket)
        return row["id"]

    def object_path(self, bucket: str, key: str) -> Path:
        """The file that holds the object's bytes (immutable: read it, never write it).

        For other local backends (Athena reads Parquet and CSV in place). A later write of
        the key points it at a new file; this one disappears once nothing has it open.
        """
        for _ in range(5):
            row = self._object_row(bucket, key)
            try:
                return self.store.file_of(row["bucket_id"], row)
            except FileNotFoundError:
                continue  # replaced meanwhile: look again
        raise errors.NoSuchKey("The specified key does not exist.", Key=key)

    # -- operations --------------------------------------------------------------------
    @operation
    def put_object(self, Bucket: str, Key: str, Body=None, ContentMD5: str | None = None, **params):
        check_key(Key)
        content_type, headers, metadata, storage_class = object_attrs(params)
        algorithm, expected = requested_checksum(params)
        bucket_ids: list[str] = []

        def bucket_id() -> str:  # looked up only when the body goes to a file
            if not bucket_ids:
                bucket_ids.append(self._bucket_id(Bucket))
            return bucket_ids[0]
        try:
            blob, size, md5, digest, data = self.store.write_blob(bucket_id, Body, algorithm)
        except FileNotFoundError:
            raise errors.NoSuchBucket("The specified bucket does not exist", BucketName=Bucket) from None
        try:
            if size > MAX_PUT_BYTES:
                raise errors.EntityTooLarge("Your proposed upload exceeds the maximum allowed size",
                                            ProposedSize=size, MaxSizeAllowed=MAX_PUT_BYTES)
            _check_md5(ContentMD5, md5)
            checksum = _checked(algorithm, expected, digest)
            _, version_id = self._commit_object(Bucket, Key, blob, size, md5.hex(), content_type,
                                                headers, metadata, storage_class, checksum, None, data)
        except BaseException:
            if data is None:
                self.store.discard(bucket_id(), blob)
            raise
        out = {"ETag": f'"{md5.hex()}"', "Size": size}
        if version_id is not None:
            out["VersionId"] = version_id
        if checksum:
            out[f"Checksum{algorithm}"] = checksum["value"]
            out["ChecksumType"] = "FULL_OBJECT"
        return out

    @operation
    def get_object(self, Bucket: str, Key: str, Range: str | None = None, ChecksumMode=None,
                   VersionId: str | None = None, **params):
        for attempt in range(5):
            row = self._object_row(Bucket, Key, VersionId)
            out = self._describe(row, params, ChecksumMode)
            size = row["size"]
            start, end = 0, size - 1
            status = 200
            if Range:
                rng = parse_range(Range, size)
                if rng is not None:
                    start, end = rng
                    status = 206
                    out["ContentRange"] = f"bytes {start}-{end}/{size}"
                    out.pop(next((k for k in out if k.startswith("Checksum") and k != "ChecksumType"), "_"), None)
            length = max(end - start + 1, 0)
            try:
                reader = self.store.open_range(row["bucket_id"], row, start, length)
            except FileNotFoundError:
                continue  # replaced between the lookup and the open: look again
            if row["data"] is not None:
                raw = reader
            elif length <= SMALL_OBJECT:
                with reader:
                    raw = io.BytesIO(reader.read(length))
            else:
                # Reads of at least READ_BUFFER bytes go straight from the blob file into the
                # caller's bytes (one copy, the GIL released); only small ones are buffered.
                raw = io.BufferedReader(reader, buffer_size=READ_BUFFER)
            out["Body"] = StreamingBody(raw, length)
            out["ContentLength"] = length
            _apply_response_overrides(out, params)
            if status != 200:
                out["ResponseMetadata"] = {"HTTPStatusCode": status}
            return out
        raise errors.NoSuchKey("The specified key does not exist.", Key=Key)

    @operation
    def head_object(self, Bucket: str, Key: str, Range: str | None = None, ChecksumMode=None,
                    VersionId: str | None = None, **params):
        row = self._object_row(Bucket, Key, VersionId)
        out = self._describe(row, params, ChecksumMode)
        out["ContentLength"] = row["size"]
        if Range:
            rng = parse_range(Range, row["size"])
            if rng is not None:
                out["ContentLength"] = rng[1] - rng[0] + 1
                out["ContentRange"] = f"bytes {rng[0]}-{rng[1]}/{row['size']}"
                out["ResponseMetadata"] = {"HTTPStatusCode": 206}
        _apply_response_overrides(out, params)
        return out

    def _describe(self, row, params: dict, checksum_mode: str | None) -> dict:
        etag = f'"{row["etag"]}"'
        modified = utc(row["modified"])
        _check_conditions(params, etag, modified)
        out = {
            "AcceptRanges": "bytes",
            "LastModified": modified,
            "ETag": etag,
            "ContentType": row["content_type"],
            "Metadata": json.loads(row["metadata"]) if row["metadata"] else {},
        }
        if row["headers"]:
            for k, v in json.loads(row["headers"]).items():
                out[k] = datetime.fromtimestamp(v, tz=timezone.utc) if k == "Expires" else v
        if row["storage_class"] != "STANDARD":
            out["StorageClass"] = row["storage_class"]
        if row["parts"]:
            out["PartsCount"] = row["parts"]
        if row["version_id"] is not None:
            out["VersionId"] = row["version_id"]
        if checksum_mode == "ENABLED" and row["checksum"]:
            c = json.loads(row["checksum"])
            out[f"Checksum{c['algorithm']}"] = c["value"]
            out["ChecksumType"] = c["type"]
        return out

    @operation
    def delete_object(self, Bucket: str, Key: str, VersionId: str | None = None, **_):
        with self.store.db.transaction() as db:
            out = self._delete_one(db, Bucket, Key, VersionId)
        self.store.collect()
        return {**out, "ResponseMetadata": {"HTTPStatusCode": 204}}

    def _delete_one(self, db, bucket: str, key: str, version_id: str | None) -> dict:
        b = db.execute("SELECT versioning FROM buckets WHERE name = ?", (bucket,)).fetchone()
        if b is None:
            raise errors.NoSuchBucket("The specified bucket does not exist", BucketName=bucket)
        if version_id is not None:
            return self._delete_version(db, bucket, key, version_id)
        if b["versioning"] is not None:
            return {"DeleteMarker": True, "VersionId": self._delete_versioned(db, bucket, key, b["versioning"])}
        db.execute("DELETE FROM objects WHERE bucket = ? AND key = ?", (bucket, key))
        return {}

    @operation
    def delete_objects(self, Bucket: str, Delete: dict, **_):
        objects = Delete.get("Objects") or []
        if len(objects) > 1000:
            raise errors.MalformedXML("The XML you provided was not well-formed or did not validate "
                                      "against our published schema")
        deleted = []
        with self.store.db.transaction() as db:
            for obj in objects:
                res = self._delete_one(db, Bucket, obj["Key"], obj.get("VersionId"))
                item = {"Key": obj["Key"]}
                if res.get("DeleteMarker") and obj.get("VersionId") is None:
                    item.update(DeleteMarker=True, DeleteMarkerVersionId=res["VersionId"])
                elif obj.get("VersionId") is not None:
                    item["VersionId"] = obj["VersionId"]
                    if res.get("DeleteMarker"):
                        item.update(DeleteMarker=True, DeleteMarkerVersionId=obj["VersionId"])
                deleted.append(item)
        self.store.collect()
        return {} if Delete.get("Quiet") else {"Deleted": deleted}

    @operation
    def copy_object(self, Bucket: str, Key: str, CopySource: str, MetadataDirective: str | None = None,
                    **params):
        check_key(Key)
        src_bucket, src_key, src_version = _parse_copy_source(CopySource)
        src = self._object_row(src_bucket, src_key, src_version)
        _check_conditions({k[len("CopySource"):]: v for k, v in params.items()
                           if k.startswith("CopySourceIf")}, f'"{src["etag"]}"', utc(src["modified"]))
        if MetadataDirective == "REPLACE":
            content_type, headers, metadata, storage_class = object_attrs(params)
        else:
            content_type = src["content_type"]
            headers = json.loads(src["headers"]) if src["headers"] else {}
            metadata = json.loads(src["metadata"]) if src["metadata"] else {}
            storage_class = params.get("StorageClass") or src["storage_class"]
        if (src_bucket, src_key) == (Bucket, Key) and MetadataDirective != "REPLACE" \
                and not params.get("StorageClass") and not params.get("WebsiteRedirectLocation"):
            raise errors.InvalidRequest(
                "This copy request is illegal because it is trying to copy an object to itself "
                "without changing the object's metadata, storage class, website redirect location "
                "or encryption attributes.")
        dst_id = self._bucket_id(Bucket)
        try:
            blob, segments, data = self.store.copy_content(dst_id, src["bucket_id"], src)
        except FileNotFoundError:  # the source was replaced meanwhile: copy its new version
            return self.copy_object(Bucket=Bucket, Key=Key, CopySource=CopySource,
                                    MetadataDirective=MetadataDirective, **params)
        try:
            checksum = json.loads(src["checksum"]) if src["checksum"] else None
            now, version_id = self._commit_object(Bucket, Key, blob, src["size"], src["etag"], content_type,
                                      headers, metadata, storage_class, checksum, src["parts"],
                                      data, segments)
        except BaseException:
            self.store.discard(dst_id, blob, *[b for b, _ in json.loads(segments or "[]")])
            raise
        out = {"CopyObjectResult": {"ETag": f'"{src["etag"]}"', "LastModified": utc(now)}}
        if version_id is not None:
            out["VersionId"] = version_id
        if src["version_id"] is not None:
            out["CopySourceVersionId"] = src["version_id"]
        return out


def _parse_copy_source(source: str) -> tuple[str, str, str | None]:
    """``bucket/key[?versionId=id]`` (URL-encoded, as botocore sends it)."""
    source, _, query = source.partition("?versionId=")
    source = unquote(source).lstrip("/")
    bucket, _, key = source.partition("/")
    if not bucket or not key:
        raise errors.InvalidArgument("Copy Source must mention the source bucket and key: "
                                     "sourcebucket/sourcekey", ArgumentName="x-amz-copy-source")
    return bucket, key, (unquote(query) or None)


def _check_md5(content_md5: str | None, md5: bytes) -> None:
    if not content_md5:
        return
    try:
        given = base64.b64decode(content_md5, validate=True)
    except (binascii.Error, ValueError):
        given = b""
    if len(given) != 16:
        raise errors.InvalidDigest("The Content-MD5 you specified was invalid.", Content_MD5=content_md5)
    if given != md5:
        raise errors.BadDigest("The Content-MD5 you specified did not match what we received.",
                               ExpectedDigest=content_md5, CalculatedDigest=b64(md5))


def _checked(algorithm: str | None, expected: str | None, digest: bytes | None) -> dict | None:
    if algorithm is None or digest is None:
        return None
    value = b64(digest)
    if expected is not None and expected != value:
        raise errors.BadDigest(f"The {algorithm} you specified did not match the calculated checksum.")
    return {"algorithm": algorithm, "value": value, "type": "FULL_OBJECT"}


def _check_conditions(params: dict, etag: str, modified: datetime) -> None:
    if_match = params.get("IfMatch")
    if if_match is not None and if_match.strip() not in ("*", etag, etag.strip('"')):
        raise errors.PreconditionFailed("At least one of the pre-conditions you specified did not hold",
                                        Condition="If-Match")
    since = params.get("IfUnmodifiedSince")
    if if_match is None and since is not None and modified > since:
        raise errors.PreconditionFailed("At least one of the pre-conditions you specified did not hold",
                                        Condition="If-Unmodified-Since")
    none_match = params.get("IfNoneMatch")
    if none_match is not None and none_match.strip() in ("*", etag, etag.strip('"')):
        raise errors.NotModified("Not Modified")
    modified_since = params.get("IfModifiedSince")
    if none_match is None and modified_since is not None and modified <= modified_since:
        raise errors.NotModified("Not Modified")


def _apply_response_overrides(out: dict, params: dict) -> None:
    for member in ("CacheControl", "ContentDisposition", "ContentEncoding", "ContentLanguage",
                   "ContentType", "Expires"):
        value = params.get(f"Response{member}")
        if value is not None:
            out[member] = value

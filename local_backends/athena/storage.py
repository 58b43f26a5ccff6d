"""S3 as Athena reads and writes it: the local object files in place, or a download cache.

With the local S3 backend, an object's bytes are read where they are
(``S3Backend.object_path``); on another S3 (moto) objects are downloaded once into
``home/athena/cache/`` (keyed by ETag, so a rewritten object is fetched again).
"""
from __future__ import annotations

import hashlib
import os
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse


@dataclass(frozen=True)
class S3Object:
    bucket: str
    key: str
    size: int
    etag: str


def split_uri(uri: str) -> tuple[str, str]:
    """``s3://bucket/prefix`` -> ``("bucket", "prefix")``."""
    parsed = urlparse(uri)
    if parsed.scheme not in ("s3", "s3a", "s3n") or not parsed.netloc:
        raise ValueError(f"not an S3 location: {uri}")
    return parsed.netloc, parsed.path.lstrip("/")


def is_data_key(key: str, prefix: str) -> bool:
    """Athena skips folder markers and files whose name starts with ``_`` or ``.``."""
    if key.endswith("/") or key.endswith("_$folder$"):
        return False
    rel = key[len(prefix):]
    return not any(part.startswith(("_", ".")) for part in rel.split("/") if part)


class Storage:
    """Lists, reads and writes S3 objects for the query engine."""

    def __init__(self, peers, cache_dir: Path) -> None:
        self._client = peers.client("s3")
        self._local = peers.local("s3")
        self.cache_dir = Path(cache_dir)

    def list(self, uri: str) -> list[S3Object]:
        """The data objects under a location (recursively), sorted by key."""
        bucket, prefix = split_uri(uri)
        if prefix and not prefix.endswith("/"):
            prefix += "/"
        out = []
        paginator = self._client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
            for item in page.get("Contents", []):
                if is_data_key(item["Key"], prefix):
                    out.append(S3Object(bucket, item["Key"], item["Size"], item["ETag"].strip('"')))
        return out

    def path(self, obj: S3Object) -> Path:
        """A local file holding the object's bytes."""
        if self._local is not None and hasattr(self._local, "object_path"):
            return Path(self._local.object_path(obj.bucket, obj.key))
        digest = hashlib.sha256(f"{obj.bucket}/{obj.key}".encode()).hexdigest()[:32]
        target = self.cache_dir / obj.bucket / f"{digest}-{obj.etag}"
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex}")
            try:
                self._client.download_file(obj.bucket, obj.key, str(tmp))
                os.replace(tmp, target)
            finally:
                tmp.unlink(missing_ok=True)
        return target

    def put(self, uri: str, body: bytes, content_type: str = "binary/octet-stream") -> None:
        bucket, key = split_uri(uri)
        self._client.put_object(Bucket=bucket, Key=key, Body=body, ContentType=content_type)

    def upload(self, path: Path, uri: str) -> None:
        bucket, key = split_uri(uri)
        self._client.upload_file(str(path), bucket, key)

    def bucket_exists(self, bucket: str) -> bool:
        from botocore.exceptions import ClientError
        try:
            self._client.head_bucket(Bucket=bucket)
            return True
        except ClientError:
            return False

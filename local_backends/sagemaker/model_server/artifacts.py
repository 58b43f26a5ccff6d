"""Model artifacts and source directories, fetched from S3 and extracted for a server.

The creating process reads the object (through the local S3 backend's files when S3 is
local, else through the session's S3 client, e.g. moto's) and extracts it; the server
process only sees the extracted directory.
"""
from __future__ import annotations

import shutil
import tarfile
from pathlib import Path
from urllib.parse import urlparse


class ArtifactError(Exception):
    """A model archive or source directory that cannot be fetched or extracted."""


def split_s3(uri: str) -> tuple[str, str]:
    parsed = urlparse(uri)
    if parsed.scheme != "s3" or not parsed.netloc:
        raise ArtifactError(f"{uri!r} is not an s3:// URI")
    return parsed.netloc, parsed.path.lstrip("/")


def fetch(peers, uri: str, dest: Path) -> Path:
    """Copy the object at ``uri`` (``s3://``, ``file://`` or a local path) to ``dest``."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    if uri.startswith("file://") or uri.startswith("/"):
        src = Path(urlparse(uri).path if uri.startswith("file://") else uri)
        if not src.is_file():
            raise ArtifactError(f"no file at {uri}")
        shutil.copyfile(src, dest)
        return dest
    bucket, key = split_s3(uri)
    local = peers.local("s3")
    if local is not None and hasattr(local, "object_path"):
        from local_backends.core.errors import AwsError
        try:
            shutil.copyfile(local.object_path(bucket, key), dest)
        except AwsError as err:
            raise ArtifactError(f"{err.code}: {err.message}") from None
        return dest
    s3 = peers.client("s3")
    try:
        s3.download_file(bucket, key, str(dest))
    except Exception as exc:
        raise ArtifactError(f"{type(exc).__name__}: {exc}") from None
    return dest


def extract(archive: Path, dest: Path) -> Path:
    """Extract a ``.tar.gz`` (the ``data`` filter: no absolute paths, no links outside)."""
    dest.mkdir(parents=True, exist_ok=True)
    try:
        with tarfile.open(archive, "r:*") as tar:
            tar.extractall(dest, filter="data")
    except (tarfile.TarError, OSError) as exc:
        raise ArtifactError(f"cannot extract {archive.name}: {exc}") from None
    return dest

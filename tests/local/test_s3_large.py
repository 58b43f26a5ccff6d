"""A 1 GiB file through s3transfer (upload_file / download_file) on the local S3."""
from __future__ import annotations

import hashlib
import os

import pytest

pytestmark = pytest.mark.slow
GiB = 1 << 30


def _md5(path) -> str:
    h = hashlib.md5()
    with open(path, "rb") as f:
        while chunk := f.read(8 << 20):
            h.update(chunk)
    return h.hexdigest()


def test_one_gib_upload_and_download(local_session, tmp_path):
    src = tmp_path / "big.bin"
    block = os.urandom(16 << 20)
    with open(src, "wb") as f:
        for i in range(GiB // len(block)):
            f.write(block[i:] + block[:i])  # no two blocks alike
    s3 = local_session.client("s3")
    s3.create_bucket(Bucket="large-files")
    s3.upload_file(str(src), "large-files", "big.bin")
    head = s3.head_object(Bucket="large-files", Key="big.bin")
    assert head["ContentLength"] == GiB and head["ETag"].endswith('-128"')  # 8 MiB parts
    dst = tmp_path / "back.bin"
    s3.download_file("large-files", "big.bin", str(dst))
    assert dst.stat().st_size == GiB and _md5(dst) == _md5(src)

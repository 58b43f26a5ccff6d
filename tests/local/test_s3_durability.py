"""Crash and concurrency promises of the local S3, with real processes and real kills."""
from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from aws_ml import Session

ROOT = Path(__file__).resolve().parents[2]


def child(*args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "tests.local.s3_child", *args], cwd=ROOT,
                            stdout=subprocess.PIPE, text=True)


def wait_for(proc: subprocess.Popen, marker: str) -> str:
    for line in proc.stdout:
        if line.startswith(marker):
            return line.strip()
    raise AssertionError(f"child exited ({proc.wait()}) before printing {marker}")


def kill(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    proc.stdout.close()


@pytest.fixture
def s3(home):
    client = Session(backend="local", home=home).client("s3")
    client.create_bucket(Bucket="durable")
    return client


def test_killed_put_leaves_previous_version(s3, home):
    s3.put_object(Bucket="durable", Key="obj", Body=b"version one")
    proc = child("put", str(home))
    wait_for(proc, "WRITING")
    wait_for(proc, "WRITING")
    kill(proc)
    assert s3.get_object(Bucket="durable", Key="obj")["Body"].read() == b"version one"
    assert [o["Key"] for o in s3.list_objects_v2(Bucket="durable")["Contents"]] == ["obj"]


def test_killed_put_of_new_key_leaves_nothing(s3, home):
    proc = child("put", str(home))
    wait_for(proc, "WRITING")
    kill(proc)
    with pytest.raises(s3.exceptions.NoSuchKey):
        s3.get_object(Bucket="durable", Key="obj")
    assert "Contents" not in s3.list_objects_v2(Bucket="durable")


def test_killed_multipart_leaves_no_object(s3, home):
    proc = child("multipart", str(home))
    upload_id = wait_for(proc, "UPLOAD").split()[1]
    wait_for(proc, "WRITING")
    kill(proc)
    with pytest.raises(s3.exceptions.NoSuchKey):
        s3.get_object(Bucket="durable", Key="mp")
    parts = s3.list_parts(Bucket="durable", Key="mp", UploadId=upload_id)["Parts"]
    assert [p["PartNumber"] for p in parts] == [1]  # the finished part survives, the torn one does not
    s3.abort_multipart_upload(Bucket="durable", Key="mp", UploadId=upload_id)


def test_killed_complete_can_be_completed_again(s3, home):
    uid = s3.create_multipart_upload(Bucket="durable", Key="mp2")["UploadId"]
    data = [os.urandom(5 << 20), os.urandom(1000)]
    for n, d in enumerate(data, 1):
        s3.upload_part(Bucket="durable", Key="mp2", UploadId=uid, PartNumber=n, Body=d)
    proc = child("complete", str(home), uid)
    wait_for(proc, "COMMITTING")
    kill(proc)
    with pytest.raises(s3.exceptions.NoSuchKey):
        s3.get_object(Bucket="durable", Key="mp2")
    parts = s3.list_parts(Bucket="durable", Key="mp2", UploadId=uid)["Parts"]
    s3.complete_multipart_upload(Bucket="durable", Key="mp2", UploadId=uid, MultipartUpload={
        "Parts": [{"PartNumber": p["PartNumber"], "ETag": p["ETag"]} for p in parts]})
    assert s3.get_object(Bucket="durable", Key="mp2")["Body"].read() == b"".join(data)


def test_four_writers_of_one_key_leave_one_complete_version(s3, home):
    procs = [child("hammer", str(home), str(w)) for w in range(4)]
    for p in procs:
        wait_for(p, "DONE")
        assert p.wait(60) == 0
        p.stdout.close()
    got = s3.get_object(Bucket="durable", Key="contended")
    body = got["Body"].read()
    assert got["ETag"] == f'"{hashlib.md5(body).hexdigest()}"'
    written = set()
    for w in range(4):
        for i in range(100):
            b = (f"{w}-{i}-".encode() * 5000)[: 20000 + w * 1000 + i]
            written.add(b * 5 if w % 2 else b)
    assert body in written
    # No blob file is left behind but the one the key points to (files only for big bodies).
    blob_files = [p for p in (home / "s3" / "blobs").rglob("*") if p.is_file()]
    assert len(blob_files) <= 1

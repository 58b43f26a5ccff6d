"""Presigned URLs of the local S3: a real HTTP server on 127.0.0.1 that checks signatures."""
from __future__ import annotations

import time
import urllib.error
import urllib.request

import pytest
from botocore.config import Config

from local_backends.s3.presign import stop_server


@pytest.fixture
def s3(local_session, home):
    client = local_session.client("s3")
    client.create_bucket(Bucket="shared-files")
    client.put_object(Bucket="shared-files", Key="reports/q1 summary.txt", Body=b"quarter one",
                      ContentType="text/plain")
    yield client
    stop_server(home)


def fetch(url: str, method: str = "GET", data: bytes | None = None) -> tuple[int, bytes, dict]:
    req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": ""} if data else {})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.read(), dict(r.headers)
    except urllib.error.HTTPError as e:
        return e.code, e.read(), dict(e.headers)


@pytest.mark.parametrize("signature", [None, "s3v4"], ids=["boto3-default-sigv2", "sigv4"])
def test_presigned_get_and_put(local_session, s3, signature):
    client = local_session.client("s3", config=Config(signature_version=signature) if signature else None)
    url = client.generate_presigned_url("get_object", Params={"Bucket": "shared-files",
                                                              "Key": "reports/q1 summary.txt"})
    assert url.startswith("http://127.0.0.1:")
    status, body, headers = fetch(url)
    assert (status, body) == (200, b"quarter one")
    assert headers["Content-Type"] == "text/plain"
    put = client.generate_presigned_url("put_object", Params={"Bucket": "shared-files", "Key": "uploads/new.bin"})
    assert fetch(put, "PUT", b"from a browser")[0] == 200
    assert s3.get_object(Bucket="shared-files", Key="uploads/new.bin")["Body"].read() == b"from a browser"


def test_tampered_and_missing_signature(s3):
    url = s3.generate_presigned_url("get_object", Params={"Bucket": "shared-files", "Key": "reports/q1 summary.txt"})
    status, body, _ = fetch(url.replace("q1", "q2"))
    assert status == 403 and b"SignatureDoesNotMatch" in body
    status, body, _ = fetch(url.split("?")[0])
    assert status == 403 and b"AccessDenied" in body


def test_expired_url(s3):
    url = s3.generate_presigned_url("get_object", Params={"Bucket": "shared-files", "Key": "reports/q1 summary.txt"},
                                    ExpiresIn=1)
    time.sleep(2.1)
    status, body, _ = fetch(url)
    assert status == 403 and b"Request has expired" in body


def test_missing_object_through_presigned_url(s3):
    url = s3.generate_presigned_url("get_object", Params={"Bucket": "shared-files", "Key": "nope"})
    status, body, _ = fetch(url)
    assert status == 404 and b"NoSuchKey" in body


def test_url_outlives_the_process_that_made_it(home, s3):
    import subprocess
    import sys
    code = ("from aws_ml import Session; s = Session(home=%r); "
            "print(s.client('s3').generate_presigned_url('get_object', "
            "Params={'Bucket': 'shared-files', 'Key': 'reports/q1 summary.txt'}))" % str(home))
    url = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert fetch(url)[1] == b"quarter one"

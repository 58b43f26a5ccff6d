"""S3 objects: put, get (ranges, conditions), head, delete, copy, on local and moto."""
import base64
import hashlib
import io
from datetime import datetime, timedelta, timezone

import pytest

from tests.conftest import moto_gap
from botocore.exceptions import ClientError, ParamValidationError


@pytest.fixture
def s3(session):
    client = session.client("s3")
    client.create_bucket(Bucket="objects")
    return client


def test_put_get_roundtrip_with_metadata(s3):
    body = b"hello, world"
    put = s3.put_object(Bucket="objects", Key="greeting.txt", Body=body, ContentType="text/plain",
                        Metadata={"Owner": "team-a"}, CacheControl="no-cache")
    assert put["ETag"] == f'"{hashlib.md5(body).hexdigest()}"'
    got = s3.get_object(Bucket="objects", Key="greeting.txt")
    assert got["Body"].read() == body
    assert got["ContentType"] == "text/plain"
    assert got["ContentLength"] == len(body)
    assert got["Metadata"] == {"owner": "team-a"}
    assert got["CacheControl"] == "no-cache"
    assert got["ETag"] == put["ETag"]
    assert got["LastModified"].tzinfo is not None
    head = s3.head_object(Bucket="objects", Key="greeting.txt")
    assert head["ContentLength"] == len(body) and head["ETag"] == put["ETag"]
    assert head["LastModified"] == got["LastModified"]


def test_default_content_type_and_empty_body(s3):
    s3.put_object(Bucket="objects", Key="empty")
    got = s3.get_object(Bucket="objects", Key="empty")
    assert got["Body"].read() == b""
    assert got["ContentType"] == "binary/octet-stream"
    assert got["ETag"] == '"d41d8cd98f00b204e9800998ecf8427e"'


def test_file_like_body_and_large_object(s3):
    data = bytes(range(256)) * 8192  # 2 MiB: stored as a file, not inline
    s3.put_object(Bucket="objects", Key="big.bin", Body=io.BytesIO(data))
    assert s3.get_object(Bucket="objects", Key="big.bin")["Body"].read() == data
    part = s3.get_object(Bucket="objects", Key="big.bin", Range="bytes=1000-1999999")
    assert part["Body"].read() == data[1000:2000000]
    assert part["ContentRange"] == f"bytes 1000-1999999/{len(data)}"
    assert part["ResponseMetadata"]["HTTPStatusCode"] == 206


@pytest.mark.parametrize("rng,expected", [("bytes=0-4", b"01234"), ("bytes=5-", b"56789"),
                                          ("bytes=-3", b"789"), ("bytes=8-100", b"89")])
def test_ranges(s3, rng, expected):
    s3.put_object(Bucket="objects", Key="digits", Body=b"0123456789")
    got = s3.get_object(Bucket="objects", Key="digits", Range=rng)
    assert got["Body"].read() == expected
    assert got["ContentLength"] == len(expected)


def test_unsatisfiable_range(s3):
    s3.put_object(Bucket="objects", Key="digits", Body=b"0123456789")
    with pytest.raises(ClientError) as exc:
        s3.get_object(Bucket="objects", Key="digits", Range="bytes=20-30")
    assert exc.value.response["Error"]["Code"] == "InvalidRange"
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 416


def test_missing_key(s3):
    with pytest.raises(s3.exceptions.NoSuchKey):
        s3.get_object(Bucket="objects", Key="missing")
    with pytest.raises(ClientError) as exc:
        s3.head_object(Bucket="objects", Key="missing")
    assert exc.value.response["Error"]["Code"] == "404"
    s3.put_object(Bucket="objects", Key="later", Body=b"x")
    s3.get_waiter("object_exists").wait(Bucket="objects", Key="later")


def test_param_validation(s3):
    with pytest.raises(ParamValidationError):
        s3.put_object(Bucket="objects", Key=123, Body=b"x")
    with pytest.raises(ParamValidationError):
        s3.get_object(Bucket="objects")


def test_conditional_get(s3):
    etag = s3.put_object(Bucket="objects", Key="c", Body=b"v1")["ETag"]
    assert s3.get_object(Bucket="objects", Key="c", IfMatch=etag)["Body"].read() == b"v1"
    with pytest.raises(ClientError) as exc:
        s3.get_object(Bucket="objects", Key="c", IfMatch='"0000"')
    assert exc.value.response["Error"]["Code"] == "PreconditionFailed"
    with pytest.raises(ClientError) as exc:
        s3.get_object(Bucket="objects", Key="c", IfNoneMatch=etag)
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 304
    future = datetime.now(timezone.utc) + timedelta(days=1)
    with pytest.raises(ClientError) as exc:
        s3.get_object(Bucket="objects", Key="c", IfModifiedSince=future)
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 304


def test_content_md5(s3, session):
    moto_gap(session, "a wrong Content-MD5 is accepted (AWS: BadDigest)")
    body = b"checked"
    good = base64.b64encode(hashlib.md5(body).digest()).decode()
    s3.put_object(Bucket="objects", Key="md5", Body=body, ContentMD5=good)
    bad = base64.b64encode(hashlib.md5(b"other").digest()).decode()
    with pytest.raises(ClientError) as exc:
        s3.put_object(Bucket="objects", Key="md5", Body=b"replacement", ContentMD5=bad)
    assert exc.value.response["Error"]["Code"] == "BadDigest"
    assert s3.get_object(Bucket="objects", Key="md5")["Body"].read() == body  # nothing lost


def test_overwrite_and_delete(s3):
    s3.put_object(Bucket="objects", Key="k", Body=b"one")
    s3.put_object(Bucket="objects", Key="k", Body=b"two")
    assert s3.get_object(Bucket="objects", Key="k")["Body"].read() == b"two"
    resp = s3.delete_object(Bucket="objects", Key="k")
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 204
    with pytest.raises(s3.exceptions.NoSuchKey):
        s3.get_object(Bucket="objects", Key="k")
    # Deleting a missing key is not an error on S3.
    assert s3.delete_object(Bucket="objects", Key="k")["ResponseMetadata"]["HTTPStatusCode"] == 204


def test_delete_objects(s3):
    for i in range(5):
        s3.put_object(Bucket="objects", Key=f"d/{i}", Body=b"x")
    resp = s3.delete_objects(Bucket="objects", Delete={"Objects": [{"Key": f"d/{i}"} for i in range(3)]
                                                       + [{"Key": "d/absent"}]})
    assert sorted(d["Key"] for d in resp["Deleted"]) == ["d/0", "d/1", "d/2", "d/absent"]
    left = [o["Key"] for o in s3.list_objects_v2(Bucket="objects", Prefix="d/")["Contents"]]
    assert left == ["d/3", "d/4"]


def test_copy_object(s3):
    s3.put_object(Bucket="objects", Key="src", Body=b"payload", ContentType="text/csv",
                  Metadata={"a": "1"})
    s3.create_bucket(Bucket="objects-copy")
    res = s3.copy_object(Bucket="objects-copy", Key="dst with space", CopySource={"Bucket": "objects", "Key": "src"})
    assert res["CopyObjectResult"]["ETag"] == s3.head_object(Bucket="objects", Key="src")["ETag"]
    got = s3.get_object(Bucket="objects-copy", Key="dst with space")
    assert got["Body"].read() == b"payload"
    assert got["Metadata"] == {"a": "1"} and got["ContentType"] == "text/csv"
    s3.copy_object(Bucket="objects", Key="src2", CopySource="objects/src", MetadataDirective="REPLACE",
                   Metadata={"b": "2"}, ContentType="application/json")
    head = s3.head_object(Bucket="objects", Key="src2")
    assert head["Metadata"] == {"b": "2"} and head["ContentType"] == "application/json"
    # The copy is independent of its source.
    s3.put_object(Bucket="objects", Key="src", Body=b"changed")
    assert s3.get_object(Bucket="objects-copy", Key="dst with space")["Body"].read() == b"payload"


def test_copy_to_itself_without_change_is_refused(s3):
    s3.put_object(Bucket="objects", Key="same", Body=b"x")
    with pytest.raises(ClientError) as exc:
        s3.copy_object(Bucket="objects", Key="same", CopySource={"Bucket": "objects", "Key": "same"})
    assert exc.value.response["Error"]["Code"] == "InvalidRequest"


def test_copy_missing_source(s3):
    with pytest.raises(s3.exceptions.NoSuchKey):
        s3.copy_object(Bucket="objects", Key="dst", CopySource={"Bucket": "objects", "Key": "nope"})


WEIRD_KEYS = ["ünïcødé/文件.txt", "../escape", "a//b", "/leading-slash", "dots/../../x",
              "spaces and +plus", "x" * 1024, "%2F-encoded", "emoji-😀", "tab\there"]


def test_weird_keys_roundtrip(s3, session):
    for i, key in enumerate(WEIRD_KEYS):
        s3.put_object(Bucket="objects", Key=key, Body=str(i).encode())
    for i, key in enumerate(WEIRD_KEYS):
        assert s3.get_object(Bucket="objects", Key=key)["Body"].read() == str(i).encode()
    listed = [o["Key"] for o in s3.get_paginator("list_objects_v2").paginate(Bucket="objects")
              .build_full_result()["Contents"]]
    assert sorted(listed, key=lambda k: k.encode()) == listed
    assert set(listed) == set(WEIRD_KEYS)
    if session.backend == "local":
        root = session.home.resolve()
        for path in root.rglob("*"):
            assert path.resolve().is_relative_to(root)


def test_key_too_long(s3, session):
    moto_gap(session, "keys over 1,024 bytes are accepted (AWS: KeyTooLongError)")
    with pytest.raises(ClientError) as exc:
        s3.put_object(Bucket="objects", Key="k" * 1025, Body=b"x")
    assert exc.value.response["Error"]["Code"] == "KeyTooLongError"


def test_put_into_missing_bucket(session):
    s3 = session.client("s3")
    with pytest.raises(s3.exceptions.NoSuchBucket):
        s3.put_object(Bucket="no-such-bucket", Key="k", Body=b"x")

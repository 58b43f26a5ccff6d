"""Reading object bodies every way a client reads them: sizes that cross part boundaries,
readinto, iteration, whole reads; and the positioned-read reader under them."""
from __future__ import annotations

import hashlib
import os

import pytest

from local_backends.s3.reader import RangeReader, ShortBlob

MiB = 1 << 20


@pytest.fixture
def s3(session):
    client = session.client("s3")
    client.create_bucket(Bucket="bodies")
    return client


@pytest.fixture
def multipart_object(s3):
    """A 3-part object (5 MiB, 5 MiB, 1 MiB + 7 bytes) with distinct bytes everywhere."""
    parts = [os.urandom(5 * MiB), os.urandom(5 * MiB), os.urandom(MiB + 7)]
    uid = s3.create_multipart_upload(Bucket="bodies", Key="mp")["UploadId"]
    done = []
    for n, data in enumerate(parts, 1):
        etag = s3.upload_part(Bucket="bodies", Key="mp", UploadId=uid, PartNumber=n, Body=data)["ETag"]
        done.append({"PartNumber": n, "ETag": etag})
    s3.complete_multipart_upload(Bucket="bodies", Key="mp", UploadId=uid, MultipartUpload={"Parts": done})
    return b"".join(parts)


@pytest.mark.parametrize("size", [1, 1000, 64 << 10, 256 << 10, 3 * MiB + 1])
def test_reads_of_any_size_cross_parts(s3, multipart_object, size):
    body = s3.get_object(Bucket="bodies", Key="mp")["Body"]
    chunks = []
    while chunk := body.read(size):
        assert isinstance(chunk, bytes) and len(chunk) <= size
        chunks.append(chunk)
    assert b"".join(chunks) == multipart_object
    assert all(len(c) == size for c in chunks[:-1])  # full reads until the end


def test_range_across_parts_read_whole_and_by_readinto(s3, multipart_object):
    lo, hi = 5 * MiB - 3, 10 * MiB + 4
    whole = s3.get_object(Bucket="bodies", Key="mp", Range=f"bytes={lo}-{hi}")["Body"].read()
    assert whole == multipart_object[lo:hi + 1]
    body = s3.get_object(Bucket="bodies", Key="mp", Range=f"bytes={lo}-{hi}")["Body"]
    buf = bytearray(hi - lo + 1)
    view = memoryview(buf)
    got = 0
    while n := body.readinto(view[got:got + 2 * MiB]):
        got += n
    assert got == len(buf) and bytes(buf) == multipart_object[lo:hi + 1]


def test_ranges_that_are_exactly_one_part(s3, multipart_object):
    for lo, hi in ((0, 5 * MiB - 1), (5 * MiB, 10 * MiB - 1), (10 * MiB, len(multipart_object) - 1)):
        got = s3.get_object(Bucket="bodies", Key="mp", Range=f"bytes={lo}-{hi}")
        assert got["ContentLength"] == hi - lo + 1
        body = got["Body"]
        assert body.read(1000) == multipart_object[lo:lo + 1000]
        assert body.read() == multipart_object[lo + 1000:hi + 1]


def test_body_opened_before_the_key_is_replaced_reads_the_old_bytes(s3):
    old, new = os.urandom(3 * MiB), os.urandom(3 * MiB)
    s3.put_object(Bucket="bodies", Key="swap", Body=old)
    whole = s3.get_object(Bucket="bodies", Key="swap")["Body"]
    ranged = s3.get_object(Bucket="bodies", Key="swap", Range="bytes=10-2000000")["Body"]
    s3.put_object(Bucket="bodies", Key="swap", Body=new)
    s3.delete_object(Bucket="bodies", Key="swap")
    assert whole.read() == old
    assert ranged.read() == old[10:2000001]


def test_iteration_and_lines(s3):
    lines = [f"line {i} ".encode() * (i % 50 + 1) for i in range(40000)]
    data = b"\n".join(lines)
    assert len(data) > 2 * MiB  # a body read from its file, not from memory
    s3.put_object(Bucket="bodies", Key="lines", Body=data)
    assert list(s3.get_object(Bucket="bodies", Key="lines")["Body"].iter_lines()) == lines
    chunks = list(s3.get_object(Bucket="bodies", Key="lines")["Body"].iter_chunks(MiB))
    assert b"".join(chunks) == data and [len(c) for c in chunks[:-1]] == [MiB] * (len(chunks) - 1)


def test_download_fileobj_of_multipart_object(s3, multipart_object, tmp_path):
    out = tmp_path / "out.bin"
    with open(out, "wb") as f:
        s3.download_fileobj("bodies", "mp", f)
    assert hashlib.md5(out.read_bytes()).digest() == hashlib.md5(multipart_object).digest()


# -- the reader itself (local) --------------------------------------------------------------
def test_reader_keeps_reading_a_file_removed_after_open(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.write_bytes(b"0123456789")
    b.write_bytes(b"abcdefghij")
    reader = RangeReader([(a, 7, 3), (b, 0, 4)])
    a.unlink()
    b.unlink()
    assert reader.remaining() == 7
    assert reader.read(2) == b"78"
    assert reader.read(3) == b"9ab"  # spans the two files
    assert reader.read() == b"cd"
    assert reader.read(5) == b"" and reader.remaining() == 0
    reader.close()
    with pytest.raises(ValueError):
        reader.read(1)


def test_reader_refuses_a_file_shorter_than_its_record(tmp_path):
    f = tmp_path / "short"
    f.write_bytes(b"xyz")
    with RangeReader([(f, 0, 10)]) as reader:
        with pytest.raises(ShortBlob):
            reader.read(10)
    with RangeReader([(f, 1, 10)]) as reader:
        with pytest.raises(ShortBlob):
            reader.readinto(bytearray(10))


def test_reader_of_a_missing_file_raises_file_not_found(tmp_path):
    (tmp_path / "here").write_bytes(b"1")
    with pytest.raises(FileNotFoundError):
        RangeReader([(tmp_path / "here", 0, 1), (tmp_path / "gone", 0, 1)])


def test_a_truncated_blob_file_is_an_error_not_a_short_body(local_session, home):
    from botocore.exceptions import IncompleteReadError

    s3 = local_session.client("s3")
    s3.create_bucket(Bucket="bodies")
    s3.put_object(Bucket="bodies", Key="big", Body=os.urandom(2 * MiB))
    [blob] = [p for p in (home / "s3" / "blobs").rglob("*") if p.is_file()]
    os.truncate(blob, MiB)  # damage the store behind its back
    with pytest.raises(IncompleteReadError):
        s3.get_object(Bucket="bodies", Key="big")["Body"].read()
    with pytest.raises(ShortBlob):
        s3.get_object(Bucket="bodies", Key="big", Range=f"bytes=10-{2 * MiB - 10}")["Body"].read()

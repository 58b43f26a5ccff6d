"""How the local S3 keeps bytes: inline rows, blob files, multipart segments, garbage."""
from __future__ import annotations

import os

import local_backends

MiB = 1024 * 1024


def blob_files(home):
    return sorted(p for p in (home / "s3" / "blobs").rglob("*") if p.is_file())


def test_object_path_for_every_kind_of_object(local_session, home):
    s3 = local_session.client("s3")
    s3.create_bucket(Bucket="paths")
    small, big = b"tiny", os.urandom(2 * MiB)
    s3.put_object(Bucket="paths", Key="small", Body=small)
    s3.put_object(Bucket="paths", Key="big", Body=big)
    parts = [os.urandom(5 * MiB), b"end"]
    uid = s3.create_multipart_upload(Bucket="paths", Key="multi")["UploadId"]
    etags = [s3.upload_part(Bucket="paths", Key="multi", UploadId=uid, PartNumber=i + 1, Body=d)["ETag"]
             for i, d in enumerate(parts)]
    s3.complete_multipart_upload(Bucket="paths", Key="multi", UploadId=uid, MultipartUpload={
        "Parts": [{"PartNumber": i + 1, "ETag": e} for i, e in enumerate(etags)]})
    backend = local_session.router.backend("s3", "us-east-1")
    assert backend.object_path("paths", "small").read_bytes() == small
    assert backend.object_path("paths", "big").read_bytes() == big
    assert backend.object_path("paths", "multi").read_bytes() == b"".join(parts)
    root = home.resolve()
    for key in ("small", "big", "multi"):
        assert backend.object_path("paths", key).resolve().is_relative_to(root)


def test_no_file_outlives_its_object(local_session, home):
    s3 = local_session.client("s3")
    s3.create_bucket(Bucket="gc-bucket")
    for i in range(3):
        s3.put_object(Bucket="gc-bucket", Key="k", Body=os.urandom(MiB + i))
    assert len(blob_files(home)) == 1
    uid = s3.create_multipart_upload(Bucket="gc-bucket", Key="m")["UploadId"]
    etags = [s3.upload_part(Bucket="gc-bucket", Key="m", UploadId=uid, PartNumber=n, Body=os.urandom(5 * MiB))["ETag"]
             for n in (1, 2, 3)]
    # Part 2 is left out of the object: its file goes, the others become the object's segments.
    s3.complete_multipart_upload(Bucket="gc-bucket", Key="m", UploadId=uid, MultipartUpload={
        "Parts": [{"PartNumber": 1, "ETag": etags[0]}, {"PartNumber": 3, "ETag": etags[2]}]})
    assert len(blob_files(home)) == 3
    local_session.router.backend("s3", "us-east-1").object_path("gc-bucket", "m")  # materialised once
    assert len(blob_files(home)) == 4
    s3.delete_objects(Bucket="gc-bucket", Delete={"Objects": [{"Key": "k"}, {"Key": "m"}]})
    assert blob_files(home) == []


def test_standalone_backend_without_session(home):
    cls = local_backends.backend_class("s3")
    backend = local_backends.get_backend(cls, home, "us-east-1")
    backend.create_bucket(Bucket="direct")
    backend.put_object(Bucket="direct", Key="k", Body=b"v")
    assert backend.object_path("direct", "k").read_bytes() == b"v"


def test_versions_keep_their_files_until_deleted(local_session, home):
    s3 = local_session.client("s3")
    s3.create_bucket(Bucket="vgc-bucket")
    s3.put_bucket_versioning(Bucket="vgc-bucket", VersioningConfiguration={"Status": "Enabled"})
    ids = [s3.put_object(Bucket="vgc-bucket", Key="k", Body=os.urandom(MiB + i))["VersionId"] for i in range(3)]
    assert len(blob_files(home)) == 3  # every version keeps its bytes
    marker = s3.delete_object(Bucket="vgc-bucket", Key="k")["VersionId"]
    assert len(blob_files(home)) == 3
    s3.delete_objects(Bucket="vgc-bucket", Delete={"Objects": [{"Key": "k", "VersionId": v} for v in ids + [marker]]})
    assert blob_files(home) == []
    s3.delete_bucket(Bucket="vgc-bucket")


def test_state_of_another_schema_version_is_refused_clearly(home):
    import sqlite3

    import pytest

    from local_backends.core.state import SqliteStore, StateVersionError
    path = home / "old.db"
    path.parent.mkdir(parents=True)
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE objects (bucket TEXT)")
        db.execute("PRAGMA user_version = 1")
    with pytest.raises(StateVersionError, match="schema 1, this one reads schema 2"):
        SqliteStore(path, "CREATE TABLE IF NOT EXISTS objects (bucket TEXT, key TEXT);", version=2)

"""S3 listings on local and moto: prefixes, delimiters, paging, StartAfter, v1 markers."""
import pytest

KEYS = ["a.txt", "dir/b.txt", "dir/c.txt", "dir/sub/d.txt", "dir2/e.txt", "z.txt"]


@pytest.fixture
def s3(session):
    client = session.client("s3")
    client.create_bucket(Bucket="listing")
    for key in KEYS:
        client.put_object(Bucket="listing", Key=key, Body=key.encode())
    return client


def test_all_keys_sorted(s3):
    resp = s3.list_objects_v2(Bucket="listing")
    assert [o["Key"] for o in resp["Contents"]] == KEYS
    assert resp["KeyCount"] == len(KEYS) and resp["IsTruncated"] is False
    first = resp["Contents"][0]
    assert first["Size"] == len("a.txt") and first["ETag"].startswith('"')
    assert first["StorageClass"] == "STANDARD"


def test_prefix_and_delimiter(s3):
    resp = s3.list_objects_v2(Bucket="listing", Delimiter="/")
    assert [o["Key"] for o in resp["Contents"]] == ["a.txt", "z.txt"]
    assert [p["Prefix"] for p in resp["CommonPrefixes"]] == ["dir/", "dir2/"]
    assert resp["KeyCount"] == 4
    resp = s3.list_objects_v2(Bucket="listing", Prefix="dir/", Delimiter="/")
    assert [o["Key"] for o in resp["Contents"]] == ["dir/b.txt", "dir/c.txt"]
    assert [p["Prefix"] for p in resp["CommonPrefixes"]] == ["dir/sub/"]
    assert "Contents" not in s3.list_objects_v2(Bucket="listing", Prefix="nothing/")


def test_paging_with_delimiter_counts_common_prefixes(s3):
    pages = list(s3.get_paginator("list_objects_v2").paginate(
        Bucket="listing", Delimiter="/", PaginationConfig={"PageSize": 1}))
    entries = []
    for page in pages:
        entries += [o["Key"] for o in page.get("Contents", [])]
        entries += [p["Prefix"] for p in page.get("CommonPrefixes", [])]
        assert page["KeyCount"] <= 1
    assert entries == ["a.txt", "dir/", "dir2/", "z.txt"]


def test_max_keys_and_continuation(s3, session):
    first = s3.list_objects_v2(Bucket="listing", MaxKeys=2)
    assert first["IsTruncated"] is True and first["KeyCount"] == 2
    second = s3.list_objects_v2(Bucket="listing", MaxKeys=2,
                                ContinuationToken=first["NextContinuationToken"])
    assert [o["Key"] for o in second["Contents"]] == KEYS[2:4]
    if session.backend != "moto":  # moto gap: it does not echo ContinuationToken, AWS does
        assert second["ContinuationToken"] == first["NextContinuationToken"]


def test_start_after(s3):
    resp = s3.list_objects_v2(Bucket="listing", StartAfter="dir/c.txt")
    assert [o["Key"] for o in resp["Contents"]] == KEYS[3:]


def test_paginator_over_many_keys(session):
    s3 = session.client("s3")
    s3.create_bucket(Bucket="many")
    keys = sorted(f"k/{i:05d}" for i in range(2500))
    for k in keys:
        s3.put_object(Bucket="many", Key=k, Body=b"")
    got = [o["Key"] for page in s3.get_paginator("list_objects_v2").paginate(Bucket="many")
           for o in page["Contents"]]
    assert got == keys


def test_list_objects_v1(s3, session):
    resp = s3.list_objects(Bucket="listing", MaxKeys=3)
    assert [o["Key"] for o in resp["Contents"]] == KEYS[:3] and resp["IsTruncated"]
    rest = s3.list_objects(Bucket="listing", Marker=KEYS[2])
    assert [o["Key"] for o in rest["Contents"]] == KEYS[3:]
    resp = s3.list_objects(Bucket="listing", Delimiter="/", MaxKeys=2)
    if session.backend != "moto":  # moto gap: no NextMarker; AWS sends it when a delimiter is given
        assert resp["NextMarker"] == "dir/"
    all_v1 = s3.get_paginator("list_objects").paginate(Bucket="listing", Delimiter="/").build_full_result()
    assert [o["Key"] for o in all_v1["Contents"]] == ["a.txt", "z.txt"]
    assert [p["Prefix"] for p in all_v1["CommonPrefixes"]] == ["dir/", "dir2/"]


def test_url_encoding_type(s3):
    s3.put_object(Bucket="listing", Key="sp ace/ü", Body=b"")
    resp = s3.list_objects_v2(Bucket="listing", Prefix="sp ace/", EncodingType="url")
    assert resp["Contents"][0]["Key"] in ("sp%20ace/%C3%BC", "sp+ace/%C3%BC")
    # Without EncodingType botocore asks for url encoding itself and decodes the answer.
    assert s3.list_objects_v2(Bucket="listing", Prefix="sp ace/")["Contents"][0]["Key"] == "sp ace/ü"

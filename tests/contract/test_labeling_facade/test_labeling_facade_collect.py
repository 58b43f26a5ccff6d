"""``aws_ml.labeling.collect``: files, directories and DataFrames into S3 with an input
manifest, on the local backend and on moto (plain S3 calls, both implement them)."""
from __future__ import annotations

import json

import pytest

from aws_ml.labeling import collect

pd = pytest.importorskip("pandas")


def _lines(s3, uri: str) -> list[dict]:
    bucket, key = uri[5:].split("/", 1)
    return [json.loads(x) for x in s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode().splitlines()]


def test_collect_directory_writes_source_ref_manifest(session, tmp_path):
    src = tmp_path / "images"
    (src / "cats").mkdir(parents=True)
    (src / "cats" / "a.png").write_bytes(b"\x89PNG fake a")
    (src / "b.jpg").write_bytes(b"jpeg b")
    result = collect(session, src, "collect-bucket", "raw/images")
    s3 = session.client("s3")
    assert result.kind == "files" and result.n_objects == 2
    assert result.uris == ["s3://collect-bucket/raw/images/b.jpg", "s3://collect-bucket/raw/images/cats/a.png"]
    assert result.manifest_uri == "s3://collect-bucket/raw/images/manifest.jsonl"
    assert _lines(s3, result.manifest_uri) == [{"source-ref": u} for u in result.uris]
    head = s3.head_object(Bucket="collect-bucket", Key="raw/images/cats/a.png")
    assert head["ContentType"] == "image/png" and head["ContentLength"] == len(b"\x89PNG fake a")


def test_collect_single_file_into_existing_bucket(session, tmp_path):
    session.client("s3").create_bucket(Bucket="existing")
    f = tmp_path / "notes.txt"
    f.write_text("hello")
    result = collect(session, f, "existing", "docs/", manifest=False)
    assert result.uris == ["s3://existing/docs/notes.txt"] and result.manifest_uri is None
    keys = [o["Key"] for o in session.client("s3").list_objects_v2(Bucket="existing")["Contents"]]
    assert keys == ["docs/notes.txt"]


def test_collect_dataframe_text_one_object_per_row(session):
    df = pd.DataFrame({"text": ["Great film.", "Dull — très ennuyeux.", "Fine"], "sentiment": ["POSITIVE", "NEGATIVE", None]})
    result = collect(session, df, "text-bucket", "raw/reviews", text_column="text", attributes=["sentiment"])
    s3 = session.client("s3")
    assert result.kind == "text" and result.n_objects == 3
    assert result.uris[1] == "s3://text-bucket/raw/reviews/000001.txt"
    body = s3.get_object(Bucket="text-bucket", Key="raw/reviews/000001.txt")["Body"].read()
    assert body.decode("utf-8") == "Dull — très ennuyeux."
    assert _lines(s3, result.manifest_uri) == [
        {"source": "Great film.", "sentiment": "POSITIVE"},
        {"source": "Dull — très ennuyeux.", "sentiment": "NEGATIVE"},
        {"source": "Fine", "sentiment": None}]


def test_collect_dataframe_as_csv(session):
    df = pd.DataFrame({"a": [1, 2], "b": ["x", "y"]})
    result = collect(session, df, "csv-bucket", "tables", as_csv=True)
    body = session.client("s3").get_object(Bucket="csv-bucket", Key="tables/data.csv")["Body"].read().decode()
    assert body.splitlines() == ["a,b", "1,x", "2,y"]
    assert _lines(session.client("s3"), result.manifest_uri) == [{"source-ref": "s3://csv-bucket/tables/data.csv"}]


def test_collect_rejects_bad_input_and_writes_nothing(session, tmp_path):
    df = pd.DataFrame({"text": ["a"]})
    with pytest.raises(ValueError, match="exactly one of"):
        collect(session, df, "bad-bucket", "p")                          # neither text_column nor as_csv
    with pytest.raises(ValueError, match="no column 'label'"):
        collect(session, df, "bad-bucket", "p", text_column="text", attributes=["label"])
    with pytest.raises(FileNotFoundError):
        collect(session, tmp_path / "missing", "bad-bucket", "p")
    assert session.client("s3").list_objects_v2(Bucket="bad-bucket")["KeyCount"] == 0

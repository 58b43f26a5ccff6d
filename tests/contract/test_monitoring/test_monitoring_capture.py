"""Data capture read back from S3 (SageMaker's JSON-lines layout) on local and moto: CSV,
JSON and BASE64 payloads, several rows per request, and drift checked from the prefix."""
from __future__ import annotations

import base64
import json

import pytest

from aws_ml.monitoring import CaptureError, check_drift, read_capture, suggest_baseline

from .fraud import CLAIM_AMOUNTS, fraud_split

BUCKET = "capture-bucket"
PREFIX = "datacapture/fraud-ep/AllTraffic"


def _record(input_type, data, encoding, output="0.1"):
    return json.dumps({"captureData": {
        "endpointInput": {"observedContentType": input_type, "mode": "INPUT", "data": data, "encoding": encoding},
        "endpointOutput": {"observedContentType": "text/csv", "mode": "OUTPUT", "data": output, "encoding": "CSV"}},
        "eventMetadata": {"eventId": "e", "inferenceTime": "2026-11-25T21:03:04.000Z"}, "eventVersion": "0"})


def _put(session, hour, name, lines):
    session.client("s3").put_object(Bucket=BUCKET, Key=f"{PREFIX}/2026/11/25/{hour}/{name}.jsonl",
                                    Body=("\n".join(lines) + "\n").encode())


@pytest.fixture
def bucket(session):
    session.client("s3").create_bucket(Bucket=BUCKET)
    return BUCKET


def test_csv_json_and_base64_requests_become_rows(session, bucket):
    names = ["a", "b", "c"]
    _put(session, "20", "00-01-000-x", [
        _record("text/csv", "1,2,x\n4,5,y", "CSV", output="0.1\n0.9"),
        _record("application/json", json.dumps({"instances": [[7, 8, "z"]]}), "JSON"),
    ])
    _put(session, "21", "10-00-000-y", [
        _record("text/csv", base64.b64encode(b"10,11,w").decode(), "BASE64"),
        _record("application/json", json.dumps([{"a": 13, "b": 14, "c": "v"}]), "JSON"),
    ])
    session.client("s3").put_object(Bucket=BUCKET, Key=f"{PREFIX}/2026/11/25/21/notes.txt", Body=b"ignored")
    captured = read_capture(session, f"s3://{BUCKET}/datacapture", feature_names=names)
    assert len(captured.keys) == 2 and len(captured.records) == 4
    assert captured.inputs.to_dict("records") == [
        {"a": 1, "b": 2, "c": "x"}, {"a": 4, "b": 5, "c": "y"}, {"a": 10, "b": 11, "c": "w"},
        {"a": 7, "b": 8, "c": "z"}, {"a": 13, "b": 14, "c": "v"}]
    assert captured.outputs == [0.1, 0.9, 0.1, 0.1, 0.1]


def test_csv_columns_beyond_the_baseline_are_extra(session, bucket):
    _put(session, "20", "f", [_record("text/csv", "1,2,3", "CSV")])
    captured = read_capture(session, f"s3://{BUCKET}/{PREFIX}", feature_names=["a", "b"])
    assert list(captured.inputs.columns) == ["a", "b", "_c2"]


def test_a_broken_record_names_its_object_and_line(session, bucket):
    _put(session, "20", "bad", [_record("text/csv", "1", "CSV"), '{"eventVersion": "0"}'])
    with pytest.raises(CaptureError, match=r"s3://capture-bucket/.*/bad.jsonl line 2"):
        read_capture(session, f"s3://{BUCKET}/datacapture")


def test_drift_is_checked_from_the_capture_prefix(session, bucket):
    split = fraud_split()
    baseline = suggest_baseline(split.X_train)
    rows = split.shifted.iloc[:400].to_numpy()
    lines = [_record("text/csv", "\n".join(",".join(repr(v.item()) for v in r) for r in rows[i:i + 40]), "CSV")
             for i in range(0, len(rows), 40)]
    _put(session, "22", "shifted", lines)
    report = check_drift(baseline, f"s3://{BUCKET}/datacapture/fraud-ep", session=session)
    assert report.item_count == 400 and report.source == f"s3://{BUCKET}/datacapture/fraud-ep"
    assert sorted(report.drifted_features) == sorted(CLAIM_AMOUNTS)
    with pytest.raises(ValueError, match="no captured request"):
        check_drift(baseline, f"s3://{BUCKET}/datacapture/other-ep", session=session)


def test_json_lines_requests_and_binary_responses(session, bucket):
    body = '{"features": [1, 2]}\n{"features": [3, 4]}\n'
    record = json.dumps({"captureData": {
        "endpointInput": {"observedContentType": "application/jsonlines", "mode": "INPUT",
                          "data": base64.b64encode(body.encode()).decode(), "encoding": "BASE64"},
        "endpointOutput": {"observedContentType": "application/x-npy", "mode": "OUTPUT",
                           "data": "k05VTVBZ", "encoding": "BASE64"}},
        "eventMetadata": {"eventId": "e", "inferenceTime": "2026-11-25T21:03:04.000Z"}, "eventVersion": "0"})
    _put(session, "20", "jsonl", [record])
    captured = read_capture(session, f"s3://{BUCKET}/datacapture", feature_names=["a", "b"])
    assert captured.inputs.to_dict("records") == [{"a": 1, "b": 2}, {"a": 3, "b": 4}]
    assert captured.outputs == ["k05VTVBZ"]                     # not tabular: kept as captured

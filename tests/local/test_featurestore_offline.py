"""The local offline store's buffer: flush on size, and rows kept when S3 refuses them."""
from __future__ import annotations

import logging

import pytest

from aws_ml import Session, features
from local_backends.featurestore_runtime import FeatureStoreRuntimeBackend

DEFS = [{"FeatureName": "id", "FeatureType": "String"},
        {"FeatureName": "t", "FeatureType": "Fractional"}]


def _group(s, bucket):
    s.client("sagemaker").create_feature_group(
        FeatureGroupName="buffered", RecordIdentifierFeatureName="id", EventTimeFeatureName="t",
        FeatureDefinitions=DEFS, OnlineStoreConfig={"EnableOnlineStore": True},
        OfflineStoreConfig={"S3StorageConfig": {"S3Uri": f"s3://{bucket}/fs"}},
        RoleArn="arn:aws:iam::123456789012:role/r")


def _put(rt, i):
    rt.put_record(FeatureGroupName="buffered", Record=[
        {"FeatureName": "id", "ValueAsString": f"r{i}"}, {"FeatureName": "t", "ValueAsString": "1.5"}])


def _objects(s, bucket):
    return s.client("s3").list_objects_v2(Bucket=bucket).get("KeyCount", 0)


def test_flush_on_size(home, monkeypatch):
    monkeypatch.setattr(FeatureStoreRuntimeBackend, "FLUSH_ROWS", 5)
    with Session(backend="local", home=home) as s:
        s.client("s3").create_bucket(Bucket="buffer-size")
        _group(s, "buffer-size")
        rt = s.client("sagemaker-featurestore-runtime")
        for i in range(4):
            _put(rt, i)
        assert _objects(s, "buffer-size") == 0
        _put(rt, 4)
        assert _objects(s, "buffer-size") == 1
        assert features.flush(s, "buffered") == 0


def test_unwritable_offline_store_keeps_rows_buffered(home, monkeypatch, caplog):
    monkeypatch.setattr(FeatureStoreRuntimeBackend, "FLUSH_ROWS", 2)
    with Session(backend="local", home=home) as s:
        _group(s, "not-yet-there")
        rt = s.client("sagemaker-featurestore-runtime")
        with caplog.at_level(logging.WARNING, logger="aws_ml"):
            for i in range(3):
                _put(rt, i)  # the put succeeds; the automatic flush fails and says so
        assert "not written" in caplog.text
        assert "Record" in rt.get_record(FeatureGroupName="buffered", RecordIdentifierValueAsString="r2")
        with pytest.raises(Exception, match="NoSuchBucket"):
            features.flush(s, "buffered")  # an explicit flush raises
        s.client("s3").create_bucket(Bucket="not-yet-there")
        assert features.flush(s, "buffered") == 3


def test_flush_on_age_without_another_write(home, monkeypatch):
    """Rows reach S3 FLUSH_SECONDS after the first one even if nothing more is written (a
    notebook polling the offline store's folder, as on AWS, sees them)."""
    import time
    monkeypatch.setattr(FeatureStoreRuntimeBackend, "FLUSH_SECONDS", 0.3)
    with Session(backend="local", home=home) as s:
        s.client("s3").create_bucket(Bucket="buffer-age")
        _group(s, "buffer-age")
        rt = s.client("sagemaker-featurestore-runtime")
        # one row: with a 0.3 s age a second put may come after the flush on a loaded machine
        # (that rows wait in the buffer is test_session_close_writes_buffered_rows's to check)
        _put(rt, 0)
        deadline = time.monotonic() + 10
        while _objects(s, "buffer-age") == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _objects(s, "buffer-age") == 1
        assert features.flush(s, "buffered") == 0       # the row was in that file


def test_session_close_writes_buffered_rows(home):
    with Session(backend="local", home=home) as s:
        s.client("s3").create_bucket(Bucket="buffer-close")
        _group(s, "buffer-close")
        rt = s.client("sagemaker-featurestore-runtime")
        for i in range(3):
            _put(rt, i)
        assert _objects(s, "buffer-close") == 0
        backend = s.router.backend("sagemaker-featurestore-runtime", s.region)
    assert backend._timers == {}                        # the age timers are stopped
    with Session(backend="local", home=home) as again:
        assert _objects(again, "buffer-close") == 1
        assert features.flush(again, "buffered") == 0


def test_session_close_with_unwritable_store_keeps_rows(home, caplog):
    with caplog.at_level(logging.WARNING, logger="aws_ml"):
        with Session(backend="local", home=home) as s:
            _group(s, "never-created")
            _put(s.client("sagemaker-featurestore-runtime"), 0)
    assert "not written" in caplog.text                 # said, not swallowed
    with Session(backend="local", home=home) as again:
        again.client("s3").create_bucket(Bucket="never-created")
        assert features.flush(again, "buffered") == 1   # still buffered, durable

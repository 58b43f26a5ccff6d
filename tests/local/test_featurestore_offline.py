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

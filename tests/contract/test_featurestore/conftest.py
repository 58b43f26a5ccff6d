"""Fixtures of the Feature Store contract tests: a bucket and a small feature group."""
from __future__ import annotations

import pytest

ROLE = "arn:aws:iam::123456789012:role/service-role/FeatureStore"
BUCKET = "featurestore-tests"

DEFS = [
    {"FeatureName": "customer_id", "FeatureType": "String"},
    {"FeatureName": "event_time", "FeatureType": "String"},
    {"FeatureName": "age", "FeatureType": "Integral"},
    {"FeatureName": "score", "FeatureType": "Fractional"},
    {"FeatureName": "city", "FeatureType": "String"},
]


def record(cid: str, when: str, **values) -> list[dict]:
    """A PutRecord Record: identifier, event time and the given features."""
    out = [{"FeatureName": "customer_id", "ValueAsString": cid},
           {"FeatureName": "event_time", "ValueAsString": when}]
    return out + [{"FeatureName": k, "ValueAsString": str(v)} for k, v in values.items()]


def as_dict(rec: list[dict]) -> dict:
    return {f["FeatureName"]: f["ValueAsString"] for f in rec}


@pytest.fixture
def sm(session):
    return session.client("sagemaker")


@pytest.fixture
def runtime(session):
    return session.client("sagemaker-featurestore-runtime")


@pytest.fixture
def bucket(session):
    session.client("s3").create_bucket(Bucket=BUCKET)
    return BUCKET


@pytest.fixture
def group(sm, bucket):
    """A feature group with an online and an offline store (``customers``)."""
    sm.create_feature_group(
        FeatureGroupName="customers", RecordIdentifierFeatureName="customer_id",
        EventTimeFeatureName="event_time", FeatureDefinitions=DEFS,
        OnlineStoreConfig={"EnableOnlineStore": True},
        OfflineStoreConfig={"S3StorageConfig": {"S3Uri": f"s3://{bucket}/offline"}},
        RoleArn=ROLE)
    return "customers"

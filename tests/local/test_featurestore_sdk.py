"""The SageMaker Python SDK v3's feature-group waiters (sagemaker-core ``FeatureGroup``:
``wait_for_status`` and ``wait_for_delete``, which poll DescribeFeatureGroup: botocore has
no feature-group waiter) on the local backend, unmodified."""
from __future__ import annotations

import pytest

pytest.importorskip("sagemaker.core.resources")


def test_wait_for_status_and_delete(sdk_session):
    from sagemaker.core.resources import FeatureGroup
    from sagemaker.core.shapes import FeatureDefinition, OfflineStoreConfig, OnlineStoreConfig, S3StorageConfig

    sdk_session.client("s3").create_bucket(Bucket="sdk-waiters")
    fg = FeatureGroup.create(
        feature_group_name="sdk-waited", record_identifier_feature_name="id",
        event_time_feature_name="t",
        feature_definitions=[FeatureDefinition(feature_name="id", feature_type="String"),
                             FeatureDefinition(feature_name="t", feature_type="Fractional")],
        online_store_config=OnlineStoreConfig(enable_online_store=True),
        offline_store_config=OfflineStoreConfig(s3_storage_config=S3StorageConfig(s3_uri="s3://sdk-waiters/fs")),
        role_arn="arn:aws:iam::123456789012:role/feature-store",
        session=sdk_session.boto3_session, region="us-east-1")
    fg.wait_for_status(target_status="Created", poll=1, timeout=30)
    assert fg.feature_group_status == "Created"
    assert fg.offline_store_config.s3_storage_config.resolved_output_s3_uri.startswith(
        "s3://sdk-waiters/fs/123456789012/sagemaker/us-east-1/offline-store/sdk-waited-")
    fg.delete()
    fg.wait_for_delete(poll=1, timeout=30)
    assert [s["FeatureGroupName"] for s in sdk_session.client("sagemaker").list_feature_groups()
            ["FeatureGroupSummaries"]] == []

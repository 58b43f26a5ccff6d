"""The SageMaker Python SDK v3 (sagemaker-core resources) runs unmodified on the local
backend, handed nothing but ``session.boto3_session``."""
from __future__ import annotations

import io
import json
import tarfile
import time

import pytest

from aws_ml import datasets, serving

pytest.importorskip("sagemaker.core.resources")
pytestmark = pytest.mark.slow
NUMERIC = ["num_vehicles_involved", "num_injuries", "num_witnesses", "injury_claim", "vehicle_claim",
           "total_claim_amount", "incident_hour"]


def _model_tar() -> bytes:
    import joblib
    from sklearn.linear_model import LogisticRegression

    claims = datasets.load("fraud/claims")
    model = LogisticRegression(max_iter=500).fit(claims[NUMERIC], claims["fraud"])
    buf, raw = io.BytesIO(), io.BytesIO()
    joblib.dump(model, raw)
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        info = tarfile.TarInfo("model.joblib")
        info.size = len(raw.getvalue())
        tar.addfile(info, io.BytesIO(raw.getvalue()))
    return buf.getvalue()


def test_endpoint_invoke_through_sagemaker_core(sdk_session):
    from sagemaker.core.resources import Endpoint

    s3 = sdk_session.client("s3")
    s3.create_bucket(Bucket="sdk-models")
    s3.put_object(Bucket="sdk-models", Key="fraud/model.tar.gz", Body=_model_tar())
    name = serving.deploy(sdk_session, "s3://sdk-models/fraud/model.tar.gz", name="sdk-endpoint")
    try:
        endpoint = Endpoint.get(endpoint_name=name, session=sdk_session.boto3_session, region="us-east-1")
        assert endpoint.endpoint_status == "InService"
        row = datasets.load("fraud/claims")[NUMERIC].iloc[0]
        out = endpoint.invoke(body=",".join(str(v) for v in row), content_type="text/csv",
                              session=sdk_session.boto3_session, region="us-east-1")
        assert json.loads(out.body.read()) in ([0], [1])  # the scikit-learn container answers JSON
    finally:
        serving.delete(sdk_session, name)


def test_feature_group_through_sagemaker_core(sdk_session):
    from sagemaker.core.resources import FeatureGroup
    from sagemaker.core.shapes import FeatureDefinition, FeatureValue, OnlineStoreConfig

    bs = sdk_session.boto3_session
    fg = FeatureGroup.create(
        feature_group_name="sdk-claims", record_identifier_feature_name="policy_id",
        event_time_feature_name="event_time",
        feature_definitions=[FeatureDefinition(feature_name="policy_id", feature_type="Integral"),
                             FeatureDefinition(feature_name="event_time", feature_type="String"),
                             FeatureDefinition(feature_name="total_claim_amount", feature_type="Fractional")],
        online_store_config=OnlineStoreConfig(enable_online_store=True), session=bs, region="us-east-1")
    for _ in range(100):
        fg.refresh()
        if fg.feature_group_status == "Created":
            break
        time.sleep(0.05)
    assert fg.feature_group_status == "Created"
    fg.put_record(record=[FeatureValue(feature_name="policy_id", value_as_string="7"),
                          FeatureValue(feature_name="event_time", value_as_string="2024-01-01T00:00:00Z"),
                          FeatureValue(feature_name="total_claim_amount", value_as_string="1234.5")],
                  session=bs, region="us-east-1")
    got = fg.get_record(record_identifier_value_as_string="7", session=bs, region="us-east-1")
    values = {v.feature_name: v.value_as_string for v in got.record}
    assert values == {"policy_id": "7", "event_time": "2024-01-01T00:00:00Z", "total_claim_amount": "1234.5"}


def test_ingest_dataframe_and_athena_query_helpers(sdk_session):
    """The SDK's feature-store helpers: ``ingest_dataframe`` (PutRecord from threads) and
    ``AthenaQuery`` over the offline store's Glue table, as in the SageMaker notebooks."""
    from sagemaker.core.helper.session_helper import Session as SageMakerSession
    from sagemaker.core.resources import FeatureGroup
    from sagemaker.core.shapes import (FeatureDefinition, OfflineStoreConfig, OnlineStoreConfig,
                                       S3StorageConfig)
    from sagemaker.mlops.feature_store.athena_query import AthenaQuery
    from sagemaker.mlops.feature_store.feature_utils import ingest_dataframe

    from aws_ml import features

    bs = sdk_session.boto3_session
    # ingest_dataframe builds its own boto3 sessions (sagemaker-core's cached clients):
    # activate() serves those too, as moto's mock_aws does.
    sdk_session.activate()
    sdk_session.client("s3").create_bucket(Bucket="sdk-feature-store")
    claims = datasets.load("fraud/claims")[["policy_id", "total_claim_amount", "fraud"]].head(300).copy()
    claims["event_time"] = "2024-01-01T00:00:00Z"
    fg = FeatureGroup.create(
        feature_group_name="sdk-offline", record_identifier_feature_name="policy_id",
        event_time_feature_name="event_time",
        feature_definitions=[FeatureDefinition(feature_name="policy_id", feature_type="Integral"),
                             FeatureDefinition(feature_name="total_claim_amount", feature_type="Fractional"),
                             FeatureDefinition(feature_name="fraud", feature_type="Integral"),
                             FeatureDefinition(feature_name="event_time", feature_type="String")],
        online_store_config=OnlineStoreConfig(enable_online_store=True),
        offline_store_config=OfflineStoreConfig(s3_storage_config=S3StorageConfig(s3_uri="s3://sdk-feature-store/offline")),
        role_arn="arn:aws:iam::123456789012:role/feature-store", session=bs, region="us-east-1")
    for _ in range(100):
        fg.refresh()
        if fg.feature_group_status == "Created":
            break
        time.sleep(0.05)
    ingest_dataframe("sdk-offline", claims, max_workers=2, region="us-east-1")
    got = fg.get_record(record_identifier_value_as_string="3", session=bs, region="us-east-1")
    assert {v.feature_name: v.value_as_string for v in got.record}["fraud"] == str(claims.iloc[2]["fraud"])
    features.flush(sdk_session, "sdk-offline")  # AWS writes the offline store within ~15 minutes
    fg.refresh()
    catalog = fg.offline_store_config.data_catalog_config
    query = AthenaQuery(catalog="AwsDataCatalog", database=catalog.database, table_name=catalog.table_name,
                        sagemaker_session=SageMakerSession(boto_session=bs))
    query.run(f'SELECT COUNT(*) AS n, SUM(fraud) AS frauds FROM "{catalog.table_name}"',
              output_location="s3://sdk-feature-store/athena/")
    query.wait()
    df = query.as_dataframe()
    assert df.loc[0, "n"] == 300 and df.loc[0, "frauds"] == int(claims["fraud"].sum())

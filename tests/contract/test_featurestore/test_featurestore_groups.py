"""Feature groups (the ``sagemaker`` control plane) on local and moto.

moto implements CreateFeatureGroup and DescribeFeatureGroup only; the other operations
are moto gaps, and so is its validation (none), its ResolvedOutputS3Uri (no
``/sagemaker/`` segment) and its answer for an unknown group (a KeyError from inside the
mock instead of ResourceNotFound).
"""
import re
import time
from datetime import datetime, timedelta, timezone

import pandas as pd
import pytest
from botocore.exceptions import ClientError

from aws_ml import features
from tests.conftest import moto_gap

from .conftest import DEFS, ROLE, record


def _create(sm, name="grp", defs=DEFS, rid="customer_id", et="event_time", **kw):
    params = dict(FeatureGroupName=name, RecordIdentifierFeatureName=rid, EventTimeFeatureName=et,
                  FeatureDefinitions=defs, OnlineStoreConfig={"EnableOnlineStore": True},
                  OfflineStoreConfig={"S3StorageConfig": {"S3Uri": "s3://featurestore-tests/p"}},
                  RoleArn=ROLE)
    params.update(kw)
    return sm.create_feature_group(**params)


def _wait_created(sm, name):
    for _ in range(50):
        desc = sm.describe_feature_group(FeatureGroupName=name)
        if desc["FeatureGroupStatus"] == "Created":
            return desc
        time.sleep(0.1)
    raise AssertionError(f"{name} never Created")


def test_create_and_describe(sm, bucket):
    arn = _create(sm, "Customer-Features")["FeatureGroupArn"]
    assert arn == "arn:aws:sagemaker:us-east-1:123456789012:feature-group/customer-features"
    desc = _wait_created(sm, "Customer-Features")
    assert desc["FeatureGroupArn"] == arn
    assert desc["FeatureDefinitions"] == DEFS
    assert desc["RecordIdentifierFeatureName"] == "customer_id"
    assert desc["EventTimeFeatureName"] == "event_time"
    assert desc["RoleArn"] == ROLE
    assert desc["CreationTime"].tzinfo is not None
    catalog = desc["OfflineStoreConfig"]["DataCatalogConfig"]
    stamp = int(desc["CreationTime"].timestamp())
    assert catalog["Database"] == "sagemaker_featurestore"
    assert catalog["Catalog"] == "AwsDataCatalog"
    assert re.fullmatch(r"customer_features_\d{10}", catalog["TableName"].lower())  # Glue keeps names in lower case
    assert abs(int(catalog["TableName"].rsplit("_", 1)[1]) - stamp) <= 1


def test_resolved_output_uri_follows_aws_layout(sm, bucket, session):
    _create(sm, "layout")
    desc = _wait_created(sm, "layout")
    uri = desc["OfflineStoreConfig"]["S3StorageConfig"]["ResolvedOutputS3Uri"]
    moto_gap(session, "ResolvedOutputS3Uri lacks the '/sagemaker/' segment AWS writes")
    assert re.fullmatch(r"s3://featurestore-tests/p/123456789012/sagemaker/us-east-1/"
                        r"offline-store/layout-\d{10}/data", uri)
    assert desc["OfflineStoreStatus"] == {"Status": "Active"}
    assert desc["OnlineStoreConfig"]["EnableOnlineStore"] is True
    assert desc["OfflineStoreConfig"]["TableFormat"] == "Glue"  # AWS's default table format
    assert desc["OfflineStoreConfig"]["DisableGlueTableCreation"] is False


def test_creating_then_created(sm, bucket, session):
    """A new group is Creating first, then Created (AWS takes a few seconds)."""
    _create(sm, "young")
    first = sm.describe_feature_group(FeatureGroupName="young")["FeatureGroupStatus"]
    moto_gap(session, "moto's feature groups are Created at once")
    assert first == "Creating"
    assert _wait_created(sm, "young")["FeatureGroupStatus"] == "Created"


def test_wait_for_feature_group(sm, bucket, session):
    """botocore has no waiter for feature groups (sagemaker's waiters-2.json names none):
    ``features.wait_for_feature_group`` polls DescribeFeatureGroup as the SageMaker SDK does."""
    assert not [w for w in sm.waiter_names if "feature" in w]
    _create(sm, "awaited")
    desc = features.wait_for_feature_group(session, "awaited", timeout=10)
    assert desc["FeatureGroupStatus"] == "Created"
    assert desc["FeatureGroupName"] == "awaited"


@pytest.mark.parametrize("drop", ["stores", "role"])
def test_store_configuration_is_validated(sm, bucket, session, drop):
    """No store at all, or an offline store without the role that writes it: refused."""
    params = dict(FeatureGroupName="unstored", RecordIdentifierFeatureName="customer_id",
                  EventTimeFeatureName="event_time", FeatureDefinitions=DEFS)
    if drop == "role":
        params["OfflineStoreConfig"] = {"S3StorageConfig": {"S3Uri": "s3://featurestore-tests/p"}}
    moto_gap(session, "moto's CreateFeatureGroup validates no store configuration")
    with pytest.raises(ClientError) as exc:
        sm.create_feature_group(**params)
    assert exc.value.response["Error"]["Code"] == "ValidationException"
    with pytest.raises(ClientError) as exc:
        sm.describe_feature_group(FeatureGroupName="unstored")
    assert exc.value.response["Error"]["Code"] == "ResourceNotFound"


def test_glue_table_created_with_group(sm, bucket, session):
    _create(sm, "catalogued")
    desc = _wait_created(sm, "catalogued")
    catalog = desc["OfflineStoreConfig"]["DataCatalogConfig"]
    moto_gap(session, "moto's CreateFeatureGroup registers no Glue table "
                      "(the local runtime creates it at the first offline flush)")
    table = session.client("glue").get_table(DatabaseName=catalog["Database"],
                                              Name=catalog["TableName"])["Table"]
    cols = {c["Name"]: c["Type"] for c in table["StorageDescriptor"]["Columns"]}
    assert cols == {"customer_id": "string", "event_time": "string", "age": "bigint",
                    "score": "double", "city": "string", "write_time": "timestamp",
                    "api_invocation_time": "timestamp", "is_deleted": "boolean"}
    assert table["StorageDescriptor"]["Location"] == \
        desc["OfflineStoreConfig"]["S3StorageConfig"]["ResolvedOutputS3Uri"]


def test_data_catalog_config_is_kept(sm, bucket, session):
    catalog = {"TableName": "my_table", "Catalog": "AwsDataCatalog", "Database": "my_db"}
    _create(sm, "named", OfflineStoreConfig={"S3StorageConfig": {"S3Uri": "s3://featurestore-tests/p"},
                                             "DataCatalogConfig": catalog})
    moto_gap(session, "moto replaces a given DataCatalogConfig with its own names")
    desc = _wait_created(sm, "named")
    assert desc["OfflineStoreConfig"]["DataCatalogConfig"] == catalog


def test_existing_name_is_resource_in_use(sm, bucket):
    _create(sm, "twice")
    with pytest.raises(ClientError) as exc:
        _create(sm, "twice")
    assert exc.value.response["Error"]["Code"] == "ResourceInUse"


@pytest.mark.parametrize("change", [
    dict(rid="missing"),
    dict(et="missing"),
    dict(defs=DEFS + [{"FeatureName": "is_deleted", "FeatureType": "Integral"}]),
    dict(defs=DEFS + [{"FeatureName": "write_time", "FeatureType": "String"}]),
    dict(defs=DEFS + [{"FeatureName": "api_invocation_time", "FeatureType": "String"}]),
    dict(defs=DEFS + [{"FeatureName": "age", "FeatureType": "Fractional"}]),
    dict(name="bad name!"),
    dict(defs=DEFS + [{"FeatureName": "bad feature", "FeatureType": "String"}]),
    dict(et="age"),
], ids=["identifier", "event-time", "is_deleted", "write_time", "api_invocation_time",
        "duplicate", "group-name", "feature-name", "event-time-type"])
def test_bad_definitions_are_validation_exceptions(sm, bucket, session, change):
    moto_gap(session, "moto's CreateFeatureGroup validates no definition")
    with pytest.raises(ClientError) as exc:
        _create(sm, **{"name": "bad", **change})
    assert exc.value.response["Error"]["Code"] == "ValidationException"
    if change.get("name") is None:
        with pytest.raises(ClientError) as exc:
            sm.describe_feature_group(FeatureGroupName="bad")
        assert exc.value.response["Error"]["Code"] == "ResourceNotFound"


def test_unknown_group_is_resource_not_found(sm, session):
    moto_gap(session, "moto's DescribeFeatureGroup raises a KeyError for an unknown group")
    with pytest.raises(ClientError) as exc:
        sm.describe_feature_group(FeatureGroupName="nope")
    assert exc.value.response["Error"]["Code"] == "ResourceNotFound"


def test_list_filters_sorts_and_pages(sm, bucket, session):
    moto_gap(session, "moto does not implement ListFeatureGroups")
    for name in ("alpha", "beta", "gamma"):
        _create(sm, name)
    names = [s["FeatureGroupName"] for s in sm.list_feature_groups(SortBy="Name", SortOrder="Ascending")["FeatureGroupSummaries"]]
    assert names == ["alpha", "beta", "gamma"]
    assert [s["FeatureGroupName"] for s in sm.list_feature_groups(NameContains="ET")["FeatureGroupSummaries"]] == ["beta"]
    pages = sm.get_paginator("list_feature_groups").paginate(SortBy="Name", SortOrder="Ascending", PaginationConfig={"PageSize": 2})
    assert [[s["FeatureGroupName"] for s in p["FeatureGroupSummaries"]] for p in pages] == [["alpha", "beta"], ["gamma"]]
    summary = sm.list_feature_groups(NameContains="alpha")["FeatureGroupSummaries"][0]
    assert summary["OfflineStoreStatus"] == {"Status": "Active"}
    for name in ("alpha", "beta", "gamma"):
        _wait_created(sm, name)

    def listed(**kw):
        return sorted(s["FeatureGroupName"] for s in sm.list_feature_groups(**kw)["FeatureGroupSummaries"])

    assert listed(FeatureGroupStatusEquals="Created") == ["alpha", "beta", "gamma"]
    assert listed(FeatureGroupStatusEquals="Deleting") == []
    assert listed(OfflineStoreStatusEquals="Active") == ["alpha", "beta", "gamma"]
    now = datetime.now(timezone.utc)
    assert listed(CreationTimeAfter=now - timedelta(hours=1)) == ["alpha", "beta", "gamma"]
    assert listed(CreationTimeAfter=now + timedelta(hours=1)) == []
    assert listed(CreationTimeBefore=now - timedelta(hours=1)) == []
    newest_first = [s["FeatureGroupName"] for s in sm.list_feature_groups()["FeatureGroupSummaries"]]
    assert newest_first == ["gamma", "beta", "alpha"]  # default: CreationTime, Descending


def test_update_adds_features_and_glue_columns(sm, runtime, bucket, session):
    moto_gap(session, "moto does not implement UpdateFeatureGroup")
    _create(sm, "growing")
    runtime.put_record(FeatureGroupName="growing", Record=record("c1", "2024-01-01T00:00:00Z", age=1))
    with pytest.raises(ClientError) as exc:  # not a feature yet
        runtime.put_record(FeatureGroupName="growing", Record=record("c2", "2024-01-01T00:00:00Z", tenure=3))
    assert exc.value.response["Error"]["Code"] == "ValidationError"
    sm.update_feature_group(FeatureGroupName="growing",
                            FeatureAdditions=[{"FeatureName": "tenure", "FeatureType": "Integral"}])
    desc = _wait_created(sm, "growing")
    assert desc["FeatureDefinitions"][-1] == {"FeatureName": "tenure", "FeatureType": "Integral"}
    assert desc["LastUpdateStatus"] == {"Status": "Successful"}
    catalog = desc["OfflineStoreConfig"]["DataCatalogConfig"]
    table = session.client("glue").get_table(DatabaseName=catalog["Database"], Name=catalog["TableName"])
    assert "tenure" in [c["Name"] for c in table["Table"]["StorageDescriptor"]["Columns"]]
    # the runtime takes the new feature at once; the offline rows written before have it empty
    runtime.put_record(FeatureGroupName="growing", Record=record("c2", "2024-01-01T00:00:00Z", tenure=3))
    got = runtime.get_record(FeatureGroupName="growing", RecordIdentifierValueAsString="c2")["Record"]
    assert {"FeatureName": "tenure", "ValueAsString": "3"} in got
    assert features.flush(session, "growing") == 2
    entity = pd.DataFrame({"customer_id": ["c1", "c2"], "event_time": ["2024-02-01T00:00:00Z"] * 2})
    pit = features.point_in_time_join(session, entity, [("growing", ["age", "tenure"])])
    assert pit["age"].tolist()[0] == 1 and pd.isna(pit["tenure"].iloc[0]) and pit["tenure"].iloc[1] == 3
    with pytest.raises(ClientError) as exc:
        sm.update_feature_group(FeatureGroupName="growing",
                                FeatureAdditions=[{"FeatureName": "age", "FeatureType": "Integral"}])
    assert exc.value.response["Error"]["Code"] == "ValidationException"


def test_delete_then_not_found(sm, bucket, session):
    moto_gap(session, "moto does not implement DeleteFeatureGroup")
    _create(sm, "short-lived")
    sm.delete_feature_group(FeatureGroupName="short-lived")
    with pytest.raises(ClientError) as exc:
        sm.describe_feature_group(FeatureGroupName="short-lived")
    assert exc.value.response["Error"]["Code"] == "ResourceNotFound"
    _create(sm, "short-lived")  # the name is free again


def test_feature_metadata(sm, bucket, session):
    moto_gap(session, "moto does not implement DescribeFeatureMetadata")
    _create(sm, "meta")
    got = sm.describe_feature_metadata(FeatureGroupName="meta", FeatureName="age")
    assert got["FeatureType"] == "Integral" and got["Parameters"] == []
    sm.update_feature_metadata(FeatureGroupName="meta", FeatureName="age", Description="years",
                               ParameterAdditions=[{"Key": "unit", "Value": "year"}])
    got = sm.describe_feature_metadata(FeatureGroupName="meta", FeatureName="age")
    assert got["Description"] == "years" and got["Parameters"] == [{"Key": "unit", "Value": "year"}]
    with pytest.raises(ClientError) as exc:
        sm.describe_feature_metadata(FeatureGroupName="meta", FeatureName="nope")
    assert exc.value.response["Error"]["Code"] == "ResourceNotFound"

"""Records (``sagemaker-featurestore-runtime``) on local and moto.

The runtime is served locally on both backends (moto has no Feature Store runtime); on
moto it reads the group from moto's ``DescribeFeatureGroup`` and writes the offline
store to moto's S3 and Glue.
"""
import io

import pyarrow.parquet as pq
import pytest
from botocore.exceptions import ClientError

from aws_ml import features

from .conftest import as_dict, record


def _code(exc) -> str:
    return exc.value.response["Error"]["Code"]


def test_put_then_get_latest(runtime, group):
    runtime.put_record(FeatureGroupName=group, Record=record("c1", "2024-01-01T00:00:00Z", age=30, score=0.5, city="Paris"))
    runtime.put_record(FeatureGroupName=group, Record=record("c1", "2024-02-01T00:00:00Z", age=31, score=0.7))
    got = runtime.get_record(FeatureGroupName=group, RecordIdentifierValueAsString="c1")
    assert as_dict(got["Record"]) == {"customer_id": "c1", "event_time": "2024-02-01T00:00:00Z",
                                      "age": "31", "score": "0.7"}
    only = runtime.get_record(FeatureGroupName=group, RecordIdentifierValueAsString="c1",
                              FeatureNames=["age"])
    assert only["Record"] == [{"FeatureName": "age", "ValueAsString": "31"}]


def test_absent_record_has_no_record_key(runtime, group):
    got = runtime.get_record(FeatureGroupName=group, RecordIdentifierValueAsString="nobody")
    assert "Record" not in got
    assert got["ResponseMetadata"]["HTTPStatusCode"] == 200


def test_out_of_order_event_keeps_newest_online(runtime, group):
    runtime.put_record(FeatureGroupName=group, Record=record("c2", "2024-03-01T00:00:00.000Z", age=40))
    runtime.put_record(FeatureGroupName=group, Record=record("c2", "2023-03-01T00:00:00Z", age=39))
    got = runtime.get_record(FeatureGroupName=group, RecordIdentifierValueAsString="c2")
    assert as_dict(got["Record"])["age"] == "40"


@pytest.mark.parametrize("bad", [
    record("c3", "2024-01-01T00:00:00Z", age="thirty"),           # wrong type (Integral)
    record("c3", "2024-01-01T00:00:00Z", score="high"),          # wrong type (Fractional)
    record("c3", "2024-01-01T00:00:00Z", height=180),            # unknown feature
    record("c3", "2024-01-01T00:00:00Z")[1:],                    # no identifier
    record("c3", "2024-01-01T00:00:00Z", age=1)[:1] + [{"FeatureName": "age", "ValueAsString": "1"}],  # no event time
    record("c3", "01/01/2024", age=1),                           # event time not ISO-8601
], ids=["integral", "fractional", "unknown", "no-identifier", "no-event-time", "event-time-format"])
def test_invalid_record_is_validation_error_and_changes_nothing(runtime, group, bad, session):
    runtime.put_record(FeatureGroupName=group, Record=record("c3", "2023-01-01T00:00:00Z", age=5))
    with pytest.raises(ClientError) as exc:
        runtime.put_record(FeatureGroupName=group, Record=bad)
    assert _code(exc) == "ValidationError"
    got = runtime.get_record(FeatureGroupName=group, RecordIdentifierValueAsString="c3")
    assert as_dict(got["Record"]) == {"customer_id": "c3", "event_time": "2023-01-01T00:00:00Z", "age": "5"}
    assert features.flush(session, group) == 1  # only the valid record reached the offline buffer


def test_batch_get_record(runtime, group):
    runtime.put_record(FeatureGroupName=group, Record=record("a", "2024-01-01T00:00:00Z", age=1))
    runtime.put_record(FeatureGroupName=group, Record=record("b", "2024-01-01T00:00:00Z", age=2))
    got = runtime.batch_get_record(Identifiers=[
        {"FeatureGroupName": group, "RecordIdentifiersValueAsString": ["a", "b", "zzz"],
         "FeatureNames": ["customer_id", "age"]}])
    assert [(r["RecordIdentifierValueAsString"], as_dict(r["Record"])) for r in got["Records"]] == [
        ("a", {"customer_id": "a", "age": "1"}), ("b", {"customer_id": "b", "age": "2"})]
    assert got["Errors"] == [] and got["UnprocessedIdentifiers"] == []


def test_soft_delete_hides_record_and_keeps_tombstone_time(runtime, group):
    runtime.put_record(FeatureGroupName=group, Record=record("d", "2024-01-01T00:00:00Z", age=1))
    runtime.delete_record(FeatureGroupName=group, RecordIdentifierValueAsString="d",
                          EventTime="2024-02-01T00:00:00Z")
    assert "Record" not in runtime.get_record(FeatureGroupName=group, RecordIdentifierValueAsString="d")
    # older than the deletion: not applied
    runtime.put_record(FeatureGroupName=group, Record=record("d", "2024-01-15T00:00:00Z", age=2))
    assert "Record" not in runtime.get_record(FeatureGroupName=group, RecordIdentifierValueAsString="d")
    runtime.put_record(FeatureGroupName=group, Record=record("d", "2024-03-01T00:00:00Z", age=3))
    assert as_dict(runtime.get_record(FeatureGroupName=group, RecordIdentifierValueAsString="d")["Record"])["age"] == "3"


def test_soft_delete_older_than_record_keeps_it(runtime, group):
    runtime.put_record(FeatureGroupName=group, Record=record("e", "2024-05-01T00:00:00Z", age=1))
    runtime.delete_record(FeatureGroupName=group, RecordIdentifierValueAsString="e",
                          EventTime="2024-01-01T00:00:00Z")
    assert as_dict(runtime.get_record(FeatureGroupName=group, RecordIdentifierValueAsString="e")["Record"])["age"] == "1"


def test_hard_delete(runtime, group, session):
    runtime.put_record(FeatureGroupName=group, Record=record("h", "2024-05-01T00:00:00Z", age=1))
    with pytest.raises(ClientError) as exc:  # not later than the stored record: refused
        runtime.delete_record(FeatureGroupName=group, RecordIdentifierValueAsString="h",
                              EventTime="2024-01-01T00:00:00Z", DeletionMode="HardDelete")
    assert _code(exc) == "ValidationError"
    runtime.delete_record(FeatureGroupName=group, RecordIdentifierValueAsString="h",
                          EventTime="2024-06-01T00:00:00Z", DeletionMode="HardDelete")
    assert "Record" not in runtime.get_record(FeatureGroupName=group, RecordIdentifierValueAsString="h")
    # the record is gone entirely: an older event can be written again
    runtime.put_record(FeatureGroupName=group, Record=record("h", "2024-02-01T00:00:00Z", age=7))
    assert as_dict(runtime.get_record(FeatureGroupName=group, RecordIdentifierValueAsString="h")["Record"])["age"] == "7"
    # offline: the first put, the deletion marker and the last put (the refused delete wrote none)
    assert features.flush(session, group) == 3


def test_target_stores(runtime, group, session):
    runtime.put_record(FeatureGroupName=group, Record=record("t", "2024-01-01T00:00:00Z", age=1),
                       TargetStores=["OfflineStore"])
    assert "Record" not in runtime.get_record(FeatureGroupName=group, RecordIdentifierValueAsString="t")
    runtime.put_record(FeatureGroupName=group, Record=record("t", "2024-01-01T00:00:00Z", age=1),
                       TargetStores=["OnlineStore"])
    assert "Record" in runtime.get_record(FeatureGroupName=group, RecordIdentifierValueAsString="t")
    assert features.flush(session, group) == 1
    with pytest.raises(ClientError) as exc:
        runtime.put_record(FeatureGroupName=group, Record=record("t", "2024-01-01T00:00:00Z"),
                           TargetStores=["Elsewhere"])
    assert _code(exc) == "ValidationError"


def test_unknown_group_is_resource_not_found(runtime, session):
    # on moto too: the runtime is local and turns moto's KeyError into ResourceNotFound
    with pytest.raises(ClientError) as exc:
        runtime.get_record(FeatureGroupName="nope", RecordIdentifierValueAsString="x")
    assert _code(exc) == "ResourceNotFound"
    with pytest.raises(ClientError) as exc:
        runtime.put_record(FeatureGroupName="nope", Record=record("x", "2024-01-01T00:00:00Z"))
    assert _code(exc) == "ResourceNotFound"


def test_batch_get_record_errors_and_unprocessed_shapes(runtime, group):
    """Per-identifier failures are answered in ``Errors`` (the model's
    BatchGetRecordError shape); the other identifiers of the same call are still read."""
    runtime.put_record(FeatureGroupName=group, Record=record("a", "2024-01-01T00:00:00Z", age=1))
    got = runtime.batch_get_record(Identifiers=[
        {"FeatureGroupName": group, "RecordIdentifiersValueAsString": ["a"]},
        {"FeatureGroupName": group, "RecordIdentifiersValueAsString": ["a", "b"], "FeatureNames": ["height"]},
        {"FeatureGroupName": "nope", "RecordIdentifiersValueAsString": ["a"]}])
    assert [(r["FeatureGroupName"], r["RecordIdentifierValueAsString"], as_dict(r["Record"])["age"])
            for r in got["Records"]] == [(group, "a", "1")]
    errors = [(e["FeatureGroupName"], e["RecordIdentifierValueAsString"], e["ErrorCode"]) for e in got["Errors"]]
    assert errors == [(group, "a", "ValidationError"), (group, "b", "ValidationError"),
                      ("nope", "a", "ResourceNotFound")]
    assert all(set(e) == {"FeatureGroupName", "RecordIdentifierValueAsString", "ErrorCode", "ErrorMessage"}
               for e in got["Errors"])
    assert "height" in got["Errors"][0]["ErrorMessage"]
    assert got["UnprocessedIdentifiers"] == []


def test_soft_deleted_record_left_out_of_batch_get(runtime, group):
    runtime.put_record(FeatureGroupName=group, Record=record("s1", "2024-01-01T00:00:00Z", age=1))
    runtime.put_record(FeatureGroupName=group, Record=record("s2", "2024-01-01T00:00:00Z", age=2))
    runtime.delete_record(FeatureGroupName=group, RecordIdentifierValueAsString="s1",
                          EventTime="2024-01-02T00:00:00Z")
    got = runtime.batch_get_record(Identifiers=[{"FeatureGroupName": group,
                                                 "RecordIdentifiersValueAsString": ["s1", "s2"]}])
    assert [r["RecordIdentifierValueAsString"] for r in got["Records"]] == ["s2"]
    assert got["Errors"] == []


def test_offline_store_parquet_layout_and_glue_table(runtime, group, sm, session):
    runtime.put_record(FeatureGroupName=group, Record=record("o1", "2024-01-02T03:04:05Z", age=1, score=1.5, city="Lyon"))
    runtime.put_record(FeatureGroupName=group, Record=record("o2", "2024-01-02T03:59:00Z", age=2))
    runtime.put_record(FeatureGroupName=group, Record=record("o1", "2024-07-08T09:00:00Z", age=3))
    assert features.flush(session, group) == 3
    desc = sm.describe_feature_group(FeatureGroupName=group)
    uri = desc["OfflineStoreConfig"]["S3StorageConfig"]["ResolvedOutputS3Uri"]
    bucket, prefix = uri[len("s3://"):].split("/", 1)
    s3 = session.client("s3")
    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix=prefix + "/")["Contents"])
    folders = [k[len(prefix) + 1:].rsplit("/", 1)[0] for k in keys]
    assert folders == ["year=2024/month=01/day=02/hour=03", "year=2024/month=07/day=08/hour=09"]
    assert all(k.endswith(".parquet") for k in keys)
    table = pq.read_table(io.BytesIO(s3.get_object(Bucket=bucket, Key=keys[0])["Body"].read()))
    assert table.column_names == ["customer_id", "event_time", "age", "score", "city",
                                  "write_time", "api_invocation_time", "is_deleted"]
    rows = sorted(table.to_pylist(), key=lambda r: r["customer_id"])
    assert [(r["customer_id"], r["age"], r["score"], r["city"], r["is_deleted"]) for r in rows] == [
        ("o1", 1, 1.5, "Lyon", False), ("o2", 2, None, None, False)]
    catalog = desc["OfflineStoreConfig"]["DataCatalogConfig"]
    glue = session.client("glue").get_table(DatabaseName=catalog["Database"], Name=catalog["TableName"])
    assert glue["Table"]["StorageDescriptor"]["Location"] == uri


def test_batch_write_record_reports_bad_entries(runtime, group):
    entries = [{"FeatureGroupName": group, "Record": record("w1", "2024-01-01T00:00:00Z", age=1)},
               {"FeatureGroupName": group, "Record": record("w2", "2024-01-01T00:00:00Z", age="x")},
               {"FeatureGroupName": group, "Record": record("w3", "2024-01-01T00:00:00Z", age=3)}]
    got = runtime.batch_write_record(Entries=entries)
    assert [(e["Entry"]["Record"][0]["ValueAsString"], e["ErrorCode"]) for e in got["Errors"]] == [("w2", "ValidationError")]
    assert got["UnprocessedEntries"] == []
    assert "Record" in runtime.get_record(FeatureGroupName=group, RecordIdentifierValueAsString="w3")
    assert "Record" not in runtime.get_record(FeatureGroupName=group, RecordIdentifierValueAsString="w2")


def test_ttl_expires_after_event_time(runtime, group):
    # TtlDuration counts from the record's event time: an old event is already expired
    runtime.put_record(FeatureGroupName=group, Record=record("old", "2020-01-01T00:00:00Z", age=1),
                       TtlDuration={"Unit": "Days", "Value": 1})
    assert "Record" not in runtime.get_record(FeatureGroupName=group, RecordIdentifierValueAsString="old")
    runtime.put_record(FeatureGroupName=group, Record=record("new", "2999-01-01T00:00:00Z", age=1),
                       TtlDuration={"Unit": "Days", "Value": 1})
    got = runtime.get_record(FeatureGroupName=group, RecordIdentifierValueAsString="new",
                             ExpirationTimeResponse="Enabled")
    assert got["ExpiresAt"] == "2999-01-02T00:00:00Z"

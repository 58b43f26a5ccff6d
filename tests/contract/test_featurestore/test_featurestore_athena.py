"""Athena over the offline store as the SageMaker example notebooks query it (local and
moto; Athena and the runtime are served locally on moto, Glue and S3 by moto).

The notebooks (and the SageMaker SDK's dataset builder) take a snapshot of a feature
group from its offline table: the newest row of each record identifier by event time,
then ``api_invocation_time`` and ``write_time``, without deleted records, optionally as of
an event time (time travel).
"""
import pytest

from aws_ml import features

from .conftest import record
from .test_featurestore_fraud import _athena

SNAPSHOT = """
SELECT customer_id, age, city, is_deleted FROM (
    SELECT *, row_number() OVER (
        PARTITION BY customer_id
        ORDER BY event_time DESC, api_invocation_time DESC, write_time DESC) AS row_num
    FROM "{db}"."{table}"
    WHERE from_iso8601_timestamp(event_time) <= from_iso8601_timestamp('{as_of}'))
WHERE row_num = 1 AND NOT is_deleted
ORDER BY customer_id
"""


@pytest.fixture
def ingested(runtime, group, sm, session):
    puts = [("c1", "2024-01-01T00:00:00Z", 31, "Paris"), ("c2", "2024-01-05T00:00:00Z", 50, "Lyon"),
            ("c1", "2024-03-01T00:00:00Z", 33, "Nice"), ("c1", "2024-02-01T00:00:00Z", 32, "Lille"),
            ("c3", "2024-01-02T00:00:00Z", 70, "Metz")]
    for cid, when, age, city in puts:
        runtime.put_record(FeatureGroupName=group, Record=record(cid, when, age=age, city=city))
    runtime.delete_record(FeatureGroupName=group, RecordIdentifierValueAsString="c3",
                          EventTime="2024-02-10T00:00:00Z")
    assert features.flush(session, group) == 6
    return sm.describe_feature_group(FeatureGroupName=group)["OfflineStoreConfig"]["DataCatalogConfig"]


@pytest.mark.parametrize("as_of, expected", [
    ("2024-12-31T00:00:00Z", [["c1", "33", "Nice"], ["c2", "50", "Lyon"]]),          # c3 deleted
    ("2024-02-15T00:00:00Z", [["c1", "32", "Lille"], ["c2", "50", "Lyon"]]),
    ("2024-02-01T00:00:00Z", [["c1", "32", "Lille"], ["c2", "50", "Lyon"], ["c3", "70", "Metz"]]),
    ("2024-01-03T00:00:00Z", [["c1", "31", "Paris"], ["c3", "70", "Metz"]]),
])
def test_notebook_snapshot_query(session, ingested, bucket, as_of, expected):
    got = _athena(session, SNAPSHOT.format(db=ingested["Database"], table=ingested["TableName"],
                                           as_of=as_of), bucket)
    assert got[["customer_id", "age", "city"]].values.tolist() == expected
    assert set(got["is_deleted"]) <= {"false"}


def test_offline_columns_in_athena(session, ingested, bucket):
    """Every put and the deletion marker are rows; the marker has only its identifier and
    event time; write_time and api_invocation_time are timestamps."""
    got = _athena(session, f'''
        SELECT customer_id, event_time, age, is_deleted,
               year(write_time) AS wy, write_time >= api_invocation_time AS ordered
        FROM "{ingested["Database"]}"."{ingested["TableName"]}"
        ORDER BY customer_id, event_time''', bucket)
    assert len(got) == 6
    marker = got[got["is_deleted"] == "true"]
    assert marker[["customer_id", "event_time"]].values.tolist() == [["c3", "2024-02-10T00:00:00Z"]]
    assert marker["age"].isna().all()
    from datetime import datetime, timezone
    assert set(got["wy"]) == {str(datetime.now(timezone.utc).year)}   # timestamps: year() works
    assert set(got["ordered"]) == {"true"}

"""Point-in-time training sets (``aws_ml.features.point_in_time_join``) on local and moto."""
import pandas as pd
import pytest

from aws_ml import features

from .conftest import record


@pytest.fixture
def history(runtime, group):
    """c1 changes age at Jan 1, Feb 1 and Mar 1; c2 has one value from Feb 15; c3 is
    deleted on Mar 10 after a value on Jan 5."""
    puts = [("c1", "2024-03-01T00:00:00Z", 33), ("c1", "2024-01-01T00:00:00Z", 31),
            ("c2", "2024-02-15T00:00:00Z", 50), ("c1", "2024-02-01T00:00:00Z", 32),
            ("c3", "2024-01-05T00:00:00Z", 70)]
    for cid, when, age in puts:  # ingested out of order on purpose
        runtime.put_record(FeatureGroupName=group, Record=record(cid, when, age=age, score=age / 10))
    runtime.delete_record(FeatureGroupName=group, RecordIdentifierValueAsString="c3",
                          EventTime="2024-03-10T00:00:00Z")
    return group


def test_each_row_sees_only_its_past(session, history):
    entity = pd.DataFrame({
        "customer_id": ["c1", "c1", "c1", "c1", "c2", "c2", "c3", "c3", "zz"],
        "event_time": pd.to_datetime(["2023-12-31", "2024-01-01", "2024-02-10", "2024-06-01",
                                      "2024-02-14", "2024-02-16", "2024-02-01", "2024-04-01",
                                      "2024-05-01"], utc=True),
        "label": range(9),
    })
    out = features.point_in_time_join(session, entity, [("customers", ["age", "score"])])
    assert list(out.columns) == ["customer_id", "event_time", "label", "age", "score"]
    assert list(out["label"]) == list(range(9))  # every entity row, in order
    ages = [None if pd.isna(a) else int(a) for a in out["age"]]
    assert ages == [None, 31, 32, 33, None, 50, 70, None, None]
    assert out["score"].iloc[2] == pytest.approx(3.2)


def test_max_age_and_epoch_timestamps(session, history):
    entity = pd.DataFrame({"customer_id": ["c1", "c1"],
                           "ts": [pd.Timestamp("2024-02-02", tz="UTC").timestamp(),
                                  pd.Timestamp("2024-02-29", tz="UTC").timestamp()]})
    out = features.point_in_time_join(session, entity, ["customers"], event_time_col="ts",
                                      max_age=7 * 86400)
    assert [None if pd.isna(a) else int(a) for a in out["age"]] == [32, None]
    assert {"age", "score", "city"} <= set(out.columns)


def test_training_set_written_to_s3(session, history, bucket):
    entity = pd.DataFrame({"customer_id": ["c1"], "event_time": ["2024-02-10T00:00:00Z"]})
    uri = features.point_in_time_join(session, entity, ["customers"],
                                      output_s3_uri=f"s3://{bucket}/sets/train.parquet")
    assert uri == f"s3://{bucket}/sets/train.parquet"
    import io
    body = session.client("s3").get_object(Bucket=bucket, Key="sets/train.parquet")["Body"].read()
    assert int(pd.read_parquet(io.BytesIO(body))["age"].iloc[0]) == 32


ACTIVITY = [  # (account, epoch event time, logins, score), ingested out of order
    ("acc1", "2024-03-15", 30, 0.3), ("acc1", "2024-01-15", 10, 0.1), ("acc2", "2024-02-01", 7, 0.7),
    ("acc1", "2024-02-15", 20, 0.2)]


@pytest.fixture
def activity(sm, runtime, bucket):
    """A second group keyed by ``account`` with a Fractional (epoch seconds) event time and
    a ``score`` feature whose name clashes with the ``customers`` group's."""
    sm.create_feature_group(
        FeatureGroupName="activity", RecordIdentifierFeatureName="account",
        EventTimeFeatureName="at", FeatureDefinitions=[
            {"FeatureName": "account", "FeatureType": "String"},
            {"FeatureName": "at", "FeatureType": "Fractional"},
            {"FeatureName": "logins", "FeatureType": "Integral"},
            {"FeatureName": "score", "FeatureType": "Fractional"}],
        OnlineStoreConfig={"EnableOnlineStore": True},
        OfflineStoreConfig={"S3StorageConfig": {"S3Uri": f"s3://{bucket}/offline"}},
        RoleArn="arn:aws:iam::123456789012:role/r")
    for account, day, logins, score in ACTIVITY:
        runtime.put_record(FeatureGroupName="activity", Record=[
            {"FeatureName": "account", "ValueAsString": account},
            {"FeatureName": "at", "ValueAsString": repr(pd.Timestamp(day, tz="UTC").timestamp())},
            {"FeatureName": "logins", "ValueAsString": str(logins)},
            {"FeatureName": "score", "ValueAsString": str(score)}])
    return "activity"


def _as_of(history: list[tuple[str, float, object]], key: str, ts: float):
    """The value of ``key`` known at ``ts`` (brute force: the newest event at or before it)."""
    known = [(t, v) for k, t, v in history if k == key and t <= ts]
    return max(known)[1] if known else None


def test_several_groups_each_row_sees_only_its_past(session, history, activity):
    """Two groups with different identifiers, event-time types and histories joined to one
    entity table: every row gets, from each group, the value of its own time (never one
    from its future), checked against a brute-force as-of lookup."""
    times = ["2024-01-10", "2024-01-15", "2024-02-10", "2024-02-20", "2024-03-05", "2024-04-01",
             "2024-02-01", "2024-01-31T23:59:59"]
    entity = pd.DataFrame({
        "customer_id": ["c1"] * 6 + ["c2", "c1"],
        "acct": ["acc1"] * 6 + ["acc2", "acc2"],
        "event_time": pd.to_datetime(times, utc=True, format="ISO8601"),
        "label": range(8)})
    out = features.point_in_time_join(session, entity, [
        ("customers", ["age", "score"]),
        {"name": "activity", "features": ["logins", "score"], "join_key": "acct"}])
    assert list(out.columns) == ["customer_id", "acct", "event_time", "label", "age", "score",
                                 "logins", "activity__score"]
    ts = [t.timestamp() for t in entity["event_time"]]
    ages = [("c1", "2024-01-01", 31), ("c1", "2024-02-01", 32), ("c1", "2024-03-01", 33),
            ("c2", "2024-02-15", 50)]
    age_hist = [(k, pd.Timestamp(d, tz="UTC").timestamp(), v) for k, d, v in ages]
    login_hist = [(k, pd.Timestamp(d, tz="UTC").timestamp(), v) for k, d, v, _ in ACTIVITY]
    expected_age = [_as_of(age_hist, c, t) for c, t in zip(entity["customer_id"], ts)]
    expected_logins = [_as_of(login_hist, a, t) for a, t in zip(entity["acct"], ts)]
    got_age = [None if pd.isna(v) else int(v) for v in out["age"]]
    got_logins = [None if pd.isna(v) else int(v) for v in out["logins"]]
    assert got_age == expected_age == [31, 31, 32, 32, 33, 33, None, 31]
    assert got_logins == expected_logins == [None, 10, 10, 20, 20, 30, 7, None]
    assert out["activity__score"].tolist()[:6] == pytest.approx([float("nan"), 0.1, 0.1, 0.2, 0.2, 0.3],
                                                                nan_ok=True)
    assert out["label"].tolist() == list(range(8))

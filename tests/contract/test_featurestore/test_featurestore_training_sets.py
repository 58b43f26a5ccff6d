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

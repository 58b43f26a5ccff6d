"""``aws_ml.features.ingest`` on the local runtime: batches over threads, a progress bar,
a report of the rows that failed (the others still go in), both write paths."""
from __future__ import annotations

import pandas as pd
import pytest

from aws_ml import Session, features


@pytest.fixture
def s(home):
    with Session(backend="local", home=home, region="us-east-1") as session:
        session.client("s3").create_bucket(Bucket="ingest-tests")
        yield session


def _frame(n: int) -> pd.DataFrame:
    return pd.DataFrame({"id": range(n), "t": pd.Timestamp("2024-01-01", tz="UTC").timestamp() + pd.Series(range(n)) * 60.0,
                         "amount": [i * 1.5 for i in range(n)], "kind": ["a", "b"] * (n // 2)})


@pytest.mark.parametrize("batch_write", [True, False], ids=["BatchWriteRecord", "PutRecord"])
def test_threads_report_failed_rows_and_write_the_others(s, capsys, batch_write):
    df = _frame(60).set_index(pd.Index([f"row{i}" for i in range(60)]))
    features.create_feature_group(s, "ingested", df, "id", "t", bucket="ingest-tests")
    bad = df.astype({"t": object})
    bad.loc["row13", "t"] = "yesterday"     # not an event time
    bad.loc["row41", "t"] = "2024-13-01"
    report = features.ingest(s, "ingested", bad, max_workers=3, batch_size=7, progress=True,
                             batch_write=batch_write)
    assert report.total == 60 and report.succeeded == 58 and not report.ok
    assert [label for label, _ in report.failed] == ["row13", "row41"]   # index labels, in order
    assert all(msg.startswith("ValidationError: ") for _, msg in report.failed)
    assert report.flushed == 58                     # the offline store got the same 58 rows
    assert "ingest ingested" in capsys.readouterr().out   # the progress bar was shown
    rt = s.client("sagemaker-featurestore-runtime")
    assert "Record" not in rt.get_record(FeatureGroupName="ingested", RecordIdentifierValueAsString="13")
    got = rt.get_record(FeatureGroupName="ingested", RecordIdentifierValueAsString="40")["Record"]
    assert {f["FeatureName"]: f["ValueAsString"] for f in got}["amount"] == "60.0"


def test_every_row_once_over_many_batches(s):
    df = _frame(1000)
    features.create_feature_group(s, "many", df, "id", "t", bucket="ingest-tests")
    report = features.ingest(s, "many", df, max_workers=4, batch_size=37, progress=False)
    assert report.ok and report.succeeded == 1000 and report.flushed == 1000
    rt = s.client("sagemaker-featurestore-runtime")
    ids = [str(i) for i in range(1000)]
    found = sum(len(rt.batch_get_record(Identifiers=[{"FeatureGroupName": "many",
                                                      "RecordIdentifiersValueAsString": ids[lo:lo + 100]}])["Records"])
                for lo in range(0, 1000, 100))
    assert found == 1000


def test_unknown_column_refused_before_anything_is_written(s):
    df = _frame(4)
    features.create_feature_group(s, "strict", df, "id", "t", bucket="ingest-tests")
    with pytest.raises(ValueError, match="not a feature"):
        features.ingest(s, "strict", df.assign(extra=1), progress=False)
    assert features.flush(s, "strict") == 0

"""The local Feature Store under several processes: no record lost, newest event wins."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from aws_ml import Session, features

ROOT = Path(__file__).resolve().parents[2]
DEFS = [{"FeatureName": "id", "FeatureType": "Integral"},
        {"FeatureName": "t", "FeatureType": "Fractional"},
        {"FeatureName": "writer", "FeatureType": "Integral"}]

CHILD = """
import sys
from aws_ml import Session
home, writer, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rt = Session(backend="local", home=home).client("sagemaker-featurestore-runtime")
for i in range(n):
    # ids 0..n-1 are shared by every writer: writer w's event time is w, so writer 3 wins
    rt.put_record(FeatureGroupName="shared", Record=[
        {"FeatureName": "id", "ValueAsString": str(i)},
        {"FeatureName": "t", "ValueAsString": str(float(writer))},
        {"FeatureName": "writer", "ValueAsString": str(writer)}])
    # and one id of its own
    rt.put_record(FeatureGroupName="shared", Record=[
        {"FeatureName": "id", "ValueAsString": str(100000 * (writer + 1) + i)},
        {"FeatureName": "t", "ValueAsString": "1.0"},
        {"FeatureName": "writer", "ValueAsString": str(writer)}])
"""


@pytest.mark.slow
def test_four_processes_lose_no_record(home):
    n = 150
    with Session(backend="local", home=home) as s:
        s.client("s3").create_bucket(Bucket="concurrency")
        s.client("sagemaker").create_feature_group(
            FeatureGroupName="shared", RecordIdentifierFeatureName="id", EventTimeFeatureName="t",
            FeatureDefinitions=DEFS, OnlineStoreConfig={"EnableOnlineStore": True},
            OfflineStoreConfig={"S3StorageConfig": {"S3Uri": "s3://concurrency/fs"}},
            RoleArn="arn:aws:iam::123456789012:role/r")
        procs = [subprocess.Popen([sys.executable, "-c", CHILD, str(home), str(w), str(n)], cwd=ROOT)
                 for w in range(4)]
        assert [p.wait(timeout=300) for p in procs] == [0, 0, 0, 0]

        rt = s.client("sagemaker-featurestore-runtime")
        for i in range(0, n, 7):
            rec = {f["FeatureName"]: f["ValueAsString"] for f in
                   rt.get_record(FeatureGroupName="shared", RecordIdentifierValueAsString=str(i))["Record"]}
            assert rec["writer"] == "3"
        own = [str(100000 * (w + 1) + i) for w in range(4) for i in range(n)]
        found = 0
        for lo in range(0, len(own), 100):
            got = rt.batch_get_record(Identifiers=[{"FeatureGroupName": "shared",
                                                    "RecordIdentifiersValueAsString": own[lo:lo + 100]}])
            found += len(got["Records"])
        assert found == 4 * n

        assert features.flush(s, "shared") == 4 * 2 * n
        desc = s.client("sagemaker").describe_feature_group(FeatureGroupName="shared")
        uri = desc["OfflineStoreConfig"]["S3StorageConfig"]["ResolvedOutputS3Uri"]
        bucket, prefix = uri[5:].split("/", 1)
        s3 = s.client("s3")
        backend = s.router.backend("s3", s.region)
        rows = 0
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            for obj in page.get("Contents", []):
                rows += pq.read_metadata(backend.object_path(bucket, obj["Key"])).num_rows
        assert rows == 4 * 2 * n


def test_ingest_with_worker_processes_reports_failures(home):
    import pandas as pd
    with Session(backend="local", home=home) as s:
        s.client("s3").create_bucket(Bucket="procs")
        df = pd.DataFrame({"id": range(40), "t": 5.0, "x": ["a"] * 40})
        features.create_feature_group(s, "procs", df, "id", "t", bucket="procs")
        bad = df.assign(t=df["t"].astype(object))
        bad.loc[7, "t"] = "not-a-time"
        report = features.ingest(s, "procs", bad, max_processes=2, batch_size=10, progress=False)
        assert report.succeeded == 39
        assert [label for label, _ in report.failed] == [7]
        assert report.failed[0][1].startswith("ValidationError")
        assert report.flushed == 39

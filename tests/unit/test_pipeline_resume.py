"""A run killed mid-step (``kill -9``) and run again finishes correctly, redoes only the
step that was cut short (and what follows), and leaves no duplicated resource."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from aws_ml import Session
from aws_ml.pipeline import run

from .pipeline_support import changed, counting_registry, prerun, prerun_template, write_pipeline  # noqa: F401

ROOT = Path(__file__).resolve().parents[2]

# The child runs the pipeline with an ingestion that stops half way (after the feature
# group was created and half the rows were put) and waits there to be killed.
CHILD = """
import sys, time
from pathlib import Path
import aws_ml.features as features
real_ingest = features.ingest
def half_then_hang(session, group, df, **kw):
    real_ingest(session, group, df.iloc[: len(df) // 2], **kw)
    Path(sys.argv[3]).write_text("half ingested")
    time.sleep(300)
features.ingest = half_then_hang
from aws_ml import Session
from aws_ml.pipeline import run
with Session(backend="local", home=sys.argv[2], region="us-east-1") as session:
    run(sys.argv[1], session, progress=False)
"""


def test_killed_run_resumes_without_duplicates(prerun, tmp_path):
    folder, spec = prerun
    home = folder / "home"
    spec = changed(spec, "features.feature_group", "{name}-resumed")
    path = write_pipeline(folder, spec)
    marker = tmp_path / "marker"
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(path), str(home), str(marker)], cwd=ROOT,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 120
        while not marker.exists():
            assert child.poll() is None, child.stdout.read().decode()
            assert time.monotonic() < deadline, "the child never reached the ingestion"
            time.sleep(0.05)
        os.kill(child.pid, signal.SIGKILL)
        assert child.wait(timeout=30) == -signal.SIGKILL
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    store = home / "pipelines" / "fraud-small"
    records = {p.parent.name: len(list(p.parent.glob("*.json"))) for p in (store / "steps").rglob("*.json")}
    assert records == {"problem": 1, "data": 1, "evaluation": 1, "features": 1}   # the template's only

    import pandas as pd
    last_id = str(pd.read_csv(folder / "data" / "claims.csv")["policy_id"].iloc[-1])
    with Session(backend="local", home=home, region="us-east-1") as session:
        runtime = session.client("sagemaker-featurestore-runtime")
        assert "Record" not in runtime.get_record(FeatureGroupName="fraud-small-resumed",
                                                  RecordIdentifierValueAsString=last_id)   # cut half way

    registry, counts = counting_registry()
    with Session(backend="local", home=home, region="us-east-1") as session:
        result = run(path, session, progress=False, registry=registry)
        assert result.ok and result.executed == ["features"] and dict(counts) == {"features": 1}
        sm = session.client("sagemaker")
        names = sorted(g["FeatureGroupName"] for g in sm.list_feature_groups()["FeatureGroupSummaries"])
        assert names == ["fraud-small-features", "fraud-small-resumed"]            # one each, none duplicated
        features = result.step("features").outputs
        assert sum(features["rows"].values()) == features["ingested"] == 600
        runtime = session.client("sagemaker-featurestore-runtime")
        last = runtime.get_record(FeatureGroupName="fraud-small-resumed", RecordIdentifierValueAsString=last_id)
        assert last.get("Record")                                                 # the second half is in
        s3 = session.client("s3")
        keys = [o["Key"] for page in s3.get_paginator("list_objects_v2").paginate(
            Bucket=result.bucket, Prefix=result.prefix + "/features/") for o in page.get("Contents", [])]
        assert len(keys) == len(set(keys)) == 7
    records = {p.parent.name: len(list(p.parent.glob("*.json"))) for p in (store / "steps").rglob("*.json")}
    assert records == {"problem": 1, "data": 1, "evaluation": 1, "features": 2}

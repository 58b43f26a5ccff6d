"""The fraud pipeline file — all eight sections, small budgets — on ``--backend moto``,
in-process (``mock_aws``) and against a moto server: the same sections complete, the
endpoint answers real predictions (moto records SageMaker's calls; the session runs the
training jobs and the model server locally and puts their outputs where AWS would), and
the run's state lives in S3 (moto's), so an unchanged re-run recomputes nothing."""
from __future__ import annotations

from pathlib import Path

import pytest

from aws_ml import Session, serving
from aws_ml.pipeline import run

from .pipeline_support import small_pipeline, write_pipeline

pytestmark = pytest.mark.slow

ENDPOINT = "fraud-small-endpoint"
SECTIONS = ["problem", "data", "evaluation", "features", "training", "deployment", "monitoring", "tuning"]


def full_pipeline(folder: Path) -> Path:
    """The small fraud pipeline with training, deployment, monitoring and tuning, kept small."""
    spec = small_pipeline(folder, training={"hyperparameters": {"num_round": 20, "max_depth": 3, "eta": 0.3}},
                          deployment={"endpoint_name": ENDPOINT}, monitoring={"requests": 50},
                          tuning={"strategy": "random", "max_jobs": 2, "max_parallel_jobs": 2,
                                  "ranges": {"max_depth": [2, 4]}})
    return write_pipeline(folder, spec)


def run_and_probe(session, path: Path) -> dict:
    """Run the pipeline, then once more unchanged; what both runs did and what the endpoint answers."""
    try:
        first = run(path, session, progress=False)
        failed = {s.name: s.message for s in first.steps if s.status == "failed"}
        again = run(path, session, progress=False) if first.ok else None
        probe = None
        if first.ok:
            width = first.step("features").outputs["features_out"]
            rows = "\n".join([",".join(["0"] * width), ",".join(["1"] * width)]).encode()
            answer = session.client("sagemaker-runtime").invoke_endpoint(
                EndpointName=ENDPOINT, Body=rows, ContentType="text/csv")["Body"].read().decode()
            probe = [float(v) for v in answer.replace("\n", ",").split(",") if v.strip()]
        return {"statuses": {s.name: s.status for s in first.steps}, "failed": failed,
                "again": again.executed if again else None, "probe": probe,
                "report": first.report_html, "state": first.state,
                "features_out": first.step("features").outputs.get("features_out"),
                "monitoring": first.step("monitoring").outputs if first.ok else None,
                "training": first.step("training").outputs if first.ok else None}
    finally:
        serving.flush(session)        # the probe's capture and metrics, while the session still serves them
        for e in session.client("sagemaker").list_endpoints()["Endpoints"]:
            serving.delete(session, e["EndpointName"])


def check(result: dict) -> None:
    assert result["failed"] == {}, result["failed"]
    assert result["statuses"] == {name: "done" for name in SECTIONS}
    assert result["again"] == []                                  # the state in moto's S3 is found again
    assert result["state"].startswith("s3://") and result["report"].startswith("s3://")
    assert len(result["probe"]) == 2 and all(0.0 <= p <= 1.0 for p in result["probe"])
    assert result["probe"][0] != result["probe"][1]              # a model, not a constant
    m = result["monitoring"]
    assert m["evaluated"] and m["n"] > 0 and 0.0 <= m["metrics"]["roc_auc"] <= 1.0
    assert m["cloudwatch"]["alarms"]
    assert result["training"]["model_data"].startswith("s3://") and "validation:auc" in result["training"]["metrics"]


@pytest.fixture(scope="module")
def in_process(tmp_path_factory):
    folder = tmp_path_factory.mktemp("moto-in-process")
    with Session(backend="moto", home=folder / "home", region="us-east-1") as session:
        assert session.backend_for("sagemaker") == "moto" and session.backend_for("s3") == "moto"
        yield run_and_probe(session, full_pipeline(folder))
    from local_backends.s3.presign import stop_server
    stop_server(folder / "home")


def test_pipeline_on_moto_in_process(in_process):
    check(in_process)


@pytest.mark.server
def test_pipeline_against_a_moto_server_matches_in_process(in_process, tmp_path):
    with Session(backend="moto", home=tmp_path / "home", region="us-east-1", server=True) as session:
        assert session.endpoint_url.startswith("http://127.0.0.1:")
        result = run_and_probe(session, full_pipeline(tmp_path))
    from local_backends.s3.presign import stop_server
    stop_server(tmp_path / "home")
    check(result)
    assert result["statuses"] == in_process["statuses"]
    assert result["features_out"] == in_process["features_out"]
    assert result["probe"] == pytest.approx(in_process["probe"])          # the same model, the same answers
    assert result["monitoring"]["metrics"] == pytest.approx(in_process["monitoring"]["metrics"])

"""`aws-ml endpoints ...` and `aws-ml jobs ...` on local state."""
from __future__ import annotations

import io
import json
import tarfile

import pytest
from typer.testing import CliRunner

from aws_ml import Session, datasets, serving
from aws_ml.cli import app
from tests.contract.test_sagemaker.test_sagemaker_training_support import (put_sklearn_inputs, sklearn_request,
                                                                          wait_done)

pytest.importorskip("sklearn")
NUMERIC = ["num_vehicles_involved", "num_injuries", "injury_claim", "total_claim_amount"]


def cli(home, *args):
    return CliRunner().invoke(app, ["--home", str(home), *args])


def _model_tar() -> bytes:
    import joblib
    from sklearn.linear_model import LogisticRegression

    claims = datasets.load("fraud/claims")
    raw, buf = io.BytesIO(), io.BytesIO()
    joblib.dump(LogisticRegression(max_iter=500).fit(claims[NUMERIC], claims["fraud"]), raw)
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        info = tarfile.TarInfo("model.joblib")
        info.size = len(raw.getvalue())
        tar.addfile(info, io.BytesIO(raw.getvalue()))
    return buf.getvalue()


def test_endpoints_commands(home):
    with Session(backend="local", home=home) as s:
        s.client("s3").create_bucket(Bucket="cli-models")
        s.client("s3").put_object(Bucket="cli-models", Key="m.tar.gz", Body=_model_tar())
        name = serving.deploy(s, "s3://cli-models/m.tar.gz", name="cli-endpoint")
        try:
            listed = cli(home, "--output", "json", "endpoints", "list")
            assert listed.exit_code == 0, listed.output
            (row,) = json.loads(listed.stdout)
            assert row["name"] == name and row["status"] == "InService" and row["url"].startswith("http://127.0.0.1:")
            url = cli(home, "endpoints", "url", name)
            assert url.stdout.strip() == row["url"]
            answer = cli(home, "endpoints", "invoke", name, "2,0,1000,20000")
            assert answer.exit_code == 0 and json.loads(answer.stdout) in ([0], [1])
            logs = cli(home, "endpoints", "logs", name)
            assert logs.exit_code == 0 and "model server ready" in logs.stdout
        finally:
            serving.delete(s, name)


def test_jobs_commands(home):
    with Session(backend="local", home=home) as s:
        put_sklearn_inputs(s.client("s3"), rows=400)
        sm = s.client("sagemaker")
        sm.create_training_job(**sklearn_request("cli-job"))
        wait_done(sm, "cli-job")
    listed = cli(home, "--output", "json", "jobs", "list", "training")
    assert listed.exit_code == 0, listed.output
    assert [(j["name"], j["status"]) for j in json.loads(listed.stdout)] == [("cli-job", "Completed")]
    described = cli(home, "jobs", "describe", "training", "cli-job")
    assert json.loads(described.stdout)["TrainingJobStatus"] == "Completed"
    logs = cli(home, "jobs", "logs", "training", "cli-job")
    assert logs.exit_code == 0 and logs.stdout.strip()
    assert json.loads(cli(home, "--output", "json", "jobs", "list", "labeling").stdout) == []
    bad = cli(home, "jobs", "list", "quantum")
    assert bad.exit_code == 2 and "must be one of" in bad.output

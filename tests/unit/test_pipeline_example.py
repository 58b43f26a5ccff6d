"""The bundled fraud pipeline, end to end on ``local``: every section runs (training,
endpoint and tuning included), the re-run recomputes nothing, the report answers every
section. Slow (real training and tuning jobs, a model server): ``-m slow``."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from aws_ml import Session, serving
from aws_ml.pipeline import example_path, run

from .pipeline_support import counting_registry

pytestmark = pytest.mark.slow


def test_fraud_example_end_to_end(home):
    with Session(backend="local", home=home, region="us-east-1") as session:
        try:
            first = run(example_path(), session, progress=False)
            failed = [(s.name, s.message) for s in first.steps if s.status not in ("done",)]
            assert failed == [] and first.ok
            registry, counts = counting_registry()
            again = run(example_path(), session, progress=False, registry=registry)
            assert again.executed == [] and sum(counts.values()) == 0
            deployed = again.step("deployment").outputs
            width = again.step("features").outputs["features_out"]
            answer = session.client("sagemaker-runtime").invoke_endpoint(
                EndpointName=deployed["endpoint_name"], Body=",".join(["0"] * width).encode(),
                ContentType="text/csv")
            assert 0.0 <= float(answer["Body"].read()) <= 1.0
        finally:
            for e in session.client("sagemaker").list_endpoints()["Endpoints"]:
                serving.delete(session, e["EndpointName"])
    report = json.loads(Path(again.report_json).read_text())
    assert [s["section"] for s in report["sections"]] == list(range(1, 9))
    answers = [a["answer"] for s in report["sections"] for a in s["answers"]]
    assert len(answers) == 3 + 4 * 6 + 3 and not any(a.startswith("Not answered") for a in answers)
    balance = report["sections"][2]["answers"][2]["answer"]
    assert balance.startswith("No: 164 rows with fraud = 1 in 5,000 (3.3%)")

"""Every script in ``examples/`` runs as a user runs it — ``python examples/<name>.py`` in a
fresh working directory, with a fresh ``AWS_ML_HOME`` — exits 0 and prints what it should.
A script added later without an entry in ``EXPECTED`` still runs here (exit 0 and some
output); give it an entry to check what it prints. Slow: real training jobs, endpoints,
labelling jobs (``-m slow``)."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = sorted(p.name for p in (ROOT / "examples").glob("*.py"))

# script -> (regular expressions its stdout must match, files it must leave in its working directory)
EXPECTED: dict[str, tuple[list[str], list[str]]] = {
    "classify_text.py": ([r"training job aws-ml-train-\S+: Completed, validation accuracy 0\.[6-9]\d\d \(majority class: 0\.500\)",
                          r"^POSITIVE \d\.\d\d  A wonderful film", r"^NEGATIVE \d\.\d\d  Boring"], []),
    "quickstart.py": ([r"b'hello'", r"NoSuchKey, as on AWS", r"\['raw/hello\.txt'\]", r"^Latency$"], []),
    "evaluate_fraud.py": ([r"5,000 rows × 18 columns, target 'fraud' \(binary\)", r"164 of 5,000 rows \(3\.3%\)",
                           r"From Athena:", r"Pre-training bias, facet customer_gender", r"Dashboard: evaluation/index\.html"],
                          ["evaluation/index.html"]),
    "evaluate_model.py": ([r"Model evaluation · fraud-logistic: binary", r"roc_auc\s+0\.\d+\s+baselines: majority 0\.5",
                           r"baseline of [\d,]+ rows written to s3://", r"normal traffic: [\d,]+ captured rows",
                           r"after shifted traffic: .* [1-9]\d* violation", r"report: model_evaluation/report\.html"],
                          ["model_evaluation/report.html"]),
    "label_reviews.py": ([r"collected 200 review sentences", r"labeling job reviews-sentiment: Completed",
                          r"'TotalLabeled': 200", r"consolidated labels: \d+\.\d% accurate",
                          r"private\.simulated-2: \d+\.\d% accurate", r"languages: \{'en': \d+",
                          r"report: reviews_text_insight\.html"], ["reviews_text_insight.html"]),
    "regression.py": ([r"^section 1 Problem formulation: done$", r"^section 8 Model tuning[^:]*: done$",
                       r"training job diabetes-progression-train-\w+: validation rmse \d+\.\d \(predicting the mean: \d+\.\d\)",
                       r"endpoint diabetes-progression-endpoint: test rmse \d+\.\d on \d+ rows, within the threshold 65",
                       r"tuning job \S+: best validation rmse \d+\.\d", r"report: .*report\.html$"], []),
}


def _processes_mentioning(text: str) -> list[tuple[int, str]]:
    """Processes whose command line names ``text`` (a test's state root)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if text in cmd:
            found.append((int(entry.name), cmd[:200]))
    return found


def _cleanup(home: Path) -> None:
    """Delete what a script left running on purpose (endpoints outlive their caller, as on
    AWS; the S3 presign server serves the state root)."""
    if not home.exists():
        return
    from aws_ml import Session, serving
    from local_backends.s3.presign import stop_server

    with Session(backend="local", home=home, region="us-east-1") as session:
        for e in session.client("sagemaker").list_endpoints()["Endpoints"]:
            serving.delete(session, e["EndpointName"])
    stop_server(home)


@pytest.mark.slow
@pytest.mark.parametrize("script", SCRIPTS)
def test_example_runs(script, tmp_path):
    home, work = tmp_path / "home", tmp_path / "work"
    work.mkdir()
    env = {**os.environ, "AWS_ML_HOME": str(home), "AWS_DEFAULT_REGION": "us-east-1"}
    env.pop("AWS_ML_BACKEND", None)
    try:
        res = subprocess.run([sys.executable, str(ROOT / "examples" / script)], cwd=work, env=env,
                             capture_output=True, text=True, timeout=600)
    finally:
        _cleanup(home)
    assert res.returncode == 0, f"{script} exited {res.returncode}:\n{res.stderr[-3000:]}"
    assert "Traceback" not in res.stderr
    patterns, files = EXPECTED.get(script, ([r"\S"], []))
    missing = [p for p in patterns if not re.search(p, res.stdout, re.M)]
    assert not missing, f"{script} did not print {missing}:\n{res.stdout[-3000:]}"
    for name in files:
        assert (work / name).stat().st_size > 0, f"{script} did not write {name}"
    assert _processes_mentioning(str(tmp_path)) == [], "processes left running"


def test_every_expectation_names_an_example():
    assert set(EXPECTED) <= set(SCRIPTS), set(EXPECTED) - set(SCRIPTS)

"""``aws-ml label list | serve`` and ``aws-ml dashboard``, through typer's test runner and as
``python -m aws_ml`` subprocesses (the portal and the dashboard server are real HTTP
servers, started by the command, read with urllib, stopped with SIGINT)."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from typer.testing import CliRunner

from aws_ml import Session
from aws_ml.cli import app
from aws_ml.evaluation.sources import run_athena
from local_backends.sagemaker.labeling import local_labeling
from tests.contract.test_sagemaker.test_sagemaker_labeling_support import (BUCKET, REGION, SENTIMENTS, create_team,
                                                                          job_request, put_labels, put_text_manifest)

from .pipeline_support import small_pipeline, write_pipeline

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def labelled_home(home):
    """A state root with one text-classification job and one human worker in its team."""
    with Session(backend="local", home=home, region=REGION) as session:
        s3, sm = session.client("s3"), session.client("sagemaker")
        s3.create_bucket(Bucket=BUCKET)
        team = create_team(sm)
        worker = local_labeling(session).add_worker("labelers", "Grace Hopper", "grace@example.com")
        rows = [{"source": "A wonderful little film"}, {"source": "Dull from start to end"}]
        sm.create_labeling_job(**job_request(s3, "cli-text", "TextMultiClass", team, put_text_manifest(s3, rows),
                                             put_labels(s3, SENTIMENTS)))
        subdomain = sm.describe_workteam(WorkteamName="labelers")["Workteam"]["SubDomain"]
    return home, worker, subdomain


def invoke(home: Path, *args: str):
    return CliRunner().invoke(app, ["--home", str(home), "--region", REGION, *args])


def spawn(home: Path, *args: str) -> subprocess.Popen:
    env = {**os.environ, "AWS_ML_HOME": str(home), "AWS_DEFAULT_REGION": REGION, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen([sys.executable, "-m", "aws_ml", *args], cwd=ROOT, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url: str) -> tuple[int, str]:
    with urllib.request.urlopen(url, timeout=10) as resp:
        return resp.status, resp.read().decode()


def interrupt(proc: subprocess.Popen) -> tuple[str, str]:
    """SIGINT, as Ctrl-C sends it; the command must end by itself."""
    proc.send_signal(signal.SIGINT)
    try:
        out, err = proc.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise AssertionError("the command did not stop on SIGINT")
    return out, err


def refused(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


# -- label --------------------------------------------------------------------------------
def test_label_list_shows_the_jobs(labelled_home):
    home, _, _ = labelled_home
    result = invoke(home, "--output", "json", "label", "list")
    assert result.exit_code == 0, result.output
    (job,) = json.loads(result.stdout)
    assert job["name"] == "cli-text" and job["workteam"] == "labelers"
    assert job["status"] in ("Initializing", "InProgress") and job["labeled"] + job["unlabeled"] in (0, 2)
    table = invoke(home, "label", "list")
    assert table.exit_code == 0 and "cli-text" in table.stdout and "labeling jobs" in table.stdout


def test_label_serve_unknown_job_is_the_aws_error(labelled_home):
    home, _, _ = labelled_home
    result = invoke(home, "label", "serve", "--job", "no-such-job")
    assert result.exit_code == 1 and "ResourceNotFound" in str(result.exception)
    proc = subprocess.run([sys.executable, "-m", "aws_ml", "--home", str(home), "label", "serve", "--job", "nope"],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert proc.stderr.strip().count("\n") == 0 and "aws-ml: error:" in proc.stderr and "ResourceNotFound" in proc.stderr


def test_label_serve_on_aws_prints_the_work_team_portal(labelled_home, monkeypatch):
    """Where Ground Truth is AWS's, its portal is AWS's: the command prints the team's
    portal (DescribeWorkteam's SubDomain) and serves nothing."""
    import aws_ml.label_cli as label_cli

    home, _, subdomain = labelled_home
    monkeypatch.setattr(label_cli, "serves_locally", lambda session: False)
    result = invoke(home, "--output", "json", "label", "serve", "--job", "cli-text")
    assert result.exit_code == 0, result.output
    (row,) = json.loads(result.stdout)
    assert row["workteam"] == "labelers" and row["portal"] == f"https://{subdomain}"
    everyone = invoke(home, "--output", "json", "label", "serve")
    assert [r["portal"] for r in json.loads(everyone.stdout)] == [f"https://{subdomain}"]


def test_label_serve_runs_the_portal_until_sigint(labelled_home):
    home, worker, _ = labelled_home
    port = free_port()
    proc = spawn(home, "label", "serve", "--job", "cli-text", "--port", str(port))
    try:
        first = proc.stdout.readline()
        assert first.strip() == f"labeling portal: http://127.0.0.1:{port}", (first, proc.stderr.read())
        link = proc.stdout.readline().strip()
        assert link.startswith("Grace Hopper (labelers): ")
        url = link.split(": ", 1)[1]
        assert url == f"http://127.0.0.1:{port}/workers/{worker}/jobs/{REGION}/cli-text"
        status, page = get(url)                       # the worker's task, in the job's template
        assert status == 200 and "crowd-classifier" in page
        assert "A wonderful little film" in page or "Dull from start to end" in page
        status, index = get(f"http://127.0.0.1:{port}/")
        assert status == 200 and "Grace Hopper" in index
    finally:
        out, err = interrupt(proc)
    assert proc.returncode == 0, err
    assert "Traceback" not in err and "labeling portal stopped" in err
    assert refused(port)


# -- dashboard ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def evaluated(tmp_path_factory):
    """Sections 1–4 of the small fraud pipeline run once: a run with a data-evaluation
    dashboard and no model-evaluation report (no endpoint)."""
    folder = tmp_path_factory.mktemp("dashboard")
    path = write_pipeline(folder, small_pipeline(folder))
    home = folder / "home"
    res = CliRunner().invoke(app, ["--home", str(home), "--quiet", "--output", "json", "run", str(path)])
    assert res.exit_code == 0, res.output
    yield home, path, json.loads(res.stdout)["run_id"]
    from local_backends.s3.presign import stop_server
    stop_server(home)


def test_dashboard_fetches_the_run_dashboards(evaluated):
    home, path, run_id = evaluated
    result = invoke(home, "--output", "json", "dashboard", str(path))
    assert result.exit_code == 0, result.output
    (row,) = json.loads(result.stdout)            # no deployment: no model-evaluation report
    assert row["dashboard"].startswith("data-evaluation dashboard") and row["source"].endswith("index.html")
    file = Path(row["file"])
    assert file.parent == home / "dashboards" / "fraud-small" / run_id
    assert file.read_text().lstrip().lower().startswith("<!doctype html") and "fraud" in file.read_text()
    assert row["url"] == file.resolve().as_uri()
    same = invoke(home, "--output", "json", "dashboard", str(path), "--run", run_id)
    assert json.loads(same.stdout) == json.loads(result.stdout)


def test_dashboard_errors(evaluated, tmp_path):
    home, path, _ = evaluated
    result = invoke(home, "dashboard", str(path), "--run", "19990101T000000000000Z-dead")
    assert result.exit_code == 1 and "has no run 19990101T000000000000Z-dead" in str(result.exception)
    proc = subprocess.run([sys.executable, "-m", "aws_ml", "--home", str(tmp_path / "empty"), "dashboard"],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1 and proc.stderr.strip().count("\n") == 0
    assert "pipeline fraud-detection has no run on backend local" in proc.stderr   # the bundled default
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nproblem: {}\n")
    proc = subprocess.run([sys.executable, "-m", "aws_ml", "--home", str(home), "dashboard", str(bad)],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "bad.yaml" in proc.stderr and "Traceback" not in proc.stderr


def test_dashboard_serve_until_sigint(evaluated):
    home, path, run_id = evaluated
    port = free_port()
    proc = spawn(home, "--output", "json", "dashboard", str(path), "--serve", "--port", str(port))
    try:
        lines = []
        while not (lines and lines[-1].rstrip() == "]"):
            line = proc.stdout.readline()
            assert line, proc.stderr.read()
            lines.append(line)
        (row,) = json.loads("".join(lines))
        assert row["url"] == f"http://127.0.0.1:{port}/data-evaluation.html"
        status, page = get(row["url"])
        assert status == 200 and page == Path(row["file"]).read_text()
    finally:
        out, err = interrupt(proc)
    assert proc.returncode == 0 and "dashboard server stopped" in err and "Traceback" not in err
    assert refused(port)


def _athena(session, sql: str) -> None:
    """Run ``sql`` in the evaluation workgroup (AthenaQueryError unless it SUCCEEDED)."""
    run_athena(session, sql, workgroup="evaluation")


def _stable(page: str) -> str:
    """A rendered page without what changes at every rendering (plotly's random element ids)."""
    import re

    return re.sub(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "ID", page)


def test_dashboard_renders_the_published_quicksight_dashboard_from_live_data(tmp_path):
    """A run whose evaluation published a QuickSight dashboard (the evaluation step wrapped
    to call publish_dashboard over an Athena table of the claims): ``dashboard`` renders it
    again from the table's current rows."""
    pytest.importorskip("plotly")
    from aws_ml.evaluation.quicksight import publish_dashboard
    from aws_ml.pipeline import default_registry, run
    from local_backends.s3.presign import stop_server

    folder, home = tmp_path / "qs", tmp_path / "home"
    path = write_pipeline(folder, small_pipeline(folder))
    claims = folder / "data" / "claims.csv"
    header = claims.read_text().splitlines()[0].split(",")

    def evaluation_with_quicksight(ctx, config, _fn=default_registry().get("evaluation").fn):
        out = _fn(ctx, config)
        session = ctx.session
        session.client("s3").upload_file(str(claims), ctx.bucket, "lake/claims/part-0.csv")
        session.client("athena").create_work_group(Name="evaluation", Configuration={
            "ResultConfiguration": {"OutputLocation": f"s3://{ctx.bucket}/athena/"}})
        cols = ", ".join(f"{c} {'bigint' if c in ('fraud', 'policy_id') else 'string'}" for c in header)
        _athena(session, "CREATE DATABASE IF NOT EXISTS lake")
        _athena(session, f"CREATE EXTERNAL TABLE lake.claims ({cols}) ROW FORMAT DELIMITED FIELDS TERMINATED BY ',' "
                         f"LOCATION 's3://{ctx.bucket}/lake/claims/' TBLPROPERTIES ('skip.header.line.count'='1')")
        out["quicksight"] = publish_dashboard(session, database="lake", table="claims", target="fraud",
                                              workgroup="evaluation")
        return out

    registry = default_registry().replace("evaluation", fn=evaluation_with_quicksight)
    try:
        with Session(backend="local", home=home, region=REGION) as session:
            result = run(path, session, progress=False, registry=registry)
            assert result.ok, [(s.name, s.message) for s in result.steps]
            first = invoke(home, "--output", "json", "dashboard", str(path))
            assert first.exit_code == 0, first.output
            rows = json.loads(first.stdout)
            assert [r["dashboard"].split(" (")[0] for r in rows] == ["data-evaluation dashboard",
                                                                    "QuickSight dashboard evaluation-lake-claims"]
            qs = rows[1]
            assert qs["dashboard"].endswith("rendered from live Athena data") and qs["source"].endswith(
                ":dashboard/evaluation-lake-claims")
            before = _stable(Path(qs["file"]).read_text())
            assert "<html" in before.lower()
            again = invoke(home, "--output", "json", "dashboard", str(path))
            assert _stable(Path(json.loads(again.stdout)[1]["file"]).read_text()) == before   # same data, same page
            # new rows in the table: the next `dashboard` shows them
            frauds = [line for line in claims.read_text().splitlines()[1:] if line.split(",")[header.index("fraud")] == "1"]
            body = "\n".join([",".join(header)] + frauds * 20) + "\n"
            session.client("s3").put_object(Bucket=result.bucket, Key="lake/claims/part-1.csv", Body=body.encode())
        second = invoke(home, "--output", "json", "dashboard", str(path))
        after = _stable(Path(json.loads(second.stdout)[1]["file"]).read_text())
        assert after != before
    finally:
        stop_server(home)

"""``aws-ml pipeline ...`` (the typer sub-app): run, status, report, sections."""
from __future__ import annotations

import json

from typer.testing import CliRunner

from aws_ml.pipeline.cli import app

from .pipeline_support import changed, prerun, prerun_template, small_pipeline, write_pipeline  # noqa: F401


def invoke(*args, home=None):
    """The sub-app as a user calls it (click ≥ 8.2 keeps stderr apart from stdout)."""
    env = {"AWS_ML_HOME": str(home)} if home else {}
    return CliRunner().invoke(app, list(args), env=env)


def test_sections_lists_the_eight_steps():
    result = invoke("sections", "--output", "json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [r["section"] for r in rows] == list(range(1, 9))
    assert [r["name"] for r in rows] == ["problem", "data", "evaluation", "features", "training", "deployment",
                                         "monitoring", "tuning"]
    assert all(isinstance(r["available"], bool) for r in rows)


def test_bad_file_is_one_line_and_exit_code_2(tmp_path):
    path = write_pipeline(tmp_path, changed(small_pipeline(tmp_path), "problem.target", "frod"))
    result = invoke("run", str(path), "--quiet", home=tmp_path / "home")
    assert result.exit_code == 2
    err = result.stderr.strip()
    assert err.count("\n") == 0 and "problem.target: expected a column of the data, got 'frod'" in err
    assert not (tmp_path / "home" / "pipelines").exists()


def test_run_status_report_on_a_cached_pipeline(prerun):
    folder, spec = prerun
    home = folder / "home"
    result = invoke("run", str(folder / "pipeline.yaml"), "--output", "json", home=home)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["ok"] and data["executed"] == [] and data["backend"] == "local"
    status = json.loads(invoke("status", str(folder / "pipeline.yaml"), "--output", "json", home=home).stdout)
    assert status["last_run"]["run_id"] == data["run_id"]
    assert [r["next"] for r in status["next_run"]] == ["cached"] * 4 + ["skipped"] * 4
    text = invoke("status", str(folder / "pipeline.yaml"), "--output", "text", home=home)
    assert text.stdout.splitlines()[0].split("\t")[:3] == ["1", "problem", "cached"]
    edited = write_pipeline(folder, changed(spec, "evaluation.facets", []), "edited.yaml")
    status = json.loads(invoke("status", str(edited), "--output", "json", home=home).stdout)
    assert [r["next"] for r in status["next_run"]][:4] == ["cached", "cached", "run", "cached"]
    report = invoke("report", str(folder / "pipeline.yaml"), home=home)
    assert report.exit_code == 0 and report.stdout.strip() == data["report_html"]
    assert "<h2>1. Problem formulation" in open(data["report_html"], encoding="utf-8").read()

"""The README's examples and the CLI, run as a user runs them."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from aws_ml.cli import app

ROOT = Path(__file__).resolve().parents[2]


def run(args: list[str], home: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "AWS_ML_HOME": str(home)}
    return subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


def test_readme_example_is_the_quickstart_script():
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"```python\n(.*?)```", readme, re.S).group(1)
    assert block.strip() == (ROOT / "examples" / "quickstart.py").read_text().split('"""', 2)[2].strip()


def test_quickstart_runs(home):
    res = run([sys.executable, "examples/quickstart.py"], home)
    assert res.returncode == 0, res.stderr
    assert "b'hello'" in res.stdout and "NoSuchKey, as on AWS" in res.stdout
    assert "['raw/hello.txt']" in res.stdout and "Latency" in res.stdout


def test_cli_demo_runs_the_bundled_pipeline(home, monkeypatch):
    """`aws-ml demo` is `aws-ml run` on the bundled fraud pipeline (which
    tests/unit/test_pipeline_example.py runs end to end)."""
    import aws_ml.pipeline.cli as pipeline_cli
    calls = []
    monkeypatch.setattr(pipeline_cli, "run_command", lambda path, **kw: calls.append((path, kw)))
    result = CliRunner().invoke(app, ["--home", str(home), "--quiet", "demo"])
    assert result.exit_code == 0, result.output
    (path, kw), = calls
    assert path.name == "fraud_pipeline.yaml" and path.exists() and kw["quiet"] is True


def test_cli_errors_are_one_line(home):
    res = run([sys.executable, "-m", "aws_ml", "--backend", "mars", "demo"], home)
    assert res.returncode == 1
    assert "Traceback" not in res.stderr
    assert "aws-ml: error:" in res.stderr and "mars" in res.stderr


def test_cli_home_and_backend_info(home):
    runner = CliRunner()
    result = runner.invoke(app, ["--home", str(home), "--output", "json", "backend", "info", "s3", "ec2"])
    assert result.exit_code == 0, result.output
    rows = {r["service"]: r for r in json.loads(result.stdout)}
    assert rows["s3"]["backend"] == "local" and "operations" in rows["s3"]["local backend"]
    assert "no local backend" in rows["ec2"]["local backend"]
    result = runner.invoke(app, ["--home", str(home), "--output", "json", "home"])
    assert json.loads(result.stdout)["home"] == str(home)


def test_cli_usage_errors_exit_2(home):
    res = run([sys.executable, "-m", "aws_ml", "--output", "xml", "home"], home)
    assert res.returncode == 2 and "Invalid value for '--output'" in res.stderr
    res = run([sys.executable, "-m", "aws_ml", "nosuchcmd"], home)
    assert res.returncode == 2 and "No such command" in res.stderr

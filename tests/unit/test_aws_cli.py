"""`aws-ml aws ...`: the real AWS CLI on local state, run as a user runs it."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from aws_ml import Session

pytest.importorskip("awscli")
ROOT = Path(__file__).resolve().parents[2]


def aws(home: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "AWS_ML_HOME": str(home)}
    return subprocess.run([sys.executable, "-m", "aws_ml", "aws", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


@pytest.fixture
def state(home):
    with Session(backend="local", home=home) as s:
        s3 = s.client("s3")
        s3.create_bucket(Bucket="cli-bucket")
        s3.put_object(Bucket="cli-bucket", Key="data/a.csv", Body=b"x,y\n1,2\n")
        athena = s.client("athena")
        qid = athena.start_query_execution(QueryString="SELECT 42 AS answer, 'yes' AS ok",
                                           ResultConfiguration={"OutputLocation": "s3://cli-bucket/athena/"})[
            "QueryExecutionId"]
        for _ in range(200):
            if athena.get_query_execution(QueryExecutionId=qid)["QueryExecution"]["Status"]["State"] == "SUCCEEDED":
                break
            time.sleep(0.05)
        yield qid


def test_s3_ls(home, state):
    res = aws(home, "s3", "ls")
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip().endswith("cli-bucket")
    res = aws(home, "s3", "ls", "s3://cli-bucket/data/")
    assert res.returncode == 0 and res.stdout.split()[-2:] == ["8", "a.csv"]


def test_sagemaker_list_endpoints(home, state):
    res = aws(home, "sagemaker", "list-endpoints")
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout) == {"Endpoints": []}


def test_athena_get_query_results(home, state):
    res = aws(home, "athena", "get-query-results", "--query-execution-id", state)
    assert res.returncode == 0, res.stderr
    rows = json.loads(res.stdout)["ResultSet"]["Rows"]
    assert rows == [{"Data": [{"VarCharValue": "answer"}, {"VarCharValue": "ok"}]},
                    {"Data": [{"VarCharValue": "42"}, {"VarCharValue": "yes"}]}]


def test_errors_and_exit_codes_are_the_cli_s(home, state):
    res = aws(home, "s3api", "head-object", "--bucket", "cli-bucket", "--key", "missing")
    assert res.returncode == 255 and "(404)" in res.stderr
    res = aws(home, "s3api", "get-object", "--bucket", "cli-bucket", "--key", "missing", str(home / "out"))
    assert res.returncode == 255 and "NoSuchKey" in res.stderr


def test_cp_roundtrip(home, state, tmp_path):
    src = tmp_path / "up.txt"
    src.write_text("hello from the cli")
    assert aws(home, "s3", "cp", str(src), "s3://cli-bucket/up.txt").returncode == 0
    with Session(backend="local", home=home) as s:
        assert s.client("s3").get_object(Bucket="cli-bucket", Key="up.txt")["Body"].read() == b"hello from the cli"

"""``aws-ml infra`` on the local backends (typer's CliRunner): validate, diff, deploy with
progress, outputs, update, destroy, and one-line errors with a non-zero exit code."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from aws_ml import cli, infra_cli

INFRA = Path(__file__).resolve().parents[2] / "infra"
CORE = str(INFRA / "core.yaml")
SMALL = """
Parameters:
  Env: {Type: String, Default: dev}
Resources:
  Logs:
    Type: AWS::Logs::LogGroup
    Properties: {LogGroupName: !Sub "/cli/${Env}", RetentionInDays: 7}
Outputs:
  LogGroupName: {Value: !Ref Logs, Export: {Name: !Sub "${AWS::StackName}-LogGroupName"}}
"""


@pytest.fixture
def run(tmp_path, monkeypatch):
    """Invoke ``aws-ml infra ...`` on a fresh local home."""
    monkeypatch.setattr(cli.state, "backend", "local")
    monkeypatch.setattr(cli.state, "home", tmp_path / "home")
    monkeypatch.setattr(cli.state, "region", "us-east-1")
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(infra_cli.app, list(args), catch_exceptions=False)
    return invoke


@pytest.fixture
def small(tmp_path) -> str:
    path = tmp_path / "small.yaml"
    path.write_text(SMALL)
    return str(path)


def test_validate_lists_parameters_and_capabilities(run):
    result = run("validate", "--template", CORE)
    assert result.exit_code == 0, result.output
    assert "ProjectName" in result.output and "Environment" in result.output
    assert "CAPABILITY_NAMED_IAM" in result.output


def test_validate_rejects_a_broken_template(run, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("Resources:\n  X:\n    Type: AWS::Logs::LogGroup\n    Properties: {LogGroupName: !Ref Nope}\n")
    result = run("validate", "--template", str(bad))
    assert result.exit_code == 1
    assert "Nope" in result.output


def test_deploy_diff_outputs_destroy(run, small):
    result = run("diff", "--stack", "cli", "--template", small)
    assert result.exit_code == 0, result.output
    assert "Add" in result.output and "AWS::Logs::LogGroup" in result.output

    result = run("deploy", "--stack", "cli", "--template", small, "--poll", "0.05")
    assert result.exit_code == 0, result.output
    assert "CREATE_IN_PROGRESS" in result.output and "Logs" in result.output
    assert "cli: CREATE_COMPLETE" in result.output

    result = run("outputs", "--stack", "cli", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {"LogGroupName": "/cli/dev"}

    result = run("diff", "--stack", "cli", "--template", small)
    assert "no changes" in result.output

    result = run("diff", "--stack", "cli", "--template", small, "--parameter", "Env=prod")
    assert result.exit_code == 0, result.output
    assert "Modify" in result.output and "Logs" in result.output

    result = run("deploy", "--stack", "cli", "--template", small, "--parameter", "Env=prod", "--poll", "0.05")
    assert result.exit_code == 0, result.output
    assert "cli: UPDATE_COMPLETE" in result.output
    assert json.loads(run("outputs", "--stack", "cli", "--json").output) == {"LogGroupName": "/cli/prod"}

    result = run("destroy", "--stack", "cli", "--yes", "--poll", "0.05")
    assert result.exit_code == 0, result.output
    assert "DELETE_IN_PROGRESS" in result.output and "cli: DELETE_COMPLETE" in result.output
    result = run("outputs", "--stack", "cli")
    assert result.exit_code == 1 and "does not exist" in result.output


def test_deploy_the_core_template_with_a_parameter(run):
    result = run("deploy", "--stack", "core", "--template", CORE, "--parameter", "Environment=prod",
                 "--poll", "0.05")
    assert result.exit_code == 0, result.output
    assert "SageMakerExecutionRole" in result.output and "core: CREATE_COMPLETE" in result.output
    out = json.loads(run("outputs", "--stack", "core", "--json").output)
    assert out["Environment"] == "prod" and out["GlueDatabaseName"] == "aws_ml_prod"


def test_bad_parameter_and_failed_stack(run, small, tmp_path):
    result = run("deploy", "--stack", "cli", "--template", small, "--parameter", "oops")
    assert result.exit_code == 2 and "Key=Value" in result.output
    result = run("deploy", "--stack", "cli", "--template", small, "--parameter", "Nope=1")
    assert result.exit_code == 1 and "Nope" in result.output
    failing = tmp_path / "failing.yaml"
    failing.write_text("Resources:\n  G:\n    Type: AWS::Logs::LogGroup\n"
                       "    Properties: {LogGroupName: /x, RetentionInDays: 8}\n")
    result = run("deploy", "--stack", "bad", "--template", str(failing), "--poll", "0.05")
    assert result.exit_code == 1
    assert "CREATE_FAILED" in result.output and "ROLLBACK_COMPLETE" in result.output


def test_destroy_empties_the_buckets_it_deletes_when_asked(run, tmp_path):
    """CloudFormation cannot delete a bucket holding objects (DELETE_FAILED, as on AWS);
    ``--empty-buckets`` deletes the object versions of the buckets the stack deletes, and
    leaves the retained data bucket, and its objects, alone."""
    from aws_ml import Session

    assert run("deploy", "--stack", "core", "--template", CORE, "--poll", "0.05").exit_code == 0
    out = json.loads(run("outputs", "--stack", "core", "--json").output)
    with Session(backend="local", home=tmp_path / "home", region="us-east-1") as session:
        s3 = session.client("s3")
        for bucket in (out["AthenaResultsBucketName"], out["DataBucketName"]):
            s3.put_object(Bucket=bucket, Key="results/q1.csv", Body=b"a,b\n1,2\n")
            s3.put_object(Bucket=bucket, Key="results/q1.csv", Body=b"a,b\n3,4\n")   # two versions if versioned
        failed = run("destroy", "--stack", "core", "--yes", "--poll", "0.05")
        assert failed.exit_code == 1 and "DELETE_FAILED" in failed.output
        done = run("destroy", "--stack", "core", "--yes", "--poll", "0.05", "--empty-buckets")
        assert done.exit_code == 0, done.output
        assert f"emptied s3://{out['AthenaResultsBucketName']}" in done.output
        assert f"emptied s3://{out['DataBucketName']}" not in done.output
        names = [b["Name"] for b in s3.list_buckets()["Buckets"]]
        assert out["AthenaResultsBucketName"] not in names and out["DataBucketName"] in names
        assert s3.get_object(Bucket=out["DataBucketName"], Key="results/q1.csv")["Body"].read() == b"a,b\n3,4\n"

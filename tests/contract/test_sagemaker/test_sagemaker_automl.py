"""Autopilot (AutoML V2, tabular) jobs through boto3, on the local backend and on moto.

Moto records an AutoML job with a fixed placeholder ``BestCandidate`` and runs nothing; it
needs ``TabularJobConfig.ProblemType`` (AWS infers it when absent), validates no objective,
and implements no ``ListCandidatesForAutoMLJob``. The local backend runs the candidate search
(``tests/local/test_tuning_automl.py`` for the full run on the fraud data).
"""
from __future__ import annotations

import time

import pytest
from botocore.exceptions import ClientError

from .test_sagemaker_training_support import BUCKET, FRAUD, ROLE, _bucket

pytest.importorskip("sklearn")


@pytest.fixture
def sm(session):
    s3 = session.client("s3")
    _bucket(s3)
    with open(FRAUD) as f:
        head = "".join(f.readline() for _ in range(301))  # header + 300 rows
    s3.put_object(Bucket=BUCKET, Key="automl/in/claims.csv", Body=head.encode())
    return session.client("sagemaker")


def request(name: str, candidates: int = 1, problem: str | None = "BinaryClassification",
            metric: str | None = "F1") -> dict:
    tabular = {"TargetAttributeName": "fraud", "CompletionCriteria": {"MaxCandidates": candidates}}
    if problem:
        tabular["ProblemType"] = problem
    out = {"AutoMLJobName": name,
           "AutoMLJobInputDataConfig": [{
               "ChannelType": "training", "ContentType": "text/csv;header=present",
               "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix",
                                               "S3Uri": f"s3://{BUCKET}/automl/in/"}}}],
           "OutputDataConfig": {"S3OutputPath": f"s3://{BUCKET}/automl/out"},
           "AutoMLProblemTypeConfig": {"TabularJobConfig": tabular}, "RoleArn": ROLE}
    if metric:
        out["AutoMLJobObjective"] = {"MetricName": metric}
    return out


def wait_automl(sm, name: str, timeout: float = 180.0) -> dict:
    """Describe until the job ends (a bounded wait, not a timed assertion)."""
    deadline = time.monotonic() + timeout
    while True:
        job = sm.describe_auto_ml_job_v2(AutoMLJobName=name)
        if job["AutoMLJobStatus"] not in ("InProgress", "Stopping") or time.monotonic() > deadline:
            return job
        time.sleep(0.2)


def _code(exc_info) -> str:
    return exc_info.value.response["Error"]["Code"]


def test_create_describe_and_list(sm, session):
    req = request("automl-echo")
    arn = sm.create_auto_ml_job_v2(**req)["AutoMLJobArn"]
    assert arn == "arn:aws:sagemaker:us-east-1:123456789012:automl-job/automl-echo"
    job = sm.describe_auto_ml_job_v2(AutoMLJobName="automl-echo")
    assert job["AutoMLJobArn"] == arn
    assert job["AutoMLJobInputDataConfig"] == req["AutoMLJobInputDataConfig"]
    assert job["AutoMLProblemTypeConfigName"] == "Tabular"
    assert job["AutoMLProblemTypeConfig"]["TabularJobConfig"]["TargetAttributeName"] == "fraud"
    assert job["AutoMLJobObjective"] == {"MetricName": "F1"}
    assert job["AutoMLJobStatus"] in ("InProgress", "Completed")
    with pytest.raises(ClientError) as exc:  # a second job of the same name
        sm.create_auto_ml_job_v2(**request("automl-echo", candidates=3))
    assert _code(exc) == "ResourceInUse"
    listed = sm.list_auto_ml_jobs(NameContains="automl-")["AutoMLJobSummaries"]
    assert [j["AutoMLJobName"] for j in listed] == ["automl-echo"]
    assert sm.list_auto_ml_jobs(NameContains="nothing")["AutoMLJobSummaries"] == []
    if session.backend == "moto":
        pytest.xfail("moto keeps an AutoML job InProgress for ever (it runs nothing)")
    job = wait_automl(sm, "automl-echo")
    assert job["AutoMLJobStatus"] == "Completed", job.get("FailureReason")
    assert job["BestCandidate"]["FinalAutoMLJobObjectiveMetric"]["MetricName"] == "F1"
    assert job["ResolvedAttributes"]["CompletionCriteria"]["MaxCandidates"] == 1  # the first request's


def test_describe_unknown_job_is_resource_not_found(sm):
    with pytest.raises(ClientError) as exc:
        sm.describe_auto_ml_job_v2(AutoMLJobName="no-such-automl")
    assert _code(exc) == "ResourceNotFound"


@pytest.mark.parametrize("problem, metric", [("BinaryClassification", "MSE"), ("Regression", "F1"),
                                             ("MulticlassClassification", "AUC")])
def test_objective_must_fit_the_problem_type(sm, session, problem, metric):
    if session.backend == "moto":
        pytest.xfail("moto does not check the objective metric against the problem type")
    with pytest.raises(ClientError) as exc:
        sm.create_auto_ml_job_v2(**request("automl-bad", problem=problem, metric=metric))
    assert _code(exc) == "ValidationException"
    assert sm.list_auto_ml_jobs()["AutoMLJobSummaries"] == []


def test_stop_auto_ml_job(sm):
    sm.create_auto_ml_job_v2(**request("automl-stop", candidates=20))
    sm.stop_auto_ml_job(AutoMLJobName="automl-stop")
    job = wait_automl(sm, "automl-stop")
    assert (job["AutoMLJobStatus"], job["AutoMLJobSecondaryStatus"]) == ("Stopped", "Stopped")
    with pytest.raises(ClientError) as exc:
        sm.stop_auto_ml_job(AutoMLJobName="no-such-automl")
    assert _code(exc) == "ResourceNotFound"


def test_problem_type_and_objective_are_inferred(sm, session):
    if session.backend == "moto":
        pytest.xfail("moto's CreateAutoMLJobV2 fails without TabularJobConfig.ProblemType")
    sm.create_auto_ml_job_v2(**request("automl-infer", problem=None, metric=None))
    job = wait_automl(sm, "automl-infer")
    assert job["AutoMLJobStatus"] == "Completed", job.get("FailureReason")
    resolved = job["ResolvedAttributes"]
    assert resolved["AutoMLProblemTypeResolvedAttributes"] == {
        "TabularResolvedAttributes": {"ProblemType": "BinaryClassification"}}
    assert resolved["AutoMLJobObjective"] == {"MetricName": "F1"}  # AWS's default for binary
    assert resolved["CompletionCriteria"]["MaxCandidates"] == 1


def test_a_missing_target_column_fails_the_job(sm, session):
    if session.backend == "moto":
        pytest.xfail("moto runs nothing, so never fails a job")
    req = request("automl-target")
    req["AutoMLProblemTypeConfig"]["TabularJobConfig"]["TargetAttributeName"] = "no_such_column"
    sm.create_auto_ml_job_v2(**req)
    job = wait_automl(sm, "automl-target")
    assert (job["AutoMLJobStatus"], job["AutoMLJobSecondaryStatus"]) == ("Failed", "Failed")
    assert "no_such_column" in job["FailureReason"]

"""Training jobs through boto3, on the local backend and on moto.

Moto records a training job as ``Completed`` at once and runs nothing; the local backend
runs it (see ``tests/local/test_training_*.py`` for what the job itself does).
"""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from botocore.exceptions import ClientError

from .test_sagemaker_training_support import (BUCKET, ROLE, SKLEARN_IMAGE, put_sklearn_inputs,
                                              sklearn_request, wait_done)

QUICK_SCRIPT = "print('train_auc=0.75')\n"


@pytest.fixture
def sm(session):
    put_sklearn_inputs(session.client("s3"), script=QUICK_SCRIPT, rows=20)
    return session.client("sagemaker")


def _error(exc_info) -> tuple[str, str]:
    err = exc_info.value.response["Error"]
    return err["Code"], err["Message"]


def test_create_and_describe_echo_the_request(sm):
    request = sklearn_request("contract-echo", {"epochs": 3})
    arn = sm.create_training_job(**request)["TrainingJobArn"]
    assert arn == "arn:aws:sagemaker:us-east-1:123456789012:training-job/contract-echo"
    job = sm.describe_training_job(TrainingJobName="contract-echo")
    assert job["TrainingJobArn"] == arn
    assert job["TrainingJobStatus"] in ("InProgress", "Completed")
    assert job["HyperParameters"] == request["HyperParameters"]
    assert job["RoleArn"] == ROLE
    assert job["AlgorithmSpecification"]["TrainingImage"] == SKLEARN_IMAGE
    assert job["InputDataConfig"][0]["ChannelName"] == "train"
    assert job["ResourceConfig"]["InstanceType"] == "ml.m5.large"
    assert job["StoppingCondition"] == {"MaxRuntimeInSeconds": 600}
    assert job["ModelArtifacts"]["S3ModelArtifacts"] == \
        f"s3://{BUCKET}/output/contract-echo/output/model.tar.gz"
    assert job["CreationTime"].tzinfo is not None
    job = wait_done(sm, "contract-echo")
    assert job["TrainingJobStatus"] == "Completed", job.get("FailureReason")
    assert job["SecondaryStatus"] == "Completed"


def test_waiter_returns_when_the_job_completes(sm):
    sm.create_training_job(**sklearn_request("contract-waiter"))
    sm.get_waiter("training_job_completed_or_stopped").wait(
        TrainingJobName="contract-waiter", WaiterConfig={"Delay": 0.1, "MaxAttempts": 1200})
    assert sm.describe_training_job(TrainingJobName="contract-waiter")["TrainingJobStatus"] == "Completed"


def test_describe_unknown_job_is_a_validation_exception(sm):
    # AWS answers ValidationException, not the ResourceNotFound its model lists
    # (aws/aws-sdk#165); the waiter relies on it.
    with pytest.raises(ClientError) as exc:
        sm.describe_training_job(TrainingJobName="no-such-job")
    assert _error(exc)[0] == "ValidationException"


def test_describe_unknown_job_message(sm, session):
    if session.backend == "moto":
        pytest.xfail("moto says \"Could not find training job '<arn>'.\", AWS \"Requested resource not found.\"")
    with pytest.raises(ClientError) as exc:
        sm.describe_training_job(TrainingJobName="no-such-job")
    assert _error(exc) == ("ValidationException", "Requested resource not found.")


def test_duplicate_name_is_resource_in_use(sm, session):
    if session.backend == "moto":
        pytest.xfail("moto accepts a second training job of the same name")
    sm.create_training_job(**sklearn_request("contract-dup"))
    with pytest.raises(sm.exceptions.ResourceInUse) as exc:
        sm.create_training_job(**sklearn_request("contract-dup", {"epochs": 9}))
    assert "arn:aws:sagemaker:us-east-1:123456789012:training-job/contract-dup" in _error(exc)[1]
    wait_done(sm, "contract-dup")
    # the first job is untouched
    assert "epochs" not in sm.describe_training_job(TrainingJobName="contract-dup")["HyperParameters"]


@pytest.mark.parametrize("name", ["bad_name", "-leading-hyphen", "x" * 64])
def test_invalid_name_is_a_validation_exception(sm, session, name):
    if session.backend == "moto":
        pytest.xfail("moto does not check the TrainingJobName pattern or length")
    with pytest.raises(ClientError) as exc:
        sm.create_training_job(**sklearn_request(name))
    assert _error(exc)[0] == "ValidationException"
    assert sm.list_training_jobs()["TrainingJobSummaries"] == []


def test_empty_input_prefix_is_rejected(sm, session):
    if session.backend == "moto":
        pytest.xfail("moto does not look for the channel's S3 objects")
    request = sklearn_request("contract-empty")
    request["InputDataConfig"][0]["DataSource"]["S3DataSource"]["S3Uri"] = f"s3://{BUCKET}/nothing-here/"
    with pytest.raises(ClientError) as exc:
        sm.create_training_job(**request)
    code, message = _error(exc)
    assert code == "ValidationException" and "No S3 objects found" in message


def _three_jobs(sm) -> datetime:
    before = datetime.now(timezone.utc) - timedelta(seconds=5)
    for name in ("list-b", "list-a", "other-c"):
        sm.create_training_job(**sklearn_request(name))
    for name in ("list-b", "list-a", "other-c"):
        assert wait_done(sm, name)["TrainingJobStatus"] == "Completed"
    return before


def _names(sm, **kwargs) -> list[str]:
    return [j["TrainingJobName"] for j in sm.list_training_jobs(**kwargs)["TrainingJobSummaries"]]


def test_list_filters(sm):
    before = _three_jobs(sm)
    assert sorted(_names(sm, NameContains="list")) == ["list-a", "list-b"]
    assert sorted(_names(sm, StatusEquals="Completed")) == ["list-a", "list-b", "other-c"]
    assert _names(sm, StatusEquals="Failed") == []
    assert sorted(_names(sm, CreationTimeAfter=before)) == ["list-a", "list-b", "other-c"]
    assert _names(sm, CreationTimeBefore=before) == []
    summary = sm.list_training_jobs(NameContains="other")["TrainingJobSummaries"][0]
    assert summary["TrainingJobArn"].endswith(":training-job/other-c")
    assert summary["TrainingJobStatus"] == "Completed"


def test_list_sorts_and_pages(sm, session):
    if session.backend == "moto":
        pytest.xfail("moto ignores SortBy and SortOrder of ListTrainingJobs")
    _three_jobs(sm)
    assert _names(sm, SortBy="Name", SortOrder="Ascending") == ["list-a", "list-b", "other-c"]
    assert _names(sm, SortBy="Name", SortOrder="Descending") == ["other-c", "list-b", "list-a"]
    assert _names(sm) == ["list-b", "list-a", "other-c"]  # CreationTime, Ascending by default
    pages = list(sm.get_paginator("list_training_jobs").paginate(
        SortBy="Name", PaginationConfig={"PageSize": 2}))
    assert [[j["TrainingJobName"] for j in p["TrainingJobSummaries"]] for p in pages] == \
        [["list-a", "list-b"], ["other-c"]]
    with pytest.raises(ClientError) as exc:
        sm.list_training_jobs(NextToken="not-a-token")
    assert _error(exc)[0] == "ValidationException"


def test_list_pages_with_the_paginator(sm):
    _three_jobs(sm)
    pages = list(sm.get_paginator("list_training_jobs").paginate(PaginationConfig={"PageSize": 2}))
    assert [len(p["TrainingJobSummaries"]) for p in pages] == [2, 1]
    assert sorted(j["TrainingJobName"] for p in pages for j in p["TrainingJobSummaries"]) == \
        ["list-a", "list-b", "other-c"]


def test_stop_unknown_job_is_a_validation_exception(sm, session):
    if session.backend == "moto":
        pytest.xfail("moto does not implement StopTrainingJob")
    with pytest.raises(ClientError) as exc:
        sm.stop_training_job(TrainingJobName="no-such-job")
    assert _error(exc) == ("ValidationException", "Requested resource not found.")


def test_hyperparameters_are_strings_as_the_sdk_sends_them(sm):
    request = sklearn_request("contract-hps", {"nested": {"a": 1}})
    sm.create_training_job(**request)
    job = sm.describe_training_job(TrainingJobName="contract-hps")
    assert json.loads(job["HyperParameters"]["sagemaker_program"]) == "train.py"
    assert json.loads(job["HyperParameters"]["nested"]) == {"a": 1}
    wait_done(sm, "contract-hps")

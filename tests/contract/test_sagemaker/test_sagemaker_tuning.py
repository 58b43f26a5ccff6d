"""Hyperparameter tuning jobs through boto3, on the local backend and on moto.

Moto records a tuning job as ``Completed`` at once, with a fixed placeholder
``BestTrainingJob``, and runs no training job; it implements neither
``ListTrainingJobsForHyperParameterTuningJob`` nor ``StopHyperParameterTuningJob``. The
local backend runs the trials as real training jobs (``tests/local/test_tuning_*.py`` for
the longer runs).
"""
from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from .test_sagemaker_tuning_support import (all_trials, put_quick_inputs, script_definition,
                                            tuning_config, wait_tuning, xgboost_definition)

MOTO_RUNS_NOTHING = "moto records tuning jobs Completed with a placeholder BestTrainingJob and runs no trial"


@pytest.fixture
def sm(session):
    put_quick_inputs(session.client("s3"))
    return session.client("sagemaker")


def _code(exc_info) -> str:
    return exc_info.value.response["Error"]["Code"]


def test_create_describe_and_list(sm):
    config = tuning_config(max_jobs=1)
    arn = sm.create_hyper_parameter_tuning_job(HyperParameterTuningJobName="tune-echo",
                                               HyperParameterTuningJobConfig=config,
                                               TrainingJobDefinition=script_definition())[
        "HyperParameterTuningJobArn"]
    assert arn == "arn:aws:sagemaker:us-east-1:123456789012:hyper-parameter-tuning-job/tune-echo"
    job = sm.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName="tune-echo")
    assert job["HyperParameterTuningJobArn"] == arn
    assert job["HyperParameterTuningJobConfig"]["Strategy"] == "Random"
    assert job["HyperParameterTuningJobConfig"]["ParameterRanges"] == config["ParameterRanges"]
    assert job["TrainingJobDefinition"]["AlgorithmSpecification"]["MetricDefinitions"][0]["Name"] == "score"
    assert job["HyperParameterTuningJobStatus"] in ("InProgress", "Completed")
    assert job["CreationTime"].tzinfo is not None
    listed = sm.list_hyper_parameter_tuning_jobs(NameContains="tune-")["HyperParameterTuningJobSummaries"]
    assert [(j["HyperParameterTuningJobName"], j["Strategy"]) for j in listed] == [("tune-echo", "Random")]
    assert sm.list_hyper_parameter_tuning_jobs(NameContains="nothing")["HyperParameterTuningJobSummaries"] == []
    wait_tuning(sm, "tune-echo")


def test_describe_unknown_tuning_job_is_resource_not_found(sm):
    with pytest.raises(ClientError) as exc:
        sm.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName="no-such-tuning")
    assert _code(exc) == "ResourceNotFound"


def test_duplicate_name_is_resource_in_use(sm):
    sm.create_hyper_parameter_tuning_job(HyperParameterTuningJobName="tune-dup",
                                         HyperParameterTuningJobConfig=tuning_config(max_jobs=1),
                                         TrainingJobDefinition=script_definition())
    with pytest.raises(ClientError) as exc:
        sm.create_hyper_parameter_tuning_job(HyperParameterTuningJobName="tune-dup",
                                             HyperParameterTuningJobConfig=tuning_config(max_jobs=1),
                                             TrainingJobDefinition=script_definition())
    assert _code(exc) == "ResourceInUse"
    wait_tuning(sm, "tune-dup")


@pytest.mark.parametrize("config, definition, words", [
    (tuning_config(metric="accuracy"), script_definition(), "objective metric"),
    (tuning_config(strategy="Grid", max_jobs=None), script_definition(), "only categorical"),
    (tuning_config(max_jobs=None), script_definition(), "MaxNumberOfTrainingJobs"),
    (tuning_config(ranges={"ContinuousParameterRanges": [
        {"Name": "xv", "MinValue": "0", "MaxValue": "1", "ScalingType": "Logarithmic"}]}),
     script_definition(), "greater than 0"),
    (tuning_config(strategy="Hyperband", TrainingJobEarlyStoppingType="Auto",
                   StrategyConfig={"HyperbandStrategyConfig": {"MaxResource": 3}}),
     script_definition(), "must be Off"),
    (tuning_config(strategy="Hyperband"), script_definition(), "MaxResource"),
    (tuning_config(), script_definition(static={"xv": "0.5"}), "both static and tunable"),
    # the built-in XGBoost algorithm's metrics are validation:auc, train:rmse, ...
    (tuning_config(metric="validation:nonsense"), xgboost_definition(), "validation:auc"),
])
def test_invalid_requests_are_validation_exceptions(sm, session, config, definition, words):
    if session.backend == "moto":
        pytest.xfail("moto does not validate tuning job configurations")
    with pytest.raises(ClientError) as exc:
        sm.create_hyper_parameter_tuning_job(HyperParameterTuningJobName="tune-bad",
                                             HyperParameterTuningJobConfig=config,
                                             TrainingJobDefinition=definition)
    assert _code(exc) == "ValidationException"
    assert words in exc.value.response["Error"]["Message"]
    assert sm.list_hyper_parameter_tuning_jobs()["HyperParameterTuningJobSummaries"] == []


def test_random_tuning_runs_its_trials_and_reports_the_best(sm, session):
    if session.backend == "moto":
        pytest.xfail(MOTO_RUNS_NOTHING)
    sm.create_hyper_parameter_tuning_job(HyperParameterTuningJobName="tune-run",
                                         HyperParameterTuningJobConfig=tuning_config(max_jobs=4),
                                         TrainingJobDefinition=script_definition())
    job = wait_tuning(sm, "tune-run")
    assert job["HyperParameterTuningJobStatus"] == "Completed", job.get("FailureReason")
    assert job["TrainingJobStatusCounters"] == {"Completed": 4, "InProgress": 0, "RetryableError": 0,
                                                "NonRetryableError": 0, "Stopped": 0}
    assert job["ObjectiveStatusCounters"] == {"Succeeded": 4, "Pending": 0, "Failed": 0}
    trials = all_trials(sm, "tune-run", MaxResults=3)          # two pages
    assert len(trials) == 4
    for t in trials:
        assert t["TrainingJobName"].startswith("tune-run-0") and len(t["TrainingJobName"]) == len("tune-run-001-") + 8
        xv, depth = float(t["TunedHyperParameters"]["xv"]), int(t["TunedHyperParameters"]["depth"])
        expected = -(xv - 0.3) ** 2 + 0.01 * depth
        assert t["FinalHyperParameterTuningJobObjectiveMetric"]["Value"] == pytest.approx(expected, abs=1e-5)
        # each trial is a real training job with the static and the tuned hyperparameters
        training = sm.describe_training_job(TrainingJobName=t["TrainingJobName"])
        assert training["HyperParameters"]["xv"] == t["TunedHyperParameters"]["xv"]
        assert training["HyperParameters"]["sagemaker_program"] == '"train.py"'
    values = [t["FinalHyperParameterTuningJobObjectiveMetric"]["Value"] for t in trials]
    best = job["BestTrainingJob"]
    assert best["FinalHyperParameterTuningJobObjectiveMetric"] == {
        "Type": "Maximize", "MetricName": "score", "Value": max(values)}
    ranked = all_trials(sm, "tune-run", SortBy="FinalObjectiveMetricValue", SortOrder="Descending")
    assert [t["TrainingJobName"] for t in ranked][0] == best["TrainingJobName"]
    assert [t["FinalHyperParameterTuningJobObjectiveMetric"]["Value"] for t in ranked] == sorted(values, reverse=True)


def test_grid_runs_every_combination(sm, session):
    if session.backend == "moto":
        pytest.xfail(MOTO_RUNS_NOTHING)
    ranges = {"CategoricalParameterRanges": [{"Name": "xv", "Values": ["0.1", "0.3"]},
                                             {"Name": "kind", "Values": ["a", "b"]}]}
    sm.create_hyper_parameter_tuning_job(
        HyperParameterTuningJobName="tune-grid",
        HyperParameterTuningJobConfig=tuning_config(strategy="Grid", max_jobs=None, ranges=ranges),
        TrainingJobDefinition=script_definition())
    job = wait_tuning(sm, "tune-grid")
    assert job["HyperParameterTuningJobStatus"] == "Completed", job.get("FailureReason")
    combos = sorted((t["TunedHyperParameters"]["xv"], t["TunedHyperParameters"]["kind"])
                    for t in all_trials(sm, "tune-grid"))
    assert combos == [("0.1", "a"), ("0.1", "b"), ("0.3", "a"), ("0.3", "b")]
    assert job["BestTrainingJob"]["TunedHyperParameters"]["xv"] == "0.3"


def test_failing_trials_fail_the_tuning_job(sm, session):
    if session.backend == "moto":
        pytest.xfail(MOTO_RUNS_NOTHING)
    put_quick_inputs(session.client("s3"), script="raise SystemExit('broken entry point')\n")
    sm.create_hyper_parameter_tuning_job(HyperParameterTuningJobName="tune-fail",
                                         HyperParameterTuningJobConfig=tuning_config(max_jobs=5),
                                         TrainingJobDefinition=script_definition())
    job = wait_tuning(sm, "tune-fail")
    assert job["HyperParameterTuningJobStatus"] == "Failed"
    assert "broken entry point" in job["FailureReason"]
    assert job["TrainingJobStatusCounters"]["NonRetryableError"] >= 3
    assert "BestTrainingJob" not in job
    failed = all_trials(sm, "tune-fail", StatusEquals="Failed")
    assert failed and all(t["ObjectiveStatus"] == "Failed" for t in failed)


def test_stop_tuning_job(sm, session):
    if session.backend == "moto":
        pytest.xfail("moto does not implement StopHyperParameterTuningJob")
    sm.create_hyper_parameter_tuning_job(HyperParameterTuningJobName="tune-stop",
                                         HyperParameterTuningJobConfig=tuning_config(max_jobs=50),
                                         TrainingJobDefinition=script_definition())
    sm.stop_hyper_parameter_tuning_job(HyperParameterTuningJobName="tune-stop")
    assert sm.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName="tune-stop")[
        "HyperParameterTuningJobStatus"] in ("Stopping", "Stopped")
    job = wait_tuning(sm, "tune-stop")
    assert job["HyperParameterTuningJobStatus"] == "Stopped"
    counters = job["TrainingJobStatusCounters"]
    assert counters["InProgress"] == 0 and sum(counters.values()) < 50
    with pytest.raises(ClientError) as exc:
        sm.stop_hyper_parameter_tuning_job(HyperParameterTuningJobName="tune-stop")
    assert _code(exc) == "ValidationException"
    with pytest.raises(ClientError) as exc:
        sm.stop_hyper_parameter_tuning_job(HyperParameterTuningJobName="no-such-tuning")
    assert _code(exc) == "ResourceNotFound"

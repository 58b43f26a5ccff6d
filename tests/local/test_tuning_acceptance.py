"""Acceptance runs of local tuning jobs on the bundled fraud data (script-mode trials, a
numpy logistic regression reporting ``validation:auc``; a trial costs about 0.8 s of CPU,
against 2.7 s for a built-in XGBoost one): 20 trials 2 at a time, and each strategy end to
end; early stopping (AWS's median rule) and Hyperband's MaxResource on a script that logs one
value per epoch. Built-in XGBoost trials run in ``test_tuning_facade.py``."""
from __future__ import annotations

import pytest

from tests.contract.test_sagemaker.test_sagemaker_tuning_support import (
    FRAUD_LR_SCRIPT, VALIDATION_AUC, all_trials, put_quick_inputs, script_definition, tuning_config,
    wait_tuning)

pytest.importorskip("optuna")

LR_RANGES = {
    "ContinuousParameterRanges": [{"Name": "lr", "MinValue": "0.001", "MaxValue": "3",
                                   "ScalingType": "Logarithmic"},
                                  {"Name": "l2", "MinValue": "0.0001", "MaxValue": "1",
                                   "ScalingType": "Logarithmic"}],
    "IntegerParameterRanges": [{"Name": "epochs", "MinValue": "5", "MaxValue": "80"}],
}


@pytest.fixture
def sm(local_session):
    put_quick_inputs(local_session.client("s3"), script=FRAUD_LR_SCRIPT, rows=None)
    return local_session.client("sagemaker")


def _check_best_is_best(sm, name: str, job: dict, trials: int) -> list[dict]:
    assert job["HyperParameterTuningJobStatus"] == "Completed", job.get("FailureReason")
    listed = all_trials(sm, name)
    assert len(listed) == trials
    assert job["TrainingJobStatusCounters"]["Completed"] == trials
    values = [t["FinalHyperParameterTuningJobObjectiveMetric"]["Value"] for t in listed]
    best = job["BestTrainingJob"]
    assert best["FinalHyperParameterTuningJobObjectiveMetric"]["MetricName"] == "validation:auc"
    assert best["FinalHyperParameterTuningJobObjectiveMetric"]["Value"] == max(values)
    # the objective is the trial's own final validation:auc
    training = sm.describe_training_job(TrainingJobName=best["TrainingJobName"])
    final = {m["MetricName"]: m["Value"] for m in training["FinalMetricDataList"]}
    assert final["validation:auc"] == max(values)
    return listed


@pytest.mark.slow
def test_twenty_random_trials_two_in_parallel_on_the_fraud_data(sm):
    config = tuning_config("Random", max_jobs=20, max_parallel=2, ranges=LR_RANGES,
                           metric="validation:auc")
    sm.create_hyper_parameter_tuning_job(HyperParameterTuningJobName="fraud-random",
                                         HyperParameterTuningJobConfig=config,
                                         TrainingJobDefinition=script_definition(VALIDATION_AUC))
    job = wait_tuning(sm, "fraud-random", timeout=600)
    listed = _check_best_is_best(sm, "fraud-random", job, 20)
    # never more than 2 trials at once: each trial starts after the 2nd previous one ended
    spans = sorted((t["CreationTime"], t["TrainingEndTime"]) for t in listed)
    for i in range(2, len(spans)):
        assert spans[i][0] >= min(sorted(end for _, end in spans[:i])[-2:])
    # and 2 at once indeed: most trials start while an earlier one still runs
    overlapping = sum(start < max(end for _, end in spans[:i]) for i, (start, _) in enumerate(spans) if i)
    assert overlapping >= len(spans) // 2


@pytest.mark.slow
@pytest.mark.parametrize("strategy", ["Bayesian", "Grid"])
def test_bayesian_and_grid_run_on_the_fraud_data(sm, strategy):
    if strategy == "Grid":
        ranges = {"CategoricalParameterRanges": [{"Name": "lr", "Values": ["0.01", "1"]},
                                                 {"Name": "epochs", "Values": ["5", "50"]}]}
        config = tuning_config("Grid", max_jobs=None, ranges=ranges, metric="validation:auc")
        expected = 4
    else:
        config = tuning_config("Bayesian", max_jobs=6, ranges=LR_RANGES, metric="validation:auc")
        expected = 6
    name = f"fraud-{strategy.lower()}"
    sm.create_hyper_parameter_tuning_job(HyperParameterTuningJobName=name,
                                         HyperParameterTuningJobConfig=config,
                                         TrainingJobDefinition=script_definition(VALIDATION_AUC))
    listed = _check_best_is_best(sm, name, wait_tuning(sm, name, timeout=600), expected)
    params = {tuple(sorted(t["TunedHyperParameters"].items())) for t in listed}
    assert len(params) == expected  # no combination tried twice


# one objective value per epoch: ``quality * epoch / 10``, 0.4 s apart
EPOCH_SCRIPT = '''
import argparse, time
p = argparse.ArgumentParser()
p.add_argument("--quality", type=float)
p.add_argument("--epochs", type=int, default=10)
a, _ = p.parse_known_args()
for epoch in range(1, a.epochs + 1):
    print(f"epoch {epoch} val_score={a.quality * epoch / 10:.4f}", flush=True)
    time.sleep(0.4)
'''
EPOCH_METRIC = [{"Name": "val_score", "Regex": r"val_score=([0-9.]+)"}]


@pytest.mark.slow
def test_early_stopping_auto_stops_trials_worse_than_the_median(local_session):
    sm = local_session.client("sagemaker")
    put_quick_inputs(local_session.client("s3"), script=EPOCH_SCRIPT)
    ranges = {"CategoricalParameterRanges": [{"Name": "quality", "Values": ["0.9", "0.8", "0.85", "0.1"]}]}
    config = tuning_config("Grid", max_jobs=None, max_parallel=3, ranges=ranges, metric="val_score",
                           TrainingJobEarlyStoppingType="Auto")
    # the 4th trial starts when one of the first three ends, and is the only one that can be
    # stopped: the median rule needs three finished trials
    sm.create_hyper_parameter_tuning_job(HyperParameterTuningJobName="tune-es",
                                         HyperParameterTuningJobConfig=config,
                                         TrainingJobDefinition=script_definition(EPOCH_METRIC))
    job = wait_tuning(sm, "tune-es")
    assert job["HyperParameterTuningJobStatus"] == "Completed", job.get("FailureReason")
    by_quality = {t["TunedHyperParameters"]["quality"]: t for t in all_trials(sm, "tune-es")}
    assert {q: t["TrainingJobStatus"] for q, t in by_quality.items()} == {
        "0.9": "Completed", "0.8": "Completed", "0.85": "Completed", "0.1": "Stopped"}
    assert job["TrainingJobStatusCounters"]["Stopped"] == 1
    stopped = by_quality["0.1"]
    assert stopped["ObjectiveStatus"] == "Succeeded"  # it keeps the value it had reached
    assert stopped["FinalHyperParameterTuningJobObjectiveMetric"]["Value"] < 0.1
    assert job["BestTrainingJob"]["TunedHyperParameters"]["quality"] == "0.9"


@pytest.mark.slow
def test_hyperband_stops_trials_at_max_resource(local_session):
    sm = local_session.client("sagemaker")
    put_quick_inputs(local_session.client("s3"), script=EPOCH_SCRIPT)
    ranges = {"ContinuousParameterRanges": [{"Name": "quality", "MinValue": "0.1", "MaxValue": "1"}]}
    config = tuning_config("Hyperband", max_jobs=2, max_parallel=2, ranges=ranges, metric="val_score",
                           StrategyConfig={"HyperbandStrategyConfig": {"MinResource": 1, "MaxResource": 3}})
    sm.create_hyper_parameter_tuning_job(HyperParameterTuningJobName="tune-hb",
                                         HyperParameterTuningJobConfig=config,
                                         TrainingJobDefinition=script_definition(EPOCH_METRIC))
    job = wait_tuning(sm, "tune-hb")
    assert job["HyperParameterTuningJobStatus"] == "Completed", job.get("FailureReason")
    trials = all_trials(sm, "tune-hb")
    assert [t["TrainingJobStatus"] for t in trials] == ["Stopped", "Stopped"]  # 10 epochs logged, 3 allowed
    for t in trials:
        quality = float(t["TunedHyperParameters"]["quality"])
        value = t["FinalHyperParameterTuningJobObjectiveMetric"]["Value"]
        assert value < quality * 10 / 10  # stopped before its last epoch

"""Shared material of the tuning-job tests (no tests here): a quick script-mode entry point
whose objective is a known function of its hyperparameters, and tuning requests."""
from __future__ import annotations

import json
import time

from .test_sagemaker_training_support import (BUCKET, ROLE, SKLEARN_IMAGE, XGBOOST_IMAGE, channel,
                                              put_sklearn_inputs)

# score = -(x - 0.3)^2 + 0.01 * depth, printed once; no import beyond the standard library
QUICK_SCRIPT = '''
import argparse
p = argparse.ArgumentParser()
p.add_argument("--xv", type=float, default=0.0)
p.add_argument("--depth", type=int, default=1)
p.add_argument("--kind", default="a")
a, _ = p.parse_known_args()
print(f"score={-(a.xv - 0.3) ** 2 + 0.01 * a.depth:.6f}")
'''
SCORE = [{"Name": "score", "Regex": r"score=([-0-9.e]+)"}]

# A fast script-mode trial on the fraud data (numpy only: a trial costs little more than its
# processes): class-weighted logistic regression by gradient descent on the numeric columns,
# the first 80 % of the rows to train, the rest to report ``validation_auc``.
FRAUD_LR_SCRIPT = '''
import argparse, csv, os
import numpy as np
p = argparse.ArgumentParser()
p.add_argument("--lr", type=float, default=0.1)
p.add_argument("--l2", type=float, default=0.0)
p.add_argument("--epochs", type=int, default=30)
a, _ = p.parse_known_args()
with open(os.path.join(os.environ["SM_CHANNEL_TRAIN"], "claims.csv")) as f:
    rows = list(csv.reader(f))
data = np.array(rows[1:], dtype=float)
x, y = data[:, :-1], data[:, -1]
x = np.hstack([(x - x.mean(0)) / (x.std(0) + 1e-9), np.ones((len(x), 1))])
cut = int(len(x) * 0.8)
xt, yt, xv, yv = x[:cut], y[:cut], x[cut:], y[cut:]
w = np.zeros(x.shape[1])
weights = np.where(yt == 1, 0.5 / yt.mean(), 0.5 / (1 - yt.mean()))
for epoch in range(a.epochs):
    grad = xt.T @ ((1 / (1 + np.exp(-xt @ w)) - yt) * weights) / len(yt) + a.l2 * w
    w -= a.lr * grad
ranks = (xv @ w).argsort().argsort() + 1
npos = yv.sum()
print(f"validation_auc={(ranks[yv == 1].sum() - npos * (npos + 1) / 2) / (npos * (len(yv) - npos)):.6f}")
'''
VALIDATION_AUC = [{"Name": "validation:auc", "Regex": r"validation_auc=([0-9.]+)"}]


def put_quick_inputs(s3, script: str = QUICK_SCRIPT, rows: int | None = 20) -> None:
    put_sklearn_inputs(s3, script=script, rows=rows)


def script_definition(metrics: list | None = None, static: dict | None = None) -> dict:
    hps = {"sagemaker_program": json.dumps("train.py"),
           "sagemaker_submit_directory": json.dumps(f"s3://{BUCKET}/code/sourcedir.tar.gz"),
           "sagemaker_region": json.dumps("us-east-1")}
    hps.update(static or {})
    return {
        "StaticHyperParameters": hps,
        "AlgorithmSpecification": {"TrainingImage": SKLEARN_IMAGE, "TrainingInputMode": "File",
                                   "MetricDefinitions": SCORE if metrics is None else metrics},
        "RoleArn": ROLE,
        "InputDataConfig": [channel("train", "sklearn/train")],
        "OutputDataConfig": {"S3OutputPath": f"s3://{BUCKET}/tuning-output"},
        "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 5},
        "StoppingCondition": {"MaxRuntimeInSeconds": 300},
    }


def xgboost_definition(num_round: int = 5) -> dict:
    return {
        "StaticHyperParameters": {"objective": "binary:logistic", "num_round": str(num_round),
                                  "eval_metric": "auc"},
        "AlgorithmSpecification": {"TrainingImage": XGBOOST_IMAGE, "TrainingInputMode": "File"},
        "RoleArn": ROLE,
        "InputDataConfig": [channel("train", "xgb/train", "text/csv"),
                            channel("validation", "xgb/validation", "text/csv")],
        "OutputDataConfig": {"S3OutputPath": f"s3://{BUCKET}/tuning-output"},
        "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 5},
        "StoppingCondition": {"MaxRuntimeInSeconds": 300},
    }


def tuning_config(strategy: str = "Random", max_jobs: int | None = 4, max_parallel: int = 2,
                  ranges: dict | None = None, metric: str = "score", kind: str = "Maximize",
                  **extra) -> dict:
    limits = {"MaxParallelTrainingJobs": max_parallel}
    if max_jobs is not None:
        limits["MaxNumberOfTrainingJobs"] = max_jobs
    return {
        "Strategy": strategy,
        "HyperParameterTuningJobObjective": {"Type": kind, "MetricName": metric},
        "ResourceLimits": limits,
        "ParameterRanges": ranges if ranges is not None else {
            "ContinuousParameterRanges": [{"Name": "xv", "MinValue": "0", "MaxValue": "1"}],
            "IntegerParameterRanges": [{"Name": "depth", "MinValue": "1", "MaxValue": "5"}]},
        "RandomSeed": 7,
        **extra,
    }


def wait_tuning(sm, name: str, timeout: float = 240.0) -> dict:
    """Describe until the tuning job ends (a bounded wait, not a timed assertion)."""
    deadline = time.monotonic() + timeout
    while True:
        job = sm.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=name)
        if job["HyperParameterTuningJobStatus"] not in ("InProgress", "Stopping") or time.monotonic() > deadline:
            return job
        time.sleep(0.2)


def all_trials(sm, name: str, **kwargs) -> list[dict]:
    pages = sm.get_paginator("list_training_jobs_for_hyper_parameter_tuning_job").paginate(
        HyperParameterTuningJobName=name, **kwargs)
    return [t for page in pages for t in page["TrainingJobSummaries"]]

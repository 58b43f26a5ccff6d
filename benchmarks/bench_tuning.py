"""Bayesian against Random search, with real local tuning jobs.

Both strategies tune the same script-mode training job on the bundled fraud claims (a
class-weighted logistic regression by gradient descent, numpy only, reporting
``validation:auc``) over the same ranges: learning rate and L2 (logarithmic), epochs. Random
runs 30 trials; Bayesian (Optuna's TPE) runs up to 30 too. The figure: how many Bayesian
trials, in creation order, reach the best score Random found in 30 (smaller is better), and
the ratio to 30. Both 2 trials at a time, seed 7. One run; the training jobs are the
objective, so each trial costs a real job (about 0.8 s of CPU).

    .venv/bin/python benchmarks/bench_tuning.py [--trials 30] [--parallel 2]
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from aws_ml import Session  # noqa: E402
from tests.contract.test_sagemaker.test_sagemaker_tuning_support import (  # noqa: E402
    FRAUD_LR_SCRIPT, VALIDATION_AUC, all_trials, put_quick_inputs, script_definition, tuning_config,
    wait_tuning)

RANGES = {
    "ContinuousParameterRanges": [{"Name": "lr", "MinValue": "0.001", "MaxValue": "3",
                                   "ScalingType": "Logarithmic"},
                                  {"Name": "l2", "MinValue": "0.0001", "MaxValue": "1",
                                   "ScalingType": "Logarithmic"}],
    "IntegerParameterRanges": [{"Name": "epochs", "MinValue": "5", "MaxValue": "80"}],
}


def run(sm, strategy: str, trials: int, parallel: int) -> tuple[list[float], float]:
    name = f"bench-{strategy.lower()}"
    start = time.perf_counter()
    sm.create_hyper_parameter_tuning_job(
        HyperParameterTuningJobName=name,
        HyperParameterTuningJobConfig=tuning_config(strategy, max_jobs=trials, max_parallel=parallel,
                                                    ranges=RANGES, metric="validation:auc"),
        TrainingJobDefinition=script_definition(VALIDATION_AUC))
    job = wait_tuning(sm, name, timeout=1800)
    elapsed = time.perf_counter() - start
    if job["HyperParameterTuningJobStatus"] != "Completed":
        raise SystemExit(f"{name}: {job['HyperParameterTuningJobStatus']} {job.get('FailureReason')}")
    listed = sorted(all_trials(sm, name), key=lambda t: t["TrainingJobName"])  # NNN: creation order
    return [t["FinalHyperParameterTuningJobObjectiveMetric"]["Value"] for t in listed], elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--trials", type=int, default=30)
    parser.add_argument("--parallel", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-tuning-") as home, \
            Session(backend="local", home=home, region="us-east-1") as session:
        put_quick_inputs(session.client("s3"), script=FRAUD_LR_SCRIPT, rows=None)
        sm = session.client("sagemaker")
        random_values, random_s = run(sm, "Random", args.trials, args.parallel)
        bayes_values, bayes_s = run(sm, "Bayesian", args.trials, args.parallel)
    target = max(random_values)
    reached = next((i + 1 for i, v in enumerate(bayes_values) if v >= target), None)
    random_first = random_values.index(target) + 1
    print(f"objective: validation:auc of a logistic regression on fraud/claims, {args.trials} trials, "
          f"{args.parallel} in parallel")
    print(f"Random   best {target:.5f} (first reached at trial {random_first}), {random_s:.1f} s")
    print(f"Bayesian best {max(bayes_values):.5f}, {bayes_s:.1f} s")
    if reached is None:
        print(f"Bayesian trials to reach Random's best: not reached in {args.trials} "
              f"(ratio > 1.00)")
    else:
        print(f"Bayesian trials to reach Random's best: {reached} of {args.trials} "
              f"(ratio {reached / args.trials:.2f}; Random itself needed {random_first})")


if __name__ == "__main__":
    main()

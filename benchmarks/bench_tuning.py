"""Bayesian against Random search, with real local tuning jobs.

Both strategies tune the same script-mode training job on the bundled fraud claims (a
class-weighted logistic regression by gradient descent, numpy only, reporting
``validation:auc``) over the same ranges: learning rate and L2 (logarithmic), epochs. Random
runs 30 trials; Bayesian (Optuna's TPE) runs up to 30 too. The figure: how many Bayesian
trials, in creation order, reach the best score Random found in 30 (smaller is better), and
the ratio to 30. Both 2 trials at a time, for each seed of ``--seeds`` (the tuning jobs'
``RandomSeed``; Bayesian gets seed + 1000, so that its random start-up trials are not
Random's), then the median over the seeds; the training jobs are the objective, so
each trial costs a real job (about 0.8 s of CPU). A count of trials does not depend on the
machine's load.

    .venv/bin/python benchmarks/bench_tuning.py [--trials 30] [--parallel 2] [--seeds 7,8,9]
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


def run(sm, strategy: str, trials: int, parallel: int, seed: int) -> tuple[list[float], float]:
    name = f"bench-{strategy.lower()}-{seed}"
    start = time.perf_counter()
    sm.create_hyper_parameter_tuning_job(
        HyperParameterTuningJobName=name,
        HyperParameterTuningJobConfig=tuning_config(strategy, max_jobs=trials, max_parallel=parallel,
                                                    ranges=RANGES, metric="validation:auc", RandomSeed=seed),
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
    parser.add_argument("--seeds", default="7", help="comma-separated RandomSeed values, one run each")
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    print(f"objective: validation:auc of a logistic regression on fraud/claims, {args.trials} trials, "
          f"{args.parallel} in parallel")
    ratios = []
    with tempfile.TemporaryDirectory(prefix="bench-tuning-") as home, \
            Session(backend="local", home=home, region="us-east-1") as session:
        put_quick_inputs(session.client("s3"), script=FRAUD_LR_SCRIPT, rows=None)
        sm = session.client("sagemaker")
        for seed in seeds:
            random_values, random_s = run(sm, "Random", args.trials, args.parallel, seed)
            # another seed for Bayesian: with the same one, TPE's random start-up trials are
            # Random's first trials, and a lucky start counts for both
            bayes_values, bayes_s = run(sm, "Bayesian", args.trials, args.parallel, seed + 1000)
            target = max(random_values)
            reached = next((i + 1 for i, v in enumerate(bayes_values) if v >= target), None)
            random_first = random_values.index(target) + 1
            ratio = (reached or float("inf")) / args.trials
            ratios.append(ratio)
            print(f"seed {seed}: Random best {target:.5f} (first at trial {random_first}, {random_s:.1f} s); "
                  f"Bayesian best {max(bayes_values):.5f} ({bayes_s:.1f} s), reached Random's best at "
                  + (f"trial {reached} of {args.trials} (ratio {ratio:.2f})" if reached else
                     f"no trial of {args.trials} (ratio > 1.00)"))
    ratios.sort()
    median = ratios[len(ratios) // 2] if len(ratios) % 2 else (ratios[len(ratios) // 2 - 1] + ratios[len(ratios) // 2]) / 2
    print(f"median ratio over {len(seeds)} seed(s): {median:.2f} (Bayesian trials needed / {args.trials})")


if __name__ == "__main__":
    main()

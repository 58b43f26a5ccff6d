"""Ground Truth on the local backend: labelling-job throughput with programmatic workers, and
consolidation time for 100,000 judgements.

Run ``python benchmarks/bench_labeling.py`` (about a minute; the job runs once to warm up).

1. **Job throughput**: a text-classification job over the 1,000 IMDb review sentences, three
   programmatic workers (callables) per object, from ``CreateLabelingJob`` to the output
   manifest: data objects per second and answers per second. The peer in the same run is the
   floor of what the job must write: one ``put_object`` per worker-response file (one per data
   object, as AWS writes them) through the same boto3 S3 client (ratio = job time / floor).
2. **Consolidation**: 100,000 judgements (33,334 objects × 3 workers, 5 classes, workers of
   accuracy 0.9 / 0.75 / 0.6): majority vote and Dawid–Skene (numpy, vectorised) against a
   plain-Python majority vote (dict counting), with the accuracy each reaches.
"""
from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")

import numpy as np  # noqa: E402

from aws_ml import Session, datasets  # noqa: E402
from local_backends.sagemaker.labeling import consolidation  # noqa: E402
from local_backends.sagemaker.labeling.tasks import TASK_TYPES, default_template  # noqa: E402
from local_backends.sagemaker.labeling.workers import CallableWorker  # noqa: E402

REGION = "us-east-1"
BUCKET = "bench-labeling"


def job_throughput(report: bool = True) -> None:
    data = datasets.load("reviews/imdb_sentences")
    rows = [{"source": t, "sentiment": y} for t, y in zip(data.text, data.sentiment)]
    with Session(backend="local", home=tempfile.mkdtemp(prefix="bench-labeling-"), region=REGION) as s:
        s3, sm = s.client("s3"), s.client("sagemaker")
        backend = s.router.backend("sagemaker", REGION)
        s3.create_bucket(Bucket=BUCKET)
        s3.put_object(Bucket=BUCKET, Key="in.manifest", Body="\n".join(json.dumps(r) for r in rows).encode())
        s3.put_object(Bucket=BUCKET, Key="labels.json", Body=json.dumps(
            {"document-version": "2018-11-28", "labels": [{"label": "NEGATIVE"}, {"label": "POSITIVE"}]}).encode())
        s3.put_object(Bucket=BUCKET, Key="ui.html", Body=default_template("TextMultiClass").encode())
        team = sm.create_workteam(WorkteamName="bench", Description="bench", MemberDefinitions=[
            {"CognitoMemberDefinition": {"UserPool": "us-east-1_bench", "UserGroup": "g", "ClientId": "c"}}])
        t = TASK_TYPES["TextMultiClass"]
        workers = [CallableWorker(lambda task: task["data_object"]["sentiment"], f"private.w{k}") for k in range(3)]
        start = time.perf_counter()
        sm.create_labeling_job(
            LabelingJobName="bench", LabelAttributeName="label", RoleArn="arn:aws:iam::123456789012:role/r",
            InputConfig={"DataSource": {"S3DataSource": {"ManifestS3Uri": f"s3://{BUCKET}/in.manifest"}}},
            OutputConfig={"S3OutputPath": f"s3://{BUCKET}/out"}, LabelCategoryConfigS3Uri=f"s3://{BUCKET}/labels.json",
            HumanTaskConfig={"WorkteamArn": team["WorkteamArn"], "UiConfig": {"UiTemplateS3Uri": f"s3://{BUCKET}/ui.html"},
                             "PreHumanTaskLambdaArn": t.pre_arn(REGION), "TaskTitle": "t", "TaskDescription": "d",
                             "NumberOfHumanWorkersPerDataObject": 3, "TaskTimeLimitInSeconds": 300})
        answers = backend.work_on_labeling_job("bench", workers)
        status = sm.describe_labeling_job(LabelingJobName="bench")["LabelingJobStatus"]
        elapsed = time.perf_counter() - start
        assert status == "Completed", status

        body = json.dumps({"answers": [{"answerContent": {"crowd-classifier": {"label": "POSITIVE"}}}]}).encode()
        start = time.perf_counter()
        for i in range(len(rows)):
            s3.put_object(Bucket=BUCKET, Key=f"floor/{i}.json", Body=body)
        floor = time.perf_counter() - start
    if not report:
        return
    print(f"job: {len(rows)} objects, {answers} answers in {elapsed:.2f} s -> "
          f"{len(rows) / elapsed:,.0f} objects/s, {answers / elapsed:,.0f} answers/s")
    print(f"floor ({len(rows)} put_object, one per worker-response file): {floor:.2f} s -> "
          f"job/floor = {elapsed / floor:.2f}x")


def simulate(n_judgements: int = 100_000, n_classes: int = 5, accuracies=(0.9, 0.75, 0.6), seed: int = 0):
    rng = np.random.default_rng(seed)
    n_items = -(-n_judgements // len(accuracies))
    truth = rng.integers(0, n_classes, n_items)
    items, workers, labels = [], [], []
    for w, acc in enumerate(accuracies):
        right = rng.random(n_items) < acc
        items.append(np.arange(n_items))
        workers.append(np.full(n_items, w))
        labels.append(np.where(right, truth, (truth + rng.integers(1, n_classes, n_items)) % n_classes))
    return truth, np.concatenate(items), np.concatenate(workers), np.concatenate(labels), n_items


def python_majority(items, labels) -> dict[int, int]:
    votes: dict[int, Counter] = defaultdict(Counter)
    for i, lab in zip(items.tolist(), labels.tolist()):
        votes[i][lab] += 1
    return {i: c.most_common(1)[0][0] for i, c in votes.items()}


def best_of(fn, rounds: int = 3) -> tuple[float, object]:
    best, out = float("inf"), None
    for _ in range(rounds):
        start = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - start)
    return best, out


def consolidation_time() -> None:
    truth, items, workers, labels, n_items = simulate()
    n = len(items)
    t_py, py = best_of(lambda: python_majority(items, labels))
    t_mv, mv = best_of(lambda: consolidation.majority_vote(items, workers, labels, n_items, 5))
    t_ds, ds = best_of(lambda: consolidation.dawid_skene(items, workers, labels, n_items, 5))
    t_ds1, ds1 = best_of(lambda: consolidation.dawid_skene(items, workers, labels, n_items, 5, one_coin=True))
    acc_py = np.mean([py[i] == truth[i] for i in range(n_items)])
    print(f"consolidation of {n:,} judgements ({n_items:,} objects x 3 workers, 5 classes):")
    print(f"  plain-Python majority vote   {t_py * 1000:8.1f} ms  accuracy {acc_py:.3f}")
    print(f"  numpy majority vote          {t_mv * 1000:8.1f} ms  accuracy {(mv.labels == truth).mean():.3f}"
          f"  ({t_py / t_mv:.1f}x faster than plain Python)")
    print(f"  Dawid-Skene (full matrices)  {t_ds * 1000:8.1f} ms  accuracy {(ds.labels == truth).mean():.3f}"
          f"  ({ds.iterations} EM iterations, {t_ds / t_py:.1f}x the plain-Python vote)")
    print(f"  Dawid-Skene (one coin)       {t_ds1 * 1000:8.1f} ms  accuracy {(ds1.labels == truth).mean():.3f}")


if __name__ == "__main__":
    consolidation_time()
    job_throughput(report=False)     # warm-up: first imports and the first S3 bucket
    job_throughput()

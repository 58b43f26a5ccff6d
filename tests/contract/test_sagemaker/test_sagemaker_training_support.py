"""Shared material of the training-job tests (no tests here): the fraud data in S3, a
scikit-learn script-mode source directory, requests as the SageMaker SDK sends them."""
from __future__ import annotations

import csv
import io
import json
import tarfile
import time
from pathlib import Path

import pytest

FRAUD = Path("/work/shared/datasets/fraud/claims.csv")
SKLEARN_IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"
XGBOOST_IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"
ROLE = "arn:aws:iam::123456789012:role/SageMakerRole"
BUCKET = "training-bucket"
NUMERIC = ["num_vehicles_involved", "num_injuries", "num_witnesses", "injury_claim", "vehicle_claim",
           "total_claim_amount", "incident_month", "incident_day", "incident_dow", "incident_hour"]

SKLEARN_SCRIPT = '''
import time
_t0 = time.perf_counter()
import argparse, json, os
import joblib
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

parser = argparse.ArgumentParser()
parser.add_argument("--regularization", type=float, default=1.0)
parser.add_argument("--max_iter", type=int, default=200)
parser.add_argument("--model-dir", default=os.environ.get("SM_MODEL_DIR"))
parser.add_argument("--train", default=os.environ.get("SM_CHANNEL_TRAIN"))
args = parser.parse_args()
data = pd.read_csv(os.path.join(args.train, "claims.csv"))
x, y = data.drop(columns=["fraud"]), data["fraud"]
model = LogisticRegression(C=args.regularization, max_iter=args.max_iter).fit(x, y)
print(f"train_auc={roc_auc_score(y, model.predict_proba(x)[:, 1]):.4f}")
joblib.dump(model, os.path.join(args.model_dir, "model.joblib"))
with open(os.path.join(os.environ["SM_OUTPUT_DATA_DIR"], "env.json"), "w") as f:
    json.dump({k: v for k, v in os.environ.items() if k.startswith("SM_")}, f)
print(f"script_seconds={time.perf_counter() - _t0:.4f}")
'''


def fraud_frame(rows: int | None = None):
    pd = pytest.importorskip("pandas")
    data = pd.read_csv(FRAUD, nrows=rows)
    return data[NUMERIC + ["fraud"]]


def tar_gz(files: dict[str, str]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def fraud_rows(rows: int | None = None, label_first: bool = False) -> list[list[str]]:
    """The numeric columns and the label of ``claims.csv`` (no pandas needed)."""
    columns = (["fraud"] + NUMERIC) if label_first else (NUMERIC + ["fraud"])
    with open(FRAUD, newline="") as f:
        reader = csv.DictReader(f)
        return [[rec[c] for c in columns] for _, rec in zip(range(rows or 10**9), reader)]


def _csv(rows: list[list[str]], header: list[str] | None = None) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    if header:
        writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue().encode()


def put_sklearn_inputs(s3, script: str = SKLEARN_SCRIPT, rows: int | None = None) -> None:
    """The fraud table (with header) and ``sourcedir.tar.gz`` holding ``train.py``."""
    _bucket(s3)
    s3.put_object(Bucket=BUCKET, Key="sklearn/train/claims.csv",
                  Body=_csv(fraud_rows(rows), header=NUMERIC + ["fraud"]))
    s3.put_object(Bucket=BUCKET, Key="code/sourcedir.tar.gz", Body=tar_gz({"train.py": script}))


def put_xgboost_inputs(s3, rows: int | None = None) -> None:
    """``train``/``validation`` CSVs: the label first, no header (the built-in format)."""
    _bucket(s3)
    data = fraud_rows(rows, label_first=True)
    cut = int(len(data) * 0.8)
    for channel, part in (("train", data[:cut]), ("validation", data[cut:])):
        s3.put_object(Bucket=BUCKET, Key=f"xgb/{channel}/data.csv", Body=_csv(part))


def _bucket(s3) -> None:
    try:
        s3.create_bucket(Bucket=BUCKET)
    except s3.exceptions.BucketAlreadyOwnedByYou:
        pass


def channel(name: str, prefix: str, content_type: str | None = None) -> dict:
    out = {"ChannelName": name,
           "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": f"s3://{BUCKET}/{prefix}",
                                           "S3DataDistributionType": "FullyReplicated"}}}
    if content_type:
        out["ContentType"] = content_type
    return out


def sklearn_request(name: str, hyperparameters: dict | None = None, max_runtime: int = 600,
                    metrics: list | None = None, program: str = "train.py") -> dict:
    hps = {"sagemaker_program": json.dumps(program),
           "sagemaker_submit_directory": json.dumps(f"s3://{BUCKET}/code/sourcedir.tar.gz"),
           "sagemaker_container_log_level": "20", "sagemaker_region": json.dumps("us-east-1")}
    hps.update({k: json.dumps(v) for k, v in (hyperparameters or {}).items()})
    return {
        "TrainingJobName": name, "RoleArn": ROLE, "HyperParameters": hps,
        "AlgorithmSpecification": {"TrainingImage": SKLEARN_IMAGE, "TrainingInputMode": "File",
                                   "MetricDefinitions": metrics if metrics is not None else
                                   [{"Name": "train:auc", "Regex": r"train_auc=([0-9.]+)"}]},
        "InputDataConfig": [channel("train", "sklearn/train")],
        "OutputDataConfig": {"S3OutputPath": f"s3://{BUCKET}/output"},
        "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 5},
        "StoppingCondition": {"MaxRuntimeInSeconds": max_runtime},
    }


def xgboost_request(name: str, num_round: int = 20) -> dict:
    return {
        "TrainingJobName": name, "RoleArn": ROLE,
        "HyperParameters": {"objective": "binary:logistic", "num_round": str(num_round),
                            "eval_metric": "logloss,auc", "max_depth": "4", "eta": "0.3"},
        "AlgorithmSpecification": {"TrainingImage": XGBOOST_IMAGE, "TrainingInputMode": "File"},
        "InputDataConfig": [channel("train", "xgb/train", "text/csv"),
                            channel("validation", "xgb/validation", "text/csv")],
        "OutputDataConfig": {"S3OutputPath": f"s3://{BUCKET}/output"},
        "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 5},
        "StoppingCondition": {"MaxRuntimeInSeconds": 600},
    }


def wait_done(sm, name: str, timeout: float = 120.0) -> dict:
    """Describe until the job leaves InProgress/Stopping (a bounded wait, not a timed assertion)."""
    deadline = time.monotonic() + timeout
    while True:
        job = sm.describe_training_job(TrainingJobName=name)
        if job["TrainingJobStatus"] not in ("InProgress", "Stopping") or time.monotonic() > deadline:
            return job
        time.sleep(0.05)


def wait_secondary(sm, name: str, secondary: str, timeout: float = 60.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        job = sm.describe_training_job(TrainingJobName=name)
        if job["SecondaryStatus"] == secondary or job["TrainingJobStatus"] not in ("InProgress",) \
                or time.monotonic() > deadline:
            return job
        time.sleep(0.05)


def read_tar(body: bytes) -> dict[str, bytes]:
    with tarfile.open(fileobj=io.BytesIO(body), mode="r:gz") as tar:
        return {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}

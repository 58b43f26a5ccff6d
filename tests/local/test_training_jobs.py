"""Local training jobs do the work: the fraud model trained by a scikit-learn script and
by the built-in XGBoost algorithm, with the artifacts, metrics and logs AWS would give."""
from __future__ import annotations

import io
import json
import re

import pytest

from tests.contract.test_sagemaker.test_sagemaker_training_support import (
    BUCKET, NUMERIC, fraud_frame, put_sklearn_inputs, put_xgboost_inputs, read_tar,
    sklearn_request, wait_done, xgboost_request)

pytestmark = pytest.mark.slow
LOG_GROUP = "/aws/sagemaker/TrainingJobs"


def _artifact(s3, uri: str) -> dict[str, bytes]:
    bucket, key = uri[5:].split("/", 1)
    return read_tar(s3.get_object(Bucket=bucket, Key=key)["Body"].read())


def _log_messages(session, job: str) -> list[str]:
    logs = session.client("logs")
    streams = logs.describe_log_streams(logGroupName=LOG_GROUP, logStreamNamePrefix=f"{job}/")["logStreams"]
    assert len(streams) == 1 and re.fullmatch(rf"{job}/algo-1-\d+", streams[0]["logStreamName"])
    events = logs.get_log_events(logGroupName=LOG_GROUP, logStreamName=streams[0]["logStreamName"],
                                 startFromHead=True)["events"]
    return [e["message"] for e in events]


def test_sklearn_script_mode_on_fraud(local_session):
    joblib = pytest.importorskip("joblib")
    s3, sm = local_session.client("s3"), local_session.client("sagemaker")
    put_sklearn_inputs(s3)
    sm.create_training_job(**sklearn_request("fraud-sklearn", {"regularization": 0.5}))
    job = wait_done(sm, "fraud-sklearn")
    assert job["TrainingJobStatus"] == "Completed", job.get("FailureReason")
    assert [t["Status"] for t in job["SecondaryStatusTransitions"]] == \
        ["Starting", "Downloading", "Training", "Uploading", "Completed"]
    assert all(t["EndTime"] >= t["StartTime"] for t in job["SecondaryStatusTransitions"])
    assert job["TrainingStartTime"] <= job["TrainingEndTime"]
    assert job["TrainingTimeInSeconds"] >= 1

    # the model artifact loads and predicts
    files = _artifact(s3, job["ModelArtifacts"]["S3ModelArtifacts"])
    model = joblib.load(io.BytesIO(files["model.joblib"]))
    assert model.C == 0.5  # the hyperparameter reached the script as --regularization 0.5
    proba = model.predict_proba(fraud_frame(50)[NUMERIC])[:, 1]
    assert proba.shape == (50,) and ((0 <= proba) & (proba <= 1)).all()

    # the script saw the toolkit's environment (written to output/data -> output.tar.gz)
    output = _artifact(s3, f"s3://{BUCKET}/output/fraud-sklearn/output/output.tar.gz")
    env = json.loads(output["env.json"])
    assert env["SM_CHANNELS"] == '["train"]'
    assert env["SM_HP_REGULARIZATION"] == "0.5"
    assert env["SM_HPS"] == '{"regularization":0.5}'
    assert env["SM_MODEL_DIR"].endswith("/model") and env["SM_CHANNEL_TRAIN"].endswith("/input/data/train")
    assert env["SM_CURRENT_HOST"] == "algo-1" and env["SM_HOSTS"] == '["algo-1"]'
    assert json.loads(env["SM_TRAINING_ENV"])["job_name"] == "fraud-sklearn"
    assert env["SM_USER_ENTRY_POINT"] == "train.py"

    # the metric definition applied to the log: in describe and in CloudWatch
    (metric,) = job["FinalMetricDataList"]
    assert metric["MetricName"] == "train:auc" and 0.5 < metric["Value"] <= 1.0
    cw = local_session.client("cloudwatch")
    listed = cw.list_metrics(Namespace="/aws/sagemaker/TrainingJobs", MetricName="train:auc")["Metrics"]
    assert [{"Name": "Host", "Value": "fraud-sklearn/algo-1"}] in [m["Dimensions"] for m in listed]

    messages = _log_messages(local_session, "fraud-sklearn")
    assert any(m.startswith("train_auc=") for m in messages)
    assert any(m.startswith("script_seconds=") for m in messages)


def test_builtin_xgboost_on_fraud(local_session):
    xgb = pytest.importorskip("xgboost")
    s3, sm = local_session.client("s3"), local_session.client("sagemaker")
    put_xgboost_inputs(s3)
    sm.create_training_job(**xgboost_request("fraud-xgboost", num_round=15))
    job = wait_done(sm, "fraud-xgboost")
    assert job["TrainingJobStatus"] == "Completed", job.get("FailureReason")
    assert job["ModelArtifacts"]["S3ModelArtifacts"] == \
        f"s3://{BUCKET}/output/fraud-xgboost/output/model.tar.gz"

    files = _artifact(s3, job["ModelArtifacts"]["S3ModelArtifacts"])
    booster = xgb.Booster()
    booster.load_model(bytearray(files["xgboost-model"]))
    pred = booster.predict(xgb.DMatrix(fraud_frame(100)[NUMERIC].to_numpy(dtype="float32")))
    assert pred.shape == (100,) and ((0 <= pred) & (pred <= 1)).all()
    assert booster.num_boosted_rounds() == 15

    # the built-in metric definitions apply to the container's log lines
    final = {m["MetricName"]: m["Value"] for m in job["FinalMetricDataList"]}
    assert set(final) == {"train:logloss", "validation:logloss", "train:auc", "validation:auc"}
    assert final["train:logloss"] < final["validation:logloss"] < 0.69
    assert any(d["Name"] == "validation:auc" for d in job["AlgorithmSpecification"]["MetricDefinitions"])
    messages = _log_messages(local_session, "fraud-xgboost")
    rounds = [m for m in messages if re.match(r"\[\d+\]#011train-logloss:", m)]
    assert len(rounds) == 15
    assert re.fullmatch(r"\[0\]#011train-logloss:[0-9.]+#011train-auc:[0-9.]+"
                        r"#011validation-logloss:[0-9.]+#011validation-auc:[0-9.]+", rounds[0])


def test_builtin_xgboost_libsvm_without_validation(local_session):
    pytest.importorskip("xgboost")
    s3, sm = local_session.client("s3"), local_session.client("sagemaker")
    put_xgboost_inputs(s3, rows=200)
    data = fraud_frame(200)
    lines = [" ".join([str(int(r.fraud))] + [f"{i + 1}:{getattr(r, c)}" for i, c in enumerate(NUMERIC)])
             for r in data.itertuples()]
    s3.put_object(Bucket=BUCKET, Key="svm/train/part-0", Body="\n".join(lines).encode())
    request = xgboost_request("svm-xgboost", num_round=3)
    request["InputDataConfig"] = [{"ChannelName": "train", "ContentType": "text/libsvm", "DataSource": {
        "S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": f"s3://{BUCKET}/svm/train/"}}}]
    request["HyperParameters"]["eval_metric"] = "error"
    sm.create_training_job(**request)
    job = wait_done(sm, "svm-xgboost")
    assert job["TrainingJobStatus"] == "Completed", job.get("FailureReason")
    assert [m["MetricName"] for m in job["FinalMetricDataList"]] == ["train:error"]


def test_builtin_xgboost_bad_hyperparameter_fails_with_its_reason(local_session):
    pytest.importorskip("xgboost")
    s3, sm = local_session.client("s3"), local_session.client("sagemaker")
    put_xgboost_inputs(s3, rows=100)
    request = xgboost_request("xgb-no-rounds")
    del request["HyperParameters"]["num_round"]
    sm.create_training_job(**request)
    job = wait_done(sm, "xgb-no-rounds")
    assert job["TrainingJobStatus"] == "Failed"
    assert job["FailureReason"] == "AlgorithmError: ClientError: Missing required hyperparameter: num_round"


LIST_FILES = """
import os
root = os.environ["SM_CHANNEL_TRAIN"]
found = sorted(os.path.relpath(os.path.join(d, f), root) for d, _, fs in os.walk(root) for f in fs)
with open(os.path.join(os.environ["SM_MODEL_DIR"], "files.txt"), "w") as out:
    out.write(",".join(found))
"""


def test_manifest_file_channel_downloads_the_listed_objects(local_session):
    """``S3DataType: ManifestFile``: the prefix and the relative keys it lists, nothing else,
    laid out under the channel by their relative keys."""
    s3, sm = local_session.client("s3"), local_session.client("sagemaker")
    put_sklearn_inputs(s3, script=LIST_FILES, rows=5)
    for key in ("listed/a.csv", "listed/sub/b.csv", "listed/not-in-manifest.csv"):
        s3.put_object(Bucket=BUCKET, Key=key, Body=b"1,2\n")
    manifest = [{"prefix": f"s3://{BUCKET}/listed/"}, "a.csv", "sub/b.csv"]
    s3.put_object(Bucket=BUCKET, Key="manifests/train.manifest", Body=json.dumps(manifest).encode())
    request = sklearn_request("manifest-job")
    request["InputDataConfig"][0]["DataSource"]["S3DataSource"].update(
        S3DataType="ManifestFile", S3Uri=f"s3://{BUCKET}/manifests/train.manifest")
    sm.create_training_job(**request)
    job = wait_done(sm, "manifest-job")
    assert job["TrainingJobStatus"] == "Completed", job.get("FailureReason")
    assert job["InputDataConfig"][0]["DataSource"]["S3DataSource"]["S3DataType"] == "ManifestFile"
    assert _artifact(s3, job["ModelArtifacts"]["S3ModelArtifacts"]) == {"files.txt": b"a.csv,sub/b.csv"}


def test_a_manifest_that_is_not_one_fails_the_job(local_session):
    s3, sm = local_session.client("s3"), local_session.client("sagemaker")
    put_sklearn_inputs(s3, script=LIST_FILES, rows=5)
    s3.put_object(Bucket=BUCKET, Key="manifests/bad.manifest", Body=b"a.csv\nb.csv\n")
    request = sklearn_request("bad-manifest")
    request["InputDataConfig"][0]["DataSource"]["S3DataSource"].update(
        S3DataType="ManifestFile", S3Uri=f"s3://{BUCKET}/manifests/bad.manifest")
    sm.create_training_job(**request)
    job = wait_done(sm, "bad-manifest")
    assert job["TrainingJobStatus"] == "Failed"
    assert job["FailureReason"].startswith("ClientError: ") and "is not a manifest file" in job["FailureReason"]


def test_augmented_manifest_channels_are_refused_loudly(local_session):
    from local_backends.core.errors import NotImplementedByBackend

    s3, sm = local_session.client("s3"), local_session.client("sagemaker")
    put_sklearn_inputs(s3, script=LIST_FILES, rows=5)
    request = sklearn_request("augmented")
    request["InputDataConfig"][0]["DataSource"]["S3DataSource"].update(
        S3DataType="AugmentedManifestFile", S3Uri=f"s3://{BUCKET}/manifests/x.manifest", AttributeNames=["source"])
    with pytest.raises(NotImplementedByBackend, match="AugmentedManifestFile"):
        sm.create_training_job(**request)
    assert sm.list_training_jobs()["TrainingJobSummaries"] == []

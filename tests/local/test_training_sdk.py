"""Jobs as the SageMaker Python SDK v3 sends them: ``ModelTrainer`` replaces the image's
command (``ContainerEntrypoint``) with its ``sm_drivers`` channel, whose scripts hold
``/opt/ml`` paths; the local backend maps them to the job directory."""
from __future__ import annotations

import os

import pytest

from tests.contract.test_sagemaker.test_sagemaker_training_support import (
    BUCKET, ROLE, SKLEARN_IMAGE, channel, read_tar, tar_gz, wait_done)

pytestmark = pytest.mark.slow

DRIVER = """#!/bin/bash
set -e
cd /opt/ml/input/data/code
python3 train.py --epochs "$1"
echo "driver done" > /opt/ml/output/data/driver.txt
"""
TRAIN = """
import argparse, os
p = argparse.ArgumentParser(); p.add_argument("--epochs", type=int); a = p.parse_args()
with open(os.path.join(os.environ["SM_MODEL_DIR"], "model.txt"), "w") as f:
    f.write(f"epochs={a.epochs}")
print("train_auc=0.8")
"""


def test_container_entrypoint_runs_with_opt_ml_mapped(local_session):
    s3, sm = local_session.client("s3"), local_session.client("sagemaker")
    s3.create_bucket(Bucket=BUCKET)
    s3.put_object(Bucket=BUCKET, Key="v3/code/train.py", Body=TRAIN.encode())
    s3.put_object(Bucket=BUCKET, Key="v3/sm_drivers/sm_train.sh", Body=DRIVER.encode())
    sm.create_training_job(
        TrainingJobName="entrypoint-job", RoleArn=ROLE,
        AlgorithmSpecification={
            "TrainingImage": SKLEARN_IMAGE, "TrainingInputMode": "File",
            "ContainerEntrypoint": ["/bin/bash"],
            "ContainerArguments": ["-c", "chmod +x /opt/ml/input/data/sm_drivers/sm_train.sh "
                                         "&& /opt/ml/input/data/sm_drivers/sm_train.sh 4"],
            "MetricDefinitions": [{"Name": "train:auc", "Regex": "train_auc=([0-9.]+)"}]},
        InputDataConfig=[channel("code", "v3/code/"), channel("sm_drivers", "v3/sm_drivers/")],
        OutputDataConfig={"S3OutputPath": f"s3://{BUCKET}/v3-out"},
        ResourceConfig={"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 1},
        StoppingCondition={"MaxRuntimeInSeconds": 300})
    job = wait_done(sm, "entrypoint-job")
    assert job["TrainingJobStatus"] == "Completed", job.get("FailureReason")
    body = s3.get_object(Bucket=BUCKET, Key="v3-out/entrypoint-job/output/model.tar.gz")["Body"].read()
    assert read_tar(body) == {"model.txt": b"epochs=4"}
    output = s3.get_object(Bucket=BUCKET, Key="v3-out/entrypoint-job/output/output.tar.gz")["Body"].read()
    assert read_tar(output) == {"driver.txt": b"driver done\n"}
    assert job["FinalMetricDataList"][0]["Value"] == 0.8


def test_model_trainer_runs_unmodified(local_session, tmp_path, monkeypatch):
    """``sagemaker.train.ModelTrainer`` (the ``aws`` extra), on the local backend's boto3 session."""
    pytest.importorskip("sagemaker.train")
    from sagemaker.core.helper.session_helper import Session as SageMakerSession
    from sagemaker.train import ModelTrainer
    from sagemaker.train.configs import Compute, SourceCode

    # the SDK checks the role with iam:SimulatePrincipalPolicy; there is no local IAM yet
    monkeypatch.setenv("SAGEMAKER_VALIDATE_ROLE", "false")
    source = tmp_path / "src"
    source.mkdir()
    (source / "train.py").write_text(
        "import argparse, os\np = argparse.ArgumentParser(); p.add_argument('--epochs', type=int)\n"
        "a, _ = p.parse_known_args()\n"
        "open(os.path.join(os.environ['SM_MODEL_DIR'], 'model.txt'), 'w').write(f'epochs={a.epochs}')\n")
    trainer = ModelTrainer(
        training_image=SKLEARN_IMAGE, role=ROLE, base_job_name="model-trainer",
        source_code=SourceCode(source_dir=str(source), entry_script="train.py"),
        compute=Compute(instance_type="ml.m5.large", instance_count=1),
        hyperparameters={"epochs": 3},
        sagemaker_session=SageMakerSession(boto_session=local_session.boto3_session))
    trainer.train(wait=True, logs=False)
    name = trainer._latest_training_job.training_job_name
    job = local_session.client("sagemaker").describe_training_job(TrainingJobName=name)
    assert job["TrainingJobStatus"] == "Completed", job.get("FailureReason")
    uri = job["ModelArtifacts"]["S3ModelArtifacts"]
    bucket, key = uri[5:].split("/", 1)
    body = local_session.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
    assert read_tar(body) == {"model.txt": b"epochs=3"}

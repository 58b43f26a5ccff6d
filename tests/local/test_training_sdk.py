"""Jobs as the SageMaker Python SDK v3 sends them: ``ModelTrainer`` replaces the image's
command (``ContainerEntrypoint``) with its ``sm_drivers`` channel, whose scripts hold
``/opt/ml`` paths; the local backend maps them to the job directory."""
from __future__ import annotations

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


@pytest.fixture
def core_clients():
    """sagemaker-core caches its SageMaker and CloudWatch Logs clients per process
    (``SingletonMeta``): start and end each test without them."""
    pytest.importorskip("sagemaker.core.resources")
    from sagemaker.core.utils.utils import SingletonMeta

    SingletonMeta._instances.clear()
    yield
    SingletonMeta._instances.clear()


def test_sagemaker_core_training_job_runs_unmodified(local_session, core_clients, monkeypatch, caplog):
    """sagemaker-core's ``TrainingJob`` resource: create, wait with the log stream, get, list.
    ``wait(logs=True)`` reads CloudWatch Logs through a ``boto3.Session()`` of its own, so the
    session is activated for this process (as ``moto.mock_aws`` would be) and the region set."""
    import logging

    from sagemaker.core import shapes
    from sagemaker.core.resources import TrainingJob

    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    local_session.activate()
    s3 = local_session.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    s3.put_object(Bucket=BUCKET, Key="core/train/rows.csv", Body=b"1,2\n3,4\n")
    s3.put_object(Bucket=BUCKET, Key="core/code/sourcedir.tar.gz", Body=tar_gz({"train.py": TRAIN}))
    boto = local_session.boto3_session
    job = TrainingJob.create(
        training_job_name="core-job", role_arn=ROLE,
        hyper_parameters={"sagemaker_program": '"train.py"', "epochs": "2",
                          "sagemaker_submit_directory": f'"s3://{BUCKET}/core/code/sourcedir.tar.gz"'},
        algorithm_specification=shapes.AlgorithmSpecification(
            training_image=SKLEARN_IMAGE, training_input_mode="File",
            metric_definitions=[shapes.MetricDefinition(name="train:auc", regex=r"train_auc=([0-9.]+)")]),
        input_data_config=[shapes.Channel(channel_name="train", data_source=shapes.DataSource(
            s3_data_source=shapes.S3DataSource(s3_data_type="S3Prefix", s3_uri=f"s3://{BUCKET}/core/train/")))],
        output_data_config=shapes.OutputDataConfig(s3_output_path=f"s3://{BUCKET}/core-out"),
        resource_config=shapes.ResourceConfig(instance_type="ml.m5.large", instance_count=1, volume_size_in_gb=1),
        stopping_condition=shapes.StoppingCondition(max_runtime_in_seconds=300),
        session=boto, region="us-east-1")
    with caplog.at_level(logging.INFO):
        job.wait(poll=1, logs=True)
    assert job.training_job_status == "Completed", job.failure_reason
    assert any("train_auc=0.8" in r.getMessage() for r in caplog.records)  # the job's log, streamed
    assert [t.status for t in job.secondary_status_transitions] == \
        ["Starting", "Downloading", "Training", "Uploading", "Completed"]
    assert [(m.metric_name, m.value) for m in job.final_metric_data_list] == [("train:auc", 0.8)]
    assert job.model_artifacts.s3_model_artifacts == f"s3://{BUCKET}/core-out/core-job/output/model.tar.gz"
    body = s3.get_object(Bucket=BUCKET, Key="core-out/core-job/output/model.tar.gz")["Body"].read()
    assert read_tar(body) == {"model.txt": b"epochs=2"}
    again = TrainingJob.get(training_job_name="core-job", session=boto, region="us-east-1")
    assert again.training_job_arn == job.training_job_arn
    assert [j.training_job_name for j in TrainingJob.get_all(session=boto, region="us-east-1")] == ["core-job"]

"""The pipeline on LocalStack: S3, CloudWatch, Logs, SNS and IAM are LocalStack's, the
services its free edition lacks (SageMaker, Athena, Glue, Feature Store) are served
locally — and the training, tuning and AutoML job processes the local SageMaker starts
reach LocalStack's S3 like their creator (``AWS_ML_JOB_SESSION``)."""
from __future__ import annotations

import pytest

from aws_ml import Session, serving
from aws_ml.pipeline import run
from tests.unit.pipeline_support import small_pipeline, write_pipeline

pytestmark = [pytest.mark.slow, pytest.mark.server]


def test_the_eight_sections_run_on_localstack(localstack_server, tmp_path):
    spec = small_pipeline(tmp_path, training={"hyperparameters": {"num_round": 10, "max_depth": 3}},
                          deployment={"data_capture": True}, monitoring={"requests": 60, "alarms": True},
                          tuning={"strategy": "random", "max_jobs": 2, "ranges": {"max_depth": [2, 4]}})
    with Session(backend="localstack", endpoint_url=localstack_server.endpoint_url, home=tmp_path / "home",
                 region="us-east-1") as session:
        try:
            result = run(write_pipeline(tmp_path, spec), session, progress=False)
            assert [s.status for s in result.steps] == ["done"] * 8, [(s.name, s.message) for s in result.steps]
            assert session.backend_for("s3") == "localstack" and session.backend_for("sagemaker") == "local"
            # the model the detached training process wrote is in LocalStack's S3
            model = result.step("training").outputs["model_data"]
            bucket, _, key = model[5:].partition("/")
            s3 = session.client("s3")
            assert s3.meta.endpoint_url == localstack_server.endpoint_url
            assert s3.head_object(Bucket=bucket, Key=key)["ContentLength"] > 0
            # and so is the state of the run, beside the artefacts
            assert result.state.startswith(f"s3://{result.bucket}/")
            # the quality metrics and alarms are LocalStack's CloudWatch
            cw = session.client("cloudwatch")
            assert cw.list_metrics(Namespace="aws-ml/ModelQuality")["Metrics"]
            alarms = result.step("monitoring").outputs["cloudwatch"]["alarms"]
            assert [a["AlarmName"] for a in cw.describe_alarms(AlarmNames=alarms)["MetricAlarms"]] == sorted(alarms) \
                or len(cw.describe_alarms(AlarmNames=alarms)["MetricAlarms"]) == len(alarms)
            trials = result.step("tuning").outputs["trials"]
            assert len(trials) == 2 and all(t["status"] == "Completed" for t in trials)
        finally:
            for e in session.client("sagemaker").list_endpoints()["Endpoints"]:
                serving.delete(session, e["EndpointName"])

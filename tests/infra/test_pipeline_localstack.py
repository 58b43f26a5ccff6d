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


def test_labelling_feeds_a_comprehend_classifier_on_localstack(localstack_server, tmp_path):
    """Ground Truth and Comprehend (served locally: LocalStack's free edition has neither)
    read their manifests from and write their outputs to LocalStack's S3, including from the
    detached classifier-training process."""
    import time

    from aws_ml import datasets
    from aws_ml.labeling import label_dataframe

    reviews = datasets.load("reviews/imdb_sentences").sample(120, random_state=5).reset_index(drop=True)
    with Session(backend="localstack", endpoint_url=localstack_server.endpoint_url, home=tmp_path / "home",
                 region="us-east-1") as session:
        assert session.backend_for("s3") == "localstack"
        assert session.backend_for("comprehend") == "local" and session.backend_for("sagemaker") == "local"
        result = label_dataframe(session, reviews, text_column="text", categories=["NEGATIVE", "POSITIVE"],
                                 job_name="ls-reviews", bucket="ls-labels",
                                 workers="simulated:count=3,accuracy=0.8,truth=sentiment,seed=2", progress=False)
        assert result.status == "Completed"
        s3 = session.client("s3")
        assert s3.meta.endpoint_url == localstack_server.endpoint_url
        manifest = s3.get_object(Bucket="ls-labels", Key=result.output_manifest_uri.split("/", 3)[3])
        lines = manifest["Body"].read().decode().splitlines()
        assert len(lines) == 120
        comprehend = session.client("comprehend")
        arn = comprehend.create_document_classifier(
            DocumentClassifierName="ls-from-ground-truth", LanguageCode="en",
            DataAccessRoleArn="arn:aws:iam::000000000000:role/comprehend-data-access",
            InputDataConfig={"DataFormat": "AUGMENTED_MANIFEST", "AugmentedManifests": [
                {"S3Uri": result.output_manifest_uri, "AttributeNames": [result.job_name]}]},
            OutputDataConfig={"S3Uri": "s3://ls-labels/comprehend/"})["DocumentClassifierArn"]
        deadline = time.monotonic() + 120
        while True:
            props = comprehend.describe_document_classifier(
                DocumentClassifierArn=arn)["DocumentClassifierProperties"]
            if props["Status"] in ("TRAINED", "IN_ERROR") or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert props["Status"] == "TRAINED", props.get("Message")
        meta = props["ClassifierMetadata"]
        assert meta["NumberOfTrainedDocuments"] + meta["NumberOfTestDocuments"] == 120
        # the training output (confusion matrix), written by the detached training process,
        # is in LocalStack's S3
        out = props["OutputDataConfig"]["S3Uri"]
        assert out.startswith("s3://ls-labels/comprehend/") and out.endswith("/output/output.tar.gz")
        assert s3.head_object(Bucket="ls-labels", Key=out[len("s3://ls-labels/"):])["ContentLength"] > 0
        # it serves: a real endpoint classifies a review read back from LocalStack's S3
        endpoint = comprehend.create_endpoint(EndpointName="ls-reviews", ModelArn=arn,
                                              DesiredInferenceUnits=1)["EndpointArn"]
        answer = comprehend.classify_document(Text=reviews.text[0], EndpointArn=endpoint)
        assert {c["Name"] for c in answer["Classes"]} == {"NEGATIVE", "POSITIVE"}

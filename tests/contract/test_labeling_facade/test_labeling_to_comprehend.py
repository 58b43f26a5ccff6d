"""Ground Truth feeds Comprehend as on AWS: a custom classifier trained from a labelling
job's output manifest (``DataFormat: AUGMENTED_MANIFEST``) reaches TRAINED with metrics."""
from __future__ import annotations

import time

import pytest

from aws_ml import datasets
from aws_ml.labeling import label_dataframe

pytest.importorskip("sklearn")
pytestmark = pytest.mark.slow
ROLE = "arn:aws:iam::123456789012:role/comprehend-data-access"


def test_classifier_from_labelling_output(local_session):
    reviews = datasets.load("reviews/imdb_sentences").sample(200, random_state=3).reset_index(drop=True)
    result = label_dataframe(local_session, reviews, text_column="text", categories=["NEGATIVE", "POSITIVE"],
                             job_name="reviews-for-comprehend", bucket="labels-to-comprehend",
                             workers="simulated:count=3,accuracy=0.8,truth=sentiment,seed=1", progress=False)
    assert result.status == "Completed" and result.output_manifest_uri.endswith("manifests/output/output.manifest")
    comprehend = local_session.client("comprehend")
    arn = comprehend.create_document_classifier(
        DocumentClassifierName="from-ground-truth", DataAccessRoleArn=ROLE, LanguageCode="en",
        InputDataConfig={"DataFormat": "AUGMENTED_MANIFEST", "AugmentedManifests": [
            {"S3Uri": result.output_manifest_uri, "AttributeNames": [result.job_name]}]},
        OutputDataConfig={"S3Uri": "s3://labels-to-comprehend/comprehend/"})["DocumentClassifierArn"]
    for _ in range(1200):
        props = comprehend.describe_document_classifier(DocumentClassifierArn=arn)["DocumentClassifierProperties"]
        if props["Status"] in ("TRAINED", "IN_ERROR"):
            break
        time.sleep(0.05)
    assert props["Status"] == "TRAINED", props.get("Message")
    metrics = props["ClassifierMetadata"]["EvaluationMetrics"]
    assert 0.0 <= metrics["Accuracy"] <= 1.0 and props["ClassifierMetadata"]["NumberOfLabels"] == 2
    assert props["ClassifierMetadata"]["NumberOfTrainedDocuments"] + \
        props["ClassifierMetadata"]["NumberOfTestDocuments"] == 200

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
    everything = datasets.load("reviews/imdb_sentences")
    sample = everything.sample(200, random_state=3)
    held_out = everything.drop(index=sample.index).head(300)
    reviews = sample.reset_index(drop=True)
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
    meta = props["ClassifierMetadata"]
    metrics = meta["EvaluationMetrics"]
    assert meta["NumberOfLabels"] == 2                     # the class names, read from -metadata
    assert meta["NumberOfTrainedDocuments"] + meta["NumberOfTestDocuments"] == 200
    assert all(0.0 <= v <= 1.0 for v in metrics.values())
    # real metrics of a single-label model: micro precision/recall are the accuracy
    assert metrics["MicroPrecision"] == pytest.approx(metrics["Accuracy"])
    assert metrics["HammingLoss"] == pytest.approx(1 - metrics["Accuracy"])
    # and the model learnt the labels: served by an endpoint, it beats chance on other sentences
    endpoint = comprehend.create_endpoint(EndpointName="from-ground-truth", ModelArn=arn,
                                          DesiredInferenceUnits=1)["EndpointArn"]
    right = sum(comprehend.classify_document(EndpointArn=endpoint, Text=text)["Classes"][0]["Name"] == label
                for text, label in zip(held_out.text, held_out.sentiment))
    print(f"classifier trained on the labelling output: {right / len(held_out):.3f} on 300 other sentences")
    assert right / len(held_out) > 0.6

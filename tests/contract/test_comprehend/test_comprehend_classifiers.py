"""Custom document classifiers: the lifecycle on local and moto; training and
classification for real on local (moto records classifiers but never trains them)."""
from __future__ import annotations

import csv
import io
import time

import pytest

from aws_ml import Session

ROLE = "arn:aws:iam::123456789012:role/comprehend-data-access"


def wait_trained(comprehend, arn, timeout=120):
    deadline = time.monotonic() + timeout
    while True:
        props = comprehend.describe_document_classifier(DocumentClassifierArn=arn)["DocumentClassifierProperties"]
        if props["Status"] not in ("SUBMITTED", "TRAINING") or time.monotonic() > deadline:
            return props
        time.sleep(0.2)


def csv_body(rows, label=lambda r: r["sentiment"]):
    buf = io.StringIO()
    writer = csv.writer(buf)
    for r in rows:
        writer.writerow([label(r), r["text"]])
    return buf.getvalue().encode("utf-8")


@pytest.fixture
def bucket(session):
    s3 = session.client("s3")
    s3.create_bucket(Bucket="training-data")
    return s3


def test_classifier_is_described_and_listed(session, bucket):
    bucket.put_object(Bucket="training-data", Key="reviews.csv",
                      Body=b"POSITIVE,great film\nNEGATIVE,awful film\n" * 10)
    comprehend = session.client("comprehend")
    arn = comprehend.create_document_classifier(
        DocumentClassifierName="reviews", VersionName="v1", DataAccessRoleArn=ROLE,
        InputDataConfig={"S3Uri": "s3://training-data/reviews.csv"}, LanguageCode="en",
        Mode="MULTI_CLASS")["DocumentClassifierArn"]
    props = comprehend.describe_document_classifier(DocumentClassifierArn=arn)["DocumentClassifierProperties"]
    assert props["DocumentClassifierArn"] == arn
    assert props["LanguageCode"] == "en" and props["Mode"] == "MULTI_CLASS"
    assert props["Status"] in ("SUBMITTED", "TRAINING", "TRAINED")
    assert props["InputDataConfig"]["S3Uri"] == "s3://training-data/reviews.csv"
    listed = comprehend.list_document_classifiers()["DocumentClassifierPropertiesList"]
    assert [p["DocumentClassifierArn"] for p in listed] == [arn]


def test_classifier_arn_carries_its_version(session):
    comprehend = session.client("comprehend")
    if session.backend == "moto":
        pytest.xfail("moto builds document-classifier/<name>/<version>; AWS's ARN is "
                     "document-classifier/<name>/version/<version>")
    arn = comprehend.create_document_classifier(
        DocumentClassifierName="reviews", VersionName="v1", DataAccessRoleArn=ROLE,
        InputDataConfig={"S3Uri": "s3://missing-bucket/reviews.csv"}, LanguageCode="en")["DocumentClassifierArn"]
    assert arn == "arn:aws:comprehend:us-east-1:123456789012:document-classifier/reviews/version/v1"


def test_unknown_classifier_is_resource_not_found(session):
    comprehend = session.client("comprehend")
    with pytest.raises(comprehend.exceptions.ResourceNotFoundException):
        comprehend.describe_document_classifier(
            DocumentClassifierArn="arn:aws:comprehend:us-east-1:123456789012:document-classifier/nope")


def _train_and_classify(session, reviews):
    s3 = session.client("s3")
    s3.create_bucket(Bucket="training-data")
    s3.put_object(Bucket="training-data", Key="train/reviews.csv", Body=csv_body(reviews[0::2]))
    comprehend = session.client("comprehend")
    arn = comprehend.create_document_classifier(
        DocumentClassifierName="reviews", DataAccessRoleArn=ROLE,
        InputDataConfig={"S3Uri": "s3://training-data/train/"}, LanguageCode="en")["DocumentClassifierArn"]
    props = wait_trained(comprehend, arn)
    assert props["Status"] == "TRAINED", props.get("Message")
    assert props["TrainingStartTime"] <= props["TrainingEndTime"]
    endpoint = comprehend.create_endpoint(EndpointName="reviews", ModelArn=arn,
                                          DesiredInferenceUnits=1)["EndpointArn"]
    assert comprehend.describe_endpoint(EndpointArn=endpoint)["EndpointProperties"]["Status"] == "IN_SERVICE"
    held_out = reviews[1::2]
    right = 0
    for r in held_out:
        classes = comprehend.classify_document(EndpointArn=endpoint, Text=r["text"])["Classes"]
        assert {c["Name"] for c in classes} == {"POSITIVE", "NEGATIVE"}
        assert sum(c["Score"] for c in classes) == pytest.approx(1.0)
        right += classes[0]["Name"] == r["sentiment"]
    return props, right / len(held_out), comprehend, arn, endpoint


@pytest.mark.slow  # trains in a subprocess and classifies 500 sentences (~8 s)
def test_classifier_trained_on_half_the_reviews_classifies_the_other_half(local_session, reviews):
    props, accuracy, comprehend, arn, endpoint = _train_and_classify(local_session, reviews)
    print(f"custom classifier accuracy on the held-out half: {accuracy:.3f}")
    assert accuracy >= 0.75
    meta = props["ClassifierMetadata"]
    assert meta["NumberOfLabels"] == 2
    assert meta["NumberOfTrainedDocuments"] + meta["NumberOfTestDocuments"] == 500
    assert meta["NumberOfTestDocuments"] == 50  # AWS holds 10 % out
    metrics = meta["EvaluationMetrics"]
    # single-label: micro precision = micro recall = accuracy, Hamming loss = 1 - accuracy
    assert metrics["MicroPrecision"] == pytest.approx(metrics["Accuracy"])
    assert metrics["MicroRecall"] == pytest.approx(metrics["Accuracy"])
    assert metrics["HammingLoss"] == pytest.approx(1 - metrics["Accuracy"])
    assert all(0 <= v <= 1 for v in metrics.values())
    # the held-out 10 % estimate agrees with the accuracy measured on 500 other sentences
    assert abs(metrics["Accuracy"] - accuracy) <= 0.15
    # a classifier in use by an endpoint cannot be deleted; once the endpoint is gone it can
    with pytest.raises(comprehend.exceptions.ResourceInUseException):
        comprehend.delete_document_classifier(DocumentClassifierArn=arn)
    comprehend.delete_endpoint(EndpointArn=endpoint)
    comprehend.delete_document_classifier(DocumentClassifierArn=arn)
    with pytest.raises(comprehend.exceptions.ResourceNotFoundException):
        comprehend.describe_document_classifier(DocumentClassifierArn=arn)


@pytest.mark.slow
def test_classifier_reads_its_data_from_moto_s3(home, reviews):
    with Session(backend="moto", services={"comprehend": "local"}, home=home, region="us-east-1") as s:
        props, accuracy, *_ = _train_and_classify(s, reviews[:200] + reviews[500:700])
    assert props["Status"] == "TRAINED" and accuracy > 0.6


def test_custom_classification_languages_are_aws_matrix(session):
    """Custom classification is de/en/es/fr/it/pt: another code of the LanguageCode enum is
    UnsupportedLanguageException, a code outside it ValidationException; nothing is stored."""
    comprehend = session.client("comprehend")
    kwargs = dict(DataAccessRoleArn=ROLE, InputDataConfig={"S3Uri": "s3://training-data/reviews.csv"})
    if session.backend == "moto":
        pytest.xfail("moto accepts any LanguageCode for CreateDocumentClassifier")
    with pytest.raises(comprehend.exceptions.UnsupportedLanguageException):
        comprehend.create_document_classifier(DocumentClassifierName="ja", LanguageCode="ja", **kwargs)
    with pytest.raises(comprehend.exceptions.ClientError) as err:
        comprehend.create_document_classifier(DocumentClassifierName="xx", LanguageCode="xx", **kwargs)
    assert err.value.response["Error"]["Code"] == "ValidationException"
    assert comprehend.list_document_classifiers()["DocumentClassifierPropertiesList"] == []
    for language in ("de", "es", "fr", "it", "pt"):
        comprehend.create_document_classifier(DocumentClassifierName=language, LanguageCode=language, **kwargs)
    assert len(comprehend.list_document_classifiers()["DocumentClassifierPropertiesList"]) == 5

"""Local-only behaviour of custom classification: multi-label, augmented manifests,
training failures, endpoints' errors, and the parsers of the training data."""
from __future__ import annotations

import json
import time

import pytest

pytest.importorskip("sklearn")

from local_backends.comprehend.training import parse_csv, parse_manifest  # noqa: E402

ROLE = "arn:aws:iam::123456789012:role/comprehend-data-access"
GENRES = [("ACTION|COMEDY", "a funny car chase with explosions and jokes"),
          ("ACTION", "explosions gunfights and a car chase"),
          ("COMEDY", "jokes and laughs all the way, very funny"),
          ("DRAMA", "a sad story of loss and grief"),
          ("DRAMA|COMEDY", "a sad story told with jokes and laughs"),
          ("ACTION|DRAMA", "a war story of loss with gunfights")]


def wait(comprehend, arn, timeout=120):
    deadline = time.monotonic() + timeout
    while True:
        props = comprehend.describe_document_classifier(DocumentClassifierArn=arn)["DocumentClassifierProperties"]
        if props["Status"] not in ("SUBMITTED", "TRAINING") or time.monotonic() > deadline:
            return props
        time.sleep(0.2)


@pytest.fixture
def clients(local_session):
    s3 = local_session.client("s3")
    s3.create_bucket(Bucket="data")
    return s3, local_session.client("comprehend")


def test_parse_csv_multi_class_and_multi_label():
    texts, labels = parse_csv('POS,"good, really good"\nNEG,bad\n\n', "MULTI_CLASS", "|")
    assert texts == ["good, really good", "bad"] and labels == ["POS", "NEG"]
    texts, labels = parse_csv("A|B,both\nB,one\n", "MULTI_LABEL", "|")
    assert labels == [["A", "B"], ["B"]]


def test_parse_ground_truth_manifest():
    lines = [json.dumps({"source": "great", "sentiment": 0,
                         "sentiment-metadata": {"class-name": "POSITIVE"}}),
             json.dumps({"source": "bad", "sentiment": "NEGATIVE"})]
    assert parse_manifest("\n".join(lines), "MULTI_CLASS", "sentiment") == (
        ["great", "bad"], ["POSITIVE", "NEGATIVE"])


def test_multi_label_classifier_returns_labels(clients):
    s3, comprehend = clients
    body = "".join(f"{labels},{text}\n" for labels, text in GENRES * 10)
    s3.put_object(Bucket="data", Key="genres.csv", Body=body.encode())
    arn = comprehend.create_document_classifier(
        DocumentClassifierName="genres", DataAccessRoleArn=ROLE, Mode="MULTI_LABEL",
        InputDataConfig={"S3Uri": "s3://data/genres.csv", "LabelDelimiter": "|"},
        LanguageCode="en")["DocumentClassifierArn"]
    props = wait(comprehend, arn)
    assert props["Status"] == "TRAINED", props.get("Message")
    assert props["ClassifierMetadata"]["NumberOfLabels"] == 3
    assert 0 <= props["ClassifierMetadata"]["EvaluationMetrics"]["HammingLoss"] <= 1
    endpoint = comprehend.create_endpoint(EndpointName="genres", ModelArn=arn,
                                          DesiredInferenceUnits=1)["EndpointArn"]
    out = comprehend.classify_document(EndpointArn=endpoint, Text="a funny car chase with jokes")
    assert "Classes" not in out
    labels = {l["Name"]: l["Score"] for l in out["Labels"]}
    assert set(labels) == {"ACTION", "COMEDY", "DRAMA"}
    assert labels["COMEDY"] > 0.5 and labels["DRAMA"] < 0.5


def test_augmented_manifest_with_a_test_split(clients):
    s3, comprehend = clients
    rows = [{"source": text, "genre": labels.split("|")[0]} for labels, text in GENRES * 5]
    s3.put_object(Bucket="data", Key="train.manifest",
                  Body="\n".join(json.dumps(r) for r in rows).encode())
    s3.put_object(Bucket="data", Key="test.manifest",
                  Body="\n".join(json.dumps(r) for r in rows[:6]).encode())
    arn = comprehend.create_document_classifier(
        DocumentClassifierName="manifest", DataAccessRoleArn=ROLE, LanguageCode="en",
        InputDataConfig={"DataFormat": "AUGMENTED_MANIFEST", "AugmentedManifests": [
            {"S3Uri": "s3://data/train.manifest", "AttributeNames": ["genre"], "Split": "TRAIN"},
            {"S3Uri": "s3://data/test.manifest", "AttributeNames": ["genre"], "Split": "TEST"}]},
    )["DocumentClassifierArn"]
    props = wait(comprehend, arn)
    assert props["Status"] == "TRAINED", props.get("Message")
    meta = props["ClassifierMetadata"]
    assert meta["NumberOfTrainedDocuments"] == 30 and meta["NumberOfTestDocuments"] == 6


def test_missing_data_and_single_label_end_in_error(clients):
    s3, comprehend = clients
    arn = comprehend.create_document_classifier(
        DocumentClassifierName="nodata", DataAccessRoleArn=ROLE, LanguageCode="en",
        InputDataConfig={"S3Uri": "s3://data/nothing-here/"})["DocumentClassifierArn"]
    props = wait(comprehend, arn)
    assert props["Status"] == "IN_ERROR" and "No input data" in props["Message"]
    s3.put_object(Bucket="data", Key="one.csv", Body=b"ONLY,text one\nONLY,text two\n" * 5)
    arn = comprehend.create_document_classifier(
        DocumentClassifierName="onelabel", DataAccessRoleArn=ROLE, LanguageCode="en",
        InputDataConfig={"S3Uri": "s3://data/one.csv"})["DocumentClassifierArn"]
    props = wait(comprehend, arn)
    assert props["Status"] == "IN_ERROR" and "at least 2 labels" in props["Message"]
    # a failed classifier cannot back an endpoint, and can be deleted
    with pytest.raises(comprehend.exceptions.ResourceUnavailableException):
        comprehend.create_endpoint(EndpointName="x", ModelArn=arn, DesiredInferenceUnits=1)
    comprehend.delete_document_classifier(DocumentClassifierArn=arn)


def test_duplicate_name_and_bad_requests(clients):
    s3, comprehend = clients
    kwargs = dict(DocumentClassifierName="dup", DataAccessRoleArn=ROLE, LanguageCode="en",
                  InputDataConfig={"S3Uri": "s3://data/none.csv"})
    comprehend.create_document_classifier(**kwargs)
    with pytest.raises(comprehend.exceptions.ResourceInUseException):
        comprehend.create_document_classifier(**kwargs)
    with pytest.raises(comprehend.exceptions.InvalidRequestException):
        comprehend.create_document_classifier(
            DocumentClassifierName="delim", DataAccessRoleArn=ROLE, LanguageCode="en",
            InputDataConfig={"S3Uri": "s3://data/x.csv", "LabelDelimiter": "|"})  # MULTI_CLASS
    listed = comprehend.list_document_classifiers()["DocumentClassifierPropertiesList"]
    assert [p["DocumentClassifierArn"] for p in listed] == [
        "arn:aws:comprehend:us-east-1:123456789012:document-classifier/dup"]  # nothing else stored
    with pytest.raises(comprehend.exceptions.ResourceUnavailableException):
        comprehend.classify_document(Text="hi", EndpointArn="arn:aws:comprehend:us-east-1:"
                                     "123456789012:document-classifier-endpoint/none")


def test_list_pages_and_filters(clients):
    _, comprehend = clients
    for i in range(3):
        comprehend.create_document_classifier(
            DocumentClassifierName=f"c{i}", DataAccessRoleArn=ROLE, LanguageCode="en",
            InputDataConfig={"S3Uri": "s3://data/none.csv"})
    pages = list(comprehend.get_paginator("list_document_classifiers").paginate(
        PaginationConfig={"PageSize": 2}))
    assert [len(p["DocumentClassifierPropertiesList"]) for p in pages] == [2, 1]
    only = comprehend.list_document_classifiers(Filter={"DocumentClassifierName": "c1"})
    assert [p["DocumentClassifierArn"].rsplit("/", 1)[1]
            for p in only["DocumentClassifierPropertiesList"]] == ["c1"]


def test_stopped_training_keeps_no_model(clients):
    s3, comprehend = clients
    s3.put_object(Bucket="data", Key="genres.csv",
                  Body="".join(f"{labels.split('|')[0]},{text}\n" for labels, text in GENRES * 10).encode())
    arn = comprehend.create_document_classifier(
        DocumentClassifierName="stopped", DataAccessRoleArn=ROLE, LanguageCode="en",
        InputDataConfig={"S3Uri": "s3://data/genres.csv"})["DocumentClassifierArn"]
    comprehend.stop_training_document_classifier(DocumentClassifierArn=arn)  # before its process starts
    deadline = time.monotonic() + 60
    while (props := comprehend.describe_document_classifier(DocumentClassifierArn=arn)[
            "DocumentClassifierProperties"])["Status"] == "STOP_REQUESTED" and time.monotonic() < deadline:
        time.sleep(0.2)
    assert props["Status"] == "STOPPED" and "ClassifierMetadata" not in props
    with pytest.raises(comprehend.exceptions.ResourceUnavailableException):
        comprehend.create_endpoint(EndpointName="stopped", ModelArn=arn, DesiredInferenceUnits=1)


@pytest.mark.parametrize("mode", ["MULTI_CLASS", "MULTI_LABEL"])
def test_training_output_holds_the_confusion_matrix(clients, mode):
    """AWS writes ``<S3Uri>/<account>-CLR-<id>/output/output.tar.gz`` with
    ``confusion_matrix.json`` and reports that URI in OutputDataConfig once TRAINED."""
    import io
    import tarfile

    s3, comprehend = clients
    rows = GENRES * 10 if mode == "MULTI_LABEL" else [(g.split("|")[0], t) for g, t in GENRES * 10]
    s3.put_object(Bucket="data", Key="train.csv", Body="".join(f"{g},{t}\n" for g, t in rows).encode())
    extra = {"LabelDelimiter": "|"} if mode == "MULTI_LABEL" else {}
    arn = comprehend.create_document_classifier(
        DocumentClassifierName=f"cm-{mode.lower().replace('_', '-')}", DataAccessRoleArn=ROLE, Mode=mode,
        InputDataConfig={"S3Uri": "s3://data/train.csv", **extra}, LanguageCode="en",
        OutputDataConfig={"S3Uri": "s3://data/comprehend-output/"})["DocumentClassifierArn"]
    props = wait(comprehend, arn)
    assert props["Status"] == "TRAINED", props.get("Message")
    uri = props["OutputDataConfig"]["S3Uri"]
    assert uri.startswith("s3://data/comprehend-output/123456789012-CLR-") and uri.endswith("/output/output.tar.gz")
    body = s3.get_object(Bucket="data", Key=uri[len("s3://data/"):])["Body"].read()
    with tarfile.open(fileobj=io.BytesIO(body)) as tar:
        assert tar.getnames() == ["confusion_matrix.json"]
        matrix = json.load(tar.extractfile("confusion_matrix.json"))
    meta = props["ClassifierMetadata"]
    assert matrix["type"] == mode.lower() and len(matrix["labels"]) == meta["NumberOfLabels"]
    cm = matrix["confusion_matrix"]
    if mode == "MULTI_CLASS":  # rows are the test documents' actual labels
        assert sum(map(sum, cm)) == meta["NumberOfTestDocuments"]
        accuracy = sum(cm[i][i] for i in range(len(cm))) / meta["NumberOfTestDocuments"]
        assert accuracy == pytest.approx(meta["EvaluationMetrics"]["Accuracy"])
    else:                      # one [[TN, FP], [FN, TP]] a label, each over every test document
        assert all(sum(map(sum, m)) == meta["NumberOfTestDocuments"] for m in cm)


def test_unwritable_output_location_fails_the_training(clients):
    s3, comprehend = clients
    s3.put_object(Bucket="data", Key="train.csv",
                  Body="".join(f"{g.split('|')[0]},{t}\n" for g, t in GENRES * 10).encode())
    arn = comprehend.create_document_classifier(
        DocumentClassifierName="no-output", DataAccessRoleArn=ROLE, LanguageCode="en",
        InputDataConfig={"S3Uri": "s3://data/train.csv"},
        OutputDataConfig={"S3Uri": "s3://no-such-bucket-here/out/"})["DocumentClassifierArn"]
    props = wait(comprehend, arn)
    assert props["Status"] == "IN_ERROR" and "no-such-bucket-here" in props["Message"]

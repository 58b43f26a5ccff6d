"""Asynchronous analysis jobs: the lifecycle on local and moto (moto records jobs but never
runs them); the documents analysed and AWS's output.tar.gz on local."""
from __future__ import annotations

import io
import json
import tarfile
import time

import pytest

ROLE = "arn:aws:iam::123456789012:role/comprehend-data-access"
LINES = "I loved this film, it was wonderful.\nA dull and boring movie.\n\nThe plot was awful.\n"


def wait_job(describe, job_id, timeout=60):
    deadline = time.monotonic() + timeout
    while True:
        props = next(iter(describe(JobId=job_id).values()))
        if props["JobStatus"] not in ("SUBMITTED", "IN_PROGRESS") or time.monotonic() > deadline:
            return props
        time.sleep(0.1)


def read_output(s3, uri):
    bucket, _, key = uri[5:].partition("/")
    with tarfile.open(fileobj=io.BytesIO(s3.get_object(Bucket=bucket, Key=key)["Body"].read())) as tar:
        assert tar.getnames() == ["output"]
        return [json.loads(line) for line in tar.extractfile("output").read().decode().splitlines()]


@pytest.fixture
def s3(session):
    client = session.client("s3")
    client.create_bucket(Bucket="docs")
    client.put_object(Bucket="docs", Key="in/reviews.txt", Body=LINES.encode())
    return client


def test_job_is_described_and_listed(session, s3):
    comprehend = session.client("comprehend")
    started = comprehend.start_sentiment_detection_job(
        InputDataConfig={"S3Uri": "s3://docs/in/", "InputFormat": "ONE_DOC_PER_LINE"},
        OutputDataConfig={"S3Uri": "s3://docs/out/"}, DataAccessRoleArn=ROLE,
        JobName="reviews", LanguageCode="en")
    props = comprehend.describe_sentiment_detection_job(JobId=started["JobId"])["SentimentDetectionJobProperties"]
    assert props["JobId"] == started["JobId"] and props["JobName"] == "reviews"
    assert props["JobStatus"] in ("SUBMITTED", "IN_PROGRESS", "COMPLETED")
    assert props["LanguageCode"] == "en"
    listed = comprehend.list_sentiment_detection_jobs()["SentimentDetectionJobPropertiesList"]
    assert [p["JobId"] for p in listed] == [started["JobId"]]
    if session.backend == "local":
        wait_job(comprehend.describe_sentiment_detection_job, started["JobId"])


def test_unknown_job_is_job_not_found(session):
    comprehend = session.client("comprehend")
    if session.backend == "moto":
        pytest.xfail("moto answers ResourceNotFoundException; AWS's model gives Describe*Job "
                     "JobNotFoundException")
    with pytest.raises(comprehend.exceptions.JobNotFoundException):
        comprehend.describe_key_phrases_detection_job(JobId="0123456789abcdef0123456789abcdef")


def test_sentiment_job_writes_one_line_per_document(local_session):
    s3 = local_session.client("s3")
    s3.create_bucket(Bucket="docs")
    s3.put_object(Bucket="docs", Key="in/reviews.txt", Body=LINES.encode())
    comprehend = local_session.client("comprehend")
    job = comprehend.start_sentiment_detection_job(
        InputDataConfig={"S3Uri": "s3://docs/in/", "InputFormat": "ONE_DOC_PER_LINE"},
        OutputDataConfig={"S3Uri": "s3://docs/out/"}, DataAccessRoleArn=ROLE, LanguageCode="en")
    props = wait_job(comprehend.describe_sentiment_detection_job, job["JobId"])
    assert props["JobStatus"] == "COMPLETED", props.get("Message")
    uri = props["OutputDataConfig"]["S3Uri"]
    assert uri == f"s3://docs/out/123456789012-SENTIMENT-{job['JobId']}/output/output.tar.gz"
    records = read_output(s3, uri)
    assert [(r["File"], r["Line"], r["Sentiment"]) for r in records] == [
        ("reviews.txt", 0, "POSITIVE"), ("reviews.txt", 1, "NEGATIVE"), ("reviews.txt", 3, "NEGATIVE")]
    single = comprehend.detect_sentiment(Text=LINES.splitlines()[0], LanguageCode="en")
    assert records[0]["SentimentScore"] == single["SentimentScore"]


def test_entities_job_one_document_per_file(local_session):
    s3 = local_session.client("s3")
    s3.create_bucket(Bucket="docs")
    s3.put_object(Bucket="docs", Key="notes/a.txt", Body="Amazon SageMaker trains models.".encode())
    s3.put_object(Bucket="docs", Key="notes/b.txt", Body="Les données sont dans Amazon S3.".encode())
    comprehend = local_session.client("comprehend")
    job = comprehend.start_entities_detection_job(
        InputDataConfig={"S3Uri": "s3://docs/notes/"}, OutputDataConfig={"S3Uri": "s3://docs/out"},
        DataAccessRoleArn=ROLE, LanguageCode="fr")
    props = wait_job(comprehend.describe_entities_detection_job, job["JobId"])
    assert props["JobStatus"] == "COMPLETED" and props["InputDataConfig"]["InputFormat"] == "ONE_DOC_PER_FILE"
    records = read_output(s3, props["OutputDataConfig"]["S3Uri"])
    assert [r["File"] for r in records] == ["a.txt", "b.txt"] and "Line" not in records[0]
    assert ("Amazon S3", "COMMERCIAL_ITEM") in {(e["Text"], e["Type"]) for e in records[1]["Entities"]}


def test_job_without_input_fails_with_a_message(local_session):
    local_session.client("s3").create_bucket(Bucket="docs")
    comprehend = local_session.client("comprehend")
    job = comprehend.start_key_phrases_detection_job(
        InputDataConfig={"S3Uri": "s3://docs/nothing/"}, OutputDataConfig={"S3Uri": "s3://docs/out/"},
        DataAccessRoleArn=ROLE, LanguageCode="en")
    props = wait_job(comprehend.describe_key_phrases_detection_job, job["JobId"])
    assert props["JobStatus"] == "FAILED" and "No input data" in props["Message"]
    with pytest.raises(comprehend.exceptions.InvalidRequestException):
        comprehend.stop_key_phrases_detection_job(JobId=job["JobId"])


def _start(comprehend, operation, uri, fmt=None, **extra):
    config = {"S3Uri": uri} if fmt is None else {"S3Uri": uri, "InputFormat": fmt}
    return getattr(comprehend, operation)(InputDataConfig=config, OutputDataConfig={"S3Uri": "s3://docs/out/"},
                                          DataAccessRoleArn=ROLE, **extra)


@pytest.mark.slow  # lingua loads its languages' models on first use (~7 s)
def test_dominant_language_job_reads_lines_and_files(local_session):
    s3 = local_session.client("s3")
    s3.create_bucket(Bucket="docs")
    s3.put_object(Bucket="docs", Key="mixed/lines.txt",
                  Body="The weather is lovely today and we walk.\nLe chat dort sur le canapé du salon.\n".encode())
    s3.put_object(Bucket="docs", Key="files/fr.txt", Body="Les données sont stockées dans un bucket.".encode())
    s3.put_object(Bucket="docs", Key="files/en.txt", Body="The data are stored in a bucket.".encode())
    comprehend = local_session.client("comprehend")
    by_line = _start(comprehend, "start_dominant_language_detection_job", "s3://docs/mixed/", "ONE_DOC_PER_LINE")
    by_file = _start(comprehend, "start_dominant_language_detection_job", "s3://docs/files/")
    describe = comprehend.describe_dominant_language_detection_job
    lines, files = wait_job(describe, by_line["JobId"]), wait_job(describe, by_file["JobId"])
    assert lines["JobStatus"] == files["JobStatus"] == "COMPLETED"
    assert lines["OutputDataConfig"]["S3Uri"].endswith(f"-LANGUAGE-{by_line['JobId']}/output/output.tar.gz")
    records = read_output(s3, lines["OutputDataConfig"]["S3Uri"])
    assert [(r["File"], r["Line"], r["Languages"][0]["LanguageCode"]) for r in records] == [
        ("lines.txt", 0, "en"), ("lines.txt", 1, "fr")]
    records = read_output(s3, files["OutputDataConfig"]["S3Uri"])
    assert [(r["File"], r["Languages"][0]["LanguageCode"]) for r in records] == [("en.txt", "en"), ("fr.txt", "fr")]
    assert all("Line" not in r for r in records)
    listed = comprehend.list_dominant_language_detection_jobs(Filter={"JobStatus": "COMPLETED"})
    assert {p["JobId"] for p in listed["DominantLanguageDetectionJobPropertiesList"]} == {
        by_line["JobId"], by_file["JobId"]}


def test_key_phrases_job_matches_the_real_time_call(local_session):
    s3 = local_session.client("s3")
    s3.create_bucket(Bucket="docs")
    s3.put_object(Bucket="docs", Key="in/reviews.txt", Body=LINES.encode())
    comprehend = local_session.client("comprehend")
    job = _start(comprehend, "start_key_phrases_detection_job", "s3://docs/in/", "ONE_DOC_PER_LINE",
                 LanguageCode="en", JobName="phrases")
    props = wait_job(comprehend.describe_key_phrases_detection_job, job["JobId"])
    assert props["JobStatus"] == "COMPLETED" and props["JobName"] == "phrases"
    records = read_output(s3, props["OutputDataConfig"]["S3Uri"])
    assert [r["Line"] for r in records] == [0, 1, 3]                      # the blank line is no document
    for record in records:
        alone = comprehend.detect_key_phrases(Text=LINES.splitlines()[record["Line"]], LanguageCode="en")
        assert record["KeyPhrases"] == alone["KeyPhrases"]
    only = comprehend.list_key_phrases_detection_jobs(Filter={"JobName": "phrases"})
    assert [p["JobId"] for p in only["KeyPhrasesDetectionJobPropertiesList"]] == [job["JobId"]]


def test_stopping_a_running_job(local_session):
    s3 = local_session.client("s3")
    s3.create_bucket(Bucket="docs")
    s3.put_object(Bucket="docs", Key="big/reviews.txt", Body=(LINES * 2000).encode())
    comprehend = local_session.client("comprehend")
    job = _start(comprehend, "start_sentiment_detection_job", "s3://docs/big/", "ONE_DOC_PER_LINE", LanguageCode="en")
    assert comprehend.stop_sentiment_detection_job(JobId=job["JobId"])["JobStatus"] == "STOP_REQUESTED"
    props = wait_job(comprehend.describe_sentiment_detection_job, job["JobId"])
    deadline = time.monotonic() + 60
    while props["JobStatus"] == "STOP_REQUESTED" and time.monotonic() < deadline:
        time.sleep(0.1)
        props = comprehend.describe_sentiment_detection_job(JobId=job["JobId"])["SentimentDetectionJobProperties"]
    assert props["JobStatus"] == "STOPPED" and "EndTime" in props
    assert s3.list_objects_v2(Bucket="docs", Prefix="out/").get("KeyCount", 0) == 0   # no output written
    # stopping a stopped job says so (AWS: "STOPPED if the job was previously stopped")
    assert comprehend.stop_sentiment_detection_job(JobId=job["JobId"])["JobStatus"] == "STOPPED"
    with pytest.raises(comprehend.exceptions.JobNotFoundException):
        comprehend.stop_entities_detection_job(JobId=job["JobId"])     # a job of another kind


def test_document_classification_job_classifies_each_line(local_session):
    s3 = local_session.client("s3")
    s3.create_bucket(Bucket="docs")
    rows = [("POSITIVE", "a wonderful, moving film"), ("POSITIVE", "great acting and a lovely story"),
            ("NEGATIVE", "a dull and boring mess"), ("NEGATIVE", "awful plot, terrible acting")] * 10
    s3.put_object(Bucket="docs", Key="train/reviews.csv", Body="".join(f"{y},{t}\n" for y, t in rows).encode())
    s3.put_object(Bucket="docs", Key="todo/reviews.txt", Body=b"what a wonderful story\nboring and awful\n")
    comprehend = local_session.client("comprehend")
    arn = comprehend.create_document_classifier(
        DocumentClassifierName="reviews", DataAccessRoleArn=ROLE, LanguageCode="en",
        InputDataConfig={"S3Uri": "s3://docs/train/"})["DocumentClassifierArn"]
    deadline = time.monotonic() + 120
    while (status := comprehend.describe_document_classifier(DocumentClassifierArn=arn)[
            "DocumentClassifierProperties"]["Status"]) in ("SUBMITTED", "TRAINING") and time.monotonic() < deadline:
        time.sleep(0.2)
    assert status == "TRAINED"
    job = _start(comprehend, "start_document_classification_job", "s3://docs/todo/", "ONE_DOC_PER_LINE",
                 DocumentClassifierArn=arn, JobName="classify")
    assert job["DocumentClassifierArn"] == arn
    props = wait_job(comprehend.describe_document_classification_job, job["JobId"])
    assert props["JobStatus"] == "COMPLETED" and props["DocumentClassifierArn"] == arn
    assert props["OutputDataConfig"]["S3Uri"].endswith(f"-CLN-{job['JobId']}/output/output.tar.gz")
    records = read_output(s3, props["OutputDataConfig"]["S3Uri"])
    assert [(r["Line"], r["Classes"][0]["Name"]) for r in records] == [(0, "POSITIVE"), (1, "NEGATIVE")]
    assert all(sum(c["Score"] for c in r["Classes"]) == pytest.approx(1.0) for r in records)
    listed = comprehend.list_document_classification_jobs()["DocumentClassificationJobPropertiesList"]
    assert [p["JobId"] for p in listed] == [job["JobId"]]
    with pytest.raises(comprehend.exceptions.ResourceNotFoundException):   # nothing started for a missing model
        _start(comprehend, "start_document_classification_job", "s3://docs/todo/",
               DocumentClassifierArn=arn.replace("reviews", "missing"))
    assert len(comprehend.list_document_classification_jobs()["DocumentClassificationJobPropertiesList"]) == 1

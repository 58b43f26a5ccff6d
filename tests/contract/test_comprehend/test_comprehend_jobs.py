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

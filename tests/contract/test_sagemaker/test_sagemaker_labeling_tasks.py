"""More Ground Truth task types and options through boto3, on local and on moto (which serves
labelling locally): image classification (single and multi-label), the task-type Lambda
functions of another region, and majority-vote consolidation asked for by a tag."""
from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from aws_ml import Session
from local_backends.sagemaker.labeling import UnsupportedLabelingJob
from local_backends.sagemaker.labeling.tasks import TASK_TYPES

from .test_sagemaker_labeling_support import (BUCKET, SENTIMENTS, create_team, digit_images,  # noqa: F401
                                              gt_session, job_request, put_labels, put_text_manifest, read_lines,
                                              reviews, wait_for_job, worker_accuracies)


# -- image classification, single and multi-label ----------------------------------------------
def test_image_classification_of_digits(gt_session):
    s3, sm = gt_session.client("s3"), gt_session.client("sagemaker")
    rows = digit_images(s3, n=6, side=32)
    manifest = put_text_manifest(s3, [{"source-ref": r["source-ref"], "digit": r["digit"]} for r in rows],
                                 key="input/digits.manifest")
    digits = [str(d) for d in range(10)]
    sm.create_labeling_job(**job_request(s3, "digits", "ImageMultiClass", create_team(sm), manifest,
                                         put_labels(s3, digits), workers=3,
                                         simulated="count=3,accuracy=1,truth=digit,seed=0"))
    d = wait_for_job(sm, "digits")
    assert d["LabelCounters"]["HumanLabeled"] == 6
    lines = read_lines(s3, d["LabelingJobOutput"]["OutputDatasetS3Uri"])
    for line, row in zip(lines, rows):
        assert line["source-ref"] == row["source-ref"] and line["digit"] == row["digit"]
        assert line["label"] == digits.index(row["digit"])                    # the class index
        meta = line["label-metadata"]
        assert meta["type"] == "groundtruth/image-classification" and meta["class-name"] == row["digit"]
        assert meta["human-annotated"] == "yes" and meta["job-name"] == "labeling-job/digits"


def test_image_multilabel_classification(gt_session):
    s3, sm = gt_session.client("s3"), gt_session.client("sagemaker")
    rows = digit_images(s3, n=4, side=32)
    tags = ["even", "odd", "small", "large"]
    truth = [[tags[int(r["digit"]) % 2], "small" if int(r["digit"]) < 5 else "large"] for r in rows]
    manifest = put_text_manifest(s3, [{"source-ref": r["source-ref"], "tags": t} for r, t in zip(rows, truth)],
                                 key="input/digits.manifest")
    sm.create_labeling_job(**job_request(s3, "digit-tags", "ImageMultiClassMultiLabel", create_team(sm), manifest,
                                         put_labels(s3, tags), workers=1,
                                         simulated="count=1,accuracy=1,truth=tags,seed=0"))
    lines = read_lines(s3, wait_for_job(sm, "digit-tags")["LabelingJobOutput"]["OutputDatasetS3Uri"])
    for line, chosen in zip(lines, truth):
        meta = line["label-metadata"]
        assert meta["type"] == "groundtruth/image-classification-multilabel"
        assert sorted(line["label"]) == sorted(tags.index(t) for t in chosen)
        assert sorted(meta["class-map"].values()) == sorted(chosen)
        assert meta["confidence-map"] == {str(k): 0.0 for k in line["label"]}   # one worker: 0.00, as on AWS


# -- Ground Truth's Lambda functions live in one account per region ------------------------------
@pytest.mark.parametrize("backend", ["local", "moto"])
def test_task_type_arns_use_the_region_account(home, backend):
    """In eu-west-1 the built-in task types are Ground Truth's functions of account 568282634449;
    us-east-1's account (432418664414) names no task type there."""
    region = "eu-west-1"
    with Session(backend=backend, home=home, region=region) as s:
        s3, sm = s.client("s3"), s.client("sagemaker")
        s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": region})
        rows = [{"source": f"text {i}", "y": SENTIMENTS[i % 2]} for i in range(4)]
        req = job_request(s3, "eu-job", "TextMultiClass", create_team(sm), put_text_manifest(s3, rows),
                          put_labels(s3, SENTIMENTS), simulated="count=1,accuracy=1,truth=y,seed=0")
        task = TASK_TYPES["TextMultiClass"]
        htc = req["HumanTaskConfig"]
        htc["PreHumanTaskLambdaArn"] = task.pre_arn(region)
        htc["AnnotationConsolidationConfig"]["AnnotationConsolidationLambdaArn"] = task.acs_arn(region)
        assert htc["PreHumanTaskLambdaArn"] == "arn:aws:lambda:eu-west-1:568282634449:function:PRE-TextMultiClass"
        wrong = json.loads(json.dumps(req))
        wrong["LabelingJobName"] = "eu-job-wrong"
        wrong["HumanTaskConfig"]["PreHumanTaskLambdaArn"] = \
            "arn:aws:lambda:eu-west-1:432418664414:function:PRE-TextMultiClass"
        wrong["HumanTaskConfig"].pop("AnnotationConsolidationConfig")
        with pytest.raises(UnsupportedLabelingJob) as err:    # another account's function: a custom
            sm.create_labeling_job(**wrong)                    # workflow Lambda, not run locally
        assert "432418664414" in str(err.value)
        other = json.loads(json.dumps(req))
        other["LabelingJobName"] = "eu-job-us-arn"
        other["HumanTaskConfig"]["PreHumanTaskLambdaArn"] = task.pre_arn("us-east-1")
        other["HumanTaskConfig"].pop("AnnotationConsolidationConfig")
        with pytest.raises(ClientError) as err:          # a function of another region
            sm.create_labeling_job(**other)
        assert err.value.response["Error"]["Code"] == "ValidationException"
        assert sm.list_labeling_jobs()["LabelingJobSummaryList"] == []
        assert sm.create_labeling_job(**req)["LabelingJobArn"].startswith("arn:aws:sagemaker:eu-west-1:")
        d = wait_for_job(sm, "eu-job")
        assert d["LabelingJobStatus"] == "Completed" and d["LabelCounters"]["HumanLabeled"] == 4


def test_majority_vote_consolidation_by_tag(gt_session):
    """``aws-ml:consolidation`` = ``majority-vote`` replaces Dawid–Skene; an unknown method is
    refused before anything is stored."""
    s3, sm = gt_session.client("s3"), gt_session.client("sagemaker")
    data = reviews(200)
    rows = [{"source": t, "sentiment": y} for t, y in zip(data.text, data.sentiment)]
    tags = [{"Key": "aws-ml:simulated-workers", "Value": "count=3,accuracy=0.7,truth=sentiment,seed=5"}]
    team, manifest, labels = create_team(sm), put_text_manifest(s3, rows), put_labels(s3, SENTIMENTS)
    bad = job_request(s3, "vote", "TextMultiClass", team, manifest, labels, workers=3,
                      Tags=tags + [{"Key": "aws-ml:consolidation", "Value": "average"}])
    with pytest.raises(ClientError) as err:
        sm.create_labeling_job(**bad)
    assert err.value.response["Error"]["Code"] == "ValidationException" and "majority-vote" in str(err.value)
    assert sm.list_labeling_jobs()["LabelingJobSummaryList"] == []
    sm.create_labeling_job(**job_request(s3, "vote", "TextMultiClass", team, manifest, labels, workers=3,
                                         Tags=tags + [{"Key": "aws-ml:consolidation", "Value": "majority-vote"}]))
    d = wait_for_job(sm, "vote")
    lines = read_lines(s3, d["LabelingJobOutput"]["OutputDatasetS3Uri"])
    report = json.loads(s3.get_object(Bucket=BUCKET, Key="output/vote/annotations/label-quality/"
                                      "label-quality-report.json")["Body"].read())
    assert report["consolidation"] == "majority-vote"
    workers = worker_accuracies(s3, "vote", dict(enumerate(r["sentiment"] for r in rows)))
    voted = sum(line["label-metadata"]["class-name"] == line["sentiment"] for line in lines) / 200
    assert voted > max(workers.values())
    # with three workers and two classes a majority is 2 or 3 votes: confidence 0.67 or 1.0
    assert {line["label-metadata"]["confidence"] for line in lines} <= {0.67, 1.0}

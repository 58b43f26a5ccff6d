"""Shared material of the Ground Truth tests (no tests here): inputs in S3 as AWS expects
them, a work team, CreateLabelingJob requests for the built-in task types, digit images."""
from __future__ import annotations

import json
import re
import time
from collections import defaultdict

import numpy as np
import pytest

from aws_ml import Session
from local_backends.sagemaker.labeling.automated import encode_png
from local_backends.sagemaker.labeling.tasks import TASK_TYPES, default_template, human_task_ui_arn

REGION = "us-east-1"
ROLE = "arn:aws:iam::123456789012:role/SageMakerGroundTruthRole"
BUCKET = "labeling-bucket"
COGNITO = {"CognitoMemberDefinition": {"UserPool": "us-east-1_AbCdEf123", "UserGroup": "labelers",
                                       "ClientId": "client123"}}
SENTIMENTS = ["NEGATIVE", "POSITIVE"]


def _gt_session(backend: str, home):
    # On moto the session serves the labelling operations locally (moto does not implement
    # them) and everything else, S3 included, from moto.
    with Session(backend=backend, home=home, region=REGION) as s:
        s.client("s3").create_bucket(Bucket=BUCKET)
        yield s


@pytest.fixture(params=["local", "moto"])
def gt_session(request, home):
    """A session on each backend: on moto, work teams and labelling jobs are served locally
    (moto does not implement them) and the data lives in moto's S3."""
    yield from _gt_session(request.param, home)


@pytest.fixture(params=["local", pytest.param("moto", marks=pytest.mark.slow)])
def gt_session_slow_on_moto(request, home):
    """``gt_session`` for the long jobs: their moto run (same SageMaker code, moto's slower S3)
    is marked slow."""
    yield from _gt_session(request.param, home)


def reviews(n: int = 200, seed: int = 0):
    from aws_ml import datasets
    return datasets.load("reviews/imdb_sentences").sample(n, random_state=seed).reset_index(drop=True)


def put_text_manifest(s3, rows: list[dict], key: str = "input/text.manifest") -> str:
    body = "\n".join(json.dumps(r) for r in rows) + "\n"
    s3.put_object(Bucket=BUCKET, Key=key, Body=body.encode())
    return f"s3://{BUCKET}/{key}"


def put_labels(s3, labels: list, key: str = "input/labels.json") -> str:
    entries = [x if isinstance(x, dict) else {"label": x} for x in labels]
    s3.put_object(Bucket=BUCKET, Key=key, Body=json.dumps({"document-version": "2018-11-28",
                                                           "labels": entries}).encode())
    return f"s3://{BUCKET}/{key}"


def put_template(s3, task: str) -> str:
    key = f"input/{task}.liquid.html"
    s3.put_object(Bucket=BUCKET, Key=key, Body=default_template(task).encode())
    return f"s3://{BUCKET}/{key}"


def create_team(sm, name: str = "labelers") -> str:
    return sm.create_workteam(WorkteamName=name, MemberDefinitions=[COGNITO],
                              Description="Private team of local labelers")["WorkteamArn"]


def job_request(s3, name: str, task: str, team_arn: str, manifest_uri: str, labels_uri: str,
                workers: int = 1, simulated: str | None = None, **extra) -> dict:
    t = TASK_TYPES[task]
    ui = ({"HumanTaskUiArn": human_task_ui_arn(REGION)} if task == "NamedEntityRecognition"
          else {"UiTemplateS3Uri": put_template(s3, task)})
    request = {
        "LabelingJobName": name, "LabelAttributeName": "label",
        "InputConfig": {"DataSource": {"S3DataSource": {"ManifestS3Uri": manifest_uri}}},
        "OutputConfig": {"S3OutputPath": f"s3://{BUCKET}/output"}, "RoleArn": ROLE,
        "LabelCategoryConfigS3Uri": labels_uri,
        "HumanTaskConfig": {
            "WorkteamArn": team_arn, "UiConfig": ui, "PreHumanTaskLambdaArn": t.pre_arn(REGION),
            "TaskTitle": f"{task} task", "TaskDescription": "Label the data objects",
            "NumberOfHumanWorkersPerDataObject": workers, "TaskTimeLimitInSeconds": 300,
            "AnnotationConsolidationConfig": {"AnnotationConsolidationLambdaArn": t.acs_arn(REGION)},
        },
    }
    if simulated:
        request["Tags"] = [{"Key": "aws-ml:simulated-workers", "Value": simulated}]
    request.update(extra)
    return request


def wait_for_job(sm, name: str, timeout: float = 120.0) -> dict:
    """Describe until the job ends (a guard against hanging, not a timed assertion)."""
    deadline = time.time() + timeout
    while True:
        d = sm.describe_labeling_job(LabelingJobName=name)
        if d["LabelingJobStatus"] in ("Completed", "Failed", "Stopped"):
            return d
        if time.time() > deadline:
            raise AssertionError(f"labeling job {name} still {d['LabelingJobStatus']} after {timeout} s")
        time.sleep(0.05)


def read_lines(s3, uri: str) -> list[dict]:
    bucket, key = uri[5:].split("/", 1)
    body = s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode()
    return [json.loads(line) for line in body.splitlines()]


def list_keys(s3, prefix: str) -> list[str]:
    keys = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix):
        keys += [o["Key"] for o in page.get("Contents", [])]
    return keys


def digit_images(s3, n: int = 4, side: int = 128) -> list[dict]:
    """scikit-learn's 8x8 digits upscaled to side x side PNGs in S3; manifest rows with the
    digit and its box (the digit's inked pixels) for checking drawn boxes."""
    from sklearn.datasets import load_digits
    digits = load_digits()
    rows = []
    scale = side // 8
    for i in range(n):
        img = digits.images[i]
        pixels = (255 - img / 16.0 * 255).clip(0, 255).astype(np.uint8)
        big = np.kron(pixels, np.ones((scale, scale), dtype=np.uint8))
        key = f"input/digits/{i}.png"
        s3.put_object(Bucket=BUCKET, Key=key, Body=encode_png(big), ContentType="image/png")
        ys, xs = np.nonzero(img > 4)
        box = {"left": int(xs.min() * scale), "top": int(ys.min() * scale),
               "width": int((xs.max() - xs.min() + 1) * scale), "height": int((ys.max() - ys.min() + 1) * scale)}
        rows.append({"source-ref": f"s3://{BUCKET}/{key}", "digit": str(digits.target[i]), "box": box})
    return rows


def worker_accuracies(s3, name: str, truth: dict[int, str]) -> dict[str, float]:
    """Each worker's accuracy, read from the worker-response files of a finished text job
    (checking their layout: one file per data object, AWS's answer keys)."""
    right, seen = defaultdict(int), defaultdict(int)
    keys = list_keys(s3, f"output/{name}/annotations/worker-response/iteration-1/")
    assert len(keys) == len(truth)                       # one file per data object, every answer in it
    for key in keys:
        assert re.fullmatch(rf"output/{name}/annotations/worker-response/iteration-1/\d+/"
                            r"\d{4}-\d\d-\d\d_\d\d:\d\d:\d\d\.json", key)
        index = int(key.split("/")[-2])
        body = json.loads(s3.get_object(Bucket=BUCKET, Key=key)["Body"].read())
        assert len(body["answers"]) == 3
        for a in body["answers"]:
            assert set(a) == {"acceptanceTime", "answerContent", "submissionTime", "timeSpentInSeconds",
                              "workerId", "workerMetadata"}
            assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", a["submissionTime"])
            seen[a["workerId"]] += 1
            right[a["workerId"]] += a["answerContent"]["crowd-classifier"]["label"] == truth[index]
    return {w: right[w] / seen[w] for w in seen}


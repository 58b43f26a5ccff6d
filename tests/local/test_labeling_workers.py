"""Programmatic workers on the local Ground Truth: callables and rules answering bounding-box,
entity and classification tasks, task time limits, and automated labelling of images."""
from __future__ import annotations

import time

import pytest
from botocore.exceptions import ClientError

from local_backends.sagemaker.labeling.workers import CallableWorker, RuleWorker, SimulatedWorker
from tests.contract.test_sagemaker.test_sagemaker_labeling_support import (BUCKET, REGION, SENTIMENTS, create_team,
                                                                          digit_images, job_request, put_labels,
                                                                          put_text_manifest, read_lines, wait_for_job)


@pytest.fixture
def gt(local_session):
    s3 = local_session.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    return local_session, s3, local_session.client("sagemaker"), local_session.router.backend("sagemaker", REGION)


def test_bounding_boxes_from_callable_workers(gt):
    session, s3, sm, backend = gt
    rows = digit_images(s3, n=3)
    manifest = put_text_manifest(s3, [{"source-ref": r["source-ref"], "digit": r["digit"]} for r in rows],
                                 key="input/digits.manifest")
    sm.create_labeling_job(**job_request(s3, "digit-boxes", "BoundingBox", create_team(sm), manifest,
                                         put_labels(s3, ["digit"]), workers=2))

    def drawer(shift):
        def draw(task):
            box = rows[task["index"]]["box"]
            return {"boundingBox": {"boundingBoxes": [{"label": "digit", **{k: v + shift for k, v in box.items()}}],
                                    "inputImageProperties": {"width": 128, "height": 128}}}
        return draw

    workers = [CallableWorker(drawer(0), "private.precise"), CallableWorker(drawer(2), "private.sloppy")]
    assert backend.work_on_labeling_job("digit-boxes", workers) == 6
    d = wait_for_job(sm, "digit-boxes")
    assert d["LabelCounters"]["HumanLabeled"] == 3
    lines = read_lines(s3, d["LabelingJobOutput"]["OutputDatasetS3Uri"])
    for line, row in zip(lines, rows):
        label, meta = line["label"], line["label-metadata"]
        assert label["image_size"] == [{"width": 128, "height": 128, "depth": 3}]
        (ann,) = label["annotations"]
        assert ann["class_id"] == 0 and abs(ann["left"] - row["box"]["left"] - 1) <= 1
        assert meta["type"] == "groundtruth/object-detection" and meta["class-map"] == {"0": "digit"}
        assert len(meta["objects"]) == 1 and 0.5 < meta["objects"][0]["confidence"] <= 1


def test_named_entities_from_a_single_worker(gt):
    session, s3, sm, backend = gt
    texts = ["Alice moved to Paris.", "Bob works at Amazon in Seattle."]
    manifest = put_text_manifest(s3, [{"source": t} for t in texts])
    labels = put_labels(s3, [{"label": "PERSON", "shortDisplayName": "per"}, {"label": "PLACE"}, {"label": "ORG"}])
    sm.create_labeling_job(**job_request(s3, "ner", "NamedEntityRecognition", create_team(sm), manifest, labels))

    def tagger(task):
        text = task["input"]["taskObject"]
        spans = [("PERSON", w) for w in ("Alice", "Bob")] + [("PLACE", w) for w in ("Paris", "Seattle")] + \
            [("ORG", "Amazon")]
        return [{"label": lab, "startOffset": text.index(w), "endOffset": text.index(w) + len(w)}
                for lab, w in spans if w in text]

    backend.work_on_labeling_job("ner", [CallableWorker(tagger)])
    lines = read_lines(s3, wait_for_job(sm, "ner")["LabelingJobOutput"]["OutputDatasetS3Uri"])
    ann = lines[1]["label"]["annotations"]
    assert ann["labels"][0] == {"label": "PERSON", "shortDisplayName": "per"}
    assert [(e["label"], texts[1][e["startOffset"]:e["endOffset"]]) for e in ann["entities"]] == \
        [("PERSON", "Bob"), ("ORG", "Amazon"), ("PLACE", "Seattle")]
    meta = lines[1]["label-metadata"]
    assert meta["type"] == "groundtruth/text-span" and meta["entities"] == [{"confidence": 0.0}] * 3


def test_rule_worker_and_answers_that_do_not_fit(gt):
    session, s3, sm, backend = gt
    rows = [{"source": "A great film"}, {"source": "Dull and slow"}, {"source": "Loved it"}]
    arn = sm.create_labeling_job(**job_request(s3, "rules", "TextMultiClass", create_team(sm),
                                               put_text_manifest(s3, rows), put_labels(s3, SENTIMENTS)))["LabelingJobArn"]
    engine = backend.labeling_engine
    assert engine.job(arn)["status"] == "Initializing"                # until something moves it on
    assert sm.describe_labeling_job(LabelingJobName="rules")["LabelingJobStatus"] == "InProgress"
    task = engine.next_task("private.someone", arn)
    with pytest.raises(ValueError, match="not one of the job's labels"):
        engine.submit(arn, task["index"], "private.someone", {"crowd-classifier": {"label": "MAYBE"}})
    rule = RuleWorker({r"great|loved": "POSITIVE"}, default="NEGATIVE")
    assert backend.work_on_labeling_job("rules", [rule]) == 2      # the third task is held by someone else
    engine.submit(arn, task["index"], "private.someone", {"crowd-classifier": {"label": "POSITIVE"}})
    lines = read_lines(s3, wait_for_job(sm, "rules")["LabelingJobOutput"]["OutputDatasetS3Uri"])
    assert [line["label-metadata"]["class-name"] for line in lines] == ["POSITIVE", "NEGATIVE", "POSITIVE"]


def test_task_time_limit_gives_the_task_to_another_worker(gt, monkeypatch):
    session, s3, sm, backend = gt
    sm.create_labeling_job(**job_request(s3, "slow-worker", "TextMultiClass", create_team(sm),
                                         put_text_manifest(s3, [{"source": "only one"}]), put_labels(s3, SENTIMENTS)))
    engine = backend.labeling_engine
    arn = sm.describe_labeling_job(LabelingJobName="slow-worker")["LabelingJobArn"]
    held = engine.next_task("private.slow", arn)
    assert engine.next_task("private.slow", arn)["index"] == held["index"]      # the same task again
    assert engine.next_task("private.fast", arn) is None                        # taken
    later = time.time() + 301                                                   # TaskTimeLimitInSeconds=300
    monkeypatch.setattr(time, "time", lambda: later)
    assert engine.next_task("private.fast", arn)["index"] == held["index"]
    with pytest.raises(LookupError):
        engine.submit(arn, held["index"], "private.slow", {"crowd-classifier": {"label": "POSITIVE"}})


def test_worker_registration_and_bad_tags(gt):
    session, s3, sm, backend = gt
    create_team(sm, "crowd")
    wid = backend.add_worker("crowd", "Ada", "ada@example.com")
    assert backend.list_workers("crowd") == [{"WorkerId": wid, "Name": "Ada", "Email": "ada@example.com",
                                              "Kind": "human", "Workteam": "crowd"}]
    with pytest.raises(ValueError, match="'kind' parameter"):
        backend.add_worker("crowd", "Bot", kind="robot")
    req = job_request(s3, "bad-tag", "TextMultiClass", sm.describe_workteam(WorkteamName="crowd")["Workteam"]
                      ["WorkteamArn"], put_text_manifest(s3, [{"source": "x"}]), put_labels(s3, SENTIMENTS),
                      simulated="count=3,accuracy=0.7")
    with pytest.raises(ClientError, match="truth="):
        sm.create_labeling_job(**req)


def test_simulated_worker_accuracy():
    worker = SimulatedWorker(0.8, truth="y", seed=4)
    task = {"task_type": "TextMultiClass", "labels": ["a", "b", "c"], "data_object": {"y": "b"}, "input": {}}
    answers = [worker.answer(task) for _ in range(2000)]
    assert 0.77 < answers.count("b") / 2000 < 0.83 and set(answers) == {"a", "b", "c"}


def test_automated_labeling_of_digit_images(gt):
    session, s3, sm, backend = gt
    rows = digit_images(s3, n=150)
    manifest = put_text_manifest(s3, [{"source-ref": r["source-ref"], "digit": r["digit"]} for r in rows],
                                 key="input/digits.manifest")
    digits = [str(d) for d in range(10)]
    spec = f"arn:aws:sagemaker:{REGION}:027400017018:labeling-job-algorithm-specification/image-classification"
    sm.create_labeling_job(**job_request(
        s3, "auto-digits", "ImageMultiClass", create_team(sm), manifest, put_labels(s3, digits),
        LabelingJobAlgorithmsConfig={"LabelingJobAlgorithmSpecificationArn": spec},
        Tags=[{"Key": "aws-ml:simulated-workers", "Value": "count=1,accuracy=1,truth=digit,seed=0"},
              {"Key": "aws-ml:automated-labeling", "Value": "target=0.9"}]))
    d = wait_for_job(sm, "auto-digits")
    c = d["LabelCounters"]
    assert c["MachineLabeled"] > 0 and c["TotalLabeled"] == 150
    lines = read_lines(s3, d["LabelingJobOutput"]["OutputDatasetS3Uri"])
    machine = [line for line in lines if line["label-metadata"]["human-annotated"] == "no"]
    assert sum(line["label-metadata"]["class-name"] == line["digit"] for line in machine) / len(machine) >= 0.8
    assert machine[0]["label-metadata"]["type"] == "groundtruth/image-classification"
    report = backend.label_quality_report("auto-digits")
    assert report["counters"] == c and report["automatedLabeling"][-1]["trainedOn"] >= 40
    model = s3.get_object(Bucket=BUCKET, Key="output/auto-digits/activelearning/model/model.pkl")["Body"].read()
    assert len(model) > 100

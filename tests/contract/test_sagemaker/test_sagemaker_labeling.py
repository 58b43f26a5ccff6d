"""Ground Truth through the boto3 ``sagemaker`` client: private work teams, labelling jobs of
the built-in task types, simulated workers, consolidation and the output AWS writes to S3.

moto implements none of these operations (``NotImplementedError``): the tests run on the
local backend, and on moto, where the session serves these operations locally (moto's S3 holds the data).
"""
from __future__ import annotations

import json
import re

import pytest
from botocore.exceptions import ClientError

from .test_sagemaker_labeling_support import (BUCKET, COGNITO, REGION, SENTIMENTS, create_team,  # noqa: F401
                                              gt_session, gt_session_slow_on_moto, job_request, list_keys,
                                              put_labels, put_text_manifest, read_lines, reviews, wait_for_job,
                                              worker_accuracies)

TEXT_TYPE = "groundtruth/text-classification"


def test_labelling_is_served_on_every_backend(session):
    """moto does not implement work teams or labelling jobs (it raises NotImplementedError):
    on moto the session serves these operations locally, the rest of SageMaker stays moto's."""
    sm = session.client("sagemaker")
    assert session.backend_for("sagemaker", "ListWorkteams") == "local"
    assert sm.list_workteams()["Workteams"] == []
    assert sm.list_labeling_jobs()["LabelingJobSummaryList"] == []
    if session.backend == "moto":
        assert session.backend_for("sagemaker", "CreateModel") == "moto"


# -- work teams and the workforce ------------------------------------------------------------
def test_workteam_lifecycle(gt_session):
    sm = gt_session.client("sagemaker")
    arn = create_team(sm, "team-a")
    assert re.fullmatch(r"arn:aws:sagemaker:us-east-1:\d{12}:workteam/private-crowd/team-a", arn)
    team = sm.describe_workteam(WorkteamName="team-a")["Workteam"]
    assert team["WorkteamArn"] == arn and team["MemberDefinitions"] == [COGNITO]
    assert team["WorkforceArn"].endswith(":workforce/default")
    assert team["SubDomain"] == sm.describe_workforce(WorkforceName="default")["Workforce"]["SubDomain"]

    with pytest.raises(ClientError) as err:
        create_team(sm, "team-a")
    assert err.value.response["Error"]["Code"] == "ResourceInUse"

    for n in range(3):
        create_team(sm, f"team-b{n}")
    pages = list(sm.get_paginator("list_workteams").paginate(PaginationConfig={"PageSize": 2}))
    assert [len(p["Workteams"]) for p in pages] == [2, 2]
    names = [t["WorkteamName"] for p in pages for t in p["Workteams"]]
    assert names == ["team-a", "team-b0", "team-b1", "team-b2"]
    assert [t["WorkteamName"] for t in sm.list_workteams(NameContains="b1")["Workteams"]] == ["team-b1"]

    updated = sm.update_workteam(WorkteamName="team-a", Description="Renamed")["Workteam"]
    assert updated["Description"] == "Renamed" and updated["LastUpdatedDate"] >= team["LastUpdatedDate"]
    assert sm.delete_workteam(WorkteamName="team-a")["Success"] is True
    with pytest.raises(ClientError) as err:
        sm.describe_workteam(WorkteamName="team-a")
    assert err.value.response["Error"]["Code"] == "ValidationException"

    forces = sm.list_workforces()["Workforces"]
    assert [f["WorkforceName"] for f in forces] == ["default"] and forces[0]["Status"] == "Active"


# -- a text-classification job with simulated workers ----------------------------------------

def test_text_classification_with_simulated_workers(gt_session):
    s3, sm = gt_session.client("s3"), gt_session.client("sagemaker")
    data = reviews(200)
    rows = [{"source": t, "sentiment": y, "id": i} for i, (t, y) in enumerate(zip(data.text, data.sentiment))]
    request = job_request(s3, "reviews-sentiment", "TextMultiClass", create_team(sm),
                          put_text_manifest(s3, rows), put_labels(s3, SENTIMENTS), workers=3,
                          simulated="count=3,accuracy=0.7,truth=sentiment,seed=0")
    arn = sm.create_labeling_job(**request)["LabelingJobArn"]
    assert arn == f"arn:aws:sagemaker:{REGION}:123456789012:labeling-job/reviews-sentiment"
    d = wait_for_job(sm, "reviews-sentiment")
    assert d["LabelingJobStatus"] == "Completed"
    c = d["LabelCounters"]
    assert c == {"TotalLabeled": 200, "HumanLabeled": 200, "MachineLabeled": 0,
                 "FailedNonRetryableError": 0, "Unlabeled": 0}
    out_uri = f"s3://{BUCKET}/output/reviews-sentiment/manifests/output/output.manifest"
    assert d["LabelingJobOutput"] == {"OutputDatasetS3Uri": out_uri}

    lines = read_lines(s3, out_uri)
    assert [line["id"] for line in lines] == list(range(200))          # one line per input line, in order
    for line, row in zip(lines, rows):
        assert list(line)[:3] == ["source", "sentiment", "id"] and line["source"] == row["source"]
        meta = line["label-metadata"]
        assert set(meta) == {"class-name", "confidence", "type", "job-name", "human-annotated", "creation-date"}
        assert meta["type"] == TEXT_TYPE and meta["job-name"] == "labeling-job/reviews-sentiment"
        assert meta["human-annotated"] == "yes" and 0.5 <= meta["confidence"] <= 1
        assert SENTIMENTS[line["label"]] == meta["class-name"]
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}", meta["creation-date"])

    consolidated = sum(line["label-metadata"]["class-name"] == line["sentiment"] for line in lines) / 200
    workers = worker_accuracies(s3, "reviews-sentiment", {r["id"]: r["sentiment"] for r in rows})
    assert len(workers) == 3 and all(0.6 < a < 0.8 for a in workers.values())
    assert consolidated > max(workers.values())

    keys = list_keys(s3, "output/reviews-sentiment/annotations/consolidated-annotation/")
    assert len(keys) == 1 and "/consolidation-response/iteration-1/" in keys[0]
    entries = json.loads(s3.get_object(Bucket=BUCKET, Key=keys[0])["Body"].read())
    assert len(entries) == 200 and entries[0]["datasetObjectId"] == "0"
    assert entries[0]["consolidatedAnnotation"]["content"]["label-metadata"] == lines[0]["label-metadata"]

    report = json.loads(s3.get_object(Bucket=BUCKET, Key="output/reviews-sentiment/annotations/label-quality/"
                                      "label-quality-report.json")["Body"].read())
    assert report["judgements"] == 600 and len(report["workers"]) == 3
    assert 0 < report["agreement"]["fleissKappa"] < 0.5 and report["agreement"]["krippendorffAlpha"] is not None
    assert len(report["agreement"]["pairwiseCohensKappa"]) == 3
    for entry in report["workers"]:          # Dawid–Skene's estimate of each worker's accuracy is close
        assert abs(entry["estimatedAccuracy"] - workers[entry["workerId"]]) < 0.1, entry

    summaries = sm.list_labeling_jobs(StatusEquals="Completed")["LabelingJobSummaryList"]
    assert [s["LabelingJobName"] for s in summaries] == ["reviews-sentiment"]
    assert summaries[0]["LabelCounters"] == c
    for_team = sm.list_labeling_jobs_for_workteam(WorkteamArn=request["HumanTaskConfig"]["WorkteamArn"])
    entry = for_team["LabelingJobSummaryList"][0]
    assert entry["LabelCounters"] == {"HumanLabeled": 200, "PendingHuman": 0, "Total": 200}
    assert entry["NumberOfHumanWorkersPerDataObject"] == 3 and entry["JobReferenceCode"] == d["JobReferenceCode"]


def test_one_worker_per_object_has_confidence_zero(gt_session):
    s3, sm = gt_session.client("s3"), gt_session.client("sagemaker")
    rows = [{"source": t, "sentiment": y} for t, y in zip(*[reviews(10)[c] for c in ("text", "sentiment")])]
    sm.create_labeling_job(**job_request(s3, "single", "TextMultiClass", create_team(sm), put_text_manifest(s3, rows),
                                         put_labels(s3, SENTIMENTS), workers=1,
                                         simulated="count=1,accuracy=1,truth=sentiment,seed=3"))
    d = wait_for_job(sm, "single")
    lines = read_lines(s3, d["LabelingJobOutput"]["OutputDatasetS3Uri"])
    assert [line["label-metadata"]["confidence"] for line in lines] == [0.0] * 10
    assert [line["label-metadata"]["class-name"] for line in lines] == [r["sentiment"] for r in rows]


def test_multilabel_text_output_format(gt_session):
    s3, sm = gt_session.client("s3"), gt_session.client("sagemaker")
    topics = ["acting", "plot", "music"]
    rows = [{"source": f"review {i}", "topics": topics[: 1 + i % 3]} for i in range(6)]
    sm.create_labeling_job(**job_request(s3, "topics", "TextMultiClassMultiLabel", create_team(sm),
                                         put_text_manifest(s3, rows), put_labels(s3, topics), workers=2,
                                         simulated="count=2,accuracy=1,truth=topics,seed=1"))
    lines = read_lines(s3, wait_for_job(sm, "topics")["LabelingJobOutput"]["OutputDatasetS3Uri"])
    for line, row in zip(lines, rows):
        meta = line["label-metadata"]
        assert meta["type"] == "groundtruth/text-classification-multilabel"
        assert sorted(meta["class-map"].values()) == sorted(row["topics"])
        assert sorted(line["label"]) == sorted(topics.index(t) for t in row["topics"])
        assert set(meta["confidence-map"]) == {str(k) for k in line["label"]}
        assert all(v == 1.0 for v in meta["confidence-map"].values())


def test_automated_data_labeling(gt_session_slow_on_moto):
    """1,000 review sentences: people label a random fifth (the validation set) and further
    batches; once a TF-IDF model's validated confidence reaches the target (lowered to 90 % by
    a local-only tag; AWS aims at 95 % with far more data), it labels the objects it is sure of."""
    gt_session = gt_session_slow_on_moto
    s3, sm = gt_session.client("s3"), gt_session.client("sagemaker")
    data = reviews(1000, seed=1)
    rows = [{"source": t, "sentiment": y} for t, y in zip(data.text, data.sentiment)]
    spec = f"arn:aws:sagemaker:{REGION}:027400017018:labeling-job-algorithm-specification/text-classification"
    sm.create_labeling_job(**job_request(
        s3, "auto", "TextMultiClass", create_team(sm), put_text_manifest(s3, rows), put_labels(s3, SENTIMENTS),
        workers=3, LabelingJobAlgorithmsConfig={"LabelingJobAlgorithmSpecificationArn": spec},
        Tags=[{"Key": "aws-ml:simulated-workers", "Value": "count=3,accuracy=0.95,truth=sentiment,seed=2"},
              {"Key": "aws-ml:automated-labeling", "Value": "target=0.9"}]))
    d = wait_for_job(sm, "auto")
    c = d["LabelCounters"]
    assert d["LabelingJobStatus"] == "Completed"
    assert c["MachineLabeled"] > 0 and c["HumanLabeled"] > 0
    assert c["TotalLabeled"] == c["HumanLabeled"] + c["MachineLabeled"] == 1000 and c["Unlabeled"] == 0
    assert d["LabelingJobOutput"]["FinalActiveLearningModelArn"].startswith(f"arn:aws:sagemaker:{REGION}:")
    lines = read_lines(s3, d["LabelingJobOutput"]["OutputDatasetS3Uri"])
    machine = [line for line in lines if line["label-metadata"]["human-annotated"] == "no"]
    assert len(machine) == c["MachineLabeled"]
    accuracy = sum(line["label-metadata"]["class-name"] == line["sentiment"] for line in machine) / len(machine)
    assert accuracy >= 0.75


def test_stop_labeling_job(gt_session):
    s3, sm = gt_session.client("s3"), gt_session.client("sagemaker")
    rows = [{"source": f"text {i}"} for i in range(5)]
    sm.create_labeling_job(**job_request(s3, "to-stop", "TextMultiClass", create_team(sm),
                                         put_text_manifest(s3, rows), put_labels(s3, SENTIMENTS)))
    assert sm.describe_labeling_job(LabelingJobName="to-stop")["LabelingJobStatus"] == "InProgress"
    sm.stop_labeling_job(LabelingJobName="to-stop")
    d = wait_for_job(sm, "to-stop")
    assert d["LabelingJobStatus"] == "Stopped"
    assert d["LabelCounters"]["Unlabeled"] == 5 and d["LabelCounters"]["TotalLabeled"] == 0
    assert read_lines(s3, d["LabelingJobOutput"]["OutputDatasetS3Uri"]) == rows   # unlabelled lines unchanged


def test_stopping_condition_max_human_labeled(gt_session):
    s3, sm = gt_session.client("s3"), gt_session.client("sagemaker")
    rows = [{"source": f"text {i}", "y": SENTIMENTS[i % 2]} for i in range(20)]
    sm.create_labeling_job(**job_request(s3, "capped", "TextMultiClass", create_team(sm),
                                         put_text_manifest(s3, rows), put_labels(s3, SENTIMENTS),
                                         simulated="count=1,accuracy=1,truth=y,seed=0",
                                         StoppingConditions={"MaxHumanLabeledObjectCount": 8}))
    c = wait_for_job(sm, "capped")["LabelCounters"]
    assert c["HumanLabeled"] >= 8 and c["HumanLabeled"] + c["Unlabeled"] == 20 and c["Unlabeled"] > 0


def test_describe_missing_job(gt_session):
    sm = gt_session.client("sagemaker")
    with pytest.raises(sm.exceptions.ResourceNotFound):
        sm.describe_labeling_job(LabelingJobName="nope")
    with pytest.raises(sm.exceptions.ResourceNotFound):
        sm.stop_labeling_job(LabelingJobName="nope")


# -- bad input: AWS's errors, nothing stored ---------------------------------------------------
BAD = {
    "manifest line not JSON": ("manifest", "ValidationException", "Invalid JSON on line 2"),
    "unknown task-type ARN": ("pre", "ValidationException", "Invalid task type"),
    "one label only": ("labels", "ValidationException", "at least 2 labels"),
    "work team does not exist": ("team", "ValidationException", "does not exist"),
    "ten workers per object": ("workers", "ValidationException", "less than or equal to 9"),
    "job name with underscore": ("name", "ValidationException", "regular expression pattern"),
    "label attribute ending in -metadata": ("attribute", "ValidationException", "-metadata"),
    "mismatched consolidation Lambda": ("acs", "ValidationException", "does not match"),
    "two UIs": ("ui", "ValidationException", "exactly one of"),
    "HumanTaskUiArn of NER for text classification": ("ui-arn", "ValidationException", "is not valid"),
    "label category file that is not JSON": ("labels-json", "ValidationException", "not valid JSON"),
    "worker template Liquid cannot parse": ("template", "ValidationException", "cannot be rendered"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_input_is_refused_and_stores_nothing(gt_session, case):
    s3, sm = gt_session.client("s3"), gt_session.client("sagemaker")
    what, code, message = BAD[case]
    team = create_team(sm)
    manifest = put_text_manifest(s3, [{"source": "good"}, {"source": "also good"}])
    if what == "manifest":
        s3.put_object(Bucket=BUCKET, Key="input/bad.manifest", Body=b'{"source": "ok"}\n{"source": oops}\n')
        manifest = f"s3://{BUCKET}/input/bad.manifest"
    labels = put_labels(s3, ["POSITIVE"] if what == "labels" else SENTIMENTS)
    req = job_request(s3, "job-bad", "TextMultiClass", team, manifest, labels)
    htc = req["HumanTaskConfig"]
    if what == "pre":
        htc["PreHumanTaskLambdaArn"] = "arn:aws:lambda:us-east-1:432418664414:function:PRE-TextMultiClassy"
        htc.pop("AnnotationConsolidationConfig")
    elif what == "team":
        htc["WorkteamArn"] = team.replace("labelers", "ghosts")
    elif what == "workers":
        htc["NumberOfHumanWorkersPerDataObject"] = 10
    elif what == "name":
        req["LabelingJobName"] = "job_bad"
    elif what == "attribute":
        req["LabelAttributeName"] = "label-metadata"
    elif what == "acs":
        htc["AnnotationConsolidationConfig"]["AnnotationConsolidationLambdaArn"] = \
            "arn:aws:lambda:us-east-1:432418664414:function:ACS-BoundingBox"
    elif what == "ui-arn":
        htc["UiConfig"] = {"HumanTaskUiArn": f"arn:aws:sagemaker:{REGION}:394669845002:human-task-ui/"
                                             "NamedEntityRecognition"}
    elif what == "template":
        s3.put_object(Bucket=BUCKET, Key="input/TextMultiClass.liquid.html", Body=b"<crowd-form>{% if %}</crowd-form>")
    elif what == "labels-json":
        s3.put_object(Bucket=BUCKET, Key="input/labels.json", Body=b"labels: [POSITIVE, NEGATIVE]")
    elif what == "ui":
        htc["UiConfig"]["HumanTaskUiArn"] = f"arn:aws:sagemaker:{REGION}:394669845002:human-task-ui/NamedEntityRecognition"
    with pytest.raises(ClientError) as err:
        sm.create_labeling_job(**req)
    assert err.value.response["Error"]["Code"] == code
    assert message in err.value.response["Error"]["Message"]
    assert sm.list_labeling_jobs()["LabelingJobSummaryList"] == []
    assert list_keys(s3, "output/") == []


def test_same_job_name_twice_is_resource_in_use(gt_session):
    s3, sm = gt_session.client("s3"), gt_session.client("sagemaker")
    req = job_request(s3, "twice", "TextMultiClass", create_team(sm), put_text_manifest(s3, [{"source": "a"}]),
                      put_labels(s3, SENTIMENTS))
    sm.create_labeling_job(**req)
    before = sm.describe_labeling_job(LabelingJobName="twice")
    with pytest.raises(sm.exceptions.ResourceInUse):
        sm.create_labeling_job(**req)
    after = sm.describe_labeling_job(LabelingJobName="twice")
    assert after["CreationTime"] == before["CreationTime"] and after["JobReferenceCode"] == before["JobReferenceCode"]


def test_list_labeling_jobs_filters_and_paginates(gt_session):
    s3, sm = gt_session.client("s3"), gt_session.client("sagemaker")
    team = create_team(sm)
    manifest, labels = put_text_manifest(s3, [{"source": "a"}]), put_labels(s3, SENTIMENTS)
    for name in ("alpha-1", "alpha-2", "beta-1"):
        sm.create_labeling_job(**job_request(s3, name, "TextMultiClass", team, manifest, labels))
    sm.stop_labeling_job(LabelingJobName="beta-1")
    pages = list(sm.get_paginator("list_labeling_jobs").paginate(SortBy="Name", SortOrder="Ascending",
                                                                 PaginationConfig={"PageSize": 2}))
    assert [[s["LabelingJobName"] for s in p["LabelingJobSummaryList"]] for p in pages] == \
        [["alpha-1", "alpha-2"], ["beta-1"]]
    assert [s["LabelingJobName"] for s in sm.list_labeling_jobs(NameContains="alpha")["LabelingJobSummaryList"]] \
        == ["alpha-2", "alpha-1"]                                         # newest first by default
    assert [s["LabelingJobName"] for s in sm.list_labeling_jobs(StatusEquals="InProgress")["LabelingJobSummaryList"]] \
        == ["alpha-2", "alpha-1"]
    for s in sm.list_labeling_jobs()["LabelingJobSummaryList"]:
        assert s["WorkteamArn"] == team and s["PreHumanTaskLambdaArn"].endswith(":function:PRE-TextMultiClass")

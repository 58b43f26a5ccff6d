"""``aws_ml.labeling.label_dataframe``: a Ground Truth text-classification job built as AWS
expects it, run with simulated workers, its labels joined back to the DataFrame.

moto implements no Ground Truth operation: the tests run on the local backend, and on moto
with ``services={"sagemaker": "local"}`` (moto's S3 holds the data and the job's output).
"""
from __future__ import annotations

import json

import pytest

from aws_ml import Session, datasets
from aws_ml.labeling import LAMBDA_ACCOUNTS, label_dataframe, parse_workers

pd = pytest.importorskip("pandas")
REGION = "us-east-1"
BUCKET = "label-bucket"
SIMULATED = "simulated:count=3,accuracy=0.7,truth=sentiment,seed=0"


@pytest.fixture(params=["local", "moto"])
def gt_session(request, home):
    services = {"sagemaker": "local"} if request.param == "moto" else None
    with Session(backend=request.param, home=home, region=REGION, services=services) as s:
        yield s


@pytest.fixture(scope="module")
def reviews():
    return datasets.load("reviews/imdb_sentences").sample(90, random_state=3)


def _body(s3, uri: str) -> bytes:
    bucket, key = uri[5:].split("/", 1)
    return s3.get_object(Bucket=bucket, Key=key)["Body"].read()


def test_label_dataframe_with_simulated_workers(gt_session, reviews):
    result = label_dataframe(gt_session, reviews, text_column="text", categories=["NEGATIVE", "POSITIVE"],
                             job_name="reviews-job", bucket=BUCKET, workers=SIMULATED, progress=False)
    assert result.status == "Completed"
    assert result.label_counters == {"TotalLabeled": 90, "HumanLabeled": 90, "MachineLabeled": 0,
                                     "FailedNonRetryableError": 0, "Unlabeled": 0}
    df = result.df
    assert list(df.index) == list(reviews.index) and list(df.columns) == ["text", "sentiment", "label",
                                                                          "confidence", "human_annotated"]
    assert set(df["label"]) <= {"NEGATIVE", "POSITIVE"} and df["label"].notna().all()
    assert df["human_annotated"].tolist() == [True] * 90
    assert ((df["confidence"] >= 0.5) & (df["confidence"] <= 1)).all()
    assert result.output_manifest_uri == (f"s3://{BUCKET}/labeling/reviews-job/output/reviews-job/"
                                          "manifests/output/output.manifest")

    # every worker's answers, as AWS writes them; majority voting beats each annotator
    answers = result.worker_labels()
    assert sorted(answers.columns) == ["private.simulated-0", "private.simulated-1", "private.simulated-2"]
    assert list(answers.index) == list(reviews.index)
    truth = reviews["sentiment"]
    per_worker = [(answers[w] == truth).mean() for w in answers.columns]
    assert all(0.5 < a < 0.9 for a in per_worker)
    votes = answers.apply(lambda row: row.value_counts().idxmax(), axis=1)
    assert (votes == df["label"]).all()                              # 3 workers, 2 classes: the majority
    assert (df["label"] == truth).mean() > min(per_worker)


def test_request_is_shaped_as_aws_expects(gt_session, reviews):
    label_dataframe(gt_session, reviews.head(4), text_column="text", categories=["NEGATIVE", "POSITIVE"],
                    job_name="shape-job", bucket=BUCKET, workers=SIMULATED, progress=False)
    sm, s3 = gt_session.client("sagemaker"), gt_session.client("s3")
    d = sm.describe_labeling_job(LabelingJobName="shape-job")
    account = LAMBDA_ACCOUNTS[REGION]
    h = d["HumanTaskConfig"]
    assert h["PreHumanTaskLambdaArn"] == f"arn:aws:lambda:{REGION}:{account}:function:PRE-TextMultiClass"
    assert h["AnnotationConsolidationConfig"]["AnnotationConsolidationLambdaArn"] == \
        f"arn:aws:lambda:{REGION}:{account}:function:ACS-TextMultiClass"
    assert h["NumberOfHumanWorkersPerDataObject"] == 3 and h["TaskTimeLimitInSeconds"] == 300
    assert h["WorkteamArn"].endswith(":workteam/private-crowd/aws-ml-labelers")
    assert "<crowd-classifier" in _body(s3, h["UiConfig"]["UiTemplateS3Uri"]).decode()
    assert json.loads(_body(s3, d["LabelCategoryConfigS3Uri"])) == {
        "document-version": "2018-11-28", "labels": [{"label": "NEGATIVE"}, {"label": "POSITIVE"}]}
    manifest = [json.loads(x) for x in _body(s3, d["InputConfig"]["DataSource"]["S3DataSource"]["ManifestS3Uri"])
                .decode().splitlines()]
    assert manifest == [{"source": t, "aws-ml-row": n, "sentiment": y}
                        for n, (t, y) in enumerate(zip(reviews.text[:4], reviews.sentiment[:4]))]
    assert d["Tags"] == [{"Key": "aws-ml:simulated-workers", "Value": SIMULATED.split(":", 1)[1]}]
    assert d["LabelAttributeName"] == "shape-job" and d["RoleArn"].startswith("arn:aws:iam::")
    # a second job reuses the private team created for the first
    label_dataframe(gt_session, reviews.head(2), text_column="text", categories=["NEGATIVE", "POSITIVE"],
                    job_name="shape-job-2", bucket=BUCKET, workers=SIMULATED, progress=False)
    assert [t["WorkteamName"] for t in sm.list_workteams()["Workteams"]] == ["aws-ml-labelers"]


def test_only_unlabelled_rows_are_sent_and_wait_later(gt_session, reviews):
    df = reviews.head(12).copy()
    df["label"] = [None] * 8 + ["POSITIVE"] * 4
    pending = label_dataframe(gt_session, df, text_column="text", categories=["NEGATIVE", "POSITIVE"],
                              job_name="partial", bucket=BUCKET, workers="simulated:count=1,accuracy=1,truth=sentiment,seed=1",
                              wait=False)
    assert pending.df is None and pending.status == "InProgress"
    done = pending.wait(progress=False)
    assert done.label_counters["TotalLabeled"] == 8
    assert done.df["label"].tolist() == df["sentiment"].tolist()[:8] + ["POSITIVE"] * 4
    assert done.df["confidence"].iloc[:8].tolist() == [0.0] * 8          # one worker: confidence 0, as on AWS
    assert done.df["human_annotated"].tolist()[8:] == [None] * 4


def test_multilabel_task(gt_session):
    topics = ["acting", "plot", "music"]
    df = pd.DataFrame({"text": [f"review {i}" for i in range(5)], "topics": [topics[: 1 + i % 3] for i in range(5)]})
    result = label_dataframe(gt_session, df, text_column="text", categories=topics, job_name="topics",
                             bucket=BUCKET, task="text-classification-multilabel", progress=False,
                             workers="simulated:count=2,accuracy=1,truth=topics,seed=0")
    assert [sorted(x) for x in result.df["label"]] == [sorted(x) for x in df["topics"]]


@pytest.mark.parametrize("kwargs, message", [
    ({"task": "image-classification"}, "'task' parameter"),
    ({"categories": ["ONLY"]}, "at least 2 distinct"),
    ({"text_column": "nope"}, "'text_column' parameter"),
    ({"workers": "people:3"}, "'workers' parameter"),
    ({"workers": "simulated:count=3,accuracy=0.7"}, "truth="),
    ({"workers": "simulated:count=3,truth=missing"}, "not a column"),
])
def test_bad_arguments_start_no_job(gt_session, reviews, kwargs, message):
    args = dict(text_column="text", categories=["NEGATIVE", "POSITIVE"], job_name="bad", bucket=BUCKET,
                workers=SIMULATED, progress=False) | kwargs
    with pytest.raises(ValueError, match=message):
        label_dataframe(gt_session, reviews.head(3), **args)
    assert gt_session.client("sagemaker").list_labeling_jobs()["LabelingJobSummaryList"] == []


def test_parse_workers():
    assert parse_workers(None) is None
    assert parse_workers("simulated:count=2,truth=y") == "count=2,truth=y"
    with pytest.raises(ValueError, match="not one of"):
        parse_workers("simulated:speed=2,truth=y")


def test_simulated_workers_need_a_local_sagemaker(home, reviews):
    """On a session whose SageMaker is not local (moto here, standing in for AWS) simulated
    workers do not exist, and a work team and a role must be given."""
    with Session(backend="moto", home=home, region=REGION, services={"sagemaker": "moto"}) as s:
        with pytest.raises(ValueError, match="simulated workers exist only"):
            label_dataframe(s, reviews.head(2), text_column="text", categories=["NEGATIVE", "POSITIVE"],
                            job_name="remote", bucket=BUCKET, workers=SIMULATED)
        with pytest.raises(ValueError, match="'workteam_arn' parameter"):
            label_dataframe(s, reviews.head(2), text_column="text", categories=["NEGATIVE", "POSITIVE"],
                            job_name="remote", bucket=BUCKET)
        with pytest.raises(ValueError, match="'role_arn' parameter"):
            label_dataframe(s, reviews.head(2), text_column="text", categories=["NEGATIVE", "POSITIVE"],
                            job_name="remote", bucket=BUCKET, workteam_arn="arn:aws:sagemaker:us-east-1:"
                            "123456789012:workteam/private-crowd/team")
        assert s.client("s3").list_buckets()["Buckets"] == []            # nothing written


def test_duplicate_index_labels_join_by_position(gt_session, reviews):
    df = reviews.head(6).set_index(pd.Index([7, 7, 8, 8, 9, 9]))
    result = label_dataframe(gt_session, df, text_column="text", categories=["NEGATIVE", "POSITIVE"],
                             job_name="dup-index", bucket=BUCKET, progress=False,
                             workers="simulated:count=1,accuracy=1,truth=sentiment,seed=0")
    assert list(result.df.index) == [7, 7, 8, 8, 9, 9]
    assert result.df["label"].tolist() == df["sentiment"].tolist()
    assert list(result.worker_labels()["private.simulated-0"]) == df["sentiment"].tolist()

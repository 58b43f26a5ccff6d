"""Section 2's labelling inside the pipeline: up to ``budget`` unlabelled rows go to ONE
Ground Truth job (simulated workers on the local backend), the consolidated labels fill the
target, the truth column of the simulated workers disappears from the data, the rows still
unlabelled form the pool of section 8, and a re-run reuses the job."""
from __future__ import annotations

import io
import logging
from pathlib import Path

import pandas as pd
import pytest
import yaml

from aws_ml import Session, datasets
from aws_ml.labeling import label_dataframe, label_pool
from aws_ml.pipeline import PipelineFileError, load_pipeline, run
from aws_ml.pipeline.spec import check_columns

ROWS, PRELABELLED, BUDGET = 120, 20, 80
WORKERS = {"truth": "sentiment", "count": 3, "accuracy": 0.8, "seed": 0}


def write_reviews(folder: Path, prelabelled: int = PRELABELLED) -> pd.DataFrame:
    """120 review sentences; the first ``prelabelled`` carry their label already."""
    d = datasets.load("reviews/imdb_sentences").sample(ROWS, random_state=1).reset_index(drop=True)
    if prelabelled is not None:
        d["label"] = [s if i < prelabelled else None for i, s in enumerate(d["sentiment"])]
    folder.mkdir(parents=True, exist_ok=True)
    d.to_csv(folder / "reviews.csv", index=False)
    return d


def reviews_spec(**sections) -> dict:
    spec = {"name": "reviews-small",
            "problem": {"objective": "Answer unhappy reviewers first", "question": "Is the sentence positive?",
                        "target": "label", "problem_type": "binary", "positive_class": "POSITIVE", "metric": "f1"},
            "data": {"sources": [{"name": "reviews", "path": "reviews.csv"}],
                     "labeling": {"task": "text-classification", "text_column": "text",
                                  "labels": ["NEGATIVE", "POSITIVE"], "budget": BUDGET,
                                  "simulated_workers": dict(WORKERS)}}}
    spec.update(sections)
    return spec


def write_pipeline(folder: Path, spec: dict) -> Path:
    path = folder / "pipeline.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


def read(session, uri: str) -> pd.DataFrame:
    bucket, _, key = uri[5:].partition("/")
    return pd.read_parquet(io.BytesIO(session.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()))


@pytest.fixture
def reviews(tmp_path):
    return tmp_path, write_reviews(tmp_path)


def test_data_step_labels_the_budget_removes_the_truth_and_writes_the_pool(reviews, local_session):
    folder, source = reviews
    result = run(write_pipeline(folder, reviews_spec()), local_session, progress=False)
    assert [s.status for s in result.steps[:2]] == ["done", "done"], [(s.name, s.message) for s in result.steps]
    lab = result.step("data").outputs["labeling"]
    assert lab["status"] == "done" and lab["configured"] and lab["items_sent"] == BUDGET
    assert lab["labelled_rows"] == PRELABELLED + BUDGET and lab["unlabelled_rows"] == ROWS - PRELABELLED - BUDGET
    assert lab["label_counters"]["TotalLabeled"] == BUDGET and lab["id_column"] == "record_id"
    assert lab["workers_spec"] == "simulated:count=3,accuracy=0.8,truth=sentiment,seed=0"

    curated = read(local_session, result.step("data").outputs["dataset_uri"])
    assert "sentiment" not in curated.columns and "sentiment" not in result.step("data").outputs["columns"]
    assert list(curated["record_id"]) == list(range(ROWS))
    truth = source["sentiment"]
    # the rows labelled before keep their label; the job's labels are categories
    assert (curated["label"][:PRELABELLED] == truth[:PRELABELLED]).all()
    labelled_now = curated["label"][PRELABELLED:].notna()
    assert labelled_now.sum() == BUDGET and set(curated["label"].dropna()) <= {"NEGATIVE", "POSITIVE"}
    # the agreement reported is the share of the job's labels equal to the truth
    job_rows = curated.index[PRELABELLED:][labelled_now.to_numpy()]
    agreement = (curated.loc[job_rows, "label"] == truth[job_rows]).mean()
    assert lab["agreement_with_truth"] == pytest.approx(agreement, abs=1e-4) and agreement > 0.6

    pool = read(local_session, lab["pool_uri"])
    assert list(pool.columns) == ["record_id", "text", "sentiment"]
    assert set(pool["record_id"]) == set(curated.loc[curated["label"].isna(), "record_id"])
    assert (pool["text"].to_numpy() == source.loc[pool["record_id"], "text"].to_numpy()).all()

    job = local_session.client("sagemaker").describe_labeling_job(LabelingJobName=lab["job_name"])
    assert job["LabelingJobStatus"] == "Completed" and job["LabelingJobArn"] == lab["job_arn"]
    report = Path(result.report_json).read_text(encoding="utf-8")
    assert lab["job_name"] in report and "equal the true label" in report


def test_the_budget_is_drawn_reproducibly_from_the_seed(tmp_path, local_session):
    picks = []
    for seed, sub in ((0, "a"), (0, "b"), (5, "c")):
        folder = tmp_path / sub
        write_reviews(folder)
        spec = reviews_spec(name=f"reviews-{sub}")
        spec["data"]["labeling"]["simulated_workers"]["seed"] = seed
        spec["data"]["labeling"]["budget"] = 10
        result = run(write_pipeline(folder, spec), local_session, progress=False, report=False)
        curated = read(local_session, result.step("data").outputs["dataset_uri"])
        picks.append(set(curated.index[PRELABELLED:][curated["label"][PRELABELLED:].notna().to_numpy()]))
    assert picks[0] == picks[1] and picks[0] != picks[2] and all(len(p) == 10 for p in picks)


def test_a_rerun_reuses_the_finished_job_instead_of_creating_another(reviews, local_session):
    folder, _ = reviews
    spec = reviews_spec()
    first = run(write_pipeline(folder, spec), local_session, progress=False, report=False)
    # a new artefact prefix makes section 2 run again: its job is found by name, not re-created
    spec["artifacts"] = {"prefix": "elsewhere/{name}"}
    again = run(write_pipeline(folder, spec), local_session, progress=False, report=False)
    assert again.step("data").status == "done"
    a, b = first.step("data").outputs["labeling"], again.step("data").outputs["labeling"]
    assert b["job_name"] == a["job_name"] and b["reused_job"] is True and a["reused_job"] is False
    jobs = local_session.client("sagemaker").list_labeling_jobs()["LabelingJobSummaryList"]
    assert [j["LabelingJobName"] for j in jobs] == [a["job_name"]]
    one = read(local_session, first.step("data").outputs["dataset_uri"])
    two = read(local_session, again.step("data").outputs["dataset_uri"])
    pd.testing.assert_frame_equal(one, two)


def test_target_absent_from_the_sources_is_produced_by_the_job(tmp_path, local_session):
    write_reviews(tmp_path, prelabelled=None)
    spec = reviews_spec()
    spec["data"]["labeling"]["budget"] = None          # every row
    path = write_pipeline(tmp_path, spec)
    check_columns(load_pipeline(path))                   # the target may be missing: the job makes it
    result = run(path, local_session, progress=False, report=False)
    assert result.step("problem").status == "done", result.step("problem").message
    assert any("labelling job produces it" in p for p in result.step("problem").outputs["problems"])
    lab = result.step("data").outputs["labeling"]
    assert lab["items_sent"] == ROWS and lab["unlabelled_rows"] == 0
    assert read(local_session, lab["pool_uri"]).empty


def test_truth_never_becomes_a_feature(reviews, local_session):
    folder, _ = reviews
    spec = reviews_spec(features={"record_id": "record_id", "text": ["text"], "text_components": 8,
                                  "split": {"test": 0.2, "validation": 0.2, "seed": 0}})
    result = run(write_pipeline(folder, spec), local_session, progress=False, report=False)
    f = result.step("features")
    assert f.status == "done", f.message
    assert f.outputs["feature_names"] == [f"text__text_svd_{i}" for i in range(8)]
    assert f.outputs["rows"]["train"] + f.outputs["rows"]["validation"] + f.outputs["rows"]["test"] == \
        PRELABELLED + BUDGET
    group = local_session.client("sagemaker").describe_feature_group(FeatureGroupName=f.outputs["feature_group"])
    assert "sentiment" not in {d["FeatureName"] for d in group["FeatureDefinitions"]}


def test_spec_errors_fail_before_any_work(reviews, local_session):
    folder, _ = reviews
    spec = reviews_spec()
    spec["data"]["labeling"]["workers"] = 3
    with pytest.raises(PipelineFileError, match=r"pipeline.yaml: data.labeling.workers: unknown key"):
        run(write_pipeline(folder, spec), local_session, progress=False)
    spec = reviews_spec()
    del spec["data"]["labeling"]
    spec["problem"]["target"] = "verdict"
    with pytest.raises(PipelineFileError, match=r"pipeline.yaml: problem.target: expected a column of the data, "
                                                r"got 'verdict'"):
        run(write_pipeline(folder, spec), local_session, progress=False)
    spec = reviews_spec(features={"text": ["text", "sentiment"]})
    with pytest.raises(PipelineFileError, match=r"features.text\[1\]: .*truth column of the simulated workers"):
        run(write_pipeline(folder, spec), local_session, progress=False)
    spec = reviews_spec()
    spec["data"]["labeling"]["simulated_workers"]["truth"] = "sentimnt"
    with pytest.raises(PipelineFileError, match=r"simulated_workers.truth: .*did you mean 'sentiment'"):
        run(write_pipeline(folder, spec), local_session, progress=False)
    assert not (local_session.home / "pipelines").exists()          # no work was done


def test_on_moto_the_labelling_operations_are_served_locally(reviews, home, caplog):
    folder, _ = reviews
    with caplog.at_level(logging.WARNING, logger="aws_ml"), \
            Session(backend="moto", home=home, region="us-east-1") as session:
        result = run(write_pipeline(folder, reviews_spec()), session, progress=False, report=False)
        assert result.step("data").status == "done", result.step("data").message
        lab = result.step("data").outputs["labeling"]
        assert lab["status"] == "done" and lab["labelled_rows"] == PRELABELLED + BUDGET
        assert "sentiment" not in read(session, result.step("data").outputs["dataset_uri"]).columns
    notices = [r.getMessage() for r in caplog.records if "not served by moto" in r.getMessage()]
    assert "aws_ml: sagemaker.CreateLabelingJob is not served by moto; routed to the local backend" in notices
    assert len(notices) == len(set(notices))            # one notice per operation


# -- label_pool: the idempotent helper (local and moto) -----------------------------------------
def test_label_pool_attaches_to_a_job_left_running_by_a_killed_run(session):
    rows = datasets.load("reviews/imdb_sentences").head(30)
    workers = "simulated:count=3,accuracy=0.9,truth=sentiment,seed=1"
    started = label_dataframe(session, rows, text_column="text", categories=["NEGATIVE", "POSITIVE"],
                              job_name="pool-job", bucket="pool-bucket", workers=workers, wait=False)
    result = label_pool(session, rows, text_column="text", categories=["NEGATIVE", "POSITIVE"],
                        job_name="pool-job", bucket="pool-bucket", workers=workers)
    assert result.reused and result.job_arn == started.job_arn and result.status == "Completed"
    assert result.df["label"].notna().all() and (result.df["label"] == rows["sentiment"]).mean() > 0.7
    sm = session.client("sagemaker")
    assert [j["LabelingJobName"] for j in sm.list_labeling_jobs()["LabelingJobSummaryList"]] == ["pool-job"]
    with pytest.raises(ValueError, match="exists with 30 objects, but pool_df has 10 rows"):
        label_pool(session, rows.head(10), text_column="text", categories=["NEGATIVE", "POSITIVE"],
                   job_name="pool-job", bucket="pool-bucket", workers=workers)


def test_label_pool_replaces_a_stopped_job_under_the_next_name(session):
    rows = datasets.load("reviews/imdb_sentences").head(12)
    sm = session.client("sagemaker")
    label_dataframe(session, rows, text_column="text", categories=["NEGATIVE", "POSITIVE"],
                    job_name="stopped-job", bucket="pool-bucket", wait=False)      # waits for people
    sm.stop_labeling_job(LabelingJobName="stopped-job")
    result = label_pool(session, rows, text_column="text", categories=["NEGATIVE", "POSITIVE"],
                        job_name="stopped-job", bucket="pool-bucket",
                        workers="simulated:count=1,accuracy=1,truth=sentiment,seed=0")
    assert result.job_name == "stopped-job-r2" and not result.reused
    assert (result.df["label"] == rows["sentiment"]).all()
    assert sm.describe_labeling_job(LabelingJobName="stopped-job")["LabelingJobStatus"] in ("Stopping", "Stopped")


# -- the bundled reviews pipeline ----------------------------------------------------------------
def reviews_example() -> dict:
    from aws_ml.pipeline import EXAMPLES

    return yaml.safe_load((EXAMPLES / "reviews_pipeline.yaml").read_text(encoding="utf-8"))


def test_bundled_reviews_pipeline_is_valid_and_names_the_produced_target():
    from aws_ml.pipeline import EXAMPLES

    spec = load_pipeline(EXAMPLES / "reviews_pipeline.yaml")
    assert check_columns(spec) == {"reviews": ["text", "sentiment"]}      # 'label' comes from the job
    lab = spec.data.labeling
    assert spec.problem.target == "label" and lab.budget == 400 and lab.simulated_workers.truth == "sentiment"
    assert spec.features.text == ["text"] and spec.training.algorithm == "xgboost"
    assert spec.deployment and spec.monitoring and spec.tuning


def run_reviews_sections_1_to_5(folder: Path, session, registry=None):
    spec = reviews_example()
    for section in ("deployment", "monitoring", "tuning"):
        spec.pop(section)
    path = folder / "reviews_pipeline.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    result = run(path, session, progress=False, registry=registry)
    assert [s.status for s in result.steps[:5]] == ["done"] * 5, [(s.name, s.status, s.message) for s in result.steps]
    lab = result.step("data").outputs["labeling"]
    budget = spec["data"]["labeling"]["budget"]
    assert lab["items_sent"] == budget and lab["labelled_rows"] == budget and lab["unlabelled_rows"] == 1000 - budget
    f = result.step("features").outputs
    assert len(f["feature_names"]) == 50 and all(n.startswith("text__text_svd_") for n in f["feature_names"])
    metrics = result.step("training").outputs["metrics"]
    assert 0.5 < metrics["validation:auc"] <= 1.0
    return result


def test_bundled_reviews_pipeline_sections_1_to_5_on_local(tmp_path, local_session):
    run_reviews_sections_1_to_5(tmp_path, local_session)

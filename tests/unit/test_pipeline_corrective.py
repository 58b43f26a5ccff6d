"""Section 8's corrective loop: a model that misses its target is diagnosed, corrected
(tuning, AutoML) and evaluated again, each iteration recorded in the run and its report."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from aws_ml import Session
from aws_ml.pipeline import correction, run

from .pipeline_support import small_pipeline, write_pipeline


def test_diagnosis_reads_overfitting_and_a_rising_curve():
    curve = [{"rows": 200, "train": 0.99, "validation": 0.55}, {"rows": 400, "train": 0.98, "validation": 0.62}]
    d = correction.diagnose(curve, "f1", 0.8, minority_share=0.04, pool_rows=300)
    assert [c["cause"] for c in d.causes] == ["overfitting", "too_few_labels", "imbalance"]
    assert d.suggested[0] == "relabel" and "0.980 on the training rows against 0.620" in d.summary
    assert correction.next_action(d, ["tune", "automl"], []) == "tune"
    assert correction.next_action(d, ["automl"], ["automl"]) is None
    assert correction.next_action(d, ["relabel", "tune"], [], pool_rows=0) == "tune"


def test_diagnosis_reads_underfitting_and_lower_is_better_metrics():
    curve = [{"rows": 100, "train": 0.50, "validation": 0.48}, {"rows": 200, "train": 0.51, "validation": 0.48}]
    d = correction.diagnose(curve, "f1", 0.9)
    assert [c["cause"] for c in d.causes] == ["underfitting"] and d.suggested[:2] == ["automl", "tune"]
    rmse = [{"rows": 100, "train": 10.0, "validation": 30.0}, {"rows": 200, "train": 11.0, "validation": 29.0}]
    assert [c["cause"] for c in correction.diagnose(rmse, "rmse", 5.0).causes][0] == "overfitting"
    assert correction.meets("rmse", 4.0, 5.0) and not correction.meets("f1", 0.4, 0.5)
    assert correction.meets("f1", None, None) and not correction.meets("f1", None, 0.5)


def test_scores_match_scikit_learn():
    from sklearn.metrics import average_precision_score, f1_score

    y, p = [0, 0, 1, 1, 1], [0.1, 0.6, 0.4, 0.8, 0.9]
    assert correction.score("f1", y, y_score=p) == pytest.approx(f1_score(y, [0, 1, 0, 1, 1]))
    assert correction.score("pr_auc", y, y_score=p) == pytest.approx(average_precision_score(y, p))
    assert correction.score("rmse", [1.0, 2.0], y_pred=[1.0, 4.0]) == pytest.approx(2 ** 0.5)
    with pytest.raises(ValueError, match="unknown metric"):
        correction.score("nope", y, y_score=p)


@pytest.mark.slow
def test_a_missed_threshold_goes_through_corrective_iterations(tmp_path, home):
    spec = small_pipeline(
        tmp_path, evaluation=None,
        training={"hyperparameters": {"num_round": 20, "max_depth": 3}},
        tuning={"strategy": "random", "max_jobs": 2, "max_parallel_jobs": 2, "ranges": {"max_depth": [2, 5]},
                "run": "on_miss", "actions": ["tune", "automl"], "max_iterations": 2})
    spec["problem"]["threshold"] = 0.97          # out of reach of this data: every iteration misses it
    with Session(backend="local", home=home, region="us-east-1") as session:
        result = run(write_pipeline(tmp_path, spec), session, progress=False)
    assert result.ok, [(s.name, s.message) for s in result.steps]
    out = result.step("tuning").outputs
    its = out["iterations"]
    assert [it["action"] for it in its] == ["tune", "automl"]
    assert all(it["reason"].startswith("f1 ") and "misses the target 0.97" in it["reason"] for it in its)
    assert its[0]["diagnosis"]["learning_curve"] and its[0]["diagnosis"]["causes"]
    assert out["stopped_because"] == "the bound of 2 iteration(s) is reached"
    assert out["final"]["meets_threshold"] is False
    values = [out["initial"]["value"]] + [it["value_after"] for it in its]
    assert all(0.0 <= v <= 1.0 for v in values)
    assert out["final"]["value"] == max(values)
    assert out["trials"] and out["job_name"]             # the tuning job's trials, as before
    report = json.loads(Path(result.report_json).read_text())
    section8 = report["sections"][7]
    assert section8["iterations"] and len(section8["iterations"]) == 2
    answers = [a["answer"] for a in section8["answers"]]
    assert "short of the target 0.97" in answers[0] and "1. tune" in answers[1] and "2. automl" in answers[1]
    assert "2 iteration(s)" in answers[2]
    html = Path(result.report_html).read_text()
    assert "Corrective iterations" in html and "corrective-iterations" in html


@pytest.mark.slow
def test_relabel_sends_the_most_uncertain_items_to_a_labelling_job(tmp_path, home):
    """A text pipeline short of its target: section 8 sends unlabelled sentences to a
    labelling job, trains again on the larger set, and records it; the truth column of the
    simulated workers never reaches AutoML or the features."""
    import pandas as pd

    from aws_ml import datasets

    d = datasets.load("reviews/imdb_sentences").sample(300, random_state=3).reset_index(drop=True)
    d.to_csv(tmp_path / "reviews.csv", index=False)
    spec = {"name": "reviews-loop",
            "problem": {"objective": "Answer unhappy reviewers first", "question": "Is the sentence positive?",
                        "target": "label", "problem_type": "binary", "positive_class": "POSITIVE",
                        "metric": "f1", "threshold": 0.99},
            "data": {"sources": [{"name": "reviews", "path": "reviews.csv"}],
                     "labeling": {"task": "text-classification", "text_column": "text",
                                  "labels": ["NEGATIVE", "POSITIVE"], "budget": 120,
                                  "simulated_workers": {"truth": "sentiment", "count": 3, "accuracy": 0.9, "seed": 0}}},
            "features": {"record_id": "record_id", "numeric": [], "categorical": [], "text": ["text"],
                         "text_components": 20},
            "training": {"hyperparameters": {"num_round": 30, "max_depth": 3}},
            "tuning": {"run": "on_miss", "actions": ["relabel", "automl"], "max_iterations": 2, "relabel_items": 60,
                       "max_jobs": 2}}
    with Session(backend="local", home=home, region="us-east-1") as session:
        result = run(write_pipeline(tmp_path, spec), session, progress=False)
        assert result.ok, [(s.name, s.message) for s in result.steps]
        out = result.step("tuning").outputs
        its = out["iterations"]
        assert its[0]["action"] == "relabel" and its[0]["labelled"] == 60
        assert its[0]["pool_left"] == 300 - 120 - 60
        assert its[0]["train_rows"] > result.step("features").outputs["rows"]["train"]
        jobs = [j["LabelingJobName"] for j in session.client("sagemaker").list_labeling_jobs()["LabelingJobSummaryList"]]
        assert its[0]["labeling_job"] in jobs and len(jobs) == 2          # section 2's job and this one
        assert [it["action"] for it in its][1:] in ([], ["automl"], ["relabel"])
        pool = session.client("s3").get_object(Bucket=result.bucket,
                                               Key=f"{result.prefix}/tuning/relabel-1/pool.parquet")["Body"].read()
        import io

        assert len(pd.read_parquet(io.BytesIO(pool))) == 300 - 120 - 60
        again = run(write_pipeline(tmp_path, spec), session, progress=False)
        assert again.executed == []                                       # all cached, no second job

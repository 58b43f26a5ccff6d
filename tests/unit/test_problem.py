"""Section 1: a problem spec checked against the data."""
from __future__ import annotations

import pytest

from aws_ml import datasets
from aws_ml.problem import ProblemSpec, ProblemSpecError


@pytest.fixture(scope="module")
def claims():
    return datasets.load("fraud/claims")


def test_fraud_spec_infers_binary_and_flags_accuracy(claims):
    spec = ProblemSpec(objective="Stop paying fraudulent claims", question="Is this claim fraudulent?",
                       target="fraud", metric="accuracy", id_columns=["policy_id"])
    check = spec.check(claims)
    assert check.problem_type == "binary" and check.declared_type_ok
    assert check.class_counts == {"0": 4836, "1": 164}
    assert check.minority_share == pytest.approx(164 / 5000)
    assert not check.metric_ok and check.recommended_metric == "f1"
    assert "96.7%" in check.metric_note  # what always predicting "not fraud" scores
    majority = check.baselines["majority"]
    assert majority["accuracy"] == pytest.approx(4836 / 5000)
    assert majority["f1"] == 0.0 and majority["pr_auc"] == pytest.approx(164 / 5000)
    assert check.baselines["stratified random"]["f1"] < 0.1
    assert check.unlabelled_rows == 0 and check.text_columns == []
    assert "policy_id" not in check.feature_columns and len(check.feature_columns) == 16
    answers = check.answers()
    assert len(answers) == 3 and "164" in answers[1]["answer"]
    assert "f1" in answers[2]["answer"]
    page = check.to_html()
    assert "<h1>Section 1" in page and '<div class="tiles">' in page          # the reports' frame
    assert "Baselines to beat" in page and "accuracy = 0.9672" in page
    assert "Rows per class" in page and "Is this claim fraudulent?" in page
    assert check.to_dict()["ok"] is False


def test_regression_and_wrong_declared_type(claims):
    check = ProblemSpec(objective="Price claims", question="How much will this claim cost?",
                        target="total_claim_amount", metric="rmse").check(claims)
    assert check.problem_type == "regression" and check.metric_ok
    assert check.baselines["mean"]["r2"] == pytest.approx(0.0, abs=1e-9)
    wrong = ProblemSpec(objective="x", question="y", target="total_claim_amount",
                        problem_type="binary", metric="f1").check(claims)
    assert not wrong.declared_type_ok and any("declared 'binary'" in p for p in wrong.problems)


def test_unlabelled_rows_and_text_columns():
    reviews = datasets.load("reviews/imdb_sentences")
    reviews.loc[:99, "sentiment"] = None
    check = ProblemSpec(objective="Understand reviews", question="Is this review positive?",
                        target="sentiment", metric="f1", positive_class="POSITIVE").check(reviews)
    assert check.unlabelled_rows == 100 and check.text_columns == ["text"]
    assert any("labelling job" in p for p in check.problems)


def test_bad_specs_fail_with_one_clear_line(tmp_path, claims):
    with pytest.raises(ProblemSpecError, match="metric must be one of"):
        ProblemSpec(objective="x", question="y", target="fraud", metric="speed")
    with pytest.raises(ProblemSpecError, match="target column 'label' is not in the data"):
        ProblemSpec(objective="x", question="y", target="label").check(claims)
    path = tmp_path / "problem.yaml"
    path.write_text("objective: x\nquestion: y\ntarget: fraud\nmetrc: f1\n")
    with pytest.raises(ProblemSpecError, match=r"problem.yaml: unknown key 'metrc'"):
        ProblemSpec.from_yaml(path)
    path.write_text("problem:\n  objective: x\n  question: y\n  target: fraud\n  metric: pr_auc\n")
    assert ProblemSpec.from_yaml(path).metric == "pr_auc"


def test_spec_from_s3(session):
    s3 = session.client("s3")
    s3.create_bucket(Bucket="spec-data")
    s3.upload_file(str(datasets.path("fraud/claims")), "spec-data", "claims.csv")
    check = ProblemSpec(objective="x", question="y", target="fraud").check("s3://spec-data/claims.csv", session)
    assert check.class_counts["1"] == 164 and check.rows == 5000


def test_html_report_is_written(tmp_path, claims):
    check = ProblemSpec(objective="Stop <fraud>", question="Fraud?", target="fraud").check(claims)
    page = check.to_html(tmp_path / "problem.html")
    assert (tmp_path / "problem.html").read_text(encoding="utf-8") == page
    assert "Stop &lt;fraud&gt;" in page and "<fraud>" not in page            # escaped


def test_multiclass_regression_baselines_and_anomaly_detection(claims):
    import pandas as pd

    df = pd.DataFrame({"colour": ["red", "green", "blue", "red"] * 50, "x": range(200)})
    check = ProblemSpec(objective="x", question="Which colour?", target="colour", metric="accuracy").check(df)
    assert check.problem_type == "multiclass" and check.class_counts == {"red": 100, "green": 50, "blue": 50}
    assert check.metric_ok                                                   # 25 % minority: accuracy is fine
    assert check.baselines["majority"]["accuracy"] == pytest.approx(0.5) and "f1_macro" in check.baselines["majority"]
    assert set(check.baselines) == {"majority", "stratified random"}
    reg = ProblemSpec(objective="x", question="How much?", target="total_claim_amount", metric="mae").check(claims)
    assert set(reg.baselines) == {"mean", "median"}
    y = claims["total_claim_amount"]
    assert reg.baselines["median"]["mae"] == pytest.approx((y - y.median()).abs().mean())
    assert reg.baselines["mean"]["rmse"] == pytest.approx(y.std(ddof=0))
    anomaly = ProblemSpec(objective="x", question="Is this claim unusual?", target="fraud",
                          problem_type="anomaly_detection", metric="pr_auc").check(claims)
    assert anomaly.declared_type_ok and anomaly.problem_type == "anomaly_detection" and anomaly.metric_ok
    wrong = ProblemSpec(objective="x", question="y", target="fraud", metric="rmse").check(claims)
    assert not wrong.metric_ok and wrong.recommended_metric == "f1"


def test_target_without_any_label_needs_a_declared_type():
    import pandas as pd

    df = pd.DataFrame({"text": ["a long enough review of the film", "another review of a different film"],
                       "sentiment": [None, None]})
    with pytest.raises(ProblemSpecError, match="declare problem_type"):
        ProblemSpec(objective="x", question="y", target="sentiment").check(df)
    check = ProblemSpec(objective="x", question="y", target="sentiment", problem_type="binary").check(df)
    assert check.unlabelled_rows == 2 and check.text_columns == ["text"]
    assert any("labelling job" in p for p in check.problems)


def test_yaml_spec_with_every_key(tmp_path, claims):
    path = tmp_path / "problem.yaml"
    path.write_text("problem:\n  objective: Stop fraud\n  question: Is this claim fraudulent?\n  target: fraud\n"
                    "  problem_type: binary\n  positive_class: 1\n  metric: pr_auc\n  threshold: 0.4\n"
                    "  id_columns: [policy_id]\n")
    spec = ProblemSpec.from_yaml(path)
    assert (spec.problem_type, spec.positive_class, spec.threshold, spec.id_columns) == ("binary", 1, 0.4, ["policy_id"])
    check = spec.check(claims)
    assert check.ok and "pr_auc ≥ 0.4" in check.answers()[2]["answer"]
    path.write_text("objective: x\nquestion: y\ntarget: fraud\nproblem_type: clustering\n")
    with pytest.raises(ProblemSpecError, match="problem_type must be one of"):
        ProblemSpec.from_yaml(path)

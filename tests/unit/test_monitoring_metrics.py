"""Model-quality metrics, baseline models and error analysis by slice (aws_ml.monitoring)."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from aws_ml.monitoring import MetricsError, evaluate_model
from tests.contract.test_monitoring.fraud import fraud_split

sk = pytest.importorskip("sklearn.metrics")


@pytest.fixture(scope="module")
def split():
    return fraud_split()


def test_binary_metrics_match_scikit_learn_on_the_fraud_model(split):
    y, score = split.y_test, split.proba_boosting
    ev = evaluate_model(y, y_score=score, threshold=0.1)
    pred = (score >= 0.1).astype(int)
    m = ev.metrics
    assert ev.problem_type == "binary" and ev.n == len(y) and ev.threshold == 0.1
    assert m["precision"] == pytest.approx(sk.precision_score(y, pred))
    assert m["recall"] == pytest.approx(sk.recall_score(y, pred))
    assert m["f1"] == pytest.approx(sk.f1_score(y, pred))
    assert m["roc_auc"] == pytest.approx(sk.roc_auc_score(y, score))
    assert m["pr_auc"] == pytest.approx(sk.average_precision_score(y, score))
    assert m["log_loss"] == pytest.approx(sk.log_loss(y, score))
    assert m["brier"] == pytest.approx(sk.brier_score_loss(y, score))
    assert m["confusion_matrix"]["matrix"] == sk.confusion_matrix(y, pred).tolist()
    cal = ev.curves["calibration"]
    assert sum(cal["count"]) == len(y) and len(cal["mean_predicted"]) <= 10
    assert cal["mean_predicted"] == sorted(cal["mean_predicted"])
    roc = ev.curves["roc"]
    assert roc["fpr"][0] == 0 and roc["fpr"][-1] == roc["tpr"][-1] == 1
    assert ev.curves["pr"]["prevalence"] == pytest.approx(y.mean())
    json.dumps(ev.to_dict(), allow_nan=False)


def test_the_model_beats_the_trivial_baselines_where_it_should(split):
    ev = evaluate_model(split.y_test, y_score=split.proba_logistic)
    names = [b["name"] for b in ev.baselines]
    assert names == ["majority", "stratified"]
    majority = ev.baselines[0]["metrics"]
    assert majority["accuracy"] == pytest.approx(1 - split.y_test.mean())   # always "not fraud"
    assert majority["recall"] == 0 and majority["roc_auc"] == 0.5
    assert majority["pr_auc"] == pytest.approx(split.y_test.mean())
    p = split.y_test.mean()                                              # scored with the prior
    assert majority["log_loss"] == pytest.approx(-(p * np.log(p) + (1 - p) * np.log(1 - p)))
    assert majority["brier"] == pytest.approx(p * (1 - p))
    rows = {r["metric"]: r for r in ev.comparison()}
    assert rows["roc_auc"]["better_than_baselines"] and rows["pr_auc"]["better_than_baselines"]
    # a balanced logistic regression trades accuracy for recall: the majority class wins accuracy
    assert rows["accuracy"]["better_than_baselines"] is False


def test_a_provided_baseline_model_is_compared(split):
    ev = evaluate_model(split.y_test, y_score=split.proba_boosting,
                        baseline={"logistic": {"y_score": split.proba_logistic}})
    [b] = ev.baselines
    assert b["name"] == "logistic" and b["kind"] == "provided"
    assert b["metrics"]["roc_auc"] == pytest.approx(sk.roc_auc_score(split.y_test, split.proba_logistic))


def test_two_column_scores_and_string_labels():
    y = np.array(["fraud", "ok", "ok", "fraud", "ok", "ok"])
    proba = np.array([[0.9, 0.1], [0.2, 0.8], [0.3, 0.7], [0.6, 0.4], [0.1, 0.9], [0.8, 0.2]])  # fraud, ok
    ev = evaluate_model(y, y_score=proba, positive_label="fraud")
    assert ev.positive_label == "fraud"
    assert ev.metrics["roc_auc"] == pytest.approx(sk.roc_auc_score(y == "fraud", proba[:, 0]))
    assert ev.metrics["confusion_matrix"]["labels"] == ["other", "fraud"]
    with pytest.raises(ValueError, match="positive_label 'stolen'"):
        evaluate_model(y, y_score=proba, positive_label="stolen")


def test_labels_only_have_no_score_metrics():
    ev = evaluate_model([0, 1, 1, 0, 1], [0, 1, 0, 0, 1])
    assert ev.metrics["precision"] == 1.0 and ev.metrics["recall"] == pytest.approx(2 / 3)
    assert "roc_auc" not in ev.metrics and ev.curves == {}


def test_multiclass():
    rng = np.random.default_rng(0)
    y = rng.choice(["a", "b", "c"], size=300)
    proba = rng.dirichlet([1, 1, 1], size=300)
    proba[np.arange(300), pd.Series(y).map({"a": 0, "b": 1, "c": 2})] += 1.0
    ev = evaluate_model(y, y_score=proba)
    pred = np.array(["a", "b", "c"])[proba.argmax(axis=1)]
    assert ev.problem_type == "multiclass"
    assert ev.metrics["accuracy"] == pytest.approx(sk.accuracy_score(y, pred))
    assert ev.metrics["f1_macro"] == pytest.approx(sk.f1_score(y, pred, average="macro"))
    assert ev.metrics["roc_auc"] == pytest.approx(sk.roc_auc_score(y, proba / proba.sum(1, keepdims=True),
                                                                   multi_class="ovr"))
    assert [c["label"] for c in ev.metrics["per_class"]] == ["a", "b", "c"]
    with pytest.raises(MetricsError, match="one column per class"):
        evaluate_model(y, y_score=proba[:, :2], problem_type="multiclass")


def test_regression_metrics_and_mean_baseline():
    rng = np.random.default_rng(1)
    y = rng.normal(1000, 200, 500)
    pred = y + rng.normal(0, 50, 500)
    ev = evaluate_model(y, pred)
    assert ev.problem_type == "regression"
    m = ev.metrics
    assert m["rmse"] == pytest.approx(np.sqrt(sk.mean_squared_error(y, pred)))
    assert m["mae"] == pytest.approx(sk.mean_absolute_error(y, pred))
    assert m["r2"] == pytest.approx(sk.r2_score(y, pred))
    assert m["mape"] == pytest.approx(sk.mean_absolute_percentage_error(y, pred))
    assert [b["name"] for b in ev.baselines] == ["mean", "median"]
    assert ev.baselines[0]["metrics"]["r2"] == pytest.approx(0.0)
    assert all(r["better_than_baselines"] for r in ev.comparison())
    assert len(ev.curves["residuals"]["residual"]) == 500


def test_mape_leaves_out_zero_targets():
    ev = evaluate_model([0.0, 10.0, 20.0, 30.5], [1.0, 11.0, 18.0, 30.5], problem_type="regression")
    assert ev.metrics["mape"] == pytest.approx((0.1 + 0.1 + 0) / 3)
    assert ev.metrics["mape_rows_excluded"] == 1


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="y_pred or y_score"):
        evaluate_model([0, 1])
    with pytest.raises(ValueError, match="y_pred has 3 rows but y_true has 2"):
        evaluate_model([0, 1], [0, 1, 1])
    with pytest.raises(ValueError, match="problem_type must be one of"):
        evaluate_model([0, 1], [0, 1], problem_type="ranking")
    with pytest.raises(ValueError, match="missing values"):
        evaluate_model([0, None, 1], [0, 1, 1])
    with pytest.raises(ValueError, match="slices needs features"):
        evaluate_model([0, 1], [0, 1], slices=["a"])


def test_slices_find_the_planted_weak_segment():
    rng = np.random.default_rng(2)
    n = 2000
    features = pd.DataFrame({"region": rng.choice(["north", "south", "east", "west"], n),
                             "amount": rng.uniform(0, 1000, n)})
    y = rng.integers(0, 2, n)
    wrong = (rng.random(n) < 0.05) | ((features["region"] == "east") & (rng.random(n) < 0.5)) \
        | ((features["amount"] > 800) & (rng.random(n) < 0.3))
    pred = np.where(wrong, 1 - y, y)
    ev = evaluate_model(y, pred, features=features)
    sl = ev.slices
    assert sl["global_error"] == pytest.approx(wrong.mean())
    top = sl["segments"][0]
    assert (top["feature"], top["segment"]) == ("region", "east")
    east = wrong[features["region"] == "east"]
    assert top["count"] == len(east) and top["error"] == pytest.approx(east.mean())
    assert top["lift"] == pytest.approx(east.mean() / wrong.mean())
    amount = [s for s in sl["segments"] if s["feature"] == "amount"]
    assert amount[0]["segment"].endswith(" – 1,000")                       # the top quantile bin
    assert len(sl["columns"]["amount"]) == 5 and sum(s["count"] for s in sl["columns"]["amount"]) == n


def test_slices_of_a_regression_use_the_absolute_error():
    features = pd.DataFrame({"kind": ["a"] * 50 + ["b"] * 50})
    y = np.arange(100.0)
    pred = y + np.where(features["kind"] == "b", 10.0, 1.0)
    ev = evaluate_model(y, pred, features=features, slices=["kind"])
    assert ev.slices["metric"] == "mean_absolute_error"
    assert [(s["segment"], s["error"]) for s in ev.slices["segments"]] == [("b", 10.0), ("a", 1.0)]
    with pytest.raises(ValueError, match="does not have"):
        evaluate_model(y, pred, features=features, slices=["colour"])


def test_decision_function_scores_rank_but_are_not_probabilities(split):
    from scipy.special import logit

    decision = logit(np.clip(split.proba_logistic, 1e-9, 1 - 1e-9))     # like decision_function
    ev = evaluate_model(split.y_test, y_score=decision, threshold=0.0)
    assert ev.metrics["roc_auc"] == pytest.approx(sk.roc_auc_score(split.y_test, decision))
    assert ev.metrics["recall"] == pytest.approx(sk.recall_score(split.y_test, decision >= 0))
    assert "log_loss" not in ev.metrics and "calibration" not in ev.curves
    assert 'data-chart="calibration"' not in ev.to_html()


def test_features_are_aligned_on_the_labels_index(split):
    shuffled = split.test_rows.sample(frac=1.0, random_state=3)
    a = evaluate_model(split.y_test, y_score=split.proba_logistic, features=shuffled)
    b = evaluate_model(split.y_test, y_score=split.proba_logistic, features=split.test_rows)
    assert a.slices == b.slices

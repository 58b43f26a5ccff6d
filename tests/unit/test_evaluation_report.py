"""Acceptance of section 3 on the bundled fraud claims: imbalance, missing values, outliers,
correlations, leakage hints; the report as JSON and as a self-contained HTML file."""
from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest

from aws_ml import datasets
from aws_ml.evaluation import evaluate_data
from aws_ml.evaluation.correlation import correlation_ratio, cramers_v, rank_auc
from aws_ml.evaluation.dashboard import render_html

CLAIM_AMOUNTS = ["total_claim_amount", "injury_claim", "vehicle_claim"]


@pytest.fixture(scope="module")
def claims():
    return datasets.load("fraud/claims")


@pytest.fixture(scope="module")
def report(claims):
    return evaluate_data(claims, target="fraud", facet="incident_severity")


def test_flags_the_fraud_imbalance(report):
    b = report.balance
    assert b.task == "binary"
    assert b.positive_count == 164 and int(b.counts["count"].sum()) == 5000
    assert b.positive_share == pytest.approx(0.0328)
    assert b.verdict == "imbalanced" and b.is_imbalanced
    assert b.baseline_accuracy == pytest.approx(4836 / 5000)
    text = " ".join(b.recommendations)
    assert "F1" in text and "PR AUC" in text and "scale_pos_weight" in text and "SMOTE" in text
    (finding,) = report.findings_about("imbalance")
    assert finding["severity"] == "warning"
    assert "164 of 5,000 rows (3.3%)" in finding["message"]


def test_flags_the_missing_authorities_contacted(report, claims):
    # pandas reads the string "None" of authorities_contacted as missing: 1,210 rows
    assert report.missing.loc["authorities_contacted", "missing"] == 1210
    assert report.missing.loc["authorities_contacted", "missing_pct"] == pytest.approx(24.2)
    assert report.missing.index[0] == "authorities_contacted"          # most missing first
    assert "authorities_contacted" in report.flagged_columns("missing")
    finding = next(f for f in report.findings_about("missing") if f["column"] == "authorities_contacted")
    assert finding["severity"] == "warning" and "1,210 missing values (24.2%" in finding["message"]
    assert report.missing.loc["fraud", "missing"] == 0
    assert report.statistics.loc["authorities_contacted", "count"] == 5000 - 1210


def test_flags_the_outliers_of_the_claim_amounts(report, claims):
    flagged = [f["column"] for f in report.findings_about("outliers") if f["severity"] == "warning"]
    assert set(CLAIM_AMOUNTS) <= set(flagged)
    for column in CLAIM_AMOUNTS:
        v = claims[column]
        q1, q3 = v.quantile(0.25), v.quantile(0.75)
        fence = q3 + 1.5 * (q3 - q1)
        row = report.outliers.loc[column]
        assert row["iqr_outliers"] == int(((v < q1 - 1.5 * (q3 - q1)) | (v > fence)).sum()) > 100
        assert row["upper_fence"] == pytest.approx(fence)
        z = (v - v.mean()) / v.std()
        assert row["z_outliers"] == int((z.abs() > 3).sum())
        examples = report.outlier_examples[column]
        assert examples[0][column] == v.max() and len(examples) == 5   # the most extreme first
    # a column whose IQR is 0 is not a warning (the IQR rule would flag every other value)
    assert "num_claims_past_year" not in {f["column"] for f in report.findings_about("outliers")
                                           if f["severity"] == "warning"}


def test_statistics_and_distributions(report, claims):
    stats = report.statistics
    assert stats.loc["vehicle_claim", "mean"] == pytest.approx(claims.vehicle_claim.mean())
    assert stats.loc["vehicle_claim", "median"] == pytest.approx(claims.vehicle_claim.median())
    assert stats.loc["incident_type", "top"] == "Collision"
    assert report.kinds["policy_id"] == "identifier"
    assert report.kinds["incident_severity"] == "categorical"
    hist = report.distributions["total_claim_amount"]
    assert hist["kind"] == "histogram" and sum(hist["counts"]) == 5000
    assert sum(hist["by_class"][1]) == 164
    sev = report.distributions["incident_severity"]
    assert sev["values"][0] == "Minor" and sev["counts"][0] == 2100
    assert report.distributions["num_injuries"]["kind"] == "discrete"


def test_correlations_with_the_target(report, claims):
    corr = report.target_correlations
    r = np.corrcoef(claims.num_vehicles_involved, claims.fraud)[0, 1]
    assert corr.loc["num_vehicles_involved", "value"] == pytest.approx(r)
    assert corr.loc["num_vehicles_involved", "method"] == "point-biserial"
    assert corr.loc["incident_severity", "method"] == "cramers_v"
    assert corr["strength"].is_monotonic_decreasing
    matrix = report.correlation_matrix
    assert matrix.loc["injury_claim", "total_claim_amount"] == pytest.approx(
        claims.injury_claim.corr(claims.total_claim_amount))
    assert np.allclose(matrix.to_numpy(), matrix.to_numpy().T, equal_nan=True)
    assert any({p["a"], p["b"]} == {"injury_claim", "total_claim_amount"} for p in report.redundant)


def test_leakage_hints(claims):
    df = claims.copy()
    rng = np.random.default_rng(0)
    df["fraud_flag_from_investigation"] = df.fraud * 10 + rng.normal(0, 1, len(df))   # leaks the label
    df["claim_ref"] = [f"CLM-{i:06d}" for i in range(len(df))]
    report = evaluate_data(df, target="fraud")
    leaks = {h["column"]: h for h in report.leakage}
    assert leaks["fraud_flag_from_investigation"]["reason"] == "predicts the target alone"
    assert leaks["fraud_flag_from_investigation"]["auc"] > 0.95
    assert leaks["policy_id"]["reason"] == "identifier-like"
    assert leaks["claim_ref"]["reason"] == "identifier-like"
    assert "vehicle_claim" not in leaks
    assert report.flagged_columns("leakage") == ["fraud_flag_from_investigation"]


def test_measures_against_known_values():
    x = pd.Series(list("aabbcc"))
    y = pd.Series(list("xxyyzz"))
    assert cramers_v(x, y) == pytest.approx(1.0)
    assert cramers_v(pd.Series(list("aabb")), pd.Series(list("xyxy"))) == pytest.approx(0.0)
    assert correlation_ratio(pd.Series(list("aabb")), pd.Series([1.0, 1.0, 5.0, 5.0])) == pytest.approx(1.0)
    scores = np.array([0.1, 0.4, 0.35, 0.8])
    truth = np.array([False, False, True, True])
    assert rank_auc(scores, truth) == pytest.approx(0.75)         # sklearn's roc_auc_score gives 0.75


def test_to_dict_is_json(report):
    data = report.to_dict()
    text = json.dumps(data, allow_nan=False)                      # no NaN, no numpy types
    again = json.loads(text)
    assert again["balance"]["positive_count"] == 164
    assert again["missing"][0] == {"column": "authorities_contacted", "missing": 1210, "missing_pct": 24.2}
    assert {"statistics", "distributions", "outliers", "target_correlations", "correlation_matrix",
            "leakage", "bias", "findings"} <= set(again)


def test_html_is_self_contained(report, tmp_path):
    path = tmp_path / "out" / "evaluation.html"
    html = report.to_html(path)
    assert path.read_text(encoding="utf-8") == html
    assert not re.search(r"<script[^>]+src=", html)               # plotly.js is inline, no CDN
    assert not re.search(r"<link[^>]+href=\"?https?:", html)
    assert "Plotly.newPlot" in html and "plotly.js v" in html
    charts = json.loads(re.search(r'data-charts="([^"]*)"', html).group(1).replace("&quot;", '"'))
    assert {"class-balance", "missing-values", "histograms", "box-plots", "scatter",
            "correlation-heatmap", "bias-0"} <= set(charts)
    assert "1,210 (24.2%)" in html                                # readable numbers
    assert render_html(json.loads(report.to_json())) == html      # a saved report.json draws again
    assert len(html) < 8_000_000


def test_regression_and_multiclass_targets(claims):
    reg = evaluate_data(claims.drop(columns=["fraud"]), target="total_claim_amount")
    assert reg.task == "regression" and reg.balance.verdict == "not applicable"
    assert reg.target_correlations.loc["injury_claim", "method"] == "pearson"
    assert reg.target_correlations.index[0] in ("injury_claim", "vehicle_claim")
    reg.to_html()

    multi = evaluate_data(claims, target="incident_severity", positive_label=None)
    assert multi.task == "multiclass"
    assert multi.balance.verdict == "balanced"
    assert multi.target_correlations.loc["num_injuries", "method"] == "eta"


def test_sampling_and_feature_selection(claims):
    report = evaluate_data(claims, target="fraud", sample=1000, features=CLAIM_AMOUNTS + ["incident_type"])
    assert report.n_rows == 1000 and report.n_rows_total == 5000
    assert set(report.kinds) == set(CLAIM_AMOUNTS + ["incident_type", "fraud"])
    again = evaluate_data(claims, target="fraud", sample=1000, features=CLAIM_AMOUNTS + ["incident_type"])
    assert again.statistics.equals(report.statistics)            # the same seed, the same rows
    half = evaluate_data(claims, target="fraud", sample=0.5, exclude=["policy_id"])
    assert half.n_rows == 2500 and "policy_id" not in half.kinds


def test_bad_input_is_refused(claims):
    with pytest.raises(ValueError, match="'target' parameter of evaluate_data"):
        evaluate_data(claims, target="is_fraud")
    with pytest.raises(ValueError, match="'facet' parameter"):
        evaluate_data(claims, target="fraud", facet="gender")
    with pytest.raises(ValueError, match="'sample' parameter"):
        evaluate_data(claims, target="fraud", sample=-3)
    with pytest.raises(ValueError, match="'source' parameter"):
        evaluate_data(42, target="fraud")
    with pytest.raises(ValueError, match="'source' parameter"):
        evaluate_data("./claims.csv", target="fraud")

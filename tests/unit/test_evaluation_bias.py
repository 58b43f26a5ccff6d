"""Clarify's pre-training bias metrics against hand computations (plain counting, math.log)."""
from __future__ import annotations

import math

import pandas as pd
import pytest

from aws_ml import datasets
from aws_ml.evaluation import evaluate_data, pretraining_bias
from aws_ml.evaluation.bias import BiasError


@pytest.fixture(scope="module")
def fraud():
    """Claims joined with customers on policy_id (for the customer_gender facet)."""
    return datasets.load("fraud/claims").merge(datasets.load("fraud/customers"), on="policy_id")


def by_hand(rows, in_d, positive):
    """Every metric from a list of rows, counting with Python only."""
    n_a = n_d = pos_a = pos_d = 0
    for row in rows:
        if in_d(row):
            n_d += 1
            pos_d += positive(row)
        else:
            n_a += 1
            pos_a += positive(row)
    q_a, q_d = pos_a / n_a, pos_d / n_d
    pa = {"negative": 1 - q_a, "positive": q_a}
    pd_ = {"negative": 1 - q_d, "positive": q_d}
    shared = [y for y in pa if pa[y] > 0 and pd_[y] > 0]      # Clarify: values both groups have
    kl = sum(pa[y] * math.log(pa[y] / pd_[y]) for y in shared)
    mid = {y: (pa[y] + pd_[y]) / 2 for y in shared}
    js = 0.5 * (sum(pa[y] * math.log(pa[y] / mid[y]) for y in shared)
                + sum(pd_[y] * math.log(pd_[y] / mid[y]) for y in shared))
    return {
        "n_a": n_a, "n_d": n_d, "q_a": q_a, "q_d": q_d,
        "CI": (n_a - n_d) / (n_a + n_d),
        "DPL": q_a - q_d,
        "KL": kl,
        "JS": js,
        "LP": math.sqrt(sum((pa[y] - pd_[y]) ** 2 for y in shared)),
        "TVD": 0.5 * sum(abs(pa[y] - pd_[y]) for y in shared),
        "KS": max(abs(pa[y] - pd_[y]) for y in shared),
    }


def assert_metrics(table_row, expected):
    for metric, value in expected.items():
        assert table_row[metric] == pytest.approx(value, rel=1e-12, abs=1e-15), metric


def test_gender_facet_matches_hand_computation(fraud):
    report = pretraining_bias(fraud, facet="customer_gender", label="fraud", facet_values="Female")
    rows = fraud[["customer_gender", "fraud"]].to_dict("records")
    expected = by_hand(rows, lambda r: r["customer_gender"] == "Female", lambda r: r["fraud"] == 1)
    assert list(report.table.index) == ["Female"]
    assert_metrics(report.table.loc["Female"], expected)
    # the numbers themselves, so that a shared mistake in both computations shows
    assert (expected["n_d"], expected["n_a"]) == (2208, 2792)
    assert report.table.loc["Female", "CI"] == pytest.approx((2792 - 2208) / 5000)
    assert report.facet_type == "categorical"


def test_one_versus_rest_for_every_value(fraud):
    report = pretraining_bias(fraud, facet="incident_severity", label="fraud")
    assert sorted(report.table.index) == ["Major", "Minor", "Totaled"]
    rows = fraud[["incident_severity", "fraud"]].to_dict("records")
    for value in ("Major", "Minor", "Totaled"):
        expected = by_hand(rows, lambda r, v=value: r["incident_severity"] == v, lambda r: r["fraud"] == 1)
        assert_metrics(report.table.loc[value], expected)
    assert report.table["n_d"].sum() == len(fraud)


def test_several_values_form_one_group(fraud):
    report = pretraining_bias(fraud, facet="customer_gender", label="fraud", facet_values=["Other", "Unkown"])
    rows = fraud[["customer_gender", "fraud"]].to_dict("records")
    expected = by_hand(rows, lambda r: r["customer_gender"] in ("Other", "Unkown"), lambda r: r["fraud"] == 1)
    assert list(report.table.index) == ["Other, Unkown"]
    assert_metrics(report.table.iloc[0], expected)


def test_continuous_facet_takes_a_threshold(fraud):
    """Clarify's rule: an integer facet with >= 5 % distinct values is continuous (d: above the
    threshold); with fewer it is categorical (customer_age: 53 values in 5,000 rows)."""
    report = pretraining_bias(fraud, facet="months_as_customer", label="fraud", facet_values=100)
    rows = fraud[["months_as_customer", "fraud"]].to_dict("records")
    expected = by_hand(rows, lambda r: r["months_as_customer"] > 100, lambda r: r["fraud"] == 1)
    assert report.facet_type == "continuous"
    assert list(report.table.index) == ["months_as_customer > 100"]
    assert_metrics(report.table.iloc[0], expected)
    with pytest.raises(BiasError, match="threshold"):
        pretraining_bias(fraud, facet="months_as_customer", label="fraud")

    age = pretraining_bias(fraud, facet="customer_age", label="fraud", facet_values=40)
    assert age.facet_type == "categorical"
    assert age.table.iloc[0]["n_d"] == int((fraud.customer_age == 40).sum())


def test_label_absent_from_a_group_follows_clarify():
    """Facet d has no positive label: Clarify sums KL etc. over the shared label values only."""
    df = pd.DataFrame({"g": ["x"] * 4 + ["y"] * 6, "label": [0, 0, 0, 0, 1, 0, 1, 0, 0, 1]})
    report = pretraining_bias(df, facet="g", label="label", facet_values="x")
    row = report.table.loc["x"]
    # a: 6 rows, 3 positive (q_a = .5); d: 4 rows, none positive (q_d = 0)
    assert row["CI"] == pytest.approx((6 - 4) / 10)
    assert row["DPL"] == pytest.approx(0.5)
    assert row["KL"] == pytest.approx(0.5 * math.log(0.5 / 1.0))   # only "negative" is shared
    assert row["KS"] == pytest.approx(0.5)
    assert "x" in report.notes


def test_cddl_by_hand():
    df = pd.DataFrame({
        "sex": ["f", "f", "m", "m", "f", "m", "m", "f"],
        "label": [1, 0, 1, 1, 0, 0, 1, 0],
        "dept": ["A", "A", "A", "A", "B", "B", "B", "B"],
    })
    report = pretraining_bias(df, facet="sex", label="label", facet_values="f", group_variable="dept")
    # dept A: accepted f=1 of 3, rejected f=1 of 1 -> DD = 1 - 1/3; dept B: accepted f=0 of 1,
    # rejected f=2 of 3 -> DD = 2/3; CDD = (4·2/3 + 4·2/3) / 8
    assert report.table.loc["f", "CDDL"] == pytest.approx((4 * (1 - 1 / 3) + 4 * (2 / 3)) / 8)


def test_string_labels_and_positive_label():
    df = pd.DataFrame({"g": list("aabbbb"), "y": ["yes", "no", "no", "no", "yes", "yes"]})
    report = pretraining_bias(df, facet="g", label="y", positive_label="yes", facet_values="a")
    assert report.table.loc["a", "DPL"] == pytest.approx(2 / 4 - 1 / 2)
    with pytest.raises(BiasError, match="does not occur"):
        pretraining_bias(df, facet="g", label="y", positive_label="maybe")
    with pytest.raises(BiasError, match="not in the data"):
        pretraining_bias(df, facet="nope", label="y")


def test_evaluate_data_reports_bias_per_facet(fraud):
    report = evaluate_data(fraud[["customer_gender", "incident_severity", "customer_age", "fraud"]],
                           target="fraud", facet=["customer_gender", "incident_severity"])
    assert [b.facet for b in report.bias] == ["customer_gender", "incident_severity"]
    gender = report.to_dict()["bias"][0]
    other = next(g for g in gender["groups"] if g["group"] == "Other")
    assert other["n_d"] == 91 and other["q_d"] == 0.0
    flagged = {f["group"] for f in report.findings_about("bias")}
    assert {"Other", "Unkown"} <= flagged          # CI > 0.8: under-represented

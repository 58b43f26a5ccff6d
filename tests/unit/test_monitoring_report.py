"""The model-evaluation report: a JSON-serialisable object and a self-contained HTML file."""
from __future__ import annotations

import html
import json
import re

import numpy as np
import pandas as pd
import pytest

from aws_ml.monitoring import check_drift, evaluate_model, suggest_baseline
from tests.contract.test_monitoring.fraud import fraud_split

pytest.importorskip("plotly")


def _charts(text: str) -> list[str]:
    return json.loads(html.unescape(re.search(r'data-charts="([^"]*)"', text).group(1)))


@pytest.fixture(scope="module")
def fraud_evaluation():
    split = fraud_split()
    drift = check_drift(suggest_baseline(split.X_train), split.shifted)
    features = split.test_rows.drop(columns=["policy_id"])
    return evaluate_model(split.y_test, y_score=split.proba_logistic, features=features, drift=drift,
                          model_name="fraud-logistic")


def test_binary_report_is_self_contained(fraud_evaluation, tmp_path):
    path = tmp_path / "report.html"
    text = fraud_evaluation.to_html(path)
    assert path.read_text(encoding="utf-8") == text
    assert _charts(text) == ["roc", "pr", "confusion", "calibration", "baselines", "slices", "drift",
                             "drift-distributions"]
    assert not re.search(r'<script[^>]+src=', text)                  # nothing fetched: plotly.js is inline
    assert text.count("Plotly.newPlot") >= 8
    assert len(re.findall(r"plotly\.js v\d", text)) == 1               # the bundle is embedded once
    assert "Model evaluation · fraud-logistic" in text
    assert "baseline_drift_check" in text and "total_claim_amount" in text


def test_to_dict_is_json(fraud_evaluation):
    d = json.loads(json.dumps(fraud_evaluation.to_dict(), allow_nan=False))
    assert d["problem_type"] == "binary" and d["positive_label"] == 1
    assert set(d["headline"]) == {"accuracy", "balanced_accuracy", "precision", "recall", "f1", "roc_auc",
                                  "pr_auc", "log_loss", "brier"}
    assert d["drift"]["drifted_features"] and d["slices"]["segments"]
    assert "worst slice" in fraud_evaluation.summary()


def test_regression_and_multiclass_reports_draw_their_charts():
    rng = np.random.default_rng(0)
    y = rng.normal(50, 10, 300)
    ev = evaluate_model(y, y + rng.normal(0, 3, 300), features=pd.DataFrame({"k": rng.choice(["a", "b"], 300)}))
    assert _charts(ev.to_html()) == ["residuals", "baselines", "slices"]
    labels = rng.choice(["a", "b", "c"], 200)
    ev = evaluate_model(labels, rng.choice(["a", "b", "c"], 200))
    text = ev.to_html()
    assert _charts(text) == ["confusion", "baselines"] and "<th class='num'>recall</th>" in text

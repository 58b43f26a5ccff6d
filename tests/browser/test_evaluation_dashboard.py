"""The data-evaluation dashboard in a real headless Chromium: every chart renders, nothing
is logged as an error, nothing is fetched from the network (the file is self-contained)."""
from __future__ import annotations

import json

import pytest

from aws_ml import datasets
from aws_ml.evaluation import evaluate_data
from tests.browser.pages import CHARTS_DRAWN, open_offline, rendered_charts

# what each chart must have drawn: a CSS selector inside its plot and the least count
DRAWN = {
    "class-balance": (".barlayer .point", 2),
    "missing-values": (".barlayer .point", 3),
    "target-association": (".barlayer .point", 10),
    "scatter": (".scatterlayer .point", 1000),
    "histograms": (".barlayer .point", 100),
    "categories": (".barlayer .point", 40),
    "box-plots": (".boxlayer .trace", 16),
    "correlation-heatmap": (".heatmaplayer image, .heatmaplayer .hm", 1),
    "bias-0": (".barlayer .point", 4),
}


@pytest.fixture(scope="module")
def fraud_dashboard(tmp_path_factory):
    claims = datasets.load("fraud/claims").merge(datasets.load("fraud/customers"), on="policy_id")
    report = evaluate_data(claims, target="fraud", facet="customer_gender")
    path = tmp_path_factory.mktemp("dashboard") / "index.html"
    report.to_html(path)
    return path


def test_fraud_dashboard_renders_every_chart(browser, fraud_dashboard, artifacts):
    page, problems = open_offline(browser, fraud_dashboard, ready=CHARTS_DRAWN)
    try:
        expected = json.loads(page.evaluate("document.body.dataset.charts"))
        charts = rendered_charts(page)
        assert sorted(charts) == sorted(expected) == sorted(DRAWN)
        assert all(n >= 1 for n in charts.values()), charts
        assert page.evaluate("document.querySelectorAll('.js-plotly-plot').length") == len(DRAWN)
        for name, (selector, least) in DRAWN.items():
            count = page.locator(f'.chart[data-chart="{name}"]').locator(selector).count()
            assert count >= least, f"{name}: {count} {selector!r} drawn, expected at least {least}"
        # the numbers a reader looks for are on the page, readably formatted
        text = page.inner_text("body")
        assert "164 (3.3%)" in text and "1,210 (24.2%)" in text and "imbalanced" in text
        page.screenshot(path=str(artifacts / "evaluation_dashboard.png"), full_page=True)
    finally:
        page.close()
    assert problems == {"console": [], "page": [], "network": []}


def test_dashboard_without_classes_or_missing_values(browser, tmp_path, artifacts):
    """A regression target with no missing value and no facet: fewer charts, still no error."""
    claims = datasets.load("fraud/claims")
    report = evaluate_data(claims[["injury_claim", "vehicle_claim", "num_injuries", "incident_type",
                                   "total_claim_amount"]], target="total_claim_amount")
    path = tmp_path / "regression.html"
    report.to_html(path)
    page, problems = open_offline(browser, path, ready=CHARTS_DRAWN)
    try:
        charts = rendered_charts(page)
        assert "class-balance" not in charts and "missing-values" not in charts
        assert {"histograms", "box-plots", "scatter", "correlation-heatmap"} <= set(charts)
        assert all(n >= 1 for n in charts.values()), charts
        assert "Every value is present" in page.inner_text("body")
        page.screenshot(path=str(artifacts / "evaluation_dashboard_regression.png"))
    finally:
        page.close()
    assert problems == {"console": [], "page": [], "network": []}

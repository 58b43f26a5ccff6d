"""The model-evaluation report in a real headless Chromium: every chart renders, nothing is
logged as an error, nothing is fetched from the network (plotly.js is inline)."""
from __future__ import annotations

import json

import pytest

from aws_ml.monitoring import check_drift, evaluate_model, suggest_baseline
from tests.browser.pages import CHARTS_DRAWN, open_offline, rendered_charts
from tests.contract.test_monitoring.fraud import fraud_split


# what each chart must have drawn: a CSS selector inside its plot and the least count
DRAWN = {
    "roc": (".scatterlayer .trace", 2),
    "pr": (".scatterlayer .trace", 3),
    "confusion": (".heatmaplayer image, .heatmaplayer .hm", 1),
    "calibration": (".scatterlayer .point", 5),
    "baselines": (".barlayer .point", 20),
    "slices": (".barlayer .point", 5),
    "drift": (".barlayer .point", 10),            # one bar per numeric feature
    "drift-distributions": (".barlayer .point", 40),
}


@pytest.fixture(scope="module")
def model_report(tmp_path_factory):
    split = fraud_split()
    drift = check_drift(suggest_baseline(split.X_train), split.shifted)
    features = split.test_rows.drop(columns=["policy_id"])
    ev = evaluate_model(split.y_test, y_score=split.proba_logistic, features=features, drift=drift,
                        model_name="fraud-logistic")
    path = tmp_path_factory.mktemp("model-report") / "model.html"
    ev.to_html(path)
    return path, ev


def test_model_report_renders_every_chart(browser, model_report, artifacts):
    path, ev = model_report
    page, problems = open_offline(browser, path, ready=CHARTS_DRAWN)
    try:
        expected = json.loads(page.evaluate("document.body.dataset.charts"))
        charts = rendered_charts(page)
        assert sorted(charts) == sorted(expected) == sorted(DRAWN)
        assert all(n >= 1 for n in charts.values()), charts
        for name, (selector, least) in DRAWN.items():
            count = page.locator(f'.chart[data-chart="{name}"]').locator(selector).count()
            assert count >= least, f"{name}: {count} {selector!r} drawn, expected at least {least}"
        # every chart fits its card (none drawn wider than the column it sits in)
        overflow = page.evaluate("""() => [...document.querySelectorAll('.chart')].filter(c =>
            c.querySelector('.main-svg').getBoundingClientRect().width > c.closest('.card').clientWidth)
            .map(c => c.dataset.chart)""")
        assert overflow == []
        text = page.inner_text("body")
        assert f"{ev.metrics['roc_auc']:.3f}" in text and "baseline_drift_check" in text
        page.screenshot(path=str(artifacts / "model_report.png"), full_page=True)
    finally:
        page.close()
    assert problems == {"console": [], "page": [], "network": []}


def test_regression_report_renders_every_chart(browser, tmp_path, artifacts):
    from sklearn.ensemble import GradientBoostingRegressor

    from aws_ml import datasets

    claims = datasets.load("fraud/claims")
    target = claims["vehicle_claim"]
    X = claims.select_dtypes("number").drop(columns=["policy_id", "fraud", "vehicle_claim", "total_claim_amount"])
    train, test = X.index[:3500], X.index[3500:]
    model = GradientBoostingRegressor(n_estimators=40, random_state=0).fit(X.loc[train], target[train])
    ev = evaluate_model(target[test], model.predict(X.loc[test]), model_name="vehicle-claim",
                        features=claims.loc[test].drop(columns=["policy_id", "fraud", "vehicle_claim"]))
    path = tmp_path / "regression.html"
    ev.to_html(path)
    page, problems = open_offline(browser, path, ready=CHARTS_DRAWN)
    try:
        charts = rendered_charts(page)
        assert sorted(charts) == ["baselines", "residuals", "slices"] and min(charts.values()) >= 1
        residuals = page.locator('.chart[data-chart="residuals"]')
        assert residuals.locator(".scatterlayer .point").count() == 2 * 1500      # both panels, every row
        assert page.locator('.chart[data-chart="baselines"] .barlayer .point').count() == 12
        assert f"{ev.metrics['rmse']:,.0f}" in page.inner_text("body")
        page.screenshot(path=str(artifacts / "model_report_regression.png"), full_page=True)
    finally:
        page.close()
    assert problems == {"console": [], "page": [], "network": []}

"""A QuickSight dashboard over an Athena table, rendered locally and opened in Chromium."""
from __future__ import annotations


import pytest

from aws_ml import datasets
from aws_ml.evaluation.sources import run_athena
from aws_ml.evaluation.quicksight import publish_dashboard

pytest.importorskip("plotly")


def _athena(session, sql: str) -> None:
    """Run ``sql`` in the evaluation workgroup (AthenaQueryError unless it SUCCEEDED)."""
    run_athena(session, sql, workgroup="evaluation")


def test_evaluation_dashboard_in_quicksight(local_session, browser, artifacts):
    s3 = local_session.client("s3")
    s3.create_bucket(Bucket="evaluation-data")
    s3.upload_file(str(datasets.path("fraud/claims")), "evaluation-data", "claims/claims.csv")
    local_session.client("athena").create_work_group(Name="evaluation", Configuration={
        "ResultConfiguration": {"OutputLocation": "s3://evaluation-data/athena/"}})
    header = datasets.path("fraud/claims").read_text().splitlines()[0].split(",")
    numeric = {"injury_claim", "vehicle_claim", "total_claim_amount"}
    ints = {c for c in header if c.startswith(("num_", "incident_month", "incident_day", "incident_dow",
                                               "incident_hour", "fraud", "policy"))}
    cols = ", ".join(f"{c} {'double' if c in numeric else 'bigint' if c in ints else 'string'}" for c in header)
    _athena(local_session, "CREATE DATABASE IF NOT EXISTS fraud")
    _athena(local_session, f"CREATE EXTERNAL TABLE fraud.claims ({cols}) ROW FORMAT DELIMITED FIELDS TERMINATED "
                           "BY ',' LOCATION 's3://evaluation-data/claims/' TBLPROPERTIES ('skip.header.line.count'='1')")
    out = publish_dashboard(local_session, database="fraud", table="claims", target="fraud", workgroup="evaluation")
    assert out["embed_url"].startswith("file://")
    # Publishing again updates the same dashboard (a new version), it does not fail.
    again = publish_dashboard(local_session, database="fraud", table="claims", target="fraud", workgroup="evaluation")
    assert again["dashboard_id"] == out["dashboard_id"]
    qs = local_session.client("quicksight")
    assert qs.describe_dashboard(AwsAccountId="123456789012", DashboardId=out["dashboard_id"])[
        "Dashboard"]["Version"]["VersionNumber"] == 2

    page = browser.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(out["embed_url"], wait_until="load")
    page.wait_for_function("() => document.querySelectorAll('.js-plotly-plot .main-svg').length > 0")
    cards = page.locator("section.card").count()
    plots = page.evaluate("() => document.querySelectorAll('.js-plotly-plot').length")
    drawn = page.evaluate("() => [...document.querySelectorAll('.js-plotly-plot')].filter("
                          "p => p.querySelector('.main-svg')).length")
    page.screenshot(path=str(artifacts / "quicksight-evaluation-dashboard.png"), full_page=True)
    assert errors == []
    assert cards == 12        # KPI, class balance, 4 histograms, 4 box plots, scatter, heat map
    assert plots == drawn == 11
    assert "0.0328" in page.inner_text("section[data-visual=KPIVisual]")
    page.close()

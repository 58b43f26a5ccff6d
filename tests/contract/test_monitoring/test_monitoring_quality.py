"""Model quality and drift through the facade, on local and moto: a model trained here on the
bundled fraud claims, its baseline in S3, its figures in CloudWatch, and the alarms on them.

The local CloudWatch evaluates alarms as data arrive (as AWS does within a minute); moto
stores alarms but never evaluates them, so the state assertions are AWS's and xfail there.
"""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from aws_ml.monitoring import (Baseline, alarm_states, check_drift, create_quality_alarms, evaluate_model,
                               publish, suggest_baseline)
from aws_ml.problem import ProblemSpec
from tests.conftest import moto_gap

from .fraud import CLAIM_AMOUNTS, fraud_split

pytest.importorskip("sklearn")
pytest.importorskip("scipy")

BUCKET = "fraud-monitoring"
DIMS = {"Model": "fraud-logistic"}
NAMESPACE = "aws-ml/ModelQuality"


@pytest.fixture(scope="module")
def split():
    return fraud_split()


@pytest.fixture
def bucket(session):
    session.client("s3").create_bucket(Bucket=BUCKET)
    return BUCKET


def _datapoints(session, name, dims=DIMS):
    now = datetime.now(timezone.utc)
    resp = session.client("cloudwatch").get_metric_statistics(
        Namespace=NAMESPACE, MetricName=name, Dimensions=[{"Name": k, "Value": v} for k, v in dims.items()],
        StartTime=now - timedelta(hours=1), EndTime=now + timedelta(hours=1), Period=60, Statistics=["Maximum"])
    return [p["Maximum"] for p in resp["Datapoints"]]


def test_baseline_round_trips_through_s3_in_model_monitor_shapes(session, bucket, split):
    baseline = suggest_baseline(split.X_train, session=session, output_uri=f"s3://{bucket}/baseline")
    s3 = session.client("s3")
    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix="baseline/")["Contents"])
    assert keys == ["baseline/constraints.json", "baseline/statistics.json"]
    stats = json.loads(s3.get_object(Bucket=bucket, Key="baseline/statistics.json")["Body"].read())
    assert stats["version"] == 0 and stats["dataset"]["item_count"] == len(split.X_train)
    claim = next(f for f in stats["features"] if f["name"] == "total_claim_amount")
    assert claim["inferred_type"] == "Fractional"
    num = claim["numerical_statistics"]
    assert num["common"] == {"num_present": len(split.X_train), "num_missing": 0}
    assert num["mean"] == pytest.approx(split.X_train["total_claim_amount"].mean())
    assert len(num["distribution"]["kll"]["buckets"]) == 10
    constraints = json.loads(s3.get_object(Bucket=bucket, Key="baseline/constraints.json")["Body"].read())
    injuries = next(f for f in constraints["features"] if f["name"] == "num_injuries")
    assert injuries == {"name": "num_injuries", "inferred_type": "Integral", "completeness": 1.0,
                        "num_constraints": {"is_non_negative": True}}
    assert constraints["monitoring_config"]["distribution_constraints"]["perform_comparison"] == "Enabled"

    loaded = Baseline.load(session, f"s3://{bucket}/baseline")
    assert loaded.statistics == baseline.statistics and loaded.constraints == baseline.constraints
    assert check_drift(loaded, split.X_test).violations == []


def test_drift_report_is_saved_as_a_monitoring_execution_writes_it(session, bucket, split):
    baseline = suggest_baseline(split.X_train)
    report = check_drift(baseline, split.shifted)
    report.save(session, f"s3://{bucket}/monitoring/2026-11-25")
    body = session.client("s3").get_object(Bucket=bucket, Key="monitoring/2026-11-25/constraint_violations.json")
    violations = json.loads(body["Body"].read())["violations"]
    assert sorted(v["feature_name"] for v in violations) == sorted(CLAIM_AMOUNTS)
    assert {v["constraint_check_type"] for v in violations} == {"baseline_drift_check"}


def test_published_quality_metrics_reach_cloudwatch(session, split):
    ev = evaluate_model(split.y_test, y_score=split.proba_logistic)
    names = publish(session, ev, dimensions=DIMS)
    assert {"F1", "PRAUC", "ROCAUC", "Accuracy", "Precision", "Recall", "LogLoss"} <= set(names)
    assert _datapoints(session, "F1") == [pytest.approx(ev.metrics["f1"])]
    assert _datapoints(session, "ROCAUC") == [pytest.approx(ev.metrics["roc_auc"])]
    listed = session.client("cloudwatch").list_metrics(Namespace=NAMESPACE)["Metrics"]
    assert {m["MetricName"] for m in listed} == set(names)


def test_drift_metrics_use_model_monitor_names(session, split):
    report = check_drift(suggest_baseline(split.X_train), split.shifted)
    names = publish(session, report, dimensions=DIMS)
    assert "feature_baseline_drift_total_claim_amount" in names and "drift_violations" in names
    assert _datapoints(session, "drift_violations") == [3.0]
    assert _datapoints(session, "feature_baseline_drift_total_claim_amount") == \
        [pytest.approx(report.feature("total_claim_amount")["distance"])]


def test_alarms_are_created_from_the_problem_spec(session):
    spec = ProblemSpec(objective="Stop paying fraudulent claims", question="Is this claim fraudulent?",
                       target="fraud", metric="pr_auc", threshold=0.2)
    names = create_quality_alarms(session, dimensions=DIMS, spec=spec)
    assert names == ["fraud-logistic-PRAUC-below-threshold", "fraud-logistic-drift-violations"]
    alarms = {a["AlarmName"]: a for a in session.client("cloudwatch").describe_alarms(AlarmNames=names)["MetricAlarms"]}
    quality = alarms["fraud-logistic-PRAUC-below-threshold"]
    assert (quality["MetricName"], quality["Threshold"], quality["ComparisonOperator"]) == \
        ("PRAUC", 0.2, "LessThanThreshold")
    assert quality["Dimensions"] == [{"Name": "Model", "Value": "fraud-logistic"}]
    drift = alarms["fraud-logistic-drift-violations"]
    assert (drift["MetricName"], drift["Threshold"], drift["ComparisonOperator"]) == \
        ("drift_violations", 0.0, "GreaterThanThreshold")


def test_error_metrics_alarm_above_the_threshold(session):
    [name] = create_quality_alarms(session, dimensions={"Model": "claims-amount"}, metric="rmse",
                                   threshold=5000, drift=False)
    alarm = session.client("cloudwatch").describe_alarms(AlarmNames=[name])["MetricAlarms"][0]
    assert (name, alarm["ComparisonOperator"]) == ("claims-amount-RMSE-above-threshold", "GreaterThanThreshold")
    with pytest.raises(ValueError, match="threshold"):
        create_quality_alarms(session, dimensions=DIMS, metric="f1")


def test_unshifted_data_keeps_the_drift_alarm_ok_and_shifted_data_sets_it_off(session, split):
    baseline = suggest_baseline(split.X_train)
    names = create_quality_alarms(session, dimensions=DIMS, metric="f1", threshold=0.05)
    ev = evaluate_model(split.y_test, y_score=split.proba_logistic)
    publish(session, ev, dimensions=DIMS)
    stable = check_drift(baseline, split.X_test)
    assert stable.violations == []
    publish(session, stable, dimensions=DIMS)
    moto_gap(session, "moto stores metric alarms but never evaluates them (StateValue stays as created)")
    assert alarm_states(session, names) == {"fraud-logistic-F1-below-threshold": "OK",
                                            "fraud-logistic-drift-violations": "OK"}
    shifted = check_drift(baseline, split.shifted)
    assert sorted(shifted.drifted_features) == sorted(CLAIM_AMOUNTS)
    publish(session, shifted, dimensions=DIMS)
    assert alarm_states(session, names)["fraud-logistic-drift-violations"] == "ALARM"
    history = session.client("cloudwatch").describe_alarm_history(
        AlarmName="fraud-logistic-drift-violations", HistoryItemType="StateUpdate")["AlarmHistoryItems"]
    assert "Alarm updated from OK to ALARM" in [h["HistorySummary"] for h in history]


def test_a_model_below_the_spec_threshold_sets_off_the_quality_alarm(session, split):
    names = create_quality_alarms(session, dimensions=DIMS, metric="f1", threshold=0.5, drift=False)
    ev = evaluate_model(split.y_test, y_score=split.proba_logistic)
    assert ev.metrics["f1"] < 0.5                    # fraud on claims alone is hard to catch
    publish(session, ev, dimensions=DIMS)
    moto_gap(session, "moto stores metric alarms but never evaluates them (StateValue stays as created)")
    assert alarm_states(session, names) == {"fraud-logistic-F1-below-threshold": "ALARM"}


def test_evaluation_is_saved_to_s3(session, bucket, split):
    ev = evaluate_model(split.y_test, y_score=split.proba_logistic)
    saved = ev.save(session, f"s3://{bucket}/evaluations/fraud")
    assert saved == {"evaluation.json": f"s3://{bucket}/evaluations/fraud/evaluation.json",
                     "report.html": f"s3://{bucket}/evaluations/fraud/report.html"}
    s3 = session.client("s3")
    doc = json.loads(s3.get_object(Bucket=bucket, Key="evaluations/fraud/evaluation.json")["Body"].read())
    assert doc["metrics"]["f1"] == pytest.approx(ev.metrics["f1"])
    page = s3.get_object(Bucket=bucket, Key="evaluations/fraud/report.html")
    assert page["ContentType"] == "text/html; charset=utf-8"
    assert page["Body"].read().startswith(b"<!DOCTYPE html>")

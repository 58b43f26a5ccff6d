"""Metric filters on local and moto: put, describe, delete, and the metrics they publish."""
from __future__ import annotations

import json
import time
from datetime import datetime, timedelta, timezone

import pytest
from botocore.exceptions import ClientError

from tests.conftest import on_moto

TRANSFORM = {"metricName": "Errors", "metricNamespace": "aws-ml/logs", "metricValue": "1"}


@pytest.fixture
def logs(session):
    client = session.client("logs")
    client.create_log_group(logGroupName="app")
    client.create_log_stream(logGroupName="app", logStreamName="s")
    return client


def test_put_describe_delete(logs, session):
    logs.put_metric_filter(logGroupName="app", filterName="errors", filterPattern="ERROR",
                           metricTransformations=[TRANSFORM])
    [f] = logs.describe_metric_filters(logGroupName="app")["metricFilters"]
    assert (f["filterName"], f["filterPattern"], f["logGroupName"]) == ("errors", "ERROR", "app")
    assert f["metricTransformations"][0]["metricName"] == "Errors"
    found = logs.describe_metric_filters(metricName="Errors", metricNamespace="aws-ml/logs")["metricFilters"]
    assert [x["filterName"] for x in found] == ["errors"]
    logs.delete_metric_filter(logGroupName="app", filterName="errors")
    assert logs.describe_metric_filters(logGroupName="app")["metricFilters"] == []


def test_metric_filter_count(logs, session):
    logs.put_metric_filter(logGroupName="app", filterName="errors", filterPattern="ERROR",
                           metricTransformations=[TRANSFORM])
    if on_moto(session):
        pytest.xfail("moto always reports metricFilterCount 0")
    assert logs.describe_log_groups()["logGroups"][0]["metricFilterCount"] == 1


def test_unknown_group(logs, session):
    if on_moto(session):
        pytest.xfail("moto accepts metric filters on log groups that do not exist")
    with pytest.raises(ClientError) as exc:
        logs.put_metric_filter(logGroupName="missing", filterName="f", filterPattern="x",
                               metricTransformations=[TRANSFORM])
    assert exc.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_matching_events_become_metrics(session, logs):
    if on_moto(session):
        pytest.xfail("moto's metric filters publish no metrics")
    logs.put_metric_filter(logGroupName="app", filterName="latency", filterPattern='{ $.level = "INFO" }',
                           metricTransformations=[{"metricName": "Latency", "metricNamespace": "aws-ml/logs",
                                                   "metricValue": "$.ms", "dimensions": {"Model": "$.model"}}])
    t = int(time.time() * 1000) // 60_000 * 60_000 - 120_000
    logs.put_log_events(logGroupName="app", logStreamName="s", logEvents=[
        {"timestamp": t + i, "message": json.dumps({"level": lvl, "ms": ms, "model": "xgb"})}
        for i, (lvl, ms) in enumerate([("INFO", 10), ("INFO", 30), ("ERROR", 1000)])])
    cw = session.client("cloudwatch")
    start = datetime.fromtimestamp(t / 1000, tz=timezone.utc)
    [p] = cw.get_metric_statistics(Namespace="aws-ml/logs", MetricName="Latency",
                                   Dimensions=[{"Name": "Model", "Value": "xgb"}], StartTime=start,
                                   EndTime=start + timedelta(minutes=1), Period=60,
                                   Statistics=["Sum", "SampleCount"])["Datapoints"]
    assert (p["Sum"], p["SampleCount"]) == (40, 2)

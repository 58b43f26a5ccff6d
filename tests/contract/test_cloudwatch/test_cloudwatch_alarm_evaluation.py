"""Alarms evaluated as data arrive (local), and their history. Moto never evaluates alarms
(their state moves only with SetAlarmState) and has no DescribeAlarmHistory: those cases
are expected failures on moto, following AWS."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from tests.conftest import on_moto

NS = "aws-ml/eval"


@pytest.fixture
def cw(session):
    if on_moto(session):
        pytest.xfail("moto does not evaluate alarms against metric data")
    return session.client("cloudwatch")


def put(cw, value, at):
    cw.put_metric_data(Namespace=NS, MetricData=[{"MetricName": "errors", "Value": value, "Timestamp": at}])


def alarm(cw, name="errors", **kw):
    params = dict(AlarmName=name, MetricName="errors", Namespace=NS, Statistic="Minimum", Period=60,
                  EvaluationPeriods=3, DatapointsToAlarm=1, Threshold=50.0,
                  ComparisonOperator="GreaterThanThreshold")
    params.update(kw)
    cw.put_metric_alarm(**params)


@pytest.fixture
def history_cw(session):
    if on_moto(session):
        pytest.xfail("moto does not implement DescribeAlarmHistory")
    return session.client("cloudwatch")


def state(cw, name="errors"):
    [a] = cw.describe_alarms(AlarmNames=[name])["MetricAlarms"]
    return a["StateValue"]


def now():
    return datetime.now(timezone.utc)


def test_ok_alarm_ok(cw):
    alarm(cw)
    assert state(cw) == "INSUFFICIENT_DATA"
    t = now()
    put(cw, 100, t)
    assert state(cw) == "ALARM"
    [a] = cw.describe_alarms()["MetricAlarms"]
    assert a["StateReason"].startswith("Threshold Crossed: 1 out of the last 3 datapoints [100.0 (")
    data = json.loads(a["StateReasonData"])
    assert data["recentDatapoints"] == [100.0] and data["threshold"] == 50.0
    put(cw, 1, t)  # same period: its Minimum drops below the threshold
    assert state(cw) == "OK"


def test_data_older_than_the_evaluation_range_does_not_count(cw):
    alarm(cw)
    put(cw, 100, now() - timedelta(minutes=10))
    assert state(cw) == "INSUFFICIENT_DATA"


def test_m_out_of_n(cw):
    alarm(cw, DatapointsToAlarm=2)
    t = now()
    put(cw, 100, t)
    assert state(cw) == "OK"  # one breaching period of the two needed
    put(cw, 100, t - timedelta(seconds=60))
    assert state(cw) == "ALARM"


def test_data_with_existing_alarm_on_creation(cw):
    put(cw, 100, now())
    alarm(cw)
    assert state(cw) == "ALARM"


@pytest.mark.parametrize("treat, expected", [
    ("breaching", "ALARM"), ("notBreaching", "OK"), ("missing", "INSUFFICIENT_DATA"),
    ("ignore", "INSUFFICIENT_DATA"),
])
def test_treat_missing_data(cw, treat, expected):
    alarm(cw, TreatMissingData=treat)
    assert state(cw) == expected


def test_less_than_and_extended_statistic(cw):
    alarm(cw, "slow", Statistic="Maximum", ComparisonOperator="LessThanThreshold", Threshold=10.0)
    cw.put_metric_alarm(AlarmName="p90", MetricName="errors", Namespace=NS, ExtendedStatistic="p90",
                        Period=60, EvaluationPeriods=3, DatapointsToAlarm=2, Threshold=80.0,
                        ComparisonOperator="GreaterThanOrEqualToThreshold")
    t = now()
    cw.put_metric_data(Namespace=NS, MetricData=[
        {"MetricName": "errors", "Values": list(range(1, 101)), "Timestamp": t}])
    assert state(cw, "slow") == "OK"        # Maximum 100 is not < 10
    assert state(cw, "p90") == "OK"         # p90 = 90 breaches in one period; two are needed
    cw.put_metric_data(Namespace=NS, MetricData=[
        {"MetricName": "errors", "Values": list(range(1, 101)), "Timestamp": t - timedelta(seconds=60)}])
    assert state(cw, "p90") == "ALARM"


def test_history_records_configuration_and_state_updates(cw):
    alarm(cw)
    t = now()
    put(cw, 100, t)
    put(cw, 1, t)
    items = cw.describe_alarm_history(AlarmName="errors")["AlarmHistoryItems"]
    kinds = [i["HistoryItemType"] for i in items]
    assert kinds == ["StateUpdate", "StateUpdate", "ConfigurationUpdate"]  # newest first
    latest = json.loads(items[0]["HistoryData"])
    assert latest["oldState"]["stateValue"] == "ALARM"
    assert latest["newState"]["stateValue"] == "OK"
    assert items[0]["HistorySummary"] == "Alarm updated from ALARM to OK"
    assert items[1]["HistorySummary"] == "Alarm updated from INSUFFICIENT_DATA to ALARM"
    assert items[2]["HistorySummary"] == 'Alarm "errors" created'
    only_state = cw.describe_alarm_history(AlarmName="errors", HistoryItemType="StateUpdate",
                                           ScanBy="TimestampAscending")["AlarmHistoryItems"]
    assert [json.loads(i["HistoryData"])["newState"]["stateValue"] for i in only_state] == ["ALARM", "OK"]


def test_history_paginator(history_cw):
    cw = history_cw
    alarm(cw)
    for s in ("ALARM", "OK", "ALARM", "OK"):
        cw.set_alarm_state(AlarmName="errors", StateValue=s, StateReason="drill")
    pages = list(cw.get_paginator("describe_alarm_history").paginate(
        AlarmName="errors", PaginationConfig={"PageSize": 2}))
    assert len(pages) == 3
    assert sum(len(p["AlarmHistoryItems"]) for p in pages) == 5

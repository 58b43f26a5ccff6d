"""CloudWatch alarms on local and moto: configuration, describe filters, state, tags, errors."""
from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from tests.conftest import on_moto

NS = "aws-ml/alarms"
DIMS = [{"Name": "Endpoint", "Value": "churn"}]


@pytest.fixture
def cw(session):
    return session.client("cloudwatch")


def alarm(cw, name="high-latency", **kw):
    params = dict(AlarmName=name, MetricName="latency", Namespace=NS, Statistic="Average",
                  Dimensions=DIMS, Period=60, EvaluationPeriods=3, Threshold=100.0,
                  ComparisonOperator="GreaterThanThreshold")
    params.update(kw)
    cw.put_metric_alarm(**params)


def describe(cw, **kw):
    return cw.describe_alarms(**kw)["MetricAlarms"]


def code(exc) -> str:
    return exc.value.response["Error"]["Code"]


def test_put_and_describe(cw, session):
    alarm(cw, AlarmDescription="p99 too slow", AlarmActions=["arn:aws:sns:us-east-1:123456789012:ops"])
    [a] = describe(cw)
    assert a["AlarmName"] == "high-latency"
    assert a["AlarmArn"] == "arn:aws:cloudwatch:us-east-1:123456789012:alarm:high-latency"
    assert a["AlarmDescription"] == "p99 too slow"
    assert (a["MetricName"], a["Namespace"], a["Statistic"]) == ("latency", NS, "Average")
    assert a["Dimensions"] == DIMS
    assert (a["Period"], a["EvaluationPeriods"], a["Threshold"]) == (60, 3, 100.0)
    assert a["ComparisonOperator"] == "GreaterThanThreshold"
    assert a["ActionsEnabled"] is True
    assert a["AlarmActions"] == ["arn:aws:sns:us-east-1:123456789012:ops"]
    assert a["OKActions"] == [] and a["InsufficientDataActions"] == []
    if on_moto(session):
        pytest.xfail("moto starts new alarms in OK; AWS starts them in INSUFFICIENT_DATA")
    assert a["StateValue"] == "INSUFFICIENT_DATA"
    assert a["StateReason"] == "Unchecked: Initial alarm creation"


def test_update_keeps_one_alarm(cw):
    alarm(cw)
    alarm(cw, Threshold=5.0)
    [a] = describe(cw)
    assert a["Threshold"] == 5.0


def test_describe_filters(cw):
    for name in ("svc-a", "svc-b", "other"):
        alarm(cw, name)
    cw.set_alarm_state(AlarmName="svc-b", StateValue="ALARM", StateReason="testing")
    names = lambda **kw: sorted(a["AlarmName"] for a in describe(cw, **kw))  # noqa: E731
    assert names() == ["other", "svc-a", "svc-b"]
    assert names(AlarmNames=["svc-a", "other", "missing"]) == ["other", "svc-a"]
    assert names(AlarmNamePrefix="svc-") == ["svc-a", "svc-b"]
    assert names(StateValue="ALARM") == ["svc-b"]
    assert names(ActionPrefix="arn:aws:sns") == []


def test_describe_paginator(cw):
    for i in range(5):
        alarm(cw, f"a{i}")
    pages = cw.get_paginator("describe_alarms").paginate(PaginationConfig={"PageSize": 2})
    assert sorted(a["AlarmName"] for p in pages for a in p["MetricAlarms"]) == [f"a{i}" for i in range(5)]


def test_delete_alarms(cw):
    alarm(cw, "a")
    alarm(cw, "b")
    cw.delete_alarms(AlarmNames=["a", "does-not-exist"])  # AWS ignores unknown names
    assert [a["AlarmName"] for a in describe(cw)] == ["b"]


def test_set_alarm_state(cw):
    alarm(cw)
    cw.set_alarm_state(AlarmName="high-latency", StateValue="ALARM", StateReason="drill",
                       StateReasonData=json.dumps({"why": "test"}))
    [a] = describe(cw)
    assert (a["StateValue"], a["StateReason"]) == ("ALARM", "drill")
    assert json.loads(a["StateReasonData"]) == {"why": "test"}


def test_set_alarm_state_errors(cw):
    alarm(cw)
    with pytest.raises(ClientError) as exc:
        cw.set_alarm_state(AlarmName="nope", StateValue="ALARM", StateReason="x")
    assert code(exc) == "ResourceNotFound"
    with pytest.raises(ClientError) as exc:
        cw.set_alarm_state(AlarmName="high-latency", StateValue="ALARM", StateReason="x",
                           StateReasonData="{not json")
    assert code(exc) == "InvalidFormat"


def test_describe_alarms_for_metric(cw, session):
    alarm(cw, "exact")
    alarm(cw, "other-dims", Dimensions=[{"Name": "Endpoint", "Value": "fraud"}])
    alarm(cw, "other-metric", MetricName="errors")
    found = cw.describe_alarms_for_metric(MetricName="latency", Namespace=NS, Dimensions=DIMS)
    names = [a["AlarmName"] for a in found["MetricAlarms"]]
    assert "exact" in names and "other-metric" not in names
    if on_moto(session):
        pytest.xfail("moto ignores Dimensions in DescribeAlarmsForMetric")
    assert names == ["exact"]


def test_enable_disable_actions(cw):
    alarm(cw)
    cw.disable_alarm_actions(AlarmNames=["high-latency"])
    assert describe(cw)[0]["ActionsEnabled"] is False
    cw.enable_alarm_actions(AlarmNames=["high-latency"])
    assert describe(cw)[0]["ActionsEnabled"] is True


def test_tags(cw):
    alarm(cw, Tags=[{"Key": "team", "Value": "ml"}])
    arn = describe(cw)[0]["AlarmArn"]
    assert cw.list_tags_for_resource(ResourceARN=arn)["Tags"] == [{"Key": "team", "Value": "ml"}]
    cw.tag_resource(ResourceARN=arn, Tags=[{"Key": "env", "Value": "dev"}])
    cw.untag_resource(ResourceARN=arn, TagKeys=["team"])
    assert cw.list_tags_for_resource(ResourceARN=arn)["Tags"] == [{"Key": "env", "Value": "dev"}]
    with pytest.raises(ClientError) as exc:
        cw.tag_resource(ResourceARN=arn + "-missing", Tags=[{"Key": "k", "Value": "v"}])
    assert code(exc) == "ResourceNotFoundException"


@pytest.mark.parametrize("bad, error, moto_gap", [
    ({"ExtendedStatistic": "x99", "Statistic": None}, "InvalidParameterValue", None),
    ({"EvaluateLowSampleCountPercentile": "sometimes"}, "ValidationError", None),
    ({"TreatMissingData": "sometimes"}, "ValidationError", "moto accepts any TreatMissingData"),
    ({"DatapointsToAlarm": 4}, "ValidationError", "moto accepts DatapointsToAlarm > EvaluationPeriods"),
    ({"Period": 3000, "EvaluationPeriods": 30}, "ValidationError",
     "moto does not limit EvaluationPeriods * Period"),
])
def test_bad_alarms_are_rejected(cw, session, bad, error, moto_gap):
    if moto_gap and on_moto(session):
        pytest.xfail(moto_gap)
    params = dict(AlarmName="bad", MetricName="latency", Namespace=NS, Statistic="Average",
                  Period=60, EvaluationPeriods=3, Threshold=1.0, ComparisonOperator="GreaterThanThreshold")
    params.update(bad)
    params = {k: v for k, v in params.items() if v is not None}
    with pytest.raises(ClientError) as exc:
        cw.put_metric_alarm(**params)
    assert code(exc) == error
    assert describe(cw) == []

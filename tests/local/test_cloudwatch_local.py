"""Local CloudWatch behaviour no emulator shares: alarm actions, time passing, durability."""
from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime, timedelta, timezone

import pytest

import local_backends
from aws_ml import Session
from local_backends import NotImplementedByBackend
from local_backends.cloudwatch import alarms as alarms_module
from local_backends.cloudwatch import metrics as metrics_module

NS = "aws-ml/local"
TOPIC = "arn:aws:sns:us-east-1:123456789012:ops"


def _alarm(cw, **kw):
    params = dict(AlarmName="a", MetricName="m", Namespace=NS, Statistic="Maximum", Period=60,
                  EvaluationPeriods=2, DatapointsToAlarm=1, Threshold=5.0,
                  ComparisonOperator="GreaterThanThreshold")
    params.update(kw)
    cw.put_metric_alarm(**params)


def _put(cw, value, at=None):
    cw.put_metric_data(Namespace=NS, MetricData=[
        {"MetricName": "m", "Value": value, "Timestamp": at or datetime.now(timezone.utc)}])


def test_sns_action_is_kept_pending_without_an_sns_backend(local_session, monkeypatch):
    monkeypatch.delitem(local_backends._REGISTRY, "sns", raising=False)  # as before SNS existed
    cw = local_session.client("cloudwatch")
    _alarm(cw, AlarmActions=[TOPIC])
    _put(cw, 10)
    assert cw.describe_alarms()["MetricAlarms"][0]["StateValue"] == "ALARM"
    [item] = cw.describe_alarm_history(HistoryItemType="Action")["AlarmHistoryItems"]
    assert item["HistorySummary"].startswith(f"Pending action {TOPIC}")
    data = json.loads(item["HistoryData"])
    assert data["actionState"] == "Pending"
    assert data["publishedMessage"]["NewStateValue"] == "ALARM"
    assert data["publishedMessage"]["OldStateValue"] == "INSUFFICIENT_DATA"


def test_sns_action_publishes_to_the_local_sns(local_session):
    if "sns" not in local_backends.registry:
        pytest.skip("no local SNS backend registered")
    sns, cw = local_session.client("sns"), local_session.client("cloudwatch")
    topic = sns.create_topic(Name="ops")["TopicArn"]
    _alarm(cw, AlarmActions=[topic])
    _put(cw, 10)
    [msg] = local_session.router.backend("sns", "us-east-1").published(topic)
    assert msg["Subject"] == 'ALARM: "a" in US East (N. Virginia)'
    note = json.loads(msg["Message"])
    assert (note["NewStateValue"], note["OldStateValue"]) == ("ALARM", "INSUFFICIENT_DATA")
    [item] = cw.describe_alarm_history(HistoryItemType="Action")["AlarmHistoryItems"]
    assert item["HistorySummary"] == f"Successfully executed action {topic}"


def test_failed_sns_action_is_recorded(local_session):
    if "sns" not in local_backends.registry:
        pytest.skip("no local SNS backend registered")
    cw = local_session.client("cloudwatch")
    _alarm(cw, AlarmActions=[TOPIC])  # the topic does not exist
    _put(cw, 10)
    assert cw.describe_alarms()["MetricAlarms"][0]["StateValue"] == "ALARM"
    [item] = cw.describe_alarm_history(HistoryItemType="Action")["AlarmHistoryItems"]
    assert item["HistorySummary"].startswith(f"Failed to execute action {TOPIC}")
    assert json.loads(item["HistoryData"])["actionState"] == "Failed"


def test_disabled_actions_do_not_fire(local_session):
    cw = local_session.client("cloudwatch")
    _alarm(cw, AlarmActions=[TOPIC], ActionsEnabled=False)
    _put(cw, 10)
    assert cw.describe_alarm_history(HistoryItemType="Action")["AlarmHistoryItems"] == []


def test_sns_action_publishes_the_aws_notification(home):
    with Session(backend="moto", services={"cloudwatch": "local"}, home=home, region="us-east-1") as s:
        sns, sqs, cw = s.client("sns"), s.client("sqs"), s.client("cloudwatch")
        topic = sns.create_topic(Name="ops")["TopicArn"]
        queue = sqs.create_queue(QueueName="ops")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
        _alarm(cw, AlarmActions=[topic], OKActions=[topic], Dimensions=[{"Name": "Model", "Value": "xgb"}])
        cw.put_metric_data(Namespace=NS, MetricData=[{"MetricName": "m", "Value": 10,
                                                       "Dimensions": [{"Name": "Model", "Value": "xgb"}]}])
        [msg] = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]
        envelope = json.loads(msg["Body"])
        assert envelope["Subject"] == 'ALARM: "a" in US East (N. Virginia)'
        note = json.loads(envelope["Message"])
        assert (note["AlarmName"], note["OldStateValue"], note["NewStateValue"]) == ("a", "INSUFFICIENT_DATA", "ALARM")
        assert note["Trigger"]["MetricName"] == "m"
        assert note["Trigger"]["Dimensions"] == [{"value": "xgb", "name": "Model"}]
        [item] = cw.describe_alarm_history(HistoryItemType="Action")["AlarmHistoryItems"]
        assert item["HistorySummary"] == f"Successfully executed action {topic}"


def test_time_passing_moves_alarms_on_describe(local_session, monkeypatch):
    cw = local_session.client("cloudwatch")
    _alarm(cw)
    _put(cw, 10)
    assert cw.describe_alarms()["MetricAlarms"][0]["StateValue"] == "ALARM"
    later = datetime.now(timezone.utc).timestamp() + 600
    monkeypatch.setattr(alarms_module, "now", lambda: later)
    monkeypatch.setattr(metrics_module, "now", lambda: later)
    [a] = cw.describe_alarms()["MetricAlarms"]
    assert a["StateValue"] == "INSUFFICIENT_DATA"  # the datum left the evaluation range


def test_set_alarm_state_holds_until_the_next_evaluation(local_session):
    cw = local_session.client("cloudwatch")
    _alarm(cw)
    cw.set_alarm_state(AlarmName="a", StateValue="ALARM", StateReason="drill")
    assert cw.describe_alarms()["MetricAlarms"][0]["StateValue"] == "ALARM"
    _put(cw, 1)  # new data: evaluated again
    assert cw.describe_alarms()["MetricAlarms"][0]["StateValue"] == "OK"


def test_metric_math_is_not_implemented(local_session):
    cw = local_session.client("cloudwatch")
    now = datetime.now(timezone.utc)
    with pytest.raises(NotImplementedByBackend, match="metric math"):
        cw.get_metric_data(MetricDataQueries=[{"Id": "e", "Expression": "SUM(METRICS())"}],
                           StartTime=now - timedelta(hours=1), EndTime=now)


def test_put_metric_data_errors_local_only(local_session):
    cw = local_session.client("cloudwatch")
    old = datetime.now(timezone.utc) - timedelta(days=15)
    with pytest.raises(cw.exceptions.InvalidParameterValueException, match="two weeks"):
        _put(cw, 1, old)
    with pytest.raises(cw.exceptions.InvalidParameterValueException, match="size greater than 150"):
        cw.put_metric_data(Namespace=NS, MetricData=[{"MetricName": "m", "Values": [1.0] * 151}])


def test_state_is_shared_across_processes(home):
    script = (
        "import sys; from aws_ml import Session\n"
        "s = Session(backend='local', home=sys.argv[1], region='us-east-1')\n"
        "s.client('cloudwatch').put_metric_data(Namespace='x', MetricData=[{'MetricName': 'n', 'Value': 7}])\n"
    )
    subprocess.run([sys.executable, "-c", script, str(home)], check=True)
    with Session(backend="local", home=home, region="us-east-1") as s:
        cw = s.client("cloudwatch")
        assert cw.list_metrics(Namespace="x")["Metrics"] == [{"Namespace": "x", "MetricName": "n", "Dimensions": []}]
        now = datetime.now(timezone.utc)
        [p] = cw.get_metric_statistics(Namespace="x", MetricName="n", StartTime=now - timedelta(minutes=5),
                                       EndTime=now + timedelta(minutes=1), Period=3600 // 60 * 6,
                                       Statistics=["Sum"])["Datapoints"]
        assert p["Sum"] == 7

"""Local Logs behaviour: durability across processes, metric filters driving alarms."""
from __future__ import annotations

import subprocess
import sys
import time

from aws_ml import Session


def test_events_are_shared_across_processes(home):
    script = (
        "import sys, time; from aws_ml import Session\n"
        "logs = Session(backend='local', home=sys.argv[1], region='us-east-1').client('logs')\n"
        "logs.create_log_group(logGroupName='g'); logs.create_log_stream(logGroupName='g', logStreamName='s')\n"
        "logs.put_log_events(logGroupName='g', logStreamName='s',\n"
        "                    logEvents=[{'timestamp': int(time.time() * 1000), 'message': 'from a child'}])\n"
    )
    subprocess.run([sys.executable, "-c", script, str(home)], check=True)
    with Session(backend="local", home=home, region="us-east-1") as s:
        events = s.client("logs").get_log_events(logGroupName="g", logStreamName="s")["events"]
        assert [e["message"] for e in events] == ["from a child"]


def test_a_metric_filter_drives_an_alarm(local_session):
    logs, cw = local_session.client("logs"), local_session.client("cloudwatch")
    logs.create_log_group(logGroupName="/endpoint/churn")
    logs.create_log_stream(logGroupName="/endpoint/churn", logStreamName="i-1")
    logs.put_metric_filter(logGroupName="/endpoint/churn", filterName="errors", filterPattern="ERROR",
                           metricTransformations=[{"metricName": "Errors", "metricNamespace": "churn",
                                                   "metricValue": "1", "defaultValue": 0.0}])
    cw.put_metric_alarm(AlarmName="churn-errors", Namespace="churn", MetricName="Errors", Statistic="Sum",
                        Period=60, EvaluationPeriods=3, DatapointsToAlarm=1, Threshold=2.0,
                        ComparisonOperator="GreaterThanOrEqualToThreshold")
    t = int(time.time() * 1000) // 60_000 * 60_000  # every event in one minute
    logs.put_log_events(logGroupName="/endpoint/churn", logStreamName="i-1", logEvents=[
        {"timestamp": t, "message": "INFO served"}])
    assert cw.describe_alarms()["MetricAlarms"][0]["StateValue"] == "OK"  # defaultValue 0 published
    logs.put_log_events(logGroupName="/endpoint/churn", logStreamName="i-1", logEvents=[
        {"timestamp": t + i, "message": "ERROR model failed"} for i in range(1, 3)])
    assert cw.describe_alarms()["MetricAlarms"][0]["StateValue"] == "ALARM"

"""CloudWatch Logs groups and streams on local and moto."""
from __future__ import annotations

import time

import pytest
from botocore.exceptions import ClientError

from tests.conftest import on_moto


@pytest.fixture
def logs(session):
    return session.client("logs")


def code(exc) -> str:
    return exc.value.response["Error"]["Code"]


def now_ms() -> int:
    return int(time.time() * 1000)


def test_create_describe_delete_group(logs):
    logs.create_log_group(logGroupName="/ml/training")
    [g] = logs.describe_log_groups()["logGroups"]
    assert g["logGroupName"] == "/ml/training"
    assert g["arn"] == "arn:aws:logs:us-east-1:123456789012:log-group:/ml/training:*"
    assert g["logGroupArn"] == "arn:aws:logs:us-east-1:123456789012:log-group:/ml/training"
    assert abs(g["creationTime"] - now_ms()) < 60_000
    assert g["metricFilterCount"] == 0 and g["storedBytes"] == 0
    assert "retentionInDays" not in g
    logs.delete_log_group(logGroupName="/ml/training")
    assert logs.describe_log_groups()["logGroups"] == []


def test_group_errors(logs):
    logs.create_log_group(logGroupName="g")
    with pytest.raises(ClientError) as exc:
        logs.create_log_group(logGroupName="g")
    assert code(exc) == "ResourceAlreadyExistsException"
    with pytest.raises(ClientError) as exc:
        logs.delete_log_group(logGroupName="missing")
    assert code(exc) == "ResourceNotFoundException"


def test_group_name_pattern_is_checked(logs, session):
    if on_moto(session):
        pytest.xfail("moto accepts log group names outside [.-_/#A-Za-z0-9]+")
    with pytest.raises(ClientError) as exc:
        logs.create_log_group(logGroupName="bad name")
    assert code(exc) == "InvalidParameterException"


def test_aws_prefix_is_reserved(logs, session):
    if on_moto(session):
        pytest.xfail("moto accepts log group names starting with aws/")
    with pytest.raises(ClientError) as exc:
        logs.create_log_group(logGroupName="aws/my-group")
    assert code(exc) == "InvalidParameterException"


def test_prefix_and_paginator(logs):
    for name in ("/a/1", "/a/2", "/a/3", "/b/1"):
        logs.create_log_group(logGroupName=name)
    by_prefix = logs.describe_log_groups(logGroupNamePrefix="/a/")["logGroups"]
    assert [g["logGroupName"] for g in by_prefix] == ["/a/1", "/a/2", "/a/3"]
    first = logs.describe_log_groups(limit=3)
    assert len(first["logGroups"]) == 3 and "nextToken" in first
    pages = logs.get_paginator("describe_log_groups").paginate(PaginationConfig={"PageSize": 2})
    assert [g["logGroupName"] for p in pages for g in p["logGroups"]] == ["/a/1", "/a/2", "/a/3", "/b/1"]


def test_retention(logs, session):
    logs.create_log_group(logGroupName="g")
    logs.put_retention_policy(logGroupName="g", retentionInDays=7)
    assert logs.describe_log_groups()["logGroups"][0]["retentionInDays"] == 7
    logs.delete_retention_policy(logGroupName="g")
    assert "retentionInDays" not in logs.describe_log_groups()["logGroups"][0]
    with pytest.raises(ClientError) as exc:
        logs.put_retention_policy(logGroupName="missing", retentionInDays=7)
    assert code(exc) == "ResourceNotFoundException"
    if on_moto(session):
        pytest.xfail("moto accepts any retentionInDays")
    with pytest.raises(ClientError) as exc:
        logs.put_retention_policy(logGroupName="g", retentionInDays=2)
    assert code(exc) == "InvalidParameterException"


def test_tags(logs):
    logs.create_log_group(logGroupName="g", tags={"team": "ml"})
    assert logs.list_tags_log_group(logGroupName="g")["tags"] == {"team": "ml"}
    logs.tag_log_group(logGroupName="g", tags={"env": "dev"})
    logs.untag_log_group(logGroupName="g", tags=["team"])
    assert logs.list_tags_log_group(logGroupName="g")["tags"] == {"env": "dev"}
    arn = logs.describe_log_groups()["logGroups"][0]["logGroupArn"]
    logs.tag_resource(resourceArn=arn, tags={"k": "v"})
    assert logs.list_tags_for_resource(resourceArn=arn)["tags"] == {"env": "dev", "k": "v"}
    logs.untag_resource(resourceArn=arn, tagKeys=["k"])
    assert logs.list_tags_for_resource(resourceArn=arn)["tags"] == {"env": "dev"}


def test_streams(logs):
    logs.create_log_group(logGroupName="g")
    for name in ("b", "a", "c"):
        logs.create_log_stream(logGroupName="g", logStreamName=name)
    streams = logs.describe_log_streams(logGroupName="g")["logStreams"]
    assert [s["logStreamName"] for s in streams] == ["a", "b", "c"]
    assert streams[0]["arn"] == "arn:aws:logs:us-east-1:123456789012:log-group:g:log-stream:a"
    assert "firstEventTimestamp" not in streams[0]
    desc = logs.describe_log_streams(logGroupName="g", descending=True)["logStreams"]
    assert [s["logStreamName"] for s in desc] == ["c", "b", "a"]
    assert [s["logStreamName"] for s in
            logs.describe_log_streams(logGroupName="g", logStreamNamePrefix="b")["logStreams"]] == ["b"]
    pages = logs.get_paginator("describe_log_streams").paginate(logGroupName="g",
                                                                PaginationConfig={"PageSize": 2})
    assert [s["logStreamName"] for p in pages for s in p["logStreams"]] == ["a", "b", "c"]
    logs.delete_log_stream(logGroupName="g", logStreamName="b")
    assert len(logs.describe_log_streams(logGroupName="g")["logStreams"]) == 2


def test_stream_event_timestamps_and_order_by_last_event(logs):
    logs.create_log_group(logGroupName="g")
    t = now_ms()
    for name, ts in (("early", t - 5000), ("late", t), ("middle", t - 2000)):
        logs.create_log_stream(logGroupName="g", logStreamName=name)
        logs.put_log_events(logGroupName="g", logStreamName=name, logEvents=[
            {"timestamp": ts - 100, "message": "one"}, {"timestamp": ts, "message": "two"}])
    by_time = logs.describe_log_streams(logGroupName="g", orderBy="LastEventTime", descending=True)
    streams = by_time["logStreams"]
    assert [s["logStreamName"] for s in streams] == ["late", "middle", "early"]
    assert (streams[0]["firstEventTimestamp"], streams[0]["lastEventTimestamp"]) == (t - 100, t)
    assert abs(streams[0]["lastIngestionTime"] - now_ms()) < 60_000


def test_stream_errors(logs):
    with pytest.raises(ClientError) as exc:
        logs.create_log_stream(logGroupName="missing", logStreamName="s")
    assert code(exc) == "ResourceNotFoundException"
    logs.create_log_group(logGroupName="g")
    logs.create_log_stream(logGroupName="g", logStreamName="s")
    with pytest.raises(ClientError) as exc:
        logs.create_log_stream(logGroupName="g", logStreamName="s")
    assert code(exc) == "ResourceAlreadyExistsException"
    with pytest.raises(ClientError) as exc:
        logs.delete_log_stream(logGroupName="g", logStreamName="missing")
    assert code(exc) == "ResourceNotFoundException"
    with pytest.raises(ClientError) as exc:
        logs.describe_log_streams(logGroupName="g", orderBy="LastEventTime", logStreamNamePrefix="s")
    assert code(exc) == "InvalidParameterException"
    with pytest.raises(ClientError) as exc:
        logs.describe_log_streams(logGroupName="missing")
    assert code(exc) == "ResourceNotFoundException"


def test_deleting_a_group_deletes_its_streams_and_events(logs):
    logs.create_log_group(logGroupName="g")
    logs.create_log_stream(logGroupName="g", logStreamName="s")
    logs.put_log_events(logGroupName="g", logStreamName="s", logEvents=[{"timestamp": now_ms(), "message": "x"}])
    logs.delete_log_group(logGroupName="g")
    logs.create_log_group(logGroupName="g")
    assert logs.describe_log_streams(logGroupName="g")["logStreams"] == []

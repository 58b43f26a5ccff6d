"""SNS topics and subscriptions on local and moto."""
from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from tests.conftest import moto_gap

ARN = "arn:aws:sns:us-east-1:123456789012:"


def code(exc) -> str:
    return exc.value.response["Error"]["Code"]


@pytest.fixture
def sns(session):
    return session.client("sns")


def test_create_is_idempotent_and_listed(sns):
    arn = sns.create_topic(Name="alarms")["TopicArn"]
    assert arn == ARN + "alarms"
    assert sns.create_topic(Name="alarms")["TopicArn"] == arn
    assert [t["TopicArn"] for t in sns.list_topics()["Topics"]] == [arn]


def test_attributes(sns):
    arn = sns.create_topic(Name="alarms", Attributes={"DisplayName": "Alarms"})["TopicArn"]
    attrs = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
    assert attrs["TopicArn"] == arn
    assert attrs["DisplayName"] == "Alarms"
    assert attrs["Owner"] == "123456789012"
    sns.set_topic_attributes(TopicArn=arn, AttributeName="DisplayName", AttributeValue="Other")
    assert sns.get_topic_attributes(TopicArn=arn)["Attributes"]["DisplayName"] == "Other"


def test_missing_topic(sns):
    with pytest.raises(ClientError) as exc:
        sns.get_topic_attributes(TopicArn=ARN + "nope")
    assert code(exc) == "NotFound"
    with pytest.raises(ClientError) as exc:
        sns.publish(TopicArn=ARN + "nope", Message="hi")
    assert code(exc) == "NotFound"


def test_invalid_name(sns):
    with pytest.raises(ClientError) as exc:
        sns.create_topic(Name="bad name!")
    assert code(exc) == "InvalidParameter"


def test_delete_topic(sns):
    arn = sns.create_topic(Name="t")["TopicArn"]
    sns.delete_topic(TopicArn=arn)
    assert sns.list_topics()["Topics"] == []
    sns.delete_topic(TopicArn=arn)  # deleting again succeeds, as on AWS


def test_email_subscription_waits_for_confirmation(sns, session):
    arn = sns.create_topic(Name="t")["TopicArn"]
    moto_gap(session, "moto confirms email subscriptions at once")
    email = sns.subscribe(TopicArn=arn, Protocol="email", Endpoint="ops@example.com")
    assert email["SubscriptionArn"] == "pending confirmation"
    subs = sns.list_subscriptions_by_topic(TopicArn=arn)["Subscriptions"]
    assert [s["SubscriptionArn"] for s in subs] == ["PendingConfirmation"]


def test_subscriptions(sns):
    arn = sns.create_topic(Name="t")["TopicArn"]
    queue = "arn:aws:sqs:us-east-1:123456789012:q"
    sub = sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=queue)["SubscriptionArn"]
    assert sub.startswith(arn + ":")
    sns.subscribe(TopicArn=arn, Protocol="email", Endpoint="ops@example.com")
    subs = sns.list_subscriptions_by_topic(TopicArn=arn)["Subscriptions"]
    assert {(s["Protocol"], s["Endpoint"]) for s in subs} == {("sqs", queue), ("email", "ops@example.com")}
    assert len(sns.list_subscriptions()["Subscriptions"]) == 2
    sns.unsubscribe(SubscriptionArn=sub)
    assert [s["Protocol"] for s in sns.list_subscriptions_by_topic(TopicArn=arn)["Subscriptions"]] == ["email"]


def test_tags(sns):
    arn = sns.create_topic(Name="t", Tags=[{"Key": "a", "Value": "1"}])["TopicArn"]
    sns.tag_resource(ResourceArn=arn, Tags=[{"Key": "b", "Value": "2"}])
    sns.untag_resource(ResourceArn=arn, TagKeys=["a"])
    assert sns.list_tags_for_resource(ResourceArn=arn)["Tags"] == [{"Key": "b", "Value": "2"}]

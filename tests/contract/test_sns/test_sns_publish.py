"""SNS publish on local and moto: what is accepted and what is refused."""
from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from tests.conftest import moto_gap

from .test_sns_topics import code


@pytest.fixture
def sns(session):
    return session.client("sns")


def test_publish_returns_message_id(sns):
    arn = sns.create_topic(Name="t")["TopicArn"]
    out = sns.publish(TopicArn=arn, Message="hello", Subject="greeting",
                      MessageAttributes={"kind": {"DataType": "String", "StringValue": "x"}})
    assert len(out["MessageId"]) == 36


def test_publish_json_structure_needs_default(sns, session):
    arn = sns.create_topic(Name="t")["TopicArn"]
    sns.publish(TopicArn=arn, MessageStructure="json", Message=json.dumps({"default": "d", "email": "e"}))
    moto_gap(session, "moto accepts a JSON message structure without a default entry")
    with pytest.raises(ClientError) as exc:
        sns.publish(TopicArn=arn, MessageStructure="json", Message=json.dumps({"email": "e"}))
    assert code(exc) == "InvalidParameter"


def test_publish_refuses_long_subject(sns, session):
    arn = sns.create_topic(Name="t")["TopicArn"]
    moto_gap(session, "moto accepts subjects longer than 100 characters")
    with pytest.raises(ClientError) as exc:
        sns.publish(TopicArn=arn, Message="m", Subject="x" * 101)
    assert code(exc) == "InvalidParameter"


def test_fifo_topic_needs_group_id(sns, session):
    arn = sns.create_topic(Name="t.fifo", Attributes={"FifoTopic": "true",
                                                       "ContentBasedDeduplication": "true"})["TopicArn"]
    assert "MessageId" in sns.publish(TopicArn=arn, Message="m", MessageGroupId="g")
    moto_gap(session, "moto answers MissingParameter where SNS answers InvalidParameter, "
                      "and gives FIFO messages no SequenceNumber")
    assert "SequenceNumber" in sns.publish(TopicArn=arn, Message="n", MessageGroupId="g")
    with pytest.raises(ClientError) as exc:
        sns.publish(TopicArn=arn, Message="m")
    assert code(exc) == "InvalidParameter"


def test_local_keeps_published_messages(local_session):
    sns = local_session.client("sns")
    arn = sns.create_topic(Name="t")["TopicArn"]
    sns.publish(TopicArn=arn, Message="one", Subject="s1")
    sns.publish(TopicArn=arn, Message="two")
    backend = local_session.router.backend("sns", "us-east-1")
    assert [(m["Message"], m["Subject"]) for m in backend.published(arn)] == [("one", "s1"), ("two", None)]

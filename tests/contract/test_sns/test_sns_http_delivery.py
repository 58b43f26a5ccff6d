"""Local SNS delivers to HTTP endpoints on 127.0.0.1 as SNS does: a SubscriptionConfirmation
first, then a Notification per message once confirmed (local only: moto's delivery differs)."""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


@pytest.fixture
def endpoint():
    received: list[tuple[dict, dict]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server's naming
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append(({k.lower(): v for k, v in self.headers.items()}, json.loads(body)))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/sns", received
    server.shutdown()
    server.server_close()


def test_confirmation_then_notification(local_session, endpoint):
    url, received = endpoint
    sns = local_session.client("sns")
    topic = sns.create_topic(Name="hooks")["TopicArn"]
    assert sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=url)["SubscriptionArn"] == "pending confirmation"
    sns.publish(TopicArn=topic, Message="before confirmation")
    [(headers, confirmation)] = received
    assert headers["x-amz-sns-message-type"] == "SubscriptionConfirmation"
    assert confirmation["Type"] == "SubscriptionConfirmation" and confirmation["TopicArn"] == topic
    sub = sns.confirm_subscription(TopicArn=topic, Token=confirmation["Token"])["SubscriptionArn"]
    assert sub.startswith(topic + ":")
    sns.publish(TopicArn=topic, Message="hello", Subject="greeting",
                MessageAttributes={"kind": {"DataType": "String", "StringValue": "test"}})
    headers, note = received[-1]
    assert len(received) == 2
    assert headers["x-amz-sns-message-type"] == "Notification"
    assert headers["x-amz-sns-subscription-arn"] == sub
    assert (note["Type"], note["Message"], note["Subject"]) == ("Notification", "hello", "greeting")
    assert note["MessageAttributes"] == {"kind": {"Type": "String", "Value": "test"}}
    deliveries = local_session.router.backend("sns", "us-east-1").deliveries(topic)
    assert [(d["Type"], d["Status"]) for d in deliveries] == [("SubscriptionConfirmation", 200), ("Notification", 200)]


def test_bad_token_is_refused(local_session, endpoint):
    url, _ = endpoint
    sns = local_session.client("sns")
    topic = sns.create_topic(Name="hooks")["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=url)
    with pytest.raises(sns.exceptions.InvalidParameterException):
        sns.confirm_subscription(TopicArn=topic, Token="nope")


def test_unreachable_endpoint_is_recorded(local_session):
    sns = local_session.client("sns")
    topic = sns.create_topic(Name="hooks")["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="http", Endpoint="http://127.0.0.1:9/closed")
    [attempt] = local_session.router.backend("sns", "us-east-1").deliveries(topic)
    assert attempt["Status"] is None and attempt["Error"]

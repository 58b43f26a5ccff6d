"""SNS subscriptions: subscribe, unsubscribe, listings, attributes."""
from __future__ import annotations

import json
import secrets
import time
import uuid

from local_backends.core.base import operation
from local_backends.core.state import encode_token, token_value

from .errors import InvalidParameter, NotFound

PROTOCOLS = ("http", "https", "email", "email-json", "sms", "sqs", "application", "lambda", "firehose")
NEEDS_CONFIRMATION = ("http", "https", "email", "email-json")
SUB_ATTRIBUTES = {"DeliveryPolicy", "FilterPolicy", "FilterPolicyScope", "RawMessageDelivery",
                  "RedrivePolicy", "SubscriptionRoleArn", "ReplayPolicy"}
PAGE = 100


def check_endpoint(protocol: str, endpoint: str | None) -> str:
    if protocol not in PROTOCOLS:
        raise InvalidParameter(f"Invalid parameter: Amazon SNS does not support this protocol string: {protocol}")
    ok = endpoint is not None and {
        "http": lambda e: e.startswith("http://"),
        "https": lambda e: e.startswith("https://"),
        "email": lambda e: "@" in e, "email-json": lambda e: "@" in e,
        "sms": lambda e: e.lstrip("+").replace("-", "").isdigit(),
        "sqs": lambda e: e.startswith("arn:aws:sqs:"),
        "application": lambda e: e.startswith("arn:aws:sns:"),
        "lambda": lambda e: e.startswith("arn:aws:lambda:"),
        "firehose": lambda e: e.startswith("arn:aws:firehose:"),
    }[protocol](endpoint)
    if not ok:
        raise InvalidParameter("Invalid parameter: Endpoint")
    return endpoint


class Subscriptions:
    """Subscription operations (mixed into :class:`local_backends.sns.SNSBackend`)."""

    @staticmethod
    def _sub_arn(row) -> str:
        return row["arn"] if row["confirmed"] else "PendingConfirmation"

    def _listing(self, where: str, args: tuple, NextToken: str | None) -> dict:
        after = ""
        if NextToken is not None:
            after = token_value(NextToken, "after", str, InvalidParameter("Invalid parameter: NextToken"))
        rows = self.store.query(f"SELECT * FROM subscriptions WHERE {where} AND arn > ? ORDER BY arn LIMIT ?",
                                (*args, after, PAGE + 1))
        out = {"Subscriptions": [{"SubscriptionArn": self._sub_arn(r), "Owner": self.account_id,
                                  "Protocol": r["protocol"], "Endpoint": r["endpoint"],
                                  "TopicArn": r["topic_arn"]} for r in rows[:PAGE]]}
        if len(rows) > PAGE:
            out["NextToken"] = encode_token({"after": rows[PAGE - 1]["arn"]})
        return out

    @operation
    def subscribe(self, TopicArn: str, Protocol: str, Endpoint: str | None = None,
                  Attributes: dict | None = None, ReturnSubscriptionArn: bool = False):
        check_endpoint(Protocol, Endpoint)
        attrs = dict(Attributes or {})
        unknown = set(attrs) - SUB_ATTRIBUTES
        if unknown:
            raise InvalidParameter(f"Invalid parameter: Attributes Reason: Unknown attribute {sorted(unknown)[0]}")
        with self.store.transaction() as db:
            self._topic_row(db, TopicArn)
            row = db.execute("SELECT * FROM subscriptions WHERE topic_arn = ? AND protocol = ? AND endpoint = ?",
                             (TopicArn, Protocol, Endpoint)).fetchone()
            new = row is None
            if new:
                arn = f"{TopicArn}:{uuid.uuid4()}"
                confirmed = Protocol not in NEEDS_CONFIRMATION
                db.execute("INSERT INTO subscriptions (arn, topic_arn, protocol, endpoint, attributes, "
                           "confirmed, token, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                           (arn, TopicArn, Protocol, Endpoint, json.dumps(attrs), int(confirmed),
                            None if confirmed else secrets.token_hex(64), time.time()))
                row = db.execute("SELECT * FROM subscriptions WHERE arn = ?", (arn,)).fetchone()
        if new and Protocol in ("http", "https"):
            self._confirm_request(TopicArn, row["arn"], Endpoint, row["token"])
        pending = not row["confirmed"] and not ReturnSubscriptionArn
        return {"SubscriptionArn": "pending confirmation" if pending else row["arn"]}

    def _sub_row(self, db, arn: str):
        row = db.execute("SELECT * FROM subscriptions WHERE arn = ?", (arn,)).fetchone()
        if row is None:
            raise NotFound("Subscription does not exist")
        return row

    @operation
    def confirm_subscription(self, TopicArn: str, Token: str, AuthenticateOnUnsubscribe: str | None = None):
        with self.store.transaction() as db:
            self._topic_row(db, TopicArn)
            row = db.execute("SELECT * FROM subscriptions WHERE topic_arn = ? AND token = ?",
                             (TopicArn, Token)).fetchone()
            if row is None:
                raise InvalidParameter("Invalid token")
            db.execute("UPDATE subscriptions SET confirmed = 1 WHERE arn = ?", (row["arn"],))
        return {"SubscriptionArn": row["arn"]}

    @operation
    def unsubscribe(self, SubscriptionArn: str):
        with self.store.transaction() as db:
            self._sub_row(db, SubscriptionArn)
            db.execute("DELETE FROM subscriptions WHERE arn = ?", (SubscriptionArn,))
        return {}

    @operation
    def list_subscriptions(self, NextToken: str | None = None):
        return self._listing("1 = 1", (), NextToken)

    @operation
    def list_subscriptions_by_topic(self, TopicArn: str, NextToken: str | None = None):
        self._topic_row(self.store.connection(), TopicArn)
        return self._listing("topic_arn = ?", (TopicArn,), NextToken)

    @operation
    def get_subscription_attributes(self, SubscriptionArn: str):
        row = self._sub_row(self.store.connection(), SubscriptionArn)
        attrs = json.loads(row["attributes"])
        attrs.update(SubscriptionArn=row["arn"], TopicArn=row["topic_arn"], Owner=self.account_id,
                     Protocol=row["protocol"], Endpoint=row["endpoint"],
                     PendingConfirmation="false" if row["confirmed"] else "true",
                     ConfirmationWasAuthenticated="true" if row["confirmed"] else "false")
        attrs.setdefault("RawMessageDelivery", "false")
        return {"Attributes": attrs}

    @operation
    def set_subscription_attributes(self, SubscriptionArn: str, AttributeName: str,
                                    AttributeValue: str | None = None):
        if AttributeName not in SUB_ATTRIBUTES:
            raise InvalidParameter("Invalid parameter: AttributeName")
        with self.store.transaction() as db:
            attrs = json.loads(self._sub_row(db, SubscriptionArn)["attributes"])
            attrs[AttributeName] = AttributeValue or ""
            db.execute("UPDATE subscriptions SET attributes = ? WHERE arn = ?",
                       (json.dumps(attrs), SubscriptionArn))
        return {}

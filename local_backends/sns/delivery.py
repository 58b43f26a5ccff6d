"""Delivery to HTTP(S) endpoints on this machine (127.0.0.1 / localhost only).

As SNS does, a new ``http``/``https`` subscription is sent a ``SubscriptionConfirmation``
(with a ``Token`` for ``ConfirmSubscription``), and every message published to the topic is
POSTed as a ``Notification`` to each confirmed subscription. Endpoints on other hosts are
never contacted: their subscriptions stay pending. Each attempt is recorded (``deliveries``),
failures included, never dropped silently.
"""
from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from datetime import datetime, timezone

LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}
TIMEOUT = 5.0


def is_local(endpoint: str) -> bool:
    return urllib.parse.urlsplit(endpoint).hostname in LOCAL_HOSTS


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class Delivery:
    """HTTP delivery (mixed into :class:`local_backends.sns.SNSBackend`)."""

    def _post(self, endpoint: str, kind: str, body: dict, topic_arn: str, sub_arn: str | None,
              raw: str | None = None) -> None:
        """POST one SNS message (``raw``: the message text alone, for RawMessageDelivery)."""
        headers = {"Content-Type": "text/plain; charset=UTF-8", "x-amz-sns-message-type": kind,
                   "x-amz-sns-message-id": body["MessageId"], "x-amz-sns-topic-arn": topic_arn,
                   "User-Agent": "Amazon Simple Notification Service Agent"}
        if sub_arn:
            headers["x-amz-sns-subscription-arn"] = sub_arn
        data = (raw if raw is not None else json.dumps(body)).encode()
        request = urllib.request.Request(endpoint, data=data, headers=headers, method="POST")
        status, error = None, None
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT) as response:  # noqa: S310 - 127.0.0.1 only
                status = response.status
        except urllib.error.HTTPError as exc:
            status, error = exc.code, str(exc)
        except (urllib.error.URLError, OSError) as exc:
            error = str(exc)
        with self.store.transaction() as db:
            db.execute("INSERT INTO deliveries (message_id, subscription, endpoint, kind, status, error, ts) "
                       "VALUES (?, ?, ?, ?, ?, ?, ?)",
                       (body["MessageId"], sub_arn, endpoint, kind, status, error, time.time()))

    def _confirm_request(self, topic_arn: str, sub_arn: str, endpoint: str, token: str) -> None:
        if not is_local(endpoint):
            return
        body = {"Type": "SubscriptionConfirmation", "MessageId": str(uuid.uuid4()), "Token": token,
                "TopicArn": topic_arn,
                "Message": f"You have chosen to subscribe to the topic {topic_arn}.\nTo confirm the "
                           "subscription, visit the SubscribeURL included in this message.",
                "SubscribeURL": f"https://sns.{self.region}.amazonaws.com/?Action=ConfirmSubscription"
                                f"&TopicArn={topic_arn}&Token={token}",
                "Timestamp": _iso(time.time()), "SignatureVersion": "1", "Signature": "",
                "SigningCertURL": ""}
        self._post(endpoint, "SubscriptionConfirmation", body, topic_arn, None)

    def _deliver(self, topic_arn: str, message_id: str, subject: str | None, message: str,
                 attributes: dict, ts: float) -> None:
        rows = self.store.query("SELECT * FROM subscriptions WHERE topic_arn = ? AND confirmed = 1 "
                                "AND protocol IN ('http', 'https')", (topic_arn,))
        for row in rows:
            if not is_local(row["endpoint"]):
                continue
            body = {"Type": "Notification", "MessageId": message_id, "TopicArn": topic_arn,
                    "Message": message, "Timestamp": _iso(ts), "SignatureVersion": "1", "Signature": "",
                    "SigningCertURL": "",
                    "UnsubscribeURL": f"https://sns.{self.region}.amazonaws.com/?Action=Unsubscribe"
                                      f"&SubscriptionArn={row['arn']}"}
            if subject is not None:
                body["Subject"] = subject
            if attributes:
                body["MessageAttributes"] = {k: {"Type": v.get("DataType"),
                                                 "Value": v.get("StringValue", v.get("BinaryValue"))}
                                             for k, v in attributes.items()}
            raw = message if json.loads(row["attributes"]).get("RawMessageDelivery") == "true" else None
            self._post(row["endpoint"], "Notification", body, topic_arn, row["arn"], raw)

    def deliveries(self, topic_arn: str | None = None) -> list[dict]:
        """Every HTTP delivery attempt (a local-only reader): message id, subscription, endpoint,
        kind, HTTP status (None if unreachable) and error."""
        rows = self.store.query("SELECT d.* FROM deliveries d LEFT JOIN subscriptions s ON s.arn = d.subscription "
                                "WHERE ? IS NULL OR s.topic_arn = ? OR d.subscription IS NULL ORDER BY d.seq",
                                (topic_arn, topic_arn))
        return [{"MessageId": r["message_id"], "SubscriptionArn": r["subscription"], "Endpoint": r["endpoint"],
                 "Type": r["kind"], "Status": r["status"], "Error": r["error"]} for r in rows]

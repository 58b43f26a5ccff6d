"""Publishing: every message is checked as SNS checks it and kept; ``published`` reads them back."""
from __future__ import annotations

import json
import time
import uuid
from datetime import datetime, timezone

from local_backends.core.base import operation

from .errors import InvalidParameter, NotFound

MAX_BYTES = 256 * 1024


def _attribute_size(attrs: dict) -> int:
    size = 0
    for name, value in attrs.items():
        size += len(name.encode()) + len(value.get("DataType", "").encode())
        size += len((value.get("StringValue") or "").encode()) + len(value.get("BinaryValue") or b"")
    return size


class Publish:
    """Publish (mixed into :class:`local_backends.sns.SNSBackend`)."""

    @operation
    def publish(self, Message: str, TopicArn: str | None = None, TargetArn: str | None = None,
                PhoneNumber: str | None = None, Subject: str | None = None,
                MessageStructure: str | None = None, MessageAttributes: dict | None = None,
                MessageDeduplicationId: str | None = None, MessageGroupId: str | None = None):
        arn = TopicArn or TargetArn
        if PhoneNumber is not None:
            raise InvalidParameter("Invalid parameter: PhoneNumber Reason: the local SNS backend "
                                   "does not send SMS")
        if arn is None:
            raise InvalidParameter("Invalid parameter: TopicArn or TargetArn Reason: no value for "
                                   "required parameter")
        if not Message:
            raise InvalidParameter("Invalid parameter: Empty message")
        attrs = dict(MessageAttributes or {})
        if len(Message.encode()) + _attribute_size(attrs) > MAX_BYTES:
            raise InvalidParameter("Invalid parameter: Message too long")
        if Subject is not None and (not Subject or len(Subject) > 100 or "\n" in Subject
                                    or not Subject[0].isprintable()):
            raise InvalidParameter("Invalid parameter: Subject")
        if MessageStructure is not None:
            if MessageStructure != "json":
                raise InvalidParameter("Invalid parameter: MessageStructure")
            try:
                body = json.loads(Message)
            except ValueError:
                raise InvalidParameter("Invalid parameter: Message Structure - JSON message body "
                                       "failed to parse") from None
            if not isinstance(body, dict) or "default" not in body:
                raise InvalidParameter("Invalid parameter: Message Structure - No default entry "
                                       "in JSON message body")
        for name, value in attrs.items():
            if "StringValue" not in value and "BinaryValue" not in value:
                raise InvalidParameter(f"Invalid parameter: The message attribute '{name}' must "
                                       "contain non-empty message attribute value for message "
                                       f"attribute type '{value.get('DataType')}'.")
        fifo = arn.endswith(".fifo")
        if fifo and MessageGroupId is None:
            raise InvalidParameter("Invalid parameter: The MessageGroupId parameter is required "
                                   "for FIFO topics")
        if not fifo and MessageDeduplicationId is not None:
            raise InvalidParameter("Invalid parameter: MessageDeduplicationId Reason: The request "
                                   "includes MessageDeduplicationId parameter that is not valid "
                                   "for this topic type")
        message_id = str(uuid.uuid4())
        stored_attrs = {k: {kk: (vv.decode("latin-1") if isinstance(vv, bytes) else vv)
                            for kk, vv in v.items()} for k, v in attrs.items()}
        with self.store.transaction() as db:
            topic = db.execute("SELECT attributes FROM topics WHERE arn = ?", (arn,)).fetchone()
            if topic is None:
                raise NotFound("Topic does not exist")
            if fifo and MessageDeduplicationId is None and json.loads(topic["attributes"]).get(
                    "ContentBasedDeduplication", "false") != "true":
                raise InvalidParameter("Invalid parameter: The topic should either have "
                                       "ContentBasedDeduplication enabled or MessageDeduplicationId "
                                       "provided explicitly")
            cur = db.execute("INSERT INTO messages (id, topic_arn, subject, message, structure, attributes, "
                             "group_id, dedup_id, published) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                             (message_id, arn, Subject, Message, MessageStructure, json.dumps(stored_attrs),
                              MessageGroupId, MessageDeduplicationId, time.time()))
            seq = cur.lastrowid
        self._deliver(arn, message_id, Subject, Message, stored_attrs, time.time())
        out = {"MessageId": message_id}
        if fifo:
            out["SequenceNumber"] = f"{seq:020d}"
        return out

    def published(self, topic_arn: str) -> list[dict]:
        """The messages published to ``topic_arn``, oldest first (a local-only reader).

        Each is ``{"MessageId", "TopicArn", "Subject", "Message", "MessageStructure",
        "MessageAttributes", "MessageGroupId", "Timestamp"}``.
        """
        rows = self.store.query("SELECT * FROM messages WHERE topic_arn = ? ORDER BY seq", (topic_arn,))
        return [{"MessageId": r["id"], "TopicArn": r["topic_arn"], "Subject": r["subject"],
                 "Message": r["message"], "MessageStructure": r["structure"],
                 "MessageAttributes": json.loads(r["attributes"]), "MessageGroupId": r["group_id"],
                 "Timestamp": datetime.fromtimestamp(r["published"], timezone.utc)} for r in rows]

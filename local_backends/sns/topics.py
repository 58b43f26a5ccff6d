"""SNS topics: creation (idempotent), attributes, tags."""
from __future__ import annotations

import json
import re
import time

from local_backends.core.base import operation
from local_backends.core.state import encode_token, token_value

from .errors import InvalidParameter, NotFound, ResourceNotFound, TagPolicy

TOPIC_NAME = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
SETTABLE = {"DeliveryPolicy", "DisplayName", "Policy", "TracingConfig", "KmsMasterKeyId",
            "SignatureVersion", "ContentBasedDeduplication", "ArchivePolicy", "FifoThroughputScope",
            "DataProtectionPolicy", "HTTPSuccessFeedbackRoleArn", "HTTPFailureFeedbackRoleArn",
            "HTTPSuccessFeedbackSampleRate", "SQSSuccessFeedbackRoleArn", "SQSFailureFeedbackRoleArn",
            "SQSSuccessFeedbackSampleRate", "LambdaSuccessFeedbackRoleArn",
            "LambdaFailureFeedbackRoleArn", "LambdaSuccessFeedbackSampleRate",
            "FirehoseSuccessFeedbackRoleArn", "FirehoseFailureFeedbackRoleArn",
            "FirehoseSuccessFeedbackSampleRate", "ApplicationSuccessFeedbackRoleArn",
            "ApplicationFailureFeedbackRoleArn", "ApplicationSuccessFeedbackSampleRate"}
CREATE_ONLY = {"FifoTopic"}
PAGE = 100
DELIVERY_POLICY = {"http": {"defaultHealthyRetryPolicy": {
    "minDelayTarget": 20, "maxDelayTarget": 20, "numRetries": 3, "numMaxDelayRetries": 0,
    "numNoDelayRetries": 0, "numMinDelayRetries": 0, "backoffFunction": "linear"},
    "disableSubscriptionOverrides": False, "defaultRequestPolicy": {"headerContentType": "text/plain; charset=UTF-8"}}}


def default_policy(arn: str, account_id: str) -> str:
    """The access policy AWS gives a new topic."""
    return json.dumps({
        "Version": "2008-10-17", "Id": "__default_policy_ID",
        "Statement": [{
            "Sid": "__default_statement_ID", "Effect": "Allow", "Principal": {"AWS": "*"},
            "Action": ["SNS:GetTopicAttributes", "SNS:SetTopicAttributes", "SNS:AddPermission",
                       "SNS:RemovePermission", "SNS:DeleteTopic", "SNS:Subscribe",
                       "SNS:ListSubscriptionsByTopic", "SNS:Publish"],
            "Resource": arn, "Condition": {"StringEquals": {"AWS:SourceOwner": account_id}}}]},
        separators=(",", ":"))


def check_tags(tags: list[dict]) -> dict[str, str]:
    out = {}
    for tag in tags:
        if not 1 <= len(tag["Key"]) <= 128 or len(tag.get("Value", "")) > 256:
            raise InvalidParameter("Invalid parameter: Tags")
        out[tag["Key"]] = tag.get("Value", "")
    return out


class Topics:
    """Topic operations (mixed into :class:`local_backends.sns.SNSBackend`)."""

    def _topic_row(self, db, arn: str):
        row = db.execute("SELECT * FROM topics WHERE arn = ?", (arn,)).fetchone()
        if row is None:
            raise NotFound("Topic does not exist")
        return row

    @operation
    def create_topic(self, Name: str, Attributes: dict | None = None, Tags: list | None = None,
                     DataProtectionPolicy: str | None = None):
        attrs = dict(Attributes or {})
        fifo = attrs.get("FifoTopic", "false").lower() == "true"
        base = Name[:-5] if Name.endswith(".fifo") else Name
        if not TOPIC_NAME.match(base) or len(Name) > 256 or fifo != Name.endswith(".fifo"):
            raise InvalidParameter("Invalid parameter: Topic Name")
        unknown = set(attrs) - SETTABLE - CREATE_ONLY
        if unknown:
            raise InvalidParameter(f"Invalid parameter: Attributes Reason: Unknown attribute "
                                   f"{sorted(unknown)[0]}")
        if DataProtectionPolicy is not None:
            attrs["DataProtectionPolicy"] = DataProtectionPolicy
        tags = check_tags(Tags or [])
        arn = self.arn(Name)
        with self.store.transaction() as db:
            row = db.execute("SELECT * FROM topics WHERE arn = ?", (arn,)).fetchone()
            if row is not None:
                current = json.loads(row["attributes"])
                if any(current.get(k) != v for k, v in attrs.items()):
                    raise InvalidParameter("Invalid parameter: Attributes Reason: Topic already exists "
                                           "with different attributes")
                if tags and tags != json.loads(row["tags"]):
                    raise InvalidParameter("Invalid parameter: Tags Reason: Topic already exists "
                                           "with different tags")
                return {"TopicArn": arn}
            stored = {"Policy": default_policy(arn, self.account_id), "DisplayName": "",
                      "EffectiveDeliveryPolicy": json.dumps(DELIVERY_POLICY, separators=(",", ":")),
                      **attrs}
            if fifo:
                stored.setdefault("ContentBasedDeduplication", "false")
            db.execute("INSERT INTO topics (arn, name, attributes, tags, created) VALUES (?, ?, ?, ?, ?)",
                       (arn, Name, json.dumps(stored), json.dumps(tags), time.time()))
        return {"TopicArn": arn}

    @operation
    def delete_topic(self, TopicArn: str):
        with self.store.transaction() as db:
            db.execute("DELETE FROM topics WHERE arn = ?", (TopicArn,))  # idempotent, as on AWS
        return {}

    @operation
    def list_topics(self, NextToken: str | None = None):
        after = ""
        if NextToken is not None:
            after = token_value(NextToken, "after", str, InvalidParameter("Invalid parameter: NextToken"))
        rows = self.store.query("SELECT arn FROM topics WHERE arn > ? ORDER BY arn LIMIT ?", (after, PAGE + 1))
        out = {"Topics": [{"TopicArn": r["arn"]} for r in rows[:PAGE]]}
        if len(rows) > PAGE:
            out["NextToken"] = encode_token({"after": rows[PAGE - 1]["arn"]})
        return out

    @operation
    def get_topic_attributes(self, TopicArn: str):
        db = self.store.connection()
        row = self._topic_row(db, TopicArn)
        attrs = json.loads(row["attributes"])
        counts = db.execute("SELECT sum(confirmed), sum(1 - confirmed) FROM subscriptions WHERE topic_arn = ?",
                            (TopicArn,)).fetchone()
        attrs.update(TopicArn=TopicArn, Owner=self.account_id,
                     SubscriptionsConfirmed=str(counts[0] or 0), SubscriptionsPending=str(counts[1] or 0),
                     SubscriptionsDeleted="0")
        return {"Attributes": attrs}

    @operation
    def set_topic_attributes(self, TopicArn: str, AttributeName: str, AttributeValue: str | None = None):
        if AttributeName not in SETTABLE:
            raise InvalidParameter("Invalid parameter: AttributeName")
        if AttributeName in ("Policy", "DeliveryPolicy", "DataProtectionPolicy") and AttributeValue:
            try:
                json.loads(AttributeValue)
            except ValueError:
                raise InvalidParameter(f"Invalid parameter: {AttributeName} Error: "
                                       "failed to parse JSON") from None
        with self.store.transaction() as db:
            attrs = json.loads(self._topic_row(db, TopicArn)["attributes"])
            if AttributeName == "ContentBasedDeduplication" and not TopicArn.endswith(".fifo"):
                raise InvalidParameter("Invalid parameter: ContentBasedDeduplication Reason: "
                                       "Content based deduplication can only be set for FIFO topics")
            attrs[AttributeName] = AttributeValue or ""
            db.execute("UPDATE topics SET attributes = ? WHERE arn = ?", (json.dumps(attrs), TopicArn))
        return {}

    # -- tags --------------------------------------------------------------------------
    def _tagged_row(self, db, arn: str):
        row = db.execute("SELECT * FROM topics WHERE arn = ?", (arn,)).fetchone()
        if row is None:
            raise ResourceNotFound("Resource does not exist")
        return row

    @operation
    def tag_resource(self, ResourceArn: str, Tags: list):
        with self.store.transaction() as db:
            tags = json.loads(self._tagged_row(db, ResourceArn)["tags"])
            tags.update(check_tags(Tags))
            if len(tags) > 50:
                raise TagPolicy("Could not complete request: tag quota of per resource exceeded")
            db.execute("UPDATE topics SET tags = ? WHERE arn = ?", (json.dumps(tags), ResourceArn))
        return {}

    @operation
    def untag_resource(self, ResourceArn: str, TagKeys: list):
        with self.store.transaction() as db:
            tags = json.loads(self._tagged_row(db, ResourceArn)["tags"])
            for key in TagKeys:
                tags.pop(key, None)
            db.execute("UPDATE topics SET tags = ? WHERE arn = ?", (json.dumps(tags), ResourceArn))
        return {}

    @operation
    def list_tags_for_resource(self, ResourceArn: str):
        tags = json.loads(self._tagged_row(self.store.connection(), ResourceArn)["tags"])
        return {"Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}

"""``AWS::SNS::Topic`` (display name, subscriptions, FIFO, tags)."""
from __future__ import annotations

from botocore.exceptions import ClientError

from .base import Provisioned, ResourceType, bool_prop, tag_list

ATTRIBUTES = ("DisplayName", "KmsMasterKeyId", "ContentBasedDeduplication", "SignatureVersion",
              "TracingConfig", "FifoThroughputScope")


class Topic(ResourceType):
    """A topic; ``Ref`` is its ARN, ``TopicArn`` and ``TopicName`` are attributes."""

    type_name = "AWS::SNS::Topic"
    name_property = "TopicName"
    replace_on = frozenset({"FifoTopic"})

    def _attributes(self, props: dict) -> dict:
        attrs = {k: str(props[k]) if not isinstance(props[k], bool) else str(props[k]).lower()
                 for k in ATTRIBUTES if k in props}
        return attrs

    def create(self, props: dict) -> Provisioned:
        sns = self.ctx.client("sns")
        fifo = bool_prop(props.get("FifoTopic", False))
        name = props.get("TopicName") or self.ctx.generated_name(256 - 5 if fifo else 256)
        if fifo and not name.endswith(".fifo"):
            name += ".fifo"
        attrs = self._attributes(props)
        if fifo:
            attrs["FifoTopic"] = "true"
        kwargs = {"Name": name, "Attributes": attrs}
        if props.get("Tags"):
            kwargs["Tags"] = tag_list(props)
        arn = sns.create_topic(**kwargs)["TopicArn"]
        try:
            self._subscriptions(arn, [], props.get("Subscription", []))
        except Exception:
            sns.delete_topic(TopicArn=arn)
            raise
        return Provisioned(arn, {"TopicArn": arn, "TopicName": name})

    def _subscriptions(self, arn: str, old: list, new: list) -> None:
        sns = self.ctx.client("sns")
        key = lambda s: (s["Protocol"], s["Endpoint"])  # noqa: E731
        wanted, had = {key(s) for s in new}, {key(s) for s in old}
        for protocol, endpoint in sorted(wanted - had):
            sns.subscribe(TopicArn=arn, Protocol=protocol, Endpoint=endpoint)
        if had - wanted:
            for sub in sns.list_subscriptions_by_topic(TopicArn=arn)["Subscriptions"]:
                if (sub["Protocol"], sub["Endpoint"]) in had - wanted and sub["SubscriptionArn"].startswith("arn:"):
                    sns.unsubscribe(SubscriptionArn=sub["SubscriptionArn"])

    def update(self, physical_id: str, old: dict, new: dict) -> Provisioned:
        sns = self.ctx.client("sns")
        old_attrs, new_attrs = self._attributes(old), self._attributes(new)
        for name in ATTRIBUTES:
            if old_attrs.get(name) != new_attrs.get(name):
                sns.set_topic_attributes(TopicArn=physical_id, AttributeName=name,
                                         AttributeValue=new_attrs.get(name, ""))
        if old.get("Tags") != new.get("Tags"):
            stale = {t["Key"] for t in old.get("Tags", [])} - {t["Key"] for t in new.get("Tags", [])}
            if stale:
                sns.untag_resource(ResourceArn=physical_id, TagKeys=sorted(stale))
            if new.get("Tags"):
                sns.tag_resource(ResourceArn=physical_id, Tags=tag_list(new))
        self._subscriptions(physical_id, old.get("Subscription", []), new.get("Subscription", []))
        return Provisioned(physical_id, {"TopicArn": physical_id, "TopicName": physical_id.rsplit(":", 1)[-1]})

    def delete(self, physical_id: str, props: dict) -> None:
        try:
            self.ctx.client("sns").delete_topic(TopicArn=physical_id)
        except ClientError as err:
            if err.response["Error"]["Code"] != "NotFound":
                raise

"""``AWS::Logs::LogGroup`` (retention, KMS key, class, tags)."""
from __future__ import annotations

from botocore.exceptions import ClientError

from .base import Provisioned, ResourceFailed, ResourceType


class LogGroup(ResourceType):
    """A log group; ``Ref`` is its name, ``Arn`` ends with ``:*`` as AWS documents."""

    type_name = "AWS::Logs::LogGroup"
    name_property = "LogGroupName"
    replace_on = frozenset({"LogGroupClass"})

    def _provisioned(self, name: str) -> Provisioned:
        return Provisioned(name, {"Arn": self.ctx.arn("logs", f"log-group:{name}:*")})

    def create(self, props: dict) -> Provisioned:
        logs = self.ctx.client("logs")
        name = props.get("LogGroupName") or self.ctx.generated_name(512)
        kwargs = {"logGroupName": name}
        if "KmsKeyId" in props:
            kwargs["kmsKeyId"] = props["KmsKeyId"]
        if "LogGroupClass" in props:
            kwargs["logGroupClass"] = props["LogGroupClass"]
        if props.get("Tags"):
            kwargs["tags"] = {t["Key"]: str(t["Value"]) for t in props["Tags"]}
        logs.create_log_group(**kwargs)
        try:
            if "RetentionInDays" in props:
                logs.put_retention_policy(logGroupName=name, retentionInDays=int(props["RetentionInDays"]))
        except Exception:
            logs.delete_log_group(logGroupName=name)
            raise
        return self._provisioned(name)

    def update(self, physical_id: str, old: dict, new: dict) -> Provisioned:
        logs = self.ctx.client("logs")
        if old.get("RetentionInDays") != new.get("RetentionInDays"):
            if "RetentionInDays" in new:
                logs.put_retention_policy(logGroupName=physical_id, retentionInDays=int(new["RetentionInDays"]))
            else:
                logs.delete_retention_policy(logGroupName=physical_id)
        if old.get("Tags") != new.get("Tags"):
            stale = {t["Key"] for t in old.get("Tags", [])} - {t["Key"] for t in new.get("Tags", [])}
            if stale:
                logs.untag_log_group(logGroupName=physical_id, tags=sorted(stale))
            if new.get("Tags"):
                logs.tag_log_group(logGroupName=physical_id,
                                   tags={t["Key"]: str(t["Value"]) for t in new["Tags"]})
        if old.get("KmsKeyId") != new.get("KmsKeyId"):
            raise ResourceFailed("Changing the KmsKeyId of a log group in place is not supported by "
                                 "the local CloudFormation engine")
        return self._provisioned(physical_id)

    def delete(self, physical_id: str, props: dict) -> None:
        try:
            self.ctx.client("logs").delete_log_group(logGroupName=physical_id)
        except ClientError as err:
            if err.response["Error"]["Code"] != "ResourceNotFoundException":
                raise

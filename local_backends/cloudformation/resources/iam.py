"""``AWS::IAM::Role`` (trust policy, inline policies, managed policy attachments, tags) and
``AWS::IAM::ManagedPolicy`` (versions on update, role attachments)."""
from __future__ import annotations

import json

from botocore.exceptions import ClientError

from .base import Provisioned, ResourceFailed, ResourceType, tag_list


def as_json(document) -> str:
    return document if isinstance(document, str) else json.dumps(document)


def _gone(err: ClientError) -> bool:
    return err.response["Error"]["Code"] == "NoSuchEntity"


class Role(ResourceType):
    """An IAM role; ``Ref`` is its name, ``Arn`` and ``RoleId`` are attributes."""

    type_name = "AWS::IAM::Role"
    name_property = "RoleName"
    replace_on = frozenset({"Path"})
    required = ("AssumeRolePolicyDocument",)

    def _provisioned(self, role: dict) -> Provisioned:
        return Provisioned(role["RoleName"], {"Arn": role["Arn"], "RoleId": role["RoleId"]})

    def create(self, props: dict) -> Provisioned:
        self.check(props)
        if "Users" in props or "Groups" in props:
            raise ResourceFailed("IAM users and groups are not supported by the local IAM backend")
        iam = self.ctx.client("iam")
        name = props.get("RoleName") or self.ctx.generated_name(64)
        kwargs = {"RoleName": name, "AssumeRolePolicyDocument": as_json(props["AssumeRolePolicyDocument"]),
                  "Path": props.get("Path", "/")}
        if "Description" in props:
            kwargs["Description"] = props["Description"]
        if "MaxSessionDuration" in props:
            kwargs["MaxSessionDuration"] = int(props["MaxSessionDuration"])
        if "PermissionsBoundary" in props:
            kwargs["PermissionsBoundary"] = props["PermissionsBoundary"]
        if props.get("Tags"):
            kwargs["Tags"] = tag_list(props)
        role = iam.create_role(**kwargs)["Role"]
        try:
            self._policies(name, {}, props)
        except Exception:
            self.delete(name, props)
            raise
        return self._provisioned(role)

    def _policies(self, name: str, old: dict, new: dict) -> None:
        iam = self.ctx.client("iam")
        old_inline = {p["PolicyName"]: p["PolicyDocument"] for p in old.get("Policies", [])}
        new_inline = {p["PolicyName"]: p["PolicyDocument"] for p in new.get("Policies", [])}
        for policy, document in new_inline.items():
            if old_inline.get(policy) != document:
                iam.put_role_policy(RoleName=name, PolicyName=policy, PolicyDocument=as_json(document))
        for policy in set(old_inline) - set(new_inline):
            iam.delete_role_policy(RoleName=name, PolicyName=policy)
        old_managed, new_managed = set(old.get("ManagedPolicyArns", [])), set(new.get("ManagedPolicyArns", []))
        for arn in sorted(new_managed - old_managed):
            iam.attach_role_policy(RoleName=name, PolicyArn=arn)
        for arn in sorted(old_managed - new_managed):
            iam.detach_role_policy(RoleName=name, PolicyArn=arn)

    def update(self, physical_id: str, old: dict, new: dict) -> Provisioned:
        iam = self.ctx.client("iam")
        if old.get("AssumeRolePolicyDocument") != new.get("AssumeRolePolicyDocument"):
            iam.update_assume_role_policy(RoleName=physical_id,
                                          PolicyDocument=as_json(new["AssumeRolePolicyDocument"]))
        if old.get("Description") != new.get("Description") or \
                old.get("MaxSessionDuration") != new.get("MaxSessionDuration"):
            iam.update_role(RoleName=physical_id, Description=new.get("Description", ""),
                            MaxSessionDuration=int(new.get("MaxSessionDuration", 3600)))
        if old.get("Tags") != new.get("Tags"):
            stale = {t["Key"] for t in old.get("Tags", [])} - {t["Key"] for t in new.get("Tags", [])}
            if stale:
                iam.untag_role(RoleName=physical_id, TagKeys=sorted(stale))
            if new.get("Tags"):
                iam.tag_role(RoleName=physical_id, Tags=tag_list(new))
        self._policies(physical_id, old, new)
        return self._provisioned(iam.get_role(RoleName=physical_id)["Role"])

    def delete(self, physical_id: str, props: dict) -> None:
        iam = self.ctx.client("iam")
        try:
            for policy in iam.list_role_policies(RoleName=physical_id)["PolicyNames"]:
                iam.delete_role_policy(RoleName=physical_id, PolicyName=policy)
            # CloudFormation detaches only what the template attached; others block deletion.
            for arn in props.get("ManagedPolicyArns", []):
                try:
                    iam.detach_role_policy(RoleName=physical_id, PolicyArn=arn)
                except ClientError as err:
                    if not _gone(err):
                        raise
            iam.delete_role(RoleName=physical_id)
        except ClientError as err:
            if not _gone(err):
                raise


class ManagedPolicy(ResourceType):
    """A customer managed policy; ``Ref`` is its ARN."""

    type_name = "AWS::IAM::ManagedPolicy"
    name_property = "ManagedPolicyName"
    replace_on = frozenset({"Path", "Description"})
    required = ("PolicyDocument",)

    def _provisioned(self, policy: dict) -> Provisioned:
        return Provisioned(policy["Arn"], {
            "PolicyArn": policy["Arn"], "PolicyId": policy["PolicyId"],
            "DefaultVersionId": policy["DefaultVersionId"], "IsAttachable": policy["IsAttachable"],
            "AttachmentCount": policy["AttachmentCount"], "Path": policy["Path"],
            "PolicyName": policy["PolicyName"],
            "CreateDate": policy["CreateDate"].isoformat(), "UpdateDate": policy["UpdateDate"].isoformat(),
            "PermissionsBoundaryUsageCount": policy["PermissionsBoundaryUsageCount"]})

    def create(self, props: dict) -> Provisioned:
        self.check(props)
        if props.get("Users") or props.get("Groups"):
            raise ResourceFailed("IAM users and groups are not supported by the local IAM backend")
        iam = self.ctx.client("iam")
        kwargs = {"PolicyName": props.get("ManagedPolicyName") or self.ctx.generated_name(128),
                  "PolicyDocument": as_json(props["PolicyDocument"]), "Path": props.get("Path", "/")}
        if "Description" in props:
            kwargs["Description"] = props["Description"]
        arn = iam.create_policy(**kwargs)["Policy"]["Arn"]
        try:
            for role in props.get("Roles", []):
                iam.attach_role_policy(RoleName=role, PolicyArn=arn)
        except Exception:
            self.delete(arn, props)
            raise
        return self._provisioned(iam.get_policy(PolicyArn=arn)["Policy"])

    def update(self, physical_id: str, old: dict, new: dict) -> Provisioned:
        iam = self.ctx.client("iam")
        if old.get("PolicyDocument") != new.get("PolicyDocument"):
            versions = iam.list_policy_versions(PolicyArn=physical_id)["Versions"]
            stale = [v for v in versions if not v["IsDefaultVersion"]]
            if len(versions) >= 5 and stale:
                iam.delete_policy_version(PolicyArn=physical_id, VersionId=stale[-1]["VersionId"])
            iam.create_policy_version(PolicyArn=physical_id, PolicyDocument=as_json(new["PolicyDocument"]),
                                      SetAsDefault=True)
        old_roles, new_roles = set(old.get("Roles", [])), set(new.get("Roles", []))
        for role in sorted(new_roles - old_roles):
            iam.attach_role_policy(RoleName=role, PolicyArn=physical_id)
        for role in sorted(old_roles - new_roles):
            iam.detach_role_policy(RoleName=role, PolicyArn=physical_id)
        return self._provisioned(iam.get_policy(PolicyArn=physical_id)["Policy"])

    def delete(self, physical_id: str, props: dict) -> None:
        iam = self.ctx.client("iam")
        try:
            for role in props.get("Roles", []):
                try:
                    iam.detach_role_policy(RoleName=role, PolicyArn=physical_id)
                except ClientError as err:
                    if not _gone(err):
                        raise
            for version in iam.list_policy_versions(PolicyArn=physical_id)["Versions"]:
                if not version["IsDefaultVersion"]:
                    iam.delete_policy_version(PolicyArn=physical_id, VersionId=version["VersionId"])
            iam.delete_policy(PolicyArn=physical_id)
        except ClientError as err:
            if not _gone(err):
                raise

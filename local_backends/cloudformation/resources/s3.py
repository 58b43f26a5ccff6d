"""``AWS::S3::Bucket`` (versioning, encryption, public access block, lifecycle, tags) and
``AWS::S3::BucketPolicy``."""
from __future__ import annotations

import json

from botocore.exceptions import ClientError

from .base import Provisioned, ResourceType, drop_none, tag_list


def lifecycle_rule(rule: dict) -> dict:
    """A rule of CloudFormation's LifecycleConfiguration as PutBucketLifecycleConfiguration takes it."""
    out: dict = {"Status": rule["Status"]}
    if "Id" in rule:
        out["ID"] = rule["Id"]
    flt = {}
    if "Prefix" in rule:
        flt["Prefix"] = rule["Prefix"]
    if "TagFilters" in rule:
        tags = [{"Key": t["Key"], "Value": t["Value"]} for t in rule["TagFilters"]]
        flt = {"And": {**flt, "Tags": tags}} if flt or len(tags) > 1 else {"Tag": tags[0]}
    out["Filter"] = flt
    expiration = drop_none({"Days": rule.get("ExpirationInDays"), "Date": rule.get("ExpirationDate"),
                            "ExpiredObjectDeleteMarker": rule.get("ExpiredObjectDeleteMarker")})
    if expiration:
        out["Expiration"] = expiration
    noncurrent = rule.get("NoncurrentVersionExpiration")
    if noncurrent is None and "NoncurrentVersionExpirationInDays" in rule:
        noncurrent = {"NoncurrentDays": rule["NoncurrentVersionExpirationInDays"]}
    if noncurrent:
        out["NoncurrentVersionExpiration"] = drop_none({
            "NoncurrentDays": noncurrent.get("NoncurrentDays"),
            "NewerNoncurrentVersions": noncurrent.get("NewerNoncurrentVersions")})
    if "AbortIncompleteMultipartUpload" in rule:
        out["AbortIncompleteMultipartUpload"] = {
            "DaysAfterInitiation": rule["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"]}
    if "Transitions" in rule:
        out["Transitions"] = [drop_none({"Days": t.get("TransitionInDays"), "Date": t.get("TransitionDate"),
                                         "StorageClass": t["StorageClass"]}) for t in rule["Transitions"]]
    if "NoncurrentVersionTransitions" in rule:
        out["NoncurrentVersionTransitions"] = [
            drop_none({"NoncurrentDays": t.get("TransitionInDays"), "StorageClass": t["StorageClass"]})
            for t in rule["NoncurrentVersionTransitions"]]
    return out


def encryption_rule(rule: dict) -> dict:
    """A rule of CloudFormation's BucketEncryption as PutBucketEncryption takes it."""
    out = {}
    if "ServerSideEncryptionByDefault" in rule:
        out["ApplyServerSideEncryptionByDefault"] = dict(rule["ServerSideEncryptionByDefault"])
    if "BucketKeyEnabled" in rule:
        out["BucketKeyEnabled"] = bool(rule["BucketKeyEnabled"])
    return out


class Bucket(ResourceType):
    """An S3 bucket and its configuration, applied with the S3 API's own operations."""

    type_name = "AWS::S3::Bucket"
    name_property = "BucketName"
    replace_on = frozenset({"ObjectLockEnabled"})
    CONFIG = ("VersioningConfiguration", "BucketEncryption", "PublicAccessBlockConfiguration",
              "LifecycleConfiguration", "Tags")
    UNSUPPORTED = ("AccelerateConfiguration", "AnalyticsConfigurations", "CorsConfiguration",
                   "IntelligentTieringConfigurations", "InventoryConfigurations", "LoggingConfiguration",
                   "MetricsConfigurations", "NotificationConfiguration", "ObjectLockConfiguration",
                   "OwnershipControls", "ReplicationConfiguration", "WebsiteConfiguration",
                   "AccessControl")

    def _attributes(self, name: str) -> dict:
        region = self.ctx.region
        return {"Arn": f"arn:aws:s3:::{name}", "DomainName": f"{name}.s3.amazonaws.com",
                "RegionalDomainName": f"{name}.s3.{region}.amazonaws.com",
                "DualStackDomainName": f"{name}.s3.dualstack.{region}.amazonaws.com",
                "WebsiteURL": f"http://{name}.s3-website-{region}.amazonaws.com"}

    def create(self, props: dict) -> Provisioned:
        unsupported = [p for p in self.UNSUPPORTED if p in props]
        if unsupported:
            from .base import ResourceFailed
            raise ResourceFailed(f"AWS::S3::Bucket property {unsupported[0]} is not supported by "
                                 "the local CloudFormation engine")
        name = props.get("BucketName") or self.ctx.generated_name(63, lower=True)
        s3 = self.ctx.client("s3")
        kwargs = {"Bucket": name}
        if self.ctx.region != "us-east-1":
            kwargs["CreateBucketConfiguration"] = {"LocationConstraint": self.ctx.region}
        if props.get("ObjectLockEnabled"):
            kwargs["ObjectLockEnabledForBucket"] = True
        s3.create_bucket(**kwargs)
        try:
            self._configure(name, {}, props)
        except Exception:
            s3.delete_bucket(Bucket=name)  # the resource failed: leave nothing half-made
            raise
        return Provisioned(name, self._attributes(name))

    def _configure(self, name: str, old: dict, new: dict) -> None:
        s3 = self.ctx.client("s3")
        for prop in self.CONFIG:
            if old.get(prop) == new.get(prop):
                continue
            value = new.get(prop)
            if prop == "VersioningConfiguration":
                s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={
                    "Status": (value or {"Status": "Suspended"})["Status"]})
            elif prop == "BucketEncryption":
                if value is None:
                    s3.delete_bucket_encryption(Bucket=name)
                else:
                    s3.put_bucket_encryption(Bucket=name, ServerSideEncryptionConfiguration={
                        "Rules": [encryption_rule(r) for r in value["ServerSideEncryptionConfiguration"]]})
            elif prop == "PublicAccessBlockConfiguration":
                if value is None:
                    s3.delete_public_access_block(Bucket=name)
                else:
                    s3.put_public_access_block(Bucket=name, PublicAccessBlockConfiguration={
                        k: bool(v) for k, v in value.items()})
            elif prop == "LifecycleConfiguration":
                if value is None:
                    s3.delete_bucket_lifecycle(Bucket=name)
                else:
                    s3.put_bucket_lifecycle_configuration(Bucket=name, LifecycleConfiguration={
                        "Rules": [lifecycle_rule(r) for r in value["Rules"]]})
            elif prop == "Tags":
                if value:
                    s3.put_bucket_tagging(Bucket=name, Tagging={"TagSet": tag_list(new)})
                else:
                    s3.delete_bucket_tagging(Bucket=name)

    def update(self, physical_id: str, old: dict, new: dict) -> Provisioned:
        self._configure(physical_id, old, new)
        return Provisioned(physical_id, self._attributes(physical_id))

    def delete(self, physical_id: str, props: dict) -> None:
        try:
            self.ctx.client("s3").delete_bucket(Bucket=physical_id)
        except ClientError as err:
            if err.response["Error"]["Code"] != "NoSuchBucket":
                raise


class BucketPolicy(ResourceType):
    """A bucket's policy (``PutBucketPolicy``); its physical id is the bucket name."""

    type_name = "AWS::S3::BucketPolicy"
    replace_on = frozenset({"Bucket"})
    required = ("Bucket", "PolicyDocument")

    def create(self, props: dict) -> Provisioned:
        self.check(props)
        document = props["PolicyDocument"]
        policy = document if isinstance(document, str) else json.dumps(document)
        self.ctx.client("s3").put_bucket_policy(Bucket=props["Bucket"], Policy=policy)
        return Provisioned(props["Bucket"], {})

    def update(self, physical_id: str, old: dict, new: dict) -> Provisioned:
        return self.create(new)

    def delete(self, physical_id: str, props: dict) -> None:
        try:
            self.ctx.client("s3").delete_bucket_policy(Bucket=physical_id)
        except ClientError as err:
            if err.response["Error"]["Code"] != "NoSuchBucket":
                raise

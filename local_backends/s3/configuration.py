"""S3 bucket configuration: versioning, default encryption, public access block, policy,
lifecycle rules and tags.

Versioning changes how objects are kept (:mod:`local_backends.s3.versions`). The other
settings are stored and returned as S3 returns them; the local backend does not enforce
policies or public-access rules (there is no anonymous access to deny) and does not run
lifecycle expirations (AWS applies them asynchronously, once a day).
"""
from __future__ import annotations

import json

from local_backends.core.base import operation

from . import errors

DEFAULT_ENCRYPTION = {"Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"},
                                 "BucketKeyEnabled": False}]}
# Since April 2023 S3 blocks public access on every new bucket.
DEFAULT_PUBLIC_ACCESS_BLOCK = {"BlockPublicAcls": True, "IgnorePublicAcls": True,
                               "BlockPublicPolicy": True, "RestrictPublicBuckets": True}


class Configuration:
    """Bucket configuration operations (mixed into :class:`local_backends.s3.S3Backend`)."""

    def _config(self, bucket: str) -> dict:
        return json.loads(self._bucket(bucket)["config"])

    def _set_config(self, bucket: str, name: str, value) -> None:
        with self.store.db.transaction() as db:
            config = json.loads(self._bucket(bucket, db)["config"])
            if value is None:
                config.pop(name, None)
            else:
                config[name] = value
            db.execute("UPDATE buckets SET config = ? WHERE name = ?", (json.dumps(config), bucket))

    # -- versioning --------------------------------------------------------------------
    @operation
    def put_bucket_versioning(self, Bucket: str, VersioningConfiguration: dict, **_):
        status = VersioningConfiguration.get("Status")
        if status not in ("Enabled", "Suspended"):
            raise errors.MalformedXML("The XML you provided was not well-formed or did not validate "
                                      "against our published schema")
        with self.store.db.transaction() as db:
            self._bucket(Bucket, db)
            db.execute("UPDATE buckets SET versioning = ? WHERE name = ?", (status, Bucket))

    @operation
    def get_bucket_versioning(self, Bucket: str, **_):
        status = self.store.db.query_one("SELECT versioning FROM buckets WHERE name = ?", (Bucket,))
        if status is None:
            raise errors.NoSuchBucket("The specified bucket does not exist", BucketName=Bucket)
        return {"Status": status["versioning"]} if status["versioning"] else {}

    # -- default encryption ------------------------------------------------------------
    @operation
    def put_bucket_encryption(self, Bucket: str, ServerSideEncryptionConfiguration: dict, **_):
        rules = ServerSideEncryptionConfiguration.get("Rules") or []
        for rule in rules:
            algo = (rule.get("ApplyServerSideEncryptionByDefault") or {}).get("SSEAlgorithm")
            if algo not in ("AES256", "aws:kms", "aws:kms:dsse"):
                raise errors.MalformedXML("The XML you provided was not well-formed or did not "
                                          "validate against our published schema")
        self._set_config(Bucket, "encryption", ServerSideEncryptionConfiguration)

    @operation
    def get_bucket_encryption(self, Bucket: str, **_):
        return {"ServerSideEncryptionConfiguration": self._config(Bucket).get("encryption", DEFAULT_ENCRYPTION)}

    @operation
    def delete_bucket_encryption(self, Bucket: str, **_):
        self._set_config(Bucket, "encryption", None)
        return {"ResponseMetadata": {"HTTPStatusCode": 204}}

    # -- public access block -----------------------------------------------------------
    @operation
    def put_public_access_block(self, Bucket: str, PublicAccessBlockConfiguration: dict, **_):
        self._set_config(Bucket, "public_access_block",
                         {k: bool(PublicAccessBlockConfiguration.get(k, False)) for k in DEFAULT_PUBLIC_ACCESS_BLOCK})

    @operation
    def get_public_access_block(self, Bucket: str, **_):
        config = self._config(Bucket)
        value = config.get("public_access_block", DEFAULT_PUBLIC_ACCESS_BLOCK)
        if value == "deleted":
            raise errors.NoSuchPublicAccessBlockConfiguration(
                "The public access block configuration was not found", BucketName=Bucket)
        return {"PublicAccessBlockConfiguration": value}

    @operation
    def delete_public_access_block(self, Bucket: str, **_):
        self._set_config(Bucket, "public_access_block", "deleted")
        return {"ResponseMetadata": {"HTTPStatusCode": 204}}

    # -- policy ------------------------------------------------------------------------
    @operation
    def put_bucket_policy(self, Bucket: str, Policy: str, **_):
        try:
            doc = json.loads(Policy)
        except ValueError:
            doc = None
        if not isinstance(doc, dict) or not doc.get("Statement"):
            raise errors.MalformedPolicy("Policies must be valid JSON and the first byte must be '{'",
                                         BucketName=Bucket)
        for statement in doc["Statement"] if isinstance(doc["Statement"], list) else [doc["Statement"]]:
            resources = statement.get("Resource", [])
            for arn in resources if isinstance(resources, list) else [resources]:
                if not (arn == f"arn:aws:s3:::{Bucket}" or arn.startswith(f"arn:aws:s3:::{Bucket}/")):
                    raise errors.MalformedPolicy("Policy has invalid resource", BucketName=Bucket)
        self._set_config(Bucket, "policy", Policy)
        return {"ResponseMetadata": {"HTTPStatusCode": 204}}

    @operation
    def get_bucket_policy(self, Bucket: str, **_):
        policy = self._config(Bucket).get("policy")
        if policy is None:
            raise errors.NoSuchBucketPolicy("The bucket policy does not exist", BucketName=Bucket)
        return {"Policy": policy}

    @operation
    def delete_bucket_policy(self, Bucket: str, **_):
        self._set_config(Bucket, "policy", None)
        return {"ResponseMetadata": {"HTTPStatusCode": 204}}

    # -- lifecycle ---------------------------------------------------------------------
    @operation
    def put_bucket_lifecycle_configuration(self, Bucket: str, LifecycleConfiguration: dict | None = None, **_):
        rules = (LifecycleConfiguration or {}).get("Rules") or []
        if not rules or len(rules) > 1000:
            raise errors.MalformedXML("The XML you provided was not well-formed or did not validate "
                                      "against our published schema")
        ids = [r.get("ID") for r in rules if r.get("ID")]
        if len(ids) != len(set(ids)):
            raise errors.InvalidArgument("Rule ID must be unique. Found same ID for more than one rule",
                                         ArgumentName="ID")
        self._set_config(Bucket, "lifecycle", rules)
        return {}

    @operation
    def get_bucket_lifecycle_configuration(self, Bucket: str, **_):
        rules = self._config(Bucket).get("lifecycle")
        if rules is None:
            raise errors.NoSuchLifecycleConfiguration("The lifecycle configuration does not exist",
                                                      BucketName=Bucket)
        return {"Rules": rules}

    @operation
    def delete_bucket_lifecycle(self, Bucket: str, **_):
        self._set_config(Bucket, "lifecycle", None)
        return {"ResponseMetadata": {"HTTPStatusCode": 204}}

    # -- tags --------------------------------------------------------------------------
    @operation
    def put_bucket_tagging(self, Bucket: str, Tagging: dict, **_):
        tags = Tagging.get("TagSet") or []
        keys = [t["Key"] for t in tags]
        if len(keys) != len(set(keys)):
            raise errors.InvalidTag("Cannot provide multiple Tags with the same key")
        if len(tags) > 50:
            raise errors.InvalidTag("Bucket tag count cannot be greater than 50")
        self._set_config(Bucket, "tags", tags)
        return {"ResponseMetadata": {"HTTPStatusCode": 204}}

    @operation
    def get_bucket_tagging(self, Bucket: str, **_):
        tags = self._config(Bucket).get("tags")
        if not tags:
            raise errors.NoSuchTagSet("The TagSet does not exist", BucketName=Bucket)
        return {"TagSet": tags}

    @operation
    def delete_bucket_tagging(self, Bucket: str, **_):
        self._set_config(Bucket, "tags", None)
        return {"ResponseMetadata": {"HTTPStatusCode": 204}}

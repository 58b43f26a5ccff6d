"""The resource types the local CloudFormation engine creates, one module per family.

Every type works through the session's boto3 clients, so its resources are real in the
backend serving that service. A type missing here makes the stack fail with a clear reason.
"""
from __future__ import annotations

from .athena import WorkGroup
from .base import Context, NeedsReplacement, Provisioned, ResourceFailed, ResourceType
from .cloudwatch import Alarm
from .glue import Database
from .iam import ManagedPolicy, Role
from .logs import LogGroup
from .s3 import Bucket, BucketPolicy
from .sagemaker import Endpoint, EndpointConfig, FeatureGroup, Model
from .sns import Topic

RESOURCE_TYPES: dict[str, type[ResourceType]] = {
    cls.type_name: cls for cls in (Bucket, BucketPolicy, Role, ManagedPolicy, LogGroup, Topic, Alarm,
                                   Database, WorkGroup, FeatureGroup, Model, EndpointConfig, Endpoint)
}

__all__ = ["Context", "NeedsReplacement", "Provisioned", "RESOURCE_TYPES", "ResourceFailed", "ResourceType"]

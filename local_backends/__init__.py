"""Pure-Python local implementations of AWS services, served beneath real boto3 clients.

The registry maps a botocore service name to the dotted path of its backend class (the
way fsspec maps protocols to filesystems): a backend is imported on first use, and a
missing optional dependency is reported with the extra to install.
"""
from __future__ import annotations

import importlib
from types import MappingProxyType

from .core.base import DEFAULT_ACCOUNT_ID, Backend, Peers, get_backend
from .core.errors import AwsError, NotImplementedByBackend

_REGISTRY: dict[str, tuple[str, str | None]] = {
    # service: ("module:Class", extra that pulls its dependencies)
    "s3": ("local_backends.s3:S3Backend", None),
    "cloudwatch": ("local_backends.cloudwatch:CloudWatchBackend", None),
    "logs": ("local_backends.logs:LogsBackend", None),
    "glue": ("local_backends.glue:GlueBackend", None),
    "athena": ("local_backends.athena:AthenaBackend", "data"),
    "sagemaker": ("local_backends.sagemaker:SageMakerBackend", None),
    "sagemaker-runtime": ("local_backends.sagemaker_runtime:SageMakerRuntimeBackend", "serve"),
    "sts": ("local_backends.sts:STSBackend", None),
    "comprehend": ("local_backends.comprehend:ComprehendBackend", "text"),
    "quicksight": ("local_backends.quicksight:QuickSightBackend", "report"),
    "iam": ("local_backends.iam:IAMBackend", None),
    "sns": ("local_backends.sns:SNSBackend", None),
    "cloudformation": ("local_backends.cloudformation:CloudFormationBackend", "infra"),
    "sagemaker-featurestore-runtime": ("local_backends.featurestore_runtime:FeatureStoreRuntimeBackend", "data"),
}

registry = MappingProxyType(_REGISTRY)
"""Read-only view of the registry: service name -> (dotted path, extra)."""


def register(service: str, path: str, extra: str | None = None) -> None:
    """Add or replace the local backend of ``service`` (``"package.module:Class"``)."""
    _REGISTRY[service] = (path, extra)


def backend_class(service: str) -> type[Backend]:
    """The local backend class of ``service``; ``NotImplementedByBackend`` if there is none."""
    try:
        path, extra = _REGISTRY[service]
    except KeyError:
        raise NotImplementedByBackend(service, "*", "local") from None
    module_name, _, cls_name = path.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        hint = f" (pip install 'aws-ml[{extra}]')" if extra else ""
        raise ImportError(f"the local {service} backend needs {exc.name}{hint}") from exc
    return getattr(module, cls_name)


__all__ = ["AwsError", "Backend", "DEFAULT_ACCOUNT_ID", "NotImplementedByBackend", "Peers",
           "backend_class", "get_backend", "register", "registry"]

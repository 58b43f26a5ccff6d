"""Feature groups from DataFrames: inferred definitions, creation, waiting, flushing."""
from __future__ import annotations

import time
from typing import Any

DEFAULT_ROLE_ARN = "arn:aws:iam::123456789012:role/service-role/AmazonSageMaker-FeatureStore"
"""The role a local or emulated group is created with when none is given (AWS needs a
real one with access to the offline store's bucket)."""

RUNTIME = "sagemaker-featurestore-runtime"


def infer_feature_definitions(df) -> list[dict]:
    """Feature definitions for the columns of ``df``, as the SageMaker SDK infers them:
    integer and boolean columns are ``Integral``, floating-point ``Fractional``, anything
    else (strings, categories, datetimes) ``String``."""
    import pandas as pd

    defs = []
    for name, dtype in df.dtypes.items():
        if pd.api.types.is_bool_dtype(dtype) or pd.api.types.is_integer_dtype(dtype):
            kind = "Integral"
        elif pd.api.types.is_float_dtype(dtype):
            kind = "Fractional"
        else:
            kind = "String"
        defs.append({"FeatureName": str(name), "FeatureType": kind})
    return defs


def create_feature_group(session, name: str, df, record_id: str, event_time: str,
                         bucket: str | None = None, prefix: str = "featurestore",
                         role_arn: str | None = None, online: bool = True,
                         offline: bool = True, description: str | None = None,
                         wait: bool = True, timeout: float = 300.0, **extra: Any) -> dict:
    """Create the feature group of ``df``'s columns (definitions inferred) and, with
    ``wait``, return its description once it is ``Created``.

    ``record_id`` and ``event_time`` name columns of ``df``; the event time column must be
    a datetime column, ISO-8601 strings, or seconds since the epoch (floats). The offline
    store goes to ``s3://<bucket>/<prefix>``. ``extra`` is passed to
    ``CreateFeatureGroup`` as is (``Tags``, ``ThroughputConfig``...)."""
    for col, what in ((record_id, "record_id"), (event_time, "event_time")):
        if col not in df.columns:
            raise ValueError(f"The {what!r} parameter of create_feature_group must name a "
                             f"column of df. Got {col!r} instead.")
    if offline and not bucket:
        raise ValueError("The 'bucket' parameter of create_feature_group is required with "
                         "offline=True.")
    defs = infer_feature_definitions(df)
    for d in defs:  # an event time in datetime64 is ingested as ISO-8601 text
        if d["FeatureName"] == event_time and d["FeatureType"] == "Integral":
            d["FeatureType"] = "Fractional"
    params: dict[str, Any] = dict(FeatureGroupName=name, RecordIdentifierFeatureName=record_id,
                                  EventTimeFeatureName=event_time, FeatureDefinitions=defs,
                                  **extra)
    if online:
        params["OnlineStoreConfig"] = {"EnableOnlineStore": True}
    if offline:
        params["OfflineStoreConfig"] = {"S3StorageConfig": {"S3Uri": f"s3://{bucket}/{prefix.strip('/')}"}}
        params["RoleArn"] = role_arn or DEFAULT_ROLE_ARN
    if description:
        params["Description"] = description
    sm = session.client("sagemaker")
    sm.create_feature_group(**params)
    if not wait:
        return sm.describe_feature_group(FeatureGroupName=name)
    return wait_for_feature_group(session, name, timeout=timeout)


def wait_for_feature_group(session, name: str, timeout: float = 300.0, delay: float = 0.05,
                           max_delay: float = 5.0) -> dict:
    """Poll ``DescribeFeatureGroup`` until the group is ``Created`` (botocore has no waiter
    for feature groups), the delay doubling from ``delay`` to ``max_delay``;
    ``RuntimeError`` if creation fails or ``timeout`` passes."""
    sm = session.client("sagemaker")
    deadline = time.monotonic() + timeout
    while True:
        desc = sm.describe_feature_group(FeatureGroupName=name)
        status = desc["FeatureGroupStatus"]
        if status == "Created":
            return desc
        if status == "CreateFailed":
            raise RuntimeError(f"feature group {name} failed: {desc.get('FailureReason')}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"feature group {name} still {status} after {timeout} s")
        time.sleep(delay)
        delay = min(delay * 2, max_delay)


def flush(session, name: str | None = None) -> int | None:
    """Write the buffered offline-store rows of ``name`` (or of every group) to S3 now,
    when the runtime is served locally; returns the rows written, or ``None`` on AWS
    (which writes the offline store by itself within about fifteen minutes)."""
    if session.backend_for(RUNTIME) != "local":
        return None
    return session.router.backend(RUNTIME, session.region).flush(name)

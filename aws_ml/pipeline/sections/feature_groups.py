"""Section 4's feature groups: the pipeline's own (created, re-created when their
definitions change) and a stack's (checked, never deleted or re-created).

A group's definitions come from its DataFrame (:func:`aws_ml.features.infer_feature_definitions`,
after the ``feature_types`` of the pipeline file are applied), with ``event_time`` as a
``Fractional`` (seconds since the epoch).
"""
from __future__ import annotations

import time

from ..steps import StepContext

EVENT_TIME = "event_time"

WIDENING = {("Integral", "Fractional")}
"""(column's type, group's type) pairs that ingest without loss besides equal types."""


class FeatureGroupMismatch(ValueError):
    """A stack's feature group whose definitions cannot hold the source's columns."""


def cast_types(df, feature_types: dict[str, str]):
    """``df`` with the columns of ``feature_types`` cast so that their inferred Feature Store
    type is the one asked for (``Integral``: nullable integers, ``Fractional``: floats,
    ``String``: text)."""
    import pandas as pd

    out = df.copy()
    for column, kind in feature_types.items():
        s = out[column]
        if kind == "Fractional":
            out[column] = s.astype("float64")
        elif kind == "Integral":
            whole = s.dropna()
            if pd.api.types.is_float_dtype(s) and not (whole == whole.round()).all():
                raise ValueError(f"column {column!r} holds non-integer values; it cannot be an Integral feature")
            out[column] = s.astype("Int64")
        else:
            out[column] = s.astype("string")
    return out


def wanted_definitions(df) -> dict[str, str]:
    """``{feature: type}`` of a group for ``df`` (which holds the ``event_time`` column)."""
    from aws_ml.features import infer_feature_definitions

    wanted = {d["FeatureName"]: d["FeatureType"] for d in infer_feature_definitions(df)}
    wanted[EVENT_TIME] = "Fractional"
    return wanted


def describe_feature_group(ctx: StepContext, name: str) -> dict | None:
    """``DescribeFeatureGroup``, or ``None`` when there is no such group."""
    sm = ctx.session.client("sagemaker")
    try:
        return sm.describe_feature_group(FeatureGroupName=name)
    except sm.exceptions.ResourceNotFound:
        return None
    except KeyError:
        # moto's DescribeFeatureGroup raises KeyError for an unknown group (a moto gap,
        # see tests/contract/test_featurestore); AWS and local answer ResourceNotFound
        if ctx.session.backend_for("sagemaker") != "moto":
            raise
        return None
    except sm.exceptions.ClientError as exc:
        # the same moto gap through a moto server: that KeyError becomes an HTTP 500
        if ctx.session.backend_for("sagemaker") != "moto" or \
                exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") != 500:
            raise
        return None


def differences(desc: dict, wanted: dict[str, str], record_id: str) -> list[str]:
    """What keeps the group ``desc`` from holding columns of types ``wanted`` keyed by
    ``record_id``: one phrase per differing feature (empty: it can)."""
    have = {d["FeatureName"]: d["FeatureType"] for d in desc["FeatureDefinitions"]}
    out = []
    if desc["RecordIdentifierFeatureName"] != record_id:
        out.append(f"record identifier {desc['RecordIdentifierFeatureName']!r} (the step needs {record_id!r})")
    if desc["EventTimeFeatureName"] != EVENT_TIME:
        out.append(f"event time feature {desc['EventTimeFeatureName']!r} (the step needs {EVENT_TIME!r})")
    for feature, kind in wanted.items():
        if feature not in have:
            out.append(f"{feature} (missing from the group; the source has it as {kind})")
        elif have[feature] != kind and (kind, have[feature]) not in WIDENING:
            out.append(f"{feature} ({have[feature]} in the group, {kind} in the source)")
    return out


def use_stack_group(ctx: StepContext, name: str, df, record_id: str) -> dict:
    """The stack's group ``name``, checked against ``df``: it must exist, be ``Created``
    and hold every column with a compatible type (``FeatureGroupMismatch`` naming the group
    and the differing features otherwise). Never deleted, never re-created."""
    stack = ctx.spec.artifacts.stack
    desc = describe_feature_group(ctx, name)
    if desc is None:
        raise FeatureGroupMismatch(f"feature group {name} of stack {stack!r} does not exist "
                                   "(deleted outside the stack?); redeploy the stack")
    if desc["FeatureGroupStatus"] != "Created":
        raise FeatureGroupMismatch(f"feature group {name} of stack {stack!r} is {desc['FeatureGroupStatus']}, "
                                   "not Created")
    diff = differences(desc, wanted_definitions(df), record_id)
    if diff:
        raise FeatureGroupMismatch(f"feature group {name} of stack {stack!r} does not fit the source's columns: "
                                   + "; ".join(diff))
    if not desc.get("OfflineStoreConfig"):
        raise FeatureGroupMismatch(f"feature group {name} of stack {stack!r} has no offline store "
                                   "(the training set is read from it)")
    return desc


def own_group(ctx: StepContext, name: str, df, record_id: str, online: bool) -> dict:
    """The pipeline's group ``name`` for ``df``: reused when it has the same definitions
    (a re-run, or a run killed after creating it), else deleted and created again."""
    from aws_ml.features import create_feature_group, wait_for_feature_group

    sm = ctx.session.client("sagemaker")
    wanted = wanted_definitions(df)
    desc = describe_feature_group(ctx, name)
    if desc is not None:
        if desc["FeatureGroupStatus"] == "Creating":
            desc = wait_for_feature_group(ctx.session, name)
        have = {d["FeatureName"]: d["FeatureType"] for d in desc["FeatureDefinitions"]}
        same = (have == wanted and desc["RecordIdentifierFeatureName"] == record_id
                and bool(desc.get("OnlineStoreConfig")) == online and desc["FeatureGroupStatus"] == "Created")
        if same:
            return desc
        ctx.log(f"feature group {name}: definitions changed, re-creating it")
        sm.delete_feature_group(FeatureGroupName=name)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and describe_feature_group(ctx, name) is not None:
            time.sleep(0.1)
    ctx.ensure_bucket()
    return create_feature_group(ctx.session, name, df, record_id=record_id, event_time=EVENT_TIME,
                                bucket=ctx.bucket, prefix=ctx.key("featurestore"), online=online,
                                role_arn=ctx.spec.artifacts.role_arn,
                                description=f"features of pipeline {ctx.spec.name}")


def group_exists(ctx: StepContext, name: str) -> bool:
    desc = describe_feature_group(ctx, name)
    return desc is not None and desc["FeatureGroupStatus"] == "Created"

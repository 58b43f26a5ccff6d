"""A pipeline run on a deployed stack: ``aws-ml run PIPELINE --stack NAME`` (or
``run(..., stack="NAME")``, or ``artifacts.stack`` in the file).

The stack's outputs (``describe_stacks`` on the session's backend; the names are those of
``infra/core.yaml``) replace what the pipeline file says:

==========================  ==========================================================
output                      replaces
==========================  ==========================================================
``DataBucketName``          ``artifacts.bucket`` (artefacts, offline stores, run state)
``SageMakerRoleArn``        ``artifacts.role_arn`` (training, tuning, endpoints)
``AthenaWorkGroupName``     ``artifacts.athena_workgroup`` (with an ``evaluation`` section)
``GlueDatabaseName``        ``artifacts.glue_database`` (with an ``evaluation`` section)
``AlarmTopicArn``           ``artifacts.alarm_topic_arn`` (with monitoring alarms)
``features.groups[i].stack_output``  the name of that feature group
==========================  ==========================================================

A stack that does not exist, is not in a usable state, or lacks an output the pipeline
needs fails before any work with :class:`StackError` (one line naming the stack and the
output). Feature groups named by the stack belong to it: the features step ingests into
them and never deletes or re-creates them (see :mod:`aws_ml.pipeline.sections.feature_groups`).
"""
from __future__ import annotations

from botocore.exceptions import ClientError

from .spec import PipelineSpec

USABLE = ("CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE", "IMPORT_COMPLETE",
          "IMPORT_ROLLBACK_COMPLETE")
"""Stack states whose resources and outputs are all there."""

ARTIFACT_OUTPUTS = {"bucket": "DataBucketName", "role_arn": "SageMakerRoleArn",
                    "athena_workgroup": "AthenaWorkGroupName", "glue_database": "GlueDatabaseName",
                    "alarm_topic_arn": "AlarmTopicArn", "metrics_namespace": "MetricsNamespace"}
"""``artifacts`` field → the core stack's output that sets it."""


class StackError(ValueError):
    """The stack a run is bound to cannot serve it (one line: the stack and the output)."""


def stack_outputs(session, stack: str) -> dict[str, str]:
    """The outputs of the live stack ``stack`` (``StackError`` if there is none, or it is
    not in a usable state)."""
    cf = session.client("cloudformation")
    try:
        desc = cf.describe_stacks(StackName=stack)["Stacks"][0]
    except ClientError as exc:
        error = exc.response["Error"]
        if error.get("Code") == "ValidationError" and "does not exist" in error.get("Message", ""):
            raise StackError(f"stack {stack!r} does not exist on backend {session.backend_for('cloudformation')} "
                             f"(region {session.region})") from None
        raise
    status = desc["StackStatus"]
    if status not in USABLE:
        raise StackError(f"stack {stack!r} is {status}; expected one of {', '.join(USABLE)}")
    out = {o["OutputKey"]: o["OutputValue"] for o in desc.get("Outputs", [])}
    # the stack's alarms watch the metrics of its Environment (infra/core.yaml)
    out.update({f"Parameter:{p['ParameterKey']}": p["ParameterValue"] for p in desc.get("Parameters", [])
                if "ParameterValue" in p})
    return out


def needed_outputs(spec: PipelineSpec) -> dict[str, str]:
    """``{output key: what needs it}`` for ``spec``: the bucket and the role always, the
    work group and database with an evaluation section, the alarm topic with monitoring
    alarms, and each feature group's ``stack_output``."""
    needed = {"DataBucketName": "artifacts.bucket", "SageMakerRoleArn": "artifacts.role_arn"}
    if spec.evaluation is not None and spec.evaluation.enabled:
        needed["AthenaWorkGroupName"] = "artifacts.athena_workgroup"
        needed["GlueDatabaseName"] = "artifacts.glue_database"
    if spec.monitoring is not None and spec.monitoring.enabled and spec.monitoring.alarms:
        needed["AlarmTopicArn"] = "artifacts.alarm_topic_arn"
    if spec.features is not None:
        for i, g in enumerate(spec.features.groups):
            if g.stack_output:
                needed[g.stack_output] = f"features.groups[{i}].stack_output"
    return needed


def apply_stack(spec: PipelineSpec, session, stack: str | None = None) -> PipelineSpec:
    """``spec`` with the outputs of ``stack`` (default: ``spec.artifacts.stack``) in place
    of the names the file gives; ``spec`` itself when there is no stack."""
    stack = stack or spec.artifacts.stack
    if not stack:
        return spec
    outputs = stack_outputs(session, stack)
    for key, user in needed_outputs(spec).items():
        if not outputs.get(key):
            raise StackError(f"stack {stack!r} has no output {key!r} (needed for {user}; its outputs: "
                             f"{', '.join(sorted(k for k in outputs if ':' not in k)) or 'none'})")
    data = spec.to_dict()
    artifacts = data["artifacts"]
    artifacts["stack"] = stack
    for field_name, key in ARTIFACT_OUTPUTS.items():
        if outputs.get(key):
            artifacts[field_name] = outputs[key]
    if outputs.get("MetricsNamespace") and outputs.get("Parameter:Environment"):
        artifacts["metrics_dimensions"] = {"Environment": outputs["Parameter:Environment"]}
    if data.get("features"):
        for group in data["features"]["groups"]:
            if group["stack_output"]:
                group["name"] = outputs[group["stack_output"]]
    return PipelineSpec.from_dict(data, source=spec.source)


def stack_owned(spec: PipelineSpec, group) -> bool:
    """Whether the feature group ``group`` (a ``FeatureGroupSpec``) belongs to the stack the
    run is bound to (then it is never deleted or re-created)."""
    return bool(spec.artifacts.stack and group.stack_output)

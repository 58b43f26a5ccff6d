"""Stacks, resources and events as the CloudFormation API shows them."""
from __future__ import annotations

import json
from datetime import datetime, timezone

from . import parameters, template as templates


def dt(ts: float | None) -> datetime | None:
    return None if ts is None else datetime.fromtimestamp(ts, timezone.utc)


def stack(row) -> dict:
    template = templates.load(row["template"])
    options = json.loads(row["options"])
    out = {
        "StackId": row["id"], "StackName": row["name"],
        "Parameters": parameters.shown(template, json.loads(row["parameters"])),
        "CreationTime": dt(row["created"]),
        "RollbackConfiguration": {},
        "StackStatus": row["status"],
        "DisableRollback": options.get("OnFailure", "ROLLBACK") == "DO_NOTHING",
        "NotificationARNs": options.get("NotificationARNs", []),
        "Capabilities": json.loads(row["capabilities"]),
        "Outputs": json.loads(row["outputs"]),
        "Tags": json.loads(row["tags"]),
        "EnableTerminationProtection": bool(options.get("EnableTerminationProtection", False)),
        "DriftInformation": {"StackDriftStatus": "NOT_CHECKED"},
    }
    for key, value in (("Description", row["description"]), ("StackStatusReason", row["reason"]),
                       ("LastUpdatedTime", dt(row["updated"])), ("DeletionTime", dt(row["deleted"])),
                       ("TimeoutInMinutes", options.get("TimeoutInMinutes")),
                       ("RoleARN", options.get("RoleARN"))):
        if value is not None:
            out[key] = value
    if not out["Outputs"]:
        del out["Outputs"]
    return out


def summary(row) -> dict:
    out = {"StackId": row["id"], "StackName": row["name"], "CreationTime": dt(row["created"]),
           "StackStatus": row["status"], "DriftInformation": {"StackDriftStatus": "NOT_CHECKED"}}
    for key, value in (("TemplateDescription", row["description"]), ("StackStatusReason", row["reason"]),
                       ("LastUpdatedTime", dt(row["updated"])), ("DeletionTime", dt(row["deleted"]))):
        if value is not None:
            out[key] = value
    return out


def resource(row, stack_name: str, *, detail: bool = False, summary_form: bool = False) -> dict:
    out = {"LogicalResourceId": row["logical_id"], "ResourceType": row["type"],
           "ResourceStatus": row["status"]}
    if row["physical_id"] is not None:
        out["PhysicalResourceId"] = row["physical_id"]
    if row["reason"] is not None:
        out["ResourceStatusReason"] = row["reason"]
    if summary_form:
        out["LastUpdatedTimestamp"] = dt(row["updated"])
        out["DriftInformation"] = {"StackResourceDriftStatus": "NOT_CHECKED"}
        return out
    out.update(StackName=stack_name, StackId=row["stack_id"],
               DriftInformation={"StackResourceDriftStatus": "NOT_CHECKED"})
    if detail:
        out["LastUpdatedTimestamp"] = dt(row["updated"])
        out["Metadata"] = "{}"
    else:
        out["Timestamp"] = dt(row["updated"])
    return out


def event(row, stack_name: str) -> dict:
    out = {"StackId": row["stack_id"], "EventId": row["id"], "StackName": stack_name,
           "LogicalResourceId": row["logical_id"], "ResourceType": row["type"],
           "Timestamp": dt(row["ts"]), "ResourceStatus": row["status"]}
    if row["physical_id"] is not None:
        out["PhysicalResourceId"] = row["physical_id"]
    if row["reason"] is not None:
        out["ResourceStatusReason"] = row["reason"]
    if row["properties"] is not None:
        out["ResourceProperties"] = row["properties"]
    return out

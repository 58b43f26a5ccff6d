"""``aws-ml infra``: the project's CloudFormation templates from the command line.

``validate`` checks a template, ``deploy`` creates or updates a stack and shows each
resource's progress (from ``describe_stack_events``), ``diff`` shows a change set's changes
as a table, ``outputs`` prints the stack's outputs and ``destroy`` deletes it. The session is
the one ``aws-ml``'s options describe (``--backend``, ``--region``, ``--home``...).

Mounted in ``aws_ml/cli.py`` with ``app.add_typer(infra_app, name="infra")``.
"""
from __future__ import annotations

import json
import time
import uuid
from pathlib import Path
from typing import Optional

import typer
from botocore.exceptions import ClientError, WaiterError
from rich.console import Console
from rich.table import Table

app = typer.Typer(help="Deploy the project's CloudFormation templates (infra/*.yaml).",
                  no_args_is_help=True)
out = Console()
err = Console(stderr=True)

DEFAULT_TEMPLATE = Path("infra/core.yaml")
TERMINAL = ("_COMPLETE", "_FAILED")
FAILED_STATES = {"CREATE_FAILED", "ROLLBACK_COMPLETE", "ROLLBACK_FAILED", "DELETE_FAILED",
                 "UPDATE_ROLLBACK_COMPLETE", "UPDATE_ROLLBACK_FAILED", "UPDATE_FAILED"}
STYLES = {"COMPLETE": "green", "IN_PROGRESS": "yellow", "FAILED": "red", "SKIPPED": "dim"}

StackOpt = typer.Option(..., "--stack", "-s", help="the stack's name")
TemplateOpt = typer.Option(DEFAULT_TEMPLATE, "--template", "-t", exists=True, dir_okay=False,
                           help="the template file (YAML or JSON)")
ParameterOpt = typer.Option(None, "--parameter", "-p", help="Key=Value (repeatable)")
CapabilityOpt = typer.Option(None, "--capability",
                             help="acknowledge a capability (repeatable; default: what the template needs)")


def _session():
    from .cli import state  # the parent app's options; imported late: cli.py mounts this app

    return state.session()


def _fail(message: str) -> None:
    err.print(f"[red]error:[/red] {message}", highlight=False)
    raise typer.Exit(1)


def _parameters(pairs: Optional[list[str]]) -> list[dict]:
    params = []
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise typer.BadParameter(f"{pair!r} is not Key=Value", param_hint="--parameter")
        params.append({"ParameterKey": key, "ParameterValue": value})
    return params


def _deleted_buckets(cf, stack_id: str) -> list[str]:
    """The stack's S3 buckets that its deletion deletes (no ``DeletionPolicy: Retain``)."""
    body = cf.get_template(StackName=stack_id)["TemplateBody"]
    resources = (body if isinstance(body, dict) else _read_template(body)).get("Resources", {})
    return [r["PhysicalResourceId"] for r in cf.describe_stack_resources(StackName=stack_id)["StackResources"]
            if r["ResourceType"] == "AWS::S3::Bucket" and r.get("PhysicalResourceId")
            and resources.get(r["LogicalResourceId"], {}).get("DeletionPolicy") not in ("Retain", "RetainExceptOnCreate")]


def _read_template(text: str) -> dict:
    """A template's YAML (or JSON), the ``!Ref``-style tags read as plain values: enough to
    see each resource's ``DeletionPolicy``."""
    import yaml

    class Loader(yaml.SafeLoader):
        pass

    def tagged(loader, tag_suffix, node):
        if isinstance(node, yaml.ScalarNode):
            return loader.construct_scalar(node)
        if isinstance(node, yaml.SequenceNode):
            return loader.construct_sequence(node, deep=True)
        return loader.construct_mapping(node, deep=True)

    Loader.add_multi_constructor("!", tagged)
    return yaml.load(text, Loader=Loader) or {}


def _empty_bucket(session, bucket: str) -> int:
    """Delete every object version and delete marker of ``bucket``; how many."""
    s3 = session.client("s3")
    n = 0
    try:
        for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
            keys = [{"Key": v["Key"], "VersionId": v["VersionId"]}
                    for v in page.get("Versions", []) + page.get("DeleteMarkers", [])]
            for i in range(0, len(keys), 1000):
                s3.delete_objects(Bucket=bucket, Delete={"Objects": keys[i:i + 1000], "Quiet": True})
            n += len(keys)
    except s3.exceptions.NoSuchBucket:
        return 0
    return n


def _stack(cf, name: str) -> dict | None:
    """The live stack called ``name`` (None if there is none)."""
    try:
        stack = cf.describe_stacks(StackName=name)["Stacks"][0]
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "ValidationError" and "does not exist" in str(exc):
            return None
        raise
    return None if stack["StackStatus"] in ("DELETE_COMPLETE", "REVIEW_IN_PROGRESS") else stack


def _style(status: str) -> str:
    return next((s for k, s in STYLES.items() if status.endswith(k)), "white")


def _follow(cf, stack_id: str, seen: set[str], delay: float) -> dict:
    """Print the stack's new events until it reaches a terminal status; return the stack."""
    with out.status(f"waiting for {stack_id.split('/')[1] if '/' in stack_id else stack_id}") as status:
        while True:
            events = []
            for page in cf.get_paginator("describe_stack_events").paginate(StackName=stack_id):
                fresh = [e for e in page["StackEvents"] if e["EventId"] not in seen]
                events += fresh
                if len(fresh) < len(page["StackEvents"]):
                    break
            for event in reversed(events):  # the API gives the newest first
                seen.add(event["EventId"])
                s = event["ResourceStatus"]
                reason = event.get("ResourceStatusReason") or ""
                out.print(f"{event['Timestamp']:%H:%M:%S} [{_style(s)}]{s:<19}[/] {event['LogicalResourceId']} "
                          f"[dim]{event['ResourceType']}[/dim] {reason}".rstrip(), highlight=False)
            stack = cf.describe_stacks(StackName=stack_id)["Stacks"][0]
            status.update(f"{stack['StackName']}: {stack['StackStatus']}")
            if stack["StackStatus"].endswith(TERMINAL):
                return stack
            time.sleep(delay)


def _existing_events(cf, stack_id: str) -> set[str]:
    return {e["EventId"] for page in cf.get_paginator("describe_stack_events").paginate(StackName=stack_id)
            for e in page["StackEvents"]}


@app.command()
def validate(template: Path = TemplateOpt) -> None:
    """Check a template (CloudFormation's ValidateTemplate) and list its parameters."""
    with _session() as session:
        try:
            info = session.client("cloudformation").validate_template(TemplateBody=template.read_text())
        except ClientError as exc:
            _fail(f"{template}: {exc.response['Error']['Message']}")
    table = Table("Parameter", "Default", "Description", title=f"{template} is valid")
    for p in info.get("Parameters", []):
        table.add_row(p["ParameterKey"], p.get("DefaultValue", ""), p.get("Description", ""))
    out.print(table)
    if info.get("Capabilities"):
        out.print(f"needs: {', '.join(info['Capabilities'])}  ({info.get('CapabilitiesReason', '')})")


@app.command()
def deploy(stack: str = StackOpt, template: Path = TemplateOpt, parameter: Optional[list[str]] = ParameterOpt,
           capability: Optional[list[str]] = CapabilityOpt,
           poll: float = typer.Option(1.0, "--poll", help="seconds between progress polls")) -> None:
    """Create the stack, or update it, and show each resource's progress."""
    params = _parameters(parameter)
    body = template.read_text()
    with _session() as session:
        cf = session.client("cloudformation")
        try:
            caps = capability or cf.validate_template(TemplateBody=body).get("Capabilities", [])
            current = _stack(cf, stack)
            if current is None:
                stack_id = cf.create_stack(StackName=stack, TemplateBody=body, Parameters=params,
                                           Capabilities=caps)["StackId"]
                seen: set[str] = set()
            else:
                stack_id = current["StackId"]
                seen = _existing_events(cf, stack_id)
                try:
                    cf.update_stack(StackName=stack, TemplateBody=body, Parameters=params, Capabilities=caps)
                except ClientError as exc:
                    if "No updates are to be performed" in exc.response["Error"]["Message"]:
                        out.print(f"{stack}: no changes")
                        return
                    raise
            final = _follow(cf, stack_id, seen, poll)
        except ClientError as exc:
            _fail(f"{exc.response['Error']['Code']}: {exc.response['Error']['Message']}")
    if final["StackStatus"] in FAILED_STATES or final["StackStatus"].endswith("_FAILED"):
        _fail(f"{stack}: {final['StackStatus']} {final.get('StackStatusReason', '')}")
    out.print(f"[green]{stack}: {final['StackStatus']}[/green]")


@app.command()
def diff(stack: str = StackOpt, template: Path = TemplateOpt, parameter: Optional[list[str]] = ParameterOpt,
         capability: Optional[list[str]] = CapabilityOpt) -> None:
    """What deploying would change: a change set's changes as a table (the change set is deleted)."""
    params = _parameters(parameter)
    body = template.read_text()
    with _session() as session:
        cf = session.client("cloudformation")
        try:
            caps = capability or cf.validate_template(TemplateBody=body).get("Capabilities", [])
            kind = "UPDATE" if _stack(cf, stack) else "CREATE"
            name = f"aws-ml-diff-{uuid.uuid4().hex[:12]}"
            cs = cf.create_change_set(StackName=stack, ChangeSetName=name, TemplateBody=body, Parameters=params,
                                      Capabilities=caps, ChangeSetType=kind)
            try:
                cf.get_waiter("change_set_create_complete").wait(
                    ChangeSetName=cs["Id"], WaiterConfig={"Delay": 1, "MaxAttempts": 600})
            except WaiterError:
                pass
            described = cf.describe_change_set(ChangeSetName=cs["Id"])
            changes = []
            for page in cf.get_paginator("describe_change_set").paginate(ChangeSetName=cs["Id"]):
                changes += [c["ResourceChange"] for c in page["Changes"]]
            cf.delete_change_set(ChangeSetName=cs["Id"])
            if kind == "CREATE":  # a CREATE change set leaves a REVIEW_IN_PROGRESS stack behind
                cf.delete_stack(StackName=cs["StackId"])
                # gone before we return, so that a deploy right after creates the stack anew
                cf.get_waiter("stack_delete_complete").wait(StackName=cs["StackId"])
        except ClientError as exc:
            _fail(f"{exc.response['Error']['Code']}: {exc.response['Error']['Message']}")
    if described["Status"] == "FAILED":
        reason = described.get("StatusReason", "")
        if "didn't contain changes" in reason or "No updates" in reason:
            out.print(f"{stack}: no changes")
            return
        _fail(f"change set failed: {reason}")
    table = Table("Action", "Logical ID", "Type", "Physical ID", "Replacement",
                  title=f"{stack}: {len(changes)} change(s) ({kind.lower()})")
    for c in changes:
        table.add_row(c["Action"], c["LogicalResourceId"], c["ResourceType"], c.get("PhysicalResourceId", ""),
                      c.get("Replacement", ""))
    out.print(table)


@app.command()
def outputs(stack: str = StackOpt,
            as_json: bool = typer.Option(False, "--json", help="print {key: value} as JSON")) -> None:
    """The stack's outputs (and their export names)."""
    with _session() as session:
        cf = session.client("cloudformation")
        try:
            found = _stack(cf, stack)
        except ClientError as exc:
            _fail(f"{exc.response['Error']['Code']}: {exc.response['Error']['Message']}")
    if found is None:
        _fail(f"Stack with id {stack} does not exist")
    items = found.get("Outputs", [])
    if as_json:
        out.print_json(json.dumps({o["OutputKey"]: o["OutputValue"] for o in items}))
        return
    table = Table("Output", "Value", "Export", title=f"{stack} ({found['StackStatus']})")
    for o in items:
        table.add_row(o["OutputKey"], o["OutputValue"], o.get("ExportName", ""))
    out.print(table)


@app.command()
def destroy(stack: str = StackOpt, yes: bool = typer.Option(False, "--yes", "-y", help="do not ask"),
            poll: float = typer.Option(1.0, "--poll", help="seconds between progress polls"),
            empty_buckets: bool = typer.Option(
                False, "--empty-buckets", help="first delete every object version of the stack's buckets that "
                                               "are not retained (CloudFormation cannot delete a bucket that "
                                               "holds objects)")) -> None:
    """Delete the stack (resources with DeletionPolicy Retain are kept) and show the progress."""
    with _session() as session:
        cf = session.client("cloudformation")
        try:
            found = _stack(cf, stack)
            if found is None:
                _fail(f"Stack with id {stack} does not exist")
            buckets = _deleted_buckets(cf, found["StackId"]) if empty_buckets else []
            if not yes:
                what = f" and empty its bucket(s) {', '.join(buckets)}" if buckets else ""
                typer.confirm(f"Delete stack {stack}{what}?", abort=True)
            for bucket in buckets:
                n = _empty_bucket(session, bucket)
                out.print(f"emptied s3://{bucket} ({n} object versions deleted)")
            seen = _existing_events(cf, found["StackId"])
            cf.delete_stack(StackName=found["StackId"])
            final = _follow(cf, found["StackId"], seen, poll)
        except ClientError as exc:
            _fail(f"{exc.response['Error']['Code']}: {exc.response['Error']['Message']}")
    if final["StackStatus"] != "DELETE_COMPLETE":
        _fail(f"{stack}: {final['StackStatus']} {final.get('StackStatusReason', '')}")
    out.print(f"[green]{stack}: DELETE_COMPLETE[/green]")

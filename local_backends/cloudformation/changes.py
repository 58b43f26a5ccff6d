"""What an update would change, resource by resource (change sets, and the no-op check)."""
from __future__ import annotations

from typing import Any

from . import analysis
from .engine import StackRun
from .intrinsics import ResolveError
from .resources import RESOURCE_TYPES


def _details(old: dict, new: dict, replace_on: set[str]) -> list[dict]:
    out = []
    for name in sorted(set(old) | set(new)):
        if old.get(name) != new.get(name):
            out.append({"Target": {"Attribute": "Properties", "Name": name,
                                   "RequiresRecreation": "Always" if name in replace_on else "Never"},
                        "Evaluation": "Static", "ChangeSource": "DirectModification"})
    return out


def resource_changes(run: StackRun, template: dict, values: dict[str, str]) -> list[dict]:
    """``Changes`` entries (``ResourceChange``) of moving ``run``'s stack to ``template``."""
    resolver = run.resolver(template, values)
    try:
        active = analysis.active(template, resolver.scope)
    except ResolveError:
        active = {name: True for name in template["Resources"]}
    changes: list[dict[str, Any]] = []
    for logical_id in analysis.plan(template).order:
        if not active[logical_id]:
            continue
        spec = template["Resources"][logical_id]
        previous = run.live.get(logical_id)
        change: dict[str, Any] = {"LogicalResourceId": logical_id, "ResourceType": spec["Type"]}
        if previous is None:
            changes.append({**change, "Action": "Add"})
            continue
        change["PhysicalResourceId"] = previous["physical_id"]
        cls = RESOURCE_TYPES.get(spec["Type"])
        try:
            props = resolver.resolve(spec.get("Properties", {}))
        except ResolveError:
            changes.append({**change, "Action": "Modify", "Replacement": "Conditional",
                            "Scope": ["Properties"], "Details": []})
            continue
        if props == previous["properties"] and spec["Type"] == previous["type"]:
            continue
        replace_on = set(cls.replace_on) | ({cls.name_property} if cls and cls.name_property else set()) \
            if cls else set()
        replaced = cls is None or spec["Type"] != previous["type"] or \
            cls(None).requires_replacement(previous["properties"], props)
        changes.append({**change, "Action": "Modify", "Replacement": "True" if replaced else "False",
                        "Scope": ["Properties"],
                        "Details": _details(previous["properties"], props, replace_on)})
    for logical_id, previous in run.live.items():
        if logical_id not in template["Resources"] or not active.get(logical_id, False):
            changes.append({"Action": "Remove", "LogicalResourceId": logical_id,
                            "PhysicalResourceId": previous["physical_id"], "ResourceType": previous["type"],
                            "Scope": [], "Details": []})
    return [{"Type": "Resource", "ResourceChange": c} for c in changes]


def outputs_change(run: StackRun, template: dict, values: dict[str, str], current: list[dict]) -> bool:
    try:
        return run.outputs(template, run.resolver(template, values)) != current
    except Exception:  # unresolvable until the update runs: it is a change
        return True

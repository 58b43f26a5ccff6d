"""Dependencies between resources (``Ref``, ``Fn::GetAtt``, ``Fn::Sub``, ``DependsOn``) and
the order they are created in."""
from __future__ import annotations

import graphlib
from typing import Any

from .errors import template_error
from .intrinsics import SUB_VARIABLE


def references(value: Any, names: frozenset[str] | set[str]) -> set[str]:
    """The resources among ``names`` that ``value`` refers to."""
    found: set[str] = set()

    def walk(v: Any) -> None:
        if isinstance(v, list):
            for item in v:
                walk(item)
        elif isinstance(v, dict):
            for key, arg in v.items():
                if key == "Ref" and isinstance(arg, str):
                    if arg in names:
                        found.add(arg)
                elif key == "Fn::GetAtt":
                    target = arg.split(".", 1)[0] if isinstance(arg, str) else \
                        arg[0] if isinstance(arg, list) and arg else None
                    if target in names:
                        found.add(target)
                    walk(arg)
                elif key == "Fn::Sub":
                    text, variables = (arg, {}) if isinstance(arg, str) else \
                        (arg[0], arg[1]) if isinstance(arg, list) and len(arg) == 2 else ("", {})
                    if isinstance(text, str):
                        for match in SUB_VARIABLE.finditer(text):
                            var = match.group(1).strip()
                            if var.startswith("!") or var in variables:
                                continue
                            head = var.split(".", 1)[0]
                            if head in names:
                                found.add(head)
                    walk(variables)
                else:
                    walk(arg)
    walk(value)
    return found


def dependencies(resources: dict[str, dict]) -> dict[str, set[str]]:
    """Each resource's dependencies; a ``ValidationError`` for unknown names."""
    names = frozenset(resources)
    deps: dict[str, set[str]] = {}
    for name, resource in resources.items():
        depends_on = resource.get("DependsOn", [])
        if isinstance(depends_on, str):
            depends_on = [depends_on]
        unknown = [d for d in depends_on if d not in names]
        if unknown:
            raise template_error(f"Unresolved resource dependencies [{', '.join(unknown)}] in the "
                                 "Resources block of the template")
        deps[name] = set(depends_on) | references(resource.get("Properties", {}), names)
    return deps


def creation_order(deps: dict[str, set[str]]) -> list[str]:
    """Resources in an order where each comes after what it depends on."""
    sorter = graphlib.TopologicalSorter(deps)
    try:
        return list(sorter.static_order())
    except graphlib.CycleError as exc:
        cycle = sorted(set(exc.args[1]))
        raise template_error(f"Circular dependency between resources: [{', '.join(cycle)}]") from None

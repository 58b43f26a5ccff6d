"""The constraints botocore leaves to the service: max lengths, max values, enums, patterns.

botocore's ``ParamValidator`` checks types, required members and minimums. AWS itself
rejects the rest with a message of a fixed form::

    1 validation error detected: Value 'x' at 'logGroupName' failed to satisfy
    constraint: Member must satisfy regular expression pattern: [\\.\\-_/#A-Za-z0-9]+
"""
from __future__ import annotations

import functools
import re
from typing import Any

from botocore.model import Shape


@functools.lru_cache(maxsize=4096)
def _compile(pattern: str) -> re.Pattern | None:
    try:
        return re.compile(pattern, re.DOTALL)
    except re.error:  # a Java-only construct (\p{...}): left unchecked, as documented
        return None


def _member_path(prefix: str, name: str) -> str:
    name = name[:1].lower() + name[1:]
    return f"{prefix}.{name}" if prefix else name


def constraint_violations(params: dict, shape: Shape | None) -> list[str]:
    """Every constraint of ``shape`` that ``params`` breaks, in AWS's wording."""
    problems: list[str] = []
    if shape is not None:
        _walk(params, shape, "", problems, depth=0)
    return problems


def _walk(value: Any, shape: Shape, path: str, out: list[str], depth: int) -> None:
    if depth > 20 or value is None:
        return
    t = shape.type_name
    meta = shape.metadata
    if t == "structure" and isinstance(value, dict):
        for name, member in shape.members.items():
            if name in value:
                _walk(value[name], member, _member_path(path, name), out, depth + 1)
    elif t == "list" and isinstance(value, (list, tuple)):
        if "max" in meta and len(value) > meta["max"]:
            out.append(f"Value '{_short(value)}' at '{path}' failed to satisfy constraint: "
                       f"Member must have length less than or equal to {meta['max']}")
        for i, item in enumerate(value):
            _walk(item, shape.member, f"{path}.{i + 1}.member", out, depth + 1)
    elif t == "map" and isinstance(value, dict):
        if "max" in meta and len(value) > meta["max"]:
            out.append(f"Value '{_short(value)}' at '{path}' failed to satisfy constraint: "
                       f"Map value must have length less than or equal to {meta['max']}")
        for k, v in value.items():
            _walk(k, shape.key, f"{path}.{k}.key", out, depth + 1)
            _walk(v, shape.value, f"{path}.{k}.value", out, depth + 1)
    elif t == "string" and isinstance(value, str):
        if "max" in meta and len(value) > meta["max"]:
            out.append(f"Value '{_short(value)}' at '{path}' failed to satisfy constraint: "
                       f"Member must have length less than or equal to {meta['max']}")
        enum = shape.enum
        if enum and value not in enum:
            out.append(f"Value '{_short(value)}' at '{path}' failed to satisfy constraint: "
                       f"Member must satisfy enum value set: [{', '.join(enum)}]")
        pattern = meta.get("pattern")
        if pattern:
            rx = _compile(pattern)
            if rx is not None and not rx.fullmatch(value):
                out.append(f"Value '{_short(value)}' at '{path}' failed to satisfy constraint: "
                           f"Member must satisfy regular expression pattern: {pattern}")
    elif t in ("integer", "long", "double", "float") and isinstance(value, (int, float)):
        if "max" in meta and value > meta["max"]:
            out.append(f"Value '{value}' at '{path}' failed to satisfy constraint: "
                       f"Member must have value less than or equal to {meta['max']}")


def _short(value: Any) -> str:
    text = str(value)
    return text if len(text) <= 200 else text[:197] + "..."


def validation_message(problems: list[str]) -> str:
    n = len(problems)
    noun = "error" if n == 1 else "errors"
    return f"{n} validation {noun} detected: " + "; ".join(problems)

"""Template parameters: declared types, defaults, constraints, ``NoEcho``, previous values."""
from __future__ import annotations

import re
from typing import Any

from .errors import ValidationError

TYPES = {"String", "Number", "List<Number>", "CommaDelimitedList"}
AWS_TYPES = re.compile(r"^(List<)?AWS::EC2::[A-Za-z:]+>?$")


def declared(template: dict) -> dict[str, dict]:
    params = template.get("Parameters", {})
    for name, spec in params.items():
        if not isinstance(spec, dict) or "Type" not in spec:
            raise ValidationError("Template format error: Every Parameters object must contain a Type member.")
        if spec["Type"] not in TYPES and not AWS_TYPES.match(spec["Type"]):
            raise ValidationError(f"Template format error: Unrecognized parameter type: {spec['Type']}")
    return params


def _check(name: str, spec: dict, value: str) -> Any:
    """The typed value of one parameter, or CloudFormation's ValidationError."""
    kind = spec["Type"]
    items = [v.strip() if kind == "List<Number>" else v for v in value.split(",")] \
        if kind.startswith("List") or kind == "CommaDelimitedList" else [value]
    for item in items:
        if kind in ("Number", "List<Number>"):
            try:
                number = float(item)
            except ValueError:
                raise ValidationError(f"Parameter '{name}' must be a number.") from None
            if "MinValue" in spec and number < float(spec["MinValue"]):
                raise ValidationError(f"Parameter '{name}' must be a number not less than {spec['MinValue']}")
            if "MaxValue" in spec and number > float(spec["MaxValue"]):
                raise ValidationError(f"Parameter '{name}' must be a number not greater than {spec['MaxValue']}")
        if "AllowedValues" in spec and item not in [str(v) for v in spec["AllowedValues"]]:
            raise ValidationError(spec.get("ConstraintDescription") or
                                  f"Parameter '{name}' must be one of AllowedValues")
    if kind == "String":
        if "MinLength" in spec and len(value) < int(spec["MinLength"]):
            raise ValidationError(spec.get("ConstraintDescription") or
                                  f"Parameter '{name}' must contain at least {spec['MinLength']} characters")
        if "MaxLength" in spec and len(value) > int(spec["MaxLength"]):
            raise ValidationError(spec.get("ConstraintDescription") or
                                  f"Parameter '{name}' must contain at most {spec['MaxLength']} characters")
        if "AllowedPattern" in spec and not re.fullmatch(spec["AllowedPattern"], value):
            raise ValidationError(spec.get("ConstraintDescription") or
                                  f"Parameter '{name}' must match pattern {spec['AllowedPattern']}")
    return items if kind.startswith("List") or kind == "CommaDelimitedList" else value


def bind(template: dict, given: list[dict] | None, previous: dict[str, str] | None = None) -> dict[str, str]:
    """The parameter values (strings) of a stack operation, checked against the template.

    ``previous`` holds the stack's current values, for ``UsePreviousValue``.
    """
    params = declared(template)
    values: dict[str, str] = {}
    for p in given or []:
        key = p["ParameterKey"]
        if p.get("UsePreviousValue"):
            if previous is None or key not in previous:
                raise ValidationError(f"Invalid input for parameter key {key}. Cannot specify "
                                      "usePreviousValue as true for a parameter key not in the previous template")
            values[key] = previous[key]
        elif "ParameterValue" in p:
            values[key] = p["ParameterValue"]
    unknown = [k for k in values if k not in params]
    if unknown:
        raise ValidationError(f"Parameters: [{', '.join(unknown)}] do not exist in the template")
    missing = []
    for name, spec in params.items():
        if name not in values:
            if "Default" in spec:
                default = spec["Default"]
                values[name] = ",".join(map(str, default)) if isinstance(default, list) else \
                    ("true" if default is True else "false" if default is False else str(default))
            else:
                missing.append(name)
    if missing:
        raise ValidationError(f"Parameters: [{', '.join(missing)}] must have values")
    for name, spec in params.items():
        _check(name, spec, values[name])
    return values


def typed(template: dict, values: dict[str, str]) -> dict[str, Any]:
    """The values as intrinsic functions see them (lists for list types)."""
    return {name: _check(name, spec, values[name]) for name, spec in declared(template).items()}


def shown(template: dict, values: dict[str, str]) -> list[dict]:
    """The parameters as DescribeStacks shows them (``NoEcho`` values masked)."""
    params = template.get("Parameters", {})
    out = []
    for name, value in values.items():
        no_echo = str(params.get(name, {}).get("NoEcho", "false")).lower() == "true"
        out.append({"ParameterKey": name, "ParameterValue": "****" if no_echo else value})
    return out

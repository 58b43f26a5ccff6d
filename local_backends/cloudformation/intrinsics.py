"""Intrinsic functions, conditions and pseudo-parameters, evaluated as CloudFormation does.

A :class:`Resolver` evaluates one value of a template against a :class:`Scope`: parameter
values, pseudo-parameters, condition results, mappings, the physical ids and attributes of
the resources created so far, and the account's exports.
"""
from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass, field
from typing import Any, Callable

NO_VALUE = object()
"""``AWS::NoValue``: the member that holds it is removed."""

SUB_VARIABLE = re.compile(r"\$\{([^}]*)\}")


class ResolveError(Exception):
    """A value cannot be evaluated (unknown reference, bad arguments, missing export...)."""


@dataclass
class Scope:
    """What intrinsic functions can see while a stack is being worked on."""

    parameters: dict[str, Any]
    pseudo: dict[str, Any]
    mappings: dict[str, Any] = field(default_factory=dict)
    conditions: dict[str, Any] = field(default_factory=dict)  # name -> condition expression
    resource_names: frozenset[str] = frozenset()
    ref: Callable[[str], Any] = lambda name: (_ for _ in ()).throw(ResolveError(name))
    getatt: Callable[[str, str], Any] = lambda name, attr: (_ for _ in ()).throw(ResolveError(name))
    import_value: Callable[[str], str] = lambda name: (_ for _ in ()).throw(ResolveError(name))
    condition_values: dict[str, bool] = field(default_factory=dict)


def pseudo_parameters(region: str, account_id: str, stack_name: str, stack_id: str) -> dict:
    return {
        "AWS::AccountId": account_id, "AWS::Region": region, "AWS::StackName": stack_name,
        "AWS::StackId": stack_id, "AWS::Partition": "aws", "AWS::URLSuffix": "amazonaws.com",
        "AWS::NotificationARNs": [], "AWS::NoValue": NO_VALUE,
    }


class Resolver:
    """Evaluates template values in a :class:`Scope`."""

    def __init__(self, scope: Scope) -> None:
        self.scope = scope

    # -- conditions --------------------------------------------------------------------
    def condition(self, name: str) -> bool:
        scope = self.scope
        if name in scope.condition_values:
            return scope.condition_values[name]
        if name not in scope.conditions:
            raise ResolveError(f"Template error: unresolved condition dependency {name} in Fn::If")
        scope.condition_values[name] = None  # a cycle shows as None below
        value = self.resolve(scope.conditions[name])
        if not isinstance(value, bool):
            raise ResolveError(f"Template error: condition {name} does not evaluate to a boolean")
        scope.condition_values[name] = value
        return value

    # -- values ------------------------------------------------------------------------
    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            items = [self.resolve(v) for v in value]
            return [v for v in items if v is not NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            (key, arg), = value.items()
            if key == "Ref":
                return self._ref(arg)
            if key == "Condition" and isinstance(arg, str):
                return self.condition(arg)
            if key.startswith("Fn::"):
                fn = getattr(self, "_fn_" + key[4:].lower(), None)
                if fn is None:
                    raise ResolveError(f"Template error: {key} is not supported by the local "
                                       "CloudFormation engine")
                return fn(arg)
        out = {}
        for k, v in value.items():
            v = self.resolve(v)
            if v is not NO_VALUE:
                out[k] = v
        return out

    def _string(self, value: Any, where: str) -> str:
        value = self.resolve(value)
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, (int, float)):
            return str(value)
        if not isinstance(value, str):
            raise ResolveError(f"Template error: {where} needs a string, got {json.dumps(value)}")
        return value

    def _ref(self, name: Any) -> Any:
        scope = self.scope
        if not isinstance(name, str):
            raise ResolveError("Template error: Ref needs a string")
        if name in scope.parameters:
            return scope.parameters[name]
        if name in scope.pseudo:
            return scope.pseudo[name]
        if name in scope.resource_names:
            return scope.ref(name)
        raise ResolveError(f"Template format error: Unresolved resource dependencies [{name}] in "
                           "the Resources block of the template")

    def _fn_getatt(self, arg: Any) -> Any:
        if isinstance(arg, str):
            arg = arg.split(".", 1)
        if not isinstance(arg, list) or len(arg) != 2:
            raise ResolveError("Template error: every Fn::GetAtt object requires two non-empty parameters")
        name, attribute = arg[0], self._string(arg[1], "Fn::GetAtt")
        if name not in self.scope.resource_names:
            raise ResolveError(f"Template error: instance of Fn::GetAtt references undefined resource {name}")
        return self.scope.getatt(name, attribute)

    def _fn_sub(self, arg: Any) -> str:
        if isinstance(arg, str):
            text, variables = arg, {}
        elif isinstance(arg, list) and len(arg) == 2 and isinstance(arg[1], dict):
            text, variables = arg[0], {k: self.resolve(v) for k, v in arg[1].items()}
        else:
            raise ResolveError("Template error: Fn::Sub needs a string or [string, {variables}]")
        if not isinstance(text, str):
            raise ResolveError("Template error: the first argument of Fn::Sub must be a string")

        def substitute(match: re.Match) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            name = name.strip()
            if name in variables:
                value = variables[name]
            elif "." in name and name.split(".", 1)[0] in self.scope.resource_names:
                value = self._fn_getatt(name.split(".", 1))
            else:
                value = self._ref(name)
            if isinstance(value, list):
                raise ResolveError(f"Template error: variable {name} in Fn::Sub expression is a list")
            return self._string(value, "Fn::Sub")
        return SUB_VARIABLE.sub(substitute, text)

    def _fn_join(self, arg: Any) -> str:
        if not isinstance(arg, list) or len(arg) != 2:
            raise ResolveError("Template error: every Fn::Join object requires two parameters")
        delimiter, items = arg[0], self.resolve(arg[1])
        if not isinstance(items, list):
            raise ResolveError("Template error: the second parameter of Fn::Join must be a list")
        return self._string(delimiter, "Fn::Join").join(self._string(i, "Fn::Join") for i in items)

    def _fn_select(self, arg: Any) -> Any:
        if not isinstance(arg, list) or len(arg) != 2:
            raise ResolveError("Template error: Fn::Select requires two parameters")
        index, items = self.resolve(arg[0]), self.resolve(arg[1])
        try:
            index = int(index)
        except (TypeError, ValueError):
            raise ResolveError("Template error: Fn::Select index must be an integer") from None
        if not isinstance(items, list) or not 0 <= index < len(items):
            raise ResolveError("Template error: Fn::Select cannot select nonexistent value at index "
                               f"{index}")
        return items[index]

    def _fn_split(self, arg: Any) -> list:
        if not isinstance(arg, list) or len(arg) != 2:
            raise ResolveError("Template error: Fn::Split requires two parameters")
        return self._string(arg[1], "Fn::Split").split(self._string(arg[0], "Fn::Split"))

    def _fn_if(self, arg: Any) -> Any:
        if not isinstance(arg, list) or len(arg) != 3 or not isinstance(arg[0], str):
            raise ResolveError("Template error: Fn::If requires a condition name and two values")
        return self.resolve(arg[1] if self.condition(arg[0]) else arg[2])

    def _fn_equals(self, arg: Any) -> bool:
        if not isinstance(arg, list) or len(arg) != 2:
            raise ResolveError("Template error: Fn::Equals requires two parameters")
        a, b = (self.resolve(v) for v in arg)
        norm = lambda v: ("true" if v else "false") if isinstance(v, bool) else str(v) \
            if isinstance(v, (int, float)) else v  # noqa: E731
        return norm(a) == norm(b)

    def _booleans(self, arg: Any, fn: str) -> list[bool]:
        if not isinstance(arg, list):
            raise ResolveError(f"Template error: {fn} needs a list of conditions")
        values = [self.resolve(v) for v in arg]
        if not all(isinstance(v, bool) for v in values):
            raise ResolveError(f"Template error: {fn} needs conditions")
        return values

    def _fn_not(self, arg: Any) -> bool:
        values = self._booleans(arg, "Fn::Not")
        if len(values) != 1:
            raise ResolveError("Template error: Fn::Not requires one condition")
        return not values[0]

    def _fn_and(self, arg: Any) -> bool:
        values = self._booleans(arg, "Fn::And")
        if not 2 <= len(values) <= 10:
            raise ResolveError("Template error: Fn::And requires 2 to 10 conditions")
        return all(values)

    def _fn_or(self, arg: Any) -> bool:
        values = self._booleans(arg, "Fn::Or")
        if not 2 <= len(values) <= 10:
            raise ResolveError("Template error: Fn::Or requires 2 to 10 conditions")
        return any(values)

    def _fn_findinmap(self, arg: Any) -> Any:
        if not isinstance(arg, list) or len(arg) not in (3, 4):
            raise ResolveError("Template error: Fn::FindInMap requires three parameters")
        keys = [self._string(a, "Fn::FindInMap") for a in arg[:3]]
        node: Any = self.scope.mappings
        for depth, key in enumerate(keys):
            if not isinstance(node, dict) or key not in node:
                if depth == 0:
                    raise ResolveError(f"Template error: Unable to get mapping for {keys[0]}")
                raise ResolveError(f"Template error: Unable to get mapping for {'::'.join(keys)}")
            node = node[key]
        return node

    def _fn_importvalue(self, arg: Any) -> str:
        return self.scope.import_value(self._string(arg, "Fn::ImportValue"))

    def _fn_getazs(self, arg: Any) -> list[str]:
        region = self._string(arg, "Fn::GetAZs") or self.scope.pseudo["AWS::Region"]
        return [f"{region}{letter}" for letter in "abc"]

    def _fn_base64(self, arg: Any) -> str:
        return base64.b64encode(self._string(arg, "Fn::Base64").encode()).decode()

    def _fn_length(self, arg: Any) -> int:
        value = self.resolve(arg)
        if not isinstance(value, list):
            raise ResolveError("Template error: Fn::Length needs a list")
        return len(value)

    def _fn_tojsonstring(self, arg: Any) -> str:
        return json.dumps(self.resolve(arg), separators=(",", ":"))

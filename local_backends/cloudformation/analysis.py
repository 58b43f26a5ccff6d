"""What can be known of a template before anything is created: its references, the order of
its resources, the capabilities it needs, and the scope its values are evaluated in."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from . import graph, parameters
from .errors import InsufficientCapabilitiesException, template_error
from .intrinsics import Resolver, Scope, pseudo_parameters

IAM_TYPES = {"AWS::IAM::Role", "AWS::IAM::ManagedPolicy", "AWS::IAM::Policy", "AWS::IAM::User",
             "AWS::IAM::Group", "AWS::IAM::InstanceProfile", "AWS::IAM::AccessKey",
             "AWS::IAM::UserToGroupAddition"}
NAME_PROPERTIES = {"AWS::IAM::Role": "RoleName", "AWS::IAM::ManagedPolicy": "ManagedPolicyName",
                   "AWS::IAM::User": "UserName", "AWS::IAM::Group": "GroupName",
                   "AWS::IAM::InstanceProfile": "InstanceProfileName"}


@dataclass
class Plan:
    """A template checked for references, with its resources in creation order."""

    template: dict
    order: list[str]
    deps: dict[str, set[str]]


def _walk_refs(value: Any, names: set[str], conditions: set[str], resources: set[str], where: str) -> None:
    if isinstance(value, list):
        for v in value:
            _walk_refs(v, names, conditions, resources, where)
    elif isinstance(value, dict):
        for key, arg in value.items():
            if key == "Ref" and isinstance(arg, str) and arg not in names:
                raise template_error(f"Unresolved resource dependencies [{arg}] in the {where} block "
                                     "of the template")
            if key == "Fn::GetAtt":
                target = arg.split(".", 1)[0] if isinstance(arg, str) else arg[0] if isinstance(arg, list) and arg else None
                if target not in resources:
                    raise template_error(f"Template error: instance of Fn::GetAtt references undefined "
                                         f"resource {target}")
            if key == "Fn::If" and isinstance(arg, list) and arg and isinstance(arg[0], str) \
                    and arg[0] not in conditions:
                raise template_error(f"Unresolved condition dependency {arg[0]} in Fn::If")
            _walk_refs(arg, names, conditions, resources, where)


def plan(template: dict) -> Plan:
    """Check the template's references and order its resources (``ValidationError`` if not)."""
    resources = template["Resources"]
    params = parameters.declared(template)
    conditions = set(template.get("Conditions", {}))
    names = set(resources) | set(params) | set(pseudo_parameters("r", "a", "s", "i"))
    for name, resource in resources.items():
        cond = resource.get("Condition")
        if cond is not None and cond not in conditions:
            raise template_error(f"Unresolved dependencies [{cond}]. Cannot reference resources in "
                                 "the Conditions block of the template")
        _walk_refs(resource.get("Properties", {}), names, conditions, set(resources), "Resources")
    for name, output in template.get("Outputs", {}).items():
        if not isinstance(output, dict) or "Value" not in output:
            raise template_error(f"Every Outputs member must contain a Value object ({name})")
        _walk_refs(output, names, conditions, set(resources), "Outputs")
    _walk_refs(template.get("Conditions", {}), set(params) | set(pseudo_parameters("r", "a", "s", "i")),
               conditions, set(), "Conditions")
    deps = graph.dependencies(resources)
    return Plan(template, graph.creation_order(deps), deps)


def capabilities_needed(template: dict) -> tuple[list[str], str | None]:
    """The capabilities a template needs and CloudFormation's reason."""
    iam = [(n, r) for n, r in template["Resources"].items() if r["Type"] in IAM_TYPES]
    if not iam:
        return [], None
    named = [n for n, r in iam if NAME_PROPERTIES.get(r["Type"]) in r.get("Properties", {})]
    if named:
        return ["CAPABILITY_NAMED_IAM"], f"The following resource(s) require capabilities: " \
            f"[{', '.join(sorted({template['Resources'][n]['Type'] for n in named}))}]"
    return ["CAPABILITY_IAM"], f"The following resource(s) require capabilities: " \
        f"[{', '.join(sorted({r['Type'] for _, r in iam}))}]"


def check_capabilities(template: dict, given: list[str] | None) -> None:
    needed, _ = capabilities_needed(template)
    given = set(given or [])
    if needed == ["CAPABILITY_IAM"] and given & {"CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"}:
        return
    if needed and not set(needed) <= given:
        raise InsufficientCapabilitiesException(f"Requires capabilities : [{', '.join(needed)}]")


def base_scope(template: dict, values: dict[str, str], region: str, account_id: str,
               stack_name: str, stack_id: str) -> Scope:
    return Scope(parameters=parameters.typed(template, values),
                 pseudo=pseudo_parameters(region, account_id, stack_name, stack_id),
                 mappings=template.get("Mappings", {}), conditions=template.get("Conditions", {}),
                 resource_names=frozenset(template["Resources"]))


def active(template: dict, scope: Scope) -> dict[str, bool]:
    """Whether each resource is created, by its ``Condition``."""
    resolver = Resolver(scope)
    return {name: resolver.condition(r["Condition"]) if "Condition" in r else True
            for name, r in template["Resources"].items()}

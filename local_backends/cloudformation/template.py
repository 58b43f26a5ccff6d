"""Loading templates: JSON, or YAML with CloudFormation's short forms (``!Ref``, ``!Sub``...).

The YAML loader keeps scalars CloudFormation keeps as strings (``2010-09-09`` is not a date)
and turns every ``!Tag`` into its long form (``!GetAtt A.B`` -> ``{"Fn::GetAtt": ["A", "B"]}``).
"""
from __future__ import annotations

import json
from typing import Any

import yaml

from .errors import template_error

SECTIONS = {"AWSTemplateFormatVersion", "Description", "Metadata", "Parameters", "Mappings",
            "Conditions", "Transform", "Resources", "Outputs", "Rules"}
FUNCTIONS = ("Base64", "Cidr", "FindInMap", "GetAZs", "ImportValue", "Join", "Select", "Split",
             "Sub", "Transform", "If", "Equals", "Not", "And", "Or", "Length", "ToJsonString")


class TemplateLoader(yaml.SafeLoader):
    """A YAML loader that knows CloudFormation's ``!`` tags."""


# CloudFormation reads timestamps as strings: drop YAML's implicit timestamp resolver.
TemplateLoader.yaml_implicit_resolvers = {
    key: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()}


def _construct(loader: yaml.Loader, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    return loader.construct_mapping(node, deep=True)


def _function(name: str):
    def construct(loader: yaml.Loader, node: yaml.Node) -> dict:
        return {f"Fn::{name}": _construct(loader, node)}
    return construct


def _ref(loader: yaml.Loader, node: yaml.Node) -> dict:
    return {"Ref": loader.construct_scalar(node)}


def _condition(loader: yaml.Loader, node: yaml.Node) -> dict:
    return {"Condition": loader.construct_scalar(node)}


def _getatt(loader: yaml.Loader, node: yaml.Node) -> dict:
    value = _construct(loader, node)
    if isinstance(value, str):
        resource, _, attribute = value.partition(".")
        value = [resource, attribute]
    return {"Fn::GetAtt": value}


for _name in FUNCTIONS:
    TemplateLoader.add_constructor(f"!{_name}", _function(_name))
TemplateLoader.add_constructor("!Ref", _ref)
TemplateLoader.add_constructor("!Condition", _condition)
TemplateLoader.add_constructor("!GetAtt", _getatt)


def load(body: str) -> dict:
    """The template as a dict, or a ``ValidationError`` with CloudFormation's wording."""
    text = body.strip()
    try:
        if text.startswith("{"):
            template = json.loads(text)
        else:
            template = yaml.load(text, Loader=TemplateLoader)  # noqa: S506 - safe loader subclass
    except (ValueError, yaml.YAMLError) as exc:
        raise template_error(f"{'JSON' if text.startswith('{') else 'YAML'} not well-formed. "
                             f"({str(exc).splitlines()[0]})") from None
    if not isinstance(template, dict):
        raise template_error("template is not a JSON or YAML object")
    unknown = sorted(set(template) - SECTIONS)
    if unknown:
        raise template_error(f"Invalid template property or properties [{', '.join(unknown)}]")
    if "Transform" in template:
        raise template_error("Transforms (macros) are not supported by the local CloudFormation "
                             f"engine: {template['Transform']}")
    resources = template.get("Resources")
    if not isinstance(resources, dict) or not resources:
        raise template_error("At least one Resources member must be defined.")
    for name, resource in resources.items():
        if not isinstance(resource, dict) or not isinstance(resource.get("Type"), str):
            raise template_error(f"[/Resources/{name}] Every Resources object must contain a Type member.")
        extra = set(resource) - {"Type", "Properties", "DependsOn", "Condition", "DeletionPolicy",
                                 "UpdateReplacePolicy", "Metadata", "CreationPolicy", "UpdatePolicy"}
        if extra:
            raise template_error(f"Invalid template resource property '{sorted(extra)[0]}'")
    for section in ("Parameters", "Mappings", "Conditions", "Outputs"):
        if section in template and not isinstance(template[section], dict):
            raise template_error(f"{section} must be an object")
    return template


def dump(template: dict) -> str:
    return json.dumps(template, indent=2)

"""What every resource type provides: create, update (in place or by replacement), delete,
and the attributes ``Fn::GetAtt`` reads.

A resource type works through the boto3 clients of the stack's session
(``ctx.client("s3")``...), so the resource is real in whatever backend serves that service.
"""
from __future__ import annotations

import secrets
import string
import time
from dataclasses import dataclass
from typing import Any, Callable, ClassVar

_SUFFIX = string.ascii_uppercase + string.digits


class ResourceFailed(Exception):
    """A resource could not be created, updated or deleted; the message is the event's reason."""


@dataclass
class Context:
    """What a resource handler knows about where it runs."""

    client: Callable[[str], Any]
    region: str
    account_id: str
    stack_name: str
    logical_id: str
    poll_seconds: float = 0.2
    wait_seconds: float = 600.0

    def generated_name(self, max_length: int, lower: bool = False, sep: str = "-") -> str:
        """A physical name in CloudFormation's form: ``stack-Logical-RANDOMSUFFIX``."""
        suffix = "".join(secrets.choice(_SUFFIX) for _ in range(12))
        stem = f"{self.stack_name}{sep}{self.logical_id}"
        stem = stem[:max_length - len(suffix) - 1]
        name = f"{stem}{sep}{suffix}"
        return name.lower() if lower else name

    def arn(self, service: str, resource: str, region: str | None = None) -> str:
        region = self.region if region is None else region
        return f"arn:aws:{service}:{region}:{self.account_id}:{resource}"

    def wait_for(self, describe: Callable[[], dict], key: str, done: set[str], failed: set[str],
                 what: str) -> dict:
        """Poll ``describe`` until ``key`` is in ``done`` (or fail with its FailureReason)."""
        deadline = time.monotonic() + self.wait_seconds
        while True:
            out = describe()
            status = out.get(key)
            if status in done:
                return out
            if status in failed:
                raise ResourceFailed(f"{what} reached status {status}: "
                                     f"{out.get('FailureReason', 'no reason given')}")
            if time.monotonic() > deadline:
                raise ResourceFailed(f"{what} did not stabilize (status {status}) within "
                                     f"{self.wait_seconds:.0f} s")
            time.sleep(self.poll_seconds)


@dataclass
class Provisioned:
    """The outcome of a create or update: the physical id (what ``Ref`` returns unless
    ``ref`` says otherwise) and the ``Fn::GetAtt`` attributes."""

    physical_id: str
    attributes: dict[str, Any]
    ref: str | None = None


class NeedsReplacement(Exception):
    """Raised by ``update`` when a changed property can only be changed by replacement."""


class ResourceType:
    """One CloudFormation resource type. Subclasses set ``type_name`` and implement
    ``create``/``delete`` (and ``update`` for in-place changes)."""

    type_name: ClassVar[str]
    name_property: ClassVar[str | None] = None
    """The property that names the resource (replacing it needs a new name)."""
    replace_on: ClassVar[frozenset[str]] = frozenset()
    """Properties whose change replaces the resource."""
    required: ClassVar[tuple[str, ...]] = ()

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def check(self, props: dict) -> None:
        missing = [p for p in self.required if p not in props]
        if missing:
            raise ResourceFailed(f"Properties validation failed for resource {self.ctx.logical_id} "
                                 f"with message: #: required key [{missing[0]}] not found")

    def create(self, props: dict) -> Provisioned:
        raise NotImplementedError

    def update(self, physical_id: str, old: dict, new: dict) -> Provisioned:
        """Change the resource in place; the default replaces it."""
        raise NeedsReplacement()

    def delete(self, physical_id: str, props: dict) -> None:
        raise NotImplementedError

    def requires_replacement(self, old: dict, new: dict) -> bool:
        names = set(self.replace_on)
        if self.name_property:
            names.add(self.name_property)
        return any(old.get(p) != new.get(p) for p in names)


def tag_list(props: dict) -> list[dict]:
    return [{"Key": t["Key"], "Value": str(t["Value"])} for t in props.get("Tags", [])]


def bool_prop(value: Any) -> bool:
    return value if isinstance(value, bool) else str(value).lower() == "true"


def drop_none(d: dict) -> dict:
    return {k: v for k, v in d.items() if v is not None}

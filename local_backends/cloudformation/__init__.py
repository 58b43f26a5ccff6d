"""Local AWS CloudFormation: a template engine that creates every resource for real.

Templates (JSON or YAML with the ``!`` short forms) are checked, their intrinsic functions
evaluated as CloudFormation does, and their resources created in dependency order through
the session's boto3 clients: an ``AWS::S3::Bucket`` is a bucket of whatever backend serves
S3 in the session. Stack operations run in a thread (statuses go ``*_IN_PROGRESS`` ->
``*_COMPLETE``) with rollback on failure; state is in SQLite under ``home/cloudformation/``.

Modules: :mod:`.template` (loading), :mod:`.intrinsics`, :mod:`.graph` (dependencies),
:mod:`.analysis` (checks before running), :mod:`.engine` (create/update/delete/rollback),
:mod:`.resources` (one module per resource family), :mod:`.stacks` and :mod:`.changesets`
(the API).
"""
from __future__ import annotations

from pathlib import Path

from local_backends.core.base import DEFAULT_ACCOUNT_ID, Backend, Peers

from .changesets import ChangeSets
from .resources import RESOURCE_TYPES
from .stacks import Stacks
from .store import open_store


class CloudFormationBackend(Stacks, ChangeSets, Backend):
    """The CloudFormation stacks of one account and region, stored under ``home/cloudformation/``."""

    service = "cloudformation"
    validation_error_code = "ValidationError"

    def __init__(self, home: Path, region: str, account_id: str = DEFAULT_ACCOUNT_ID,
                 peers: Peers | None = None) -> None:
        super().__init__(home, region, account_id, peers)
        self.store = open_store(self.home, account_id, region)


__all__ = ["CloudFormationBackend", "RESOURCE_TYPES"]

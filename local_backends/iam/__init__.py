"""Local AWS IAM: roles (trust policies, tags, inline policies) and customer managed
policies (versions, attachments), stored and returned as IAM does — not enforced.

IAM is global: every region of an account shares ``<home>/iam/<account>.db``.
"""
from __future__ import annotations

from pathlib import Path

from local_backends.core.base import DEFAULT_ACCOUNT_ID, Backend, Peers

from .policies import Policies
from .roles import Roles
from .store import open_store


class IAMBackend(Roles, Policies, Backend):
    """The IAM roles and managed policies of one account."""

    service = "iam"
    validation_error_code = "ValidationError"

    def __init__(self, home: Path, region: str, account_id: str = DEFAULT_ACCOUNT_ID,
                 peers: Peers | None = None) -> None:
        super().__init__(home, region, account_id, peers)
        self.store = open_store(self.home, account_id)


__all__ = ["IAMBackend"]

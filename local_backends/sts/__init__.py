"""Local AWS STS: who the caller is (the SageMaker SDK asks before anything else)."""
from __future__ import annotations

from local_backends.core.base import Backend, operation


class STSBackend(Backend):
    """The local STS backend: one account, its root user."""

    service = "sts"

    @operation
    def get_caller_identity(self) -> dict:
        return {"UserId": self.account_id, "Account": self.account_id,
                "Arn": f"arn:aws:iam::{self.account_id}:root"}


__all__ = ["STSBackend"]

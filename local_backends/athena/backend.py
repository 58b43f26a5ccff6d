"""``AthenaBackend``: the local Athena service (executions, workgroups, named queries)."""
from __future__ import annotations

from pathlib import Path

from local_backends.core.base import DEFAULT_ACCOUNT_ID, Backend, Peers

from .executions import ExecutionsMixin
from .store import open_store
from .workgroups import WorkGroupsMixin


class AthenaBackend(ExecutionsMixin, WorkGroupsMixin, Backend):
    """Athena of one account and region; state under ``home/athena/``."""

    service = "athena"
    validation_error_code = "InvalidRequestException"  # Athena answers constraint violations so

    def __init__(self, home: Path, region: str, account_id: str = DEFAULT_ACCOUNT_ID,
                 peers: Peers | None = None) -> None:
        super().__init__(home, region, account_id, peers)
        self.store = open_store(self.home, account_id, region)
        self._ensure_primary()

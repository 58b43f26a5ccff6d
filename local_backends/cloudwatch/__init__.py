"""Local CloudWatch: metrics (put, statistics, metric data, listing) and alarms that are
really evaluated as data arrive, with their history and SNS actions. State is one SQLite
database per region under ``<home>/cloudwatch/``."""
from __future__ import annotations

from local_backends.core.base import Backend

from .actions import Actions
from .alarms import Alarms
from .metrics import Metrics
from .store import open_store


class CloudWatchBackend(Metrics, Alarms, Actions, Backend):
    """The ``cloudwatch`` service on local state."""

    service = "cloudwatch"
    validation_error_code = "ValidationError"

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.store = open_store(self.home, self.account_id, self.region)
        self._metric_ids: dict[tuple[str, str, str], int] = {}


__all__ = ["CloudWatchBackend"]

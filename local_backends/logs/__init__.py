"""Local CloudWatch Logs: log groups (retention, tags), log streams, events with AWS's
batch rules, GetLogEvents tokens and FilterLogEvents patterns, and metric filters that
publish to CloudWatch. State is one SQLite database per region under ``<home>/logs/``."""
from __future__ import annotations

from local_backends.core.base import Backend

from .events import Events
from .groups import Groups
from .metric_filters import MetricFilters
from .store import open_store


class LogsBackend(Events, MetricFilters, Groups, Backend):
    """The ``logs`` service on local state."""

    service = "logs"
    validation_error_code = "InvalidParameterException"

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.store = open_store(self.home, self.account_id, self.region)


__all__ = ["LogsBackend"]

"""Timestamps as the backends store them (epoch seconds) and as boto3 returns them
(timezone-aware UTC datetimes)."""
from __future__ import annotations

from datetime import datetime, timezone


def utc_datetime(ts: float | None) -> datetime | None:
    """Epoch seconds -> an aware UTC ``datetime`` (``None`` stays ``None``)."""
    return None if ts is None else datetime.fromtimestamp(ts, timezone.utc)


def epoch_seconds(value) -> float:
    """A ``datetime`` (naive ones are UTC, as botocore reads them) or a number -> epoch seconds."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value.timestamp()
    return float(value)

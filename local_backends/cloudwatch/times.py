"""Timestamps as CloudWatch takes and gives them."""
from __future__ import annotations

import time
from datetime import datetime, timezone

from botocore.utils import parse_to_aware_datetime


def epoch(value) -> float:
    """Seconds since the epoch of a timestamp parameter (datetime, ISO string or number);
    a naive datetime is UTC, as botocore's serialiser takes it."""
    if isinstance(value, (int, float)):
        return float(value)
    return parse_to_aware_datetime(value).timestamp()


def utc(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, tz=timezone.utc)


def iso(ts: float) -> str:
    """AWS's timestamps inside JSON documents: ``2026-11-25T21:30:00.000+0000``."""
    d = utc(ts)
    return d.strftime("%Y-%m-%dT%H:%M:%S.") + f"{d.microsecond // 1000:03d}+0000"


def now() -> float:
    return time.time()

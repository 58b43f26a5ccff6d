"""Feature values as Feature Store reads them: every value travels as a string."""
from __future__ import annotations

import re
from datetime import datetime, timezone

_INT = re.compile(r"^[+-]?\d+$")
_INT64 = (-(2 ** 63), 2 ** 63 - 1)
# AWS: yyyy-MM-dd'T'HH:mm:ssZ or yyyy-MM-dd'T'HH:mm:ss.SSSZ ('T' and 'Z' are constants).
_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?Z$")


def parse_value(feature_type: str, text: str):
    """The Python value of ``text`` for a feature of ``feature_type``; ValueError if it is
    not one (``Integral``: a 64-bit integer, ``Fractional``: a double, ``String``: any)."""
    if feature_type == "String":
        return text
    if feature_type == "Integral":
        if not _INT.match(text.strip()):
            raise ValueError(text)
        value = int(text)
        if not _INT64[0] <= value <= _INT64[1]:
            raise ValueError(text)
        return value
    if feature_type == "Fractional":
        return float(text)
    raise ValueError(f"unknown feature type {feature_type!r}")


def event_time_seconds(feature_type: str, text: str) -> float:
    """Seconds since the epoch of an event time (``Fractional``: epoch seconds,
    ``String``: ISO-8601 in UTC with a ``Z``); ValueError if it is not one."""
    if feature_type == "Fractional":
        return float(text)
    m = _ISO.match(text)
    if m is None:
        raise ValueError(text)
    frac = m.group(7) or "0"
    dt = datetime(*(int(g) for g in m.groups()[:6]), tzinfo=timezone.utc)  # ValueError if out of range
    return dt.timestamp() + float("0." + frac)


def format_event_time(feature_type: str, seconds: float) -> str:
    """The string form of an event time (the inverse of :func:`event_time_seconds`)."""
    if feature_type == "Fractional":
        return repr(float(seconds))
    dt = datetime.fromtimestamp(seconds, tz=timezone.utc)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"

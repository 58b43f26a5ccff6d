"""Helpers shared by the IAM resource families: ids, times, tags and Marker pagination."""
from __future__ import annotations

import json
import secrets
import string
from datetime import datetime, timezone

from local_backends.core.state import encode_token, token_value

from .errors import InvalidInput

_ID_ALPHABET = string.ascii_uppercase + string.digits


def new_id(prefix: str) -> str:
    """A unique id in IAM's form (``AROA...`` for roles, ``ANPA...`` for policies)."""
    return prefix + "".join(secrets.choice(_ID_ALPHABET) for _ in range(17))


def as_datetime(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, timezone.utc)


def check_path(path: str) -> str:
    if not (path == "/" or (path.startswith("/") and path.endswith("/"))):
        raise InvalidInput("The specified value for path is invalid. It must begin and end with / "
                           "and contain only alphanumeric characters and/or / characters.")
    return path


def merge_tags(current: list[dict], new: list[dict]) -> list[dict]:
    tags = {t["Key"]: t["Value"] for t in current}
    tags.update({t["Key"]: t.get("Value", "") for t in new})
    if len(tags) > 50:
        raise InvalidInput("The number of tags has reached the maximum limit.")
    return [{"Key": k, "Value": v} for k, v in tags.items()]


def page(items: list, key: str, marker: str | None, max_items: int | None) -> dict:
    """One page of ``items`` (already sorted) as IAM answers it: ``IsTruncated`` and ``Marker``."""
    start = 0
    if marker is not None:
        start = token_value(marker, "i", int, InvalidInput("Invalid Marker."))
    size = max_items or 100
    chunk = items[start:start + size]
    out = {key: chunk, "IsTruncated": start + size < len(items)}
    if out["IsTruncated"]:
        out["Marker"] = encode_token({"i": start + size})
    return out


def dumps(value) -> str:
    return json.dumps(value, separators=(",", ":"))

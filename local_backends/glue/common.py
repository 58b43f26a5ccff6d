"""Helpers shared by the Glue resource families: names, time, paging."""
from __future__ import annotations

import time
from datetime import datetime, timezone

from local_backends.core.state import encode_token, token_value

from .errors import InvalidInputException


def norm(name: str) -> str:
    """Glue keeps database and table names in lower case."""
    return name.lower()


def utc(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, timezone.utc)


def now() -> float:
    return time.time()


def page_start(token: str | None) -> str | None:
    """The last key the previous page returned, from an opaque ``NextToken``."""
    if token is None:
        return None
    return token_value(token, "after", str, InvalidInputException("Invalid NextToken"))


def page_token(rows: list, limit: int, key) -> str | None:
    """A ``NextToken`` when the page is full (``rows`` holds ``limit + 1`` rows)."""
    if len(rows) > limit:
        return encode_token({"after": key(rows[limit - 1])})
    return None

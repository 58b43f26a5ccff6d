"""Filtering and paging as SageMaker's List* operations of jobs do them (training,
tuning and AutoML jobs share the same parameters)."""
from __future__ import annotations

from local_backends.core.errors import ValidationException
from local_backends.core.state import encode_token, token_value
from local_backends.core.times import epoch_seconds


def paginate(items: list, token: str | None, max_results: int | None) -> tuple[list, str | None]:
    """``(items of this page, NextToken or None)``; 10 items a page by default."""
    offset = 0
    if token is not None:
        offset = token_value(token, "offset", int, ValidationException(f"Invalid pagination token because \"{token}\"."))
    limit = max_results or 10
    nxt = encode_token({"offset": offset + limit}) if offset + limit < len(items) else None
    return items[offset:offset + limit], nxt


def filter_jobs(jobs: list[dict], *, name_contains: str | None = None, status: str | None = None,
                creation_after=None, creation_before=None, modified_after=None,
                modified_before=None) -> list[dict]:
    """The job records (``name``, ``status``, ``creation_time``, ``last_modified``) that
    pass the List* filters: name substring, status, and strict time bounds."""
    if name_contains:
        jobs = [j for j in jobs if name_contains in j["name"]]
    if status:
        jobs = [j for j in jobs if j["status"] == status]
    for bound, column, after in ((creation_after, "creation_time", True), (creation_before, "creation_time", False),
                                 (modified_after, "last_modified", True), (modified_before, "last_modified", False)):
        if bound is not None:
            t = epoch_seconds(bound)
            jobs = [j for j in jobs if (j[column] > t if after else j[column] < t)]
    return jobs

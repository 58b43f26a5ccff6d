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


SORT_KEYS = {
    "Name": lambda j: (j["name"],),
    "Status": lambda j: (j["status"], j["name"]),
    "CreationTime": lambda j: (j["creation_time"], j["name"]),
}
"""The ``SortBy`` values of the List* operations of jobs, as sort keys of job records."""


def list_page(jobs: list[dict], *, default_sort: str, default_order: str, NextToken: str | None = None,
              MaxResults: int | None = None, SortBy: str | None = None, SortOrder: str | None = None,
              NameContains: str | None = None, StatusEquals: str | None = None, CreationTimeAfter=None,
              CreationTimeBefore=None, LastModifiedTimeAfter=None,
              LastModifiedTimeBefore=None) -> tuple[list[dict], str | None]:
    """One page of a List* operation of jobs, given its parameters as the request names them:
    the records that pass the filters (see :func:`filter_jobs`), sorted by ``SortBy``
    (:data:`SORT_KEYS`, else ``default_sort``) in ``SortOrder`` (else ``default_order``);
    ``(records, NextToken or None)``."""
    jobs = filter_jobs(jobs, name_contains=NameContains, status=StatusEquals, creation_after=CreationTimeAfter,
                       creation_before=CreationTimeBefore, modified_after=LastModifiedTimeAfter,
                       modified_before=LastModifiedTimeBefore)
    return sorted_page(jobs, SORT_KEYS, sort_by=SortBy or default_sort, sort_order=SortOrder or default_order,
                       next_token=NextToken, max_results=MaxResults)


def sorted_page(items: list[dict], keys: dict, *, sort_by: str, sort_order: str | None,
                next_token: str | None, max_results: int | None) -> tuple[list[dict], str | None]:
    """One page of ``items`` sorted by ``keys[sort_by]`` in ``sort_order``. Sorted by
    ``FinalObjectiveMetricValue`` (trials, candidates), only the items with an ``objective``
    are listed, as AWS lists only those that reported one."""
    if sort_by == "FinalObjectiveMetricValue":
        items = [i for i in items if i["objective"] is not None]
    items = sorted(items, key=keys[sort_by], reverse=sort_order == "Descending")
    return paginate(items, next_token, max_results)

"""The List* operations of Comprehend: a ``Filter`` of equalities and a time window, then
pages of ``MaxResults`` rows in a stable order."""
from __future__ import annotations

from local_backends.core.state import SqliteStore, encode_token, token_value

from .errors import InvalidRequestException


def list_rows(store: SqliteStore, table: str, order: str, Filter: dict | None, NextToken: str | None,
              MaxResults: int, *, equals: dict[str, str], time_column: str, time_filter: str,
              fixed: dict[str, str] | None = None) -> tuple[list, str | None]:
    """``(rows of the page, NextToken or None)``.

    :param equals: filter key -> column compared for equality.
    :param time_filter: the filter keys' stem, ``SubmitTime`` -> ``SubmitTimeBefore`` /
        ``SubmitTimeAfter`` bounds on ``time_column``.
    :param fixed: column -> value every row must have.
    """
    where, args = [], []
    for column, value in (fixed or {}).items():
        where.append(f"{column} = ?")
        args.append(value)
    f = Filter or {}
    for key, column in equals.items():
        if key in f:
            where.append(f"{column} = ?")
            args.append(f[key])
    for suffix, op in (("Before", "<"), ("After", ">")):
        if f"{time_filter}{suffix}" in f:
            where.append(f"{time_column} {op} ?")
            args.append(f[f"{time_filter}{suffix}"].timestamp())
    start = 0
    if NextToken is not None:
        start = token_value(NextToken, "offset", int, InvalidRequestException("Invalid NextToken"))
    sql = f"SELECT * FROM {table}" + (" WHERE " + " AND ".join(where) if where else "")
    rows = store.query(f"{sql} ORDER BY {order} LIMIT ? OFFSET ?", (*args, MaxResults + 1, start))
    return rows[:MaxResults], encode_token({"offset": start + MaxResults}) if len(rows) > MaxResults else None

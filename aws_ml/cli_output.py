"""The ``--output`` formats of the ``aws-ml`` commands (the AWS CLI's)."""
from enum import Enum


class Output(str, Enum):
    json = "json"
    table = "table"
    text = "text"


def rows_table(rows: list[dict], title: str | None = None, columns: tuple[str, ...] | None = None,
               right: tuple[str, ...] = ()):
    """A rich table of ``rows`` (dicts with the same keys): one column per key, in order;
    the columns named in ``right`` are right-aligned (counts)."""
    from rich.table import Table

    columns = columns or (tuple(rows[0]) if rows else ())
    table = Table(title=title)
    for col in columns:
        table.add_column(col, justify="right" if col in right else "left")
    for r in rows:
        table.add_row(*(str(r.get(c, "")) for c in columns))
    return table

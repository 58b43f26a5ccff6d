"""Where the local Glue Data Catalog keeps its state: one SQLite file per account and region.

Databases, tables and partitions are stored as the JSON of their API shapes (the input
the caller gave, with Glue's own members added on read), keyed by Glue's lower-cased
names. Deleting a database deletes its tables and their partitions, as Glue does.
"""
from __future__ import annotations

import json
from pathlib import Path

from local_backends.core.state import SqliteStore

SCHEMA = """
CREATE TABLE IF NOT EXISTS databases (
    name TEXT PRIMARY KEY,
    body TEXT NOT NULL,
    created REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS tables (
    db TEXT NOT NULL REFERENCES databases(name) ON DELETE CASCADE,
    name TEXT NOT NULL,
    body TEXT NOT NULL,
    created REAL NOT NULL,
    updated REAL NOT NULL,
    version INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (db, name)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS partitions (
    db TEXT NOT NULL,
    tbl TEXT NOT NULL,
    vals TEXT NOT NULL,          -- JSON list of the partition values
    body TEXT NOT NULL,
    created REAL NOT NULL,
    PRIMARY KEY (db, tbl, vals),
    FOREIGN KEY (db, tbl) REFERENCES tables(db, name) ON DELETE CASCADE
) WITHOUT ROWID;
"""


def open_catalog(home: Path, account_id: str, region: str) -> SqliteStore:
    """The catalog store of one account and region under ``home/glue/``."""
    return SqliteStore(Path(home) / "glue" / account_id / region / "catalog.db", SCHEMA)


def values_key(values: list[str]) -> str:
    """The stored key of a partition's value list."""
    return json.dumps(list(values), separators=(",", ":"))


def _default(value: object) -> object:
    from datetime import datetime
    if isinstance(value, datetime):
        return {"__ts__": value.timestamp()}
    raise TypeError(f"cannot store {type(value).__name__} in the Glue catalog")


def _hook(obj: dict) -> object:
    if len(obj) == 1 and "__ts__" in obj:
        from datetime import datetime, timezone
        return datetime.fromtimestamp(obj["__ts__"], timezone.utc)
    return obj


def encode(value: object) -> str:
    """JSON of an API structure (datetimes kept as such)."""
    return json.dumps(value, separators=(",", ":"), default=_default)


def decode(text: str) -> dict:
    return json.loads(text, object_hook=_hook)

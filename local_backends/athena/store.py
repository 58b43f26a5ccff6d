"""Where the local Athena keeps its state: one SQLite file per account and region.

Query executions (so that another process sees them, and a query whose process died is
reported FAILED), workgroups and named queries. Result rows live beside it in
``results/<QueryExecutionId>.arrow``.
"""
from __future__ import annotations

from pathlib import Path

from local_backends.core.state import SqliteStore

SCHEMA = """
CREATE TABLE IF NOT EXISTS executions (
    id TEXT PRIMARY KEY,
    seq INTEGER NOT NULL,            -- submission order (ListQueryExecutions is newest first)
    workgroup TEXT NOT NULL,
    query TEXT NOT NULL,
    statement_type TEXT NOT NULL,
    substatement TEXT,
    context TEXT NOT NULL,           -- JSON QueryExecutionContext
    result_conf TEXT NOT NULL,       -- JSON ResultConfiguration (the effective one)
    state TEXT NOT NULL,
    reason TEXT,
    error TEXT,                      -- JSON AthenaError
    submitted REAL NOT NULL,
    started REAL,
    completed REAL,
    engine_ms INTEGER,
    scanned INTEGER,
    update_count INTEGER,
    columns TEXT,                    -- JSON ColumnInfo list
    has_header INTEGER NOT NULL DEFAULT 1,
    pid INTEGER NOT NULL,
    runner TEXT NOT NULL,            -- the process that runs it (pid + start marker)
    client_token TEXT
);
CREATE INDEX IF NOT EXISTS executions_by_wg ON executions (workgroup, seq);
CREATE TABLE IF NOT EXISTS workgroups (
    name TEXT PRIMARY KEY,
    state TEXT NOT NULL,
    description TEXT,
    configuration TEXT NOT NULL,     -- JSON WorkGroupConfiguration
    created REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS named_queries (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    description TEXT,
    database TEXT NOT NULL,
    query TEXT NOT NULL,
    workgroup TEXT NOT NULL,
    client_token TEXT,
    created REAL NOT NULL
);
"""


def open_store(home: Path, account_id: str, region: str) -> SqliteStore:
    return SqliteStore(Path(home) / "athena" / account_id / region / "athena.db", SCHEMA)

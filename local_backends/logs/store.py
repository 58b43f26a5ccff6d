"""Where local CloudWatch Logs keeps things: one SQLite database per account and region,
``<home>/logs/<account>-<region>.db``.

Log groups, their tags and metric filters, log streams (with their first/last event
timestamps kept up to date on every put) and events. Every event has a global sequence
number (``id``); within a stream events are ordered by ``(ts, id)``, which is the order
``GetLogEvents`` walks and its tokens point into. Deleting a group or a stream deletes its
events in the same transaction.
"""
from __future__ import annotations

from pathlib import Path

from local_backends.core.state import SqliteStore

SCHEMA = """
CREATE TABLE IF NOT EXISTS groups (
    name TEXT PRIMARY KEY,
    created INTEGER NOT NULL,
    retention INTEGER,
    kms_key TEXT,
    class TEXT NOT NULL DEFAULT 'STANDARD',
    deletion_protection INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS group_tags (
    group_name TEXT NOT NULL REFERENCES groups (name) ON DELETE CASCADE,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (group_name, key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS streams (
    group_name TEXT NOT NULL REFERENCES groups (name) ON DELETE CASCADE,
    name TEXT NOT NULL,
    created INTEGER NOT NULL,
    first_ts INTEGER,
    last_ts INTEGER,
    last_ingest INTEGER,
    stored_bytes INTEGER NOT NULL DEFAULT 0,
    seq INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (group_name, name)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    group_name TEXT NOT NULL,
    stream TEXT NOT NULL,
    ts INTEGER NOT NULL,
    ingest INTEGER NOT NULL,
    message TEXT NOT NULL,
    FOREIGN KEY (group_name, stream) REFERENCES streams (group_name, name) ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS events_by_stream ON events (group_name, stream, ts, id);
CREATE INDEX IF NOT EXISTS events_by_group ON events (group_name, ts, id);
CREATE TABLE IF NOT EXISTS metric_filters (
    group_name TEXT NOT NULL REFERENCES groups (name) ON DELETE CASCADE,
    name TEXT NOT NULL,
    pattern TEXT NOT NULL,
    transformations TEXT NOT NULL,
    created INTEGER NOT NULL,
    PRIMARY KEY (group_name, name)
) WITHOUT ROWID;
"""


def open_store(home: Path, account_id: str, region: str) -> SqliteStore:
    return SqliteStore(Path(home) / "logs" / f"{account_id}-{region}.db", SCHEMA)

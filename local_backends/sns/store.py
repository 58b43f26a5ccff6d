"""Where local SNS keeps things: ``<home>/sns/<account>-<region>.db``.

Topics with their attributes and tags, subscriptions, and every published message (kept so
that tests and tools can read back what was sent).
"""
from __future__ import annotations

from pathlib import Path

from local_backends.core.state import SqliteStore

SCHEMA = """
CREATE TABLE IF NOT EXISTS topics (
    arn TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    attributes TEXT NOT NULL,
    tags TEXT NOT NULL DEFAULT '{}',
    created REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS subscriptions (
    arn TEXT PRIMARY KEY,
    topic_arn TEXT NOT NULL REFERENCES topics (arn) ON DELETE CASCADE,
    protocol TEXT NOT NULL,
    endpoint TEXT NOT NULL,
    attributes TEXT NOT NULL,
    confirmed INTEGER NOT NULL,
    token TEXT,
    created REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS messages (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL,
    topic_arn TEXT NOT NULL,
    subject TEXT,
    message TEXT NOT NULL,
    structure TEXT,
    attributes TEXT NOT NULL,
    group_id TEXT,
    dedup_id TEXT,
    published REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS messages_by_topic ON messages (topic_arn, seq);
CREATE TABLE IF NOT EXISTS deliveries (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    message_id TEXT NOT NULL,
    subscription TEXT,
    endpoint TEXT NOT NULL,
    kind TEXT NOT NULL,
    status INTEGER,
    error TEXT,
    ts REAL NOT NULL
);
"""


def open_store(home: Path, account_id: str, region: str) -> SqliteStore:
    return SqliteStore(Path(home) / "sns" / f"{account_id}-{region}.db", SCHEMA)

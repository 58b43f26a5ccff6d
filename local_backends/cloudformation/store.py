"""Where local CloudFormation keeps things: ``<home>/cloudformation/<account>-<region>.db``.

Stacks (the template and parameters of their current version, status, outputs), their
resources (physical id, the resolved properties they were made with, attributes), events,
exports and imports, and change sets. A stack name is unique among stacks not deleted.
"""
from __future__ import annotations

from pathlib import Path

from local_backends.core.state import SqliteStore

SCHEMA = """
CREATE TABLE IF NOT EXISTS stacks (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    status TEXT NOT NULL,
    reason TEXT,
    template TEXT NOT NULL,
    parameters TEXT NOT NULL,
    capabilities TEXT NOT NULL,
    tags TEXT NOT NULL,
    description TEXT,
    options TEXT NOT NULL,
    outputs TEXT NOT NULL DEFAULT '[]',
    created REAL NOT NULL,
    updated REAL,
    deleted REAL
);
CREATE UNIQUE INDEX IF NOT EXISTS live_stack_names ON stacks (name) WHERE status != 'DELETE_COMPLETE';
CREATE TABLE IF NOT EXISTS resources (
    stack_id TEXT NOT NULL REFERENCES stacks (id),
    logical_id TEXT NOT NULL,
    physical_id TEXT,
    type TEXT NOT NULL,
    status TEXT NOT NULL,
    reason TEXT,
    properties TEXT NOT NULL,
    attributes TEXT NOT NULL DEFAULT '{}',
    ref TEXT,
    deletion_policy TEXT,
    updated REAL NOT NULL,
    PRIMARY KEY (stack_id, logical_id)
);
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL,
    stack_id TEXT NOT NULL,
    logical_id TEXT NOT NULL,
    physical_id TEXT,
    type TEXT NOT NULL,
    status TEXT NOT NULL,
    reason TEXT,
    properties TEXT,
    ts REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS events_by_stack ON events (stack_id, seq);
CREATE TABLE IF NOT EXISTS exports (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    stack_id TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS imports (
    stack_id TEXT NOT NULL,
    export_name TEXT NOT NULL,
    PRIMARY KEY (stack_id, export_name)
);
CREATE TABLE IF NOT EXISTS change_sets (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    stack_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    reason TEXT,
    execution_status TEXT NOT NULL,
    template TEXT NOT NULL,
    parameters TEXT NOT NULL,
    capabilities TEXT NOT NULL,
    tags TEXT NOT NULL,
    description TEXT,
    changes TEXT NOT NULL DEFAULT '[]',
    created REAL NOT NULL
);
"""


def open_store(home: Path, account_id: str, region: str) -> SqliteStore:
    return SqliteStore(Path(home) / "cloudformation" / f"{account_id}-{region}.db", SCHEMA)

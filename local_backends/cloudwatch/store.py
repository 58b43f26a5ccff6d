"""Where local CloudWatch keeps things: one SQLite database per account and region,
``<home>/cloudwatch/<account>-<region>.db``.

* ``metrics``: one row per (namespace, metric name, dimension set); the dimension set is
  stored canonically (sorted ``[[name, value], ...]`` JSON) so that "dimensions must match
  exactly" is an equality test.
* ``data``: one row per published datum, already reduced to a statistic set (sample count,
  sum, minimum, maximum) plus, when the datum carried several distinct values, the
  ``[[value, count], ...]`` list needed for percentiles.
* ``alarms`` (configuration as JSON, state in columns), ``history`` and ``tags``.
"""
from __future__ import annotations

import json
from pathlib import Path

from local_backends.core.state import SqliteStore

SCHEMA = """
CREATE TABLE IF NOT EXISTS metrics (
    id INTEGER PRIMARY KEY,
    namespace TEXT NOT NULL,
    name TEXT NOT NULL,
    dims TEXT NOT NULL,
    UNIQUE (namespace, name, dims)
);
CREATE TABLE IF NOT EXISTS data (
    metric INTEGER NOT NULL,
    ts REAL NOT NULL,
    unit TEXT NOT NULL,
    n REAL NOT NULL,
    sum REAL NOT NULL,
    min REAL NOT NULL,
    max REAL NOT NULL,
    vals TEXT,
    received REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS data_by_metric ON data (metric, ts);
CREATE TABLE IF NOT EXISTS alarms (
    name TEXT PRIMARY KEY,
    namespace TEXT,
    metric_name TEXT,
    config TEXT NOT NULL,
    state TEXT NOT NULL,
    reason TEXT NOT NULL,
    reason_data TEXT,
    state_updated REAL NOT NULL,
    state_transitioned REAL NOT NULL,
    config_updated REAL NOT NULL,
    actions_enabled INTEGER NOT NULL,
    evaluated REAL NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS alarms_by_metric ON alarms (namespace, metric_name);
CREATE TABLE IF NOT EXISTS history (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    alarm TEXT NOT NULL,
    ts REAL NOT NULL,
    type TEXT NOT NULL,
    summary TEXT NOT NULL,
    data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS history_by_alarm ON history (alarm, ts);
CREATE TABLE IF NOT EXISTS tags (
    arn TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (arn, key)
) WITHOUT ROWID;
"""


def canonical_dims(dimensions: list[dict] | None) -> str:
    """The stored form of a dimension set: order does not matter on AWS, so sort it."""
    if not dimensions:
        return "[]"
    return json.dumps(sorted([d["Name"], d["Value"]] for d in dimensions), separators=(",", ":"))


def dims_list(canonical: str) -> list[dict]:
    return [{"Name": n, "Value": v} for n, v in json.loads(canonical)]


def open_store(home: Path, account_id: str, region: str) -> SqliteStore:
    return SqliteStore(Path(home) / "cloudwatch" / f"{account_id}-{region}.db", SCHEMA)

"""The SQLite file behind the local Feature Store (control plane, online store, buffer)."""
from __future__ import annotations

import threading
from pathlib import Path

from local_backends.core.state import SqliteStore

SCHEMA = """
CREATE TABLE IF NOT EXISTS feature_groups (
    name        TEXT PRIMARY KEY,       -- FeatureGroupName (unique per account and region)
    generation  TEXT NOT NULL UNIQUE,   -- name + creation time: a re-created group starts empty
    created     REAL NOT NULL,
    status      TEXT NOT NULL,          -- Creating (until first described) | Created
    doc         TEXT NOT NULL           -- the DescribeFeatureGroup document (JSON, epoch times)
);
CREATE TABLE IF NOT EXISTS records (       -- the online store: newest event time wins
    generation  TEXT NOT NULL,
    record_id   TEXT NOT NULL,
    event_time  REAL NOT NULL,            -- seconds since the epoch, for ordering
    deleted     INTEGER NOT NULL DEFAULT 0,
    expires_at  REAL,                     -- TtlDuration of the group, else NULL
    features    TEXT NOT NULL,            -- JSON [[name, value-as-string], ...]
    PRIMARY KEY (generation, record_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS offline_buffer (  -- rows not yet written to the offline store
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    generation  TEXT NOT NULL,
    row         TEXT NOT NULL             -- JSON object: the Parquet row
);
CREATE INDEX IF NOT EXISTS offline_buffer_generation ON offline_buffer (generation, seq);
"""

_stores: dict[str, SqliteStore] = {}
_lock = threading.Lock()


def open_store(home: Path, account_id: str, region: str) -> SqliteStore:
    """The Feature Store database of one account and region (one instance per process)."""
    path = Path(home) / "featurestore" / account_id / region / "featurestore.db"
    key = str(path.resolve())
    with _lock:
        store = _stores.get(key)
        if store is None:
            store = _stores[key] = SqliteStore(path, SCHEMA)
        return store

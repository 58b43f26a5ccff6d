"""Comprehend's durable state: custom classifiers and their endpoints (SQLite under
``<home>/comprehend/``; trained models are files beside it, one folder per classifier)."""
from __future__ import annotations

from pathlib import Path

from local_backends.core.state import SqliteStore

SCHEMA = """
CREATE TABLE IF NOT EXISTS classifiers (
    arn           TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    version       TEXT NOT NULL DEFAULT '',
    status        TEXT NOT NULL,
    message       TEXT,
    language      TEXT NOT NULL,
    mode          TEXT NOT NULL,
    props         TEXT NOT NULL,          -- JSON: the request's configuration members
    submit_time   REAL NOT NULL,
    training_start REAL,
    training_end  REAL,
    end_time      REAL,
    metadata      TEXT,                   -- JSON: ClassifierMetadata once trained
    folder        TEXT NOT NULL,
    UNIQUE (name, version)
);
CREATE TABLE IF NOT EXISTS endpoints (
    arn           TEXT PRIMARY KEY,
    name          TEXT NOT NULL UNIQUE,
    model_arn     TEXT NOT NULL,
    status        TEXT NOT NULL,
    units         INTEGER NOT NULL,
    role_arn      TEXT,
    creation_time REAL NOT NULL,
    modified_time REAL NOT NULL
);
"""


def open_store(home: Path) -> SqliteStore:
    return SqliteStore(Path(home) / "comprehend" / "comprehend.db", SCHEMA)

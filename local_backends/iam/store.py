"""Where local IAM keeps things: ``<home>/iam/<account>.db`` (IAM is global: no region).

Names of roles and policies are unique without regard to case, as in IAM.
"""
from __future__ import annotations

from pathlib import Path

from local_backends.core.state import SqliteStore

SCHEMA = """
CREATE TABLE IF NOT EXISTS roles (
    name TEXT PRIMARY KEY COLLATE NOCASE,
    id TEXT NOT NULL,
    path TEXT NOT NULL,
    trust TEXT NOT NULL,
    description TEXT,
    max_session INTEGER NOT NULL,
    boundary TEXT,
    created REAL NOT NULL,
    tags TEXT NOT NULL DEFAULT '[]'
);
CREATE TABLE IF NOT EXISTS policies (
    arn TEXT PRIMARY KEY COLLATE NOCASE,
    name TEXT NOT NULL,
    id TEXT NOT NULL,
    path TEXT NOT NULL,
    description TEXT,
    default_version TEXT NOT NULL,
    next_version INTEGER NOT NULL,
    created REAL NOT NULL,
    updated REAL NOT NULL,
    tags TEXT NOT NULL DEFAULT '[]'
);
CREATE TABLE IF NOT EXISTS policy_versions (
    arn TEXT NOT NULL REFERENCES policies (arn) ON DELETE CASCADE,
    version TEXT NOT NULL,
    document TEXT NOT NULL,
    created REAL NOT NULL,
    PRIMARY KEY (arn, version)
);
CREATE TABLE IF NOT EXISTS attachments (
    role TEXT NOT NULL REFERENCES roles (name) ON DELETE CASCADE,
    policy_arn TEXT NOT NULL REFERENCES policies (arn),
    PRIMARY KEY (role, policy_arn)
);
CREATE TABLE IF NOT EXISTS inline_policies (
    role TEXT NOT NULL REFERENCES roles (name) ON DELETE CASCADE,
    name TEXT NOT NULL,
    document TEXT NOT NULL,
    PRIMARY KEY (role, name)
);
"""


def open_store(home: Path, account_id: str) -> SqliteStore:
    return SqliteStore(Path(home) / "iam" / f"{account_id}.db", SCHEMA)

"""The labelling state on disk: one SQLite file under ``<home>/sagemaker/labeling/``.

Work teams, workers, jobs, data objects (items) and worker answers. Every change is one short
``BEGIN IMMEDIATE`` transaction, so the portal process, job threads and API callers share the
file safely and a killed process leaves no torn record.
"""
from __future__ import annotations

import json
from pathlib import Path

from local_backends.core.state import SqliteStore

SCHEMA = """
CREATE TABLE IF NOT EXISTS workteams (
    account TEXT NOT NULL, region TEXT NOT NULL, name TEXT NOT NULL, arn TEXT NOT NULL,
    body TEXT NOT NULL, created REAL NOT NULL, updated REAL NOT NULL,
    PRIMARY KEY (account, region, name));
CREATE TABLE IF NOT EXISTS workers (
    worker_id TEXT PRIMARY KEY, account TEXT NOT NULL, region TEXT NOT NULL, workteam TEXT NOT NULL,
    name TEXT NOT NULL, email TEXT, kind TEXT NOT NULL, sub TEXT NOT NULL, created REAL NOT NULL);
CREATE TABLE IF NOT EXISTS jobs (
    account TEXT NOT NULL, region TEXT NOT NULL, name TEXT NOT NULL, arn TEXT NOT NULL UNIQUE,
    request TEXT NOT NULL, config TEXT NOT NULL, status TEXT NOT NULL, failure_reason TEXT,
    created REAL NOT NULL, modified REAL NOT NULL, reference_code TEXT NOT NULL,
    workteam_arn TEXT NOT NULL, stage TEXT NOT NULL DEFAULT 'human', claim REAL,
    final_model_arn TEXT, runner_pid INTEGER,
    PRIMARY KEY (account, region, name));
CREATE TABLE IF NOT EXISTS items (
    job_arn TEXT NOT NULL, idx INTEGER NOT NULL, data TEXT NOT NULL, task_input TEXT NOT NULL,
    state TEXT NOT NULL, label TEXT, metadata TEXT,
    PRIMARY KEY (job_arn, idx));
CREATE INDEX IF NOT EXISTS items_state ON items (job_arn, state);
CREATE TABLE IF NOT EXISTS answers (
    job_arn TEXT NOT NULL, idx INTEGER NOT NULL, worker_id TEXT NOT NULL, status TEXT NOT NULL,
    accepted_at REAL NOT NULL, submitted_at REAL, answer TEXT,
    PRIMARY KEY (job_arn, idx, worker_id));
CREATE INDEX IF NOT EXISTS answers_worker ON answers (worker_id, status);
CREATE INDEX IF NOT EXISTS answers_taken ON answers (job_arn, status, accepted_at);
"""

# item states
QUEUED = "queued"          # waiting (automated labelling decides later whether people see it)
PENDING = "pending"        # open to workers
ANSWERED = "answered"      # every worker it needs has answered: human-labelled
MACHINE = "machine"        # labelled by the automated-labelling model
FAILED = "failed"          # could not be labelled (FailedNonRetryableError)
UNLABELED = "unlabeled"    # left unlabelled (job stopped or a stopping condition reached)
OPEN_STATES = (QUEUED, PENDING)


def open_store(home: Path) -> SqliteStore:
    return SqliteStore(Path(home) / "sagemaker" / "labeling" / "labeling.db", SCHEMA)


def dumps(value) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)

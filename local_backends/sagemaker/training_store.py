"""The durable record of training jobs, shared by the API process and the job processes.

One SQLite table under ``<home>/sagemaker/``. The API process inserts a job and reads it;
the job's own process moves it through its statuses; a reader that finds a job in
progress whose process is gone marks it ``Failed`` (:meth:`TrainingStore.reap`), in the
same transaction that saw it in progress, so a job that just finished is never reaped.
"""
from __future__ import annotations


import json
import time
from pathlib import Path
from typing import Any

from local_backends.core.processes import process_alive, process_token  # noqa: F401 (re-exported)
from local_backends.core.state import SqliteStore

SCHEMA = """
CREATE TABLE IF NOT EXISTS training_jobs (
    account        TEXT NOT NULL,
    region         TEXT NOT NULL,
    name           TEXT NOT NULL,
    arn            TEXT NOT NULL,
    request        TEXT NOT NULL,            -- the CreateTrainingJob request, as JSON
    status         TEXT NOT NULL,
    secondary      TEXT NOT NULL,
    transitions    TEXT NOT NULL,            -- [{Status, StartTime, EndTime?, StatusMessage}]
    failure_reason TEXT,
    final_metrics  TEXT,                     -- [{MetricName, Value, Timestamp}]
    model_artifacts TEXT,
    creation_time  REAL NOT NULL,
    last_modified  REAL NOT NULL,
    training_start REAL,
    training_end   REAL,
    pid            INTEGER,
    pid_token      TEXT,
    stop_requested INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (account, region, name)
);
CREATE INDEX IF NOT EXISTS training_jobs_created ON training_jobs (account, region, creation_time);
"""

ACTIVE = ("InProgress", "Stopping")
"""Statuses of a job whose process should be alive."""

SPAWN_GRACE_SECONDS = 60.0
"""A job still without a process this long after its creation is taken for dead."""


def end_transitions(transitions: list[dict], now: float) -> list[dict]:
    if transitions and transitions[-1].get("EndTime") is None:
        transitions[-1]["EndTime"] = now
    return transitions


class TrainingStore:
    """Training-job records for every account and region of one state root."""

    def __init__(self, home: Path) -> None:
        self.root = Path(home) / "sagemaker"
        self.db = SqliteStore(self.root / "training.sqlite3", SCHEMA)

    def job_dir(self, region: str, name: str) -> Path:
        return self.root / "training-jobs" / region / name

    # -- reads ---------------------------------------------------------------------------
    def get(self, account: str, region: str, name: str) -> dict | None:
        row = self.db.query_one("SELECT * FROM training_jobs WHERE account=? AND region=? AND name=?",
                                (account, region, name))
        if row is not None and row["status"] in ACTIVE and not self._alive(row):
            row = self.reap(account, region, name) or row
        return _record(row) if row is not None else None

    def all(self, account: str, region: str) -> list[dict]:
        rows = self.db.query("SELECT * FROM training_jobs WHERE account=? AND region=?",
                             (account, region))
        out = []
        for row in rows:
            if row["status"] in ACTIVE and not self._alive(row):
                row = self.reap(account, region, row["name"]) or row
            out.append(_record(row))
        return out

    def stop_requested(self, account: str, region: str, name: str) -> bool:
        row = self.db.query_one("SELECT stop_requested FROM training_jobs "
                                "WHERE account=? AND region=? AND name=?", (account, region, name))
        return bool(row and row["stop_requested"])

    # -- writes --------------------------------------------------------------------------
    def insert(self, account: str, region: str, name: str, arn: str, request: dict,
               transitions: list[dict], now: float) -> bool:
        """Insert a new job; ``False`` if the name is taken."""
        with self.db.transaction() as db:
            if db.execute("SELECT 1 FROM training_jobs WHERE account=? AND region=? AND name=?",
                          (account, region, name)).fetchone():
                return False
            db.execute(
                "INSERT INTO training_jobs (account, region, name, arn, request, status, secondary,"
                " transitions, creation_time, last_modified) VALUES (?,?,?,?,?,?,?,?,?,?)",
                (account, region, name, arn, json.dumps(request), "InProgress",
                 transitions[-1]["Status"], json.dumps(transitions), now, now))
        return True

    def set_process(self, account: str, region: str, name: str, pid: int, token: str | None) -> None:
        with self.db.transaction() as db:
            db.execute("UPDATE training_jobs SET pid=?, pid_token=? WHERE account=? AND region=? AND name=?",
                       (pid, token, account, region, name))

    def update(self, account: str, region: str, name: str, **fields: Any) -> None:
        """Set columns of a job (JSON-encodes lists and dicts); ``last_modified`` too."""
        fields.setdefault("last_modified", time.time())
        cols = ", ".join(f"{k}=?" for k in fields)
        values = [json.dumps(v) if isinstance(v, (list, dict)) else v for v in fields.values()]
        with self.db.transaction() as db:
            db.execute(f"UPDATE training_jobs SET {cols} WHERE account=? AND region=? AND name=?",
                       (*values, account, region, name))

    def request_stop(self, account: str, region: str, name: str, message: str) -> str | None:
        """Mark an in-progress job ``Stopping``; its status before (``None``: unknown job)."""
        now = time.time()
        with self.db.transaction() as db:
            row = db.execute("SELECT status, transitions FROM training_jobs "
                             "WHERE account=? AND region=? AND name=?", (account, region, name)).fetchone()
            if row is None:
                return None
            if row["status"] == "InProgress":
                transitions = end_transitions(json.loads(row["transitions"]), now)
                transitions.append({"Status": "Stopping", "StartTime": now, "StatusMessage": message})
                db.execute("UPDATE training_jobs SET status='Stopping', secondary='Stopping', "
                           "transitions=?, stop_requested=1, last_modified=? "
                           "WHERE account=? AND region=? AND name=?",
                           (json.dumps(transitions), now, account, region, name))
            return row["status"]

    def reap(self, account: str, region: str, name: str):
        """Mark ``Failed`` a job in progress whose process is gone; the fresh row."""
        now = time.time()
        with self.db.transaction() as db:
            row = db.execute("SELECT * FROM training_jobs WHERE account=? AND region=? AND name=?",
                             (account, region, name)).fetchone()
            if row is None or row["status"] not in ACTIVE or self._alive(row, now):
                return row
            pid = row["pid"]
            reason = (f"InternalServerError: the local training process (pid {pid}) ended "
                      f"without reporting a result" if pid else
                      "InternalServerError: the local training process never started")
            transitions = end_transitions(json.loads(row["transitions"]), now)
            transitions.append({"Status": "Failed", "StartTime": now, "EndTime": now,
                                "StatusMessage": "Training job failed"})
            db.execute("UPDATE training_jobs SET status='Failed', secondary='Failed', transitions=?,"
                       " failure_reason=?, training_end=COALESCE(training_end, ?), last_modified=?"
                       " WHERE account=? AND region=? AND name=?",
                       (json.dumps(transitions), reason, now, now, account, region, name))
            return db.execute("SELECT * FROM training_jobs WHERE account=? AND region=? AND name=?",
                              (account, region, name)).fetchone()

    @staticmethod
    def _alive(row, now: float | None = None) -> bool:
        if row["pid"] is None:
            return (now or time.time()) - row["creation_time"] < SPAWN_GRACE_SECONDS
        return process_alive(row["pid"], row["pid_token"])


def _record(row) -> dict:
    rec = dict(row)
    for key in ("request", "transitions", "final_metrics"):
        if rec.get(key) is not None:
            rec[key] = json.loads(rec[key])
    return rec

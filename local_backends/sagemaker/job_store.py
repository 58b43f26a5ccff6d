"""What the SageMaker jobs run by detached local processes share (training, tuning and
AutoML jobs): the SQLite record of a job (one row per job, child rows for trials and
candidates, stop requests, the reaping of a job whose process died without reporting), the
start of the detached process, and the backend's lazily opened stores."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any, Callable

from local_backends.core.errors import AwsError, ValidationException
from local_backends.core.processes import process_alive
from local_backends.core.state import SqliteStore

ACTIVE = ("InProgress", "Stopping")
REPO_ROOT = str(Path(__file__).resolve().parents[2])


def jsonable(value: Any) -> Any:
    """A request as JSON can hold it: datetimes as epoch seconds, bytes as text."""
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [jsonable(v) for v in value]
    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return value


def spawn_detached(backend, job_dir: Path, bootstrap: str, name: str, log_name: str,
                   env_defaults: dict[str, str] | None = None) -> subprocess.Popen:
    """Start ``python -c bootstrap <home> <region> <account> <name>`` in its own session (it
    outlives the caller), in ``job_dir``, its output appended to ``job_dir/log_name``.

    The child reaches S3, Logs and CloudWatch as the creator's session does
    (``backend.peers.child_env``); ``env_defaults`` are set where the environment has no
    value. A thread of this process reaps the child when it ends, so it never lingers as a
    zombie. Raises ``OSError`` when the process cannot start.
    """
    job_dir.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [REPO_ROOT, env.get("PYTHONPATH")]))
    env.update(backend.peers.child_env)
    for key, value in (env_defaults or {}).items():
        env.setdefault(key, value)
    with open(job_dir / log_name, "ab") as log:
        proc = subprocess.Popen(
            [sys.executable, "-c", bootstrap, str(backend.home), backend.region, backend.account_id, name],
            cwd=job_dir, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True, close_fds=True)
    threading.Thread(target=proc.wait, name=f"reap-{name}", daemon=True).start()
    return proc


class BackendStore:
    """A backend attribute holding a store opened on first use on the backend's ``home``:
    ``training_store = BackendStore(TrainingStore)``."""

    def __init__(self, factory: Callable[[Path], Any]) -> None:
        self.factory = factory
        self.attr = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.attr = f"_{name}"

    def __get__(self, backend, owner: type | None = None):
        if backend is None:
            return self
        store = backend.__dict__.get(self.attr)
        if store is None:
            store = backend.__dict__[self.attr] = self.factory(backend.home)
        return store


def _encode(fields: dict) -> dict:
    return {k: (json.dumps(v) if isinstance(v, (dict, list)) else v) for k, v in fields.items()}


class JobStore:
    """A job table and its child table in ``<home>/sagemaker/<FILE>``; subclasses name them."""

    FILE: str
    SCHEMA: str
    TABLE: str               # one row per job
    JOBS_DIR: str            # <home>/sagemaker/<JOBS_DIR>/<region>/<name>: the job's files
    PROCESS: str             # "tuner", "AutoML": named in the reason a dead job fails with
    JSON_COLUMNS: tuple[str, ...] = ("request",)
    STATUS_FIELDS: tuple[str, ...] = ("status",)   # set together on Stopping and Failed (e.g. secondary)
    CHILD_TABLE: str
    CHILD_JOB: str           # the child table's column naming the job
    CHILD_JSON: tuple[str, ...] = ()

    def __init__(self, home: Path) -> None:
        self.root = Path(home) / "sagemaker"
        self.db = SqliteStore(self.root / self.FILE, self.SCHEMA)

    def job_dir(self, region: str, name: str) -> Path:
        return self.root / self.JOBS_DIR / region / name

    def _insert(self, account: str, region: str, name: str, arn: str, request: dict, now: float,
                **fields) -> bool:
        """A new ``InProgress`` row; ``False`` if the job exists already."""
        row = {"account": account, "region": region, "name": name, "arn": arn, "request": json.dumps(request),
               "status": "InProgress", "creation_time": now, "last_modified": now, **fields}
        with self.db.transaction() as db:
            if db.execute(f"SELECT 1 FROM {self.TABLE} WHERE account=? AND region=? AND name=?",
                          (account, region, name)).fetchone():
                return False
            db.execute(f"INSERT INTO {self.TABLE} ({', '.join(row)}) VALUES ({','.join('?' * len(row))})",
                       tuple(row.values()))
        return True

    def get(self, account: str, region: str, name: str) -> dict | None:
        """The job's record (JSON columns decoded); a job whose process is gone is failed first."""
        row = self.db.query_one(f"SELECT * FROM {self.TABLE} WHERE account=? AND region=? AND name=?",
                                (account, region, name))
        if row is not None and row["status"] in ACTIVE and not self._alive(row):
            row = self._reap(account, region, name) or row
        if row is None:
            return None
        rec = dict(row)
        for col in self.JSON_COLUMNS:
            rec[col] = json.loads(rec[col]) if rec[col] else None
        return rec

    def all(self, account: str, region: str) -> list[dict]:
        names = [r["name"] for r in self.db.query(f"SELECT name FROM {self.TABLE} WHERE account=? AND region=?",
                                                  (account, region))]
        return [r for r in (self.get(account, region, n) for n in names) if r is not None]

    def update(self, account: str, region: str, name: str, **fields) -> None:
        fields.setdefault("last_modified", time.time())
        fields = _encode(fields)
        with self.db.transaction() as db:
            db.execute(f"UPDATE {self.TABLE} SET {', '.join(f'{k}=?' for k in fields)} "
                       "WHERE account=? AND region=? AND name=?", (*fields.values(), account, region, name))

    def request_stop(self, account: str, region: str, name: str) -> str | None:
        """The status before the request (``None``: no such job); an ``InProgress`` job
        becomes ``Stopping``."""
        with self.db.transaction() as db:
            row = db.execute(f"SELECT status FROM {self.TABLE} WHERE account=? AND region=? AND name=?",
                             (account, region, name)).fetchone()
            if row is None:
                return None
            if row["status"] == "InProgress":
                status = ", ".join(f"{c}='Stopping'" for c in self.STATUS_FIELDS)
                db.execute(f"UPDATE {self.TABLE} SET {status}, stop_requested=1, last_modified=? "
                           "WHERE account=? AND region=? AND name=?", (time.time(), account, region, name))
            return row["status"]

    def stop(self, account: str, region: str, name: str, not_found: AwsError, kind: str) -> None:
        """A Stop* operation: ask the job to stop, or raise ``not_found`` (no such job) or a
        ``ValidationException`` (the job has ended already; ``kind`` names it)."""
        before = self.request_stop(account, region, name)
        if before is None:
            raise not_found
        if before not in ACTIVE:
            raise ValidationException(f"The {kind} {name} is in status {before} and cannot be stopped.")

    def stop_requested(self, account: str, region: str, name: str) -> bool:
        row = self.db.query_one(f"SELECT stop_requested FROM {self.TABLE} WHERE account=? AND region=? "
                                "AND name=?", (account, region, name))
        return bool(row and row["stop_requested"])

    # -- children (trials, candidates) ------------------------------------------------------
    def _put_child(self, account: str, region: str, job: str, seq: int, fields: dict) -> None:
        """Insert or update the child ``seq`` of ``job``, and touch the job's ``last_modified``."""
        fields = _encode(fields)
        key = (account, region, job, seq)
        where = f"account=? AND region=? AND {self.CHILD_JOB}=? AND seq=?"
        with self.db.transaction() as db:
            if db.execute(f"SELECT 1 FROM {self.CHILD_TABLE} WHERE {where}", key).fetchone():
                db.execute(f"UPDATE {self.CHILD_TABLE} SET {', '.join(f'{k}=?' for k in fields)} WHERE {where}",
                           (*fields.values(), *key))
            else:
                row = {**fields, "account": account, "region": region, self.CHILD_JOB: job, "seq": seq}
                db.execute(f"INSERT INTO {self.CHILD_TABLE} ({', '.join(row)}) VALUES ({','.join('?' * len(row))})",
                           tuple(row.values()))
            db.execute(f"UPDATE {self.TABLE} SET last_modified=? WHERE account=? AND region=? AND name=?",
                       (time.time(), account, region, job))

    def _children(self, account: str, region: str, job: str) -> list[dict]:
        out = []
        for row in self.db.query(f"SELECT * FROM {self.CHILD_TABLE} WHERE account=? AND region=? AND "
                                 f"{self.CHILD_JOB}=? ORDER BY seq", (account, region, job)):
            rec = dict(row)
            for col in self.CHILD_JSON:
                rec[col] = json.loads(rec[col]) if rec[col] else None
            out.append(rec)
        return out

    # -- liveness ---------------------------------------------------------------------------
    @staticmethod
    def _alive(row) -> bool:
        if row["pid"] is None:
            return time.time() - row["creation_time"] < 60
        return process_alive(row["pid"], row["pid_token"])

    def _reap(self, account: str, region: str, name: str):
        """Fail a job in progress whose process is gone; the fresh row."""
        now = time.time()
        select = f"SELECT * FROM {self.TABLE} WHERE account=? AND region=? AND name=?"
        with self.db.transaction() as db:
            row = db.execute(select, (account, region, name)).fetchone()
            if row is None or row["status"] not in ACTIVE or self._alive(row):
                return row
            reason = (f"InternalServerError: the local {self.PROCESS} process (pid {row['pid']}) ended without "
                      f"reporting a result" if row["pid"] else
                      f"InternalServerError: the local {self.PROCESS} process never started")
            status = ", ".join(f"{c}='Failed'" for c in self.STATUS_FIELDS)
            db.execute(f"UPDATE {self.TABLE} SET {status}, failure_reason=?, end_time=?, last_modified=? "
                       "WHERE account=? AND region=? AND name=?", (reason, now, now, account, region, name))
            return db.execute(select, (account, region, name)).fetchone()

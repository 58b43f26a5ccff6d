"""Durable state shared by threads and processes: SQLite in WAL mode, one connection per
thread, short immediate transactions.

SQLite gives the promises the backends make: a committed write is seen by every process
at once, a process killed mid-transaction leaves nothing behind, and concurrent writers
serialise. ``synchronous=NORMAL`` in WAL mode keeps that against process crashes (only an
operating-system crash may lose the last commits).
"""
from __future__ import annotations

import base64
import contextlib
import json
import os
import sqlite3
import threading
from pathlib import Path
from typing import Any, Iterator


class StateVersionError(RuntimeError):
    """Local state written by a version of aws_ml whose schema differs from this one's."""


class SqliteStore:
    """A SQLite database file with a schema, safe to use from threads and processes.

    ``version`` is kept in the file (``PRAGMA user_version``): a file written with another
    schema version is refused with a clear message instead of failing later on a missing
    column.
    """

    def __init__(self, path: Path, schema: str, pragmas: tuple[str, ...] = (), version: int = 1) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._schema = schema
        self._pragmas = pragmas
        self._local = threading.local()
        self._pid = os.getpid()
        db = self.connection()
        found = db.execute("PRAGMA user_version").fetchone()[0]
        has_tables = db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' LIMIT 1").fetchone()
        if has_tables and found != version:
            raise StateVersionError(
                f"{self.path} was written by another version of aws_ml (schema {found}, this one reads "
                f"schema {version}): move it away or delete the local state (aws-ml home --clean)")
        db.executescript(schema)  # IF NOT EXISTS statements: safe to repeat
        if found != version:
            db.execute(f"PRAGMA user_version = {int(version)}")

    def connection(self) -> sqlite3.Connection:
        if self._pid != os.getpid():  # forked: never share a connection with the parent
            self._local = threading.local()
            self._pid = os.getpid()
        db = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, timeout=60, isolation_level=None,
                                 check_same_thread=False)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute("PRAGMA wal_autocheckpoint=10000")  # fewer checkpoint fsyncs on busy stores
            db.execute("PRAGMA foreign_keys=ON")
            for pragma in self._pragmas:
                db.execute(f"PRAGMA {pragma}")
            db.row_factory = sqlite3.Row
            self._local.db = db
        return db

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction (``BEGIN IMMEDIATE``): committed on exit, rolled back on error."""
        db = self.connection()
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        else:
            db.execute("COMMIT")

    def query(self, sql: str, args: tuple | dict = ()) -> list[sqlite3.Row]:
        return self.connection().execute(sql, args).fetchall()

    def query_one(self, sql: str, args: tuple | dict = ()) -> sqlite3.Row | None:
        return self.connection().execute(sql, args).fetchone()


def encode_token(state: dict[str, Any]) -> str:
    """An opaque pagination token (AWS's tokens are opaque too)."""
    return base64.urlsafe_b64encode(json.dumps(state, separators=(",", ":")).encode()).decode()


def decode_token(token: str) -> dict[str, Any] | None:
    """The state in a token made by :func:`encode_token`, or ``None`` if it is not one."""
    try:
        state = json.loads(base64.urlsafe_b64decode(token.encode()))
    except (ValueError, UnicodeError):
        return None
    return state if isinstance(state, dict) else None


def token_value(token: str, key: str, kind: type | tuple[type, ...], error: Exception) -> Any:
    """The ``key`` of a pagination token this backend issued (:func:`encode_token`), of type
    ``kind``; raises ``error`` (the service's own "invalid token" error) for anything else."""
    state = decode_token(token)
    if state is None or not isinstance(state.get(key), kind):
        raise error
    return state[key]

"""The hosting records, in ``<home>/sagemaker/hosting.db`` (SQLite, shared by processes).

* ``models``, ``endpoint_configs``: the create requests as given (JSON) and their ARNs;
* ``endpoints``: status, failure reason, the live config and, during an update, the
  pending one;
* ``servers``: one row per model-server process (a variant instance). ``role`` is the
  routing record: ``live`` rows serve the endpoint, ``pending`` rows are starting for a
  create or update, ``draining`` rows are being stopped. Another process finds a
  variant's URL here (``url``), and a process that died is detected by its pid and its
  start-time token (a recycled pid is not mistaken for the server).
"""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from local_backends.core.state import SqliteStore

SCHEMA = """
CREATE TABLE IF NOT EXISTS models (
    account TEXT NOT NULL, region TEXT NOT NULL, name TEXT NOT NULL, arn TEXT NOT NULL,
    spec TEXT NOT NULL, created REAL NOT NULL,
    PRIMARY KEY (account, region, name));
CREATE TABLE IF NOT EXISTS endpoint_configs (
    account TEXT NOT NULL, region TEXT NOT NULL, name TEXT NOT NULL, arn TEXT NOT NULL,
    spec TEXT NOT NULL, created REAL NOT NULL,
    PRIMARY KEY (account, region, name));
CREATE TABLE IF NOT EXISTS endpoints (
    account TEXT NOT NULL, region TEXT NOT NULL, name TEXT NOT NULL, arn TEXT NOT NULL,
    config_name TEXT NOT NULL, pending_config TEXT, status TEXT NOT NULL,
    failure_reason TEXT, created REAL NOT NULL, modified REAL NOT NULL,
    generation INTEGER NOT NULL DEFAULT 1,
    PRIMARY KEY (account, region, name));
CREATE TABLE IF NOT EXISTS servers (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account TEXT NOT NULL, region TEXT NOT NULL, endpoint TEXT NOT NULL,
    variant TEXT NOT NULL, instance INTEGER NOT NULL, generation INTEGER NOT NULL,
    role TEXT NOT NULL, model_name TEXT NOT NULL, weight REAL NOT NULL,
    port INTEGER NOT NULL, url TEXT NOT NULL, pid INTEGER, token TEXT,
    dir TEXT NOT NULL, status_file TEXT NOT NULL, log_file TEXT NOT NULL,
    log_offset INTEGER NOT NULL DEFAULT 0, started REAL NOT NULL, drain_started REAL);
CREATE INDEX IF NOT EXISTS servers_by_endpoint ON servers (account, region, endpoint, role);
"""


class HostingStore(SqliteStore):
    """Models, endpoint configs, endpoints and model-server processes."""

    def __init__(self, home: Path) -> None:
        self.root = Path(home) / "sagemaker"
        super().__init__(self.root / "hosting.db", SCHEMA)

    def endpoint_dir(self, region: str, name: str) -> Path:
        return self.root / "endpoints" / region / name

    # -- models and configs (immutable once created) -------------------------------------
    def get_resource(self, table: str, account: str, region: str, name: str) -> dict | None:
        row = self.query_one(f"SELECT * FROM {table} WHERE account=? AND region=? AND name=?",
                             (account, region, name))
        if row is None:
            return None
        rec = dict(row)
        rec["spec"] = json.loads(rec["spec"])
        return rec

    def list_resources(self, table: str, account: str, region: str) -> list[dict]:
        rows = self.query(f"SELECT * FROM {table} WHERE account=? AND region=?", (account, region))
        return [dict(r, spec=json.loads(r["spec"])) for r in rows]

    def insert_resource(self, table: str, account: str, region: str, name: str, arn: str,
                        spec: dict) -> bool:
        """Insert; ``False`` if the name exists (nothing changes)."""
        with self.transaction() as db:
            cur = db.execute(
                f"INSERT OR IGNORE INTO {table} (account, region, name, arn, spec, created) "
                f"VALUES (?,?,?,?,?,?)", (account, region, name, arn, json.dumps(spec), time.time()))
            return cur.rowcount == 1

    def delete_resource(self, table: str, account: str, region: str, name: str) -> bool:
        with self.transaction() as db:
            cur = db.execute(f"DELETE FROM {table} WHERE account=? AND region=? AND name=?",
                             (account, region, name))
            return cur.rowcount == 1

    # -- endpoints ----------------------------------------------------------------------
    def get_endpoint(self, account: str, region: str, name: str) -> dict | None:
        row = self.query_one("SELECT * FROM endpoints WHERE account=? AND region=? AND name=?",
                             (account, region, name))
        return dict(row) if row else None

    def list_endpoints(self, account: str, region: str) -> list[dict]:
        return [dict(r) for r in self.query(
            "SELECT * FROM endpoints WHERE account=? AND region=?", (account, region))]

    def servers(self, account: str, region: str, endpoint: str,
                roles: tuple[str, ...] = ("live",)) -> list[dict]:
        marks = ",".join("?" * len(roles))
        return [dict(r) for r in self.query(
            f"SELECT * FROM servers WHERE account=? AND region=? AND endpoint=? "
            f"AND role IN ({marks}) ORDER BY variant, instance",
            (account, region, endpoint, *roles))]

    def all_servers(self, account: str, region: str, endpoint: str) -> list[dict]:
        return [dict(r) for r in self.query(
            "SELECT * FROM servers WHERE account=? AND region=? AND endpoint=? ORDER BY id",
            (account, region, endpoint))]

    def add_server(self, db, **fields: Any) -> int:
        cols = ",".join(fields)
        cur = db.execute(f"INSERT INTO servers ({cols}) VALUES ({','.join('?' * len(fields))})",
                         tuple(fields.values()))
        return cur.lastrowid

    def set_server(self, server_id: int, **fields: Any) -> None:
        sets = ",".join(f"{k}=?" for k in fields)
        with self.transaction() as db:
            db.execute(f"UPDATE servers SET {sets} WHERE id=?", (*fields.values(), server_id))

    def remove_server(self, server_id: int) -> None:
        with self.transaction() as db:
            db.execute("DELETE FROM servers WHERE id=?", (server_id,))

    def claim_drain(self, ids: list[int], stale_after: float = 60.0) -> list[int]:
        """Claim the stopping of draining servers (one process stops each; a claim older
        than ``stale_after`` seconds, whose process died, can be taken over)."""
        now = time.time()
        claimed = []
        with self.transaction() as db:
            for server_id in ids:
                cur = db.execute("UPDATE servers SET drain_started=? WHERE id=? AND role='draining' "
                                 "AND (drain_started IS NULL OR drain_started < ?)",
                                 (now, server_id, now - stale_after))
                if cur.rowcount:
                    claimed.append(server_id)
        return claimed

    def claim_log_range(self, server_id: int, size: int) -> int | None:
        """Advance a server's shipped-log offset to ``size``; the old offset, or ``None``."""
        with self.transaction() as db:
            row = db.execute("SELECT log_offset FROM servers WHERE id=?", (server_id,)).fetchone()
            if row is None or row["log_offset"] >= size:
                return None
            db.execute("UPDATE servers SET log_offset=? WHERE id=?", (size, server_id))
            return row["log_offset"]

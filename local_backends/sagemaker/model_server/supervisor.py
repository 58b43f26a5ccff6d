"""Model-server processes: start, watch, switch, stop.

An endpoint moves forward when someone looks at it (``describe_endpoint``, the waiters,
``invoke_endpoint``, and a watcher thread in the process that created or updated it):
:func:`advance` reads the status files the pending servers write and, in one SQLite
transaction, either promotes them (``pending`` → ``live``, the previous ``live`` →
``draining``; the endpoint goes ``InService``) or records the failure. Draining servers
are stopped after the switch is committed — SIGTERM (uvicorn answers the requests in
flight), then SIGKILL after a grace period — so no request is dropped by an update: the
new servers share the variant's port (``SO_REUSEPORT``) and answer before the old ones
stop. An update is ``InService`` once the old servers are gone (as AWS's blue/green
deployment terminates the old fleet before it reports ``InService``).
"""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path


from local_backends.core.processes import process_alive, process_token  # noqa: F401 (re-exported)

from .store import HostingStore

PACKAGE_PARENT = str(Path(__file__).resolve().parents[1])
_BOOT = (f"import sys; sys.path.insert(0, {PACKAGE_PARENT!r}); "
         f"from model_server.app import main; sys.exit(main())")
STOP_GRACE_SECONDS = 10.0
"""How long a stopping server gets to finish its requests before SIGKILL."""
DRAIN_DELAY_SECONDS = 0.5
"""Between an update's switch and the old servers' SIGTERM (clients that read the old
routing record just before the switch still reach them)."""
START_TIMEOUT_SECONDS = 600.0
"""A server not ready after this long is taken for failed."""


# -- processes ------------------------------------------------------------------------------

def reserve_port(host: str = "127.0.0.1") -> socket.socket:
    """A bound (not listening) ``SO_REUSEPORT`` socket on a free port: the servers of a
    variant bind the same port; holding this keeps other programs off it meanwhile."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if hasattr(socket, "SO_REUSEPORT"):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, 0))
    return sock


def spawn(server_dir: Path, model_dir: Path, port: int, environment: dict[str, str],
          code_dir: Path | None, program: str | None) -> tuple[subprocess.Popen, Path, Path]:
    """Start one detached model server; ``(process, status file, log file)``."""
    server_dir.mkdir(parents=True, exist_ok=True)
    status_file = server_dir / "status.json"
    log_file = server_dir / "server.log"
    status_file.unlink(missing_ok=True)
    env = dict(os.environ)
    env.update({k: str(v) for k, v in environment.items()})
    env["PYTHONUNBUFFERED"] = "1"
    # The server imports only this package (run as the top-level ``model_server``), not
    # local_backends and boto3: it starts in a fraction of a second.
    cmd = [sys.executable, "-c", _BOOT, "--model-dir", str(model_dir), "--port", str(port), "--status-file", str(status_file)]
    if code_dir is not None:
        cmd += ["--code-dir", str(code_dir)]
    if program:
        cmd += ["--program", program]
    with open(log_file, "ab") as log:
        proc = subprocess.Popen(cmd, cwd=server_dir, env=env, stdin=subprocess.DEVNULL,
                                stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True, close_fds=True)
    # reap it when it ends (while this process lives), so it never lingers as a zombie
    threading.Thread(target=proc.wait, name=f"reap-model-server-{proc.pid}", daemon=True).start()
    return proc, status_file, log_file


def read_status(server: dict) -> dict:
    """The state of a server: ``ready``, ``failed`` (with ``reason``) or ``starting``."""
    try:
        status = json.loads(Path(server["status_file"]).read_text())
    except (OSError, ValueError):
        status = {"state": "starting"}
    if status["state"] == "ready" and not process_alive(server["pid"], server["token"]):
        return {"state": "failed", "reason": exit_reason(server)}
    if status["state"] == "starting":
        if not process_alive(server["pid"], server["token"]):
            # it may have written its status just before exiting
            try:
                status = json.loads(Path(server["status_file"]).read_text())
            except (OSError, ValueError):
                status = {"state": "failed", "reason": exit_reason(server)}
            if status["state"] != "failed":
                status = {"state": "failed", "reason": exit_reason(server)}
        elif time.time() - server["started"] > START_TIMEOUT_SECONDS:
            status = {"state": "failed", "reason": f"the model server did not answer /ping "
                                                   f"within {START_TIMEOUT_SECONDS:.0f} seconds"}
    return status


def exit_reason(server: dict) -> str:
    """Why a server process is gone: the last error line of its log."""
    tail = log_tail(server["log_file"])
    errors = [line for line in tail if "Error" in line or "ERROR" in line]
    last = (errors or tail or ["no output"])[-1].strip()
    return (f"The model server of production variant {server['variant']} (pid {server['pid']}) "
            f"exited: {last}")[:1024]


def log_tail(path: str, max_bytes: int = 8192) -> list[str]:
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - max_bytes))
            return f.read().decode("utf-8", errors="replace").splitlines()
    except OSError:
        return []


def stop(server: dict, grace: float = STOP_GRACE_SECONDS) -> None:
    """SIGTERM, then SIGKILL after ``grace`` seconds; returns once the process is gone."""
    pid, token = server["pid"], server["token"]
    if not process_alive(pid, token):
        return
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        if not process_alive(pid, token):
            return
        time.sleep(0.02)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return
    while process_alive(pid, token):
        time.sleep(0.01)


# -- the endpoint state machine ---------------------------------------------------------------

IN_PROGRESS = ("Creating", "Updating")


def advance(store: HostingStore, account: str, region: str, name: str) -> list[dict]:
    """Move an endpoint forward from its servers' states; the servers to stop (drain).

    Idempotent and safe from any number of processes: the decision is one transaction.
    """
    ep = store.get_endpoint(account, region, name)
    if ep is None:
        return []
    if ep["status"] not in IN_PROGRESS and ep["status"] != "InService":
        return store.servers(account, region, name, ("draining",))
    if ep["status"] == "InService":
        dead = [s for s in store.servers(account, region, name)
                if not process_alive(s["pid"], s["token"])]
        if not dead:
            return store.servers(account, region, name, ("draining",))
        with store.transaction() as db:
            cur = db.execute("SELECT status FROM endpoints WHERE account=? AND region=? AND name=?",
                             (account, region, name)).fetchone()
            # still a live server (not one an update has just switched away from and stopped)
            still = db.execute(f"SELECT COUNT(*) FROM servers WHERE role='live' AND id IN "
                               f"({','.join('?' * len(dead))})", [s["id"] for s in dead]).fetchone()[0]
            if cur is not None and cur["status"] == "InService" and still:
                db.execute("UPDATE endpoints SET status='Failed', failure_reason=?, modified=? "
                           "WHERE account=? AND region=? AND name=?",
                           (exit_reason(dead[0]), time.time(), account, region, name))
        return store.servers(account, region, name, ("draining",))

    pending = store.servers(account, region, name, ("pending",))
    now = time.time()
    if not pending:
        live = store.servers(account, region, name)
        if not any(s["generation"] == ep["generation"] for s in live):
            # the models are still being fetched (no server started yet)
            if now - ep["modified"] > START_TIMEOUT_SECONDS:
                with store.transaction() as db:
                    db.execute("UPDATE endpoints SET status=?, failure_reason=?, modified=?, "
                               "pending_config=NULL WHERE account=? AND region=? AND name=? AND "
                               "generation=? AND status=?",
                               ("Failed" if ep["status"] == "Creating" else "InService",
                                "no model server was started for this deployment", now,
                                account, region, name, ep["generation"], ep["status"]))
            return []
        # switched: the update ends (InService) once the previous servers are stopped
        draining = store.servers(account, region, name, ("draining",))
        if draining:
            return draining
        with store.transaction() as db:
            db.execute("UPDATE endpoints SET status='InService', modified=? WHERE account=? AND "
                       "region=? AND name=? AND status=? AND generation=?",
                       (now, account, region, name, ep["status"], ep["generation"]))
        return []
    states = [read_status(s) for s in pending]
    failed = [(s, st) for s, st in zip(pending, states) if st["state"] == "failed"]
    ready = all(st["state"] == "ready" for st in states)
    if not failed and not ready:
        return []
    with store.transaction() as db:
        cur = db.execute("SELECT * FROM endpoints WHERE account=? AND region=? AND name=?",
                         (account, region, name)).fetchone()
        if cur is None or cur["status"] != ep["status"] or cur["generation"] != ep["generation"]:
            return []  # another process moved it meanwhile
        ids = [s["id"] for s in pending]
        marks = ",".join("?" * len(ids))
        if failed:
            server, st = failed[0]
            reason = st.get("reason") or exit_reason(server)
            db.execute(f"UPDATE servers SET role='draining' WHERE id IN ({marks})", ids)
            if ep["status"] == "Creating":
                db.execute("UPDATE endpoints SET status='Failed', failure_reason=?, modified=?, "
                           "pending_config=NULL WHERE account=? AND region=? AND name=?",
                           (reason, now, account, region, name))
            else:  # a failed update rolls back: the previous servers keep serving
                db.execute("UPDATE endpoints SET status='InService', failure_reason=?, modified=?, "
                           "pending_config=NULL WHERE account=? AND region=? AND name=?",
                           (reason, now, account, region, name))
        else:
            # the routing switch: new servers live, old ones draining, in one transaction
            old = db.execute("UPDATE servers SET role='draining' WHERE account=? AND region=? AND "
                             "endpoint=? AND role='live'", (account, region, name)).rowcount
            db.execute(f"UPDATE servers SET role='live' WHERE id IN ({marks})", ids)
            db.execute("UPDATE endpoints SET status=?, failure_reason=NULL, modified=?, "
                       "config_name=COALESCE(pending_config, config_name), pending_config=NULL "
                       "WHERE account=? AND region=? AND name=?",
                       ("Updating" if old else "InService", now, account, region, name))
    return store.servers(account, region, name, ("draining",))


def drain(store: HostingStore, servers: list[dict], delay: float = DRAIN_DELAY_SECONDS,
          wait: bool = False) -> None:
    """Stop ``servers`` (after ``delay``) and forget them; in a thread unless ``wait``."""
    claimed = set(store.claim_drain([s["id"] for s in servers]))
    servers = [s for s in servers if s["id"] in claimed]
    if not servers:
        return

    def run() -> None:
        if delay:
            time.sleep(delay)
        for s in servers:
            stop(s)
            store.remove_server(s["id"])

    if wait:
        run()
    else:
        threading.Thread(target=run, name="drain-model-servers", daemon=True).start()

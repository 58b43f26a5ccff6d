"""LocalStack (free edition) as a host process, without Docker, from its own venv.

``tests/infra/setup_localstack.sh`` installs it in ``.venv-localstack/``; :class:`LocalStack`
starts it on a free 127.0.0.1 port with private state directories, waits for
``/_localstack/health`` and stops it by PID (SIGTERM, then SIGKILL after 10 s).
"""
from __future__ import annotations

import os
import subprocess
import tempfile
import time
from pathlib import Path

from aws_ml.emulators import free_port, stop_process, wait_http

ROOT = Path(__file__).resolve().parents[2]
VENV = ROOT / ".venv-localstack"
PYTHON = VENV / "bin" / "python"


def installed() -> bool:
    """Whether the setup script left a usable LocalStack venv."""
    return PYTHON.exists() and (VENV / "INSTALL_SECONDS").exists()


def rss_mib(pid: int) -> float:
    """Resident memory of ``pid`` and its children, in MiB (from /proc)."""
    total = 0
    pids = [pid]
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        pids += [int(p) for p in children.read_text().split()]
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except FileNotFoundError:
            continue
    return total / 1024


class LocalStack:
    """One LocalStack process on 127.0.0.1 (``with LocalStack() as ls: ls.endpoint_url``)."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.proc: subprocess.Popen | None = None
        self.start_seconds: float | None = None
        self._tmp: tempfile.TemporaryDirectory | None = None

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_file(self) -> Path | None:
        return Path(self._tmp.name) / "localstack.log" if self._tmp else None

    def start(self, timeout: float = 90.0) -> "LocalStack":
        if not installed():
            raise FileNotFoundError(f"{PYTHON} missing: run tests/infra/setup_localstack.sh")
        self._tmp = tempfile.TemporaryDirectory(prefix="aws-ml-localstack-")
        tmp = Path(self._tmp.name)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "LOCALSTACK_"))}
        env.update(
            GATEWAY_SERVER="hypercorn", GATEWAY_LISTEN=f"127.0.0.1:{self.port}", DNS_ADDRESS="0",
            OVERRIDE_IN_DOCKER="0", DISABLE_EVENTS="1", SKIP_SSL_CERT_DOWNLOAD="1",
            CFN_IGNORE_UNSUPPORTED_RESOURCE_TYPES="1", LOCALSTACK_VOLUME_DIR=str(tmp / "volume"),
            DATA_DIR=str(tmp / "data"), TMPDIR=str(tmp), PERSISTENCE="0",
        )
        t = time.perf_counter()
        self.proc = subprocess.Popen(
            [str(PYTHON), "-m", "localstack.runtime.main"], env=env, cwd=tmp,
            stdout=open(tmp / "localstack.log", "ab"), stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True)
        try:
            wait_http(f"{self.endpoint_url}/_localstack/health", timeout, self.proc)
        except BaseException as exc:
            log = (tmp / "localstack.log").read_text(errors="replace")[-3000:]
            self.stop()
            raise RuntimeError(f"LocalStack did not start: {exc}\n--- log tail ---\n{log}") from exc
        self.start_seconds = time.perf_counter() - t
        return self

    def rss_mib(self) -> float:
        return rss_mib(self.proc.pid) if self.proc else 0.0

    def stop(self) -> None:
        if self.proc is not None:
            stop_process(self.proc, grace=10)
            self.proc = None
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> "LocalStack":
        return self.start() if self.proc is None else self

    def __exit__(self, *exc: object) -> None:
        self.stop()

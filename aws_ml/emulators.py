"""AWS emulators the session can talk to: a moto server and LocalStack.

Servers are started on a free 127.0.0.1 port, waited for, and stopped with SIGTERM then
SIGKILL, so that no process or port is left behind.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def wait_http(url: str, timeout: float, proc: subprocess.Popen | None = None) -> None:
    """Wait until ``url`` answers any HTTP status (or the process dies)."""
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{proc.args[0]} exited with code {proc.returncode} before {url} answered")
        try:
            urllib.request.urlopen(url, timeout=1).close()
            return
        except urllib.error.HTTPError:
            return
        except OSError as exc:
            last = exc
            time.sleep(0.05)
    raise TimeoutError(f"{url} did not answer within {timeout:.0f} s ({last})")


def stop_process(proc: subprocess.Popen, grace: float = 10.0) -> None:
    """SIGTERM, then SIGKILL after ``grace`` seconds; the whole process group."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait(5)


class MotoServer:
    """A ``moto`` server process on 127.0.0.1 (``pip install 'aws-ml[moto]'``).

    >>> with MotoServer() as server:          # doctest: +SKIP
    ...     Session(backend="moto", endpoint_url=server.endpoint_url)
    """

    def __init__(self, host: str = "127.0.0.1", port: int | None = None,
                 log_file: Path | None = None) -> None:
        self.host = host
        self.port = port or free_port(host)
        self.log_file = log_file
        self.proc: subprocess.Popen | None = None

    @property
    def endpoint_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self, timeout: float = 30.0) -> "MotoServer":
        try:
            import moto.server  # noqa: F401  (fail here, loudly, with the extra to install)
        except ImportError as exc:
            raise ImportError("a moto server needs moto[server]: pip install 'aws-ml[moto]'") from exc
        out = open(self.log_file, "ab") if self.log_file else subprocess.DEVNULL
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", self.host, "-p", str(self.port)],
            stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            wait_http(f"{self.endpoint_url}/moto-api/", timeout, self.proc)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        if self.proc is not None:
            stop_process(self.proc, grace=5)
            self.proc = None

    def reset(self) -> None:
        """Forget every resource (moto's ``/moto-api/reset``)."""
        req = urllib.request.Request(f"{self.endpoint_url}/moto-api/reset", method="POST")
        urllib.request.urlopen(req, timeout=10).close()

    def __enter__(self) -> "MotoServer":
        return self.start() if self.proc is None else self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def localstack_endpoint(service: str | None = None) -> str:
    """LocalStack's edge URL as the ``localstack-client`` package resolves it.

    ``AWS_ENDPOINT_URL`` wins; otherwise ``LOCALSTACK_HOST`` (default ``localhost:4566``)
    with ``USE_SSL``; the legacy ``EDGE_PORT`` is honoured as that package does.
    """
    if os.environ.get("AWS_ENDPOINT_URL"):
        return os.environ["AWS_ENDPOINT_URL"]
    try:
        from localstack_client.config import get_service_endpoint
    except ImportError:
        get_service_endpoint = None
    if get_service_endpoint is not None and service:
        url = get_service_endpoint(service)
        if url:
            return url
    host = os.environ.get("LOCALSTACK_HOST", "localhost:4566")
    if ":" not in host:
        host = f"{host}:{os.environ.get('EDGE_PORT', '4566')}"
    scheme = "https" if os.environ.get("USE_SSL", "").lower() in ("1", "true") else "http"
    return f"{scheme}://{host}"

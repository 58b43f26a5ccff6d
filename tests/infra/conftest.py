"""Fixtures of the infrastructure smoke tests: emulator processes (a moto server, LocalStack)
started once per test session and always stopped, and ``stack_session`` — the same smoke
tests on four targets:

- ``local``: the local backends, CloudFormation included;
- ``moto``: a moto server, CloudFormation routed to moto's own engine;
- ``aws-endpoint``: the unchanged ``aws`` backend pointed at that moto server only through
  boto3's ``AWS_ENDPOINT_URL`` and dummy credentials (the production code path);
- ``localstack``: LocalStack's free edition as a host process (slow, server).
"""
from __future__ import annotations

import os
import socket
from dataclasses import dataclass, field

import pytest

from aws_ml import Session
from aws_ml.emulators import MotoServer
from tests.infra import localstack_proc

REGION = "us-east-1"


def port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


def process_is_gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    # a zombie is gone for every purpose but the process table
    return "State:\tZ" in open(f"/proc/{pid}/status").read()


@dataclass
class StackTarget:
    """One place to deploy the templates to: its name, a session and its CloudFormation."""
    name: str
    session: Session
    cf: object = field(init=False)

    def __post_init__(self) -> None:
        self.cf = self.session.client("cloudformation")


@pytest.fixture(scope="session")
def moto_server(tmp_path_factory):
    """A moto server on a free 127.0.0.1 port, stopped (and checked gone) at the end."""
    server = MotoServer(log_file=tmp_path_factory.mktemp("moto") / "moto.log").start()
    pid, port = server.proc.pid, server.port
    yield server
    server.stop()
    assert process_is_gone(pid), f"moto server {pid} still running"
    assert port_is_free(port), f"port {port} still open after the moto server stopped"


@pytest.fixture(scope="session")
def localstack_server():
    """LocalStack from .venv-localstack/. Missing install: skip, naming why; installed but not
    starting: fail loudly on CI (``CI=true``), skip with the log tail elsewhere."""
    if not localstack_proc.installed():
        pytest.skip(f"LocalStack not installed: {localstack_proc.PYTHON} missing or "
                    "tests/infra/setup_localstack.sh did not finish (see its output)")
    server = localstack_proc.LocalStack()
    try:
        server.start()
    except Exception as exc:  # noqa: BLE001 — reported, never swallowed
        if os.environ.get("CI") == "true":
            pytest.fail(f"LocalStack installed but not starting: {exc}")
        pytest.skip(f"LocalStack installed but not starting: {exc}")
    pid, port = server.proc.pid, server.port
    yield server
    server.stop()
    assert process_is_gone(pid), f"LocalStack {pid} still running"
    assert port_is_free(port), f"port {port} still open after LocalStack stopped"


TARGETS = ["local", "moto", "aws-endpoint",
           pytest.param("localstack", marks=[pytest.mark.slow, pytest.mark.server])]


@pytest.fixture(scope="module", params=TARGETS)
def stack_session(request, tmp_path_factory):
    """A :class:`StackTarget` per target (module-scoped: one deployment serves a module)."""
    name = request.param
    home = tmp_path_factory.mktemp(f"smoke_{name}")
    if name == "local":
        with Session(backend="local", home=home, region=REGION) as session:
            yield StackTarget(name, session)
    elif name == "moto":
        server = request.getfixturevalue("moto_server")
        server.reset()
        # every service, CloudFormation and Athena included, is moto's: nothing routed to local
        with Session(backend="moto", endpoint_url=server.endpoint_url, home=home, region=REGION,
                     services={"athena": "moto", "cloudformation": "moto"}) as session:
            yield StackTarget(name, session)
    elif name == "aws-endpoint":
        server = request.getfixturevalue("moto_server")
        server.reset()
        with pytest.MonkeyPatch.context() as mp:
            for var in [v for v in os.environ if v.startswith("AWS_")]:
                mp.delenv(var)
            mp.setenv("AWS_ENDPOINT_URL", server.endpoint_url)
            mp.setenv("AWS_ACCESS_KEY_ID", "testing")
            mp.setenv("AWS_SECRET_ACCESS_KEY", "testing")
            mp.setenv("AWS_SESSION_TOKEN", "testing")
            mp.setenv("AWS_DEFAULT_REGION", REGION)
            mp.setenv("AWS_CONFIG_FILE", str(home / "no-config"))
            mp.setenv("AWS_SHARED_CREDENTIALS_FILE", str(home / "no-credentials"))
            with Session(backend="aws", home=home, region=REGION) as session:
                yield StackTarget(name, session)
    else:
        server = request.getfixturevalue("localstack_server")
        # Glue, Athena and SageMaker asked of LocalStack itself (the session would send them to local)
        with Session(backend="localstack", endpoint_url=server.endpoint_url, home=home, region=REGION,
                     services={"glue": "localstack", "athena": "localstack", "sagemaker": "localstack"}) as session:
            yield StackTarget(name, session)

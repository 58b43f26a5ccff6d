"""Shared fixtures: every contract test runs once per backend (``local`` and ``moto``)."""
from __future__ import annotations

import os

os.environ.setdefault("AWS_ML_STRICT", "1")          # responses are checked against botocore's model
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
for _var in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ML_BACKEND", "AWS_ML_HOME"):
    os.environ.pop(_var, None)

import pytest  # noqa: E402

from aws_ml import Session  # noqa: E402

BACKENDS = ["local", "moto"]


@pytest.fixture
def home(tmp_path):
    """A fresh local state root (its presign server, if a test started one, is stopped)."""
    root = tmp_path / "aws_ml_home"
    yield root
    from local_backends.s3.presign import stop_server
    stop_server(root)


@pytest.fixture(params=BACKENDS)
def session(request, home):
    """A Session on each backend the contract suite covers (moto in-process)."""
    with Session(backend=request.param, home=home, region="us-east-1") as s:
        yield s


@pytest.fixture
def local_session(home):
    with Session(backend="local", home=home, region="us-east-1") as s:
        yield s


def on_moto(session) -> bool:
    return session.backend == "moto"


def moto_gap(session, reason: str) -> None:
    """Mark a behaviour AWS documents that moto does not reproduce (the test follows AWS)."""
    if session.backend == "moto":
        pytest.xfail(f"moto gap: {reason}")

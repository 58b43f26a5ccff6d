"""``aws_ml.Session``: real boto3 objects on every backend.

>>> from aws_ml import Session
>>> s3 = Session(backend="local").client("s3")      # a botocore.client.BaseClient
>>> s3.create_bucket(Bucket="my-bucket")["ResponseMetadata"]["HTTPStatusCode"]
200
"""
from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import boto3
import botocore.loaders
import botocore.session

from .emulators import MotoServer, localstack_endpoint
from .hooks import LocalRouter
from .routing import Routes, resolve_backend

DUMMY_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}

# One botocore data loader for every session of the process: service models are parsed
# once (a new boto3.Session otherwise re-reads them, ~0.3 s for the first clients).
_LOADER = botocore.loaders.create_loader()
JOB_SESSION_ENV = "AWS_ML_JOB_SESSION"
"""How a job process learns the session of its creator (a JSON description)."""


def job_session_spec() -> dict | None:
    """This job process's creator's session, as :meth:`Session.child_env` described it
    (``None``: a local session)."""
    return json.loads(os.environ.get(JOB_SESSION_ENV) or "null") or None


def job_routes() -> Routes:
    """Which backend serves each service in this job process (all local when the process
    was started by a local session)."""
    spec = job_session_spec()
    return Routes(spec["backend"], spec.get("services") or None) if spec else Routes("local", None)
LOCAL_ACCOUNT_ID = "123456789012"


def default_home() -> Path:
    """The local state root: ``AWS_ML_HOME``, else ``~/.aws_ml``."""
    return Path(os.environ.get("AWS_ML_HOME") or Path.home() / ".aws_ml").expanduser()


class _RoutedBotocoreSession(botocore.session.Session):
    """A botocore session that gives clients of emulated services their endpoint URL.

    Libraries handed ``session.boto3_session`` create their own clients; this is where
    they learn the emulator's address without knowing it exists.
    """

    def __init__(self, endpoint_for, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._endpoint_for = endpoint_for

    def create_client(self, service_name, *args: Any, **kwargs: Any):
        if kwargs.get("endpoint_url") is None:
            kwargs["endpoint_url"] = self._endpoint_for(service_name)
        return super().create_client(service_name, *args, **kwargs)


class Session:
    """One entry point to AWS, an emulator, or the local backends.

    :param backend: ``"local"`` (pure-Python backends, state under ``home``), ``"moto"``
        (in-process ``mock_aws``, or a moto server with ``endpoint_url`` or
        ``server=True``), ``"localstack"`` (endpoint from the environment, as the
        ``localstack-client`` package reads it) or ``"aws"`` (plain boto3). Default:
        ``AWS_ML_BACKEND``, else ``"local"``.
    :param region: the AWS region (default: ``AWS_DEFAULT_REGION``, else ``us-east-1``).
    :param services: per-service overrides, e.g. ``{"athena": "local"}``.
    :param home: the local state root (default: ``AWS_ML_HOME``, else ``~/.aws_ml``).
    :param profile: the AWS profile (``aws`` backend only).
    :param endpoint_url: an emulator's URL (``moto`` server or ``localstack``).
    :param server: with ``backend="moto"``, start a moto server on a free 127.0.0.1 port
        (stopped by :meth:`close`) instead of mocking in-process.
    """

    def __init__(self, backend: str | None = None, region: str | None = None,
                 services: Mapping[str, str] | None = None, home: str | Path | None = None,
                 profile: str | None = None, endpoint_url: str | None = None,
                 server: bool = False) -> None:
        self.backend = resolve_backend(backend)
        self.region = region or os.environ.get("AWS_DEFAULT_REGION") or os.environ.get("AWS_REGION") or "us-east-1"
        self.routes = Routes(self.backend, services)
        self._services = dict(services or {})
        self._profile = profile
        self.home = Path(home).expanduser() if home is not None else default_home()
        self.endpoint_url = endpoint_url
        self._mock = None
        self._server: MotoServer | None = None
        self._closed = False
        self._activated: list = []

        if self.backend == "moto" and server and endpoint_url is None:
            self._server = MotoServer().start()
            self.endpoint_url = self._server.endpoint_url
        if self.backend == "moto" and self.endpoint_url is None:
            from moto import mock_aws  # in-process: moto intercepts every botocore request
            self._mock = mock_aws()
            self._mock.start()
        if self.backend == "localstack" and self.endpoint_url is None:
            self.endpoint_url = localstack_endpoint()

        if self.backend == "aws":
            core = botocore.session.Session(profile=profile)
            core.register_component("data_loader", _LOADER)
            self.boto3_session = boto3.Session(botocore_session=core, region_name=region)
        else:
            core = _RoutedBotocoreSession(self._endpoint_for)
            core.register_component("data_loader", _LOADER)
            self.boto3_session = boto3.Session(botocore_session=core, region_name=self.region,
                                               **DUMMY_CREDENTIALS)
        self.router = LocalRouter(self.home, self.routes, LOCAL_ACCOUNT_ID, self.boto3_session,
                                  child_env=self.child_env())
        if self.backend != "aws" or self.routes:
            self.router.install(core)

    # -- processes the local backends start -------------------------------------------
    def child_env(self) -> dict[str, str]:
        """What a detached process of a local backend (a training, tuning or AutoML job)
        needs in its environment to reach the services the way this session does — S3 on
        LocalStack or a moto server, say — with :meth:`for_job_process`. Empty on ``local``
        and on in-process moto (another process cannot reach it: its jobs run in-process)."""
        if self.backend == "local" and not self._services:
            return {}
        if self.backend == "moto" and self._mock is not None:
            return {}
        spec = {"backend": self.backend, "services": self._services, "endpoint_url": self.endpoint_url,
                "profile": self._profile}
        return {JOB_SESSION_ENV: json.dumps(spec)}

    @classmethod
    def for_job_process(cls, home: str | Path, region: str) -> "Session":
        """The session of a backend's detached job process: the one its creator described
        in ``AWS_ML_JOB_SESSION`` (see :meth:`child_env`), else a local session."""
        spec = job_session_spec()
        if not spec:
            return cls(backend="local", home=home, region=region)
        return cls(backend=spec["backend"], services=spec.get("services") or None, home=home, region=region,
                   endpoint_url=spec.get("endpoint_url"), profile=spec.get("profile"))

    # -- routing -----------------------------------------------------------------------
    def _endpoint_for(self, service: str) -> str | None:
        target = self.routes.backend_for(service)
        if target in ("moto", "localstack"):
            return self.endpoint_url
        return None

    def backend_for(self, service: str, operation: str | None = None) -> str:
        """The backend that serves ``service`` (one ``operation`` of it) in this session."""
        return self.routes.backend_for(service, operation)

    # -- boto3 objects -----------------------------------------------------------------
    def client(self, service_name: str, **kwargs: Any):
        """A real boto3 client (``botocore.client.BaseClient``) for ``service_name``."""
        return self.boto3_session.client(service_name, **kwargs)

    def resource(self, service_name: str, **kwargs: Any):
        """A real boto3 resource (``s3``, ``dynamodb``, ...)."""
        return self.boto3_session.resource(service_name, **kwargs)

    # -- libraries that make their own sessions ------------------------------------------
    def activate(self) -> "Session":
        """Serve every botocore session created from now on in this process the way this
        one is served, as moto's ``mock_aws`` does: for libraries that build their own
        ``boto3.Session()`` (sagemaker-core's cached clients, the SageMaker SDK's log
        reader). Undone by :meth:`deactivate` or :meth:`close`."""
        import botocore.handlers

        if self.backend == "aws" or self._activated:
            return self
        self._activated = self.router.handlers()
        botocore.handlers.BUILTIN_HANDLERS.extend(self._activated)
        return self

    def deactivate(self) -> None:
        """Stop serving sessions created elsewhere (see :meth:`activate`)."""
        import botocore.handlers

        for entry in self._activated:
            if entry in botocore.handlers.BUILTIN_HANDLERS:
                botocore.handlers.BUILTIN_HANDLERS.remove(entry)
        self._activated = []

    # -- life cycle --------------------------------------------------------------------
    def close(self) -> None:
        """Stop what the session started (in-process mock, moto server, activation)."""
        if self._closed:
            return
        self._closed = True
        try:
            if getattr(self, "router", None) is not None:
                self.router.close()       # buffers go out while the emulator still runs
        finally:
            self.deactivate()
            if self._mock is not None:
                self._mock.stop()
                self._mock = None
            if self._server is not None:
                self._server.stop()
                self._server = None

    def __enter__(self) -> "Session":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Session(backend={self.backend!r}, region={self.region!r}, home={str(self.home)!r})"

"""The base class of every local backend.

A backend is a plain Python class per AWS service. Its operations are methods named as
botocore names them (``botocore.xform_name("PutObject") == "put_object"``) and marked
with :func:`operation`; they take the API parameters as keyword arguments (the shapes of
botocore's model) and return the response dict boto3 would return. Errors are raised as
:class:`~local_backends.core.errors.AwsError`.

One instance serves one region of one account; all of its state lives on disk under the
local state root, so several processes can share it.
"""
from __future__ import annotations

import functools
import threading
from pathlib import Path
from typing import Any, Callable, ClassVar

import botocore.session
from botocore import xform_name

from .errors import NotImplementedByBackend

DEFAULT_ACCOUNT_ID = "123456789012"
"""The account id of the local backends (the same as moto's, so ARNs compare equal)."""


def operation(fn: Callable) -> Callable:
    """Mark a backend method as the implementation of the AWS operation of its name."""
    fn.__aws_operation__ = True
    return fn


@functools.lru_cache(maxsize=None)
def service_model(service: str):
    """botocore's service model (the source of truth for names and shapes)."""
    return botocore.session.get_session().get_service_model(service)


class Backend:
    """Base of the local backends: one subclass per AWS service."""

    service: ClassVar[str]
    """The botocore service name (``s3``, ``logs``, ``cloudwatch``, ...)."""

    validate_constraints: ClassVar[bool] = True
    """Check the model's max lengths, enums and patterns (botocore checks only types,
    required members and minimums) and answer ``ValidationException`` as AWS does."""

    _operations: ClassVar[dict[str, str]]

    def __init__(self, home: Path, region: str, account_id: str = DEFAULT_ACCOUNT_ID,
                 peers: "Peers | None" = None) -> None:
        self.home = Path(home)
        self.region = region
        self.account_id = account_id
        self.peers = peers if peers is not None else Peers.standalone(self.home, region, account_id)

    def close(self) -> None:
        """Write what this instance buffers (the session that owns it is closing)."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "service" not in cls.__dict__:
            return
        model = service_model(cls.service)
        by_method = {xform_name(name): name for name in model.operation_names}
        table: dict[str, str] = {}
        for klass in reversed(cls.__mro__):
            for attr, value in vars(klass).items():
                if getattr(value, "__aws_operation__", False):
                    if attr not in by_method:
                        raise TypeError(
                            f"{cls.__name__}.{attr} is marked as an operation but "
                            f"{cls.service} has no operation named so in botocore's model"
                        )
                    table[by_method[attr]] = attr
        cls._operations = table

    @classmethod
    def implemented_operations(cls) -> list[str]:
        """The AWS operation names this backend serves, sorted."""
        return sorted(cls._operations)

    def handler(self, operation_name: str) -> Callable[..., dict]:
        """The bound method serving ``operation_name``, or ``NotImplementedByBackend``."""
        try:
            return getattr(self, self._operations[operation_name])
        except KeyError:
            raise NotImplementedByBackend(self.service, operation_name, "local") from None

    def arn(self, resource: str, service: str | None = None, region: str | None = None) -> str:
        region = self.region if region is None else region
        return f"arn:aws:{service or self.service}:{region}:{self.account_id}:{resource}"


class Peers:
    """How a backend reaches the other services of its session.

    ``client(service)`` is a boto3 client of the same session (so routing applies: on the
    ``moto`` backend, the S3 client talks to moto); ``local(service)`` is the local
    backend instance when the service is routed to ``local`` (a fast path, e.g. reading
    object files directly), else ``None``; ``child_env`` is what a detached process started
    by the backend (a job) adds to its environment to reach the services the same way.
    """

    def __init__(self, client: Callable[[str], Any], local: Callable[[str], "Backend | None"],
                 child_env: dict[str, str] | None = None) -> None:
        self.client = client
        self.local = local
        self.child_env = dict(child_env or {})

    def serves(self, service: str) -> bool:
        """Whether ``service`` can be called: routed elsewhere, or with a local backend."""
        from local_backends import NotImplementedByBackend
        try:
            self.local(service)
        except (NotImplementedByBackend, ImportError):
            return False
        return True

    @classmethod
    def standalone(cls, home: Path, region: str, account_id: str) -> "Peers":
        """Peers for a backend used outside a Session (a job process, a server): the
        services are reached as the session that started the process described them
        (``AWS_ML_JOB_SESSION``, e.g. S3 on LocalStack), else every service is local; clients
        are those of such a Session on the same root."""
        from aws_ml.session import JOB_SESSION_ENV, job_routes

        routes = job_routes()
        sessions: list = []

        def local(service: str) -> "Backend | None":
            if routes.backend_for(service) != "local":
                return None
            from local_backends import backend_class
            return get_backend(backend_class(service), home, region, account_id)

        def client(service: str):
            if not sessions:
                from aws_ml.session import Session  # the facade's Session: real boto3 clients
                sessions.append(Session.for_job_process(home, region))
            return sessions[0].router.client(service, region)
        import os                                # the job's own jobs inherit the description
        return cls(client, local, child_env={JOB_SESSION_ENV: os.environ[JOB_SESSION_ENV]}
                   if os.environ.get(JOB_SESSION_ENV) else None)


_instances: dict[tuple, Backend] = {}
_instances_lock = threading.Lock()


def get_backend(cls: type[Backend], home: Path, region: str,
                account_id: str = DEFAULT_ACCOUNT_ID) -> Backend:
    """The process-wide instance of ``cls`` for this state root, region and account."""
    key = (cls, str(Path(home).resolve()), region, account_id)
    inst = _instances.get(key)
    if inst is None:
        with _instances_lock:
            inst = _instances.get(key)
            if inst is None:
                inst = cls(Path(home), region, account_id)
                _instances[key] = inst
    return inst

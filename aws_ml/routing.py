"""Which backend serves which AWS service.

A session has a default backend; ``services`` overrides it per service. Emulators that
lack a service send it to ``local`` with a one-line notice, so the same pipeline runs
everywhere.
"""
from __future__ import annotations

import logging
import os
from collections.abc import Mapping

logger = logging.getLogger("aws_ml")

BACKENDS = ("local", "moto", "localstack", "aws")

# Services LocalStack's free edition does not serve (measured with localstack-core 4.13.1).
LOCALSTACK_MISSING = frozenset({
    "sagemaker", "sagemaker-runtime", "sagemaker-featurestore-runtime", "athena", "glue",
    "comprehend", "quicksight",
})

# Services moto records but cannot run, or does not have: the session serves them locally.
MOTO_MISSING = frozenset({
    "sagemaker-runtime",               # moto answers invoke_endpoint with canned bodies
    "sagemaker-featurestore-runtime",  # not in moto
    "athena",                          # moto records queries but does not run them
    "comprehend",                      # moto answers detection with canned data (every text
                                       # NEUTRAL), records classifiers and jobs, runs none
})

# Operations of services moto serves that moto does not implement (it raises
# NotImplementedError): the session serves them locally, the rest of the service stays moto's.
MOTO_MISSING_OPERATIONS = {
    "sagemaker": frozenset({
        "CreateWorkteam", "DescribeWorkteam", "ListWorkteams", "UpdateWorkteam", "DeleteWorkteam",
        "DescribeWorkforce", "ListWorkforces", "CreateLabelingJob", "DescribeLabelingJob",
        "ListLabelingJobs", "ListLabelingJobsForWorkteam", "StopLabelingJob",
    }),
}

# botocore service names that users commonly spell otherwise.
ALIASES = {"cloudwatch-logs": "logs", "featurestore-runtime": "sagemaker-featurestore-runtime"}


def resolve_backend(backend: str | None) -> str:
    """The default backend: the argument, else ``AWS_ML_BACKEND``, else ``local``."""
    name = backend or os.environ.get("AWS_ML_BACKEND") or "local"
    if name not in BACKENDS:
        raise ValueError(f"The 'backend' parameter of Session must be one of {list(BACKENDS)}. "
                         f"Got {name!r} instead.")
    return name


class Routes(Mapping):
    """Service name -> backend name, with the session's default for unnamed services."""

    def __init__(self, default: str, overrides: Mapping[str, str] | None = None) -> None:
        self.default = default
        self._explicit: dict[str, str] = {}
        for service, backend in (overrides or {}).items():
            if backend not in BACKENDS:
                raise ValueError(f"The backend of service {service!r} must be one of "
                                 f"{list(BACKENDS)}. Got {backend!r} instead.")
            self._explicit[ALIASES.get(service, service)] = backend
        self._noticed: set[str] = set()

    def backend_for(self, service: str, operation: str | None = None) -> str:
        """The backend of ``service`` (of one ``operation`` of it, when given)."""
        service = ALIASES.get(service, service)
        if service in self._explicit:
            return self._explicit[service]
        if operation is not None and self.default == "moto" \
                and operation in MOTO_MISSING_OPERATIONS.get(service, ()):
            key = f"{service}.{operation}"
            if key not in self._noticed:
                self._noticed.add(key)
                logger.warning("aws_ml: %s is not served by moto; routed to the local backend", key)
            return "local"
        if service in self.missing():
            if service not in self._noticed:
                self._noticed.add(service)
                logger.warning("aws_ml: %s is not served by %s; routed to the local backend",
                               service, self.default)
            return "local"
        return self.default

    def missing(self) -> frozenset[str]:
        """The services the default backend lacks (served locally unless overridden)."""
        return {"localstack": LOCALSTACK_MISSING, "moto": MOTO_MISSING}.get(self.default, frozenset())

    def __getitem__(self, service: str) -> str:
        return self.backend_for(service)

    def __contains__(self, service: object) -> bool:
        return service in self._explicit

    def __iter__(self):
        return iter(self._explicit)

    def __len__(self) -> int:
        return len(self._explicit)

    def __repr__(self) -> str:
        return f"Routes(default={self.default!r}, overrides={self._explicit!r})"

"""botocore event handlers that serve requests from the local backends.

Registered on a botocore session, they are inherited by every client made from it (by
aws_ml, by boto3's resources, by s3transfer, by the SageMaker SDK...):

* ``before-parameter-build`` keeps the API parameters (after botocore's own handlers,
  so what the backend sees is what AWS would receive, e.g. ``EncodingType=url``);
* ``before-call`` answers, after botocore validated and serialised the request, with the
  ``(http_response, parsed)`` pair that skips the network. Presigned URLs never get here.
"""
from __future__ import annotations

import threading
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from botocore.exceptions import ParamValidationError
from botocore.validate import ParamValidationDecorator, ParamValidator

import local_backends
from local_backends.core.dispatch import serve

from .routing import Routes

_PARAMS = "aws_ml_params"
_VALIDATOR = ParamValidator()
LOCAL_WAITER_DELAY = 0.2


class LocalClientMixin:
    """Mixed into the class of every client whose service is served locally.

    A local answer needs neither an endpoint nor a wire request: the client skips
    botocore's endpoint-rule evaluation and serialisation (about half the cost of a call)
    but keeps parameter validation, so a wrong parameter still raises
    ``ParamValidationError``. Presigned URLs take botocore's full path.
    """

    _aws_ml_router: "LocalRouter"

    def get_waiter(self, waiter_name):
        """AWS's waiter, polling every ``LOCAL_WAITER_DELAY`` seconds (local resources change
        state in milliseconds, not minutes) for the same total time."""
        waiter = super().get_waiter(waiter_name)
        cfg = waiter.config
        if cfg.delay > LOCAL_WAITER_DELAY:
            cfg.max_attempts = max(1, int(cfg.delay * cfg.max_attempts / LOCAL_WAITER_DELAY))
            cfg.delay = LOCAL_WAITER_DELAY
        return waiter

    def _resolve_endpoint_ruleset(self, operation_model, params, request_context,
                                  ignore_signing_region=False):
        if request_context.get("is_presign_request"):
            # A presigned URL points at the local backend's own HTTP server, if it has one.
            service = self.meta.service_model.service_name
            backend = self._aws_ml_router.backend(service, self.meta.region_name)
            presign = getattr(backend, "presign_endpoint", None)
            if presign is None:
                raise local_backends.NotImplementedByBackend(service, f"presigned {operation_model.name}")
            # Sign as AWS's endpoint rules would: SigV4 (query), in the client's region.
            request_context["auth_type"] = "s3v4" if service == "s3" else "v4"
            request_context.setdefault("signing", {}).update(
                {"region": self.meta.region_name, "signing_name": service, "disableDoubleEncoding": True})
            return presign(params), {}, {}
        return self.meta.endpoint_url, {}, {}

    def _convert_to_request_dict(self, api_params, operation_model, endpoint_url, context=None,
                                 headers=None, set_user_agent_header=True):
        if context is None or context.get("is_presign_request"):
            return super()._convert_to_request_dict(api_params, operation_model, endpoint_url,
                                                    context, headers, set_user_agent_header)
        if isinstance(self._serializer, ParamValidationDecorator) and operation_model.input_shape is not None:
            report = _VALIDATOR.validate(api_params, operation_model.input_shape)
            if report.has_errors():
                raise ParamValidationError(report=report.generate_report())
        return {"url_path": "/", "query_string": {}, "method": operation_model.http.get("method", "POST"),
                "headers": dict(headers or {}), "body": b"", "url": endpoint_url, "context": context}


def _to_wire_timestamps(value, protocol: str):
    """Timestamps as the protocol writes them (for clients whose parser keeps them as text,
    like the AWS CLI): ISO 8601 for XML and query protocols, epoch seconds for JSON ones."""
    if isinstance(value, dict):
        for k, v in value.items():
            value[k] = _to_wire_timestamps(v, protocol)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            value[i] = _to_wire_timestamps(v, protocol)
    elif isinstance(value, datetime):
        if protocol in ("json", "rest-json"):
            return value.timestamp()
        return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"
    return value


def _service_id(service: str) -> str:
    return local_backends.core.base.service_model(service).service_id.hyphenize()


class LocalRouter:
    """Answers, for every service routed to ``local``, from the local backends."""

    def __init__(self, home: Path, routes: Routes, account_id: str, boto3_session,
                 wire_timestamps: bool = False, child_env: dict[str, str] | None = None) -> None:
        self.home = Path(home)
        self.child_env = dict(child_env or {})
        self.wire_timestamps = wire_timestamps
        self.routes = routes
        self.account_id = account_id
        self.boto3_session = boto3_session
        self._backends: dict[tuple[str, str], local_backends.Backend] = {}
        self._clients: dict[tuple[str, str], Any] = {}
        self._lock = threading.Lock()

    def handlers(self) -> list[tuple[str, Any]]:
        """The ``(event, handler)`` pairs that serve the local backends."""
        return [("before-parameter-build", self._keep_params), ("before-call", self._answer),
                ("creating-client-class", self._client_class)]

    def install(self, botocore_session) -> None:
        botocore_session.register("before-parameter-build", self._keep_params,
                                  unique_id="aws_ml.keep_params")
        botocore_session.register("before-call", self._answer, unique_id="aws_ml.answer")
        botocore_session.register("creating-client-class", self._client_class,
                                  unique_id="aws_ml.client_class")

    def _client_class(self, base_classes: list, event_name: str, **_: Any) -> None:
        if self._served_locally(event_name.rsplit(".", 1)[-1]):
            base_classes.insert(0, type("LocalClient", (LocalClientMixin,), {"_aws_ml_router": self}))

    def _served_locally(self, service_id: str) -> bool:
        """Whether the service whose hyphenised service id is given is routed to local."""
        routes = self.routes
        if routes.default == "local":
            others = {_service_id(name) for name, b in routes.items() if b != "local"}
            return service_id not in others
        names = [name for name, b in routes.items() if b == "local"]
        names += [name for name in routes.missing() if name not in routes]
        return service_id in {_service_id(name) for name in names}

    def backend(self, service: str, region: str) -> local_backends.Backend:
        """The local backend instance serving ``service`` in ``region``."""
        key = (service, region)
        inst = self._backends.get(key)
        if inst is None:
            cls = local_backends.backend_class(service)
            with self._lock:
                inst = self._backends.get(key)
                if inst is None:
                    inst = cls(self.home, region, self.account_id, peers=self._peers(region))
                    self._backends[key] = inst
        return inst

    def close(self) -> None:
        """Let every backend instance write what it buffers (endpoint metrics, data
        capture) while the session's emulator, if any, still runs."""
        for inst in list(self._backends.values()):
            inst.close()

    def client(self, service: str, region: str):
        """A cached boto3 client of this session (routing applies)."""
        key = (service, region)
        c = self._clients.get(key)
        if c is None:
            with self._lock:
                c = self._clients.get(key)
                if c is None:
                    c = self.boto3_session.client(service, region_name=region)
                    self._clients[key] = c
        return c

    def _peers(self, region: str) -> local_backends.Peers:
        def local(service: str):
            if self.routes.backend_for(service) != "local":
                return None
            return self.backend(service, region)
        return local_backends.Peers(lambda service: self.client(service, region), local,
                                    child_env=self.child_env)

    def _keep_params(self, params: dict, model: Any, context: dict, **_: Any) -> None:
        if self.routes.backend_for(model.service_model.service_name, model.name) == "local":
            context[_PARAMS] = params

    def _answer(self, model: Any, context: dict, **_: Any):
        service = model.service_model.service_name
        if self.routes.backend_for(service, model.name) != "local" or context.get("is_presign_request"):
            return None
        try:
            backend = self.backend(service, context.get("client_region") or "us-east-1")
        except local_backends.NotImplementedByBackend:
            raise local_backends.NotImplementedByBackend(service, model.name, "local") from None
        http, parsed = serve(backend, model, context[_PARAMS])
        if self.wire_timestamps:
            _to_wire_timestamps(parsed, model.service_model.protocol)
        return http, parsed

"""``sagemaker-runtime``: InvokeEndpoint, answered by the endpoint's model server over HTTP.

The endpoint's routing record (``<home>/sagemaker/hosting.db``, written by the local
SageMaker hosting backend of any process) gives each variant's server URL and weight.
A request goes to ``TargetVariant`` or to a variant drawn by weight, over a keep-alive
connection pool (urllib3), and is answered as AWS does: ``Body`` (a ``StreamingBody``),
``ContentType``, ``InvokedProductionVariant``; ``ModelError`` (HTTP 424, with the
server's status and message) when the model answers an error; ``ValidationError`` for an
endpoint that does not exist or is not in service. Each invocation is counted in the
``AWS/SageMaker`` CloudWatch metrics and, when the endpoint config asks for it, captured
to S3 (see :mod:`.metrics` and :mod:`.capture` for when they are written).
"""
from __future__ import annotations

import atexit
import io
import logging
import random
import threading
import time
import weakref

import urllib3
from botocore.response import StreamingBody

from local_backends.core.base import Backend, operation
from local_backends.core.errors import AwsError, error_class
from local_backends.sagemaker.model_server import logship, supervisor
from local_backends.sagemaker.model_server.app import CUSTOM_ATTRIBUTES, LATENCY_HEADER
from local_backends.sagemaker.model_server.store import HostingStore

from .capture import DataCapture
from .metrics import EndpointMetrics

logger = logging.getLogger("aws_ml")

ValidationError = error_class("ValidationError", 400)
ModelError = error_class("ModelError", 424)
ROUTE_TTL_SECONDS = 0.5
"""How long a process reuses an endpoint's routing record before reading it again (a
request that finds a server gone reads it again at once)."""
CONNECT_RETRIES = 3
REQUEST_TIMEOUT = urllib3.Timeout(connect=5.0, read=60.0)  # AWS's InvokeEndpoint limit is 60 s

_live_backends: "weakref.WeakSet[SageMakerRuntimeBackend]" = weakref.WeakSet()


@atexit.register
def _flush_at_exit() -> None:
    for backend in list(_live_backends):
        try:
            backend.flush()
        except Exception as exc:  # the interpreter is ending: report, never hide
            logger.warning("aws_ml: could not flush endpoint metrics/data capture at exit (%s: %s)",
                           type(exc).__name__, exc)


class _ServerGone(Exception):
    pass


class SageMakerRuntimeBackend(Backend):
    """The local ``sagemaker-runtime`` backend (InvokeEndpoint)."""

    service = "sagemaker-runtime"
    validation_error_code = "ValidationError"

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.store = HostingStore(self.home)
        self._routes: dict[str, tuple[float, dict]] = {}
        self._pools: dict[str, urllib3.HTTPConnectionPool] = {}
        self._lock = threading.Lock()
        self.metrics = EndpointMetrics(lambda: self.peers.client("cloudwatch"),
                                       lambda: self.peers.local("cloudwatch"))
        self.capture = DataCapture(lambda: self.peers.client("s3"))
        _live_backends.add(self)

    # -- routing -------------------------------------------------------------------------
    def _not_found(self, name: str) -> AwsError:
        return ValidationError(f"Endpoint {name} of account {self.account_id} not found.")

    def _route(self, name: str, fresh: bool = False) -> dict:
        now = time.monotonic()
        cached = self._routes.get(name)
        if cached is not None and not fresh and now - cached[0] < ROUTE_TTL_SECONDS:
            return cached[1]
        ep = self.store.get_endpoint(self.account_id, self.region, name)
        if ep is not None and ep["status"] in supervisor.IN_PROGRESS + ("InService",):
            draining = supervisor.advance(self.store, self.account_id, self.region, name)
            supervisor.drain(self.store, draining)
            ep = self.store.get_endpoint(self.account_id, self.region, name)
        if ep is None or ep["status"] not in ("InService", "Updating"):
            self._routes.pop(name, None)
            raise self._not_found(name)
        servers = self.store.servers(self.account_id, self.region, name)
        if not servers:
            raise self._not_found(name)
        config = self.store.get_resource("endpoint_configs", self.account_id, self.region,
                                         ep["config_name"])
        variants: dict[str, dict] = {}
        for s in servers:
            v = variants.setdefault(s["variant"], {"url": s["url"], "port": s["port"],
                                                   "weight": s["weight"], "instances": 0})
            v["instances"] += 1
        route = {"variants": variants, "names": list(variants),
                 "weights": [v["weight"] for v in variants.values()],
                 "capture": (config or {}).get("spec", {}).get("DataCaptureConfig")}
        self._routes[name] = (now, route)
        return route

    def _pick(self, name: str, route: dict, target: str | None) -> str:
        if target is not None:
            if target not in route["variants"]:
                raise ValidationError(f"Endpoint {name} does not have a variant named "
                                      f"{target!r} (it has {route['names']}).")
            return target
        if len(route["names"]) == 1:
            return route["names"][0]
        if sum(route["weights"]) <= 0:
            raise ValidationError(f"Endpoint {name}: every production variant has weight 0; "
                                  f"use TargetVariant.")
        return random.choices(route["names"], weights=route["weights"])[0]

    def _pool(self, port: int) -> urllib3.HTTPConnectionPool:
        key = str(port)
        pool = self._pools.get(key)
        if pool is None:
            with self._lock:
                pool = self._pools.get(key)
                if pool is None:
                    pool = urllib3.HTTPConnectionPool("127.0.0.1", port, maxsize=64, block=False,
                                                      timeout=REQUEST_TIMEOUT, retries=False)
                    self._pools[key] = pool
        return pool

    # -- InvokeEndpoint -------------------------------------------------------------------
    @operation
    def invoke_endpoint(self, EndpointName: str, Body, ContentType: str | None = None,
                        Accept: str | None = None, CustomAttributes: str | None = None,
                        TargetVariant: str | None = None, InferenceId: str | None = None,
                        TargetModel: str | None = None, TargetContainerHostname: str | None = None,
                        EnableExplanations: str | None = None,
                        InferenceComponentName: str | None = None,
                        SessionId: str | None = None) -> dict:
        started = time.perf_counter()
        body = _as_bytes(Body)
        name = EndpointName
        route = self._route(name)
        if TargetModel is not None:
            raise ValidationError(f"Endpoint {name} is not a multi-model endpoint: TargetModel "
                                  f"is not supported.")
        if InferenceComponentName is not None:
            raise ValidationError(f"Endpoint {name} has no inference components.")
        if TargetContainerHostname is not None:
            raise ValidationError(f"Endpoint {name} is not a multi-container endpoint with direct "
                                  f"invocation: TargetContainerHostname is not supported.")
        if EnableExplanations is not None:
            raise ValidationError(f"Endpoint {name} has no explainer configuration.")
        if SessionId is not None:
            raise ValidationError(f"Endpoint {name} does not have stateful sessions enabled.")
        headers = {"Content-Type": ContentType or "application/octet-stream",
                   "Accept": Accept or "*/*"}
        if CustomAttributes is not None:
            headers[CUSTOM_ATTRIBUTES] = CustomAttributes
        if ContentType is None:
            del headers["Content-Type"]

        variant = self._pick(name, route, TargetVariant)
        response = None
        for attempt in range(CONNECT_RETRIES + 1):
            info = route["variants"].get(variant)
            if info is None:
                variant = self._pick(name, route, TargetVariant)
                info = route["variants"][variant]
            try:
                response = self._pool(info["port"]).urlopen(
                    "POST", "/invocations", body=body, headers=headers, retries=False,
                    preload_content=True, assert_same_host=False)
                break
            except (urllib3.exceptions.ProtocolError, urllib3.exceptions.NewConnectionError,
                    urllib3.exceptions.ConnectTimeoutError) as exc:
                # the request never reached a model (a server stopping after an update, or
                # gone): read the routing record again and retry
                if attempt == CONNECT_RETRIES:
                    raise self._server_gone(name, variant, exc) from None
                time.sleep(0.02 * (attempt + 1))
                route = self._route(name, fresh=True)
            except urllib3.exceptions.ReadTimeoutError:
                raise ModelError(f"Model {variant} of endpoint {name} did not answer within "
                                 f"{REQUEST_TIMEOUT.read_timeout:.0f} seconds.",
                                 OriginalStatusCode=504) from None

        status = response.status
        data = response.data
        model_us = _float(response.headers.get(LATENCY_HEADER))
        overhead_us = (time.perf_counter() - started) * 1e6 - (model_us or 0.0)
        self.metrics.record(name, variant, status, model_us, max(overhead_us, 0.0),
                            route["variants"][variant]["instances"])
        if status >= 400:
            self._ship_logs(name)
            text = data.decode("utf-8", errors="replace")
            kind = "client" if status < 500 else "server"
            group = logship.log_group(name)
            raise ModelError(
                f'Received {kind} error ({status}) from primary with message "{text}". See '
                f"https://{self.region}.console.aws.amazon.com/cloudwatch/home?region={self.region}"
                f"#logEventViewer:group={group} in account {self.account_id} for more information.",
                OriginalStatusCode=status, OriginalMessage=text,
                LogStreamArn=self.arn(f"log-group:{group}", service="logs"))
        ctype = response.headers.get("content-type")
        if route["capture"] and self.capture.sampled(route["capture"]):
            self.capture.record(route["capture"], name, variant, body, ContentType, data, ctype,
                                InferenceId)
        else:
            self.capture.tick()
        out = {"Body": StreamingBody(io.BytesIO(data), len(data)),
               "InvokedProductionVariant": variant}
        if ctype:
            out["ContentType"] = ctype
        custom = response.headers.get(CUSTOM_ATTRIBUTES)
        if custom:
            out["CustomAttributes"] = custom
        return out

    def _server_gone(self, name: str, variant: str, exc: Exception) -> AwsError:
        self._routes.pop(name, None)
        supervisor.advance(self.store, self.account_id, self.region, name)
        self._ship_logs(name)
        ep = self.store.get_endpoint(self.account_id, self.region, name)
        if ep is None:
            return self._not_found(name)
        reason = ep["failure_reason"] or f"{type(exc).__name__}: {exc}"
        return ModelError(f"Received server error (502) from primary with message "
                          f"\"the model server of variant {variant} is not answering: {reason}\".",
                          OriginalStatusCode=502, OriginalMessage=reason)

    def _ship_logs(self, name: str) -> None:
        servers = self.store.all_servers(self.account_id, self.region, name)
        if servers:
            logship.ship(self.store, self.peers.client("logs"), name, servers)

    # -- beyond AWS's API -------------------------------------------------------------------
    def close(self) -> None:
        self.flush()

    def flush(self) -> None:
        """Publish the pending endpoint metrics and write the buffered data capture now."""
        self.metrics.flush()
        self.capture.flush()


def _as_bytes(body) -> bytes:
    if isinstance(body, (bytes, bytearray)):
        return bytes(body)
    if isinstance(body, str):
        return body.encode("utf-8")
    if hasattr(body, "read"):
        data = body.read()
        return data.encode("utf-8") if isinstance(data, str) else bytes(data)
    raise ValidationError(f"Body must be bytes, a string or a file-like object; got "
                          f"{type(body).__name__}.")


def _float(value) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None

"""Section 6, deployment: SageMaker endpoints on every backend.

>>> from aws_ml import Session, serving
>>> session = Session(backend="local")
>>> name = serving.deploy(session, "s3://my-models/fraud/model.tar.gz")   # doctest: +SKIP
>>> session.client("sagemaker-runtime").invoke_endpoint(
...     EndpointName=name, Body=b"1,2,3", ContentType="text/csv")         # doctest: +SKIP
>>> serving.endpoint_url(session, name)        # curl -d 1,2,3 <url>/invocations  # doctest: +SKIP

On ``local`` the endpoint is a real model-server process per variant instance. On
``moto``, moto records the model, endpoint config and endpoint (its control plane) and
the same local model server is started beside it: ``sagemaker-runtime`` is routed to the
local backend by the session, so predictions are the local ones. On ``aws`` it is AWS.
"""
from __future__ import annotations

import logging
import time
import uuid
from typing import Any

SKLEARN_IMAGE = "683313688378.dkr.ecr.{region}.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"
DEFAULT_ROLE = "arn:aws:iam::123456789012:role/aws-ml-sagemaker"
logger = logging.getLogger("aws_ml")


def _local_hosting(session):
    """The local SageMaker backend that runs the servers (on ``local`` and ``moto``)."""
    if session.backend_for("sagemaker-runtime") != "local":
        raise ValueError(f"endpoints of a session whose sagemaker-runtime is served by "
                         f"{session.backend_for('sagemaker-runtime')!r} have no local server")
    return session.router.backend("sagemaker", session.region)


def _runs_locally(session) -> bool:
    return session.backend_for("sagemaker") == "local"


def deploy(session, model_data_url: str, *, name: str | None = None, image: str | None = None,
           role: str = DEFAULT_ROLE, instance_type: str = "ml.m5.large", instance_count: int = 1,
           environment: dict[str, str] | None = None, data_capture: dict | None = None,
           variant: str = "AllTraffic", wait: bool = True, timeout: float = 300.0) -> str:
    """Create a model, an endpoint config and an endpoint serving ``model_data_url``.

    :param data_capture: a ``DataCaptureConfig`` (e.g. ``{"EnableCapture": True,
        "InitialSamplingPercentage": 100, "DestinationS3Uri": "s3://b/capture",
        "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}]}``).
    :returns: the endpoint name (``InService`` when ``wait``).
    """
    name = name or f"aws-ml-{uuid.uuid4().hex[:12]}"
    image = image or SKLEARN_IMAGE.format(region=session.region)
    container: dict[str, Any] = {"Image": image, "ModelDataUrl": model_data_url}
    if environment:
        container["Environment"] = dict(environment)
    model_req = {"ModelName": name, "PrimaryContainer": container, "ExecutionRoleArn": role}
    config_req: dict[str, Any] = {"EndpointConfigName": name, "ProductionVariants": [{
        "VariantName": variant, "ModelName": name, "InstanceType": instance_type,
        "InitialInstanceCount": instance_count, "InitialVariantWeight": 1.0}]}
    if data_capture:
        config_req["DataCaptureConfig"] = data_capture
    endpoint_req = {"EndpointName": name, "EndpointConfigName": name}

    sm = session.client("sagemaker")
    sm.create_model(**model_req)
    sm.create_endpoint_config(**config_req)
    sm.create_endpoint(**endpoint_req)
    if session.backend != "aws" and not _runs_locally(session):
        # moto records the endpoint; the local backend runs its model server
        local = _local_hosting(session)
        local.create_model(**model_req)
        local.create_endpoint_config(**config_req)
        local.create_endpoint(**endpoint_req)
    if wait:
        wait_in_service(session, name, timeout=timeout)
    return name


def wait_in_service(session, name: str, timeout: float = 300.0, delay: float = 0.1) -> dict:
    """Wait for ``InService`` (``RuntimeError`` with the failure reason if it fails)."""
    if session.backend == "aws":
        session.client("sagemaker").get_waiter("endpoint_in_service").wait(EndpointName=name)
        return session.client("sagemaker").describe_endpoint(EndpointName=name)
    describe = (session.client("sagemaker").describe_endpoint if _runs_locally(session)
                else _local_hosting(session).describe_endpoint)
    deadline = time.monotonic() + timeout
    while True:
        desc = describe(EndpointName=name)
        status = desc["EndpointStatus"]
        if status == "InService":
            return desc
        if status == "Failed":
            raise RuntimeError(f"endpoint {name} failed: {desc.get('FailureReason')}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"endpoint {name} still {status} after {timeout:.0f} s")
        time.sleep(delay)


def _moto_records(session) -> bool:
    return session.backend_for("sagemaker") == "moto"


def update(session, name: str, endpoint_config_name: str) -> None:
    """``UpdateEndpoint`` on the control plane, and on the local servers (moto). moto 5
    does not implement UpdateEndpoint: on moto its record keeps the old endpoint config
    (a warning says so) while the local model server switches to the new model."""
    if _moto_records(session):
        logger.warning("aws_ml: moto does not implement sagemaker UpdateEndpoint; its record of %s keeps "
                       "the old endpoint config, the local model server serves %s", name, endpoint_config_name)
    else:
        session.client("sagemaker").update_endpoint(EndpointName=name,
                                                    EndpointConfigName=endpoint_config_name)
    if session.backend != "aws" and not _runs_locally(session):
        _local_hosting(session).update_endpoint(EndpointName=name,
                                                EndpointConfigName=endpoint_config_name)


def redeploy(session, name: str, model_data_url: str, *, version: str, image: str | None = None,
             role: str = DEFAULT_ROLE, wait: bool = True, timeout: float = 300.0) -> str:
    """Switch the endpoint ``name`` to a new model with ``UpdateEndpoint`` (no request is
    dropped): a model and an endpoint config ``<name>-<version>`` are created with the
    current config's variants (instance type, count, weight) and data capture.

    :returns: the new endpoint config's name.
    """
    sm = session.client("sagemaker")
    control = _local_hosting(session) if _moto_records(session) else sm   # moto's record may be stale
    current = control.describe_endpoint_config(
        EndpointConfigName=control.describe_endpoint(EndpointName=name)["EndpointConfigName"])
    new = f"{name}-{version}"[:63].rstrip("-")
    variants = current["ProductionVariants"]
    if image is None:
        image = control.describe_model(ModelName=variants[0]["ModelName"])["PrimaryContainer"]["Image"]
    model_req = {"ModelName": new, "ExecutionRoleArn": role,
                 "PrimaryContainer": {"Image": image, "ModelDataUrl": model_data_url}}
    config_req: dict[str, Any] = {"EndpointConfigName": new, "ProductionVariants": [
        {k: v for k, v in {**variant, "ModelName": new}.items()
         if k in ("VariantName", "ModelName", "InstanceType", "InitialInstanceCount", "InitialVariantWeight")}
        for variant in variants]}
    if current.get("DataCaptureConfig"):
        capture = dict(current["DataCaptureConfig"])
        if not capture.get("KmsKeyId"):
            capture.pop("KmsKeyId", None)
        config_req["DataCaptureConfig"] = capture
    for create, req, key in ((sm.create_model, model_req, "ModelName"),
                             (sm.create_endpoint_config, config_req, "EndpointConfigName")):
        try:
            create(**req)
        except sm.exceptions.ClientError as exc:      # a re-run after a kill: it exists already
            if "already exist" not in str(exc).lower():
                raise
    if session.backend != "aws" and not _runs_locally(session):
        local = _local_hosting(session)
        for create, req in ((local.create_model, model_req), (local.create_endpoint_config, config_req)):
            try:
                create(**req)
            except Exception as exc:  # noqa: BLE001 - the local backend's "already exists"
                if "already exist" not in str(exc).lower():
                    raise
    update(session, name, new)
    if wait:
        wait_in_service(session, name, timeout=timeout)
        # the previous config and model serve nothing any more: delete them, as AWS users
        # do, so that deleting the endpoint later leaves nothing behind
        if current["EndpointConfigName"] != new:
            # (moto's record still names the old config: there it stays)
            targets = [_local_hosting(session)] if _moto_records(session) else [sm]
            for target in targets:
                target.delete_endpoint_config(EndpointConfigName=current["EndpointConfigName"])
                for variant in variants:
                    if variant["ModelName"] != new:
                        target.delete_model(ModelName=variant["ModelName"])
    return new


def delete(session, name: str, *, config: bool = True, model: bool = True) -> None:
    """Delete the endpoint (its servers stop) and, by default, its config and model."""
    sm = session.client("sagemaker")
    targets = [sm]
    if session.backend != "aws" and not _runs_locally(session):
        targets.append(_local_hosting(session))
    for target in targets:
        desc = target.describe_endpoint(EndpointName=name)
        cfg = target.describe_endpoint_config(EndpointConfigName=desc["EndpointConfigName"])
        target.delete_endpoint(EndpointName=name)
        if config:
            target.delete_endpoint_config(EndpointConfigName=desc["EndpointConfigName"])
        if model:
            for v in cfg["ProductionVariants"]:
                target.delete_model(ModelName=v["ModelName"])


def endpoint_url(session, name: str, variant: str | None = None) -> str:
    """``http://127.0.0.1:<port>`` of the endpoint's model server (local and moto sessions):
    ``POST <url>/invocations`` scores, ``GET <url>/ping`` checks health."""
    return _local_hosting(session).endpoint_url(name, variant)


def flush(session) -> None:
    """Publish the pending endpoint metrics and write the buffered data capture now."""
    if session.backend_for("sagemaker-runtime") == "local":
        session.router.backend("sagemaker-runtime", session.region).flush()

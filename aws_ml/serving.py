"""Section 6, deployment: SageMaker endpoints on every backend.

>>> from aws_ml import Session, serving
>>> session = Session(backend="local")
>>> name = serving.deploy(session, "s3://my-models/fraud/model.tar.gz")   # doctest: +SKIP
>>> session.client("sagemaker-runtime").invoke_endpoint(
...     EndpointName=name, Body=b"1,2,3", ContentType="text/csv")         # doctest: +SKIP
>>> serving.endpoint_url(session, name)        # curl -d 1,2,3 <url>/invocations  # doctest: +SKIP
>>> name = serving.deploy_model(session, training_result)   # a job, tuning/AutoML result  # doctest: +SKIP
>>> serving.predict(session, name, X_test)                  # a DataFrame in, an array out  # doctest: +SKIP

On ``local`` the endpoint is a real model-server process per variant instance. On
``moto``, moto records the model, endpoint config and endpoint (its control plane) and
the same local model server is started beside it: ``sagemaker-runtime`` is routed to the
local backend by the session, so predictions are the local ones. On ``aws`` it is AWS.
"""
from __future__ import annotations

import json
import logging
import time
import uuid
from typing import Any

from .images import image_uri

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
    image = image or image_uri("sklearn", session.region)
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


def model_source(session, model) -> dict[str, Any]:
    """Where a trained model is and how it is served: ``{"model_data_url", "image",
    "environment"}``.

    ``model`` is a ``model.tar.gz`` URI (``s3://``), a training job name, an
    :class:`aws_ml.training.TrainingResult` or :class:`~aws_ml.training.TuningResult` (its best
    training job), or an :class:`~aws_ml.training.AutoMLResult` (its best candidate's inference
    container) or an AutoML candidate as ``ListCandidatesForAutoMLJob`` returns it. A script-mode
    training job is served with its script as the entry point (``SAGEMAKER_PROGRAM``,
    ``SAGEMAKER_SUBMIT_DIRECTORY``), as the SageMaker SDK's ``estimator.deploy()`` does.
    """
    if isinstance(model, str) and model.startswith(("s3://", "file://", "/")):
        return {"model_data_url": model, "image": None, "environment": {}}
    container = getattr(model, "inference_container", None)
    if container is None and isinstance(model, dict):
        containers = model.get("InferenceContainers") or []
        container = containers[0] if containers else None
    if container is not None:           # an AutoML candidate
        return {"model_data_url": container["ModelDataUrl"], "image": container.get("Image"),
                "environment": dict(container.get("Environment") or {})}
    if getattr(model, "best_training_job", None):      # a tuning job: its best training job
        model = model.best_training_job
    elif getattr(model, "job_name", None) and hasattr(model, "model_data"):
        model = model.job_name                            # a training job's result
    if not isinstance(model, str):
        raise TypeError(f"model must be an s3:// URI, a training job name or a training, tuning "
                        f"or AutoML result; got {type(model).__name__}")
    job = session.client("sagemaker").describe_training_job(TrainingJobName=model)
    if job["TrainingJobStatus"] != "Completed":
        raise ValueError(f"training job {model} is {job['TrainingJobStatus']}"
                         f"{': ' + job['FailureReason'] if job.get('FailureReason') else ''}; "
                         f"only a completed job has a model to deploy")
    hps = job.get("HyperParameters") or {}
    environment = {}
    for hp, var in (("sagemaker_program", "SAGEMAKER_PROGRAM"),
                    ("sagemaker_submit_directory", "SAGEMAKER_SUBMIT_DIRECTORY")):
        if hp in hps:
            environment[var] = _hyperparameter(hps[hp])
    return {"model_data_url": job["ModelArtifacts"]["S3ModelArtifacts"],
            "image": job.get("AlgorithmSpecification", {}).get("TrainingImage"),
            "environment": environment}


def _hyperparameter(value: str) -> str:
    """A script-mode hyperparameter's value (the SDK stores them JSON-encoded)."""
    try:
        decoded = json.loads(value)
    except ValueError:
        return value
    return decoded if isinstance(decoded, str) else value


def deploy_model(session, model, **kwargs) -> str:
    """:func:`deploy` a trained model given as :func:`model_source` accepts it (a training
    job, a tuning or AutoML result, an AutoML candidate or a ``model.tar.gz``); keyword
    arguments go to :func:`deploy` (``image`` and ``environment`` default to the model's)."""
    src = model_source(session, model)
    environment = {**src["environment"], **(kwargs.pop("environment", None) or {})}
    image = kwargs.pop("image", None) or src["image"]
    return deploy(session, src["model_data_url"], image=image, environment=environment or None,
                  **kwargs)


def predict(session, name: str, frame, *, content_type: str = "text/csv",
            accept: str = "application/json", batch_rows: int = 500,
            target_variant: str | None = None):
    """Score the rows of a DataFrame (or 2-D array) on the endpoint ``name`` through
    ``invoke_endpoint``, ``batch_rows`` rows a request (CSV without header, or JSON rows).

    :returns: a numpy array with one prediction (or one row of predictions) per input row;
        the built-in XGBoost's ``{"predictions": [{"score": ...}]}`` gives the scores.
    :raises botocore.exceptions.ClientError: ``ModelError`` with the model's message.
    """
    import numpy as np
    import pandas as pd

    data = frame if isinstance(frame, pd.DataFrame) else pd.DataFrame(np.asarray(frame))
    if data.ndim != 2 or data.shape[1] == 0:
        raise ValueError(f"predict needs rows of features; got shape {data.shape}")
    runtime = session.client("sagemaker-runtime")
    media = content_type.split(";")[0].strip().lower()
    if media not in ("text/csv", "application/json"):
        raise ValueError(f"content_type must be text/csv or application/json; got {content_type!r}")
    out: list = []
    for start in range(0, len(data), max(1, batch_rows)):
        chunk = data.iloc[start:start + batch_rows]
        if media == "text/csv":
            body = chunk.to_csv(header=False, index=False, lineterminator="\n").encode()
        else:
            body = json.dumps(chunk.to_numpy().tolist()).encode()
        request = {"EndpointName": name, "Body": body, "ContentType": content_type, "Accept": accept}
        if target_variant:
            request["TargetVariant"] = target_variant
        resp = runtime.invoke_endpoint(**request)
        values = _decode_predictions(resp["Body"].read(), resp.get("ContentType") or accept, len(chunk))
        if len(values) != len(chunk):
            raise ValueError(f"endpoint {name} answered {len(values)} predictions for "
                             f"{len(chunk)} rows")
        out.extend(values)
    return np.asarray(out)


def _decode_predictions(body: bytes, content_type: str, n_rows: int) -> list:
    media = content_type.split(";")[0].strip().lower()
    text = body.decode("utf-8")
    if media == "application/json":
        obj = json.loads(text)
        if isinstance(obj, dict):
            obj = obj.get("predictions", obj.get("instances", obj))
        if isinstance(obj, list) and obj and isinstance(obj[0], dict):
            key = "score" if "score" in obj[0] else ("predicted_label" if "predicted_label" in obj[0]
                                                     else next(iter(obj[0])))
            obj = [row[key] for row in obj]
        if not isinstance(obj, list):
            raise ValueError(f"cannot read predictions from the endpoint's JSON answer {text[:200]!r}")
        return obj
    if media == "text/csv":
        rows = [line.split(",") for line in text.splitlines() if line.strip()]
        if len(rows) == 1 and n_rows > 1 and len(rows[0]) == n_rows:   # one line of scores
            rows = [[v] for v in rows[0]]
        return [_number(r[0]) if len(r) == 1 else [_number(v) for v in r] for r in rows]
    raise ValueError(f"cannot read predictions of content type {content_type!r}: ask for "
                     f"application/json or text/csv")


def _number(value: str):
    value = value.strip()
    try:
        return float(value)
    except ValueError:
        return value


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

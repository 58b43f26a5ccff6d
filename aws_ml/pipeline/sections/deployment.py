"""Section 6, deployment: the built-in step."""
from __future__ import annotations

from dataclasses import asdict
import json
import time

from ..spec import PipelineSpec
from ..steps import STEPS, StepContext


def _deployment_config(spec: PipelineSpec, ctx: StepContext) -> dict | None:
    if spec.deployment is None or not spec.deployment.enabled:
        return None
    return {**asdict(spec.deployment), "endpoint_name": ctx.resolve(spec.deployment.endpoint_name),
            "role_arn": spec.artifacts.role_arn}


def _endpoint_in_service(ctx: StepContext, outputs: dict) -> bool:
    sm = ctx.session.client("sagemaker")
    try:
        return sm.describe_endpoint(EndpointName=outputs["endpoint_name"])["EndpointStatus"] == "InService"
    except sm.exceptions.ClientError:
        return False


@STEPS.register("deployment", section=6, title="Deployment", config=_deployment_config,
                needs=("training", "features"), requires=("aws_ml.serving",), still_valid=_endpoint_in_service)
def deployment_step(ctx: StepContext, config: dict) -> dict:
    """An endpoint serving the trained model (:func:`aws_ml.serving.deploy`); an endpoint of
    the same name left by an earlier or killed run is replaced, never duplicated."""
    from aws_ml import serving

    name = config["endpoint_name"]
    model = ctx.inputs["training"]["model_data"]
    sm = ctx.session.client("sagemaker")
    try:
        sm.describe_endpoint(EndpointName=name)
        serving.delete(ctx.session, name)
    except sm.exceptions.ClientError as exc:
        if "Could not find" not in str(exc) and exc.response["Error"]["Code"] != "ValidationException":
            raise
    capture = None
    if config["data_capture"]:
        capture = {"EnableCapture": True, "InitialSamplingPercentage": 100,
                   "DestinationS3Uri": ctx.uri("monitoring/capture"),
                   "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}]}
    started = time.perf_counter()
    serving.deploy(ctx.session, model, name=name, image=ctx.inputs["training"].get("image"),
                   role=config["role_arn"] or serving.DEFAULT_ROLE,
                   instance_type=config["instance_type"],
                   instance_count=config["instance_count"], data_capture=capture)
    f = ctx.inputs["features"]
    if ctx.inputs["training"].get("algorithm") == "blazingtext":
        # BlazingText takes JSON: the first test sentence's tokens (its __label__ word left out)
        line = ctx.get_bytes(f["artifacts"]["text_test"]).decode().splitlines()[0]
        sample = json.dumps({"instances": [line.split(" ", 1)[1] if " " in line else ""],
                             "configuration": {"k": len(f.get("classes") or [0, 1])}})
        content_type = "application/json"
    else:
        sample = ctx.get_bytes(f["artifacts"]["test"]).decode().splitlines()[0].split(",", 1)[1]
        content_type = "text/csv"
    t = time.perf_counter()
    answer = ctx.session.client("sagemaker-runtime").invoke_endpoint(
        EndpointName=name, Body=sample.encode(), ContentType=content_type)["Body"].read().decode()
    out = {"endpoint_name": name, "model_data": model, "algorithm": ctx.inputs["training"].get("algorithm"), "instance_type": config["instance_type"],
           "instance_count": config["instance_count"], "content_type": content_type, "data_capture": capture["DestinationS3Uri"] if capture else None,
           "deploy_seconds": round(t - started, 3), "smoke_test": {"prediction": answer.strip()[:80],
                                                                    "latency_ms": round((time.perf_counter() - t) * 1e3, 1)},
           "headline": {"latency ms": round((time.perf_counter() - t) * 1e3, 1)}}
    if ctx.session.backend in ("local", "moto"):
        out["url"] = serving.endpoint_url(ctx.session, name)
    return out



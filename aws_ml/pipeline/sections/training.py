"""Section 5, model selection and training: the built-in step."""
from __future__ import annotations

from dataclasses import asdict
import io
import time

from ..spec import PipelineSpec
from ..steps import STEPS, StepContext
from ...images import image_uri
from .common import _problem_dict, job_name


def _training_config(spec: PipelineSpec, ctx: StepContext) -> dict | None:
    if spec.training is None or not spec.training.enabled:
        return None
    return {**_problem_dict(spec), "metric": spec.problem.metric, **asdict(spec.training),
            "role_arn": spec.artifacts.role_arn}


@STEPS.register("training", section=5, title="Model selection and training", config=_training_config,
                needs=("features",), requires=("aws_ml.training:train",))
def training_step(ctx: StepContext, config: dict) -> dict:
    """A training job on the feature step's train / validation channels
    (:func:`aws_ml.training.train`): XGBoost on the CSV sets, BlazingText on the text
    channels. The job is named from the step's configuration: a
    run killed while the job ran finds it again (waits for it, or reuses its model)
    instead of starting a second one."""
    from aws_ml import training

    f = ctx.inputs["features"]
    base = job_name(ctx.spec.name, "train", [config, channels_fingerprint(ctx, f, config["algorithm"])], width=40)
    job, name, existing = None, base, None
    for attempt in range(1, 21):
        name = base if attempt == 1 else f"{base}-r{attempt}"
        existing = _existing_job(ctx, name)
        if existing is None or existing["status"] == "Completed":
            break
    if existing is None:
        hps = {**default_hyperparameters(config["algorithm"], f), **config["hyperparameters"]}
        result = training.train(ctx.session, data=_channels_prefix(f, config["algorithm"]), target=f["target"],
                                algorithm=config["algorithm"], hyperparameters=hps,
                                instance_type=config["instance_type"], output_path=ctx.uri("training/output"),
                                job_name=name, progress=False, role=config["role_arn"])
        job = {"job_name": result.job_name, "status": result.status, "metrics": result.metrics,
               "model_data": result.model_data, "hyperparameters": result.hyperparameters,
               "failure_reason": result.failure_reason}
    else:
        job = existing
    if job["status"] != "Completed":
        raise RuntimeError(f"training job {name} ended {job['status']}: {job.get('failure_reason')}")
    import pandas as pd

    y = pd.read_csv(io.BytesIO(ctx.get_bytes(f["artifacts"]["validation" if "validation" in f["artifacts"]
                                                         else "train"])), header=None)[0]
    baselines = {}
    for metric in job["metrics"]:
        if config["algorithm"] == "blazingtext" and metric.endswith(":accuracy"):
            # the majority class's share of the validation labels (any number of classes)
            baselines[metric] = float(y.value_counts(normalize=True).max())
            continue
        try:
            baselines[metric] = training.baseline_value(metric, y)
        except ValueError:
            continue
    return {"job_name": name, "algorithm": config["algorithm"], "image": image_uri(
                config["algorithm"] if config["algorithm"] in training.BUILTIN_ALGORITHMS else "sklearn", ctx.region),
            "hyperparameters": job["hyperparameters"], "metrics": job["metrics"], "baselines": baselines,
            "model_data": job["model_data"], "reused_job": existing is not None,
            "channels": _channels_prefix(f, config["algorithm"]), "validation": "hold-out validation set" if
            "validation" in f["artifacts"] else "training set only",
            "headline": {k: v for k, v in job["metrics"].items() if k.startswith("validation")} or job["metrics"]}


def default_hyperparameters(algorithm: str, f: dict) -> dict:
    """The hyperparameters a job of ``algorithm`` gets unless the file sets them."""
    from aws_ml.training import BLAZINGTEXT_DEFAULTS

    return dict(BLAZINGTEXT_DEFAULTS) if algorithm == "blazingtext" else _objective_defaults(f)


def channels_fingerprint(ctx: StepContext, f: dict, algorithm: str = "xgboost") -> dict[str, str]:
    """The ETag of each channel file of section 4 the ``algorithm`` trains on (BlazingText:
    the text channels): what a job trained on. Section 4 writes to the same keys on every
    run, so a job named from the keys alone would be taken for one trained on features that
    have changed since."""
    out = {}
    for channel in ("train", "validation"):
        uri = f["artifacts"].get(f"text_{channel}" if algorithm == "blazingtext" else channel)
        if uri:
            bucket, _, key = uri[5:].partition("/")
            out[channel] = ctx.s3.head_object(Bucket=bucket, Key=key)["ETag"]
    return out


def _channels_prefix(f: dict, algorithm: str = "xgboost") -> str:
    """``s3://.../features/`` (XGBoost's CSV sets) or ``s3://.../features/text/``
    (BlazingText's ``__label__`` lines): the prefix holding ``train/`` and ``validation/``."""
    if algorithm == "blazingtext":
        if "text_train" not in f["artifacts"]:
            raise RuntimeError("BlazingText trains on section 4's text channels, which its outputs lack "
                               "(run section 4 again with training.algorithm: blazingtext)")
        return f["artifacts"]["text_train"].rsplit("/", 2)[0] + "/"
    return f["artifacts"]["train"].rsplit("/", 2)[0] + "/"


def _objective_defaults(f: dict) -> dict:
    if f["task"] == "regression":
        return {"objective": "reg:squarederror", "eval_metric": "rmse"}
    classes = f.get("classes") or [0, 1]
    if len(classes) > 2:
        return {"objective": "multi:softprob", "eval_metric": "mlogloss", "num_class": len(classes)}
    return {"objective": "binary:logistic", "eval_metric": "auc,logloss"}


def _existing_job(ctx: StepContext, name: str) -> dict | None:
    """The training job ``name`` left by an earlier (perhaps killed) run, waited for if it
    is still running; ``None`` if there is no such job."""
    sm = ctx.session.client("sagemaker")
    try:
        job = sm.describe_training_job(TrainingJobName=name)
    except sm.exceptions.ClientError as exc:
        if exc.response["Error"]["Code"] in ("ValidationException", "ResourceNotFound"):
            return None
        raise
    deadline = time.monotonic() + 3600
    while job["TrainingJobStatus"] in ("InProgress", "Stopping") and time.monotonic() < deadline:
        ctx.log(f"waiting for training job {name} left by an earlier run ({job.get('SecondaryStatus')})")
        time.sleep(0.25)
        job = sm.describe_training_job(TrainingJobName=name)
    return {"job_name": name, "status": job["TrainingJobStatus"], "failure_reason": job.get("FailureReason"),
            "metrics": {m["MetricName"]: m["Value"] for m in job.get("FinalMetricDataList") or []},
            "model_data": (job.get("ModelArtifacts") or {}).get("S3ModelArtifacts"),
            "hyperparameters": job.get("HyperParameters", {})}



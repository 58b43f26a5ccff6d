"""Sections 5 and 8: training, tuning and AutoML on every backend.

>>> from aws_ml import Session, datasets, training
>>> session = Session(backend="local")
>>> claims = datasets.load("fraud/claims").select_dtypes("number").drop(columns="policy_id")
>>> result = training.train(session, data=claims, target="fraud",
...                         hyperparameters={"num_round": 20, "max_depth": 4})  # doctest: +SKIP
>>> result.metrics["validation:auc"]                                             # doctest: +SKIP
>>> best = training.tune(session, data=claims, target="fraud", strategy="Bayesian",
...                      ranges={"eta": (0.05, 0.5), "max_depth": (2, 8)},
...                      max_jobs=20, max_parallel=2)                            # doctest: +SKIP
>>> auto = training.automl(session, claims, "fraud", max_candidates=5)           # doctest: +SKIP

Every function goes through the session's boto3 ``sagemaker`` and ``s3`` clients and returns
the same result objects on every backend: the job's name, its metrics and its model
artifact (``s3://.../model.tar.gz``).

* ``local`` and ``aws``: the jobs run where the backend runs them (local processes, or AWS).
* ``moto``: moto records the jobs (``Completed`` at once, nothing run). The work is then
  done here — training jobs with :func:`~local_backends.sagemaker.training_runner.run_locally`,
  tuning with the same strategies over such training jobs, AutoML with the local candidate
  search — and the artifacts are written to moto's S3 where AWS would put them; the metrics
  returned are those of that work (moto's describe calls have none).
"""
from __future__ import annotations

import contextlib
import io
import json
import re
import tarfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Mapping

from .images import image_uri

BUILTIN_ALGORITHMS = ("xgboost", "blazingtext")
DEFAULT_ROLE = "arn:aws:iam::123456789012:role/aws-ml-sagemaker"
POLL_SECONDS = 0.25


# -- results ---------------------------------------------------------------------------------
@dataclass
class TrainingResult:
    """A finished training job: its name, final metrics and model artifact."""

    job_name: str
    metrics: dict[str, float]
    model_data: str
    status: str = "Completed"
    hyperparameters: dict[str, str] = field(default_factory=dict)
    failure_reason: str | None = None


@dataclass
class CrossValidationResult:
    """One training job per fold and the metrics over the folds."""

    job_names: list[str]
    fold_metrics: list[dict[str, float]]

    @property
    def mean(self) -> dict[str, float]:
        keys = set.intersection(*(set(m) for m in self.fold_metrics)) if self.fold_metrics else set()
        return {k: sum(m[k] for m in self.fold_metrics) / len(self.fold_metrics) for k in sorted(keys)}

    @property
    def std(self) -> dict[str, float]:
        mean = self.mean
        n = len(self.fold_metrics)
        return {k: (sum((m[k] - mean[k]) ** 2 for m in self.fold_metrics) / max(n - 1, 1)) ** 0.5
                for k in mean}


@dataclass
class BaselineComparison:
    """A model's metric against the naive baseline's (majority class, or the mean)."""

    metric: str
    model: float
    baseline: float
    higher_is_better: bool

    @property
    def lift(self) -> float:
        return self.model - self.baseline if self.higher_is_better else self.baseline - self.model

    @property
    def beats_baseline(self) -> bool:
        return self.lift > 0


@dataclass
class TuningResult:
    """A finished tuning job: the best training job, its hyperparameters and every trial."""

    job_name: str
    status: str
    objective: str
    best_training_job: str | None
    best_value: float | None
    best_hyperparameters: dict[str, str]
    model_data: str | None
    trials: list[dict] = field(default_factory=list)

    @property
    def metrics(self) -> dict[str, float]:
        return {} if self.best_value is None else {self.objective: self.best_value}


@dataclass
class AutoMLResult:
    """A finished AutoML job: the best candidate, its metrics and model, and the leaderboard."""

    job_name: str
    status: str
    problem_type: str | None
    objective: str | None
    best_candidate: str | None
    metrics: dict[str, float]
    model_data: str | None
    inference_container: dict | None
    leaderboard: list[dict] = field(default_factory=list)

    def load_model(self, session) -> "AutoMLModel":
        """The best candidate's model, downloaded from S3 (``predict(DataFrame)``)."""
        if not self.model_data:
            raise ValueError(f"AutoML job {self.job_name} has no model (status {self.status})")
        return AutoMLModel.from_s3(session, self.model_data)


class AutoMLModel:
    """The scikit-learn pipeline of an AutoML candidate, predicting the original labels."""

    def __init__(self, payload: dict) -> None:
        self.pipeline = payload["pipeline"]
        self.columns: list[str] = payload["columns"]
        self.features: list[str] = payload["features"]
        self.classes: list | None = payload["classes"]
        self.problem_type: str = payload["problem_type"]

    @classmethod
    def from_s3(cls, session, uri: str) -> "AutoMLModel":
        import joblib

        bucket, key = _split(uri)
        body = session.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
        with tarfile.open(fileobj=io.BytesIO(body), mode="r:gz") as tar:
            raw = tar.extractfile("model.joblib").read()
        return cls(joblib.load(io.BytesIO(raw)))

    def predict(self, frame):
        import numpy as np

        pred = self.pipeline.predict(frame[self.features])
        if self.classes is None:
            return pred
        return np.asarray(self.classes, dtype=object)[np.asarray(pred).astype(int)]

    def predict_proba(self, frame):
        return self.pipeline.predict_proba(frame[self.features])


# -- helpers -----------------------------------------------------------------------------------
def _split(uri: str) -> tuple[str, str]:
    if not uri.startswith("s3://"):
        raise ValueError(f"The 'uri' parameter must be an s3:// URI. Got {uri!r} instead.")
    bucket, _, key = uri[5:].partition("/")
    return bucket, key


def _name(prefix: str, max_len: int = 32) -> str:
    stamp = time.strftime("%m%d%H%M%S")
    return f"{prefix}-{stamp}-{uuid.uuid4().hex[:4]}"[:max_len].rstrip("-")


def default_bucket(session) -> str:
    """``sagemaker-<region>-<account>`` (the SageMaker SDK's default bucket), created if needed."""
    account = session.client("sts").get_caller_identity()["Account"]
    bucket = f"sagemaker-{session.region}-{account}"
    s3 = session.client("s3")
    try:
        if session.region == "us-east-1":
            s3.create_bucket(Bucket=bucket)
        else:
            s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": session.region})
    except (s3.exceptions.BucketAlreadyOwnedByYou, s3.exceptions.BucketAlreadyExists):
        pass
    return bucket


def _runs_jobs(session) -> bool:
    """Whether the session's SageMaker runs training jobs itself (local, aws), or only records
    them (moto, LocalStack's emulations)."""
    return session.backend_for("sagemaker") in ("local", "aws")


@contextlib.contextmanager
def _progress(enabled: bool, title: str) -> Iterator[Any]:
    """A rich status line (``update(text)``), or a silent stand-in."""
    if not enabled:
        class _Quiet:
            def update(self, text: str) -> None:
                pass
        yield _Quiet()
        return
    from rich.console import Console

    console = Console(stderr=True)
    with console.status(title) as status:
        class _Rich:
            def update(self, text: str) -> None:
                status.update(f"{title}: {text}")
        yield _Rich()
    console.log(f"{title}: done")


def _is_classification(y) -> bool:
    import pandas as pd

    return not pd.api.types.is_float_dtype(y) or y.nunique() <= 2


@dataclass
class _Inputs:
    channels: list[dict]
    frame: Any


def _upload_inputs(session, data, target: str, *, builtin: bool, prefix: str, bucket: str,
                   validation_fraction: float = 0.2, seed: int = 0) -> _Inputs:
    """CSV ``train``/``validation`` channels: label first and no header for built-in XGBoost,
    a header row for script mode. ``data`` is a DataFrame or an ``s3://`` prefix already
    holding the channels (``<prefix>/train/``, ``<prefix>/validation/``)."""
    if isinstance(data, str):
        return _Inputs(_prefix_channels(data, "text/csv"), None)
    _check_target(data, target)
    frame = data[[target] + [c for c in data.columns if c != target]] if builtin else data
    channels = _split_channels(session, frame, target, lambda part: part.to_csv(index=False, header=not builtin),
                               "data.csv", "text/csv", bucket=bucket, prefix=prefix,
                               validation_fraction=validation_fraction, seed=seed)
    return _Inputs(channels, frame)


def _check_target(data, target: str) -> None:
    if target not in data.columns:
        raise ValueError(f"The 'target' parameter must be a column of data. Got {target!r} instead.")


def _prefix_channels(uri: str, content_type: str) -> list[dict]:
    """The ``train`` and ``validation`` channels of an ``s3://`` prefix that holds them."""
    uri = uri.rstrip("/")
    return [_channel(name, f"{uri}/{name}/", content_type) for name in ("train", "validation")]


def _split_channels(session, frame, target: str, serialize, filename: str, content_type: str, *,
                    bucket: str, prefix: str, validation_fraction: float, seed: int) -> list[dict]:
    """``frame`` split into ``train`` and ``validation`` (stratified for a class target), each
    part written by ``serialize`` to ``<prefix>/<channel>/<filename>``; their channels."""
    from sklearn.model_selection import train_test_split

    stratify = frame[target] if _is_classification(frame[target]) else None
    train, valid = train_test_split(frame, test_size=validation_fraction, random_state=seed,
                                    stratify=stratify)
    s3 = session.client("s3")
    channels = []
    for name, part in (("train", train), ("validation", valid)):
        s3.put_object(Bucket=bucket, Key=f"{prefix}/{name}/{filename}", Body=serialize(part).encode())
        channels.append(_channel(name, f"s3://{bucket}/{prefix}/{name}/", content_type))
    return channels


def _channel(name: str, uri: str, content_type: str) -> dict:
    return {"ChannelName": name, "ContentType": content_type,
            "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": uri,
                                            "S3DataDistributionType": "FullyReplicated"}}}


def _upload_code(session, entry_point: str | Path, bucket: str, prefix: str) -> str:
    path = Path(entry_point)
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        if path.is_dir():
            for item in sorted(path.rglob("*")):
                if item.is_file():
                    tar.add(item, arcname=str(item.relative_to(path)))
        else:
            tar.add(path, arcname=path.name)
    key = f"{prefix}/code/sourcedir.tar.gz"
    session.client("s3").put_object(Bucket=bucket, Key=key, Body=buf.getvalue())
    return f"s3://{bucket}/{key}"


def _algorithm(session, data, target: str, *, entry_point, program: str | None, algorithm: str,
               hyperparameters: Mapping[str, Any] | None, metric_definitions, bucket: str,
               prefix: str, instance_type: str, output_path: str | None, role: str | None = None) -> dict:
    """The parts of a training request shared by train, cross_validate and tune (``role``:
    the execution role, default :data:`DEFAULT_ROLE`)."""
    builtin = entry_point is None
    if builtin and algorithm not in BUILTIN_ALGORITHMS:
        raise ValueError(f"The 'algorithm' parameter must be one of {list(BUILTIN_ALGORITHMS)} (or give "
                         f"an entry_point). Got {algorithm!r} instead.")
    if builtin and algorithm == "blazingtext":
        return _blazingtext_request(session, data, target, hyperparameters=hyperparameters, bucket=bucket,
                                    prefix=prefix, instance_type=instance_type, output_path=output_path,
                                    role=role)
    inputs = _upload_inputs(session, data, target, builtin=builtin, prefix=prefix, bucket=bucket)
    hps: dict[str, str] = {}
    if builtin:
        image = image_uri("xgboost", session.region)
        y = inputs.frame[target] if inputs.frame is not None else None
        binary = y is not None and y.nunique() == 2
        hps = {"objective": "binary:logistic" if binary else "reg:squarederror",
               "eval_metric": "auc,logloss" if binary else "rmse", "num_round": "50"}
        hps.update({k: str(v) for k, v in (hyperparameters or {}).items()})
        spec = {"TrainingImage": image, "TrainingInputMode": "File"}
    else:
        image = image_uri("sklearn", session.region)
        submit = _upload_code(session, entry_point, bucket, prefix)
        program = program or Path(entry_point).name
        hps = {"sagemaker_program": json.dumps(program), "sagemaker_submit_directory": json.dumps(submit),
               "sagemaker_region": json.dumps(session.region), "sagemaker_container_log_level": "20"}
        hps.update({k: json.dumps(v) for k, v in (hyperparameters or {}).items()})
        spec = {"TrainingImage": image, "TrainingInputMode": "File",
                "MetricDefinitions": list(metric_definitions or [])}
    return _request(spec, hps, inputs.channels, bucket=bucket, prefix=prefix, instance_type=instance_type,
                    output_path=output_path, role=role)


def _request(spec: dict, hps: dict, channels: list[dict], *, bucket: str, prefix: str, instance_type: str,
             output_path: str | None, role: str | None) -> dict:
    return {"AlgorithmSpecification": spec, "HyperParameters": hps, "RoleArn": role or DEFAULT_ROLE,
            "InputDataConfig": channels,
            "OutputDataConfig": {"S3OutputPath": output_path or f"s3://{bucket}/{prefix}/output"},
            "ResourceConfig": {"InstanceType": instance_type, "InstanceCount": 1, "VolumeSizeInGB": 5},
            "StoppingCondition": {"MaxRuntimeInSeconds": 3600}}


_TOKEN = re.compile(r"[\w']+|[^\w\s]")

BLAZINGTEXT_DEFAULTS = {"mode": "supervised", "epochs": 10, "learning_rate": 0.5, "word_ngrams": 2,
                        "vector_dim": 50, "min_count": 1, "buckets": 200000}
"""A BlazingText job's hyperparameters unless the caller sets them: fastText's text
classifier with word bigrams, small enough for a few hundred sentences. ``buckets``: AWS's
default, 2,000,000 hash buckets of word n-grams, makes an 800 MB ``model.bin``; 200,000 of
50 dimensions make about 40 MB."""


def blazingtext_tokens(text: str) -> str:
    """A text as BlazingText wants it, in training and in requests: lower-cased tokens,
    punctuation split off, joined by spaces (BlazingText splits on spaces only)."""
    return " ".join(_TOKEN.findall(str(text).lower()))


def blazingtext_line(label, text: str) -> str:
    """One line of a BlazingText supervised channel: ``__label__<label>`` then
    :func:`blazingtext_tokens` of the text."""
    return f"__label__{str(label).replace(' ', '_')} {blazingtext_tokens(text)}"


def _blazingtext_request(session, data, target: str, *, hyperparameters, bucket: str, prefix: str,
                         instance_type: str, output_path: str | None, role: str | None,
                         validation_fraction: float = 0.2, seed: int = 0) -> dict:
    """A built-in BlazingText job in supervised mode: ``data`` is a DataFrame of ``target``
    and one text column (or an ``s3://`` prefix holding ``train/`` and ``validation/``
    files of ``__label__`` lines)."""
    if isinstance(data, str):
        channels = _prefix_channels(data, "text/plain")
    else:
        _check_target(data, target)
        texts = [c for c in data.columns if c != target]
        if len(texts) != 1:
            raise ValueError(f"BlazingText trains on one text column beside the target; data has {texts}")
        text = texts[0]
        channels = _split_channels(
            session, data[[target, text]].dropna(), target,
            lambda part: "".join(blazingtext_line(y, t) + "\n" for y, t in zip(part[target], part[text])),
            "data.txt", "text/plain", bucket=bucket, prefix=prefix,
            validation_fraction=validation_fraction, seed=seed)
    hps = {k: str(v) for k, v in {**BLAZINGTEXT_DEFAULTS, **(hyperparameters or {})}.items()}
    spec = {"TrainingImage": image_uri("blazingtext", session.region), "TrainingInputMode": "File"}
    return _request(spec, hps, channels, bucket=bucket, prefix=prefix, instance_type=instance_type,
                    output_path=output_path, role=role)


def _run_training(session, request: dict, *, wait: bool, status) -> TrainingResult:
    """Create the job; when ``wait``, follow it to its end (run it here on moto)."""
    sm = session.client("sagemaker")
    name = request["TrainingJobName"]
    sm.create_training_job(**request)
    if not _runs_jobs(session):
        from local_backends.sagemaker.training_runner import run_locally

        status.update(f"{name} (run here: {session.backend_for('sagemaker')} records the job only)")
        result = run_locally(session, _with_builtin_metrics(request))
        return TrainingResult(name, {m["MetricName"]: m["Value"] for m in result.final_metrics},
                              result.model_artifacts or "", result.status,
                              request.get("HyperParameters", {}), result.failure_reason)
    job = sm.describe_training_job(TrainingJobName=name)
    while wait and job["TrainingJobStatus"] in ("InProgress", "Stopping"):
        status.update(f"{name}: {job['SecondaryStatus']}")
        time.sleep(POLL_SECONDS)
        job = sm.describe_training_job(TrainingJobName=name)
    return _result_of(job)


def _with_builtin_metrics(request: dict) -> dict:
    """The request with the metric definitions SageMaker attaches to built-in algorithm jobs
    (XGBoost, BlazingText)."""
    from local_backends.sagemaker import blazingtext_algo, container, xgboost_algo

    spec = request["AlgorithmSpecification"]
    if spec.get("MetricDefinitions"):
        return request
    algorithm = container.resolve_algorithm(spec, request.get("HyperParameters"))
    algo = {"xgboost": xgboost_algo, "blazingtext": blazingtext_algo}.get(algorithm.kind)
    if algo is None:
        return request
    return {**request, "AlgorithmSpecification": {**spec, "MetricDefinitions": algo.metric_definitions()}}


def _result_of(job: dict) -> TrainingResult:
    return TrainingResult(job["TrainingJobName"],
                          {m["MetricName"]: m["Value"] for m in job.get("FinalMetricDataList") or []},
                          job["ModelArtifacts"]["S3ModelArtifacts"], job["TrainingJobStatus"],
                          job.get("HyperParameters", {}), job.get("FailureReason"))


# -- section 5: training -------------------------------------------------------------------
def train(session, *, data, target: str, entry_point: str | Path | None = None,
          algorithm: str = "xgboost", hyperparameters: Mapping[str, Any] | None = None,
          metric_definitions: list[dict] | None = None, instance_type: str = "ml.m5.large",
          output_path: str | None = None, job_name: str | None = None, wait: bool = True,
          progress: bool = True, role: str | None = None) -> TrainingResult:
    """Train a model as a SageMaker training job (run as ``role``, an IAM role ARN; default
    :data:`DEFAULT_ROLE`).

    :param data: a DataFrame (split 80/20 into ``train`` and ``validation`` CSV channels and
        uploaded) or an ``s3://`` prefix holding ``train/`` and ``validation/``. For
        ``blazingtext``: ``target`` and one text column, written as ``__label__`` lines.
    :param entry_point: a script-mode training script (or source directory) for the
        scikit-learn image; ``None`` runs the built-in ``algorithm``: ``xgboost`` (tabular) or
        ``blazingtext`` (text classification, supervised mode; serve it and send
        ``{"instances": [...]}``).
    :param metric_definitions: ``[{"Name", "Regex"}]`` for script mode.
    """
    name = job_name or _name("aws-ml-train", 63)
    bucket = _split(output_path)[0] if output_path else default_bucket(session)
    request = {"TrainingJobName": name, **_algorithm(
        session, data, target, entry_point=entry_point, program=None, algorithm=algorithm,
        hyperparameters=hyperparameters, metric_definitions=metric_definitions, bucket=bucket,
        prefix=f"aws-ml/{name}", instance_type=instance_type, output_path=output_path, role=role)}
    with _progress(progress, f"training job {name}") as status:
        return _run_training(session, request, wait=wait, status=status)


def cross_validate(session, *, data, target: str, folds: int = 5, entry_point=None,
                   algorithm: str = "xgboost", hyperparameters: Mapping[str, Any] | None = None,
                   metric_definitions: list[dict] | None = None, instance_type: str = "ml.m5.large",
                   progress: bool = True, seed: int = 0) -> CrossValidationResult:
    """k-fold cross-validation: one training job per fold (the fold is its ``validation``
    channel), run in parallel where the backend runs jobs."""
    from sklearn.model_selection import KFold, StratifiedKFold

    if folds < 2:
        raise ValueError(f"The 'folds' parameter must be at least 2. Got {folds} instead.")
    stem = _name("aws-ml-cv", 40)
    bucket = default_bucket(session)
    splitter = (StratifiedKFold if _is_classification(data[target]) else KFold)(
        folds, shuffle=True, random_state=seed)
    s3 = session.client("s3")
    builtin = entry_point is None
    frame = data[[target] + [c for c in data.columns if c != target]] if builtin else data
    requests = []
    for i, (tr, va) in enumerate(splitter.split(frame, frame[target])):
        name = f"{stem}-fold{i + 1}"
        prefix = f"aws-ml/{stem}/fold{i + 1}"
        base = _algorithm(session, frame.iloc[tr], target, entry_point=entry_point, program=None,
                          algorithm=algorithm, hyperparameters=hyperparameters,
                          metric_definitions=metric_definitions, bucket=bucket, prefix=prefix,
                          instance_type=instance_type, output_path=None)
        # the fold itself is the validation channel (replacing the inner split's)
        s3.put_object(Bucket=bucket, Key=f"{prefix}/validation/data.csv",
                      Body=frame.iloc[va].to_csv(index=False, header=not builtin).encode())
        s3.put_object(Bucket=bucket, Key=f"{prefix}/train/data.csv",
                      Body=frame.iloc[tr].to_csv(index=False, header=not builtin).encode())
        requests.append({"TrainingJobName": name, **base})
    with _progress(progress, f"cross-validation {stem} ({folds} folds)") as status:
        if _runs_jobs(session):
            sm = session.client("sagemaker")
            for req in requests:
                sm.create_training_job(**req)
            results = []
            for req in requests:
                results.append(_run_training_wait(session, req["TrainingJobName"], status))
        else:
            with ThreadPoolExecutor(max_workers=2) as pool:
                results = list(pool.map(lambda r: _run_training(session, r, wait=True, status=status),
                                        requests))
    failed = [r for r in results if r.status != "Completed"]
    if failed:
        raise RuntimeError(f"cross-validation fold {failed[0].job_name} ended {failed[0].status}: "
                           f"{failed[0].failure_reason}")
    return CrossValidationResult([r.job_name for r in results], [r.metrics for r in results])


def _run_training_wait(session, name: str, status) -> TrainingResult:
    sm = session.client("sagemaker")
    job = sm.describe_training_job(TrainingJobName=name)
    while job["TrainingJobStatus"] in ("InProgress", "Stopping"):
        status.update(f"{name}: {job['SecondaryStatus']}")
        time.sleep(POLL_SECONDS)
        job = sm.describe_training_job(TrainingJobName=name)
    return _result_of(job)


_HIGHER_IS_BETTER = {"auc": True, "aucpr": True, "accuracy": True, "f1": True, "r2": True,
                     "precision": True, "recall": True, "balanced_accuracy": True,
                     "rmse": False, "mse": False, "mae": False, "logloss": False, "error": False,
                     "mlogloss": False, "merror": False}


def baseline_value(metric: str, y) -> float:
    """The value of ``metric`` for the naive model: the majority class (classification) or
    the mean of the target (regression). ``metric`` as XGBoost names it (``auc``,
    ``logloss``, ``error``, ``rmse``, ...), with or without a ``validation:`` prefix."""
    import numpy as np

    m = metric.split(":")[-1].lower()
    y = np.asarray(y, dtype=float)
    if m in ("auc", "aucpr"):
        return 0.5 if m == "auc" else float(y.mean())
    if m in ("accuracy", "error", "f1", "precision", "recall", "balanced_accuracy", "logloss"):
        p = float(y.mean())
        majority = 1.0 if p > 0.5 else 0.0
        acc = float((y == majority).mean())
        if m == "logloss":
            p = min(max(p, 1e-15), 1 - 1e-15)
            return float(-(y * np.log(p) + (1 - y) * np.log(1 - p)).mean())
        return {"accuracy": acc, "error": 1 - acc, "balanced_accuracy": 0.5,
                "f1": 0.0 if majority == 0 else 2 * p / (1 + p),
                "precision": 0.0 if majority == 0 else p, "recall": float(majority)}[m]
    if m in ("rmse", "mse", "mae", "r2"):
        pred = y.mean()
        return {"rmse": float(np.sqrt(((y - pred) ** 2).mean())), "mse": float(((y - pred) ** 2).mean()),
                "mae": float(np.abs(y - pred).mean()), "r2": 0.0}[m]
    raise ValueError(f"The 'metric' parameter must be one of {sorted(_HIGHER_IS_BETTER)}. "
                     f"Got {metric!r} instead.")


def compare_with_baseline(result: TrainingResult | TuningResult, *, data, target: str,
                          metric: str = "validation:auc") -> BaselineComparison:
    """The model's ``metric`` against the naive baseline computed on ``data[target]``."""
    metrics = result.metrics
    if metric not in metrics:
        raise ValueError(f"The 'metric' parameter must be one of the job's metrics {sorted(metrics)}. "
                         f"Got {metric!r} instead.")
    key = metric.split(":")[-1].lower()
    return BaselineComparison(metric, metrics[metric], baseline_value(metric, data[target]),
                              _HIGHER_IS_BETTER.get(key, True))


# -- section 8: tuning ---------------------------------------------------------------------
def parameter_ranges(ranges: Mapping[str, Any]) -> dict:
    """``ParameterRanges`` from a friendly mapping: ``(low, high)`` (ints: Integer, else
    Continuous), ``(low, high, "Logarithmic")`` with a scaling type, a list: Categorical. An
    AWS-shaped ``ParameterRanges`` dict passes through."""
    if any(k.endswith("ParameterRanges") for k in ranges):
        return dict(ranges)
    out: dict[str, list] = {"IntegerParameterRanges": [], "ContinuousParameterRanges": [],
                            "CategoricalParameterRanges": []}
    for name, spec in ranges.items():
        if isinstance(spec, list):
            out["CategoricalParameterRanges"].append({"Name": name, "Values": [str(v) for v in spec]})
            continue
        low, high, *rest = spec
        scaling = rest[0] if rest else "Auto"
        kind = "Integer" if isinstance(low, int) and isinstance(high, int) else "Continuous"
        out[f"{kind}ParameterRanges"].append({"Name": name, "MinValue": str(low), "MaxValue": str(high),
                                              "ScalingType": scaling})
    return {k: v for k, v in out.items() if v}


def tune(session, *, data, target: str, ranges: Mapping[str, Any], strategy: str = "Bayesian",
         objective: str = "validation:auc", objective_type: str = "Maximize", max_jobs: int = 20,
         max_parallel: int = 2, entry_point=None, algorithm: str = "xgboost",
         hyperparameters: Mapping[str, Any] | None = None, metric_definitions: list[dict] | None = None,
         early_stopping: str = "Off", max_resource: int | None = None,
         instance_type: str = "ml.m5.large", seed: int | None = 0,
         job_name: str | None = None, wait: bool = True, progress: bool = True,
         role: str | None = None, output_path: str | None = None) -> TuningResult:
    """A hyperparameter tuning job: ``strategy`` (Random, Bayesian, Grid, Hyperband) over
    ``ranges`` (see :func:`parameter_ranges`), ``max_jobs`` training jobs, ``max_parallel``
    at a time, optimising ``objective``. With Hyperband, ``max_resource`` (default: the
    ``num_round`` or ``epochs`` hyperparameter) is the most epochs a trial may run.
    ``output_path`` (``s3://...``) is where the trials' models go (default: the SageMaker
    default bucket)."""
    name = job_name or _name("aws-ml-tune", 32)
    bucket = _split(output_path)[0] if output_path else default_bucket(session)
    base = _algorithm(session, data, target, entry_point=entry_point, program=None, algorithm=algorithm,
                      hyperparameters=hyperparameters, metric_definitions=metric_definitions,
                      bucket=bucket, prefix=f"aws-ml/{name}", instance_type=instance_type,
                      output_path=output_path, role=role)
    config: dict[str, Any] = {
        "Strategy": strategy,
        "HyperParameterTuningJobObjective": {"Type": objective_type, "MetricName": objective},
        "ResourceLimits": {"MaxParallelTrainingJobs": max_parallel},
        "ParameterRanges": parameter_ranges(ranges),
        "TrainingJobEarlyStoppingType": early_stopping,
    }
    if strategy != "Grid":
        config["ResourceLimits"]["MaxNumberOfTrainingJobs"] = max_jobs
    # a tuned hyperparameter is not also a static one (SageMaker refuses the job): the
    # built-in algorithms' defaults give way to the ranges
    tuned = {r["Name"]: r for rs in config["ParameterRanges"].values() for r in rs}
    both = sorted(set(tuned) & set(hyperparameters or {}))
    if both:
        raise ValueError(f"Hyperparameters {both} are given both as static hyperparameters and as "
                         f"ranges to tune; give each one way only.")
    static = {k: v for k, v in base["HyperParameters"].items() if k not in tuned}
    if strategy == "Hyperband":
        # the resource is the epochs a trial logs its objective for: boosting rounds for XGBoost
        def _rounds(k: str) -> int:
            if k in static:
                return int(float(json.loads(static[k]) if entry_point else static[k]))
            r = tuned[k]    # tuned: its upper bound
            return int(float(r["MaxValue"] if "MaxValue" in r else max(float(v) for v in r["Values"])))
        rounds = max_resource or next((_rounds(k) for k in ("num_round", "epochs", "n_epochs", "num_epochs")
                                       if k in static or k in tuned), None)
        if rounds is None:
            raise ValueError("The 'max_resource' parameter of tune is needed with the Hyperband "
                             "strategy when the hyperparameters have no num_round or epochs.")
        config["StrategyConfig"] = {"HyperbandStrategyConfig": {"MinResource": 1, "MaxResource": int(rounds)}}
    if seed is not None:
        config["RandomSeed"] = seed
    definition = {"StaticHyperParameters": static,
                  "AlgorithmSpecification": base["AlgorithmSpecification"], "RoleArn": base["RoleArn"],
                  "InputDataConfig": base["InputDataConfig"], "OutputDataConfig": base["OutputDataConfig"],
                  "ResourceConfig": base["ResourceConfig"], "StoppingCondition": base["StoppingCondition"]}
    sm = session.client("sagemaker")
    sm.create_hyper_parameter_tuning_job(HyperParameterTuningJobName=name,
                                         HyperParameterTuningJobConfig=config,
                                         TrainingJobDefinition=definition)
    with _progress(progress, f"tuning job {name} ({strategy}, {max_jobs} jobs)") as status:
        if not _runs_jobs(session):
            return _tune_here(session, name, config, definition, status)
        job = sm.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=name)
        while wait and job["HyperParameterTuningJobStatus"] in ("InProgress", "Stopping"):
            c = job["TrainingJobStatusCounters"]
            best = job.get("BestTrainingJob", {}).get("FinalHyperParameterTuningJobObjectiveMetric", {})
            status.update(f"{c['Completed']} completed, {c['InProgress']} running, "
                          f"{c['NonRetryableError'] + c['RetryableError']} failed, {c['Stopped']} stopped"
                          + (f"; best {objective} {best['Value']:.5g}" if best else ""))
            time.sleep(POLL_SECONDS)
            job = sm.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=name)
    trials = [t for page in sm.get_paginator("list_training_jobs_for_hyper_parameter_tuning_job").paginate(
        HyperParameterTuningJobName=name) for t in page["TrainingJobSummaries"]]
    trials = [{"TrainingJobName": t["TrainingJobName"], "TrainingJobStatus": t["TrainingJobStatus"],
               "TunedHyperParameters": dict(t["TunedHyperParameters"]),
               "ObjectiveValue": t.get("FinalHyperParameterTuningJobObjectiveMetric", {}).get("Value")}
              for t in trials]
    best = job.get("BestTrainingJob")
    model = None
    if best:
        model = sm.describe_training_job(TrainingJobName=best["TrainingJobName"])["ModelArtifacts"]["S3ModelArtifacts"]
    return TuningResult(name, job["HyperParameterTuningJobStatus"], objective,
                        best["TrainingJobName"] if best else None,
                        best["FinalHyperParameterTuningJobObjectiveMetric"]["Value"] if best else None,
                        dict(best["TunedHyperParameters"]) if best else {}, model, trials)


def _tune_here(session, name: str, config: dict, definition: dict, status) -> TuningResult:
    """The tuning work on a backend that only records the tuning job (moto): the same
    strategies, each trial a training job created there and run here, in batches of
    ``MaxParallelTrainingJobs``. No early stopping here (trials run to their end, and
    Hyperband samples like Random)."""
    from local_backends.sagemaker.tuning import trial_job_name, trial_request
    from local_backends.sagemaker.tuning_strategies import make_strategy

    objective = config["HyperParameterTuningJobObjective"]
    strategy = make_strategy(config, definition["StaticHyperParameters"])
    limits = config["ResourceLimits"]
    capacity = strategy.capacity()
    max_jobs = min(x for x in (limits.get("MaxNumberOfTrainingJobs"), capacity) if x is not None)
    trials: list[dict] = []
    models: dict[str, str] = {}

    def one(seq_trial):
        seq, trial = seq_trial
        request = trial_request(definition, trial_job_name(name, seq, trial.params), trial.params,
                                objective["MetricName"])
        return trial, _run_training(session, request, wait=True, status=status)

    seq = 0
    with ThreadPoolExecutor(max_workers=limits["MaxParallelTrainingJobs"]) as pool:
        while seq < max_jobs:
            batch = []
            while len(batch) < limits["MaxParallelTrainingJobs"] and seq < max_jobs:
                trial = strategy.ask()
                if trial is None:
                    break
                seq += 1
                batch.append((seq, trial))
            if not batch:
                break
            for trial, result in pool.map(one, batch):
                value = result.metrics.get(objective["MetricName"])
                strategy.tell(trial, value, "complete" if value is not None else "fail")
                trials.append({"TrainingJobName": result.job_name, "TrainingJobStatus": result.status,
                               "TunedHyperParameters": trial.params, "ObjectiveValue": value})
                models[result.job_name] = result.model_data
    scored = [t for t in trials if t["ObjectiveValue"] is not None]
    pick = max if objective["Type"] == "Maximize" else min
    best = pick(scored, key=lambda t: t["ObjectiveValue"]) if scored else None
    return TuningResult(name, "Completed" if best else "Failed", objective["MetricName"],
                        best and best["TrainingJobName"], best and best["ObjectiveValue"],
                        dict(best["TunedHyperParameters"]) if best else {},
                        best and models[best["TrainingJobName"]], trials)


# -- section 8: AutoML ------------------------------------------------------------------------
def automl(session, data, target: str, *, problem_type: str | None = None, metric: str | None = None,
           max_candidates: int = 5, max_runtime: int | None = None, job_name: str | None = None,
           output_path: str | None = None, wait: bool = True, progress: bool = True,
           role: str | None = None) -> AutoMLResult:
    """An Autopilot (AutoML V2, tabular) job on ``data`` (a DataFrame, uploaded as CSV, or an
    ``s3://`` prefix of CSV files with a header)."""
    name = job_name or _name("aws-ml-automl", 32)
    bucket = _split(output_path)[0] if output_path else default_bucket(session)
    if isinstance(data, str):
        uri = data
    else:
        key = f"aws-ml/{name}/input/data.csv"
        session.client("s3").put_object(Bucket=bucket, Key=key, Body=data.to_csv(index=False).encode())
        uri = f"s3://{bucket}/aws-ml/{name}/input/"
    criteria: dict[str, int] = {"MaxCandidates": max_candidates}
    if max_runtime:
        criteria["MaxAutoMLJobRuntimeInSeconds"] = max_runtime
    tabular: dict[str, Any] = {"TargetAttributeName": target, "CompletionCriteria": criteria}
    if problem_type is None and not _runs_jobs(session) and not isinstance(data, str):
        # moto's CreateAutoMLJobV2 fails without a ProblemType (AWS infers it): infer it here
        from local_backends.sagemaker.automl_runner import infer_problem_type
        problem_type = infer_problem_type(data[target])
    if problem_type:
        tabular["ProblemType"] = problem_type
    request: dict[str, Any] = {
        "AutoMLJobName": name,
        "AutoMLJobInputDataConfig": [{"ChannelType": "training", "ContentType": "text/csv;header=present",
                                      "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": uri}}}],
        "OutputDataConfig": {"S3OutputPath": output_path or f"s3://{bucket}/aws-ml/{name}/output"},
        "AutoMLProblemTypeConfig": {"TabularJobConfig": tabular}, "RoleArn": role or DEFAULT_ROLE}
    if metric:
        request["AutoMLJobObjective"] = {"MetricName": metric}
    sm = session.client("sagemaker")
    sm.create_auto_ml_job_v2(**request)
    with _progress(progress, f"AutoML job {name}") as status:
        if not _runs_jobs(session):
            return _automl_here(session, request, status)
        job = sm.describe_auto_ml_job_v2(AutoMLJobName=name)
        while wait and job["AutoMLJobStatus"] in ("InProgress", "Stopping"):
            best = job.get("BestCandidate", {}).get("FinalAutoMLJobObjectiveMetric")
            status.update(job["AutoMLJobSecondaryStatus"]
                          + (f"; best {best['MetricName']} {best['Value']:.4g}" if best else ""))
            time.sleep(POLL_SECONDS)
            job = sm.describe_auto_ml_job_v2(AutoMLJobName=name)
    board = [c for page in sm.get_paginator("list_candidates_for_auto_ml_job").paginate(
        AutoMLJobName=name, SortBy="FinalObjectiveMetricValue",
        SortOrder="Ascending" if _minimize(job) else "Descending") for c in page["Candidates"]]
    board = [{"CandidateName": c["CandidateName"], "CandidateStatus": c["CandidateStatus"],
              "metrics": {m["StandardMetricName"]: m["Value"]
                          for m in c.get("CandidateProperties", {}).get("CandidateMetrics", [])},
              "ModelDataUrl": c["InferenceContainers"][0]["ModelDataUrl"]} for c in board]
    best = job.get("BestCandidate")
    resolved = job.get("ResolvedAttributes", {})
    ptype = resolved.get("AutoMLProblemTypeResolvedAttributes", {}).get("TabularResolvedAttributes", {}).get("ProblemType")
    return AutoMLResult(
        name, job["AutoMLJobStatus"], ptype, (job.get("AutoMLJobObjective") or {}).get("MetricName"),
        best and best["CandidateName"],
        {m["StandardMetricName"]: m["Value"] for m in
         (best or {}).get("CandidateProperties", {}).get("CandidateMetrics", [])},
        best and best["InferenceContainers"][0]["ModelDataUrl"],
        best and best["InferenceContainers"][0], board)


def _minimize(job: dict) -> bool:
    metric = (job.get("BestCandidate") or {}).get("FinalAutoMLJobObjectiveMetric") or {}
    return metric.get("Type") == "Minimize"


def _automl_here(session, request: dict, status) -> AutoMLResult:
    """The AutoML work on a backend that only records the job (moto): the local search,
    its artifacts written to that backend's S3."""
    from local_backends.sagemaker import automl_runner as runner

    started = time.time()
    name = request["AutoMLJobName"]
    s3 = session.client("s3")
    tabular = request["AutoMLProblemTypeConfig"]["TabularJobConfig"]
    status.update("AnalyzingData (run here: the backend records the job only)")
    frame = runner.read_channel(s3, request["AutoMLJobInputDataConfig"][0])
    data = runner.prepare(frame, tabular["TargetAttributeName"], tabular.get("ProblemType"))
    metric = (request.get("AutoMLJobObjective") or {}).get("MetricName") or \
        runner.DEFAULT_OBJECTIVE[data.problem_type]
    bucket, prefix = runner.output_prefix(request["OutputDataConfig"]["S3OutputPath"], name)
    criteria = tabular["CompletionCriteria"]
    results, _ = runner.search(data, name, criteria["MaxCandidates"],
                               deadline=runner.runtime_deadline(criteria, started),
                               on_start=lambda c: status.update(f"candidate {c.name}"))
    board = []
    for cand in results:
        if cand.failure:
            continue
        key = runner.candidate_model_key(prefix, cand.name)
        s3.put_object(Bucket=bucket, Key=key, Body=cand.archive)
        board.append({"CandidateName": cand.name, "CandidateStatus": "Completed",
                      "metrics": cand.metrics, "ModelDataUrl": f"s3://{bucket}/{key}"})
    board.sort(key=lambda c: c["metrics"][metric], reverse=metric not in runner.MINIMIZE)
    best = board[0] if board else None
    container = best and runner.inference_container(session.region, best["ModelDataUrl"])
    return AutoMLResult(name, "Completed" if best else "Failed", data.problem_type, metric,
                        best and best["CandidateName"], dict(best["metrics"]) if best else {},
                        best and best["ModelDataUrl"], container, board)


__all__ = ["AutoMLModel", "AutoMLResult", "BaselineComparison", "CrossValidationResult",
           "TrainingResult", "TuningResult", "automl", "baseline_value", "compare_with_baseline",
           "cross_validate", "default_bucket", "parameter_ranges", "train", "tune"]

"""The built-in steps: the eight sections of the pipeline, each calling its facade module.

Every step is idempotent: run twice (or again after being killed half way) it leaves one
set of resources, named from the pipeline (the feature group, the endpoint) and written
to fixed keys under the artefact prefix. What a step returns is JSON: the evidence the
run report answers the course note's questions with, and the URIs and names of what it
made.
"""
from __future__ import annotations

import io
import time
from dataclasses import asdict

from .cache import digest, file_digest
from .spec import PipelineSpec, source_location
from .steps import STEPS, StepContext

TOP = 12


# -- shared helpers ---------------------------------------------------------------------
def _fingerprints(spec: PipelineSpec, ctx: StepContext) -> dict[str, str]:
    """A content fingerprint per source: SHA-256 of a local file, ETag of an S3 object."""
    if "fingerprints" not in ctx._cache:
        out = {}
        for src in spec.data.sources:
            loc = source_location(spec, src)
            if loc.startswith("s3://"):
                bucket, _, key = loc[5:].partition("/")
                out[src.name] = ctx.s3.head_object(Bucket=bucket, Key=key)["ETag"]
            else:
                out[src.name] = file_digest(loc)
        ctx._cache["fingerprints"] = out
    return ctx._cache["fingerprints"]


def _read_source(ctx: StepContext, location: str):
    import pandas as pd

    if location.startswith("s3://"):
        return ctx.read_table(location)
    return pd.read_parquet(location) if location.endswith((".parquet", ".pq")) else pd.read_csv(location)


def load_sources(ctx: StepContext) -> tuple[dict, "object"]:
    """Each source as a DataFrame, and the table joined on ``data.join_on``."""
    spec = ctx.spec
    frames = {s.name: _read_source(ctx, source_location(spec, s)) for s in spec.data.sources}
    tables = list(frames.values())
    joined = tables[0]
    for other in tables[1:]:
        joined = joined.merge(other, on=spec.data.join_on, how="inner", suffixes=("", "_dup"))
    return frames, joined


def _problem_dict(spec: PipelineSpec) -> dict:
    return {"target": spec.problem.target, "positive_class": spec.problem.positive_class,
            "problem_type": spec.problem.problem_type, "id_columns": list(spec.problem.id_columns)}


def _positive(config: dict):
    return config["positive_class"] if config.get("positive_class") is not None else 1


# -- section 1 ---------------------------------------------------------------------------
def _problem_config(spec: PipelineSpec, ctx: StepContext) -> dict:
    return {"problem": asdict(spec.problem), "data": _fingerprints(spec, ctx), "join_on": spec.data.join_on}


@STEPS.register("problem", section=1, title="Problem formulation", config=_problem_config,
                requires=("aws_ml.problem",))
def problem_step(ctx: StepContext, config: dict) -> dict:
    """Check the problem spec against the data (:meth:`aws_ml.problem.ProblemSpec.check`)."""
    from aws_ml.problem import ProblemSpec

    _, table = load_sources(ctx)
    check = ProblemSpec(**config["problem"]).check(table)
    data = check.to_dict()
    uris = {"html": ctx.put("problem/check.html", check.to_html(), "text/html; charset=utf-8"),
            "json": ctx.put_json("problem/check.json", data)}
    return {"rows": check.rows, "columns": check.columns, "problem_type": check.problem_type,
            "declared_type_ok": check.declared_type_ok, "class_counts": check.class_counts,
            "minority_share": check.minority_share, "metric": config["problem"]["metric"],
            "metric_ok": check.metric_ok, "recommended_metric": check.recommended_metric,
            "metric_note": check.metric_note, "baselines": check.baselines,
            "unlabelled_rows": check.unlabelled_rows, "text_columns": check.text_columns,
            "feature_columns": check.feature_columns, "problems": check.problems,
            "answers": check.answers(), "artifacts": uris,
            "headline": {"rows": check.rows, "minority share": check.minority_share}}


# -- section 2 ---------------------------------------------------------------------------
def _data_config(spec: PipelineSpec, ctx: StepContext) -> dict:
    return {"sources": [{"name": s.name, "path": s.path} for s in spec.data.sources],
            "fingerprints": _fingerprints(spec, ctx), "join_on": spec.data.join_on,
            "labeling": asdict(spec.data.labeling) if spec.data.labeling else None,
            "target": spec.problem.target}


@STEPS.register("data", section=2, title="Data collection and labelling", config=_data_config)
def data_step(ctx: StepContext, config: dict) -> dict:
    """Upload the sources to S3, join them, and write the curated table (Parquet)."""
    from pathlib import Path

    spec = ctx.spec
    ctx.ensure_bucket()
    uploaded = {}
    for src in spec.data.sources:
        loc = source_location(spec, src)
        if loc.startswith("s3://"):
            uploaded[src.name] = loc            # already in S3: read in place
            continue
        rel = f"raw/{src.name}/{Path(loc).name}"
        ctx.s3.upload_file(loc, ctx.bucket, ctx.key(rel))
        uploaded[src.name] = ctx.uri(rel)
    frames, table = load_sources(ctx)
    target = config["target"]
    dataset_uri = ctx.put_table("curated/dataset.parquet", table)
    rows = {name: int(len(df)) for name, df in frames.items()}
    unlabelled = int(table[target].isna().sum())
    labeling = {"configured": config["labeling"] is not None, "unlabelled_rows": unlabelled,
                "labelled_rows": int(len(table) - unlabelled), "status": "not needed"}
    if config["labeling"] is not None:
        import importlib.util

        if importlib.util.find_spec("aws_ml.labeling") is None:
            labeling["status"] = "not available in this version (aws_ml.labeling is not installed)"
        else:
            labeling["status"] = "not run: the pipeline runner does not call aws_ml.labeling yet"
        ctx.note(f"Ground Truth labelling (section 2): {labeling['status']} — the {unlabelled:,} rows "
                 f"without '{target}' were left out of training.")
    elif unlabelled:
        labeling["status"] = "needed"
    missing = table.isna().sum()
    return {"sources": uploaded, "rows_per_source": rows, "rows": int(len(table)),
            "columns": [str(c) for c in table.columns],
            "dropped_by_join": {n: r - int(len(table)) for n, r in rows.items()} if len(frames) > 1 else {},
            "duplicate_rows": int(table.duplicated().sum()),
            "missing_cells": int(missing.sum()),
            "columns_with_missing": {str(k): int(v) for k, v in missing.items() if v},
            "labeling": labeling, "dataset_uri": dataset_uri,
            "bytes": int(sum(Path(source_location(spec, s)).stat().st_size for s in spec.data.sources
                             if not source_location(spec, s).startswith("s3://"))),
            "headline": {"rows": int(len(table)), "columns": int(table.shape[1])}}


# -- section 3 ---------------------------------------------------------------------------
def _evaluation_config(spec: PipelineSpec, ctx: StepContext) -> dict | None:
    if spec.evaluation is None or not spec.evaluation.enabled:
        return None
    return {**_problem_dict(spec), **asdict(spec.evaluation)}


@STEPS.register("evaluation", section=3, title="Data evaluation", config=_evaluation_config,
                needs=("data",), requires=("aws_ml.evaluation",))
def evaluation_step(ctx: StepContext, config: dict) -> dict:
    """Statistics, balance, outliers, correlations, leakage and bias
    (:func:`aws_ml.evaluation.evaluate_data`), the dashboard saved to S3."""
    from aws_ml.evaluation import evaluate_data

    report = evaluate_data(ctx.inputs["data"]["dataset_uri"], target=config["target"], session=ctx.session,
                           facet=config["facets"] or None, positive_label=_positive(config),
                           sample=config["sample"], na_values=config["na_values"],
                           exclude=config["id_columns"], title=f"Data evaluation — {ctx.spec.name}")
    uris = report.save(ctx.session, ctx.uri("reports/evaluation/"))
    d = report.to_dict()
    numeric = [s for s in d["statistics"] if s.get("mean") is not None]
    return {"rows": report.n_rows, "rows_total": report.n_rows_total, "columns": report.n_columns,
            "task": report.task, "balance": d["balance"],
            "findings": d["findings"][:TOP * 2], "findings_count": len(d["findings"]),
            "statistics": [{k: s.get(k) for k in ("column", "mean", "std", "min", "50%", "max", "missing")}
                           for s in numeric][:TOP],
            "outliers": [f["message"] for f in report.findings_about("outliers")][:TOP],
            "missing": [f["message"] for f in report.findings_about("missing")][:TOP],
            "target_correlations": d["target_correlations"][:TOP],
            "leakage": d["leakage"], "redundant": d["redundant"][:TOP],
            "bias": [{"facet": b["facet"], **{k: v for k, v in b.items() if k in ("groups", "summary")}}
                     for b in d["bias"]],
            "artifacts": {"dashboard": uris["html"], "json": uris["json"]},
            "headline": {"rows": report.n_rows, "findings": len(d["findings"]),
                         "minority share": report.balance.minority_share}}


# -- section 4 ---------------------------------------------------------------------------
def _features_config(spec: PipelineSpec, ctx: StepContext) -> dict | None:
    if spec.features is None or not spec.features.enabled:
        return None
    return {**_problem_dict(spec), **asdict(spec.features),
            "feature_group": ctx.resolve(spec.features.feature_group)}


def _feature_group(ctx: StepContext, name: str, df, record_id: str, online: bool) -> dict:
    """The feature group ``name`` for ``df``: reused when it has the same definitions
    (a re-run, or a run killed after creating it), else deleted and created again."""
    from aws_ml.features import create_feature_group, infer_feature_definitions, wait_for_feature_group

    sm = ctx.session.client("sagemaker")
    wanted = {d["FeatureName"]: d["FeatureType"] for d in infer_feature_definitions(df)}
    wanted["event_time"] = "Fractional"
    desc = _describe_feature_group(ctx, name)
    if desc is not None:
        if desc["FeatureGroupStatus"] == "Creating":
            desc = wait_for_feature_group(ctx.session, name)
        have = {d["FeatureName"]: d["FeatureType"] for d in desc["FeatureDefinitions"]}
        same = (have == wanted and desc["RecordIdentifierFeatureName"] == record_id
                and bool(desc.get("OnlineStoreConfig")) == online and desc["FeatureGroupStatus"] == "Created")
        if same:
            return desc
        ctx.log(f"feature group {name}: definitions changed, re-creating it")
        sm.delete_feature_group(FeatureGroupName=name)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and _describe_feature_group(ctx, name) is not None:
            time.sleep(0.1)
    ctx.ensure_bucket()
    return create_feature_group(ctx.session, name, df, record_id=record_id, event_time="event_time",
                                bucket=ctx.bucket, prefix=ctx.key("featurestore"), online=online,
                                description=f"features of pipeline {ctx.spec.name}")


def _describe_feature_group(ctx: StepContext, name: str) -> dict | None:
    """``DescribeFeatureGroup``, or ``None`` when there is no such group."""
    sm = ctx.session.client("sagemaker")
    try:
        return sm.describe_feature_group(FeatureGroupName=name)
    except sm.exceptions.ResourceNotFound:
        return None
    except KeyError:
        # moto's DescribeFeatureGroup raises KeyError for an unknown group (a moto gap,
        # see tests/contract/test_featurestore); AWS and local answer ResourceNotFound
        if ctx.session.backend_for("sagemaker") != "moto":
            raise
        return None


def _feature_group_exists(ctx: StepContext, outputs: dict) -> bool:
    desc = _describe_feature_group(ctx, outputs["feature_group"])
    return desc is not None and desc["FeatureGroupStatus"] == "Created"


@STEPS.register("features", section=4, title="Feature engineering", config=_features_config,
                needs=("data",), requires=("aws_ml.features",), still_valid=_feature_group_exists)
def features_step(ctx: StepContext, config: dict) -> dict:
    """Ingest the table into a feature group, build the training set from the offline store
    (point in time), split it, fit the transformations on the training rows, and write the
    train / validation / test sets (CSV, label first, no header: SageMaker's format)."""
    import numpy as np
    import pandas as pd
    from sklearn.model_selection import train_test_split

    from aws_ml.features import feature_pipeline, ingest, point_in_time_join

    target = config["target"]
    df = ctx.read_table(ctx.inputs["data"]["dataset_uri"])
    df = df[df[target].notna()].reset_index(drop=True)
    record_id = config["record_id"] or (config["id_columns"][0] if config["id_columns"] else None)
    if record_id is None:
        record_id = "record_id"
        df.insert(0, record_id, np.arange(len(df)))
    as_of = pd.Timestamp(config["event_time"])
    as_of = as_of.tz_localize("UTC") if as_of.tzinfo is None else as_of
    df["event_time"] = float(as_of.timestamp())
    group = _feature_group(ctx, config["feature_group"], df, record_id, config["online"])
    report = ingest(ctx.session, config["feature_group"], df, progress=False)
    if not report.ok:
        raise RuntimeError(f"{len(report.failed)} rows failed to ingest into {config['feature_group']}: "
                           f"{report.failed[0][1]}")
    entity = df[[record_id, "event_time"]]
    training = point_in_time_join(ctx.session, entity, [config["feature_group"]])
    training = training.loc[:, ~training.columns.duplicated()]

    excluded = {target, record_id, "event_time", *config["id_columns"]}
    candidates = [c for c in training.columns if c not in excluded]
    numeric = config["numeric"] if config["numeric"] is not None else \
        [c for c in candidates if pd.api.types.is_numeric_dtype(training[c])]
    categorical = config["categorical"] if config["categorical"] is not None else \
        [c for c in candidates if c not in numeric and not pd.api.types.is_numeric_dtype(training[c])]
    task = "regression" if config["problem_type"] == "regression" else "classification"
    y = training[target]
    stratify = y if task == "classification" else None
    split = config["split"]
    rest, test = train_test_split(training, test_size=split["test"], random_state=split["seed"], stratify=stratify)
    if split["validation"] > 0:
        train, valid = train_test_split(rest, test_size=split["validation"] / (1 - split["test"]),
                                        random_state=split["seed"],
                                        stratify=rest[target] if task == "classification" else None)
    else:
        train, valid = rest, rest.iloc[:0]
    # the width of the transformed table: numbers, one column per category (missing is
    # one), one per ratio; SelectKBest refuses a k above it
    width = len(numeric) + len(config["ratios"]) + sum(int(train[c].nunique(dropna=False)) for c in categorical)
    k = min(config["k"], width) if config["select"] else "all"
    pipe = feature_pipeline(numeric=numeric, categorical=categorical,
                            ratios=[tuple(p) for p in config["ratios"]], select=config["select"],
                            k=k, task=task, random_state=split["seed"])
    X_train = pipe.fit_transform(train[numeric + categorical], train[target])
    names = [str(c) for c in X_train.columns]

    def to_csv(frame, X) -> bytes:
        out = pd.concat([frame[target].reset_index(drop=True).astype(float if task == "regression" else int)
                         if task == "classification" and pd.api.types.is_numeric_dtype(frame[target])
                         else frame[target].reset_index(drop=True), X.reset_index(drop=True)], axis=1)
        return out.to_csv(index=False, header=False).encode()

    uris = {"train": ctx.put("features/train/train.csv", to_csv(train, X_train), "text/csv"),
            "test": ctx.put("features/test/test.csv",
                            to_csv(test, pipe.transform(test[numeric + categorical])), "text/csv")}
    if len(valid):
        uris["validation"] = ctx.put("features/validation/validation.csv",
                                     to_csv(valid, pipe.transform(valid[numeric + categorical])), "text/csv")
    uris["test_raw"] = ctx.put_table("features/extra/test_raw.parquet", test.drop(columns=["event_time"]))
    uris["train_features"] = ctx.put_table("features/extra/train_features.parquet", X_train)
    import pickle
    uris["transform"] = ctx.put("features/transform.pkl", pickle.dumps(pipe))
    uris["feature_names"] = ctx.put_json("features/feature_names.json", names)

    # evidence for the report: correlated pairs, informative features
    corr = train[numeric].corr(numeric_only=True).abs() if len(numeric) > 1 else pd.DataFrame()
    pairs = sorted(({"a": a, "b": b, "r": round(float(corr.loc[a, b]), 3)}
                    for i, a in enumerate(corr.columns) for b in corr.columns[i + 1:]
                    if corr.loc[a, b] >= 0.7), key=lambda p: -p["r"])
    informative = []
    if task == "classification":
        from sklearn.feature_selection import mutual_info_classif
        mi = mutual_info_classif(X_train.to_numpy(dtype=float), train[target].astype(str), random_state=0)
        informative = [{"feature": n, "mutual_information": round(float(v), 4)}
                       for n, v in sorted(zip(names, mi), key=lambda t: -t[1])][:TOP]
    scales = train[numeric].std(numeric_only=True) if numeric else pd.Series(dtype=float)
    return {"feature_group": config["feature_group"], "feature_group_arn": group["FeatureGroupArn"],
            "offline_store": group.get("OfflineStoreConfig", {}).get("S3StorageConfig", {}).get("ResolvedOutputS3Uri"),
            "record_id": record_id, "ingested": report.succeeded, "ingest_seconds": round(report.seconds, 3),
            "numeric": numeric, "categorical": categorical, "ratios": config["ratios"],
            "features_in": len(numeric) + len(categorical), "features_out": len(names),
            "feature_names": names, "selection": config["select"], "correlated_pairs": pairs[:TOP],
            "informative": informative, "scaled": True,
            "scale_range": [float(scales.min()), float(scales.max())] if len(scales) else None,
            "rows": {"train": int(len(train)), "validation": int(len(valid)), "test": int(len(test))},
            "task": task, "target": target, "artifacts": uris,
            "classes": sorted(str(v) for v in y.unique()) if task == "classification" else None,
            "headline": {"features out": len(names), "train rows": int(len(train))}}


# -- section 5 ---------------------------------------------------------------------------
def _training_config(spec: PipelineSpec, ctx: StepContext) -> dict | None:
    if spec.training is None or not spec.training.enabled:
        return None
    return {**_problem_dict(spec), "metric": spec.problem.metric, **asdict(spec.training)}


@STEPS.register("training", section=5, title="Model selection and training", config=_training_config,
                needs=("features",), requires=("aws_ml.training:train",))
def training_step(ctx: StepContext, config: dict) -> dict:
    """A training job on the feature step's train / validation channels
    (:func:`aws_ml.training.train`). The job is named from the step's configuration: a
    run killed while the job ran finds it again (waits for it, or reuses its model)
    instead of starting a second one."""
    from aws_ml import training

    f = ctx.inputs["features"]
    base = f"{ctx.spec.name[:40]}-train-{digest([config, f['artifacts']])[:10]}"
    job, name, existing = None, base, None
    for attempt in range(1, 21):
        name = base if attempt == 1 else f"{base}-r{attempt}"
        existing = _existing_job(ctx, name)
        if existing is None or existing["status"] == "Completed":
            break
    if existing is None:
        hps = {**_objective_defaults(f), **config["hyperparameters"]}
        result = training.train(ctx.session, data=_channels_prefix(f), target=f["target"],
                                algorithm=config["algorithm"], hyperparameters=hps,
                                instance_type=config["instance_type"], output_path=ctx.uri("training/output"),
                                job_name=name, progress=False)
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
        try:
            baselines[metric] = training.baseline_value(metric, y)
        except ValueError:
            continue
    return {"job_name": name, "algorithm": config["algorithm"], "image": training.XGBOOST_IMAGE.format(
                region=ctx.region) if config["algorithm"] == "xgboost" else training.SKLEARN_IMAGE.format(region=ctx.region),
            "hyperparameters": job["hyperparameters"], "metrics": job["metrics"], "baselines": baselines,
            "model_data": job["model_data"], "reused_job": existing is not None,
            "channels": _channels_prefix(f), "validation": "hold-out validation set" if "validation" in
            f["artifacts"] else "training set only",
            "headline": {k: v for k, v in job["metrics"].items() if k.startswith("validation")} or job["metrics"]}


def _channels_prefix(f: dict) -> str:
    """``s3://.../features/``: the prefix holding ``train/`` and ``validation/``."""
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


# -- section 6 ---------------------------------------------------------------------------
def _deployment_config(spec: PipelineSpec, ctx: StepContext) -> dict | None:
    if spec.deployment is None or not spec.deployment.enabled:
        return None
    return {**asdict(spec.deployment), "endpoint_name": ctx.resolve(spec.deployment.endpoint_name)}


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
                   instance_type=config["instance_type"],
                   instance_count=config["instance_count"], data_capture=capture)
    body = ctx.get_bytes(ctx.inputs["features"]["artifacts"]["test"]).decode().splitlines()[0]
    sample = body.split(",", 1)[1]
    t = time.perf_counter()
    answer = ctx.session.client("sagemaker-runtime").invoke_endpoint(
        EndpointName=name, Body=sample.encode(), ContentType="text/csv")["Body"].read().decode()
    out = {"endpoint_name": name, "model_data": model, "instance_type": config["instance_type"],
           "instance_count": config["instance_count"], "data_capture": capture["DestinationS3Uri"] if capture else None,
           "deploy_seconds": round(t - started, 3), "smoke_test": {"prediction": answer.strip()[:80],
                                                                    "latency_ms": round((time.perf_counter() - t) * 1e3, 1)},
           "headline": {"latency ms": round((time.perf_counter() - t) * 1e3, 1)}}
    if ctx.session.backend in ("local", "moto"):
        out["url"] = serving.endpoint_url(ctx.session, name)
    return out


# -- section 7 ---------------------------------------------------------------------------
def _monitoring_config(spec: PipelineSpec, ctx: StepContext) -> dict | None:
    if spec.monitoring is None or not spec.monitoring.enabled:
        return None
    return {**_problem_dict(spec), "metric": spec.problem.metric, "threshold": spec.problem.threshold,
            **asdict(spec.monitoring)}


@STEPS.register("monitoring", section=7, title="Model evaluation and monitoring", config=_monitoring_config,
                needs=("features",), after=("deployment",), requires=("aws_ml.monitoring",))
def monitoring_step(ctx: StepContext, config: dict) -> dict:
    """The model-monitor baseline of the training features; with a deployed model, the
    model's quality on the test set through the endpoint, drift of the captured traffic,
    CloudWatch metrics and alarms (:mod:`aws_ml.monitoring`)."""
    import numpy as np

    from aws_ml import monitoring

    f = ctx.inputs["features"]
    train_features = ctx.read_table(f["artifacts"]["train_features"])
    baseline = monitoring.suggest_baseline(train_features, session=ctx.session,
                                           output_uri=ctx.uri("monitoring/baseline"))
    out: dict = {"baseline": {"statistics": ctx.uri("monitoring/baseline/statistics.json"),
                              "constraints": ctx.uri("monitoring/baseline/constraints.json"),
                              "features": len(baseline.feature_names)}, "evaluated": False}
    deployed = ctx.inputs.get("deployment")
    if not deployed:
        reason = ctx.statuses.get("deployment", "not run")
        ctx.note(f"Model evaluation needs a deployed model; section 6 is {reason}. "
                 "Only the monitoring baseline was computed.")
        out["headline"] = {"baseline features": len(baseline.feature_names)}
        return out
    from aws_ml import serving

    lines = ctx.get_bytes(f["artifacts"]["test"]).decode().splitlines()[:config["requests"]]
    truth = np.array([float(l.split(",", 1)[0]) for l in lines])
    runtime = ctx.session.client("sagemaker-runtime")
    scores = []
    for chunk in range(0, len(lines), 50):
        body = "\n".join(l.split(",", 1)[1] for l in lines[chunk:chunk + 50])
        answer = runtime.invoke_endpoint(EndpointName=deployed["endpoint_name"], Body=body.encode(),
                                         ContentType="text/csv")["Body"].read().decode()
        scores.extend(float(v) for v in answer.replace("\n", ",").split(",") if v.strip())
    test_raw = ctx.read_table(f["artifacts"]["test_raw"]).iloc[:len(lines)]
    ev = monitoring.evaluate_model(truth.astype(int) if f["task"] == "classification" else truth,
                                   y_score=np.array(scores) if f["task"] == "classification" else None,
                                   y_pred=np.array(scores) if f["task"] != "classification" else None,
                                   features=test_raw.drop(columns=[config["target"]], errors="ignore"),
                                   title=f"Model evaluation — {ctx.spec.name}", model_name=deployed["endpoint_name"])
    uris = ev.save(ctx.session, ctx.uri("reports/model/"))
    serving.flush(ctx.session)
    dims = {"Pipeline": ctx.spec.name}
    published = monitoring.publish(ctx.session, ev, dimensions=dims)
    drift = None
    if deployed.get("data_capture"):
        drift = monitoring.check_drift(baseline, deployed["data_capture"] + "/" + deployed["endpoint_name"],
                                       session=ctx.session, psi_threshold=config["psi_threshold"])
        published += monitoring.publish(ctx.session, drift, dimensions=dims)
    alarms = monitoring.create_quality_alarms(ctx.session, dimensions=dims, metric=config["metric"],
                                              threshold=config["threshold"]) if config["alarms"] and \
        config["threshold"] is not None else []
    d = ev.to_dict()
    out.update({"evaluated": True, "n": ev.n, "metrics": {k: v for k, v in d["metrics"].items()
                                                           if isinstance(v, (int, float))},
                "comparison": d["comparison"], "worst_slices": (d["slices"] or {}).get("segments", [])[:5],
                "confusion_matrix": d["metrics"].get("confusion_matrix"),
                "drift": {"violations": len(drift.violations), "drifted": drift.drifted_features} if drift else None,
                "cloudwatch": {"namespace": "aws_ml/ModelQuality", "metrics": published, "alarms": alarms},
                "artifacts": {"report": uris.get("report.html"), "json": uris.get("evaluation.json")},
                "headline": {k: v for k, v in ev.headline.items() if isinstance(v, (int, float))}})
    return out


# -- section 8 ---------------------------------------------------------------------------
def _tuning_config(spec: PipelineSpec, ctx: StepContext) -> dict | None:
    if spec.tuning is None or not spec.tuning.enabled:
        return None
    training = asdict(spec.training) if spec.training else {}
    return {**_problem_dict(spec), "metric": spec.problem.metric, "training": training, **asdict(spec.tuning)}


@STEPS.register("tuning", section=8, title="Model tuning", config=_tuning_config,
                needs=("data", "features", "training"), after=("monitoring",), requires=("aws_ml.training:tune",))
def tuning_step(ctx: StepContext, config: dict) -> dict:
    """A hyperparameter tuning job over the same channels (:func:`aws_ml.training.tune`),
    or an AutoML job on the curated table (:func:`aws_ml.training.automl`); the best model
    is compared with the trained one."""
    from aws_ml import training

    f, trained = ctx.inputs["features"], ctx.inputs["training"]
    name = f"{ctx.spec.name[:14]}-{config['strategy'][:4]}-{digest([config, f['artifacts']])[:8]}"
    objective = "validation:rmse" if f["task"] == "regression" else "validation:auc"
    if config["strategy"] == "automl":
        ctx.ensure_bucket()
        table = ctx.read_table(ctx.inputs["data"]["dataset_uri"]) if "data" in ctx.inputs else None
        if table is None:
            raise RuntimeError("AutoML needs the curated table of section 2")
        result = training.automl(ctx.session, table.drop(columns=config["id_columns"], errors="ignore"),
                                 f["target"], max_candidates=config["max_jobs"], job_name=name,
                                 output_path=ctx.uri("tuning/automl"), progress=False)
        best = {"name": result.best_candidate, "metrics": result.metrics, "model_data": result.model_data}
        trials = [{"name": c["CandidateName"], "status": c["CandidateStatus"], "metrics": c["metrics"]}
                  for c in result.leaderboard]
        status = result.status
    else:
        ranges = {k: (tuple(v) if len(v) in (2, 3) and all(isinstance(x, (int, float)) for x in v[:2])
                      and (len(v) == 2 or isinstance(v[2], str)) else list(v))
                  for k, v in config["ranges"].items()}
        static = {**_objective_defaults(f), **config["training"].get("hyperparameters", {})}
        static = {k: v for k, v in static.items() if k not in ranges}
        result = training.tune(ctx.session, data=_channels_prefix(f), target=f["target"], ranges=ranges,
                               strategy=config["strategy"].capitalize() if config["strategy"] != "hyperband"
                               else "Hyperband", objective=objective,
                               objective_type="Minimize" if f["task"] == "regression" else "Maximize",
                               max_jobs=config["max_jobs"], max_parallel=config["max_parallel_jobs"],
                               hyperparameters=static, job_name=name, progress=False)
        best = {"name": result.best_training_job, "metrics": result.metrics,
                "hyperparameters": result.best_hyperparameters, "model_data": result.model_data}
        trials = [{"name": t["TrainingJobName"], "status": t["TrainingJobStatus"],
                   "hyperparameters": t["TunedHyperParameters"], "objective": t["ObjectiveValue"]}
                  for t in result.trials]
        status = result.status
    before = trained["metrics"].get(objective)
    after = best["metrics"].get(objective)
    improved = None
    if before is not None and after is not None:
        improved = after < before if f["task"] == "regression" else after > before
    return {"job_name": name, "strategy": config["strategy"], "status": status, "objective": objective,
            "best": best, "trials": trials, "trained_value": before, "tuned_value": after,
            "improved": improved, "headline": {"best " + objective: after} if after is not None else {}}

"""Section 4, feature engineering: the built-in step."""
from __future__ import annotations

from dataclasses import asdict
import time

from ..spec import PipelineSpec
from ..steps import STEPS, StepContext
from .common import TOP, _problem_dict


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

    excluded = {target, record_id, "event_time", *config["id_columns"], *config["text"]}
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
    width = len(numeric) + len(config["ratios"]) + sum(int(train[c].nunique(dropna=False)) for c in categorical) \
        + (config["text_components"] * len(config["text"]))
    k = min(config["k"], width) if config["select"] else "all"
    pipe = feature_pipeline(numeric=numeric, categorical=categorical,
                            ratios=[tuple(p) for p in config["ratios"]], select=config["select"],
                            k=k, task=task, random_state=split["seed"],
                            **({"text": config["text"], "text_components": config["text_components"]}
                               if config["text"] else {}))
    used = numeric + categorical + list(config["text"])
    X_train = pipe.fit_transform(train[used], train[target])
    names = [str(c) for c in X_train.columns]

    def to_csv(frame, X) -> bytes:
        out = pd.concat([frame[target].reset_index(drop=True).astype(float if task == "regression" else int)
                         if task == "classification" and pd.api.types.is_numeric_dtype(frame[target])
                         else frame[target].reset_index(drop=True), X.reset_index(drop=True)], axis=1)
        return out.to_csv(index=False, header=False).encode()

    uris = {"train": ctx.put("features/train/train.csv", to_csv(train, X_train), "text/csv"),
            "test": ctx.put("features/test/test.csv",
                            to_csv(test, pipe.transform(test[used])), "text/csv")}
    if len(valid):
        uris["validation"] = ctx.put("features/validation/validation.csv",
                                     to_csv(valid, pipe.transform(valid[used])), "text/csv")
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



"""Section 4, feature engineering: the built-in step."""
from __future__ import annotations

from dataclasses import asdict

from ..spec import PipelineSpec
from ..stack import stack_owned
from ..steps import STEPS, StepContext
from .common import TOP, _problem_dict
from .feature_groups import group_exists, own_group


def _features_config(spec: PipelineSpec, ctx: StepContext) -> dict | None:
    if spec.features is None or not spec.features.enabled:
        return None
    groups = [{"name": ctx.resolve(g.name), "source": g.source,
               "record_id": g.record_id or spec.features.record_id or spec.data.join_on,
               "feature_types": dict(g.feature_types),
               "stack": spec.artifacts.stack if stack_owned(spec, g) else None} for g in spec.features.groups]
    config = {**_problem_dict(spec), **asdict(spec.features),
              "feature_group": ctx.resolve(spec.features.feature_group), "groups": groups,
              "role_arn": spec.artifacts.role_arn}
    if spec.training is not None and spec.training.enabled and spec.training.algorithm == "blazingtext":
        config["text_channels"] = True      # BlazingText's __label__ lines too (only then: other keys unchanged)
    return config


def _feature_groups_exist(ctx: StepContext, outputs: dict) -> bool:
    names = [g["name"] for g in outputs.get("feature_groups") or []] or [outputs["feature_group"]]
    return all(group_exists(ctx, name) for name in names)


def _as_of(config: dict) -> float:
    import pandas as pd

    as_of = pd.Timestamp(config["event_time"])
    as_of = as_of.tz_localize("UTC") if as_of.tzinfo is None else as_of
    return float(as_of.timestamp())


def _ingest(ctx: StepContext, name: str, df):
    from aws_ml.features import ingest

    report = ingest(ctx.session, name, df, progress=False)
    if not report.ok:
        raise RuntimeError(f"{len(report.failed)} rows failed to ingest into {name}: {report.failed[0][1]}")
    return report


def _group_entry(desc: dict, source: str | None, report, stack: str | None) -> dict:
    """One entry of the step's ``feature_groups`` output (``stack``: the stack owning it)."""
    return {"name": desc["FeatureGroupName"], "arn": desc["FeatureGroupArn"],
            "offline_store": desc.get("OfflineStoreConfig", {}).get("S3StorageConfig", {}).get("ResolvedOutputS3Uri"),
            "ingested": report.succeeded, "ingest_seconds": round(report.seconds, 3), "source": source,
            "stack": stack}


def _one_group(ctx: StepContext, config: dict, df):
    """Today's layout: the joined table in one feature group; the training set read back
    from its offline store, point in time."""
    import numpy as np

    from aws_ml.features import point_in_time_join

    record_id = config["record_id"] or (config["id_columns"][0] if config["id_columns"] else None)
    if record_id is None:
        record_id = "record_id"
        df.insert(0, record_id, np.arange(len(df)))
    df["event_time"] = _as_of(config)
    desc = own_group(ctx, config["feature_group"], df, record_id, config["online"])
    report = _ingest(ctx, config["feature_group"], df)
    training = point_in_time_join(ctx.session, df[[record_id, "event_time"]], [config["feature_group"]])
    training = training.loc[:, ~training.columns.duplicated()]
    return training, record_id, [_group_entry(desc, None, report, None)], [record_id]


def _source_frames(ctx: StepContext, config: dict, table) -> tuple[dict, str]:
    """Each group's source columns, taken from the curated (joined) table: a column two
    sources share is ``<column>_dup`` there for the later source (the join's suffix). The
    target stays with the source that has it (the first group when no source has it: a
    label produced by section 2's labelling)."""
    from ..spec import check_columns

    headers = check_columns(ctx.spec, ctx.session)
    join_on, target = ctx.spec.data.join_on, config["target"]
    holder = next((g["source"] for g in config["groups"] if target in headers[g["source"]]),
                  config["groups"][0]["source"])
    frames, earlier = {}, set()
    for name, columns in headers.items():
        mapping = {}
        for c in columns:
            joined = f"{c}_dup" if c in earlier and c != join_on else c
            if joined in table.columns:
                mapping[joined] = c
        if name == holder and target not in mapping.values():
            mapping[target] = target
        earlier.update(columns)
        frames[name] = table[list(mapping)].rename(columns=mapping)
    return frames, holder


def _groups(ctx: StepContext, config: dict, table):
    """One feature group per source (``features.groups``): each source's columns ingested
    into its group (a stack's group is checked, never re-created), then the training set
    is the point-in-time join of the groups on their record identifiers."""
    from aws_ml.features import point_in_time_join
    from aws_ml.features.training_sets import FeatureGroupSpec as JoinSpec

    from .feature_groups import cast_types, use_stack_group

    frames, holder = _source_frames(ctx, config, table)
    as_of = _as_of(config)
    primary = next(g for g in config["groups"] if g["source"] == holder)
    ready = []
    for g in config["groups"]:     # every group checked (a stack's) or made before any ingestion
        rid = g["record_id"]
        frame = cast_types(frames[g["source"]], g["feature_types"]).drop_duplicates()
        if frame[rid].isna().any():
            raise ValueError(f"source {g['source']!r}: {int(frame[rid].isna().sum())} rows without "
                             f"a record identifier {rid!r}")
        if frame[rid].duplicated().any():
            dup = frame.loc[frame[rid].duplicated(), rid].iloc[0]
            raise ValueError(f"source {g['source']!r}: several rows with {rid} = {dup!r} and different values; "
                             f"the record identifier of feature group {g['name']} must be unique")
        frame = frame[[rid, *[c for c in frame.columns if c != rid]]]
        frame.insert(1, "event_time", as_of)
        ctx.log(f"feature group {g['name']} ({g['source']})")
        desc = (use_stack_group(ctx, g["name"], frame, rid) if g["stack"]
                else own_group(ctx, g["name"], frame, rid, config["online"]))
        ready.append((g, frame, desc))
    entries, joins, keys = [], [], []
    for g, frame, desc in ready:
        rid = g["record_id"]
        entries.append(_group_entry(desc, g["source"], _ingest(ctx, g["name"], frame), g["stack"]))
        joins.append(JoinSpec(g["name"], [c for c in frame.columns if c not in (rid, "event_time")], join_key=rid))
        keys.append(rid)
    keys = list(dict.fromkeys([primary["record_id"], *keys]))
    entity = table[keys].drop_duplicates(subset=[primary["record_id"]]).reset_index(drop=True)
    entity["event_time"] = as_of
    training = point_in_time_join(ctx.session, entity, joins)
    entries.sort(key=lambda e: e["name"] != primary["name"])     # the target's group first
    return training, primary["record_id"], entries, keys


def _label_encoding(y, positive_class) -> dict[str, int] | None:
    """Class → number for a text target (``None`` for a numeric one): the classes in sorted
    order, except that in a binary problem the positive class is 1."""
    import pandas as pd

    if pd.api.types.is_numeric_dtype(y):
        return None
    classes = sorted(str(v) for v in y.unique())
    if len(classes) == 2 and positive_class is not None and str(positive_class) in classes:
        classes = [c for c in classes if c != str(positive_class)] + [str(positive_class)]
    return {c: i for i, c in enumerate(classes)}


@STEPS.register("features", section=4, title="Feature engineering", config=_features_config,
                needs=("data",), requires=("aws_ml.features",), still_valid=_feature_groups_exist)
def features_step(ctx: StepContext, config: dict) -> dict:
    """Ingest the sources into feature groups (one per source with ``features.groups``,
    else the joined table into one), build the training set from the offline stores (point
    in time), split it, fit the transformations on the training rows, and write the train /
    validation / test sets (CSV, label first, no header: SageMaker's format)."""
    import pandas as pd
    from sklearn.model_selection import train_test_split

    from aws_ml.features import feature_pipeline

    target = config["target"]
    df = ctx.read_table(ctx.inputs["data"]["dataset_uri"])
    df = df[df[target].notna()].reset_index(drop=True)
    if config["groups"]:
        training, record_id, groups, keys = _groups(ctx, config, df)
    else:
        training, record_id, groups, keys = _one_group(ctx, config, df)

    excluded = {target, record_id, *keys, "event_time", *config["id_columns"], *config["text"]}
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

    encoding = _label_encoding(y, config["positive_class"]) if task == "classification" else None

    def to_csv(frame, X) -> bytes:
        label = frame[target].reset_index(drop=True)
        if encoding is not None:              # text classes: their indices (SageMaker wants numbers)
            label = label.astype(str).map(encoding)
        elif task == "classification":
            label = label.astype(int)
        out = pd.concat([label, X.reset_index(drop=True)], axis=1)
        return out.to_csv(index=False, header=False).encode()

    uris = {"train": ctx.put("features/train/train.csv", to_csv(train, X_train), "text/csv"),
            "test": ctx.put("features/test/test.csv",
                            to_csv(test, pipe.transform(test[used])), "text/csv")}
    if len(valid):
        uris["validation"] = ctx.put("features/validation/validation.csv",
                                     to_csv(valid, pipe.transform(valid[used])), "text/csv")
    text_channels = None
    if config.get("text_channels"):
        text_channels = _write_text_channels(ctx, config["text"][0], target, encoding,
                                             {"train": train, "validation": valid, "test": test})
        uris.update({f"text_{name}": uri for name, uri in text_channels["files"].items()})
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
    return {"feature_group": groups[0]["name"], "feature_group_arn": groups[0]["arn"],
            "offline_store": groups[0]["offline_store"], "feature_groups": groups,
            "record_id": record_id, "ingested": groups[0]["ingested"],
            "ingest_seconds": round(sum(g["ingest_seconds"] for g in groups), 3),
            "numeric": numeric, "categorical": categorical, "ratios": config["ratios"],
            "features_in": len(numeric) + len(categorical), "features_out": len(names),
            "feature_names": names, "selection": config["select"], "correlated_pairs": pairs[:TOP],
            "informative": informative, "scaled": True,
            "scale_range": [float(scales.min()), float(scales.max())] if len(scales) else None,
            "rows": {"train": int(len(train)), "validation": int(len(valid)), "test": int(len(test))},
            "task": task, "target": target, "artifacts": uris,
            "classes": sorted(str(v) for v in y.unique()) if task == "classification" else None,
            "label_encoding": encoding, "text_channels": text_channels,
            "headline": {"features out": len(names), "train rows": int(len(train))}}


def _write_text_channels(ctx: StepContext, column: str, target: str, encoding: dict | None, parts: dict) -> dict:
    """BlazingText's channels: ``features/text/<part>/<part>.txt``, one
    ``__label__<class index> <tokens>`` line per row of the same split (the class index as
    in ``label_encoding``, the label itself for a numeric target), rows in the same order
    as the CSV sets."""
    from aws_ml.training import blazingtext_line

    files = {}
    for name, frame in parts.items():
        if not len(frame):
            continue
        labels = frame[target].astype(str).map(encoding) if encoding is not None else frame[target].astype(int)
        texts = frame[column].fillna("").astype(str)
        body = "".join(blazingtext_line(y, t) + "\n" for y, t in zip(labels, texts))
        files[name] = ctx.put(f"features/text/{name}/{name}.txt", body.encode(), "text/plain")
    return {"column": column, "prefix": ctx.uri("features/text") + "/", "files": files}



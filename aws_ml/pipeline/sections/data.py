"""Section 2, data collection and labelling: the built-in step."""
from __future__ import annotations

import importlib.util
from dataclasses import asdict

from ..spec import LABELING_ID_COLUMN, PipelineSpec, source_location
from ..steps import STEPS, StepContext
from .common import _fingerprints, load_sources
from .common import job_name as make_job_name


def _data_config(spec: PipelineSpec, ctx: StepContext) -> dict:
    return {"sources": [{"name": s.name, "path": s.path} for s in spec.data.sources],
            "fingerprints": _fingerprints(spec, ctx), "join_on": spec.data.join_on,
            "labeling": asdict(spec.data.labeling) if spec.data.labeling else None,
            "target": spec.problem.target, "id_columns": list(spec.problem.id_columns)}


@STEPS.register("data", section=2, title="Data collection and labelling", config=_data_config)
def data_step(ctx: StepContext, config: dict) -> dict:
    """Upload the sources to S3, join them, label the rows without a target when
    ``data.labeling`` asks for it (one Ground Truth job, :func:`aws_ml.labeling.label_pool`),
    and write the curated table (Parquet)."""
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
    rows = {name: int(len(df)) for name, df in frames.items()}
    added: list[str] = []
    if config["labeling"] is not None and importlib.util.find_spec("aws_ml.labeling") is None:
        unlabelled = int(table[target].isna().sum()) if target in table.columns else int(len(table))
        labeling = {**_no_labeling(), "configured": True, "unlabelled_rows": unlabelled,
                    "labelled_rows": int(len(table) - unlabelled),
                    "status": "not available in this version (aws_ml.labeling is not installed)"}
        ctx.note(f"Ground Truth labelling (section 2): {labeling['status']} — the {unlabelled:,} rows without "
                 f"'{target}' were left out of training.")
    elif config["labeling"] is not None:
        table, labeling, added = _label(ctx, config, table)
    else:
        unlabelled = int(table[target].isna().sum())
        labeling = {**_no_labeling(), "unlabelled_rows": unlabelled, "labelled_rows": int(len(table) - unlabelled),
                    "status": "needed" if unlabelled else "not needed"}
    # its own prefix: the Glue table of section 3 reads every object under it
    dataset_uri = ctx.put_table("curated/dataset/dataset.parquet", table)
    original = table.drop(columns=added)
    missing = table.isna().sum()
    return {"sources": uploaded, "rows_per_source": rows, "rows": int(len(table)),
            "columns": [str(c) for c in table.columns],
            "dropped_by_join": {n: r - int(len(table)) for n, r in rows.items()} if len(frames) > 1 else {},
            "duplicate_rows": int(original.duplicated().sum()),
            "missing_cells": int(missing.sum()),
            "columns_with_missing": {str(k): int(v) for k, v in missing.items() if v},
            "labeling": labeling, "dataset_uri": dataset_uri,
            "bytes": int(sum(Path(source_location(spec, s)).stat().st_size for s in spec.data.sources
                             if not source_location(spec, s).startswith("s3://"))),
            "headline": {"rows": int(len(table)), "columns": int(table.shape[1])}
            | ({"labelled": labeling["labelled_rows"]} if labeling["configured"] else {})}


def _no_labeling() -> dict:
    keys = ("job_name", "job_arn", "task", "categories", "workers", "items_sent", "label_counters",
            "mean_confidence", "agreement_with_truth", "pool_uri", "labels_uri", "id_column", "text_column",
            "truth_column", "workers_spec", "workteam_arn", "role_arn", "output_manifest", "reused_job")
    return {"configured": False, **{k: None for k in keys}}


def _label(ctx: StepContext, config: dict, table):
    """The labelling of section 2: returns the curated table (labels in the target, the
    truth column removed), the ``labeling`` outputs and the columns it added."""
    import numpy as np
    import pandas as pd

    from aws_ml.labeling import label_pool

    lab, target = config["labeling"], config["target"]
    sim = lab["simulated_workers"]
    truth = sim["truth"] if sim else None
    workers_spec = ctx.spec.data.labeling.workers_spec()
    text_column = lab["text_column"]
    added: list[str] = []
    id_column = config["id_columns"][0] if config["id_columns"] else LABELING_ID_COLUMN
    if id_column not in table.columns:
        table.insert(0, id_column, np.arange(len(table), dtype="int64"))   # the row's place in the sources
        added.append(id_column)
    elif table[id_column].duplicated().any():
        raise ValueError(f"the id column {id_column!r} has duplicate values: the labelling pool needs one id "
                         f"per row (set problem.id_columns to a unique column)")
    if target not in table.columns:
        table[target] = pd.Series([None] * len(table), index=table.index, dtype=object)
        added.append(target)
    numeric_target = target not in added and pd.api.types.is_numeric_dtype(table[target])
    todo = np.flatnonzero(table[target].isna().to_numpy())
    size = len(todo) if lab["budget"] is None else min(lab["budget"], len(todo))
    rng = np.random.default_rng(sim["seed"] if sim else 0)
    chosen = np.sort(rng.choice(todo, size=size, replace=False)) if size else np.array([], dtype=int)
    out = {**_no_labeling(), "configured": True, "task": lab["task"], "categories": list(lab["labels"]),
           "workers": (f"{sim['count']} simulated workers, each right {sim['accuracy']:.0%} of the time "
                       f"(seed {sim['seed']})" if sim else
                       f"the private work team {lab['workteam_arn'] or '(default local team)'}"),
           "items_sent": int(size), "id_column": id_column, "text_column": text_column, "truth_column": truth,
           "workers_spec": workers_spec, "workteam_arn": lab["workteam_arn"], "role_arn": lab["role_arn"]}
    if size:
        job_name = make_job_name(ctx.spec.name, "label", config)
        ctx.log(f"labelling job {job_name}: {size:,} items")
        send = table.iloc[chosen][[id_column, text_column] + ([truth] if truth else [])].reset_index(drop=True)
        result = label_pool(ctx.session, send, text_column=text_column, categories=lab["labels"],
                            job_name=job_name, bucket=ctx.bucket, prefix=ctx.key("labeling"),
                            workers=workers_spec, workteam_arn=lab["workteam_arn"], role_arn=lab["role_arn"],
                            label_column=target, progress=False)
        if numeric_target:
            labels = pd.to_numeric(result.df[target])
        else:
            labels = result.df[target]
            table[target] = table[target].astype(object)
        table.loc[table.index[chosen], target] = labels.to_numpy()
        if numeric_target:
            table[target] = pd.to_numeric(table[target])
        confidence = result.df["confidence"]
        labelled = labels.notna().to_numpy()
        out.update({"job_name": result.job_name, "job_arn": result.job_arn, "label_counters": result.label_counters,
                    "output_manifest": result.output_manifest_uri, "reused_job": result.reused,
                    "mean_confidence": round(float(confidence.mean()), 4) if confidence.notna().any() else None})
        if truth is not None and labelled.any():
            agree = labels[labelled].astype(str).to_numpy() == send[truth][labelled].astype(str).to_numpy()
            out["agreement_with_truth"] = round(float(agree.mean()), 4)
        out["labels_uri"] = ctx.put_table("curated/labels.parquet", pd.DataFrame({
            id_column: send[id_column], target: labels.astype(str).where(labels.notna(), None),
            "confidence": confidence, "human_annotated": result.df["human_annotated"].astype("boolean")}))
    unlabelled = table[target].isna()
    pool = table.loc[unlabelled, [id_column, text_column] + ([truth] if truth else [])].reset_index(drop=True)
    out["pool_uri"] = ctx.put_table("curated/labeling_pool.parquet", pool)
    out["unlabelled_rows"] = int(unlabelled.sum())
    out["labelled_rows"] = int(len(table) - out["unlabelled_rows"])
    out["status"] = "done" if size else ("not needed" if not out["unlabelled_rows"] else "needed")
    if truth is not None:
        table = table.drop(columns=[truth])       # only the simulated workers know it
    if out["unlabelled_rows"]:
        ctx.note(f"Labelling (section 2): {out['unlabelled_rows']:,} rows are still without '{target}' "
                 f"(the pool {out['pool_uri']}); they are left out of training.")
    return table, out, added

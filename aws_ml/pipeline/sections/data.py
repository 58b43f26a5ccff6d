"""Section 2, data collection and labelling: the built-in step."""
from __future__ import annotations

from dataclasses import asdict
from ..spec import PipelineSpec, source_location
from ..steps import STEPS, StepContext
from .common import _fingerprints, load_sources


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



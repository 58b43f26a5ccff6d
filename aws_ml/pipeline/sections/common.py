"""Helpers the section steps share: the sources, their fingerprints, the problem's fields,
the names of the jobs the steps start."""
from __future__ import annotations

import re

from ..cache import digest, file_digest
from ..spec import PipelineSpec, source_location
from ..steps import StepContext

TOP = 12


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




def job_name(pipeline: str, kind: str, config, width: int = 30, digits: int = 10) -> str:
    """A SageMaker job name (``[a-zA-Z0-9-]``) from the pipeline's name (``_`` and the
    like become ``-``; at most ``width`` characters of it), ``kind`` and the digest of
    ``config``: the same configuration names the same job, so a re-run, or a run resumed
    after a kill, finds the job instead of starting a second one."""
    base = re.sub(r"[^A-Za-z0-9-]+", "-", pipeline)[:width].strip("-") or "pipeline"
    return f"{base}-{kind}-{digest(config)[:digits]}"

"""Section 3, data evaluation: the built-in step."""
from __future__ import annotations

from dataclasses import asdict
from ..spec import PipelineSpec
from ..steps import STEPS, StepContext
from .common import TOP, _positive, _problem_dict


def _evaluation_config(spec: PipelineSpec, ctx: StepContext) -> dict | None:
    if spec.evaluation is None or not spec.evaluation.enabled:
        return None
    return {**_problem_dict(spec), **asdict(spec.evaluation),
            "glue_database": spec.artifacts.glue_database, "athena_workgroup": spec.artifacts.athena_workgroup}


@STEPS.register("evaluation", section=3, title="Data evaluation", config=_evaluation_config,
                needs=("data",), requires=("aws_ml.evaluation",))
def evaluation_step(ctx: StepContext, config: dict) -> dict:
    """Statistics, balance, outliers, correlations, leakage and bias
    (:func:`aws_ml.evaluation.evaluate_data`), the dashboard saved to S3."""
    from aws_ml.evaluation import evaluate_data
    from aws_ml.evaluation.catalog import glue_name, register_parquet

    facets = config["facets"] or None
    if facets and config["problem_type"] == "regression":
        # the pre-training bias metrics (Clarify's CI, DPL, ...) compare the share of a
        # positive label between groups: a continuous target has none
        ctx.note(f"Bias by facet ({', '.join(facets)}) needs a class label: it is not computed for the "
                 f"regression target '{config['target']}'.")
        facets = None
    # the curated table in the Glue Data Catalog, read by Athena (the course note's section 3)
    dataset_uri = ctx.inputs["data"]["dataset_uri"]
    database = config["glue_database"] or glue_name(f"aws_ml_{ctx.spec.name}")
    table = register_parquet(ctx.session, database, "curated_dataset", dataset_uri.rsplit("/", 1)[0] + "/",
                             ctx.read_table(dataset_uri).head(0),
                             description=f"the curated table of pipeline {ctx.spec.name} (section 2)")
    report = evaluate_data(table, target=config["target"], session=ctx.session,
                           workgroup=config["athena_workgroup"], output_location=ctx.uri("athena-results/"),
                           facet=facets, positive_label=_positive(config),
                           sample=config["sample"], na_values=config["na_values"],
                           exclude=config["id_columns"], title=f"Data evaluation — {ctx.spec.name}")
    uris = report.save(ctx.session, ctx.uri("reports/evaluation/"))
    d = report.to_dict()
    numeric = [s for s in d["statistics"] if s.get("mean") is not None]
    return {"rows": report.n_rows, "rows_total": report.n_rows_total, "columns": report.n_columns,
            "task": report.task, "balance": d["balance"],
            "athena": {"table": table, "workgroup": config["athena_workgroup"] or "primary",
                       "query_execution_id": report.source.query_execution_id, "query": report.source.query},
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



"""Section 1, problem formulation: the built-in step."""
from __future__ import annotations

from dataclasses import asdict
from ..spec import PipelineSpec
from ..steps import STEPS, StepContext
from .common import _fingerprints, load_sources


def _problem_config(spec: PipelineSpec, ctx: StepContext) -> dict:
    return {"problem": asdict(spec.problem), "data": _fingerprints(spec, ctx), "join_on": spec.data.join_on}


@STEPS.register("problem", section=1, title="Problem formulation", config=_problem_config,
                requires=("aws_ml.problem",))
def problem_step(ctx: StepContext, config: dict) -> dict:
    """Check the problem spec against the data (:meth:`aws_ml.problem.ProblemSpec.check`)."""
    from aws_ml.problem import ProblemSpec

    _, table = load_sources(ctx)
    labeling = ctx.spec.data.labeling
    if labeling is not None:
        # the truth column of simulated workers is known to them alone; the target may be
        # what section 2's labelling job produces
        if labeling.simulated_workers is not None:
            table = table.drop(columns=[labeling.simulated_workers.truth], errors="ignore")
        if config["problem"]["target"] not in table.columns:
            table[config["problem"]["target"]] = None
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



"""Section 8, tuning: the built-in step."""
from __future__ import annotations

from dataclasses import asdict
from ..cache import digest
from ..spec import PipelineSpec
from ..steps import STEPS, StepContext
from .common import _problem_dict
from .training import _channels_prefix, _objective_defaults


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

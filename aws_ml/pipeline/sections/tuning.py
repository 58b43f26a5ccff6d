"""Section 8, tuning and the corrective loop: the built-in step.

Every iteration starts from the best model so far, evaluated on the held-out test set of
section 4. While that model misses ``problem.threshold`` (and on the first iteration with
``tuning.run: always``), the step diagnoses why (:mod:`aws_ml.pipeline.correction`) and
applies the first allowed action the diagnosis points to:

* ``tune`` — a hyperparameter tuning job over the same channels (AutoML with
  ``strategy: automl``); with an imbalanced target, ``scale_pos_weight`` joins the ranges;
* ``automl`` — an Autopilot job on the curated table (its test rows left out);
* ``relabel`` — the unlabelled items the current model is least sure about go to a
  labelling job (section 2's workers); the new rows join the training set and the model
  is trained again.

With ``training.algorithm: blazingtext`` the models are BlazingText's: scored from their
``model.bin`` on the test sentences, the learning curve retrains fastText here, ``tune``
runs a BlazingText tuning job on ``validation:accuracy`` and ``relabel`` appends the new
rows as ``__label__`` lines before training BlazingText again (``automl`` is unchanged: the
raw columns).

Each iteration's diagnosis, action, jobs and scores are recorded; the best XGBoost or
BlazingText model replaces the endpoint's (``UpdateEndpoint``, with its algorithm's image)
when ``deploy_best`` is set.
"""
from __future__ import annotations

import io
from dataclasses import asdict

from .. import correction
from ..cache import digest
from ..spec import PipelineSpec
from ..steps import STEPS, StepContext
from .common import _problem_dict, job_name
from .training import _channels_prefix, channels_fingerprint, default_hyperparameters

BLAZINGTEXT_RANGES = {"learning_rate": (0.05, 1.0, "Logarithmic"), "epochs": (5, 30), "word_ngrams": (1, 3)}
"""What a BlazingText tuning job searches when ``tuning.ranges`` is empty."""


def _tuning_config(spec: PipelineSpec, ctx: StepContext) -> dict | None:
    if spec.tuning is None or not spec.tuning.enabled:
        return None
    training = asdict(spec.training) if spec.training else {}
    return {**_problem_dict(spec), "metric": spec.problem.metric, "threshold": spec.problem.threshold,
            "training": training, "text": list(spec.features.text) if spec.features else [],
            "role_arn": spec.artifacts.role_arn,
            **asdict(spec.tuning)}


def _read_csv(ctx: StepContext, uri: str):
    """A SageMaker channel file: label first, no header -> (labels, features)."""
    import pandas as pd

    frame = pd.read_csv(io.BytesIO(ctx.get_bytes(uri)), header=None)
    return frame[0].to_numpy(), frame.drop(columns=[0]).to_numpy(dtype=float)


class _Loop:
    """The state of the corrective loop: the data, the best model so far, the iterations."""

    def __init__(self, ctx: StepContext, config: dict) -> None:
        self.ctx, self.config = ctx, config
        self.f, self.trained = ctx.inputs["features"], ctx.inputs["training"]
        self.task = self.f["task"]
        self.metric = config["metric"]
        self.regression = self.task == "regression"
        arts = self.f["artifacts"]
        self.y_train, self.X_train = _read_csv(ctx, arts["train"])
        if "validation" in arts:
            self.y_valid, self.X_valid = _read_csv(ctx, arts["validation"])
        else:
            self.y_valid, self.X_valid = self.y_train, self.X_train
        self.y_test, self.X_test = _read_csv(ctx, arts["test"])
        self.labeling = (ctx.inputs.get("data") or {}).get("labeling") or {}
        self.pool = None
        if self.labeling.get("pool_uri") and "relabel" in config["actions"]:
            self.pool = ctx.read_table(self.labeling["pool_uri"])
        self.algorithm = self.trained.get("algorithm") or "xgboost"     # the kind of model section 5 trained
        self.classes = len(self.f.get("classes") or [0, 1])
        if self.algorithm == "blazingtext":
            # BlazingText's channels: __label__<class index> <tokens> lines, rows as in the CSV sets
            self.text_train = ctx.get_bytes(arts["text_train"]).decode().splitlines()
            self.text_valid = ctx.get_bytes(arts["text_validation"]).decode().splitlines()
            self.text_test = [correction.split_line(line)[1]
                              for line in ctx.get_bytes(arts["text_test"]).decode().splitlines()]
        self.fingerprint = channels_fingerprint(ctx, self.f, self.algorithm)
        self.relabelled = None          # rows labelled by "relabel" iterations (raw columns)
        self.trials: list[dict] = []
        self.first_tuning: dict | None = None
        # the model of section 5, scored like every candidate
        self.trained_model = self.evaluate({
            "kind": self.algorithm, "action": "train", "job": self.trained["job_name"],
            "model_data": self.trained["model_data"], "hyperparameters": self.trained["hyperparameters"]})

    # -- scoring ------------------------------------------------------------------------
    def _kw(self, p):
        return {"y_pred": p} if self.regression else {"y_score": p}

    def evaluate(self, model: dict) -> dict:
        """The model's score on the test set (``value``), with how it was obtained."""
        if model["kind"] == "xgboost":
            booster = correction.load_xgboost(self.ctx.session, model["model_data"])
            p = correction.predict_xgboost(booster, self.X_test)
            model["value"] = correction.score(self.metric, self.y_test, **self._kw(p))
            model["evaluated_on"] = f"test set ({len(self.y_test):,} rows)"
            return model
        if model["kind"] == "blazingtext":
            fasttext_model = correction.load_blazingtext(self.ctx.session, model["model_data"])
            p = correction.predict_blazingtext(fasttext_model, self.text_test, self.classes)
            model["value"] = correction.score(self.metric, self.y_test, y_score=p)
            model["evaluated_on"] = f"test set ({len(self.y_test):,} sentences, model.bin scored here)"
            return model
        from aws_ml.training import AutoMLModel

        test_raw = self.ctx.read_table(self.f["artifacts"]["test_raw"])
        try:
            auto = AutoMLModel.from_s3(self.ctx.session, model["model_data"])
        except (KeyError, OSError, ValueError) as exc:    # AWS's Autopilot models are containers
            value = model.get("reported", {}).get(self.metric)
            model.update(value=value, evaluated_on=f"the AutoML job's own validation ({type(exc).__name__}: "
                                                     f"the model cannot be loaded here)")
            return model
        target = self.f["target"]
        if self.regression:
            model["value"] = correction.score(self.metric, test_raw[target], y_pred=auto.predict(test_raw))
        else:
            classes = [str(c) for c in (auto.classes or [])]
            proba = auto.predict_proba(test_raw)
            truth = test_raw[target].astype(str).to_numpy()
            if len(classes) == 2:
                positive = str(self.config.get("positive_class") if self.config.get("positive_class") is not None
                               else classes[1])
                col = classes.index(positive) if positive in classes else 1
                model["value"] = correction.score(self.metric, (truth == positive).astype(int),
                                                  y_score=proba[:, col])
            else:
                order = {c: i for i, c in enumerate(classes)}
                model["value"] = correction.score(self.metric, [order.get(t, -1) for t in truth], y_score=proba)
        model["evaluated_on"] = f"test set ({len(test_raw):,} rows, raw columns)"
        return model

    # -- diagnosis ------------------------------------------------------------------------
    def diagnose(self, model: dict) -> correction.Diagnosis:
        """The learning curve of the algorithm of section 5 (with the hyperparameters of
        ``model`` when it is of that kind, else those of section 5's model)."""
        hps = model["hyperparameters"] if model["kind"] == self.algorithm else self.trained["hyperparameters"]
        metric = self.metric if not self.metric.startswith("pr_") else "pr_auc"
        if self.algorithm == "blazingtext":
            curve = correction.blazingtext_learning_curve(self.text_train, self.text_valid, hps, metric, self.classes)
        else:
            curve = correction.learning_curve(self.X_train, self.y_train, self.X_valid, self.y_valid, hps, metric)
        share = None
        if not self.regression and len(self.y_train):
            import numpy as np

            _, counts = np.unique(self.y_train, return_counts=True)
            share = float(counts.min() / counts.sum()) if len(counts) > 1 else 0.0
        drift = ((self.ctx.inputs.get("monitoring") or {}).get("drift") or {}).get("violations") or 0
        return correction.diagnose(curve, self.metric, self.config["threshold"], minority_share=share,
                                   pool_rows=0 if self.pool is None else len(self.pool), drift_violations=drift)

    # -- actions --------------------------------------------------------------------------
    def tune(self, iteration: int, diagnosis: correction.Diagnosis) -> dict:
        from aws_ml import training

        config, f = self.config, self.f
        if config["strategy"] == "automl":
            return self.automl(iteration)
        name = job_name(self.ctx.spec.name, config["strategy"][:4], [config, self.fingerprint, iteration],
                        width=14, digits=8)
        blazingtext = self.algorithm == "blazingtext"
        objective = ("validation:accuracy" if blazingtext else
                     "validation:rmse" if self.regression else "validation:auc")
        ranges = {k: (tuple(v) if len(v) in (2, 3) and all(isinstance(x, (int, float)) for x in v[:2])
                      and (len(v) == 2 or isinstance(v[2], str)) else list(v))
                  for k, v in config["ranges"].items()}
        imbalance = next((c for c in diagnosis.causes if c["cause"] == "imbalance"), None)
        if not ranges and blazingtext:
            ranges = dict(BLAZINGTEXT_RANGES)
        if imbalance and not blazingtext and "scale_pos_weight" not in ranges and len(f.get("classes") or []) == 2:
            import numpy as np

            _, counts = np.unique(self.y_train, return_counts=True)
            ranges["scale_pos_weight"] = (1.0, float(max(2.0, counts.max() / counts.min())))
        static = {**default_hyperparameters(self.algorithm, f), **config["training"].get("hyperparameters", {})}
        static = {k: v for k, v in static.items() if k not in ranges}
        sm = self.ctx.session.client("sagemaker")
        result = training.tune(self.ctx.session, data=_channels_prefix(f, self.algorithm), target=f["target"],
                               ranges=ranges, algorithm=self.algorithm,
                               strategy=config["strategy"].capitalize() if config["strategy"] != "hyperband"
                               else "Hyperband", objective=objective,
                               objective_type="Minimize" if self.regression else "Maximize",
                               max_jobs=config["max_jobs"], max_parallel=config["max_parallel_jobs"],
                               hyperparameters=static, job_name=name, progress=False,
                               role=config["role_arn"], output_path=self.ctx.uri(f"tuning/{name}"))
        trials = [{"name": t["TrainingJobName"], "status": t["TrainingJobStatus"],
                   "hyperparameters": t["TunedHyperParameters"], "objective": t["ObjectiveValue"]}
                  for t in result.trials]
        self.trials += trials
        if self.first_tuning is None:
            before = self.trained["metrics"].get(objective)
            improved = None
            if before is not None and result.best_value is not None:
                improved = result.best_value < before if self.regression else result.best_value > before
            self.first_tuning = {"job_name": name, "status": result.status, "objective": objective,
                                 "best": {"name": result.best_training_job, "metrics": result.metrics,
                                          "hyperparameters": result.best_hyperparameters,
                                          "model_data": result.model_data},
                                 "trained_value": before, "tuned_value": result.best_value, "improved": improved}
        if not result.model_data:
            raise RuntimeError(f"tuning job {name} ended {result.status} without a best model")
        hps = sm.describe_training_job(TrainingJobName=result.best_training_job)["HyperParameters"]
        return {"kind": self.algorithm, "action": "tune", "job": name, "best_job": result.best_training_job,
                "model_data": result.model_data, "hyperparameters": hps,
                "detail": f"{config['strategy']} search, {len(trials)} trials over "
                          f"{', '.join(sorted(ranges))}; best {objective} {result.best_value}"}

    def automl(self, iteration: int) -> dict:
        from aws_ml import training

        f = self.f
        table = self.ctx.read_table(self.ctx.inputs["data"]["dataset_uri"])
        table = table[table[f["target"]].notna()]
        if self.relabelled is not None:      # the labels bought by earlier iterations count too
            import pandas as pd

            table = pd.concat([table, self.relabelled], ignore_index=True)
        test_raw = self.ctx.read_table(f["artifacts"]["test_raw"])
        rid = f.get("record_id")
        if rid and rid in table.columns and rid in test_raw.columns:
            table = table[~table[rid].isin(test_raw[rid])]      # never train on the test rows
        drop = [c for c in [*self.config["id_columns"], rid] if c and c in table.columns]
        name = job_name(self.ctx.spec.name, "auto", [self.config, self.fingerprint, iteration], width=14, digits=8)
        self.ctx.ensure_bucket()
        result = training.automl(self.ctx.session, table.drop(columns=drop), f["target"],
                                 max_candidates=self.config["max_jobs"], job_name=name,
                                 output_path=self.ctx.uri(f"tuning/automl-{iteration}"), progress=False,
                                 role=self.config["role_arn"])
        self.trials += [{"name": c["CandidateName"], "status": c["CandidateStatus"], "metrics": c["metrics"]}
                        for c in result.leaderboard]
        if not result.model_data:
            raise RuntimeError(f"AutoML job {name} ended {result.status} without a best candidate")
        return {"kind": "automl", "action": "automl", "job": name, "best_job": result.best_candidate,
                "model_data": result.model_data, "reported": result.metrics, "hyperparameters": {},
                "detail": f"Autopilot, {len(result.leaderboard)} candidates; best {result.best_candidate}"}

    def relabel(self, iteration: int, model: dict) -> dict:
        """The most uncertain unlabelled items to a labelling job, then training again."""
        import pickle

        import numpy as np
        import pandas as pd

        from aws_ml import labeling, training

        ctx, f, lab, config = self.ctx, self.f, self.labeling, self.config
        target, id_col = f["target"], lab["id_column"]
        curated = ctx.read_table(ctx.inputs["data"]["dataset_uri"])
        rows = curated[curated[id_col].isin(self.pool[id_col])].set_index(id_col).loc[self.pool[id_col]].reset_index()
        pipe = pickle.loads(ctx.get_bytes(f["artifacts"]["transform"]))   # noqa: S301 - written by section 4
        used = list(f["numeric"]) + list(f["categorical"]) + list(config["text"])
        scorer = model if model["kind"] == self.algorithm else self.trained_model
        blazingtext = self.algorithm == "blazingtext"
        if blazingtext:
            column = f["text_channels"]["column"]
            tokens = [training.blazingtext_line(0, t).split(" ", 1)[1] for t in rows[column].fillna("").astype(str)]
            p = correction.predict_blazingtext(correction.load_blazingtext(ctx.session, scorer["model_data"]),
                                               tokens, self.classes)
        else:
            X_pool = pipe.transform(rows[used]).to_numpy(dtype=float)
            p = correction.predict_xgboost(correction.load_xgboost(ctx.session, scorer["model_data"]), X_pool)
        margin = np.abs(p - 0.5) if p.ndim == 1 else 1.0 - p.max(axis=1)
        order = np.argsort(margin if p.ndim == 1 else -margin, kind="stable")
        chosen = order[:config["relabel_items"]]
        items = rows.iloc[chosen].reset_index(drop=True)
        truth = lab.get("truth_column")
        if truth and truth in self.pool.columns:
            items[truth] = self.pool.set_index(id_col).loc[items[id_col], truth].to_numpy()
        job = job_name(ctx.spec.name, "relabel", [config, self.fingerprint, iteration, items[id_col].tolist()])
        ctx.log(f"iteration {iteration}: labelling job {job} ({len(items)} uncertain items)")
        # one job per batch, found again by a re-run (or after a kill) instead of created twice
        result = labeling.label_pool(
            ctx.session, items, text_column=lab["text_column"], categories=lab["categories"], job_name=job,
            bucket=ctx.bucket, prefix=ctx.key(f"tuning/relabel-{iteration}"), workers=lab.get("workers_spec"),
            workteam_arn=lab.get("workteam_arn"), role_arn=lab.get("role_arn"), label_column=target)
        job = result.job_name
        labelled = result.df[result.df[target].notna()].reset_index(drop=True)
        codes = f.get("label_encoding")
        y_new = (labelled[target].astype(str).map({str(k): v for k, v in codes.items()}).to_numpy() if codes
                 else labelled[target].to_numpy())
        X_new = pipe.transform(labelled[used]).to_numpy(dtype=float)
        kept = labelled[[c for c in curated.columns if c in labelled.columns]]      # never the truth column
        self.relabelled = kept if self.relabelled is None else pd.concat([self.relabelled, kept], ignore_index=True)
        self.X_train = np.vstack([self.X_train, X_new])
        self.y_train = np.concatenate([self.y_train, y_new])
        self.pool = self.pool[~self.pool[id_col].isin(labelled[id_col])].reset_index(drop=True)
        prefix = f"tuning/relabel-{iteration}/channels"
        if blazingtext:        # the new rows as __label__ lines after section 4's training lines
            self.text_train = self.text_train + [training.blazingtext_line(y, t) for y, t in
                                                 zip(y_new, labelled[column].fillna("").astype(str))]
            ctx.put(f"{prefix}/train/train.txt", "".join(line + "\n" for line in self.text_train).encode(),
                    "text/plain")
            ctx.put(f"{prefix}/validation/validation.txt", ctx.get_bytes(f["artifacts"]["text_validation"]),
                    "text/plain")
        else:
            body = pd.concat([pd.Series(self.y_train), pd.DataFrame(self.X_train)], axis=1)
            ctx.put(f"{prefix}/train/train.csv", body.to_csv(index=False, header=False).encode(), "text/csv")
            if "validation" in f["artifacts"]:
                ctx.put(f"{prefix}/validation/validation.csv", ctx.get_bytes(f["artifacts"]["validation"]),
                        "text/csv")
        ctx.put_table(f"tuning/relabel-{iteration}/pool.parquet", self.pool)
        hps = dict(scorer["hyperparameters"])
        name = job_name(ctx.spec.name, "retrain", [job, hps], width=24, digits=8)
        trained = training.train(ctx.session, data=ctx.uri(prefix) + "/", target=target, algorithm=self.algorithm,
                                 hyperparameters={k: v for k, v in hps.items() if not k.startswith("_")},
                                 output_path=ctx.uri("tuning/output"), job_name=name, progress=False,
                                 role=config["role_arn"])
        if trained.status != "Completed":
            raise RuntimeError(f"training job {name} ended {trained.status}: {trained.failure_reason}")
        return {"kind": self.algorithm, "action": "relabel", "job": name, "labeling_job": job,
                "model_data": trained.model_data, "hyperparameters": trained.hyperparameters,
                "labelled": int(len(labelled)), "label_counters": result.label_counters,
                "pool_left": int(len(self.pool)), "train_rows": int(len(self.y_train)),
                "detail": f"{len(labelled)} uncertain items labelled by {job}, the model retrained on "
                          f"{len(self.y_train):,} rows ({name})"}


@STEPS.register("tuning", section=8, title="Model tuning and corrective loop", config=_tuning_config,
                needs=("data", "features", "training"), after=("deployment", "monitoring"),
                requires=("aws_ml.training:tune",), version=2)
def tuning_step(ctx: StepContext, config: dict) -> dict:
    """Tuning, then the corrective loop while the model misses the threshold (see the module)."""
    loop = _Loop(ctx, config)
    metric, threshold = config["metric"], config["threshold"]
    best = trained = loop.trained_model
    iterations: list[dict] = []
    tried: list[str] = []
    no_gain: set[str] = set()
    stop = ""
    for i in range(1, config["max_iterations"] + 1):
        forced = i == 1 and config["run"] == "always"
        if not forced and correction.meets(metric, best["value"], threshold):
            stop = f"{metric} {best['value']:.4g} meets the target {threshold}"
            break
        diagnosis = loop.diagnose(best)
        pool_rows = 0 if loop.pool is None else len(loop.pool)
        action = ("tune" if "tune" in config["actions"] else config["actions"][0]) if forced else \
            correction.next_action(diagnosis, config["actions"], tried, pool_rows, no_gain)
        if action is None:
            stop = "no allowed corrective action is left"
            break
        ctx.log(f"iteration {i}: {action} ({diagnosis.summary[:80]})")
        before = best["value"]
        tried.append(action)
        try:
            if action == "tune":
                candidate = loop.tune(i, diagnosis)
            elif action == "automl":
                candidate = loop.automl(i)
            else:
                candidate = loop.relabel(i, best)
            loop.evaluate(candidate)
        except RuntimeError as exc:
            # a job of the action failed (its reason is AWS's): the iteration is recorded as
            # failed, in the outputs and the report, and the loop goes on with another action
            message = str(exc).splitlines()[0][:500]
            ctx.note(f"Corrective iteration {i} ({action}) failed: {message}")
            candidate = {"action": action, "detail": f"failed: {message}", "job": None, "model_data": None,
                         "value": None, "evaluated_on": None, "failed": message}
        improved = correction.better(metric, candidate["value"], before)
        iterations.append({"iteration": i, "reason": "scheduled (run: always)" if forced else
                           f"{metric} {before:.3f} misses the target {threshold}",
                           "diagnosis": diagnosis.to_dict(), "diagnosis_summary": diagnosis.summary,
                           "action": action, "detail": candidate["detail"], "job": candidate["job"],
                           "model_data": candidate["model_data"], "value_before": before,
                           "value_after": candidate["value"], "evaluated_on": candidate["evaluated_on"],
                           "improved": improved, "meets_threshold": correction.meets(metric, candidate["value"], threshold),
                           **{k: candidate[k] for k in ("labeling_job", "labelled", "pool_left", "train_rows", "failed")
                              if k in candidate}})
        if improved:
            best = candidate
            no_gain.discard(action)
        else:
            no_gain.add(action)
    else:
        stop = (f"{metric} {best['value']:.4g} meets the target {threshold}"
                if correction.meets(metric, best["value"], threshold)
                else f"the bound of {config['max_iterations']} iteration(s) is reached")
    deployed = None
    deployment = ctx.inputs.get("deployment")
    if config["deploy_best"] and deployment and best is not trained:
        from aws_ml import serving

        if best["kind"] in ("xgboost", "blazingtext"):
            from aws_ml.images import image_uri

            version = digest(best["model_data"])[:8]
            serving.redeploy(ctx.session, deployment["endpoint_name"], best["model_data"], version=version,
                             **({"image": image_uri("blazingtext", ctx.region)} if best["kind"] == "blazingtext"
                                else {}),
                             **({"role": config["role_arn"]} if config["role_arn"] else {}))
            deployed = {"endpoint_name": deployment["endpoint_name"], "model_data": best["model_data"],
                        "endpoint_config": f"{deployment['endpoint_name']}-{version}"}
        else:
            ctx.note("The best model is an AutoML candidate, which takes the raw columns: the endpoint, which "
                     + ("takes BlazingText's sentences" if loop.algorithm == "blazingtext" else
                        "takes section 4's features") + ", keeps its model.")
    out = {**(loop.first_tuning or {"job_name": None, "status": None, "objective": None, "best": {},
                                    "trained_value": None, "tuned_value": None, "improved": None}),
           "strategy": config["strategy"], "trials": loop.trials, "metric": metric, "threshold": threshold,
           "initial": {"job": trained["job"], "value": trained["value"], "evaluated_on": trained["evaluated_on"]},
           "iterations": iterations, "stopped_because": stop,
           "final": {"action": best["action"], "kind": best.get("kind"), "job": best["job"],
                     "model_data": best["model_data"],
                     "value": best["value"], "meets_threshold": correction.meets(metric, best["value"], threshold)},
           "redeployed": deployed,
           "headline": {f"test {metric}": round(best["value"], 4) if best["value"] is not None else None,
                        "iterations": len(iterations)}}
    return out

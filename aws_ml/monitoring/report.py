"""``evaluate_model``: a model's quality on held-out data, as a Python object and an HTML report.

>>> from aws_ml.monitoring import evaluate_model
>>> ev = evaluate_model(y_test, y_score=model.predict_proba(X_test)[:, 1], features=X_test)
>>> ev.metrics["f1"], ev.metrics["pr_auc"], ev.baselines[0]["metrics"]
>>> ev.to_html("model_evaluation.html")

Classification: precision, recall, F1, ROC AUC, PR AUC (average precision), the confusion
matrix, calibration (reliability curve, Brier score, expected calibration error) and log
loss; regression: RMSE, MAE, R², MAPE and the residuals. Every evaluation is compared with
trivial baselines (majority class and stratified random, or mean and median) or with a
baseline model's predictions, and, given the features, broken down by slice. A drift
report (:func:`aws_ml.monitoring.check_drift`) can be attached to draw drift per feature.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from . import metrics as mt
from .baseline import Baseline, parse_s3_uri
from .drift import DriftReport, check_drift
from .slices import error_slices

PROBLEM_TYPES = ("binary", "multiclass", "regression")


@dataclass
class ModelEvaluation:
    """The quality of one model on one dataset.

    ``metrics`` holds the figures (``accuracy``, ``precision``, ``recall``, ``f1``,
    ``roc_auc``, ``pr_auc``, ``log_loss``, ``brier``, ``confusion_matrix``, ... or
    ``rmse``, ``mae``, ``r2``, ``mape``); ``curves`` the points of the ROC, PR,
    calibration and residual charts; ``baselines`` the trivial models' headline metrics;
    ``slices`` the error analysis; ``drift`` an attached :class:`DriftReport`.
    """

    problem_type: str
    n: int
    metrics: dict[str, Any]
    curves: dict[str, Any]
    baselines: list[dict[str, Any]]
    positive_label: Any = None
    threshold: float | None = None
    slices: dict[str, Any] | None = None
    drift: DriftReport | None = None
    title: str = "Model evaluation"
    model_name: str | None = None
    generated_at: str = field(default_factory=lambda: datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"))

    @property
    def headline(self) -> dict[str, Any]:
        """The metrics that summarise the model (for its problem type)."""
        return mt.headline(self.problem_type, self.metrics)

    def comparison(self) -> list[dict[str, Any]]:
        """Per headline metric: the model's value, each baseline's, and whether the model
        does better than every baseline."""
        rows = []
        for key, value in self.headline.items():
            base = {b["name"]: b["metrics"].get(key) for b in self.baselines}
            known = [v for v in base.values() if v is not None]
            better = None
            if value is not None and known:
                higher = mt.HIGHER_IS_BETTER.get(key, True)
                better = all(value > v if higher else value < v for v in known)
            rows.append({"metric": key, "model": value, "baselines": base, "better_than_baselines": better})
        return rows

    def attach_drift(self, drift: DriftReport) -> "ModelEvaluation":
        """Attach a drift report (drawn in the HTML report, published with it)."""
        if not isinstance(drift, DriftReport):
            raise TypeError(f"attach_drift takes a DriftReport; got {type(drift).__name__}")
        self.drift = drift
        return self

    def to_dict(self) -> dict[str, Any]:
        """Everything, JSON-serialisable (``json.dumps(ev.to_dict())`` works)."""
        return _jsonable({
            "title": self.title, "model_name": self.model_name, "generated_at": self.generated_at,
            "problem_type": self.problem_type, "n": self.n, "positive_label": self.positive_label,
            "threshold": self.threshold, "metrics": self.metrics, "headline": self.headline,
            "curves": self.curves, "baselines": self.baselines, "comparison": self.comparison(),
            "slices": self.slices, "drift": self.drift.to_dict() if self.drift else None})

    def summary(self) -> str:
        """A few lines for a terminal."""
        lines = [f"{self.title}: {self.problem_type}, {self.n:,} rows"]
        for row in self.comparison():
            base = ", ".join(f"{k} {_short(v)}" for k, v in row["baselines"].items())
            lines.append(f"  {row['metric']:<18} {_short(row['model']):>8}   baselines: {base}")
        if self.slices and self.slices["segments"]:
            worst = self.slices["segments"][0]
            lines.append(f"  worst slice: {worst['feature']} = {worst['segment']} "
                         f"({worst['count']} rows, error {_short(worst['error'])}, lift {_short(worst['lift'])})")
        if self.drift is not None:
            lines.append(f"  drift: {len(self.drift.violations)} violation(s); drifted: "
                         f"{', '.join(self.drift.drifted_features) or 'none'}")
        return "\n".join(lines)

    def to_html(self, path: str | Path | None = None) -> str:
        """The self-contained HTML report (plotly.js inline); written to ``path`` if given."""
        from .page import render_html

        text = render_html(self.to_dict())
        if path is not None:
            Path(path).write_text(text, encoding="utf-8")
        return text

    def save(self, session, uri: str) -> dict[str, str]:
        """Write ``evaluation.json`` and ``report.html`` under an S3 prefix."""
        bucket, prefix = parse_s3_uri(uri)
        s3 = session.client("s3")
        keys = {}
        for name, body, ctype in (
                ("evaluation.json", json.dumps(self.to_dict(), indent=2, allow_nan=False).encode(), "application/json"),
                ("report.html", self.to_html().encode("utf-8"), "text/html; charset=utf-8")):
            key = f"{prefix.rstrip('/')}/{name}".lstrip("/")
            s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType=ctype)
            keys[name] = f"s3://{bucket}/{key}"
        return keys


def _short(x: Any) -> str:
    return "—" if x is None else (f"{x:.4g}" if isinstance(x, float) else str(x))


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        v = float(value)
        return v if math.isfinite(v) else None
    if isinstance(value, np.bool_):
        return bool(value)
    return value


# -- inputs -----------------------------------------------------------------------------------
def _array(x: Any) -> np.ndarray:
    return x.to_numpy() if isinstance(x, (pd.Series, pd.DataFrame)) else np.asarray(x)


def _match_label(label: Any, values: Sequence[Any]) -> Any:
    """``label`` as the type of ``values`` (1 vs "1" vs True)."""
    values = list(values)
    if label in values:
        return label
    for v in values:
        if str(v) == str(label) or (isinstance(v, (int, float, np.number)) and not isinstance(v, bool)
                                    and _num(label) == v):
            return v
    return None


def _num(x: Any) -> float | None:
    try:
        return float(x)
    except (TypeError, ValueError):
        return None


def _binary_score(y_score: np.ndarray, classes: Sequence[Any] | None, labels: list, positive: Any) -> np.ndarray:
    if y_score.ndim == 1:
        return y_score.astype(float)
    if y_score.ndim == 2 and y_score.shape[1] == 1:
        return y_score[:, 0].astype(float)
    if y_score.ndim == 2 and y_score.shape[1] == 2:
        order = list(classes) if classes is not None else sorted(labels, key=lambda v: (str(type(v)), v))
        if positive not in order:
            raise mt.MetricsError(f"positive_label {positive!r} is not one of classes {order}")
        return y_score[:, order.index(positive)].astype(float)
    raise mt.MetricsError(f"y_score of a binary problem is one score per row (the positive class's) "
                          f"or two columns; got shape {y_score.shape}")


def _baseline_specs(baseline: Any, problem_type: str, n: int) -> list[tuple[str, Any]]:
    """``[(name, strategy-or-predictions)]``."""
    if baseline is None:
        strategies = ["mean", "median"] if problem_type == "regression" else ["majority", "stratified"]
        return [(s, s) for s in strategies]
    if isinstance(baseline, str):
        return [(baseline, baseline)]
    if isinstance(baseline, Mapping):
        return [(str(k), v) for k, v in baseline.items()]
    if isinstance(baseline, (list, tuple)) and baseline and all(isinstance(b, str) for b in baseline):
        return [(b, b) for b in baseline]
    arr = np.asarray(baseline)
    if arr.ndim >= 1 and len(arr) == n:
        return [("baseline model", baseline)]
    raise ValueError("baseline must be a strategy ('majority', 'stratified', 'mean', 'median'), a list of "
                     "them, the baseline model's predictions (one per row), or {name: predictions or "
                     "{'y_pred': ..., 'y_score': ...}}")


# -- the entry point ---------------------------------------------------------------------------
def evaluate_model(y_true: Any, y_pred: Any = None, y_score: Any = None, *, problem_type: str | None = None,
                   positive_label: Any = 1, baseline: Any = None, features: pd.DataFrame | None = None,
                   slices: Sequence[str] | None = None, threshold: float = 0.5,
                   classes: Sequence[Any] | None = None, drift: DriftReport | Baseline | None = None,
                   title: str | None = None, model_name: str | None = None, session=None) -> ModelEvaluation:
    """Evaluate predictions against the truth.

    :param y_true: the true labels or values.
    :param y_pred: the predicted labels (values); for classification, derived from
        ``y_score`` when not given (``threshold`` for binary, argmax for multiclass).
    :param y_score: binary: the score (probability) of ``positive_label`` per row, or the
        two-column ``predict_proba``; multiclass: one column per class (``classes`` order,
        default sorted labels).
    :param problem_type: ``binary``, ``multiclass`` or ``regression`` (inferred if ``None``).
    :param baseline: the trivial models to compare with (default: majority and stratified,
        or mean and median), or a baseline model's predictions (or ``{name: predictions}``,
        predictions being an array of labels/values or ``{"y_pred": ..., "y_score": ...}``).
    :param features: the rows' features (aligned with ``y_true``) for the error analysis.
    :param slices: the columns of ``features`` to slice on (default: all).
    :param drift: a :class:`DriftReport` to attach, or a :class:`Baseline` to check
        ``features`` against.
    """
    truth = _array(y_true)
    if truth.ndim != 1:
        raise ValueError(f"y_true must be one value per row; got shape {truth.shape}")
    n = len(truth)
    if n == 0:
        raise ValueError("y_true is empty")
    if pd.isna(pd.Series(truth)).any():
        raise ValueError("y_true has missing values")
    pred = _array(y_pred) if y_pred is not None else None
    score = np.asarray(_array(y_score), dtype=float) if y_score is not None else None
    if pred is None and score is None:
        raise ValueError("evaluate_model needs y_pred or y_score (or both)")
    for name, arr in (("y_pred", pred), ("y_score", score)):
        if arr is not None and len(arr) != n:
            raise ValueError(f"{name} has {len(arr)} rows but y_true has {n}")
    if problem_type is None:
        problem_type = mt.infer_problem_type(pd.Series(truth), score if pred is None else None)
        if pred is not None and problem_type != "regression" and pd.api.types.is_float_dtype(pred) \
                and not np.all(pred == np.round(pred)):
            problem_type = "regression"
    if problem_type not in PROBLEM_TYPES:
        raise ValueError(f"problem_type must be one of {list(PROBLEM_TYPES)}; got {problem_type!r}")

    labels = sorted(pd.unique(truth).tolist(), key=lambda v: (str(type(v)), v)) if problem_type != "regression" else []
    used_threshold = None
    if problem_type == "regression":
        if pred is None:
            pred = score
        result = mt.regression_metrics(truth.astype(float), pred.astype(float))
        errors = np.abs(truth.astype(float) - pred.astype(float))
        error_name = "mean_absolute_error"
        positive = None
    elif problem_type == "binary":
        positive = _match_label(positive_label, labels + ([] if pred is None else pd.unique(pred).tolist()))
        if positive is None and len(labels) < 2:
            positive = positive_label          # a sample holding one class only
        if positive is None:
            raise ValueError(f"positive_label {positive_label!r} is not one of the labels {labels}")
        others = [v for v in labels if v != positive]
        negative = others[0] if others else (0 if positive == 1 else "other")
        if score is not None:
            score = _binary_score(score, classes, labels if len(labels) == 2 else [negative, positive], positive)
        if pred is None:
            pred = np.where(score >= threshold, positive, negative)
            used_threshold = threshold
        result = mt.binary_metrics(truth, pred, score, positive)
        errors = (pred != truth).astype(float)
        error_name = "error_rate"
    else:
        classes = list(classes) if classes is not None else labels
        if pred is None:
            pred = np.asarray(classes, dtype=object)[np.argmax(score, axis=1)]
        result = mt.multiclass_metrics(truth, pred, score, classes)
        errors = (pred != truth).astype(float)
        error_name = "error_rate"
        positive = None

    curves = result.pop("curves", {})
    baselines = []
    for name, spec in _baseline_specs(baseline, problem_type, n):
        baselines.append(_baseline_result(name, spec, truth, problem_type, positive, classes, threshold))

    slice_result = None
    if features is not None:
        if not isinstance(features, pd.DataFrame):
            raise TypeError(f"features must be a pandas DataFrame; got {type(features).__name__}")
        if isinstance(y_true, pd.Series) and not features.index.equals(y_true.index) \
                and features.index.is_unique and set(y_true.index) == set(features.index):
            features = features.loc[y_true.index]        # the same rows in another order: align them
        slice_result = error_slices(features, errors, columns=slices, error_name=error_name)
    elif slices is not None:
        raise ValueError("slices needs features (the DataFrame the slices are columns of)")

    drift_report = None
    if isinstance(drift, DriftReport):
        drift_report = drift
    elif isinstance(drift, Baseline):
        if features is None:
            raise ValueError("drift=Baseline needs features to check against it")
        drift_report = check_drift(drift, features[[c for c in features.columns if c in drift.feature_names]],
                                   session=session)
    elif drift is not None:
        raise TypeError(f"drift must be a DriftReport or a Baseline; got {type(drift).__name__}")

    return ModelEvaluation(
        problem_type=problem_type, n=n, metrics=_jsonable(result), curves=_jsonable(curves),
        baselines=baselines, positive_label=_jsonable(positive), threshold=used_threshold,
        slices=slice_result, drift=drift_report, model_name=model_name,
        title=title or (f"Model evaluation · {model_name}" if model_name else "Model evaluation"))


def _baseline_result(name: str, spec: Any, truth: np.ndarray, problem_type: str, positive: Any,
                     classes: Sequence[Any] | None, threshold: float) -> dict[str, Any]:
    if isinstance(spec, str):
        pred, score = mt.dummy_predictions(spec, truth, problem_type, positive, classes)
        kind = "dummy"
    else:
        kind = "provided"
        if isinstance(spec, Mapping):
            pred, score = spec.get("y_pred"), spec.get("y_score")
        else:
            pred, score = spec, None
        pred = _array(pred) if pred is not None else None
        score = np.asarray(score, dtype=float) if score is not None else None
        if problem_type == "binary" and score is not None:
            score = _binary_score(score, classes, sorted(set(truth.tolist()), key=str), positive)
            if pred is None:
                others = [v for v in pd.unique(truth) if v != positive]
                pred = np.where(score >= threshold, positive, others[0] if others else 0)
        if pred is None and problem_type == "multiclass" and score is not None:
            pred = np.asarray(classes, dtype=object)[np.argmax(score, axis=1)]
        if pred is None or len(pred) != len(truth):
            raise ValueError(f"baseline {name!r}: expected one prediction per row ({len(truth)})")
    if problem_type == "regression":
        res = mt.regression_metrics(truth.astype(float), np.asarray(pred, dtype=float))
    elif problem_type == "binary":
        res = mt.binary_metrics(truth, pred, score, positive)
    else:
        res = mt.multiclass_metrics(truth, pred, score, classes)
    return {"name": name, "kind": kind, "metrics": _jsonable(mt.headline(problem_type, res))}

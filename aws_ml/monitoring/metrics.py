"""Model-quality metrics: classification (binary, multiclass) and regression, with the
curves the report draws and the scores of trivial baseline models.

Every function takes plain arrays and returns plain Python (floats, lists, dicts), so a
result serialises to JSON as it is. The metric names are those of the problem spec
(:data:`aws_ml.problem.CLASSIFICATION_METRICS` and ``REGRESSION_METRICS``) plus
``brier`` (Brier score).
"""
from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np
import pandas as pd

MAX_CURVE_POINTS = 400          # ROC/PR curves are thinned to this many points for the report
MAX_RESIDUAL_POINTS = 2000      # residual plots show a sample of this many points
CALIBRATION_BINS = 10
HIGHER_IS_BETTER = {"accuracy": True, "balanced_accuracy": True, "f1": True, "precision": True,
                    "recall": True, "roc_auc": True, "pr_auc": True, "log_loss": False, "brier": False,
                    "rmse": False, "mae": False, "r2": True, "mape": False}


class MetricsError(ValueError):
    """Inputs that no metric can be computed from (one clear message)."""


def _float(x: Any) -> float | None:
    """A JSON-friendly float: ``None`` for NaN and infinities."""
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def infer_problem_type(y_true: pd.Series, y_score: np.ndarray | None = None) -> str:
    """``binary``, ``multiclass`` or ``regression`` from the true values (and the scores)."""
    from aws_ml.problem import infer_problem_type as from_labels

    kind = from_labels(pd.Series(y_true))
    if kind == "multiclass" and y_score is not None and np.ndim(y_score) == 1 \
            and pd.api.types.is_numeric_dtype(pd.Series(y_true)):
        return "regression"
    return kind


def _thin(*columns: np.ndarray, limit: int = MAX_CURVE_POINTS) -> list[list[float]]:
    """Keep at most ``limit`` points of a curve, always its first and last ones."""
    n = len(columns[0])
    idx = np.unique(np.linspace(0, n - 1, min(n, limit)).round().astype(int)) if n else np.array([], int)
    return [[_float(v) for v in np.asarray(c)[idx]] for c in columns]


# -- classification ---------------------------------------------------------------------------
def binary_metrics(y_true: np.ndarray, y_pred: np.ndarray, y_score: np.ndarray | None,
                   positive_label: Any) -> dict[str, Any]:
    """Headline metrics, confusion matrix and curves of a binary classifier.

    :param y_true: the true labels (any two values).
    :param y_pred: the predicted labels.
    :param y_score: the score (probability) of ``positive_label``, or ``None``.
    """
    from sklearn import metrics as m

    truth = (y_true == positive_label).astype(int)
    pred = (y_pred == positive_label).astype(int)
    out: dict[str, Any] = {
        "accuracy": _float(m.accuracy_score(truth, pred)),
        "balanced_accuracy": _float(m.balanced_accuracy_score(truth, pred)),
        "precision": _float(m.precision_score(truth, pred, zero_division=0)),
        "recall": _float(m.recall_score(truth, pred, zero_division=0)),
        "f1": _float(m.f1_score(truth, pred, zero_division=0)),
    }
    tn, fp, fn, tp = m.confusion_matrix(truth, pred, labels=[0, 1]).ravel()
    out["confusion_matrix"] = {"labels": ["other", str(positive_label)],
                               "matrix": [[int(tn), int(fp)], [int(fn), int(tp)]]}
    out.update(true_positives=int(tp), false_positives=int(fp), true_negatives=int(tn),
               false_negatives=int(fn))
    curves: dict[str, Any] = {}
    if y_score is not None:
        score = y_score.astype(float)
        if np.isnan(score).any():
            raise MetricsError("y_score has missing values")
        both = truth.min() != truth.max()
        out["roc_auc"] = _float(m.roc_auc_score(truth, score)) if both else None
        out["pr_auc"] = _float(m.average_precision_score(truth, score)) if both else None
        probabilities = score.min() >= 0.0 and score.max() <= 1.0
        if probabilities:            # decision-function scores rank, but are no probabilities
            out["log_loss"] = _float(m.log_loss(truth, score, labels=[0, 1]))
            out["brier"] = _float(m.brier_score_loss(truth, score))
        if both:
            fpr, tpr, thr = m.roc_curve(truth, score)
            x, y, t = _thin(fpr, tpr, np.where(np.isinf(thr), np.nan, thr))
            curves["roc"] = {"fpr": x, "tpr": y, "threshold": t}
            precision, recall, thr = m.precision_recall_curve(truth, score)
            # the last PR point (precision 1, recall 0) has no threshold
            p, r, t = _thin(precision[:-1], recall[:-1], thr)
            curves["pr"] = {"precision": p + [1.0], "recall": r + [0.0], "threshold": t + [None],
                            "prevalence": _float(truth.mean())}
        if probabilities:
            curves["calibration"] = calibration(truth, score)
    out["curves"] = curves
    return out


def calibration(truth: np.ndarray, score: np.ndarray, bins: int = CALIBRATION_BINS) -> dict[str, Any]:
    """The reliability curve on quantile bins of the score (equal-count bins, so an
    imbalanced problem still gets points near its high scores): per bin the mean score,
    the observed frequency of the positive class and the count."""
    edges = np.unique(np.quantile(score, np.linspace(0, 1, bins + 1)))
    if len(edges) < 2:
        edges = np.array([score.min(), score.max() + 1e-12])
    which = np.clip(np.searchsorted(edges, score, side="right") - 1, 0, len(edges) - 2)
    mean_score, observed, counts = [], [], []
    for b in range(len(edges) - 1):
        sel = which == b
        if sel.any():
            mean_score.append(_float(score[sel].mean()))
            observed.append(_float(truth[sel].mean()))
            counts.append(int(sel.sum()))
    gap = sum(c * abs(p - o) for p, o, c in zip(mean_score, observed, counts)) / max(sum(counts), 1)
    return {"mean_predicted": mean_score, "fraction_positive": observed, "count": counts,
            "expected_calibration_error": _float(gap), "strategy": "quantile"}


def multiclass_metrics(y_true: np.ndarray, y_pred: np.ndarray, y_score: np.ndarray | None,
                       classes: Sequence[Any] | None = None) -> dict[str, Any]:
    """Accuracy, macro and weighted precision/recall/F1, per-class figures, the confusion
    matrix and, with a score matrix (one column per class, in ``classes`` order), the
    one-vs-rest ROC AUC and log loss."""
    from sklearn import metrics as m

    labels = list(classes) if classes is not None else sorted(set(y_true) | set(y_pred), key=str)
    out: dict[str, Any] = {
        "accuracy": _float(m.accuracy_score(y_true, y_pred)),
        "balanced_accuracy": _float(m.balanced_accuracy_score(y_true, y_pred)),
    }
    for avg in ("macro", "weighted"):
        p, r, f, _ = m.precision_recall_fscore_support(y_true, y_pred, labels=labels, average=avg,
                                                       zero_division=0)
        out[f"precision_{avg}"], out[f"recall_{avg}"], out[f"f1_{avg}"] = _float(p), _float(r), _float(f)
    out["precision"], out["recall"], out["f1"] = out["precision_macro"], out["recall_macro"], out["f1_macro"]
    p, r, f, s = m.precision_recall_fscore_support(y_true, y_pred, labels=labels, zero_division=0)
    out["per_class"] = [{"label": str(c), "precision": _float(p[i]), "recall": _float(r[i]),
                         "f1": _float(f[i]), "support": int(s[i])} for i, c in enumerate(labels)]
    out["confusion_matrix"] = {"labels": [str(c) for c in labels],
                               "matrix": m.confusion_matrix(y_true, y_pred, labels=labels).tolist()}
    if y_score is not None:
        score = np.asarray(y_score, dtype=float)
        if score.ndim != 2 or score.shape[1] != len(labels):
            raise MetricsError(f"y_score of a multiclass problem must have one column per class "
                               f"({len(labels)}: {labels}); got shape {score.shape}")
        score = score / score.sum(axis=1, keepdims=True)
        present = set(y_true)
        if len(present) == len(labels):
            out["roc_auc"] = _float(m.roc_auc_score(y_true, score, multi_class="ovr", labels=labels))
        out["log_loss"] = _float(m.log_loss(y_true, score, labels=labels))
    out["curves"] = {}
    return out


# -- regression -------------------------------------------------------------------------------
def regression_metrics(y_true: np.ndarray, y_pred: np.ndarray, seed: int = 0) -> dict[str, Any]:
    """RMSE, MAE, R², MAPE (over the rows whose true value is not 0), and a sample of the
    residuals for the residual plot."""
    from sklearn import metrics as m

    y_true, y_pred = y_true.astype(float), y_pred.astype(float)
    residual = y_true - y_pred
    nonzero = y_true != 0
    out: dict[str, Any] = {
        "rmse": _float(np.sqrt(m.mean_squared_error(y_true, y_pred))),
        "mae": _float(m.mean_absolute_error(y_true, y_pred)),
        "r2": _float(m.r2_score(y_true, y_pred)) if len(y_true) > 1 else None,
        "mape": _float(np.mean(np.abs(residual[nonzero] / y_true[nonzero]))) if nonzero.any() else None,
        "mape_rows_excluded": int((~nonzero).sum()),
        "median_absolute_error": _float(m.median_absolute_error(y_true, y_pred)),
        "mean_residual": _float(residual.mean()),
    }
    rng = np.random.default_rng(seed)
    idx = np.arange(len(y_true))
    if len(idx) > MAX_RESIDUAL_POINTS:
        idx = np.sort(rng.choice(idx, MAX_RESIDUAL_POINTS, replace=False))
    out["curves"] = {"residuals": {"predicted": [_float(v) for v in y_pred[idx]],
                                   "residual": [_float(v) for v in residual[idx]],
                                   "actual": [_float(v) for v in y_true[idx]],
                                   "sampled": bool(len(idx) < len(y_true))}}
    return out


# -- baseline models --------------------------------------------------------------------------
HEADLINE = {"binary": ("accuracy", "balanced_accuracy", "precision", "recall", "f1", "roc_auc", "pr_auc",
                       "log_loss", "brier"),
            "multiclass": ("accuracy", "balanced_accuracy", "f1", "roc_auc", "log_loss"),
            "regression": ("rmse", "mae", "r2", "mape")}


def headline(problem_type: str, metrics: dict[str, Any]) -> dict[str, Any]:
    """The metrics that summarise a model of this problem type (those that were computed)."""
    return {k: metrics.get(k) for k in HEADLINE[problem_type] if k in metrics}


def dummy_predictions(strategy: str, y_true: np.ndarray, problem_type: str, positive_label: Any,
                      classes: Sequence[Any] | None = None, seed: int = 0
                      ) -> tuple[np.ndarray, np.ndarray | None]:
    """Predictions (and scores) of a trivial model fitted on ``y_true`` itself:
    ``majority`` (the most frequent class, every row scored with the class prior), ``stratified``
    (random labels drawn from the prior), ``mean`` or ``median`` (regression)."""
    from sklearn.dummy import DummyClassifier, DummyRegressor

    X = np.zeros((len(y_true), 1))
    if problem_type == "regression":
        if strategy not in ("mean", "median"):
            raise MetricsError(f"a regression baseline is 'mean' or 'median'; got {strategy!r}")
        return DummyRegressor(strategy=strategy).fit(X, y_true).predict(X), None
    # "majority" predicts the most frequent class and scores every row with the class prior
    # (scikit-learn's "prior" strategy): the honest reference for log loss and Brier score
    sk = {"majority": "prior", "stratified": "stratified", "prior": "prior"}.get(strategy)
    if sk is None:
        raise MetricsError(f"a classification baseline is 'majority' or 'stratified'; got {strategy!r}")
    model = DummyClassifier(strategy=sk, random_state=seed).fit(X, y_true)
    pred = model.predict(X)
    proba = model.predict_proba(X)
    if problem_type == "binary":
        cls = list(model.classes_)
        score = proba[:, cls.index(positive_label)] if positive_label in cls else np.zeros(len(y_true))
        if strategy == "stratified":      # a random model's scores: its random labels
            score = (pred == positive_label).astype(float)
        return pred, score
    if classes is not None:
        cls = list(model.classes_)
        proba = np.column_stack([proba[:, cls.index(c)] if c in cls else np.zeros(len(y_true))
                                 for c in classes])
    return pred, proba

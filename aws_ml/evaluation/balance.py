"""Class balance of the target and a verdict on its imbalance, with what to do about it."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .stats import _plain, _sort_key

# Thresholds on the minority share, normalised by the number of classes (so that they
# read as the minority share of a binary problem): 2 classes of 10 % and 20 classes of
# 0.5 % are equally "imbalanced".
SEVERE = 0.01
IMBALANCED = 0.10
SLIGHT = 0.35

REGRESSION_MIN_UNIQUE = 20


@dataclass
class ClassBalance:
    """The target's classes, their counts and shares, and the imbalance verdict.

    ``verdict`` is ``balanced``, ``slightly imbalanced``, ``imbalanced`` (minority share
    under 10 % for two classes) or ``severely imbalanced`` (under 1 %); ``task`` is
    ``binary``, ``multiclass`` or ``regression`` (then no classes and no verdict).
    """

    target: str
    task: str
    counts: pd.DataFrame                      # index: label; columns: count, share
    positive_label: Any = None
    positive_count: int | None = None
    positive_share: float | None = None
    minority_label: Any = None
    minority_share: float | None = None
    imbalance_ratio: float | None = None      # majority count / minority count
    baseline_accuracy: float | None = None    # accuracy of always predicting the majority
    verdict: str = "not applicable"
    recommendations: list[str] = field(default_factory=list)
    missing: int = 0

    @property
    def is_imbalanced(self) -> bool:
        return self.verdict in ("imbalanced", "severely imbalanced")

    def to_dict(self) -> dict[str, Any]:
        return {
            "target": self.target, "task": self.task, "verdict": self.verdict,
            "is_imbalanced": self.is_imbalanced,
            "classes": [{"label": _plain(label), "count": int(row["count"]), "share": float(row["share"])}
                        for label, row in self.counts.iterrows()],
            "positive_label": _plain(self.positive_label), "positive_count": self.positive_count,
            "positive_share": self.positive_share, "minority_label": _plain(self.minority_label),
            "minority_share": self.minority_share, "imbalance_ratio": self.imbalance_ratio,
            "baseline_accuracy": self.baseline_accuracy, "missing": self.missing,
            "recommendations": list(self.recommendations),
        }


def infer_task(y: pd.Series) -> str:
    """``binary``, ``multiclass`` or ``regression`` (a non-integer numeric target, or one
    with at least 20 distinct values)."""
    values = y.dropna()
    unique = values.nunique()
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        integral = bool((values == np.round(values)).all()) if len(values) else True
        if not integral or unique >= REGRESSION_MIN_UNIQUE:
            return "regression"
    return "binary" if unique <= 2 else "multiclass"


def match_label(values: pd.Series, label: Any) -> Any:
    """``label`` as it appears among ``values`` (``1`` matches ``"1"`` and ``1.0``)."""
    present = list(pd.unique(values.dropna()))
    if label in present:
        return label
    for value in present:
        if str(value) == str(label) or (_is_number(value) and _is_number(label)
                                        and float(value) == float(label)):
            return value
    return label


def _is_number(x: Any) -> bool:
    try:
        float(x)
    except (TypeError, ValueError):
        return False
    return True


def class_balance(y: pd.Series, *, positive_label: Any = 1, task: str | None = None) -> ClassBalance:
    """Counts and shares per class of ``y``, the minority class and the imbalance verdict."""
    target = str(y.name)
    task = task or infer_task(y)
    missing = int(y.isna().sum())
    values = y.dropna()
    if task == "regression":
        counts = pd.DataFrame({"count": pd.Series(dtype=int), "share": pd.Series(dtype=float)})
        return ClassBalance(target, task, counts, missing=missing, recommendations=[
            "The target is continuous: class balance does not apply; look at its distribution "
            "and skewness instead (a log transform helps a long right tail)."])

    counted = values.value_counts()
    order = sorted(counted.index.tolist(), key=_sort_key)
    counted = counted.reindex(order)
    total = int(counted.sum())
    counts = pd.DataFrame({"count": counted.astype(int), "share": counted / total})
    counts.index.name = "label"

    positive = match_label(values, positive_label)
    positive_count = int(counted.get(positive, 0)) if task == "binary" else None
    minority = counted.idxmin()
    majority = counted.idxmax()
    minority_share = float(counted[minority] / total)
    k = len(counted)
    normalised = minority_share * k / 2.0
    if normalised < SEVERE:
        verdict = "severely imbalanced"
    elif normalised < IMBALANCED:
        verdict = "imbalanced"
    elif normalised < SLIGHT:
        verdict = "slightly imbalanced"
    else:
        verdict = "balanced"

    result = ClassBalance(
        target=target, task=task, counts=counts,
        positive_label=positive if task == "binary" else None,
        positive_count=positive_count,
        positive_share=(positive_count / total) if positive_count is not None else None,
        minority_label=minority, minority_share=minority_share,
        imbalance_ratio=float(counted[majority] / counted[minority]),
        baseline_accuracy=float(counted[majority] / total), verdict=verdict, missing=missing)
    result.recommendations = _recommendations(result, counted, majority)
    return result


def _recommendations(b: ClassBalance, counted: pd.Series, majority: Any) -> list[str]:
    if b.verdict == "balanced":
        return ["The classes are balanced: accuracy and ROC AUC are meaningful."]
    recs = [
        f"Do not judge a model by accuracy: always predicting {_plain(majority)!r} already scores "
        f"{b.baseline_accuracy:.1%}.",
        "Measure F1, precision/recall and PR AUC (average precision) on the minority class"
        + (", and ROC AUC" if b.task == "binary" else " (macro-averaged)") + ".",
        "Split train/validation/test stratified on the target, so every split keeps the "
        "minority class.",
    ]
    if b.is_imbalanced:
        if b.task == "binary":
            negative = counted.drop(b.positive_label, errors="ignore").sum()
            weight = negative / b.positive_count if b.positive_count else float("nan")
            recs.append(f"Weight the classes: XGBoost scale_pos_weight ≈ {weight:,.1f} "
                        "(negatives / positives), or class_weight='balanced' in scikit-learn.")
        else:
            recs.append("Weight the classes (class_weight='balanced' in scikit-learn, sample "
                        "weights in XGBoost).")
        recs.append("Or resample the training set only: oversample the minority class (e.g. "
                    "SMOTE) or undersample the majority class.")
        recs.append("Tune the decision threshold on the validation set instead of using 0.5.")
    return recs

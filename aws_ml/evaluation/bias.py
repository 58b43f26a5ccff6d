"""Pre-training bias metrics of a facet, as SageMaker Clarify defines them.

A *facet* is a column (gender, age, ...); its *sensitive group* ``d`` is a value (or a
list of values, or for a continuous facet the values above a threshold) and ``a`` is
every other row. The label is collapsed to positive / not positive with
``positive_label`` (as Clarify does), then, with ``n_a``, ``n_d`` the group sizes,
``q_a``, ``q_d`` their positive-label proportions and ``P_a``, ``P_d`` their label
distributions:

* CI  = (n_a − n_d) / (n_a + n_d)                               class imbalance, in [−1, 1]
* DPL = q_a − q_d                       difference in proportions of labels, in [−1, 1]
* KL  = Σ_y P_a(y) · ln(P_a(y) / P_d(y))                    Kullback–Leibler, in [0, ∞)
* JS  = ½ [KL(P_a ‖ P) + KL(P_d ‖ P)],  P = ½ (P_a + P_d)      Jensen–Shannon, in [0, ln 2]
* LP  = √(Σ_y (P_a(y) − P_d(y))²)                                  L2 norm, in [0, √2]
* TVD = ½ Σ_y |P_a(y) − P_d(y)|                          total variation distance, in [0, 1]
* KS  = max_y |P_a(y) − P_d(y)|                               Kolmogorov–Smirnov, in [0, 1]
* CDDL = Σ_i n_i · (D_i − A_i) / n  over the groups i of ``group_variable``, where D_i is
  the share of facet d among the group's rejected (negative) rows and A_i among its
  accepted (positive) rows        conditional demographic disparity in labels, in [−1, 1]

As in Clarify, the distribution metrics sum only over the label values that both groups
have (a value absent from one group is left out rather than making KL infinite).
References: the "Pre-training Bias Metrics" pages of the SageMaker developer guide.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import pandas as pd

from .balance import match_label
from .stats import _plain

METRICS = ("CI", "DPL", "KL", "JS", "LP", "TVD", "KS", "CDDL")

DESCRIPTIONS = {
    "CI": "Class Imbalance: (n_a − n_d)/(n_a + n_d); > 0 means facet d is under-represented",
    "DPL": "Difference in Proportions of Labels: q_a − q_d; > 0 means facet d gets fewer positive labels",
    "KL": "Kullback–Leibler divergence of the label distribution of a from that of d",
    "JS": "Jensen–Shannon divergence between the label distributions of a and d",
    "LP": "L2 norm of the difference of the label distributions",
    "TVD": "Total Variation Distance: half the L1 norm of the difference of the label distributions",
    "KS": "Kolmogorov–Smirnov: the largest difference between the label distributions",
    "CDDL": "Conditional Demographic Disparity in Labels, by the group variable",
}

# Clarify's own rule for a continuous facet: a float column, or an integer one with at
# least 5 % distinct values.
UNIQUENESS_THRESHOLD = 0.05


class BiasError(ValueError):
    """The facet, its values or the label do not allow the metrics (empty group, ...)."""


def class_imbalance(sensitive: pd.Series) -> float:
    """CI of a boolean facet-d index."""
    n_d = int(sensitive.sum())
    n_a = int((~sensitive).sum())
    if n_d == 0 or n_a == 0:
        raise BiasError("CI: one of the two facet groups is empty.")
    return (n_a - n_d) / (n_a + n_d)


def difference_in_proportions(sensitive: pd.Series, positive: pd.Series) -> float:
    """DPL = q_a − q_d."""
    n_d = int(sensitive.sum())
    n_a = int((~sensitive).sum())
    if n_d == 0 or n_a == 0:
        raise BiasError("DPL: one of the two facet groups is empty.")
    return int((positive & ~sensitive).sum()) / n_a - int((positive & sensitive).sum()) / n_d


def aligned_distributions(label: pd.Series, sensitive: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """P_a and P_d over the label values present (non-zero) in both groups, in value order."""
    codes, uniques = pd.factorize(label, sort=True)
    d = np.asarray(sensitive, dtype=bool)
    k = len(uniques)
    counts_a = np.bincount(codes[~d], minlength=k).astype(float)
    counts_d = np.bincount(codes[d], minlength=k).astype(float)
    if counts_a.sum() == 0 or counts_d.sum() == 0:
        raise BiasError("One of the two facet groups is empty.")
    p_a, p_d = counts_a / counts_a.sum(), counts_d / counts_d.sum()
    common = (p_a > 0) & (p_d > 0)
    if not common.any():
        raise BiasError("No label value is shared by the two facet groups.")
    return p_a[common], p_d[common]


def kl_divergence(label: pd.Series, sensitive: pd.Series) -> float:
    p_a, p_d = aligned_distributions(label, sensitive)
    return float(np.sum(p_a * np.log(p_a / p_d)))


def js_divergence(label: pd.Series, sensitive: pd.Series) -> float:
    p_a, p_d = aligned_distributions(label, sensitive)
    p = 0.5 * (p_a + p_d)
    return float(0.5 * (np.sum(p_a * np.log(p_a / p)) + np.sum(p_d * np.log(p_d / p))))


def lp_norm(label: pd.Series, sensitive: pd.Series, order: float = 2) -> float:
    p_a, p_d = aligned_distributions(label, sensitive)
    return float(np.linalg.norm(p_a - p_d, order))


def total_variation_distance(label: pd.Series, sensitive: pd.Series) -> float:
    return 0.5 * lp_norm(label, sensitive, 1)


def kolmogorov_smirnov(label: pd.Series, sensitive: pd.Series) -> float:
    return lp_norm(label, sensitive, np.inf)


def conditional_demographic_disparity(sensitive: pd.Series, positive: pd.Series,
                                      group: pd.Series) -> float:
    """CDDL: the demographic disparity D_i − A_i per group of ``group``, weighted by size."""
    if positive.sum() == 0 or (~positive).sum() == 0:
        raise BiasError("CDDL needs both positive and negative labels.")
    total, weighted = 0, 0.0
    for value in pd.unique(group):
        in_group = group == value
        n_i = int(in_group.sum())
        accepted = int((positive & in_group).sum())
        rejected = int((~positive & in_group).sum())
        a_i = int((positive & sensitive & in_group).sum()) / accepted if accepted else 0.0
        d_i = int((~positive & sensitive & in_group).sum()) / rejected if rejected else 0.0
        weighted += n_i * (d_i - a_i)
        total += n_i
    return weighted / total if total else 0.0


@dataclass
class BiasReport:
    """Pre-training bias metrics of one facet: one row of ``table`` per sensitive group."""

    facet: str
    label: str
    positive_label: Any
    facet_type: str                 # categorical | continuous
    table: pd.DataFrame             # index: group; columns: n_d, n_a, q_d, q_a, CI, DPL, ...
    errors: dict[str, str]          # "<group>/<metric>": why the metric could not be computed
    notes: dict[str, str]           # "<group>": caveats (a label value absent from one group)

    def to_dict(self) -> dict[str, Any]:
        rows = []
        for group, row in self.table.iterrows():
            rows.append({"group": str(group), **{k: _json_number(v) for k, v in row.items()}})
        return {"facet": self.facet, "label": self.label, "positive_label": _plain(self.positive_label),
                "facet_type": self.facet_type, "groups": rows, "errors": dict(self.errors),
                "notes": dict(self.notes),
                "descriptions": {m: DESCRIPTIONS[m] for m in METRICS if m in self.table.columns}}


def _json_number(v: Any) -> Any:
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        return None if math.isnan(float(v)) else float(v)
    return v


def facet_type(series: pd.Series, values: Sequence[Any] | None) -> str:
    """``categorical`` or ``continuous``, by Clarify's rule."""
    s = series.dropna()
    if isinstance(values, (list, tuple)) and len(values) > 1:
        return "categorical"
    if pd.api.types.is_bool_dtype(s) or not pd.api.types.is_numeric_dtype(s):
        return "categorical"
    if pd.api.types.is_float_dtype(s):
        return "continuous"
    return "continuous" if len(s) and s.nunique() / len(s) >= UNIQUENESS_THRESHOLD else "categorical"


def pretraining_bias(df: pd.DataFrame, *, facet: str, label: str, positive_label: Any = 1,
                     facet_values: Any = None, group_variable: str | None = None,
                     metrics: Sequence[str] = METRICS) -> BiasReport:
    """Clarify's pre-training bias metrics of ``facet`` against ``label``.

    ``facet_values``: the sensitive group d: a value or a list of values of a categorical
    facet (``None``: each value in turn against all the others, as Clarify does), or a
    numeric threshold for a continuous facet (d is ``facet > threshold``).
    ``group_variable``: a column for CDDL (left out without it).
    """
    for name, what in ((facet, "facet"), (label, "label"), (group_variable, "group_variable")):
        if name is not None and name not in df.columns:
            raise BiasError(f"The {what} column {name!r} is not in the data. "
                            f"Columns: {', '.join(map(str, df.columns))}.")
    unknown = [m for m in metrics if m not in METRICS]
    if unknown:
        raise BiasError(f"Unknown bias metrics {unknown}: choose among {list(METRICS)}.")
    data = df[df[label].notna()]
    y = data[label]
    positive = y == match_label(y, positive_label)
    if not positive.any():
        raise BiasError(f"The positive label {positive_label!r} does not occur in column {label!r}.")
    collapsed = positive.map({True: "positive", False: "negative"})
    x = data[facet]
    values = facet_values if facet_values is None or isinstance(facet_values, (list, tuple)) else [facet_values]
    kind = facet_type(x, values)

    groups: list[tuple[str, pd.Series]] = []
    if kind == "continuous":
        if not values or len(values) != 1:
            raise BiasError(f"The facet {facet!r} is continuous: give facet_values as one numeric "
                            "threshold (facet d is the rows above it).")
        threshold = float(values[0])
        groups.append((f"{facet} > {threshold:g}", (x.astype(float) > threshold).fillna(False)))
    elif values is None:
        for value in sorted(pd.unique(x.dropna()), key=str):
            groups.append((str(_plain(value)), (x == value).fillna(False).astype(bool)))
    else:
        matched = [match_label(x, v) for v in values]
        mask = x.isin(matched).fillna(False).astype(bool)
        if not mask.any():
            raise BiasError(f"None of the facet values {list(values)} occurs in column {facet!r}.")
        groups.append((", ".join(str(_plain(v)) for v in matched), mask))

    rows, errors, notes = [], {}, {}
    group_series = data[group_variable] if group_variable else None
    for name, sensitive in groups:
        sensitive = sensitive.astype(bool)
        n_d, n_a = int(sensitive.sum()), int((~sensitive).sum())
        row: dict[str, Any] = {
            "n_d": n_d, "n_a": n_a,
            "q_d": int((positive & sensitive).sum()) / n_d if n_d else float("nan"),
            "q_a": int((positive & ~sensitive).sum()) / n_a if n_a else float("nan"),
        }
        for metric in metrics:
            if metric == "CDDL" and group_series is None:
                continue
            try:
                row[metric] = _metric(metric, sensitive, positive, collapsed, group_series)
            except BiasError as exc:
                row[metric] = float("nan")
                errors[f"{name}/{metric}"] = str(exc)
        absent = [v for v in ("positive", "negative")
                  if not ((collapsed == v) & sensitive).any() or not ((collapsed == v) & ~sensitive).any()]
        if absent:
            notes[name] = (f"no {' or '.join(absent)} label in one of the groups: KL, JS, LP, TVD and KS "
                           "sum over the label values both groups have, as Clarify does")
        rows.append({"group": name, **row})
    table = pd.DataFrame(rows).set_index("group")
    return BiasReport(facet=facet, label=label, positive_label=match_label(y, positive_label),
                      facet_type=kind, table=table, errors=errors, notes=notes)


def _metric(metric: str, sensitive: pd.Series, positive: pd.Series, collapsed: pd.Series,
            group: pd.Series | None) -> float:
    if metric == "CI":
        return class_imbalance(sensitive)
    if metric == "DPL":
        return difference_in_proportions(sensitive, positive)
    if metric == "KL":
        return kl_divergence(collapsed, sensitive)
    if metric == "JS":
        return js_divergence(collapsed, sensitive)
    if metric == "LP":
        return lp_norm(collapsed, sensitive)
    if metric == "TVD":
        return total_variation_distance(collapsed, sensitive)
    if metric == "KS":
        return kolmogorov_smirnov(collapsed, sensitive)
    if metric == "CDDL":
        return conditional_demographic_disparity(sensitive, positive, group)
    raise BiasError(f"Unknown metric {metric!r}")

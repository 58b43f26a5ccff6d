"""Associations with the target and between features, and hints of target leakage.

Measures, by the kinds of the two columns:

* numeric × numeric: Pearson's r (signed; with a 0/1 target it is the point-biserial r);
* categorical × categorical: Cramér's V (``scipy.stats.contingency.association``), in [0, 1];
* numeric × categorical: the correlation ratio η, in [0, 1].

Missing categorical values count as their own category; missing numeric values are left
out pair by pair.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as sps
from scipy.stats.contingency import association

from .stats import BOOLEAN, CATEGORICAL, IDENTIFIER, NUMERIC

LEAKAGE_AUC = 0.95
LEAKAGE_ASSOCIATION = 0.95
REDUNDANT = 0.95
MAX_AUC_CATEGORIES = 50


def encode(s: pd.Series) -> np.ndarray:
    """Integer codes of a categorical series, missing values as a code of their own."""
    codes, _ = pd.factorize(s, use_na_sentinel=True)
    codes = np.asarray(codes, dtype=np.int64)
    if (codes < 0).any():
        codes = np.where(codes < 0, codes.max() + 1, codes)
    return codes


def _cramers_v_codes(a: np.ndarray, b: np.ndarray) -> float:
    ka, kb = int(a.max()) + 1, int(b.max()) + 1
    table = np.bincount(a * kb + b, minlength=ka * kb).reshape(ka, kb)
    table = table[table.sum(axis=1) > 0][:, table.sum(axis=0) > 0]
    if table.shape[0] < 2 or table.shape[1] < 2:
        return 0.0
    return float(association(table, method="cramer"))


def cramers_v(x: pd.Series, y: pd.Series) -> float:
    """Cramér's V of two categorical series (missing values as a category)."""
    return _cramers_v_codes(encode(x), encode(y))


def _eta_codes(codes: np.ndarray, values: np.ndarray) -> float:
    present = ~np.isnan(values)
    codes, values = codes[present], values[present]
    if len(values) == 0:
        return 0.0
    grand = values.mean()
    total = float(((values - grand) ** 2).sum())
    if total == 0:
        return 0.0
    counts = np.bincount(codes)
    sums = np.bincount(codes, weights=values)
    used = counts > 0
    means = sums[used] / counts[used]
    between = float((counts[used] * (means - grand) ** 2).sum())
    return math.sqrt(min(max(between / total, 0.0), 1.0))


def correlation_ratio(categories: pd.Series, values: pd.Series) -> float:
    """η: the share of the variance of ``values`` explained by ``categories`` (square-rooted)."""
    return _eta_codes(encode(categories), values.to_numpy(dtype=float, na_value=np.nan))


def rank_auc(scores: np.ndarray, positive: np.ndarray) -> float:
    """ROC AUC of ``scores`` for the boolean ``positive`` (Mann–Whitney U / n₁n₀, ties halved)."""
    n1 = int(positive.sum())
    n0 = len(positive) - n1
    if n1 == 0 or n0 == 0:
        return float("nan")
    ranks = sps.rankdata(scores)
    return float((ranks[positive].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def target_correlations(df: pd.DataFrame, target: str, kinds: dict[str, str], task: str,
                        positive_label: Any = None) -> pd.DataFrame:
    """One row per feature: ``method`` (pearson / point-biserial / cramers_v / eta),
    ``value`` (signed for Pearson), ``strength`` (|value|), ``p_value`` (Pearson) and, for a
    binary target, ``auc``: the ROC AUC of the feature alone as a score, folded to ≥ 0.5 (a
    categorical feature scores by its category's positive rate), most associated first."""
    y = df[target]
    rows = []
    binary = task == "binary"
    positive = (y == positive_label) if binary else None
    for name, kind in kinds.items():
        if name == target or kind not in (NUMERIC, CATEGORICAL, BOOLEAN, IDENTIFIER):
            continue
        x = df[name]
        row: dict[str, Any] = {"feature": name, "kind": kind}
        numeric = kind in (NUMERIC, IDENTIFIER) and pd.api.types.is_numeric_dtype(x)
        if numeric and task in ("binary", "regression"):
            yy = positive.astype(float) if binary else y.astype(float)
            mask = x.notna() & y.notna()
            if mask.sum() > 2 and x[mask].nunique() > 1 and yy[mask].nunique() > 1:
                r, p = sps.pearsonr(x[mask].astype(float), yy[mask])
                row.update(method="point-biserial" if binary else "pearson", value=float(r),
                           p_value=float(p))
            else:
                row.update(method="pearson", value=float("nan"), p_value=float("nan"))
            if binary:
                row["auc"] = _fold(rank_auc(x[mask].astype(float).to_numpy(), positive[mask].to_numpy()))
        elif numeric:                                  # multiclass target
            row.update(method="eta", value=correlation_ratio(y, x))
        elif task == "regression":
            row.update(method="eta", value=correlation_ratio(x, y))
        else:
            row.update(method="cramers_v", value=cramers_v(x, y))
            if binary and x.nunique(dropna=False) <= MAX_AUC_CATEGORIES:
                mask = y.notna().to_numpy()
                codes = encode(x[mask])
                hits = positive[mask].to_numpy(dtype=float)
                rate = (np.bincount(codes, weights=hits) / np.bincount(codes))[codes]
                row["auc"] = _fold(rank_auc(rate, hits.astype(bool)))
        row["strength"] = abs(row["value"]) if not _isnan(row["value"]) else float("nan")
        rows.append(row)
    cols = ["kind", "method", "value", "strength", "p_value", "auc"]
    if not rows:
        return pd.DataFrame(columns=cols).rename_axis("feature")
    frame = pd.DataFrame(rows).set_index("feature").reindex(columns=cols)
    return frame.sort_values("strength", ascending=False, na_position="last", kind="stable")


def association_matrix(df: pd.DataFrame, columns: list[str], kinds: dict[str, str]) -> pd.DataFrame:
    """The feature × feature association matrix (Pearson r between numeric columns, Cramér's
    V between categorical ones, η between a numeric and a categorical one)."""
    numeric = [c for c in columns if kinds[c] == NUMERIC]
    matrix = pd.DataFrame(np.eye(len(columns)), index=columns, columns=columns, dtype=float)
    if len(numeric) > 1:
        pearson = df[numeric].astype(float).corr(method="pearson")
        matrix.loc[numeric, numeric] = pearson.to_numpy()
    codes = {c: encode(df[c]) for c in columns if kinds[c] != NUMERIC}
    values = {c: df[c].to_numpy(dtype=float, na_value=np.nan) for c in numeric}
    for i, a in enumerate(columns):
        for b in columns[i + 1:]:
            if a in values and b in values:
                continue
            if a in values:
                value = _eta_codes(codes[b], values[a])
            elif b in values:
                value = _eta_codes(codes[a], values[b])
            else:
                value = _cramers_v_codes(codes[a], codes[b])
            matrix.loc[a, b] = matrix.loc[b, a] = value
    return matrix


def redundant_pairs(matrix: pd.DataFrame, threshold: float = REDUNDANT) -> list[dict[str, Any]]:
    """Pairs of features whose |association| is at least ``threshold``."""
    out = []
    cols = list(matrix.columns)
    for i, a in enumerate(cols):
        for b in cols[i + 1:]:
            value = matrix.loc[a, b]
            if not _isnan(value) and abs(value) >= threshold:
                out.append({"a": a, "b": b, "value": float(value)})
    return sorted(out, key=lambda p: -abs(p["value"]))


def leakage_hints(df: pd.DataFrame, target: str, kinds: dict[str, str],
                  correlations: pd.DataFrame, task: str) -> list[dict[str, Any]]:
    """Columns to check before training: a feature that alone predicts the target almost
    perfectly (AUC ≥ 0.95 for a binary target, |association| ≥ 0.95 otherwise) and
    identifier-like columns."""
    hints = []
    for name, row in correlations.iterrows():
        if kinds.get(name) == IDENTIFIER:
            continue
        auc = row.get("auc")
        if task == "binary" and not _isnan(auc) and auc >= LEAKAGE_AUC:
            hints.append({"column": name, "reason": "predicts the target alone", "auc": float(auc),
                          "message": f"{name} alone separates the classes (AUC {auc:.3f}): make sure "
                                     "it is known at prediction time and is not derived from the label."})
        elif not _isnan(row["strength"]) and row["strength"] >= LEAKAGE_ASSOCIATION:
            hints.append({"column": name, "reason": "predicts the target alone",
                          "association": float(row["strength"]),
                          "message": f"{name} is almost a function of the target ({row['method']} "
                                     f"{row['value']:.3f}): check it is not derived from the label."})
    for name, kind in kinds.items():
        if kind != IDENTIFIER or name == target:
            continue
        hint = {"column": name, "reason": "identifier-like",
                "message": f"{name} looks like an identifier ({df[name].nunique():,} distinct values "
                           f"for {df[name].notna().sum():,} rows): keep it out of the features."}
        if name in correlations.index and not _isnan(correlations.loc[name].get("auc")):
            auc = float(correlations.loc[name, "auc"])
            hint["auc"] = auc
            if auc >= 0.6:
                hint["message"] += (f" It separates the classes (AUC {auc:.2f}): the rows are ordered "
                                    "by label, so shuffle before splitting.")
        hints.append(hint)
    return hints


def _fold(auc: float) -> float:
    return auc if _isnan(auc) else max(auc, 1.0 - auc)


def _isnan(x: Any) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))

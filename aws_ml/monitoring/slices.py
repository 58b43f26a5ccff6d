"""Error analysis by slice: the segments of the data where the model errs most.

For each categorical column (strings, booleans, and numbers with few distinct values) the
segments are its values; for each other numeric column they are quantile bins. A segment's
error is the misclassification rate (classification) or the mean absolute error
(regression); its lift is that error over the global one. Segments smaller than
``min_count`` rows are left out (their error rate is noise).
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import pandas as pd

from .metrics import _float

NUMERIC_BINS = 5
CATEGORICAL_MAX_DISTINCT = 12   # a numeric column with at most this many values is categorical


def _segments(column: pd.Series, bins: int) -> tuple[pd.Series, str]:
    """The segment label of every row and the kind of the column."""
    distinct = column.nunique(dropna=True)
    if (not pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column)
            or distinct <= CATEGORICAL_MAX_DISTINCT):
        labels = column.astype(object).where(column.notna(), "(missing)").map(str)
        return labels, "categorical"
    codes, edges = pd.qcut(column, q=bins, retbins=True, duplicates="drop")
    fmt = _edge_format(edges)
    names = {iv: f"{fmt(iv.left)} – {fmt(iv.right)}" for iv in codes.cat.categories}
    labels = codes.map(names).astype(object).where(codes.notna(), "(missing)")
    return labels, "numeric"


def _edge_format(edges: np.ndarray):
    """A formatter for bin edges: whole numbers above 100, three significant digits below."""
    def fmt(v: float) -> str:
        if abs(v) >= 100 or float(v).is_integer():
            return f"{v:,.0f}"
        return f"{v:.3g}"
    return fmt


def error_slices(features: pd.DataFrame, errors: np.ndarray, *, columns: Sequence[str] | None = None,
                 error_name: str = "error_rate", bins: int = NUMERIC_BINS, min_count: int | None = None,
                 top: int = 10) -> dict[str, Any]:
    """The segments with the highest error.

    :param features: one row per prediction, aligned with ``errors``.
    :param errors: per row, 1/0 for a misclassification or the absolute error.
    :param columns: the columns to slice on (default: every column of ``features``).
    :param min_count: the smallest segment reported (default: 1 % of the rows, at least 20).
    :param top: how many segments to keep (highest error first).
    :returns: ``{"metric", "global_error", "min_count", "segments": [...], "columns": {...}}``
        where each segment is ``{"feature", "segment", "kind", "count", "share", "error",
        "lift"}`` and ``columns`` lists every segment of every column (for the chart).
    """
    errors = np.asarray(errors, dtype=float)
    if len(features) != len(errors):
        raise ValueError(f"features has {len(features)} rows but there are {len(errors)} predictions")
    columns = list(columns) if columns is not None else list(features.columns)
    unknown = [c for c in columns if c not in features.columns]
    if unknown:
        raise ValueError(f"slices names columns that features does not have: {unknown}")
    n = len(errors)
    min_count = min_count if min_count is not None else max(20, int(0.01 * n))
    global_error = float(errors.mean()) if n else float("nan")
    frame = features.reset_index(drop=True)
    rows: list[dict[str, Any]] = []
    per_column: dict[str, list[dict[str, Any]]] = {}
    for col in columns:
        labels, kind = _segments(frame[col], bins)
        grouped = pd.DataFrame({"segment": labels.values, "error": errors}).groupby(
            "segment", sort=False)["error"].agg(["count", "mean"])
        entries = []
        for segment, (count, mean) in grouped.iterrows():
            entry = {"feature": col, "segment": str(segment), "kind": kind, "count": int(count),
                     "share": _float(count / n), "error": _float(mean),
                     "lift": _float(mean / global_error) if global_error > 0 else None}
            entries.append(entry)
            if count >= min_count:
                rows.append(entry)
        if kind == "numeric":
            entries.sort(key=lambda e: (e["segment"] == "(missing)", _bin_start(e["segment"])))
        else:
            entries.sort(key=lambda e: -e["count"])
        per_column[col] = entries
    rows.sort(key=lambda e: (-(e["error"] or 0.0), -e["count"]))
    return {"metric": error_name, "global_error": _float(global_error), "min_count": min_count,
            "segments": rows[:top], "columns": per_column}


def _bin_start(label: str) -> float:
    try:
        return float(label.split(" – ")[0].replace(",", ""))
    except ValueError:
        return float("inf")

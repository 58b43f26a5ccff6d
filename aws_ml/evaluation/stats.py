"""Descriptive statistics, missing values and distributions of a table's columns."""
from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd

NUMERIC = "numeric"
CATEGORICAL = "categorical"
BOOLEAN = "boolean"
DATETIME = "datetime"
IDENTIFIER = "identifier"
TEXT = "text"
CONSTANT = "constant"

_ID_NAME = re.compile(r"(^id$|_id$|^id_|\bid\b|uuid|guid|_key$)", re.I)

MISSING_LABEL = "(missing)"
OTHER_LABEL = "(other)"


def column_kinds(df: pd.DataFrame) -> dict[str, str]:
    """What each column is: ``numeric``, ``categorical``, ``boolean``, ``datetime``,
    ``identifier`` (an ID-like column: one distinct value per row, or named like an ID and
    nearly unique), ``text`` (long free text) or ``constant`` (at most one distinct value)."""
    kinds = {}
    for name in df.columns:
        kinds[name] = _kind(df[name])
    return kinds


def _kind(series: pd.Series) -> str:
    values = series.dropna()
    n, unique = len(values), values.nunique()
    if unique <= 1:
        return CONSTANT
    if pd.api.types.is_bool_dtype(series):
        return BOOLEAN
    if pd.api.types.is_datetime64_any_dtype(series):
        return DATETIME
    named_id = bool(_ID_NAME.search(str(series.name)))
    if pd.api.types.is_numeric_dtype(series):
        if pd.api.types.is_integer_dtype(series) or (values == np.round(values)).all():
            consecutive = unique == n and int(values.max()) - int(values.min()) + 1 == n
            if n >= 20 and ((named_id and unique >= 0.95 * n) or consecutive):
                return IDENTIFIER
        return NUMERIC
    # strings and other objects
    text = values.astype(str)
    if n >= 20 and unique >= 0.95 * n:
        return TEXT if text.str.len().mean() > 40 and text.str.contains(" ").mean() > 0.5 else IDENTIFIER
    if named_id and n >= 20 and unique >= 0.5 * n:
        return IDENTIFIER
    return CATEGORICAL


def describe(df: pd.DataFrame, kinds: dict[str, str]) -> pd.DataFrame:
    """One row per column: kind, dtype, count, missing, missing %, distinct values, and
    mean/std/min/quartiles/max/skewness (numeric) or top value and its frequency (others)."""
    rows = []
    n = len(df)
    for name in df.columns:
        s = df[name]
        missing = int(s.isna().sum())
        row: dict[str, Any] = {
            "column": name, "kind": kinds[name], "dtype": str(s.dtype),
            "count": int(n - missing), "missing": missing,
            "missing_pct": 100.0 * missing / n if n else 0.0,
            "unique": int(s.nunique(dropna=True)),
        }
        if kinds[name] in (NUMERIC, IDENTIFIER) and pd.api.types.is_numeric_dtype(s):
            v = s.dropna().astype(float)
            q = v.quantile([0.25, 0.5, 0.75]) if len(v) else pd.Series([np.nan] * 3, index=[.25, .5, .75])
            row.update(mean=v.mean(), std=v.std(), min=v.min(), p25=q[0.25], median=q[0.5],
                       p75=q[0.75], max=v.max(), skew=v.skew() if len(v) > 2 else np.nan)
        counts = s.value_counts(dropna=True)
        if len(counts):
            row.update(top=_plain(counts.index[0]), top_freq=int(counts.iloc[0]))
        rows.append(row)
    frame = pd.DataFrame(rows).set_index("column")
    order = ["kind", "dtype", "count", "missing", "missing_pct", "unique", "mean", "std", "min",
             "p25", "median", "p75", "max", "skew", "top", "top_freq"]
    return frame.reindex(columns=order)


def missing_values(df: pd.DataFrame) -> pd.DataFrame:
    """Missing values per column (count and % of rows), most missing first."""
    n = len(df)
    counts = df.isna().sum().astype(int)
    frame = pd.DataFrame({"missing": counts, "missing_pct": 100.0 * counts / n if n else 0.0})
    frame.index.name = "column"
    return frame.sort_values(["missing", "missing_pct"], ascending=False, kind="stable")


def distributions(df: pd.DataFrame, kinds: dict[str, str], *, target: str | None = None,
                  max_bins: int = 30, top: int = 10, discrete_max: int = 25) -> dict[str, dict]:
    """Per column, what a histogram or a bar chart needs.

    * numeric: ``{"kind": "histogram", "edges": [...], "counts": [...]}`` (numpy's ``auto``
      bin edges, at most ``max_bins``), or ``{"kind": "discrete", "values", "counts"}`` for an
      integer column with at most ``discrete_max`` distinct values;
    * categorical / boolean: ``{"kind": "categories", "values", "counts", "other",
      "missing"}`` with the ``top`` most frequent values.

    With a classification ``target``, every entry also has ``"by_class": {label: counts}``
    over the same bins/values and ``"by_class_missing": {label: count}`` (the target itself
    is described, not split by itself).
    """
    out: dict[str, dict] = {}
    classes = None
    if target is not None and target in df.columns:
        labels = df[target].dropna()
        if labels.nunique() <= 10:
            classes = sorted(labels.unique().tolist(), key=_sort_key)
    for name in df.columns:
        kind = kinds[name]
        s = df[name]
        if kind == NUMERIC:
            entry = _numeric_distribution(s, max_bins, discrete_max)
        elif kind in (CATEGORICAL, BOOLEAN, CONSTANT):
            entry = _categorical_distribution(s, top)
        else:
            continue
        entry["missing"] = int(s.isna().sum())
        if classes is not None and name != target:
            entry["by_class"] = {_plain(c): _counts_like(entry, s[df[target] == c]) for c in classes}
            entry["by_class_missing"] = {_plain(c): int(s[df[target] == c].isna().sum()) for c in classes}
        out[name] = entry
    return out


def _numeric_distribution(s: pd.Series, max_bins: int, discrete_max: int) -> dict:
    v = s.dropna().astype(float).to_numpy()
    if len(v) == 0:
        return {"kind": "histogram", "edges": [], "counts": []}
    unique = np.unique(v)
    if len(unique) <= discrete_max and np.all(unique == np.round(unique)):
        counts = pd.Series(v).value_counts().reindex(unique, fill_value=0)
        return {"kind": "discrete", "values": [_plain(x) for x in unique],
                "counts": [int(c) for c in counts]}
    edges = np.histogram_bin_edges(v, bins="auto")
    if len(edges) - 1 > max_bins:
        edges = np.histogram_bin_edges(v, bins=max_bins)
    counts, edges = np.histogram(v, bins=edges)
    return {"kind": "histogram", "edges": [float(e) for e in edges], "counts": [int(c) for c in counts]}


def _categorical_distribution(s: pd.Series, top: int) -> dict:
    counts = s.value_counts(dropna=True)
    head = counts.iloc[:top]
    return {"kind": "categories", "values": [_plain(x) for x in head.index],
            "counts": [int(c) for c in head], "other": int(counts.iloc[top:].sum())}


def _counts_like(entry: dict, s: pd.Series) -> list[int]:
    """Counts of ``s`` over the bins or values of ``entry``."""
    v = s.dropna()
    if entry["kind"] == "histogram":
        if not entry["edges"]:
            return []
        counts, _ = np.histogram(v.astype(float).to_numpy(), bins=np.asarray(entry["edges"]))
        return [int(c) for c in counts]
    counts = v.value_counts()
    if entry["kind"] == "discrete":
        counts.index = counts.index.astype(float)
        return [int(counts.get(float(x), 0)) for x in entry["values"]]
    lookup = {_plain(k): int(c) for k, c in counts.items()}
    return [lookup.get(x, 0) for x in entry["values"]]


def _plain(value: Any) -> Any:
    """A JSON-friendly scalar (numpy and pandas scalars to Python ones)."""
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        f = float(value)
        return int(f) if f.is_integer() else f
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, (np.bool_,)):
        return bool(value)
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return value


def _sort_key(value: Any) -> tuple:
    return (0, value, "") if isinstance(value, (int, float, np.number)) else (1, 0, str(value))

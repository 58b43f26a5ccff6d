"""Outliers of numeric columns by the IQR rule (Tukey's fences) and by the z-score."""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .stats import _plain


def detect_outliers(df: pd.DataFrame, columns: list[str], *, iqr_k: float = 1.5,
                    z_threshold: float = 3.0, examples: int = 5) -> tuple[pd.DataFrame, dict[str, list[dict]]]:
    """Per numeric column: quartiles, IQR fences ``[Q1 - k·IQR, Q3 + k·IQR]`` and how many
    values fall outside them, and how many have ``|z| > z_threshold`` (z from the mean and
    the sample standard deviation).

    Returns ``(summary, examples)``: ``summary`` has one row per column (``q1``, ``q3``,
    ``iqr``, ``lower_fence``, ``upper_fence``, ``iqr_outliers``, ``iqr_pct``, ``mean``,
    ``std``, ``z_outliers``, ``z_pct``, ``min``, ``max``, ``distinct``), most IQR outliers
    first (when IQR is 0 — most values equal the median — the IQR rule flags every other
    value, so read ``z_outliers`` instead);
    ``examples`` maps each column with outliers to its most extreme rows (up to
    ``examples``, as records with their row index under ``"_row"``).
    """
    rows, samples = [], {}
    for name in columns:
        v = df[name].astype(float)
        present = v.dropna()
        if present.nunique() <= 2:
            continue          # a binary column has no outliers to speak of
        q1, q3 = present.quantile(0.25), present.quantile(0.75)
        iqr = q3 - q1
        lower, upper = q1 - iqr_k * iqr, q3 + iqr_k * iqr
        iqr_mask = (v < lower) | (v > upper)
        mean, std = present.mean(), present.std()
        z = (v - mean) / std if std > 0 else pd.Series(0.0, index=v.index)
        z_mask = z.abs() > z_threshold
        n = len(present)
        rows.append({
            "column": name, "q1": q1, "q3": q3, "iqr": iqr, "lower_fence": lower,
            "upper_fence": upper, "iqr_outliers": int(iqr_mask.sum()),
            "iqr_pct": 100.0 * iqr_mask.sum() / n if n else 0.0,
            "below": int((v < lower).sum()), "above": int((v > upper).sum()),
            "mean": mean, "std": std, "z_outliers": int(z_mask.sum()),
            "z_pct": 100.0 * z_mask.sum() / n if n else 0.0,
            "min": present.min(), "max": present.max(), "distinct": int(present.nunique()),
        })
        flagged = iqr_mask | z_mask
        if flagged.any():
            extreme = z[flagged].abs().sort_values(ascending=False, kind="stable").index[:examples]
            samples[name] = [_record(df, i, z[i]) for i in extreme]
    columns_out = ["q1", "q3", "iqr", "lower_fence", "upper_fence", "iqr_outliers", "iqr_pct",
                   "below", "above", "mean", "std", "z_outliers", "z_pct", "min", "max", "distinct"]
    if not rows:
        return pd.DataFrame(columns=columns_out).rename_axis("column"), samples
    summary = pd.DataFrame(rows).set_index("column")[columns_out]
    summary = summary.sort_values(["iqr_outliers", "z_outliers"], ascending=False, kind="stable")
    return summary, samples


def _record(df: pd.DataFrame, index: Any, z: float) -> dict[str, Any]:
    row = {"_row": _plain(index), "_z": float(z)}
    for key, value in df.loc[index].items():
        row[str(key)] = None if _is_missing(value) else _plain(value)
    return row


def _is_missing(value: Any) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def box_statistics(v: pd.Series, iqr_k: float = 1.5, max_points: int = 60) -> dict[str, Any] | None:
    """What a box plot of ``v`` shows (Tukey's box: whiskers at the most extreme values
    within the fences) plus up to ``max_points`` of the most extreme outliers."""
    present = v.to_numpy(dtype=float, na_value=np.nan)
    present = present[~np.isnan(present)]
    if present.size == 0:
        return None
    q1, median, q3 = np.quantile(present, [0.25, 0.5, 0.75])     # pandas' default (linear)
    iqr = q3 - q1
    lower, upper = q1 - iqr_k * iqr, q3 + iqr_k * iqr
    inside_mask = (present >= lower) & (present <= upper)
    inside, outside = present[inside_mask], present[~inside_mask]
    if outside.size > max_points:
        outside = outside[np.argsort(-np.abs(outside - median), kind="stable")[:max_points]]
    return {"q1": float(q1), "median": float(median), "q3": float(q3), "mean": float(present.mean()),
            "lowerfence": float(inside.min() if inside.size else q1),
            "upperfence": float(inside.max() if inside.size else q3),
            "outliers": [float(x) for x in np.sort(outside)], "n": int(present.size)}

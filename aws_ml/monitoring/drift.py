"""Drift of current data (a DataFrame or an endpoint's data capture) against a baseline.

Per feature:

- **numerical**: the two-sample Kolmogorov–Smirnov distance between the baseline's
  distribution (rebuilt from its quantile sketch) and the current values — the L∞ distance
  of the two CDFs, the distance Model Monitor reports as ``feature_baseline_drift_<name>`` —
  with its asymptotic p-value (``scipy.stats.kstwo``, effective size n·m/(n+m)), and the
  population stability index (PSI) on the baseline's deciles;
- **string**: the L∞ distance of the category frequencies (Model Monitor's ``LInfinity``
  method), the chi-squared test of the two count vectors, and the PSI over the categories.

A feature drifts when its PSI reaches ``psi_threshold`` (0.2 is the usual "significant
shift" level), or when the test rejects "same distribution" at ``ks_alpha`` **and** the
distance exceeds the constraints' ``comparison_threshold`` (0.1) — the second condition
keeps a large sample from flagging a shift too small to matter, the first keeps a small
sample from flagging noise. Violations come out in the shape of Model Monitor's
``constraint_violations.json``: ``data_type_check``, ``completeness_check``,
``baseline_drift_check``, ``missing_column_check``, ``extra_column_check``,
``categorical_values_check``.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .baseline import Baseline, numeric_values, parse_s3_uri, statistics_of
from .capture import CapturedData, read_capture
from .metrics import _float

PSI_BINS = 10
PSI_EPSILON = 1e-4
NUMERIC = ("Integral", "Fractional")


@dataclass
class DriftReport:
    """Per-feature drift figures and the constraint violations of one dataset.

    ``features`` holds one dict per baseline feature present in the data (``name``,
    ``inferred_type``, ``test`` (``ks`` or ``chi2``), ``distance``, ``p_value``, ``psi``,
    ``drift``, completeness and means, and the binned proportions the report draws);
    ``violations`` is the ``violations`` list of ``constraint_violations.json``.
    """

    features: list[dict[str, Any]]
    violations: list[dict[str, str]]
    item_count: int
    baseline_item_count: int
    thresholds: dict[str, float]
    statistics: dict[str, Any] = field(default_factory=dict, repr=False)
    source: str = "dataframe"

    @property
    def has_violations(self) -> bool:
        return bool(self.violations)

    @property
    def drifted_features(self) -> list[str]:
        """The features whose distribution moved (a ``baseline_drift_check`` violation)."""
        return [f["name"] for f in self.features if f["drift"]]

    def feature(self, name: str) -> dict[str, Any]:
        for f in self.features:
            if f["name"] == name:
                return f
        raise KeyError(f"no drift figures for {name!r}")

    def constraint_violations(self) -> dict[str, Any]:
        """``constraint_violations.json``."""
        return {"violations": list(self.violations)}

    def to_dict(self) -> dict[str, Any]:
        return {"item_count": self.item_count, "baseline_item_count": self.baseline_item_count,
                "thresholds": dict(self.thresholds), "source": self.source,
                "drifted_features": self.drifted_features, "features": self.features,
                "violations": self.violations}

    def summary(self) -> str:
        lines = [f"{self.item_count:,} rows against a baseline of {self.baseline_item_count:,}: "
                 f"{len(self.violations)} violation(s)"]
        for f in self.features:
            mark = "DRIFT" if f["drift"] else "ok"
            lines.append(f"  {f['name']:<28} {mark:<5} {f['test']} distance {_fmt(f['distance'])} "
                         f"p {_fmt(f['p_value'])} PSI {_fmt(f['psi'])}")
        return "\n".join(lines)

    def save(self, session, uri: str) -> None:
        """Write ``constraint_violations.json`` and the current ``statistics.json`` under an
        S3 prefix (what a monitoring execution writes)."""
        bucket, prefix = parse_s3_uri(uri)
        s3 = session.client("s3")
        for name, doc in (("constraint_violations.json", self.constraint_violations()),
                          ("statistics.json", self.statistics)):
            s3.put_object(Bucket=bucket, Key=f"{prefix.rstrip('/')}/{name}".lstrip("/"),
                          Body=json.dumps(doc, indent=2, allow_nan=False).encode(),
                          ContentType="application/json")


def _fmt(x: Any) -> str:
    return "—" if x is None else f"{x:.3g}"


def _psi(expected: np.ndarray, actual: np.ndarray) -> float:
    e = np.clip(expected, PSI_EPSILON, None)
    a = np.clip(actual, PSI_EPSILON, None)
    e, a = e / e.sum(), a / a.sum()
    return float(np.sum((a - e) * np.log(a / e)))


def _sketch(stat: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """The baseline's distribution as sorted values and their weights: the KLL sketch's
    levels (an item of level ``h`` stands for ``2**h`` rows; aws_ml's own sketch is one
    level), else the histogram's bucket centres weighted by their counts."""
    kll = stat["numerical_statistics"].get("distribution", {}).get("kll", {})
    levels = kll.get("sketch", {}).get("data") or []
    values = np.array([v for level in levels for v in level], dtype=float)
    weights = np.array([2.0 ** h for h, level in enumerate(levels) for _ in level], dtype=float)
    if not len(values):
        buckets = [b for b in kll.get("buckets", []) if b["count"] > 0]
        values = np.array([(b["lower_bound"] + b["upper_bound"]) / 2 for b in buckets], dtype=float)
        weights = np.array([b["count"] for b in buckets], dtype=float)
    order = np.argsort(values, kind="stable")
    return values[order], weights[order]


def numeric_drift(stat: dict[str, Any], current: np.ndarray) -> dict[str, Any]:
    """KS distance and p-value, PSI on the baseline's deciles, and the binned proportions."""
    from scipy.stats import kstwo

    base, weight = _sketch(stat)
    n = int(stat["numerical_statistics"]["common"]["num_present"])
    cur = np.sort(current)
    m = len(cur)
    out: dict[str, Any] = {"test": "ks", "distance": None, "p_value": None, "psi": None}
    if not len(base) or not m:
        return out
    cum = np.cumsum(weight) / weight.sum()
    points = np.union1d(base, cur)
    idx = np.searchsorted(base, points, side="right") - 1
    cdf_b = np.where(idx >= 0, cum[np.clip(idx, 0, None)], 0.0)
    cdf_c = np.searchsorted(cur, points, side="right") / m
    d = float(np.max(np.abs(cdf_b - cdf_c)))
    en = n * m / (n + m)
    out["distance"] = d
    out["p_value"] = _float(kstwo.sf(d, max(1, int(round(en)))))
    deciles = np.linspace(0, 1, PSI_BINS + 1)[1:-1]
    edges = np.unique(base[np.clip(np.searchsorted(cum, deciles - 1e-12, side="left"), 0, len(base) - 1)])
    b_counts = np.bincount(np.searchsorted(edges, base, side="left"), weights=weight, minlength=len(edges) + 1)
    c_counts = np.bincount(np.searchsorted(edges, cur, side="left"), minlength=len(edges) + 1)
    b_prop, c_prop = b_counts / b_counts.sum(), c_counts / c_counts.sum()
    out["psi"] = _psi(b_prop, c_prop)
    labels = _bin_labels(edges, float(base[0]), float(max(base[-1], cur[-1])), float(min(base[0], cur[0])))
    out["bins"] = {"labels": labels, "baseline": [_float(v) for v in b_prop],
                   "current": [_float(v) for v in c_prop]}
    return out


def _bin_labels(edges: np.ndarray, lo: float, hi: float, cur_lo: float) -> list[str]:
    def f(v: float) -> str:
        return f"{v:,.0f}" if abs(v) >= 100 or float(v).is_integer() else f"{v:.3g}"
    bounds = [min(lo, cur_lo)] + list(edges) + [hi]
    labels = []
    for i in range(len(bounds) - 1):
        a, b = bounds[i], bounds[i + 1]
        labels.append(f"≤ {f(b)}" if i == 0 else (f"> {f(a)}" if i == len(bounds) - 2 else f"{f(a)}–{f(b)}"))
    return labels


def categorical_drift(stat: dict[str, Any], current: pd.Series) -> dict[str, Any]:
    """L∞ distance, chi-squared test and PSI of the category frequencies."""
    from scipy.stats import chi2_contingency

    buckets = stat["string_statistics"]["distribution"]["categorical"]["buckets"]
    base = pd.Series({b["value"]: b["count"] for b in buckets}, dtype=float)
    cur = current.dropna().map(str).value_counts().astype(float)
    out: dict[str, Any] = {"test": "chi2", "distance": None, "p_value": None, "psi": None}
    if base.sum() == 0 or cur.sum() == 0:
        return out
    cats = list(base.index) + [c for c in cur.index if c not in base.index]
    b = base.reindex(cats, fill_value=0.0).to_numpy()
    c = cur.reindex(cats, fill_value=0.0).to_numpy()
    b_prop, c_prop = b / b.sum(), c / c.sum()
    out["distance"] = float(np.max(np.abs(b_prop - c_prop)))
    table = np.vstack([b, c])
    table = table[:, table.sum(axis=0) > 0]
    out["p_value"] = _float(chi2_contingency(table)[1]) if table.shape[1] > 1 else 1.0
    out["psi"] = _psi(b_prop, c_prop)
    keep = np.argsort(-(b_prop + c_prop))[:20]
    out["bins"] = {"labels": [cats[i] for i in keep], "baseline": [_float(b_prop[i]) for i in keep],
                   "current": [_float(c_prop[i]) for i in keep]}
    return out


def _type_violation(name: str, kind: str, column: pd.Series, threshold: float) -> dict | None:
    present = column.dropna()
    if kind not in NUMERIC or present.empty:
        return None
    numbers = numeric_values(present)
    bad = numbers.isna() | (pd.api.types.is_bool_dtype(present))
    if kind == "Integral":
        bad = bad | (numbers.notna() & (numbers != numbers.round()))
    share = float(bad.mean())
    if share > threshold:
        return {"feature_name": name, "constraint_check_type": "data_type_check",
                "description": f"Data type match requirement is not met. Expected data type: {kind}, "
                               f"Expected match: {100 * (1 - threshold):.0f}%. Observed: Only "
                               f"{100 * (1 - share):.1f}% of data is {kind}."}
    return None


def _load_current(current: Any, baseline: Baseline, session) -> tuple[pd.DataFrame, str]:
    if isinstance(current, pd.DataFrame):
        return current, "dataframe"
    if isinstance(current, CapturedData):
        return current.inputs, "capture"
    if isinstance(current, str) and current.startswith("s3://"):
        if session is None:
            raise ValueError("reading data capture from S3 needs a session")
        captured = read_capture(session, current, feature_names=baseline.feature_names)
        if captured.inputs.empty:
            raise ValueError(f"no captured request under {current}")
        return captured.inputs, current
    raise TypeError("check_drift takes a DataFrame, CapturedData or an s3:// data-capture prefix; "
                    f"got {type(current).__name__}")


def check_drift(baseline: Baseline, current: Any, *, session=None, psi_threshold: float = 0.2,
                ks_alpha: float = 0.01, comparison_threshold: float | None = None,
                completeness_tolerance: float = 0.02) -> DriftReport:
    """Compare ``current`` with ``baseline``.

    :param current: a DataFrame, a :class:`~aws_ml.monitoring.capture.CapturedData`, or an
        ``s3://`` data-capture prefix (read through ``session``; CSV requests are mapped to
        the baseline's feature names in order).
    :param psi_threshold: a PSI at or above this is drift.
    :param ks_alpha: the significance level of the KS / chi-squared test.
    :param comparison_threshold: the smallest distance that is drift (default: the
        constraints' ``distribution_constraints.comparison_threshold``, 0.1; for strings
        ``categorical_comparison_threshold``).
    :param completeness_tolerance: how far completeness may fall below the constraint
        before ``completeness_check`` flags it (sampling noise).
    """
    if not isinstance(baseline, Baseline):
        raise TypeError(f"baseline must be a Baseline (suggest_baseline or Baseline.load); "
                        f"got {type(baseline).__name__}")
    df, source = _load_current(current, baseline, session)
    config = baseline.monitoring_config
    dist = {**config["distribution_constraints"]}
    num_threshold = comparison_threshold if comparison_threshold is not None else dist["comparison_threshold"]
    cat_threshold = comparison_threshold if comparison_threshold is not None else \
        dist.get("categorical_comparison_threshold", num_threshold)
    compare = dist.get("perform_comparison", "Enabled") == "Enabled"
    violations: list[dict[str, str]] = []
    features: list[dict[str, Any]] = []
    names = baseline.feature_names
    for name in names:
        stat, constraint = baseline.feature(name), baseline.constraint(name)
        kind = constraint.get("inferred_type", stat["inferred_type"])
        if name not in df.columns:
            violations.append({"feature_name": name, "constraint_check_type": "missing_column_check",
                               "description": f"There are missing columns in current dataset: {name}. "
                                              f"Number of columns in current dataset: {len(df.columns)}, "
                                              f"number of columns in baseline constraints: {len(names)}"})
            continue
        column = df[name]
        present = column.notna()
        completeness = float(present.mean()) if len(column) else 0.0
        entry: dict[str, Any] = {"name": name, "inferred_type": kind, "count": int(len(column)),
                                 "completeness": completeness,
                                 "baseline_completeness": constraint.get("completeness")}
        if (v := _type_violation(name, kind, column, config["datatype_check_threshold"])):
            violations.append(v)
        expected = constraint.get("completeness")
        if expected is not None and completeness < expected - completeness_tolerance:
            violations.append({"feature_name": name, "constraint_check_type": "completeness_check",
                               "description": f"Data completeness requirement is not met. Expected "
                                              f"completeness: {expected:.4g}, observed completeness: "
                                              f"{completeness:.4g}"})
        if kind in NUMERIC:
            values = numeric_values(column).dropna().to_numpy(dtype=float)
            entry.update(numeric_drift(stat, values))
            entry["baseline_mean"] = stat["numerical_statistics"].get("mean")
            entry["mean"] = _float(values.mean()) if len(values) else None
            if constraint.get("num_constraints", {}).get("is_non_negative") and (values < 0).any():
                violations.append({"feature_name": name, "constraint_check_type": "data_type_check",
                                   "description": f"Value(s) below zero ({int((values < 0).sum())} of "
                                                  f"{len(values)}, minimum {values.min():.4g}) break the "
                                                  f"baseline constraint is_non_negative"})
            threshold = num_threshold
        else:
            entry.update(categorical_drift(stat, column))
            threshold = cat_threshold
            domain = constraint.get("string_constraints", {}).get("domains")
            if domain is not None and present.any():
                outside = ~column[present].map(str).isin(set(domain))
                share = float(outside.mean())
                if share > config["domain_content_threshold"]:
                    violations.append({
                        "feature_name": name, "constraint_check_type": "categorical_values_check",
                        "description": f"Baseline domain requirement is not met: {100 * share:.1f}% of "
                                       f"values fall outside the baseline's domain (threshold "
                                       f"{100 * config['domain_content_threshold']:.0f}%), e.g. "
                                       f"{sorted(set(column[present].map(str)[outside]))[:3]}"})
        # drift is a change both significant (the test rejects "same distribution") and large
        # (distance or PSI over its threshold): PSI alone is biased upwards on small samples
        # (≈ (bins - 1) / n), so 80 rows drawn from the baseline itself often reach 0.2
        significant = entry["p_value"] is None or entry["p_value"] < ks_alpha
        by_test = (entry["p_value"] is not None and entry["p_value"] < ks_alpha
                   and entry["distance"] is not None and entry["distance"] > threshold)
        by_psi = entry["psi"] is not None and entry["psi"] >= psi_threshold and significant
        entry["drift"] = bool(compare and (by_test or by_psi))
        entry["threshold"] = threshold
        if entry["drift"]:
            reasons = []
            if by_test:
                reasons.append(f"{'KS' if entry['test'] == 'ks' else 'chi-squared'} p-value "
                               f"{entry['p_value']:.3g} < {ks_alpha}")
            if by_psi:
                reasons.append(f"PSI {entry['psi']:.3g} >= {psi_threshold}")
            violations.append({"feature_name": name, "constraint_check_type": "baseline_drift_check",
                               "description": f"Baseline drift distance: {entry['distance']:.4g} exceeds "
                                              f"threshold: {threshold} ({'; '.join(reasons)})"
                               if by_test else f"Baseline drift: {'; '.join(reasons)} (distance "
                                               f"{entry['distance']:.4g}, threshold {threshold})"})
        features.append(entry)
    for extra in [c for c in df.columns if c not in names]:
        violations.append({"feature_name": str(extra), "constraint_check_type": "extra_column_check",
                           "description": f"There are extra columns in current dataset: {extra}. "
                                          f"Number of columns in current dataset: {len(df.columns)}, "
                                          f"number of columns in baseline constraints: {len(names)}"})
    kinds = {n: baseline.constraint(n).get("inferred_type") for n in names if n in df.columns}
    current_stats = statistics_of(df[[n for n in names if n in df.columns]],
                                  {k: v for k, v in kinds.items() if v != "Unknown"})
    thresholds = {"psi": psi_threshold, "ks_alpha": ks_alpha, "comparison": num_threshold,
                  "categorical_comparison": cat_threshold, "completeness_tolerance": completeness_tolerance}
    return DriftReport(features=features, violations=violations, item_count=int(len(df)),
                       baseline_item_count=baseline.item_count, thresholds=thresholds,
                       statistics=current_stats, source=source)

"""A baseline of the training data, as SageMaker Model Monitor's baselining job writes it.

``suggest_baseline(df)`` computes per-feature statistics (``statistics.json``) and suggests
constraints (``constraints.json``) in the documented shapes of Model Monitor's prebuilt
container ("Schema for Statistics", "Schema for Constraints"):

- numerical features: ``num_present``/``num_missing``, mean, sum, std_dev, min, max, ten
  equal-width ``kll.buckets`` between min and max, and a quantile ``sketch`` (one level of
  at most ``k`` = 2,048 sorted values: every value when there are fewer, else evenly spaced
  quantiles, each standing for ``item_count / k`` rows) from which the drift check rebuilds
  the baseline's distribution;
- string features: ``distinct_count`` and the value counts (``categorical.buckets``);
- constraints: the inferred type (``Integral``, ``Fractional``, ``String``), completeness,
  ``is_non_negative``, the domain of low-cardinality strings, and the ``monitoring_config``.

Written as ``statistics.json`` and ``constraints.json`` under ``output_uri`` through the
session's S3 client, and read back with :meth:`Baseline.load`.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import pandas as pd

from .metrics import _float

SKETCH_K = 2048
SKETCH_C = 0.64
HISTOGRAM_BUCKETS = 10               # Model Monitor materialises 10 buckets
MAX_CATEGORICAL_BUCKETS = 1000
MAX_DOMAIN = 50                      # strings with at most this many values get a domain constraint
MONITORING_CONFIG = {
    "evaluate_constraints": "Enabled",
    "emit_metrics": "Enabled",
    "datatype_check_threshold": 0.1,
    "domain_content_threshold": 0.1,
    "distribution_constraints": {
        "perform_comparison": "Enabled",
        "comparison_threshold": 0.1,
        "comparison_method": "Robust",
        "categorical_comparison_threshold": 0.1,
        "categorical_drift_method": "LInfinity",
    },
}


def parse_s3_uri(uri: str) -> tuple[str, str]:
    """``s3://bucket/key/prefix`` -> ``("bucket", "key/prefix")``."""
    if not isinstance(uri, str) or not uri.startswith("s3://") or len(uri) <= 5:
        raise ValueError(f"expected an s3://bucket/prefix URI; got {uri!r}")
    bucket, _, key = uri[5:].partition("/")
    if not bucket:
        raise ValueError(f"expected an s3://bucket/prefix URI; got {uri!r}")
    return bucket, key


def inferred_type(column: pd.Series) -> str:
    """Model Monitor's inferred type of a column: ``Integral``, ``Fractional`` or ``String``
    (``Unknown`` when it holds no value)."""
    present = column.dropna()
    if present.empty:
        return "Unknown"
    if pd.api.types.is_bool_dtype(column):
        return "String"
    if pd.api.types.is_integer_dtype(column):
        return "Integral"
    if pd.api.types.is_numeric_dtype(column):
        return "Fractional"
    numbers = pd.to_numeric(present, errors="coerce")
    if numbers.notna().all():   # strings that all parse as numbers (CSV read as text)
        return "Integral" if (numbers == numbers.round()).all() and not \
            present.astype(str).str.contains(r"[.eE]").any() else "Fractional"
    return "String"


def numeric_values(column: pd.Series) -> pd.Series:
    """The column as floats (values that are not numbers become missing)."""
    if pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column):
        return column.astype(float)
    return pd.to_numeric(column, errors="coerce").astype(float)


def sketch_of(values: np.ndarray, k: int = SKETCH_K) -> list[float]:
    """Sorted values, or ``k`` evenly spaced quantiles of them (actual values)."""
    values = np.sort(values)
    if len(values) <= k:
        return [float(v) for v in values]
    q = np.quantile(values, (np.arange(k) + 0.5) / k, method="inverted_cdf")
    return [float(v) for v in q]


def _numerical_statistics(values: pd.Series, n: int) -> dict[str, Any]:
    present = values.dropna().to_numpy(dtype=float)
    common = {"num_present": int(len(present)), "num_missing": int(n - len(present))}
    if not len(present):
        return {"common": common}
    lo, hi = float(present.min()), float(present.max())
    edges = np.linspace(lo, hi, HISTOGRAM_BUCKETS + 1) if hi > lo else np.array([lo, hi])
    counts, _ = np.histogram(present, bins=edges)
    buckets = [{"lower_bound": float(edges[i]), "upper_bound": float(edges[i + 1]), "count": float(c)}
               for i, c in enumerate(counts)]
    return {
        "common": common,
        "mean": _float(present.mean()), "sum": _float(present.sum()),
        "std_dev": _float(present.std(ddof=0)), "min": lo, "max": hi,
        "distribution": {"kll": {"buckets": buckets, "sketch": {
            "parameters": {"c": SKETCH_C, "k": float(SKETCH_K)}, "data": [sketch_of(present)]}}},
    }


def _string_statistics(column: pd.Series, n: int) -> dict[str, Any]:
    present = column.dropna().map(str)
    counts = present.value_counts()
    return {
        "common": {"num_present": int(len(present)), "num_missing": int(n - len(present))},
        "distinct_count": float(len(counts)),
        "distribution": {"categorical": {"buckets": [
            {"value": str(v), "count": float(c)} for v, c in counts.head(MAX_CATEGORICAL_BUCKETS).items()]}},
    }


def column_statistics(name: str, column: pd.Series, kind: str | None = None) -> dict[str, Any]:
    """The ``features[]`` entry of ``statistics.json`` for one column (of type ``kind``,
    inferred when not given)."""
    kind = kind or inferred_type(column)
    entry: dict[str, Any] = {"name": name, "inferred_type": kind}
    if kind in ("Integral", "Fractional"):
        entry["numerical_statistics"] = _numerical_statistics(numeric_values(column), len(column))
    else:
        entry["string_statistics"] = _string_statistics(column, len(column))
    return entry


def statistics_of(df: pd.DataFrame, kinds: dict[str, str] | None = None) -> dict[str, Any]:
    """``statistics.json`` of a DataFrame."""
    kinds = kinds or {}
    return {"version": 0, "dataset": {"item_count": int(len(df))},
            "features": [column_statistics(str(c), df[c], kinds.get(str(c))) for c in df.columns]}


def _constraint(stat: dict[str, Any]) -> dict[str, Any]:
    kind = stat["inferred_type"]
    body = stat.get("numerical_statistics") or stat.get("string_statistics")
    common = body["common"]
    total = common["num_present"] + common["num_missing"]
    out: dict[str, Any] = {"name": stat["name"], "inferred_type": kind,
                           "completeness": _float(common["num_present"] / total) if total else 0.0}
    if kind in ("Integral", "Fractional"):
        out["num_constraints"] = {"is_non_negative": bool(body.get("min", 0) >= 0)}
    elif kind == "String" and body["distinct_count"] <= MAX_DOMAIN:
        out["string_constraints"] = {"domains": [b["value"] for b in body["distribution"]["categorical"]["buckets"]]}
    return out


@dataclass
class Baseline:
    """The statistics and suggested constraints of a reference dataset (Model Monitor's
    ``statistics.json`` and ``constraints.json``, as dicts)."""

    statistics: dict[str, Any]
    constraints: dict[str, Any]
    uri: str | None = None

    @property
    def feature_names(self) -> list[str]:
        """The features in the order of the baseline's columns (the order of CSV input)."""
        return [f["name"] for f in self.statistics["features"]]

    @property
    def item_count(self) -> int:
        return int(self.statistics["dataset"]["item_count"])

    def feature(self, name: str) -> dict[str, Any]:
        """The ``statistics.json`` entry of one feature."""
        for f in self.statistics["features"]:
            if f["name"] == name:
                return f
        raise KeyError(f"the baseline has no feature {name!r} (it has {self.feature_names})")

    def constraint(self, name: str) -> dict[str, Any]:
        """The ``constraints.json`` entry of one feature."""
        for f in self.constraints["features"]:
            if f["name"] == name:
                return f
        raise KeyError(f"the baseline has no constraint for {name!r}")

    @property
    def monitoring_config(self) -> dict[str, Any]:
        return {**MONITORING_CONFIG, **self.constraints.get("monitoring_config", {})}

    def to_dict(self) -> dict[str, Any]:
        return {"statistics": self.statistics, "constraints": self.constraints, "uri": self.uri}

    def save(self, session, uri: str) -> "Baseline":
        """Write ``statistics.json`` and ``constraints.json`` under ``uri`` (an S3 prefix)."""
        bucket, prefix = parse_s3_uri(uri)
        s3 = session.client("s3")
        for name, doc in (("statistics.json", self.statistics), ("constraints.json", self.constraints)):
            s3.put_object(Bucket=bucket, Key=f"{prefix.rstrip('/')}/{name}".lstrip("/"),
                          Body=json.dumps(doc, indent=2, allow_nan=False).encode(),
                          ContentType="application/json")
        self.uri = uri
        return self

    @classmethod
    def load(cls, session, uri: str) -> "Baseline":
        """Read a baseline (``statistics.json`` and ``constraints.json``) from an S3 prefix:
        one written by :func:`suggest_baseline` or by a Model Monitor baselining job."""
        bucket, prefix = parse_s3_uri(uri)
        s3 = session.client("s3")
        docs = {}
        for name in ("statistics.json", "constraints.json"):
            key = f"{prefix.rstrip('/')}/{name}".lstrip("/")
            docs[name] = json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
        return cls(docs["statistics.json"], docs["constraints.json"], uri=uri)


def suggest_baseline(df: pd.DataFrame, *, session=None, output_uri: str | None = None,
                     columns: Sequence[str] | None = None) -> Baseline:
    """Statistics and suggested constraints of ``df`` (the model's input features, in the
    order the model reads them: CSV requests are mapped to these names in this order).

    :param columns: the columns to baseline (default: all of them).
    :param output_uri: ``s3://bucket/prefix``: write ``statistics.json`` and
        ``constraints.json`` there through ``session.client("s3")``.
    """
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"suggest_baseline takes a pandas DataFrame; got {type(df).__name__}")
    if columns is not None:
        missing = [c for c in columns if c not in df.columns]
        if missing:
            raise ValueError(f"columns names columns the DataFrame does not have: {missing}")
        df = df[list(columns)]
    if df.empty or not len(df.columns):
        raise ValueError("a baseline needs at least one row and one column")
    statistics = statistics_of(df)
    constraints = {"version": 0, "features": [_constraint(f) for f in statistics["features"]],
                   "monitoring_config": json.loads(json.dumps(MONITORING_CONFIG))}
    baseline = Baseline(statistics, constraints)
    if output_uri is not None:
        if session is None:
            raise ValueError("output_uri needs a session (the S3 client to write through)")
        baseline.save(session, output_uri)
    return baseline

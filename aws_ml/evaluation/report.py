"""The data-evaluation report (section 3 of the pipeline) and ``evaluate_data``.

``evaluate_data`` reads a table from a DataFrame, S3, Athena or the Glue Data Catalog and
computes what a data scientist checks before feature engineering: statistics, missing
values, distributions, class balance, outliers, correlations, leakage hints and Clarify's
pre-training bias metrics. The :class:`DataEvaluationReport` it returns is a Python object
(DataFrames and dicts), JSON (``to_dict``) and a self-contained HTML dashboard (``to_html``,
``save`` to S3) — the local counterpart of a QuickSight analysis.
"""
from __future__ import annotations

import datetime as _dt
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd

from . import stats as st
from .balance import ClassBalance, class_balance, infer_task
from .bias import BiasReport, pretraining_bias
from .correlation import association_matrix, leakage_hints, redundant_pairs, target_correlations
from .outliers import box_statistics, detect_outliers
from .sources import Provenance, _default_session, load_source, parse_s3_uri, source_kind

MISSING_WARNING_PCT = 5.0
OUTLIER_FLAG_PCT = 0.5
CONTINUOUS_MIN_DISTINCT = 20       # fewer distinct values: a count or a code, not a measure
DPL_FLAG = 0.1
CI_FLAG = 0.8
MAX_MATRIX_COLUMNS = 40
MAX_MATRIX_CATEGORIES = 100
MAX_CHART_COLUMNS = 16
SCATTER_POINTS = 3000


@dataclass
class DataEvaluationReport:
    """Everything ``evaluate_data`` found about a table.

    Attributes (DataFrames are indexed by column name):

    * ``statistics``: kind, dtype, count, missing, distinct values, mean/std/quartiles/
      skewness or the top value, one row per column;
    * ``missing``: missing values per column (``missing``, ``missing_pct``);
    * ``distributions``: histogram bins (numeric) or top categories (categorical), per column;
    * ``balance``: the target's classes and the imbalance verdict (:class:`ClassBalance`);
    * ``outliers``: IQR and z-score outlier counts per numeric column, and
      ``outlier_examples``: the most extreme rows of each;
    * ``target_correlations`` and ``correlation_matrix`` (feature × feature);
    * ``leakage``: hints of target leakage and identifier-like columns;
    * ``bias``: one :class:`~aws_ml.evaluation.bias.BiasReport` per facet;
    * ``findings``: the flags worth reading first, most severe first.
    """

    title: str
    target: str
    task: str
    n_rows: int
    n_rows_total: int
    source: Provenance
    kinds: dict[str, str]
    statistics: pd.DataFrame
    missing: pd.DataFrame
    distributions: dict[str, dict]
    balance: ClassBalance
    outliers: pd.DataFrame
    outlier_examples: dict[str, list[dict]]
    target_correlations: pd.DataFrame
    correlation_matrix: pd.DataFrame
    redundant: list[dict]
    leakage: list[dict]
    bias: list[BiasReport]
    findings: list[dict] = field(default_factory=list)
    charts: dict[str, Any] = field(default_factory=dict)     # what only the dashboard needs
    generated_at: str = ""
    quicksight: dict[str, str] | None = None   # the QuickSight dashboard published (quicksight=True)

    # -- reading -------------------------------------------------------------------------
    @property
    def n_columns(self) -> int:
        return len(self.kinds)

    def findings_about(self, topic: str) -> list[dict]:
        """The findings of one topic: imbalance, missing, outliers, leakage, identifier,
        redundancy, bias, constant."""
        return [f for f in self.findings if f["topic"] == topic]

    def flagged_columns(self, topic: str) -> list[str]:
        return [f["column"] for f in self.findings_about(topic) if f.get("column")]

    def summary(self) -> str:
        """The findings as plain text, one per line."""
        head = (f"{self.title}: {self.n_rows:,} rows × {self.n_columns} columns, target "
                f"{self.target!r} ({self.task})")
        return "\n".join([head] + [f"[{f['severity']}] {f['message']}" for f in self.findings])

    def __repr__(self) -> str:
        return (f"DataEvaluationReport({self.title!r}, rows={self.n_rows}, columns={self.n_columns}, "
                f"target={self.target!r}, findings={len(self.findings)})")

    # -- writing -------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """The whole report as JSON-serialisable dicts and lists (``json.dumps`` works)."""
        return _jsonable({
            "title": self.title, "target": self.target, "task": self.task,
            "n_rows": self.n_rows, "n_rows_total": self.n_rows_total, "n_columns": self.n_columns,
            "source": self.source.to_dict(), "generated_at": self.generated_at,
            "kinds": self.kinds,
            "statistics": _records(self.statistics, "column"),
            "missing": _records(self.missing, "column"),
            "distributions": self.distributions,
            "balance": self.balance.to_dict(),
            "outliers": _records(self.outliers, "column"),
            "outlier_examples": self.outlier_examples,
            "target_correlations": _records(self.target_correlations, "feature"),
            "correlation_matrix": {"columns": [str(c) for c in self.correlation_matrix.columns],
                                   "values": self.correlation_matrix.to_numpy().tolist()},
            "redundant": self.redundant, "leakage": self.leakage,
            "bias": [b.to_dict() for b in self.bias],
            "findings": self.findings, "charts": self.charts,
            **({"quicksight": self.quicksight} if self.quicksight else {}),
        })

    def to_json(self, indent: int | None = None) -> str:
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False, allow_nan=False)

    def to_html(self, path: str | Path | None = None) -> str:
        """The dashboard as one self-contained HTML file (plotly.js inline: it works offline).
        Writes it to ``path`` when given; returns the HTML."""
        from .dashboard import render_html

        html = render_html(self.to_dict())
        if path is not None:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            Path(path).write_text(html, encoding="utf-8")
        return html

    def save(self, session, uri: str) -> dict[str, str]:
        """Write ``index.html`` (the dashboard) and ``report.json`` under the S3 prefix
        ``uri`` (``s3://bucket/prefix/``) through ``session.client("s3")``; returns their URIs."""
        bucket, prefix = parse_s3_uri(uri)
        if prefix and not prefix.endswith("/"):
            prefix += "/"
        s3 = session.client("s3")
        keys = {"html": f"{prefix}index.html", "json": f"{prefix}report.json"}
        s3.put_object(Bucket=bucket, Key=keys["html"], Body=self.to_html().encode("utf-8"),
                      ContentType="text/html; charset=utf-8")
        s3.put_object(Bucket=bucket, Key=keys["json"], Body=self.to_json().encode("utf-8"),
                      ContentType="application/json")
        return {name: f"s3://{bucket}/{key}" for name, key in keys.items()}


def evaluate_data(source: Any, *, target: str, session=None, facet: str | Sequence[str] | None = None,
                  facet_values: Any = None, positive_label: Any = 1, group_variable: str | None = None,
                  sample: int | float | None = None, random_state: int = 0,
                  features: Sequence[str] | None = None, exclude: Sequence[str] = (),
                  database: str | None = None, workgroup: str | None = None,
                  output_location: str | None = None, catalog: str | None = None,
                  read_options: dict | None = None, na_values: Sequence[str] = (),
                  query_timeout: float = 600.0, title: str | None = None, quicksight: bool = False,
                  quicksight_account_id: str | None = None) -> DataEvaluationReport:
    """Evaluate a table before feature engineering and training.

    :param source: a pandas DataFrame; an ``s3://bucket/key`` URI of a CSV, Parquet or
        JSON Lines object, or an ``s3://bucket/prefix/`` whose objects are concatenated (read
        through ``session.client("s3")``); a SQL query run on Athena; or a Glue table name
        ``"database.table"`` (``SELECT * FROM database.table`` on Athena).
    :param target: the label column.
    :param session: an :class:`aws_ml.Session` (default: ``Session()``) for S3 and Athena.
    :param facet: a column, or several, for the pre-training bias metrics.
    :param facet_values: facet d: a value or list of values (default: each value in turn
        against the rest), or a threshold for a continuous facet.
    :param positive_label: the positive class of the target (``1``).
    :param group_variable: a column for Clarify's CDDL metric.
    :param sample: evaluate a random sample: a number of rows (int) or a fraction (float < 1).
    :param features: the columns to evaluate besides the target (default: all); ``exclude``
        leaves some out.
    :param database, workgroup, output_location, catalog: Athena's query context, work group
        and result location (``s3://...``) for a SQL or Glue-table source.
    :param read_options: keyword arguments for ``pandas.read_csv`` / ``read_parquet`` /
        ``read_json`` of an S3 source (``{"format": "csv"}`` forces the format).
    :param na_values: strings that mean "missing" in text columns, for every source (pandas
        already reads ``"None"``, ``"N/A"``, ``"NA"`` and empty fields of a CSV as missing;
        Athena keeps them as strings: pass ``na_values=["None", "N/A"]`` to match).
    :param quicksight: also register the Glue table (the source must be ``"database.table"``)
        as a QuickSight data set, with an evaluation dashboard, through
        ``session.client("quicksight")`` (:func:`aws_ml.evaluation.quicksight.publish_dashboard`):
        on AWS the real QuickSight, locally a rendered HTML page. ``report.quicksight`` holds
        its ``dashboard_id``, ``arn`` and ``embed_url``. ``quicksight_account_id``: the account
        (default: ``sts.get_caller_identity``).
    """
    if quicksight:
        if source_kind(source) != "glue_table":
            raise ValueError("The 'quicksight' parameter of evaluate_data needs a Glue table source "
                             f"'database.table'. Got {type(source).__name__} "
                             f"{source if isinstance(source, str) else ''!r} instead.")
        session = session if session is not None else _default_session()
    frame, provenance = load_source(source, session=session, database=database, workgroup=workgroup,
                                    output_location=output_location, catalog=catalog,
                                    read_options=read_options, query_timeout=query_timeout)
    if na_values:
        frame = _mark_missing(frame, list(na_values))
    if target not in frame.columns:
        raise ValueError(f"The 'target' parameter of evaluate_data must be a column of the data. "
                         f"Got {target!r} instead; columns: {', '.join(map(str, frame.columns))}.")
    facets = [facet] if isinstance(facet, str) else list(facet or [])
    for name in facets + ([group_variable] if group_variable else []):
        if name not in frame.columns:
            raise ValueError(f"The 'facet' parameter of evaluate_data must name columns of the data. "
                             f"Got {name!r} instead.")
    columns = list(features) if features is not None else [c for c in frame.columns if c != target]
    missing_features = [c for c in columns if c not in frame.columns]
    if missing_features:
        raise ValueError(f"The 'features' parameter of evaluate_data must name columns of the data. "
                         f"Got {missing_features} instead.")
    columns = [c for c in columns if c not in set(exclude) and c != target]
    keep = list(dict.fromkeys(columns + [target] + facets + ([group_variable] if group_variable else [])))
    n_total = len(frame)
    data = _sample(frame[keep], sample, random_state)
    data, infinite = _infinite_as_missing(data)
    evaluated = data[columns + [target]]

    kinds = st.column_kinds(evaluated)
    task = infer_task(data[target])
    balance = class_balance(data[target], positive_label=positive_label, task=task)
    positive = balance.positive_label if task == "binary" else None

    statistics = st.describe(evaluated, kinds)
    missing = st.missing_values(evaluated)
    distributions = st.distributions(evaluated, kinds, target=target if task != "regression" else None)

    numeric = [c for c in columns if kinds[c] == st.NUMERIC]
    outliers, examples = detect_outliers(evaluated, numeric)
    correlations = target_correlations(evaluated, target, kinds, task, positive)
    matrix_columns = _matrix_columns(evaluated, columns, kinds, correlations)
    matrix = association_matrix(evaluated, matrix_columns, kinds)
    redundant = redundant_pairs(matrix)
    leakage = leakage_hints(evaluated, target, kinds, correlations, task)
    bias = [pretraining_bias(data, facet=f, label=target, positive_label=positive_label,
                             facet_values=facet_values, group_variable=group_variable) for f in facets]

    report = DataEvaluationReport(
        title=title or _default_title(provenance, target), target=target, task=task,
        n_rows=len(data), n_rows_total=n_total, source=provenance, kinds=kinds,
        statistics=statistics, missing=missing, distributions=distributions, balance=balance,
        outliers=outliers, outlier_examples=examples, target_correlations=correlations,
        correlation_matrix=matrix, redundant=redundant, leakage=leakage, bias=bias,
        generated_at=_dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"))
    report.charts = _chart_data(evaluated, target, kinds, balance, correlations, numeric)
    report.findings = _findings(report)
    for column, count in infinite.items():
        report.findings.append({"severity": "info", "topic": "missing", "column": column,
                                "message": f"{column}: {count:,} infinite values, counted as missing.",
                                "count": count})
    if quicksight:
        from .quicksight import publish_dashboard

        database, table = (part.strip().strip('"') for part in source.strip().split(".", 1))
        report.quicksight = publish_dashboard(session, database=database, table=table, target=target,
                                              workgroup=workgroup or "primary",
                                              account_id=quicksight_account_id)
    return report


# -- helpers ---------------------------------------------------------------------------------
def _mark_missing(frame: pd.DataFrame, na_values: list[str]) -> pd.DataFrame:
    frame = frame.copy()
    for column in frame.columns:
        s = frame[column]
        if pd.api.types.is_object_dtype(s) or pd.api.types.is_string_dtype(s):
            frame[column] = s.mask(s.isin(na_values))
    return frame


def _infinite_as_missing(frame: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, int]]:
    counts = {}
    for column in frame.columns:
        s = frame[column]
        if pd.api.types.is_float_dtype(s):
            infinite = np.isinf(s.to_numpy(dtype=float, na_value=np.nan))
            if infinite.any():
                counts[str(column)] = int(infinite.sum())
    if counts:
        frame = frame.copy()
        for column in counts:
            frame[column] = frame[column].replace([np.inf, -np.inf], np.nan)
    return frame, counts


def _sample(frame: pd.DataFrame, sample: int | float | None, random_state: int) -> pd.DataFrame:
    if sample is None:
        return frame
    if isinstance(sample, bool) or not isinstance(sample, (int, float)) or sample <= 0:
        raise ValueError("The 'sample' parameter of evaluate_data must be a number of rows (int > 0) "
                         f"or a fraction (0 < float < 1). Got {sample!r} instead.")
    if isinstance(sample, float) and sample < 1:
        return frame.sample(frac=sample, random_state=random_state).sort_index()
    n = int(sample)
    return frame if n >= len(frame) else frame.sample(n=n, random_state=random_state).sort_index()


def _default_title(provenance: Provenance, target: str) -> str:
    if provenance.kind == "s3" and provenance.uri:
        return f"Data evaluation — {provenance.uri}"
    if provenance.kind == "glue_table" and provenance.query:
        return f"Data evaluation — {provenance.query.split()[-1]}"
    return f"Data evaluation — target {target}"


def _matrix_columns(df: pd.DataFrame, columns: list[str], kinds: dict[str, str],
                    correlations: pd.DataFrame) -> list[str]:
    usable = [c for c in columns
              if kinds[c] == st.NUMERIC
              or (kinds[c] in (st.CATEGORICAL, st.BOOLEAN) and df[c].nunique() <= MAX_MATRIX_CATEGORIES)]
    if len(usable) > MAX_MATRIX_COLUMNS:            # keep the most target-associated ones
        ranked = [c for c in correlations.index if c in usable]
        usable = [c for c in usable if c in set(ranked[:MAX_MATRIX_COLUMNS])]
    return usable


def _chart_data(df: pd.DataFrame, target: str, kinds: dict[str, str], balance: ClassBalance,
                correlations: pd.DataFrame, numeric: list[str]) -> dict[str, Any]:
    """Box statistics by class and the scatter points of the two most target-correlated
    numeric features: what the dashboard draws that the rest of the report does not hold."""
    ranked = [c for c in correlations.index if c in numeric]
    shown = ranked[:MAX_CHART_COLUMNS] + [c for c in numeric if c not in ranked][:max(0, MAX_CHART_COLUMNS - len(ranked))]
    by_class = balance.task != "regression" and len(balance.counts) <= 10
    classes = list(balance.counts.index) if by_class else [None]
    boxes = {}
    for name in shown:
        boxes[name] = {}
        for label in classes:
            values = df[name] if label is None else df.loc[df[target] == label, name]
            stats = box_statistics(values)
            if stats is not None:
                boxes[name]["all" if label is None else str(st._plain(label))] = stats
    charts: dict[str, Any] = {"boxes": boxes, "box_columns": shown}
    # the two most associated numeric features, measures (many distinct values) first:
    # a scatter of two small counts is a few overlapping dots
    usable = [c for c in ranked if not math.isnan(correlations.loc[c, "strength"])]
    measures = [c for c in usable if df[c].nunique() > CONTINUOUS_MIN_DISTINCT]
    pair = (measures + [c for c in usable if c not in measures])[:2]
    if len(pair) == 2:
        points = df[pair + [target]].dropna()
        if len(points) > SCATTER_POINTS:
            # every minority-class point, then a random share of the rest
            if by_class and balance.minority_label is not None:
                minority = points[points[target] == balance.minority_label]
                rest = points.drop(minority.index)
                take = max(SCATTER_POINTS - len(minority), 0)
                points = pd.concat([minority.iloc[:SCATTER_POINTS],
                                    rest.sample(n=min(take, len(rest)), random_state=0)]).sort_index()
            else:
                points = points.sample(n=SCATTER_POINTS, random_state=0).sort_index()
        series = {}
        for label in (classes if by_class else [None]):
            part = points if label is None else points[points[target] == label]
            series["all" if label is None else str(st._plain(label))] = {
                "x": part[pair[0]].astype(float).tolist(), "y": part[pair[1]].astype(float).tolist()}
        charts["scatter"] = {"x": pair[0], "y": pair[1], "series": series,
                             "color": target if by_class else None, "n": int(len(points))}
    return charts


def _findings(r: DataEvaluationReport) -> list[dict]:
    out: list[dict] = []

    def add(severity: str, topic: str, message: str, column: str | None = None, **extra: Any) -> None:
        out.append({"severity": severity, "topic": topic, "column": column, "message": message, **extra})

    b = r.balance
    if b.task != "regression":
        classes = ", ".join(f"{st._plain(label)!s}: {int(row['count']):,} ({row['share']:.1%})"
                            for label, row in b.counts.iterrows())
        if b.is_imbalanced:
            what = (f"{b.positive_count:,} of {int(b.counts['count'].sum()):,} rows ({b.positive_share:.1%}) "
                    f"are {st._plain(b.positive_label)!s}" if b.task == "binary" and b.positive_count is not None
                    else f"the smallest class {st._plain(b.minority_label)!s} has {b.minority_share:.1%} of the rows")
            add("warning", "imbalance", f"The target {r.target} is {b.verdict}: {what}. "
                f"Use F1 / PR AUC rather than accuracy, and resampling or class weights.",
                r.target, verdict=b.verdict, minority_share=b.minority_share)
        else:
            add("info", "imbalance", f"The target {r.target} is {b.verdict} ({classes}).", r.target,
                verdict=b.verdict, minority_share=b.minority_share)
    for column, row in r.missing.iterrows():
        if row["missing"] > 0:
            severity = "warning" if row["missing_pct"] >= MISSING_WARNING_PCT else "info"
            add(severity, "missing", f"{column}: {int(row['missing']):,} missing values "
                f"({row['missing_pct']:.1f}% of the rows).", column, count=int(row["missing"]),
                pct=float(row["missing_pct"]))
    for column, row in r.outliers.iterrows():
        degenerate = row["iqr"] == 0
        continuous = row["distinct"] > CONTINUOUS_MIN_DISTINCT and not degenerate
        if continuous and row["iqr_pct"] >= OUTLIER_FLAG_PCT:
            add("warning", "outliers",
                f"{column}: {int(row['iqr_outliers']):,} outliers by the IQR rule ({row['iqr_pct']:.1f}%, "
                f"outside [{_num(row['lower_fence'])}, {_num(row['upper_fence'])}]) and "
                f"{int(row['z_outliers']):,} with |z| > 3 (range {_num(row['min'])} to {_num(row['max'])}).", column,
                iqr_outliers=int(row["iqr_outliers"]), z_outliers=int(row["z_outliers"]))
        elif row["z_outliers"] > 0:
            add("info", "outliers",
                f"{column}: {int(row['z_outliers']):,} values with |z| > 3 (range {_num(row['min'])} to "
                f"{_num(row['max'])}, mean {_num(row['mean'])}; {int(row['distinct']):,} distinct values"
                + ("; IQR is 0" if degenerate else "") + ").", column,
                iqr_outliers=int(row["iqr_outliers"]), z_outliers=int(row["z_outliers"]))
    for hint in r.leakage:
        topic = "identifier" if hint["reason"] == "identifier-like" else "leakage"
        add("warning", topic, hint["message"], hint["column"])
    for pair in r.redundant:
        add("info", "redundancy", f"{pair['a']} and {pair['b']} are almost redundant "
            f"(association {pair['value']:.2f}).", pair["a"], other=pair["b"])
    for column, kind in r.kinds.items():
        if kind == st.CONSTANT:
            add("info", "constant", f"{column} has a single value: it carries no information.", column)
    for report in r.bias:
        for group, row in report.table.iterrows():
            dpl, ci = row.get("DPL", float("nan")), row.get("CI", float("nan"))
            notes = []
            if not math.isnan(ci) and abs(ci) >= CI_FLAG:
                notes.append(f"under-represented (CI {ci:+.2f}, {int(row['n_d']):,} rows)" if ci > 0 else
                             f"over-represented (CI {ci:+.2f})")
            if not math.isnan(dpl) and abs(dpl) >= DPL_FLAG:
                notes.append(f"positive-label rate {row['q_d']:.1%} vs {row['q_a']:.1%} (DPL {dpl:+.2f})")
            if notes:
                add("warning", "bias", f"Facet {report.facet} = {group}: " + "; ".join(notes) + ".",
                    report.facet, group=str(group))
    order = {"warning": 0, "info": 1}
    return sorted(out, key=lambda f: order[f["severity"]])


def _num(x: float) -> str:
    if float(x).is_integer():
        return f"{int(x):,}"
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:,.2f}"


def _records(frame: pd.DataFrame, index_name: str) -> list[dict]:
    """Rows as dicts, each value keeping its column's type (ints stay ints)."""
    columns = [str(c) for c in frame.columns]
    return [{index_name: str(index), **dict(zip(columns, values))}
            for index, *values in frame.itertuples(index=True, name=None)]


def _jsonable(value: Any) -> Any:
    """Numpy/pandas scalars to Python ones, NaN/inf to None, recursively."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        f = float(value)
        return f if math.isfinite(f) else None
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, (pd.Timestamp, _dt.datetime, _dt.date)):
        return value.isoformat()
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return str(value)

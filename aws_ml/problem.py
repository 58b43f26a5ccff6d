"""Section 1, problem formulation: a problem spec, checked against the data.

>>> from aws_ml.problem import ProblemSpec
>>> from aws_ml import datasets
>>> spec = ProblemSpec(objective="Stop paying fraudulent claims",
...                    question="Is this claim fraudulent?", target="fraud", metric="accuracy")
>>> check = spec.check(datasets.load("fraud/claims"))
>>> check.problem_type, check.metric_ok, check.recommended_metric
('binary', False, 'f1')

The check answers the course note's three questions of section 1 (the objective, the data
available and whether it suffices, the answerable question) with figures from the data:
the inferred problem type against the declared one, rows per class, whether the success
metric fits (accuracy on a 3.3 % positive class does not), the scores of trivial baselines
that the model must beat, unlabelled rows (for a labelling job) and text columns (for
Comprehend).
"""
from __future__ import annotations

import html
import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

PROBLEM_TYPES = ("binary", "multiclass", "regression", "anomaly_detection")
CLASSIFICATION_METRICS = ("accuracy", "balanced_accuracy", "f1", "precision", "recall", "roc_auc",
                          "pr_auc", "log_loss")
REGRESSION_METRICS = ("rmse", "mae", "r2", "mape")
IMBALANCE = 0.2  # a minority share below this makes accuracy misleading


class ProblemSpecError(ValueError):
    """A problem spec that cannot be right, whatever the data (one clear message)."""


@dataclass
class ProblemSpec:
    """What the model is for, and how its success is measured.

    :param objective: the business objective, in words.
    :param question: the question the model answers, in words.
    :param target: the column the model predicts.
    :param problem_type: ``binary``, ``multiclass``, ``regression`` or ``anomaly_detection``;
        ``None`` infers it from the target.
    :param positive_class: the class of interest of a binary problem (default: the minority).
    :param metric: the success metric (``f1``, ``pr_auc``, ``roc_auc``, ``accuracy``, ...,
        ``rmse``, ``mae``, ``r2``, ``mape``).
    :param threshold: the score the model must reach on ``metric`` to be good enough.
    :param id_columns: columns that identify rows and must not be features.
    """

    objective: str
    question: str
    target: str
    problem_type: str | None = None
    positive_class: Any = None
    metric: str = "f1"
    threshold: float | None = None
    id_columns: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.problem_type is not None and self.problem_type not in PROBLEM_TYPES:
            raise ProblemSpecError(f"problem_type must be one of {list(PROBLEM_TYPES)}; got {self.problem_type!r}")
        if self.metric not in CLASSIFICATION_METRICS + REGRESSION_METRICS:
            raise ProblemSpecError(f"metric must be one of {list(CLASSIFICATION_METRICS + REGRESSION_METRICS)}; "
                                   f"got {self.metric!r}")
        if self.threshold is not None and not isinstance(self.threshold, (int, float)):
            raise ProblemSpecError(f"threshold must be a number; got {self.threshold!r}")

    @classmethod
    def from_dict(cls, data: dict, source: str = "problem spec") -> "ProblemSpec":
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ProblemSpecError(f"{source}: unknown key {unknown[0]!r} (expected: {', '.join(sorted(known))})")
        missing = [k for k in ("objective", "question", "target") if k not in data]
        if missing:
            raise ProblemSpecError(f"{source}: missing key {missing[0]!r}")
        return cls(**data)

    @classmethod
    def from_yaml(cls, path: str | Path) -> "ProblemSpec":
        import yaml

        data = yaml.safe_load(Path(path).read_text())
        if not isinstance(data, dict):
            raise ProblemSpecError(f"{path}: a problem spec is a mapping of keys to values")
        return cls.from_dict(data.get("problem", data), source=str(path))

    def check(self, data, session=None) -> "ProblemCheck":
        """Check the spec against ``data`` (a DataFrame, or an ``s3://`` CSV/Parquet URI
        read through ``session``)."""
        df = _load(data, session)
        return _check(self, df)


@dataclass
class ProblemCheck:
    """The spec checked against the data; :meth:`answers` holds section 1's answers."""

    spec: ProblemSpec
    rows: int
    columns: int
    problem_type: str
    declared_type_ok: bool
    class_counts: dict[str, int]
    minority_share: float | None
    metric_ok: bool
    recommended_metric: str | None
    metric_note: str
    baselines: dict[str, dict[str, float]]
    unlabelled_rows: int
    text_columns: list[str]
    feature_columns: list[str]
    problems: list[str]

    @property
    def ok(self) -> bool:
        return not self.problems

    def answers(self) -> list[dict[str, str]]:
        """Section 1's questions of the course note, answered with this data."""
        s = self.spec
        target_note = (f"{self.rows:,} rows and {len(self.feature_columns)} candidate features"
                       + (f"; {self.unlabelled_rows:,} rows have no label (→ a labelling job)" if self.unlabelled_rows else "")
                       + (f"; text columns {', '.join(self.text_columns)} (→ Comprehend)" if self.text_columns else ""))
        balance = ""
        if self.class_counts:
            parts = ", ".join(f"{k}: {v:,}" for k, v in self.class_counts.items())
            balance = f" Rows per class: {parts}."
        enough = "enough" if self.rows >= 1000 and (self.minority_share or 1) * self.rows >= 50 else "few"
        base = self.baselines.get("majority", {})
        base_note = ", ".join(f"{k} {v:.3f}" for k, v in base.items())
        return [
            {"question": "Quel est le problème métier exact que l'on cherche à résoudre ?",
             "en": "What exactly is the business problem?", "answer": s.objective},
            {"question": "Quelles données sont pertinentes ? Sont-elles suffisantes ?",
             "en": "Which data are relevant? Are they enough?",
             "answer": f"{target_note}.{balance} That is {enough} examples of the rarest class "
                       f"({(self.minority_share or 0) * self.rows:,.0f})." if self.class_counts else f"{target_note}."},
            {"question": "Comment traduire le problème métier en une question à laquelle un modèle peut répondre ?",
             "en": "How does the business problem become a question a model can answer?",
             "answer": f"{s.question} — a {self.problem_type.replace('_', ' ')} problem on '{s.target}', "
                       f"judged by {self.recommended_metric or s.metric}"
                       + (f" ≥ {s.threshold}" if s.threshold is not None else "")
                       + (f"; a trivial model already scores {base_note}" if base_note else "") + "."},
        ]

    def to_dict(self) -> dict:
        out = asdict(self)
        out["answers"] = self.answers()
        out["ok"] = self.ok
        return json.loads(json.dumps(out, default=str))

    def to_html(self, path: str | Path | None = None) -> str:
        """A self-contained HTML page in the frame of the other sections' reports
        (:mod:`aws_ml.html_page`: header, figure tiles, cards); written to ``path`` if given."""
        from .evaluation.dashboard import _CSS
        from .html_page import render_page

        esc = html.escape
        s = self.spec
        rows = "".join(f"<tr><th>{esc(a['en'])}<br><span class=\"small\">{esc(a['question'])}</span></th>"
                       f"<td style=\"white-space:normal\">{esc(a['answer'])}</td></tr>" for a in self.answers())
        findings = "".join(f'<li class="warn"><span class="badge warn">check</span>{esc(p)}</li>'
                           for p in self.problems) or '<li class="info">Every check passed.</li>'
        minority = f"{self.minority_share:.1%}" if self.minority_share is not None else "—"
        tiles = [("Rows", f"{self.rows:,}", f"{self.columns} columns"),
                 ("Problem type", esc(self.problem_type.replace("_", " ")),
                  "as declared" if self.declared_type_ok and s.problem_type else
                  ("inferred" if self.declared_type_ok else f"declared {esc(str(s.problem_type))}")),
                 ("Rarest class", minority, f"{len(self.class_counts)} classes" if self.class_counts else "—"),
                 ("Metric", esc(self.recommended_metric or s.metric),
                  f"instead of {esc(s.metric)}" if not self.metric_ok else "fits"),
                 ("Unlabelled rows", f"{self.unlabelled_rows:,}", "→ a labelling job" if self.unlabelled_rows else "")]
        tile_html = '<div class="tiles">' + "".join(
            f'<div class="tile"><div class="label">{a}</div><div class="value">{b}</div><div class="sub">{c}</div></div>'
            for a, b, c in tiles) + "</div>"
        counts = "".join(f'<tr><td>{esc(k)}</td><td class="num">{v:,}</td>'
                         f'<td class="num">{v / max(sum(self.class_counts.values()), 1):.1%}</td></tr>'
                         for k, v in self.class_counts.items())
        baselines = "".join(f"<tr><th>{esc(name)}</th><td>"
                            + ", ".join(f"{esc(k)} = {v:.4f}" for k, v in scores.items()) + "</td></tr>"
                            for name, scores in self.baselines.items())

        def card(title: str, note: str, content: str) -> str:
            note_html = f'<p class="note">{esc(note)}</p>' if note else ""
            return f'<section class="card"><h2>{esc(title)}</h2>{note_html}{content}</section>'

        body = [tile_html,
                card("Section 1's questions", "The course note's questions, answered with this data.",
                     f'<table class="data"><tbody>{rows}</tbody></table>'),
                card("Checks", self.metric_note if self.metric_ok else "", f'<ul class="findings">{findings}</ul>')]
        if counts:
            body.append(card("Rows per class", f"Target '{s.target}'.", '<table class="data"><thead><tr><th>class'
                             '</th><th>rows</th><th>share</th></tr></thead><tbody>' + counts + "</tbody></table>"))
        if baselines:
            body.append(card("Baselines to beat", "Trivial models scored on the labelled rows.",
                             f'<table class="data"><tbody>{baselines}</tbody></table>'))
        if self.text_columns:
            body.append(card("Text columns", "Free text: Amazon Comprehend can tell what it is about "
                             "(aws_ml.text_insight).", "<p>" + esc(", ".join(self.text_columns)) + "</p>"))
        page = render_page(title=f"Section 1 — problem formulation: {esc(s.target)}", subtitle=esc(s.objective),
                           body="\n".join(body), charts="[]", generator="aws_ml.problem",
                           footer="aws_ml section 1 · problem formulation", css=_CSS)
        if path is not None:
            Path(path).write_text(page, encoding="utf-8")
        return page


# -- the checks ------------------------------------------------------------------------
def _load(data, session):
    import pandas as pd

    if isinstance(data, pd.DataFrame):
        return data
    if isinstance(data, (str, Path)) and str(data).startswith("s3://"):
        import io

        if session is None:
            raise ProblemSpecError("reading an s3:// URI needs a session")
        bucket, _, key = str(data)[5:].partition("/")
        body = session.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
        return pd.read_parquet(io.BytesIO(body)) if key.endswith(".parquet") else pd.read_csv(io.BytesIO(body))
    return pd.read_csv(data)


def infer_problem_type(y) -> str:
    """binary / multiclass / regression, from the labelled values of the target."""
    import pandas as pd

    y = y.dropna()
    n = y.nunique()
    if n <= 2:
        return "binary"
    if pd.api.types.is_float_dtype(y) and not (y == y.round()).all():
        return "regression"
    if pd.api.types.is_numeric_dtype(y) and n > max(20, 0.05 * len(y)):
        return "regression"
    return "multiclass"


def detect_text_columns(df, exclude: set[str]) -> list[str]:
    """Free-text columns: strings with several words on average and many distinct values."""
    import pandas as pd

    out = []
    for col in df.columns:
        if col in exclude or not (df[col].dtype == object or pd.api.types.is_string_dtype(df[col])):
            continue
        s = df[col].dropna().astype(str)
        if len(s) and s.str.split().str.len().mean() >= 4 and s.nunique() > 0.5 * len(s):
            out.append(col)
    return out


def _check(spec: ProblemSpec, df) -> ProblemCheck:
    import numpy as np

    if spec.target not in df.columns:
        raise ProblemSpecError(f"target column {spec.target!r} is not in the data (columns: {', '.join(map(str, df.columns))})")
    problems: list[str] = []
    y_all = df[spec.target]
    unlabelled = int(y_all.isna().sum())
    y = y_all.dropna()
    if y.empty:
        # no label yet: section 2's labelling job produces them; trust the declared type
        if spec.problem_type is None:
            raise ProblemSpecError(f"no row has a value in the target column {spec.target!r} yet: declare "
                                   "problem_type (the labelling job will produce the labels)")
        metric_ok, recommended, note = _metric_fit(spec, spec.problem_type, None)
        text_cols = detect_text_columns(df, {spec.target, *spec.id_columns})
        features = [c for c in df.columns if c not in {spec.target, *spec.id_columns}]
        problems = [] if metric_ok else [note]
        problems.append(f"no row has '{spec.target}' yet: section 2's labelling job produces it")
        return ProblemCheck(spec, len(df), df.shape[1], spec.problem_type, True, {}, None, metric_ok, recommended,
                            note, {}, unlabelled, text_cols, features, problems)
    inferred = infer_problem_type(y)
    declared = spec.problem_type or inferred
    declared_ok = spec.problem_type is None or spec.problem_type == inferred or (
        spec.problem_type == "anomaly_detection" and inferred == "binary")
    if not declared_ok:
        problems.append(f"problem_type is declared {spec.problem_type!r} but the target looks {inferred!r}")
    counts: dict[str, int] = {}
    minority = None
    if declared in ("binary", "multiclass", "anomaly_detection"):
        vc = y.value_counts()
        counts = {str(k): int(v) for k, v in vc.items()}
        minority = float(vc.min() / vc.sum()) if len(vc) else None
    metric_ok, recommended, note = _metric_fit(spec, declared, minority)
    if not metric_ok:
        problems.append(note)
    text_cols = detect_text_columns(df, {spec.target, *spec.id_columns})
    features = [c for c in df.columns if c not in {spec.target, *spec.id_columns}]
    baselines = _baselines(y, declared, spec.positive_class, np)
    if unlabelled:
        problems.append(f"{unlabelled:,} rows have no '{spec.target}': label them (a Ground Truth labelling job) "
                        "or leave them out of training")
    return ProblemCheck(spec, len(df), df.shape[1], declared, declared_ok, counts, minority, metric_ok,
                        recommended, note, baselines, unlabelled, text_cols, features, problems)


def _metric_fit(spec: ProblemSpec, problem_type: str, minority: float | None) -> tuple[bool, str | None, str]:
    m = spec.metric
    if problem_type == "regression":
        if m in CLASSIFICATION_METRICS:
            return False, "rmse", f"{m} is a classification metric; the target is continuous: use rmse, mae or r2"
        return True, None, f"{m} fits a regression problem."
    if m in REGRESSION_METRICS:
        return False, "f1" if problem_type != "multiclass" else "balanced_accuracy", \
            f"{m} is a regression metric; the target is categorical"
    if m == "accuracy" and minority is not None and minority < IMBALANCE:
        better = "f1" if problem_type in ("binary", "anomaly_detection") else "balanced_accuracy"
        return False, better, (f"accuracy is misleading with a minority class of {minority:.1%}: always predicting "
                               f"the majority scores {1 - minority:.1%}. Use {better} (or pr_auc).")
    return True, None, f"{m} fits a {problem_type.replace('_', ' ')} problem" + (
        f" with a minority class of {minority:.1%}." if minority is not None else ".")


def _baselines(y, problem_type: str, positive, np) -> dict[str, dict[str, float]]:
    from sklearn import metrics
    from sklearn.dummy import DummyClassifier, DummyRegressor

    X = np.zeros((len(y), 1))
    if problem_type == "regression":
        out = {}
        for name, strategy in (("mean", "mean"), ("median", "median")):
            pred = DummyRegressor(strategy=strategy).fit(X, y).predict(X)
            out[name] = {"rmse": float(np.sqrt(metrics.mean_squared_error(y, pred))),
                         "mae": float(metrics.mean_absolute_error(y, pred)),
                         "r2": float(metrics.r2_score(y, pred))}
        return out
    labels = y.astype(str)
    counts = labels.value_counts()
    pos = str(positive) if positive is not None else str(counts.idxmin())
    out = {}
    for name, strategy in (("majority", "most_frequent"), ("stratified random", "stratified")):
        model = DummyClassifier(strategy=strategy, random_state=0).fit(X, labels)
        pred = model.predict(X)
        scores = {"accuracy": float(metrics.accuracy_score(labels, pred)),
                  "balanced_accuracy": float(metrics.balanced_accuracy_score(labels, pred))}
        if problem_type in ("binary", "anomaly_detection") and len(counts) == 2:
            scores["f1"] = float(metrics.f1_score(labels, pred, pos_label=pos, zero_division=0))
            proba = model.predict_proba(X)[:, list(model.classes_).index(pos)]
            truth = (labels == pos).astype(int)
            scores["roc_auc"] = float(metrics.roc_auc_score(truth, proba)) if truth.nunique() == 2 else 0.5
            scores["pr_auc"] = float(metrics.average_precision_score(truth, proba))
        else:
            scores["f1_macro"] = float(metrics.f1_score(labels, pred, average="macro", zero_division=0))
        out[name] = scores
    return out

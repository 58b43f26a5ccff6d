"""The candidate search of a local Autopilot (AutoML V2, tabular) job.

:func:`search` is the pure part: given a DataFrame, the target, the problem type and the
objective, it builds candidates — a preprocessing step (median imputation and scaling of
numeric columns, most-frequent imputation and one-hot encoding of categorical ones) and an
estimator from several families (linear/logistic regression, random forest, extra trees,
scikit-learn's histogram gradient boosting, XGBoost when installed) with sampled
hyperparameters — and scores each one by stratified k-fold cross-validation (k-fold for
regression), or on the validation channel when the job has one. Every candidate is refitted
on all the data and saved as a ``model.tar.gz`` the local hosting serves:
``model.joblib`` (the scikit-learn ``Pipeline``, the feature names and the classes) and
``code/inference.py`` (``model_fn`` / ``transform_fn`` answering as Autopilot's inference
containers do: CSV rows without header in, ``predicted_label`` — or the keys listed in
``SAGEMAKER_INFERENCE_OUTPUT``: ``probability``, ``probabilities``, ``labels`` — out).

:func:`run_job` is the detached process of ``CreateAutoMLJobV2``: it reads the input
channels through the S3 client, runs the search, writes artifacts to S3 and records
progress in the job's SQLite record (:class:`~.automl.AutoMLStore`).
"""
from __future__ import annotations

import hashlib
import io
import json
import math
import sys
import tarfile
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

CLASSIFICATION = ("BinaryClassification", "MulticlassClassification")
METRICS = {
    "BinaryClassification": ["F1", "Accuracy", "AUC", "BalancedAccuracy", "Precision", "Recall", "LogLoss"],
    "MulticlassClassification": ["Accuracy", "F1macro", "BalancedAccuracy", "PrecisionMacro",
                                 "RecallMacro", "LogLoss"],
    "Regression": ["MSE", "RMSE", "MAE", "R2"],
}
"""The metrics computed for each problem type (``LogLoss`` is reported, not an objective)."""

DEFAULT_OBJECTIVE = {"BinaryClassification": "F1", "MulticlassClassification": "Accuracy",
                     "Regression": "MSE"}
MINIMIZE = {"MSE", "RMSE", "MAE", "LogLoss"}
DEFAULT_MAX_CANDIDATES = 10
"""When ``CompletionCriteria.MaxCandidates`` is absent (AWS's default, 250, would run for long
on one machine)."""

CV_FOLDS = 3
MULTICLASS_MAX_LABELS = 100
INFERENCE_IMAGE = "683313688378.dkr.ecr.{region}.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"

INFERENCE_PY = '''"""Autopilot-style inference for a local AutoML candidate (written by aws_ml)."""
import csv
import io
import json
import os

import joblib
import numpy as np
import pandas as pd


def model_fn(model_dir):
    return joblib.load(os.path.join(model_dir, "model.joblib"))


def _frame(body, content_type, features, numeric):
    ctype = (content_type or "text/csv").split(";")[0].strip().lower()
    text = body.decode("utf-8") if isinstance(body, (bytes, bytearray)) else str(body)
    if ctype == "application/json":
        obj = json.loads(text)
        rows = obj.get("instances", obj) if isinstance(obj, dict) else obj
        rows = [r.get("features", r) if isinstance(r, dict) else r for r in rows]
        if rows and not isinstance(rows[0], (list, tuple)):
            rows = [rows]
    elif ctype == "text/csv":
        rows = [r for r in csv.reader(io.StringIO(text)) if r]
    else:
        raise ValueError(f"Content type {content_type} is not supported: use text/csv or application/json")
    for i, r in enumerate(rows):
        if len(r) != len(features):
            raise ValueError(f"Row {i + 1} has {len(r)} values; the model expects {len(features)} "
                             f"columns (the training data's, less the target): {features}")
    data = pd.DataFrame([list(r) for r in rows], columns=features)
    for col in features:
        if col in numeric:
            data[col] = pd.to_numeric(data[col].replace("", np.nan), errors="coerce")
        else:
            data[col] = data[col].astype(object).where(data[col] != "", np.nan)
    return data


def transform_fn(model, body, content_type, accept):
    # a row holds every column of the training data but the target, in order
    data = _frame(body, content_type, model["columns"], set(model["numeric"]))[model["features"]]
    pipeline = model["pipeline"]
    keys = [k.strip() for k in os.environ.get("SAGEMAKER_INFERENCE_OUTPUT", "predicted_label").split(",")
            if k.strip()]
    labels = pipeline.predict(data)
    if model["classes"] is not None:  # the pipeline predicts 0..k-1: answer the original labels
        labels = np.asarray(model["classes"], dtype=object)[np.asarray(labels).astype(int)]
    probas = None
    if model["classes"] is not None and hasattr(pipeline, "predict_proba"):
        probas = pipeline.predict_proba(data)
    rows = []
    for i, label in enumerate(labels):
        row = {}
        for key in keys:
            if key == "predicted_label":
                row[key] = label.item() if hasattr(label, "item") else label
            elif key == "probability" and probas is not None:
                row[key] = float(probas[i].max())
            elif key == "probabilities" and probas is not None:
                row[key] = [float(p) for p in probas[i]]
            elif key == "labels" and model["classes"] is not None:
                row[key] = list(model["classes"])
        rows.append(row)
    atype = (accept or "text/csv").split(";")[0].strip().lower()
    if atype == "application/json":
        return json.dumps({"predictions": rows}), "application/json"
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\\n")
    for row in rows:
        writer.writerow([json.dumps(v) if isinstance(v, list) else v for v in row.values()])
    return out.getvalue(), "text/csv"
'''


class AutoMLError(Exception):
    """The job fails with this reason (AWS's ``ClientError: ...`` wording)."""


# -- data ----------------------------------------------------------------------------------
def infer_problem_type(y) -> str:
    """BinaryClassification, MulticlassClassification or Regression, from the target column."""
    import pandas as pd

    values = y.dropna()
    n_unique = values.nunique()
    if n_unique < 2:
        raise AutoMLError(f"ClientError: the target column has {n_unique} distinct value(s); "
                          f"at least 2 are needed")
    if n_unique == 2:
        return "BinaryClassification"
    numeric = pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
    if not numeric:
        return "MulticlassClassification"
    integral = bool((values == values.round()).all())
    if integral and n_unique <= min(MULTICLASS_MAX_LABELS, max(3, len(values) // 20)):
        return "MulticlassClassification"
    return "Regression"


TEXT_MIN_WORDS = 3.0
"""A string column whose values hold this many words on average is text (Autopilot's
text feature type), not a category."""


def is_text(s) -> bool:
    """A column of free text: strings of several words (sentences, reviews, notes)."""
    import pandas as pd

    if pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s):
        return False
    values = s.dropna().astype(str)
    return len(values) > 0 and float(values.str.split().str.len().mean()) >= TEXT_MIN_WORDS


def feature_columns(frame, target: str) -> tuple[list[str], list[str], list[str], list[str]]:
    """``(features, numeric, categorical, text)``: ID-like columns (all distinct, not float,
    not text) dropped."""
    import pandas as pd

    features, numeric, categorical, text = [], [], [], []
    n = len(frame)
    for col in frame.columns:
        if col == target:
            continue
        s = frame[col]
        if s.isna().all():
            continue
        if is_text(s):
            features.append(col)
            text.append(col)
            continue
        is_num = pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s)
        if n > 20 and s.nunique(dropna=False) == n and not pd.api.types.is_float_dtype(s):
            continue  # an identifier: predicts nothing, one-hot encodes to a column per row
        features.append(col)
        (numeric if is_num else categorical).append(col)
    if not features:
        raise AutoMLError("ClientError: the dataset has no usable feature column besides the target")
    return features, numeric, categorical, text


def positive_label(classes: list) -> Any:
    """The positive class of a binary problem: 1/True when the labels are 0/1, else the rarer."""
    as_set = {str(c).lower() for c in classes}
    if as_set in ({"0", "1"}, {"false", "true"}, {"0.0", "1.0"}):
        return next(c for c in classes if str(c).lower() in ("1", "true", "1.0"))
    return None


# -- candidates ----------------------------------------------------------------------------
@dataclass
class CandidateSpec:
    """One point of the search: an estimator family and its hyperparameters."""

    family: str
    params: dict[str, Any]


def families(problem_type: str) -> list[str]:
    import importlib.util

    out = ["linear", "random_forest", "hist_gradient_boosting", "extra_trees"]
    if importlib.util.find_spec("xgboost") is not None:
        out.insert(2, "xgboost")
    return out


def sample_params(family: str, problem_type: str, rng, first: bool) -> dict[str, Any]:
    """The default hyperparameters of a family (``first``), else a random draw."""
    cls = problem_type in CLASSIFICATION
    if family == "linear":
        if not cls:
            return {"alpha": 1.0 if first else float(10 ** rng.uniform(-3, 2))}
        return {"C": 1.0 if first else float(10 ** rng.uniform(-3, 2)), "class_weight": "balanced"}
    if family in ("random_forest", "extra_trees"):
        p = {"n_estimators": 40 if first else int(rng.integers(20, 80)),
             "max_depth": 12 if first else int(rng.integers(3, 16)),
             "min_samples_leaf": 3 if first else int(rng.integers(1, 20)),
             "max_features": "sqrt" if first else float(rng.uniform(0.2, 0.9))}
        if cls:
            p["class_weight"] = "balanced_subsample"
        return p
    if family == "hist_gradient_boosting":
        p = {"learning_rate": 0.1 if first else float(10 ** rng.uniform(-2, -0.5)),
             "max_leaf_nodes": 31 if first else int(rng.integers(8, 64)),
             "max_iter": 100 if first else int(rng.integers(50, 200)),
             "l2_regularization": 0.0 if first else float(10 ** rng.uniform(-4, 1))}
        if cls:
            p["class_weight"] = "balanced"
        return p
    if family == "xgboost":
        return {"n_estimators": 100 if first else int(rng.integers(50, 200)),
                "max_depth": 4 if first else int(rng.integers(2, 9)),
                "learning_rate": 0.1 if first else float(10 ** rng.uniform(-2, -0.5)),
                "subsample": 1.0 if first else float(rng.uniform(0.6, 1.0)),
                "colsample_bytree": 1.0 if first else float(rng.uniform(0.5, 1.0))}
    raise ValueError(f"unknown family {family!r}")


def plan(problem_type: str, max_candidates: int, seed: int = 0) -> list[CandidateSpec]:
    """The candidates to try, in order: each family's defaults first, then random draws."""
    import numpy as np

    rng = np.random.default_rng(seed)
    fams = families(problem_type)
    out = []
    for i in range(max_candidates):
        fam = fams[i % len(fams)]
        out.append(CandidateSpec(fam, sample_params(fam, problem_type, rng, first=i < len(fams))))
    return out


def build_pipeline(spec: CandidateSpec, problem_type: str, numeric: list[str], categorical: list[str],
                   y=None, text: list[str] = ()):
    """The scikit-learn ``Pipeline`` (preprocessing + estimator) of a candidate. Text
    columns become TF-IDF of words and word pairs (sparse for the linear models, 300 terms
    at most for the trees)."""
    import numpy as np
    from sklearn.compose import ColumnTransformer
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

    cls = problem_type in CLASSIFICATION
    steps = []
    if numeric:
        steps.append(("numeric", Pipeline([("impute", SimpleImputer(strategy="median")),
                                           ("scale", StandardScaler())]), numeric))
    if categorical:
        steps.append(("categorical", Pipeline([
            ("impute", SimpleImputer(strategy="most_frequent")),
            ("onehot", OneHotEncoder(handle_unknown="infrequent_if_exist", min_frequency=5,
                                     sparse_output=False))]), categorical))
    for col in text:
        steps.append((f"text_{col}", Pipeline([
            ("impute", SimpleImputer(strategy="constant", fill_value="")),
            ("flatten", FunctionTransformer(np.ravel)),
            ("tfidf", TfidfVectorizer(sublinear_tf=True, ngram_range=(1, 2), min_df=2,
                                      max_features=None if spec.family == "linear" else 300))]), [col]))
    # HistGradientBoosting takes dense input only
    pre = ColumnTransformer(steps, remainder="drop",
                            sparse_threshold=0.0 if spec.family == "hist_gradient_boosting" else 0.3)
    p = dict(spec.params)
    if spec.family == "linear":
        from sklearn.linear_model import LogisticRegression, Ridge
        est = LogisticRegression(max_iter=500, **p) if cls else Ridge(**p)
    elif spec.family == "random_forest":
        from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
        if not cls:
            p.pop("class_weight", None)
        est = (RandomForestClassifier if cls else RandomForestRegressor)(random_state=0, n_jobs=1, **p)
    elif spec.family == "extra_trees":
        from sklearn.ensemble import ExtraTreesClassifier, ExtraTreesRegressor
        est = (ExtraTreesClassifier if cls else ExtraTreesRegressor)(random_state=0, n_jobs=1, **p)
    elif spec.family == "hist_gradient_boosting":
        from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
        est = (HistGradientBoostingClassifier if cls else HistGradientBoostingRegressor)(random_state=0, **p)
    elif spec.family == "xgboost":
        import xgboost as xgb
        if problem_type == "BinaryClassification" and y is not None:
            positives = float((y == 1).sum())
            p["scale_pos_weight"] = max(1.0, (len(y) - positives) / max(positives, 1.0))
        est = (xgb.XGBClassifier if cls else xgb.XGBRegressor)(
            random_state=0, n_jobs=1, tree_method="hist", verbosity=0, **p)
    else:
        raise ValueError(f"unknown family {spec.family!r}")
    return Pipeline([("preprocess", pre), ("model", est)])


def score(problem_type: str, y_true, y_pred, proba=None) -> dict[str, float]:
    """Every metric of the problem type (``y`` already encoded as 0..k-1 for classification)."""
    from sklearn import metrics as m

    out: dict[str, float] = {}
    if problem_type == "Regression":
        mse = m.mean_squared_error(y_true, y_pred)
        out.update(MSE=mse, RMSE=math.sqrt(mse), MAE=m.mean_absolute_error(y_true, y_pred),
                   R2=m.r2_score(y_true, y_pred))
    elif problem_type == "BinaryClassification":
        out.update(F1=m.f1_score(y_true, y_pred, zero_division=0),
                   Accuracy=m.accuracy_score(y_true, y_pred),
                   BalancedAccuracy=m.balanced_accuracy_score(y_true, y_pred),
                   Precision=m.precision_score(y_true, y_pred, zero_division=0),
                   Recall=m.recall_score(y_true, y_pred, zero_division=0))
        if proba is not None:
            proba = proba / proba.sum(axis=1, keepdims=True)  # float32 models sum to 1 ± 1e-7
            out["AUC"] = m.roc_auc_score(y_true, proba[:, 1])
            out["LogLoss"] = m.log_loss(y_true, proba, labels=[0, 1])
    else:
        out.update(Accuracy=m.accuracy_score(y_true, y_pred),
                   F1macro=m.f1_score(y_true, y_pred, average="macro", zero_division=0),
                   BalancedAccuracy=m.balanced_accuracy_score(y_true, y_pred),
                   PrecisionMacro=m.precision_score(y_true, y_pred, average="macro", zero_division=0),
                   RecallMacro=m.recall_score(y_true, y_pred, average="macro", zero_division=0))
        if proba is not None:
            proba = proba / proba.sum(axis=1, keepdims=True)
            out["LogLoss"] = m.log_loss(y_true, proba, labels=list(range(proba.shape[1])))
    return {k: float(v) for k, v in out.items()}


@dataclass
class Dataset:
    """A job's training data, ready for the search."""

    x: Any
    y: Any                      # encoded (0..k-1) for classification
    features: list[str]
    numeric: list[str]
    categorical: list[str]
    problem_type: str
    classes: list | None        # original labels, in encoded order
    x_val: Any = None
    y_val: Any = None
    columns: list[str] = field(default_factory=list)          # every column but the target
    numeric_columns: list[str] = field(default_factory=list)  # the numeric ones among them
    text: list[str] = field(default_factory=list)             # the free-text features


def prepare(frame, target: str, problem_type: str | None, validation=None) -> Dataset:
    """Split features and target, infer the problem type, encode the labels."""
    import numpy as np
    import pandas as pd

    if target not in frame.columns:
        raise AutoMLError(f"ClientError: the target attribute {target!r} is not a column of the "
                          f"dataset (columns: {list(frame.columns)[:20]})")
    frame = frame[frame[target].notna()].reset_index(drop=True)
    if len(frame) < 10:
        raise AutoMLError(f"ClientError: the dataset has {len(frame)} labelled rows; at least 10 "
                          f"are needed")
    problem_type = problem_type or infer_problem_type(frame[target])
    features, numeric, categorical, text = feature_columns(frame, target)
    y_raw = frame[target]
    classes = None
    if problem_type in CLASSIFICATION:
        classes = sorted(y_raw.unique().tolist(), key=lambda v: (str(type(v)), v))
        if problem_type == "BinaryClassification":
            if len(classes) != 2:
                raise AutoMLError(f"ClientError: BinaryClassification needs 2 target values; the "
                                  f"target has {len(classes)}")
            pos = positive_label(classes)
            if pos is None:  # the rarer label is the positive class
                counts = y_raw.value_counts()
                pos = counts.idxmin()
            classes = [c for c in classes if c != pos] + [pos]
        index = {c: i for i, c in enumerate(classes)}
        y = y_raw.map(index).to_numpy(dtype=np.int64)
    else:
        y = y_raw.astype(float).to_numpy()
    x = frame[features].copy()
    for col in categorical:
        x[col] = x[col].astype(object)
    columns = [c for c in frame.columns if c != target]
    numeric_columns = [c for c in columns if pd.api.types.is_numeric_dtype(frame[c])
                       and not pd.api.types.is_bool_dtype(frame[c])]
    data = Dataset(x, y, features, numeric, categorical, problem_type, classes,
                   columns=columns, numeric_columns=numeric_columns, text=text)
    if validation is not None:
        validation = validation[validation[target].notna()]
        data.x_val = validation[features].copy()
        for col in categorical:
            data.x_val[col] = data.x_val[col].astype(object)
        if classes is not None:
            unknown = set(validation[target].unique()) - set(classes)
            if unknown:
                raise AutoMLError(f"ClientError: the validation channel has target values absent "
                                  f"from the training channel: {sorted(map(str, unknown))[:5]}")
            index = {c: i for i, c in enumerate(classes)}
            data.y_val = validation[target].map(index).to_numpy(dtype=np.int64)
        else:
            data.y_val = validation[target].astype(float).to_numpy()
    return data


def evaluate(spec: CandidateSpec, data: Dataset, seed: int = 0) -> dict[str, float]:
    """Out-of-fold (or validation-channel) metrics of a candidate."""
    import numpy as np
    from sklearn.model_selection import KFold, StratifiedKFold

    cls = data.problem_type in CLASSIFICATION
    if data.x_val is not None:
        model = build_pipeline(spec, data.problem_type, data.numeric, data.categorical, data.y, data.text)
        model.fit(data.x, data.y)
        pred = model.predict(data.x_val)
        proba = model.predict_proba(data.x_val) if cls else None
        return score(data.problem_type, data.y_val, pred, proba)
    n_classes = len(data.classes) if cls else 0
    folds = StratifiedKFold(CV_FOLDS, shuffle=True, random_state=seed) if cls else \
        KFold(CV_FOLDS, shuffle=True, random_state=seed)
    pred = np.zeros(len(data.y), dtype=data.y.dtype)
    proba = np.zeros((len(data.y), n_classes)) if cls else None
    for train, test in folds.split(data.x, data.y):
        model = build_pipeline(spec, data.problem_type, data.numeric, data.categorical, data.y[train], data.text)
        model.fit(data.x.iloc[train], data.y[train])
        pred[test] = model.predict(data.x.iloc[test])
        if cls:
            p = model.predict_proba(data.x.iloc[test])
            seen = model.classes_ if hasattr(model, "classes_") else np.arange(p.shape[1])
            proba[np.ix_(test, np.asarray(seen, dtype=int))] = p
    return score(data.problem_type, data.y, pred, proba)


def fit_final(spec: CandidateSpec, data: Dataset):
    """The candidate refitted on all the data (training plus validation channel)."""
    import numpy as np
    import pandas as pd

    x, y = data.x, data.y
    if data.x_val is not None:
        x = pd.concat([x, data.x_val], ignore_index=True)
        y = np.concatenate([y, data.y_val])
    model = build_pipeline(spec, data.problem_type, data.numeric, data.categorical, y, data.text)
    model.fit(x, y)
    return model


def model_archive(model, data: Dataset) -> bytes:
    """``model.tar.gz``: ``model.joblib`` and ``code/inference.py``."""
    import joblib

    payload = {"pipeline": model, "columns": data.columns, "features": data.features,
               "numeric": data.numeric_columns,
               "classes": data.classes, "problem_type": data.problem_type}
    raw = io.BytesIO()
    joblib.dump(payload, raw)
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, blob in (("model.joblib", raw.getvalue()), ("code/inference.py", INFERENCE_PY.encode())):
            info = tarfile.TarInfo(name)
            info.size = len(blob)
            info.mtime = int(time.time())
            tar.addfile(info, io.BytesIO(blob))
    return buf.getvalue()


def candidate_name(job: str, seq: int, spec: CandidateSpec) -> str:
    digest = hashlib.sha1(json.dumps([job, seq, spec.family, spec.params], sort_keys=True,
                                     default=str).encode()).hexdigest()[:8]
    return f"{job[:40]}-{spec.family.replace('_', '-')[:10]}-{seq:03d}-{digest}"


@dataclass
class CandidateResult:
    """A scored candidate, its metrics and its model archive."""

    seq: int
    name: str
    spec: CandidateSpec
    metrics: dict[str, float] = field(default_factory=dict)
    archive: bytes | None = None
    failure: str | None = None
    start: float = 0.0
    end: float = 0.0


def search(data: Dataset, job: str, max_candidates: int, *, seed: int = 0,
           deadline: float | None = None, should_stop: Callable[[], bool] = lambda: False,
           on_start: Callable[[CandidateResult], None] = lambda c: None,
           on_result: Callable[[CandidateResult], None] = lambda c: None) -> tuple[list[CandidateResult], str]:
    """Score the planned candidates; ``(results, why it ended)`` — ``Completed``,
    ``MaxAutoMLJobRuntimeReached`` or ``Stopped``."""
    results = []
    for seq, spec in enumerate(plan(data.problem_type, max_candidates, seed), start=1):
        if should_stop():
            return results, "Stopped"
        if deadline is not None and time.time() >= deadline:
            return results, "MaxAutoMLJobRuntimeReached"
        cand = CandidateResult(seq, candidate_name(job, seq, spec), spec, start=time.time())
        on_start(cand)
        try:
            cand.metrics = evaluate(spec, data, seed)
            cand.archive = model_archive(fit_final(spec, data), data)
        except Exception as exc:  # a candidate that fails is reported, the search goes on
            cand.failure = f"AlgorithmError: {type(exc).__name__}: {exc}"[:1024]
            traceback.print_exc()
        cand.end = time.time()
        results.append(cand)
        on_result(cand)
    return results, "Completed"


# -- reading the input ---------------------------------------------------------------------
def read_channel(s3, channel: dict):
    """A DataFrame of every object under the channel's S3 prefix (CSV with header, or Parquet)."""
    import pandas as pd

    source = channel["DataSource"]["S3DataSource"]
    if source["S3DataType"] != "S3Prefix":
        raise AutoMLError(f"ClientError: S3DataType {source['S3DataType']} is not read by the local "
                          f"backend (use S3Prefix)")
    uri = source["S3Uri"]
    bucket, _, prefix = uri[5:].partition("/")
    keys = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        keys += [o["Key"] for o in page.get("Contents", []) if not o["Key"].endswith("/")]
    if not keys:
        raise AutoMLError(f"ClientError: No data found at {uri}: the S3 prefix holds no object")
    ctype = (channel.get("ContentType") or "text/csv;header=present").lower()
    parquet = "parquet" in ctype
    gzip = channel.get("CompressionType") == "Gzip"
    frames = []
    for key in sorted(keys):
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        if parquet:
            frames.append(pd.read_parquet(io.BytesIO(body)))
        else:
            frames.append(pd.read_csv(io.BytesIO(body), compression="gzip" if gzip else None))
    frame = pd.concat(frames, ignore_index=True)
    if frame.empty:
        raise AutoMLError(f"ClientError: the data at {uri} has no rows")
    return frame


def output_prefix(output_path: str, job: str) -> tuple[str, str]:
    """Bucket and key prefix of the job's outputs (``<S3OutputPath>/<job>/``)."""
    bucket, _, key = output_path[5:].partition("/")
    key = key.rstrip("/")
    return bucket, f"{key}/{job}/".lstrip("/")


def candidate_model_key(prefix: str, candidate: str) -> str:
    """Where a candidate's ``model.tar.gz`` goes under the job's output prefix."""
    return f"{prefix}tuning/{candidate}/output/model.tar.gz"


def inference_container(region: str, model_data_url: str) -> dict:
    """A candidate's ``InferenceContainers`` entry: the scikit-learn image serving the
    archive's ``code/inference.py`` (``predicted_label`` by default)."""
    return {"Image": INFERENCE_IMAGE.format(region=region), "ModelDataUrl": model_data_url,
            "Environment": {"SAGEMAKER_PROGRAM": "inference.py",
                            "SAGEMAKER_SUBMIT_DIRECTORY": "/opt/ml/model/code",
                            "SAGEMAKER_INFERENCE_OUTPUT": "predicted_label"}}


def runtime_deadline(criteria: dict, start: float) -> float | None:
    """When ``MaxAutoMLJobRuntimeInSeconds`` of the completion criteria is up (``None``: never)."""
    seconds = criteria.get("MaxAutoMLJobRuntimeInSeconds")
    return start + seconds if seconds else None


# -- the job process -------------------------------------------------------------------------
def run_job(home: Path, region: str, account: str, name: str) -> int:
    from aws_ml import Session

    from .automl import AutoMLStore

    store = AutoMLStore(home)
    store.set_process(account, region, name)
    rec = store.get(account, region, name)
    req = rec["request"]
    key = (account, region, name)
    try:
        session = Session.for_job_process(home, region)     # the creator's routes (AWS_ML_JOB_SESSION)
        s3 = session.client("s3")
        tabular = req["AutoMLProblemTypeConfig"]["TabularJobConfig"]
        store.update(*key, secondary="AnalyzingData")
        training = [c for c in req["AutoMLJobInputDataConfig"] if c.get("ChannelType", "training") == "training"]
        validation = [c for c in req["AutoMLJobInputDataConfig"] if c.get("ChannelType") == "validation"]
        frame = read_channel(s3, training[0])
        val = read_channel(s3, validation[0]) if validation else None
        data = prepare(frame, tabular["TargetAttributeName"], tabular.get("ProblemType"), val)
        metric = (req.get("AutoMLJobObjective") or {}).get("MetricName") or DEFAULT_OBJECTIVE[data.problem_type]
        if metric not in METRICS[data.problem_type]:
            raise AutoMLError(f"ClientError: the objective metric {metric} does not apply to the "
                              f"{data.problem_type} problem type (use one of "
                              f"{[m for m in METRICS[data.problem_type] if m != 'LogLoss']})")
        criteria = dict(tabular.get("CompletionCriteria") or {})
        max_candidates = int(criteria.get("MaxCandidates") or DEFAULT_MAX_CANDIDATES)
        criteria["MaxCandidates"] = max_candidates
        deadline = runtime_deadline(criteria, rec["creation_time"])
        store.update(*key, secondary="FeatureEngineering",
                     resolved={"ProblemType": data.problem_type, "MetricName": metric,
                               "CompletionCriteria": criteria})
        bucket, prefix = output_prefix(req["OutputDataConfig"]["S3OutputPath"], name)

        def on_start(cand: CandidateResult) -> None:
            store.update(*key, secondary="ModelTuning")
            store.put_candidate(*key, cand.seq, name=cand.name, status="InProgress",
                                family=cand.spec.family, params=cand.spec.params,
                                creation_time=cand.start)

        def on_result(cand: CandidateResult) -> None:
            fields: dict[str, Any] = {"end_time": cand.end}
            if cand.failure:
                fields.update(status="Failed", failure_reason=cand.failure)
            else:
                model_key = candidate_model_key(prefix, cand.name)
                s3.put_object(Bucket=bucket, Key=model_key, Body=cand.archive)
                fields.update(status="Completed", metrics=cand.metrics,
                              objective=cand.metrics.get(metric),
                              containers=[inference_container(region, f"s3://{bucket}/{model_key}")])
            store.put_candidate(*key, cand.seq, **fields)

        results, why = search(data, name, max_candidates, seed=0, deadline=deadline,
                              should_stop=lambda: store.stop_requested(*key),
                              on_start=on_start, on_result=on_result)
        ok = [c for c in results if not c.failure]
        if not results and why == "MaxAutoMLJobRuntimeReached":
            raise AutoMLError(f"ClientError: MaxAutoMLJobRuntimeInSeconds "
                              f"({criteria['MaxAutoMLJobRuntimeInSeconds']}) was reached before any "
                              f"candidate was trained")
        if not ok and why != "Stopped":
            raise AutoMLError("ClientError: every candidate failed; first failure: "
                              + (results[0].failure if results else "no candidate ran"))
        board = sorted(ok, key=lambda c: c.metrics[metric], reverse=metric not in MINIMIZE)
        s3.put_object(Bucket=bucket, Key=f"{prefix}leaderboard.json", Body=json.dumps(
            [{"CandidateName": c.name, "family": c.spec.family, "params": c.spec.params,
              "metrics": c.metrics} for c in board], default=str, indent=1).encode())
        if why == "Stopped":
            store.update(*key, status="Stopped", secondary="Stopped", end_time=time.time())
        else:
            secondary = "MaxCandidatesReached" if why == "Completed" and tabular.get(
                "CompletionCriteria", {}).get("MaxCandidates") else why
            store.update(*key, status="Completed", secondary=secondary, end_time=time.time())
    except AutoMLError as exc:
        store.update(*key, status="Failed", secondary="Failed", failure_reason=str(exc)[:1024],
                     end_time=time.time())
        return 1
    except BaseException as exc:
        traceback.print_exc()
        store.update(*key, status="Failed", secondary="Failed", end_time=time.time(),
                     failure_reason=f"InternalServerError: {type(exc).__name__}: {exc}"[:1024])
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    home, region, account, name = argv if argv is not None else sys.argv[1:]
    return run_job(Path(home), region, account, name)


if __name__ == "__main__":
    sys.exit(main())

"""Section 8's diagnosis: why a model misses its target, and which corrective action fits.

The course note closes the pipeline with three questions: why does the model fall short,
which corrective action (more data, another algorithm, other hyperparameters), and iterate
until the results are good enough. :func:`diagnose` answers the first from evidence:

* **learning curves** (:func:`learning_curve`): the model retrained on growing shares of
  the training set, scored on the training rows and on the validation set. A high
  training score far above the validation score is *over-fitting*; both scores below the
  target is *under-fitting*; a validation score still rising at the full training set
  means *more labelled data would help*;
* **class imbalance**: the minority class's share of the labelled rows;
* **too few labels**: unlabelled rows wait in the labelling pool while the curve rises;
* **drift**: violations of the monitoring baseline by the captured traffic (section 7).

Each cause suggests actions in order; :func:`next_action` picks the first one the pipeline
allows and has not tried yet.

>>> d = diagnose([{"rows": 100, "train": 0.99, "validation": 0.6},
...               {"rows": 200, "train": 0.98, "validation": 0.7}], "f1", 0.8,
...              minority_share=0.5, pool_rows=500)
>>> [c["cause"] for c in d.causes], d.suggested
(['overfitting', 'too_few_labels'], ['relabel', 'tune', 'automl'])
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Sequence

LOWER_IS_BETTER = ("log_loss", "rmse", "mae", "mape")
GAP = 0.10
"""A training score this far above the validation score (as a share of the scale) is over-fitting."""
RISING = 0.01
"""The validation score gained at least this much over the last step of the curve: still rising."""
IMBALANCED = 0.10
"""A minority class below this share of the rows is an imbalance worth correcting."""


def higher_is_better(metric: str) -> bool:
    return metric not in LOWER_IS_BETTER


def meets(metric: str, value: float | None, threshold: float | None) -> bool:
    """Whether ``value`` of ``metric`` reaches ``threshold`` (no threshold: always)."""
    if threshold is None:
        return True
    if value is None:
        return False
    return value >= threshold if higher_is_better(metric) else value <= threshold


def better(metric: str, a: float | None, b: float | None) -> bool:
    """Whether ``a`` is strictly better than ``b``."""
    if a is None:
        return False
    if b is None:
        return True
    return a > b if higher_is_better(metric) else a < b


# -- scores ---------------------------------------------------------------------------------
def score(metric: str, y_true, y_score=None, y_pred=None, cutoff: float = 0.5) -> float:
    """``metric`` of predictions: binary scores (probability of the positive class, labels
    0/1), multiclass probabilities (one column per class) or regression values."""
    import numpy as np
    from sklearn import metrics as m

    y_true = np.asarray(y_true)
    if y_score is not None:
        y_score = np.asarray(y_score, dtype=float)
        if y_pred is None:
            y_pred = (y_score >= cutoff).astype(int) if y_score.ndim == 1 else y_score.argmax(axis=1)
    y_pred = np.asarray(y_pred)
    binary = y_score is not None and y_score.ndim == 1
    average = "binary" if binary else "macro"
    if metric == "accuracy":
        return float(m.accuracy_score(y_true, y_pred))
    if metric == "balanced_accuracy":
        return float(m.balanced_accuracy_score(y_true, y_pred))
    if metric in ("f1", "precision", "recall"):
        fn = {"f1": m.f1_score, "precision": m.precision_score, "recall": m.recall_score}[metric]
        return float(fn(y_true, y_pred, average=average, zero_division=0))
    if metric == "roc_auc":
        if len(np.unique(y_true)) < 2:
            return float("nan")
        return float(m.roc_auc_score(y_true, y_score, multi_class="ovr") if not binary
                     else m.roc_auc_score(y_true, y_score))
    if metric == "pr_auc":
        return float(m.average_precision_score(y_true, y_score)) if binary else float("nan")
    if metric == "log_loss":
        return float(m.log_loss(y_true, y_score, labels=None if not binary else [0, 1]))
    if metric == "rmse":
        return float(np.sqrt(m.mean_squared_error(y_true, y_pred)))
    if metric == "mae":
        return float(m.mean_absolute_error(y_true, y_pred))
    if metric == "r2":
        return float(m.r2_score(y_true, y_pred))
    if metric == "mape":
        return float(m.mean_absolute_percentage_error(y_true, y_pred))
    raise ValueError(f"unknown metric {metric!r}")


# -- XGBoost models as the built-in algorithm trains them ------------------------------------
NOT_PARAMS = ("num_round", "early_stopping_rounds", "csv_weights", "save_model_on_termination",
              "_tuning_objective_metric", "_kfold", "_num_cv_round")


def xgboost_params(hyperparameters: dict[str, Any]) -> tuple[dict[str, Any], int]:
    """The built-in algorithm's hyperparameters (strings, as SageMaker stores them) as
    ``xgboost.train`` parameters and a number of rounds."""
    params: dict[str, Any] = {}
    for k, v in hyperparameters.items():
        if k in NOT_PARAMS or k.startswith("sagemaker_"):
            continue
        if isinstance(v, str):
            try:
                v = int(v) if v.lstrip("-").isdigit() else float(v)
            except ValueError:
                pass                    # a string parameter (objective, eval_metric): kept as it is
        params[k] = v
    if isinstance(params.get("eval_metric"), str) and "," in params["eval_metric"]:
        params["eval_metric"] = params["eval_metric"].split(",")
    params.setdefault("nthread", 2)
    params["verbosity"] = 0
    return params, int(float(hyperparameters.get("num_round", 100)))


def fit_xgboost(X, y, hyperparameters: dict[str, Any]):
    import xgboost as xgb

    params, rounds = xgboost_params(hyperparameters)
    return xgb.train(params, xgb.DMatrix(X, label=y), num_boost_round=rounds)


def predict_xgboost(booster, X):
    import xgboost as xgb

    return booster.predict(xgb.DMatrix(X))


def model_file(session, model_data: str, name: str, what: str) -> bytes:
    """The bytes of the file ``name`` in the ``model.tar.gz`` at ``model_data`` (``s3://``)."""
    import io
    import tarfile
    from pathlib import Path

    bucket, _, key = model_data[5:].partition("/")
    body = session.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
    with tarfile.open(fileobj=io.BytesIO(body), mode="r:gz") as tar:
        member = next((m for m in tar.getmembers() if Path(m.name).name == name), None)
        if member is None:
            raise ValueError(f"{model_data} holds no {name} file (not {what})")
        return tar.extractfile(member).read()


def load_xgboost(session, model_data: str):
    """The booster in a built-in XGBoost ``model.tar.gz`` (native format, or pickled by the
    0.90 containers)."""
    import pickle

    import xgboost as xgb

    raw = model_file(session, model_data, "xgboost-model", "a built-in XGBoost model")
    booster = xgb.Booster()
    try:
        booster.load_model(bytearray(raw))       # UBJSON or JSON, as xgboost >= 1.0 saves it
    except xgb.core.XGBoostError:
        booster = pickle.loads(raw)   # noqa: S301 - the 0.90 containers pickled the booster
    return booster


# -- BlazingText models (fastText) as the built-in algorithm trains them -------------------------
LABEL_PREFIX = "__label__"
BLAZINGTEXT_AWS_DEFAULTS = {"epochs": 5, "learning_rate": 0.05, "min_count": 5, "vector_dim": 100,
                            "buckets": 2000000, "word_ngrams": 2}
"""AWS's defaults of the supervised hyperparameters a job may leave out."""


def split_line(line: str) -> tuple[int, str]:
    """``(class index, tokens)`` of a ``__label__<index> <tokens>`` line of section 4."""
    head, _, text = line.partition(" ")
    return int(float(head[len(LABEL_PREFIX):])), text


def blazingtext_params(hyperparameters: dict[str, Any]) -> dict[str, Any]:
    """A BlazingText job's hyperparameters (strings, as SageMaker stores them) as
    ``fasttext.train_supervised`` arguments (one thread and a fixed seed: repeatable)."""
    hp = {**BLAZINGTEXT_AWS_DEFAULTS, **{k: v for k, v in hyperparameters.items() if not k.startswith("_")}}
    return {"epoch": int(float(hp["epochs"])), "lr": float(hp["learning_rate"]),
            "minCount": int(float(hp["min_count"])), "dim": int(float(hp["vector_dim"])),
            "bucket": int(float(hp["buckets"])), "wordNgrams": int(float(hp["word_ngrams"])),
            "loss": "softmax", "thread": 1, "seed": 0, "verbose": 0}


def fit_blazingtext(lines: Sequence[str], hyperparameters: dict[str, Any]):
    """fastText trained here on ``__label__`` lines with a BlazingText job's hyperparameters."""
    import os
    import tempfile

    import fasttext

    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "train.txt")
        with open(path, "w", encoding="utf-8") as fh:
            fh.write("".join(line.rstrip("\n") + "\n" for line in lines))
        return fasttext.train_supervised(input=path, **blazingtext_params(hyperparameters))


def predict_blazingtext(model, texts: Sequence[str], classes: int):
    """Class probabilities, one column per class index (``__label__<i>`` → column ``i``);
    for two classes, the probability of class 1 (the positive class of section 4)."""
    labels, probs = model.predict([" ".join(str(t).split()) for t in texts], k=classes)
    return blazingtext_matrix([{"label": list(l), "prob": [float(x) for x in p]} for l, p in zip(labels, probs)],
                              classes)


def blazingtext_matrix(answers: Sequence[dict], classes: int):
    """BlazingText answers (``[{"label": ["__label__1", ...], "prob": [0.9, ...]}]``, the
    endpoint's JSON) as scores: one column per class index, or for two classes the
    probability of class 1."""
    import numpy as np

    out = np.zeros((len(answers), classes))
    for row, answer in enumerate(answers):
        for label, p in zip(answer["label"], answer["prob"]):
            index = int(float(str(label)[len(LABEL_PREFIX):]))
            if not 0 <= index < classes:
                raise ValueError(f"BlazingText answered {label!r}, not one of the {classes} classes of section 4")
            out[row, index] = float(p)
    return out[:, 1] if classes == 2 else out


def load_blazingtext(session, model_data: str):
    """The fastText model in a built-in BlazingText ``model.tar.gz`` (its ``model.bin``)."""
    import os
    import tempfile

    import fasttext

    raw = model_file(session, model_data, "model.bin", "a BlazingText supervised model")
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "model.bin")
        with open(path, "wb") as fh:
            fh.write(raw)
        return fasttext.load_model(path)


def blazingtext_learning_curve(train_lines: Sequence[str], valid_lines: Sequence[str],
                               hyperparameters: dict[str, Any], metric: str, classes: int,
                               shares: Sequence[float] = (0.2, 0.4, 0.6, 0.8, 1.0), seed: int = 0) -> list[dict]:
    """:func:`learning_curve` for BlazingText: fastText retrained here on growing shares of
    the training lines (the same shuffled order), scored on them and on the validation lines."""
    import numpy as np

    rng = np.random.default_rng(seed)
    order = rng.permutation(len(train_lines))
    train = [split_line(line) for line in train_lines]
    valid = [split_line(line) for line in valid_lines]
    y_valid = np.array([y for y, _ in valid])
    points = []
    for share in shares:
        n = max(int(round(share * len(order))), 10)
        idx = order[:n]
        y_part = np.array([train[i][0] for i in idx])
        if len(np.unique(y_part)) < 2:
            continue
        model = fit_blazingtext([train_lines[i] for i in idx], hyperparameters)
        p_train = predict_blazingtext(model, [train[i][1] for i in idx], classes)
        p_valid = predict_blazingtext(model, [t for _, t in valid], classes)
        points.append({"rows": int(n), "train": round(score(metric, y_part, y_score=p_train), 4),
                       "validation": round(score(metric, y_valid, y_score=p_valid), 4)})
    return points


# -- learning curves and the diagnosis -------------------------------------------------------
def learning_curve(X_train, y_train, X_valid, y_valid, hyperparameters: dict[str, Any], metric: str,
                   shares: Sequence[float] = (0.2, 0.4, 0.6, 0.8, 1.0), seed: int = 0) -> list[dict]:
    """The model retrained on growing shares of the training rows (the same shuffled
    order, so each set holds the previous one), scored on them and on the validation set."""
    import numpy as np

    rng = np.random.default_rng(seed)
    order = rng.permutation(len(y_train))
    y_train, y_valid = np.asarray(y_train), np.asarray(y_valid)
    X_train, X_valid = np.asarray(X_train, dtype=float), np.asarray(X_valid, dtype=float)
    regression = metric in ("rmse", "mae", "r2", "mape")
    points = []
    for share in shares:
        n = max(int(round(share * len(order))), 10)
        idx = order[:n]
        if not regression and len(np.unique(y_train[idx])) < 2:
            continue
        booster = fit_xgboost(X_train[idx], y_train[idx], hyperparameters)
        p_train, p_valid = predict_xgboost(booster, X_train[idx]), predict_xgboost(booster, X_valid)
        kw = (lambda p: {"y_pred": p}) if regression else (lambda p: {"y_score": p})
        points.append({"rows": int(n), "train": round(score(metric, y_train[idx], **kw(p_train)), 4),
                       "validation": round(score(metric, y_valid, **kw(p_valid)), 4)})
    return points


@dataclass
class Diagnosis:
    """Why the model falls short: causes with their evidence, and the actions they suggest."""

    causes: list[dict[str, str]] = field(default_factory=list)
    suggested: list[str] = field(default_factory=list)
    learning_curve: list[dict] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def summary(self) -> str:
        return "; ".join(c["evidence"] for c in self.causes) or "no cause found in the evidence"


def diagnose(curve: list[dict], metric: str, threshold: float | None, *, minority_share: float | None = None,
             pool_rows: int = 0, drift_violations: int = 0) -> Diagnosis:
    """The causes the evidence shows, most telling first, and the actions they suggest."""
    d = Diagnosis(learning_curve=list(curve))
    suggest: list[str] = []
    up = higher_is_better(metric)
    if curve:
        last = curve[-1]
        train, valid = last["train"], last["validation"]
        scale = max(abs(train), abs(valid), 1e-9) if metric in LOWER_IS_BETTER + ("r2",) else 1.0
        gap = (train - valid) if up else (valid - train)
        if gap / scale > GAP:
            d.causes.append({"cause": "overfitting", "evidence": (
                f"over-fitting: {metric} {train:.3f} on the training rows against {valid:.3f} on the "
                f"validation set (gap {gap:.3f})")})
            suggest += ["relabel", "tune"]
        elif threshold is not None and not meets(metric, train, threshold):
            d.causes.append({"cause": "underfitting", "evidence": (
                f"under-fitting: even on the training rows {metric} is {train:.3f}, short of the "
                f"target {threshold}")})
            suggest += ["automl", "tune"]
        if len(curve) >= 2:
            gain = (valid - curve[-2]["validation"]) if up else (curve[-2]["validation"] - valid)
            if gain >= RISING * (scale if metric in LOWER_IS_BETTER + ("r2",) else 1.0):
                cause = "too_few_labels" if pool_rows else "more_data"
                d.causes.append({"cause": cause, "evidence": (
                    f"the validation {metric} still rises with more rows (+{gain:.3f} from "
                    f"{curve[-2]['rows']:,} to {last['rows']:,} training rows)"
                    + (f"; {pool_rows:,} unlabelled items wait in the labelling pool" if pool_rows else ""))})
                if pool_rows:
                    suggest.insert(0, "relabel")
    if minority_share is not None and minority_share < IMBALANCED:
        d.causes.append({"cause": "imbalance", "evidence": (
            f"class imbalance: the minority class is {minority_share:.1%} of the labelled rows")})
        suggest += ["tune"]
    if drift_violations:
        d.causes.append({"cause": "drift", "evidence": (
            f"drift: the captured traffic violates the baseline on {drift_violations} feature(s)")})
        if pool_rows:
            suggest += ["relabel"]
    suggest += ["tune", "automl"]
    d.suggested = list(dict.fromkeys(suggest))
    return d


def next_action(diagnosis: Diagnosis, allowed: Sequence[str], tried: Sequence[str],
                pool_rows: int = 0, no_gain: Sequence[str] = ()) -> str | None:
    """The first suggested action that is allowed, not tried yet and possible: ``tune`` and
    ``automl`` run once each (a second search over the same space finds nothing new);
    ``relabel`` repeats while unlabelled items remain (each time a new batch) and its last
    batch improved the model (``no_gain``: the actions whose last try did not)."""
    for action in list(diagnosis.suggested) + list(allowed):
        if action not in allowed:
            continue
        if action == "relabel" and (pool_rows <= 0 or action in no_gain):
            continue
        if action in ("tune", "automl") and action in tried:
            continue
        return action
    return None

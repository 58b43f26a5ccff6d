"""Feature transformations as scikit-learn transformers, assembled into one ``Pipeline``.

Fit the pipeline once on the training set and apply the same fitted object at inference
(it pickles with the model): dates decomposed (day, month, year, day of week, weekend,
hour, and cyclical sin/cos), categories one-hot encoded, numbers imputed and scaled,
ratios and products of column pairs, then feature selection by mutual information or by
a model's importances.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.compose import ColumnTransformer
from sklearn.feature_selection import SelectFromModel, SelectKBest, mutual_info_classif, mutual_info_regression
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

_PERIODS = {"month": 12, "dow": 7, "hour": 24, "day": 31}


class DateParts(BaseEstimator, TransformerMixin):
    """Decompose datetime columns into ``<col>_year``, ``_month``, ``_day``, ``_dow``
    (Monday=0), ``_weekend`` (0/1), ``_hour`` and, with ``cyclical``, ``_<part>_sin`` and
    ``_<part>_cos`` for month, day of week, hour and day (so December sits next to
    January). Strings are parsed as ISO-8601; the output has no missing values where the
    input had none."""

    def __init__(self, cyclical: bool = True) -> None:
        self.cyclical = cyclical

    def fit(self, X, y=None):
        self.columns_ = list(pd.DataFrame(X).columns)
        self.feature_names_out_ = [n for c in self.columns_ for n in self._names(c)]
        return self

    def _names(self, col: str) -> list[str]:
        names = [f"{col}_{p}" for p in ("year", "month", "day", "dow", "weekend", "hour")]
        if self.cyclical:
            names += [f"{col}_{p}_{f}" for p in _PERIODS for f in ("sin", "cos")]
        return names

    def transform(self, X):
        X = pd.DataFrame(X, columns=self.columns_)
        out = {}
        for col in self.columns_:
            ts = pd.to_datetime(X[col], utc=True, format="ISO8601" if X[col].dtype == object or pd.api.types.is_string_dtype(X[col]) else None)
            parts = {"year": ts.dt.year, "month": ts.dt.month, "day": ts.dt.day,
                     "dow": ts.dt.day_of_week, "weekend": (ts.dt.day_of_week >= 5).astype("float64"),
                     "hour": ts.dt.hour}
            for p in ("year", "month", "day", "dow", "weekend", "hour"):
                out[f"{col}_{p}"] = parts[p].astype("float64").to_numpy()
            if self.cyclical:
                for p, period in _PERIODS.items():
                    angle = 2 * np.pi * parts[p].astype("float64").to_numpy() / period
                    out[f"{col}_{p}_sin"] = np.sin(angle)
                    out[f"{col}_{p}_cos"] = np.cos(angle)
        return pd.DataFrame(out, index=X.index)

    def get_feature_names_out(self, input_features=None):
        return np.asarray(self.feature_names_out_, dtype=object)


class PairFeatures(BaseEstimator, TransformerMixin):
    """Ratios ``a / b`` (``<a>_per_<b>``, NaN where ``b`` is 0) and products ``a * b``
    (``<a>_x_<b>``) of column pairs."""

    def __init__(self, ratios: list[tuple[str, str]] = (), products: list[tuple[str, str]] = ()) -> None:
        self.ratios = ratios
        self.products = products

    def fit(self, X, y=None):
        self.columns_ = list(pd.DataFrame(X).columns)
        self.feature_names_out_ = ([f"{a}_per_{b}" for a, b in self.ratios]
                                   + [f"{a}_x_{b}" for a, b in self.products])
        return self

    def transform(self, X):
        X = pd.DataFrame(X, columns=self.columns_).astype("float64")
        out = {}
        for a, b in self.ratios:
            out[f"{a}_per_{b}"] = (X[a] / X[b].replace(0, np.nan)).to_numpy()
        for a, b in self.products:
            out[f"{a}_x_{b}"] = (X[a] * X[b]).to_numpy()
        return pd.DataFrame(out, index=X.index)

    def get_feature_names_out(self, input_features=None):
        return np.asarray(self.feature_names_out_, dtype=object)


class MutualInformation:
    """A picklable score function for ``SelectKBest``: mutual information with the target
    (seeded, so the selection is reproducible)."""

    def __init__(self, task: str = "classification", random_state: int = 0) -> None:
        self.task = task
        self.random_state = random_state

    def __call__(self, X, y):
        score = mutual_info_classif if self.task == "classification" else mutual_info_regression
        return score(X, y, random_state=self.random_state)


def feature_pipeline(numeric: list[str] = (), categorical: list[str] = (), dates: list[str] = (),
                     ratios: list[tuple[str, str]] = (), products: list[tuple[str, str]] = (),
                     select: str | None = None, k: int | str = "all", task: str = "classification",
                     scale: bool = True, random_state: int = 0) -> Pipeline:
    """One scikit-learn ``Pipeline`` of the transformations above.

    :param select: ``None``, ``"mutual_info"`` (``SelectKBest`` keeping ``k`` features)
        or ``"model"`` (``SelectFromModel`` over a random forest's importances, at most
        ``k`` features when ``k`` is an int).
    :param task: ``"classification"`` or ``"regression"`` (for the selector's score).
    """
    if select not in (None, "mutual_info", "model"):
        raise ValueError(f"The 'select' parameter of feature_pipeline must be None, "
                         f"'mutual_info' or 'model'. Got {select!r} instead.")
    if task not in ("classification", "regression"):
        raise ValueError(f"The 'task' parameter of feature_pipeline must be 'classification' "
                         f"or 'regression'. Got {task!r} instead.")
    num_steps = [SimpleImputer(strategy="median")] + ([StandardScaler()] if scale else [])
    parts = []
    if numeric:
        parts.append(("numeric", make_pipeline(*num_steps), list(numeric)))
    if categorical:
        parts.append(("categorical", make_pipeline(
            SimpleImputer(strategy="constant", fill_value="missing"),
            OneHotEncoder(handle_unknown="ignore", sparse_output=False)), list(categorical)))
    if dates:
        parts.append(("dates", make_pipeline(DateParts(), *([StandardScaler()] if scale else [])), list(dates)))
    if ratios or products:
        cols = sorted({c for pair in [*ratios, *products] for c in pair})
        parts.append(("pairs", make_pipeline(PairFeatures(list(ratios), list(products)), *num_steps), cols))
    if not parts:
        raise ValueError("feature_pipeline needs at least one column")
    steps = [("columns", ColumnTransformer(parts, verbose_feature_names_out=True))]
    if select == "mutual_info":
        steps.append(("select", SelectKBest(MutualInformation(task, random_state), k=k)))
    elif select == "model":
        from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
        model = (RandomForestClassifier if task == "classification" else RandomForestRegressor)(
            n_estimators=100, random_state=random_state, n_jobs=1)
        steps.append(("select", SelectFromModel(model, max_features=k if isinstance(k, int) else None,
                                                threshold=-np.inf if isinstance(k, int) else None)))
    pipe = Pipeline(steps)
    pipe.set_output(transform="pandas")
    return pipe

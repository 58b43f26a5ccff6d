"""Feature transformations as scikit-learn transformers, assembled into one ``Pipeline``.

Fit the pipeline once on the training set and apply the same fitted object at inference
(it pickles with the model): dates decomposed (day, month, year, day of week, weekend,
hour, and cyclical sin/cos), categories one-hot encoded, numbers imputed and scaled,
ratios and products of column pairs, then feature selection by mutual information or by
a model's importances. Text columns become TF-IDF weights reduced to a few dense
components (latent semantic analysis). Scaling is standardisation (zero mean, unit
variance) or normalisation (min-max to [0, 1]); :func:`correlation_analysis` and
:class:`CorrelationFilter` find and drop near-duplicate (highly correlated) features.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.compose import ColumnTransformer
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_selection import SelectFromModel, SelectKBest, mutual_info_classif, mutual_info_regression
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.preprocessing import (FunctionTransformer, MinMaxScaler, OneHotEncoder, OrdinalEncoder,
                                   StandardScaler)

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


class TextComponents(BaseEstimator, TransformerMixin):
    """Each text column as ``n_components`` dense columns ``<col>_svd_<i>``: TF-IDF weights
    (sublinear term frequency, words and word pairs seen in at least ``min_df`` rows)
    reduced by a truncated SVD (latent semantic analysis). The number of components is
    capped by what a column allows: its vocabulary size and the number of rows it is
    fitted on (``n_components_`` holds the count kept per column). Missing text is an
    empty string."""

    def __init__(self, n_components: int = 50, min_df: int = 2, ngram_range: tuple[int, int] = (1, 2),
                 random_state: int = 0) -> None:
        self.n_components = n_components
        self.min_df = min_df
        self.ngram_range = ngram_range
        self.random_state = random_state

    @staticmethod
    def _texts(column) -> list[str]:
        return ["" if v is None or (isinstance(v, float) and v != v) else str(v) for v in column]

    def fit(self, X, y=None):
        if not isinstance(self.n_components, (int, np.integer)) or isinstance(self.n_components, bool) \
                or self.n_components < 1:
            raise ValueError(f"The 'text_components' parameter of feature_pipeline must be an integer >= 1. "
                             f"Got {self.n_components!r} instead.")
        X = pd.DataFrame(X)
        self.columns_ = [str(c) for c in X.columns]
        self.vectorizers_, self.svds_, self.n_components_ = {}, {}, {}
        for col, raw in zip(self.columns_, X.columns):
            texts = self._texts(X[raw])
            vec = TfidfVectorizer(sublinear_tf=True, ngram_range=tuple(self.ngram_range), min_df=self.min_df)
            try:
                tfidf = vec.fit_transform(texts)
            except ValueError as exc:
                raise ValueError(f"text column {col!r}: no word appears in {self.min_df} or more of its "
                                 f"{len(texts)} rows, so it has no vocabulary to learn ({exc})") from None
            n = int(min(self.n_components, tfidf.shape[1], tfidf.shape[0]))
            self.vectorizers_[col] = vec
            self.svds_[col] = TruncatedSVD(n_components=n, random_state=self.random_state).fit(tfidf)
            self.n_components_[col] = n
        self.feature_names_out_ = [f"{c}_svd_{i}" for c in self.columns_ for i in range(self.n_components_[c])]
        return self

    def transform(self, X):
        X = pd.DataFrame(X)
        X.columns = [str(c) for c in X.columns]
        missing = [c for c in self.columns_ if c not in X.columns]
        if missing:
            raise ValueError(f"text column {missing[0]!r} is missing from the rows to transform")
        parts = []
        for col in self.columns_:
            values = self.svds_[col].transform(self.vectorizers_[col].transform(self._texts(X[col])))
            parts.append(pd.DataFrame(values, index=X.index,
                                      columns=[f"{col}_svd_{i}" for i in range(self.n_components_[col])]))
        return pd.concat(parts, axis=1)

    def get_feature_names_out(self, input_features=None):
        return np.asarray(self.feature_names_out_, dtype=object)


def correlation_analysis(X, y=None, threshold: float = 0.9) -> dict:
    """Pearson correlations of the numeric columns of ``X``: ``matrix`` (absolute values,
    a DataFrame), ``pairs`` (a DataFrame ``a``, ``b``, ``r`` of the pairs whose absolute
    correlation exceeds ``threshold``, strongest first, ``r`` signed) and, with a numeric
    target ``y``, ``target`` (each column's absolute correlation with it, strongest first).
    A constant column correlates with nothing (0)."""
    frame = pd.DataFrame(X).select_dtypes("number").astype("float64")
    signed = frame.corr().fillna(0.0)
    matrix = signed.abs()
    cols = list(matrix.columns)
    pairs = [(a, b, float(signed.loc[a, b])) for i, a in enumerate(cols) for b in cols[i + 1:]
             if matrix.loc[a, b] > threshold]
    pairs.sort(key=lambda p: -abs(p[2]))
    out = {"matrix": matrix, "pairs": pd.DataFrame(pairs, columns=["a", "b", "r"])}
    if y is not None:
        target = pd.Series(np.asarray(y, dtype="float64"), index=frame.index)
        out["target"] = frame.corrwith(target).abs().fillna(0.0).sort_values(ascending=False)
    return out


class CorrelationFilter(BaseEstimator, TransformerMixin):
    """Drop features that nearly duplicate an earlier one: going through the columns in
    order, a column whose absolute Pearson correlation with a column already kept exceeds
    ``threshold`` is dropped. Fitted once (``dropped_``, ``kept_``, ``correlation_``, the
    absolute correlation matrix of the training rows) and applied the same way after."""

    def __init__(self, threshold: float = 0.95) -> None:
        self.threshold = threshold

    def fit(self, X, y=None):
        if not 0 < self.threshold <= 1:
            raise ValueError(f"The 'max_correlation' parameter of feature_pipeline must be in (0, 1]. "
                             f"Got {self.threshold!r} instead.")
        frame = pd.DataFrame(X)
        self.columns_ = list(frame.columns)
        self.correlation_ = correlation_analysis(frame, threshold=self.threshold)["matrix"]
        kept: list = []
        for col in self.columns_:
            if col in self.correlation_.index and any(self.correlation_.loc[col, k] > self.threshold
                                                      for k in kept if k in self.correlation_.index):
                continue
            kept.append(col)
        self.kept_ = kept
        self.dropped_ = [c for c in self.columns_ if c not in kept]
        return self

    def transform(self, X):
        frame = pd.DataFrame(X, columns=self.columns_) if not isinstance(X, pd.DataFrame) else X
        return frame[self.kept_]

    def get_feature_names_out(self, input_features=None):
        return np.asarray(self.kept_, dtype=object)


class MutualInformation:
    """A picklable score function for ``SelectKBest``: mutual information with the target
    (seeded, so the selection is reproducible)."""

    def __init__(self, task: str = "classification", random_state: int = 0) -> None:
        self.task = task
        self.random_state = random_state

    def __call__(self, X, y):
        score = mutual_info_classif if self.task == "classification" else mutual_info_regression
        return score(X, y, random_state=self.random_state)


def categories_as_text(X):
    """Categories as strings (missing values kept missing): a whole-number column listed as
    categorical (a code, a ZIP) is one-hot encoded like a text one."""
    import pandas as pd

    frame = pd.DataFrame(X)
    return frame.apply(lambda s: s.where(s.isna(), s.astype(str)).astype(object))


def feature_pipeline(numeric: list[str] = (), categorical: list[str] = (), dates: list[str] = (),
                     ratios: list[tuple[str, str]] = (), products: list[tuple[str, str]] = (),
                     select: str | None = None, k: int | str = "all", task: str = "classification",
                     scale: bool | str = True, random_state: int = 0, text: list[str] = (),
                     text_components: int = 50, encoding: str = "onehot", impute: str = "median",
                     max_correlation: float | None = None) -> Pipeline:
    """One scikit-learn ``Pipeline`` of the transformations above.

    :param scale: ``True`` or ``"standard"`` (standardisation: ``StandardScaler``),
        ``"minmax"`` (normalisation to [0, 1]: ``MinMaxScaler``), ``False``/``None`` (none);
        applied to numbers, date parts and ratios.
    :param encoding: categoricals as ``"onehot"`` columns (unknown categories: all zeros)
        or ``"ordinal"`` codes (unknown categories: -1).
    :param impute: numeric missing values replaced by the training ``"median"``,
        ``"mean"`` or ``"most_frequent"`` value (categoricals: the category ``"missing"``).
    :param max_correlation: if given, :class:`CorrelationFilter` drops each transformed
        feature whose absolute correlation with an earlier kept one exceeds it (before
        selection).

    :param select: ``None``, ``"mutual_info"`` (``SelectKBest`` keeping ``k`` features)
        or ``"model"`` (``SelectFromModel`` over a random forest's importances, at most
        ``k`` features when ``k`` is an int).
    :param task: ``"classification"`` or ``"regression"`` (for the selector's score).
    :param text: text columns, each turned into ``text_components`` dense columns
        ``<col>_svd_<i>`` (:class:`TextComponents`: TF-IDF of words and word pairs, then a
        truncated SVD seeded with ``random_state``; fewer when the vocabulary or the rows
        allow fewer).
    """
    if select not in (None, "mutual_info", "model"):
        raise ValueError(f"The 'select' parameter of feature_pipeline must be None, "
                         f"'mutual_info' or 'model'. Got {select!r} instead.")
    if task not in ("classification", "regression"):
        raise ValueError(f"The 'task' parameter of feature_pipeline must be 'classification' "
                         f"or 'regression'. Got {task!r} instead.")
    scalers = {True: StandardScaler, "standard": StandardScaler, "minmax": MinMaxScaler,
               False: None, None: None}
    if not isinstance(scale, (bool, str, type(None))) or scale not in scalers:
        raise ValueError(f"The 'scale' parameter of feature_pipeline must be True, 'standard', "
                         f"'minmax', False or None. Got {scale!r} instead.")
    if encoding not in ("onehot", "ordinal"):
        raise ValueError(f"The 'encoding' parameter of feature_pipeline must be 'onehot' or "
                         f"'ordinal'. Got {encoding!r} instead.")
    if impute not in ("median", "mean", "most_frequent"):
        raise ValueError(f"The 'impute' parameter of feature_pipeline must be 'median', 'mean' "
                         f"or 'most_frequent'. Got {impute!r} instead.")
    scaler = scalers[scale]
    scaling = [scaler()] if scaler is not None else []
    num_steps = [SimpleImputer(strategy=impute)] + scaling
    encoder = (OneHotEncoder(handle_unknown="ignore", sparse_output=False) if encoding == "onehot"
               else OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1))
    parts = []
    if numeric:
        parts.append(("numeric", make_pipeline(*num_steps), list(numeric)))
    if categorical:
        parts.append(("categorical", make_pipeline(
            FunctionTransformer(categories_as_text, feature_names_out="one-to-one"),
            SimpleImputer(strategy="constant", fill_value="missing"),
            encoder), list(categorical)))
    if dates:
        parts.append(("dates", make_pipeline(DateParts(), *([scaler()] if scaler is not None else [])),
                      list(dates)))
    if ratios or products:
        cols = sorted({c for pair in [*ratios, *products] for c in pair})
        parts.append(("pairs", make_pipeline(PairFeatures(list(ratios), list(products)), *num_steps), cols))
    if text:
        parts.append(("text", TextComponents(n_components=text_components, random_state=random_state), list(text)))
    if not parts:
        raise ValueError("feature_pipeline needs at least one column")
    steps = [("columns", ColumnTransformer(parts, verbose_feature_names_out=True))]
    if max_correlation is not None:
        steps.append(("decorrelate", CorrelationFilter(max_correlation)))
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

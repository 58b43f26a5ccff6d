"""Text columns in the feature pipeline: TF-IDF (words and word pairs) reduced by a
truncated SVD to dense ``<col>_svd_<i>`` columns, inside the one fitted, picklable Pipeline."""
from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest

from aws_ml import datasets
from aws_ml.features import feature_pipeline
from aws_ml.features.transforms import TextComponents


@pytest.fixture(scope="module")
def reviews():
    d = datasets.load("reviews/imdb_sentences").sample(300, random_state=0)
    d["length"] = d["text"].str.len().astype(float)
    return d


def test_text_column_becomes_named_dense_components_with_pandas_output(reviews):
    pipe = feature_pipeline(text=["text"], text_components=12)
    X = pipe.fit_transform(reviews[["text"]].iloc[:200])
    assert isinstance(X, pd.DataFrame)
    assert list(X.columns) == [f"text__text_svd_{i}" for i in range(12)]
    assert list(X.index) == list(reviews.index[:200])
    assert X.notna().all().all() and X.dtypes.map(pd.api.types.is_float_dtype).all()
    assert (X.var() > 0).all()                                   # 12 informative components
    assert np.linalg.matrix_rank(X.to_numpy()) == 12


def test_text_goes_with_other_parts_and_selection(reviews):
    y = reviews["sentiment"].iloc[:200]
    pipe = feature_pipeline(numeric=["length"], text=["text"], text_components=10, select="mutual_info", k=5)
    X = pipe.fit_transform(reviews[["length", "text"]].iloc[:200], y)
    assert X.shape == (200, 5)
    assert set(X.columns) <= {"numeric__length", *(f"text__text_svd_{i}" for i in range(10))}


def test_fitted_pipeline_pickles_and_reapplies_the_same_transformation(reviews):
    pipe = feature_pipeline(numeric=["length"], text=["text"], text_components=8)
    pipe.fit(reviews[["length", "text"]].iloc[:200])
    new_rows = reviews[["length", "text"]].iloc[200:]
    again = pickle.loads(pickle.dumps(pipe))
    pd.testing.assert_frame_equal(pipe.transform(new_rows), again.transform(new_rows))
    # the vocabulary learned is kept: a word never seen in training changes nothing
    unseen = new_rows.assign(text="zzzqqq xxyyzz")
    assert np.allclose(again.transform(unseen).filter(like="svd").to_numpy(), 0.0)


def test_components_are_seeded_and_reproducible(reviews):
    a = feature_pipeline(text=["text"], text_components=6, random_state=3).fit_transform(reviews[["text"]])
    b = feature_pipeline(text=["text"], text_components=6, random_state=3).fit_transform(reviews[["text"]])
    pd.testing.assert_frame_equal(a, b)


def test_components_are_capped_by_the_vocabulary_and_rows():
    rows = pd.DataFrame({"note": ["red car", "red car", "blue car", "blue car", None, "red bike"]})
    t = TextComponents(n_components=50).fit(rows)
    vocabulary = t.vectorizers_["note"].vocabulary_
    # words and pairs seen in >= 2 rows: red, car, blue, red car, blue car
    assert set(vocabulary) == {"red", "car", "blue", "red car", "blue car"}
    assert t.n_components_["note"] == 5
    out = t.transform(rows)
    assert list(out.columns) == [f"note_svd_{i}" for i in range(5)]
    assert np.allclose(out.iloc[4].to_numpy(), 0.0)          # missing text: an empty document


def test_several_text_columns_each_get_their_components():
    rows = pd.DataFrame({"title": ["good film", "bad film", "good plot", "bad plot"] * 3,
                         "body": ["i loved it", "i hated it", "loved the plot", "hated the plot"] * 3})
    X = feature_pipeline(text=["title", "body"], text_components=2).fit_transform(rows)
    assert list(X.columns) == ["text__title_svd_0", "text__title_svd_1", "text__body_svd_0", "text__body_svd_1"]


def test_bad_input_is_refused_with_a_clear_error():
    rows = pd.DataFrame({"t": ["alpha", "beta", "gamma"]})
    with pytest.raises(ValueError, match="text column 't': no word appears in 2 or more"):
        feature_pipeline(text=["t"]).fit(rows)
    with pytest.raises(ValueError, match="'text_components' parameter of feature_pipeline must be an integer >= 1"):
        feature_pipeline(text=["t"], text_components=0).fit(pd.DataFrame({"t": ["ab cd", "ab cd"]}))
    fitted = feature_pipeline(text=["t"], text_components=1).fit(pd.DataFrame({"t": ["ab cd", "ab ef cd", "cd ef"]}))
    with pytest.raises(ValueError):
        fitted.transform(pd.DataFrame({"other": ["ab"]}))

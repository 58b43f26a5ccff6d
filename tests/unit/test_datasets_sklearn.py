"""The scikit-learn data sets as bundled data (``bundled:sklearn/diabetes``, ``sklearn/wine``)
and the bundled example pipelines by name (``example_path``)."""
from __future__ import annotations

import hashlib

import pytest

from aws_ml import datasets
from aws_ml.pipeline import example_names, example_path, load_pipeline
from aws_ml.pipeline.spec import PipelineFileError, check_columns


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("AWS_ML_DATASETS", str(tmp_path / "datasets"))
    return tmp_path / "datasets"


def test_diabetes_is_written_once_with_a_stable_id(cache):
    path = datasets.path("sklearn/diabetes")
    assert path == cache / "sklearn_diabetes.csv" and path.is_file()
    first = hashlib.sha256(path.read_bytes()).hexdigest()
    mtime = path.stat().st_mtime_ns
    assert datasets.path("sklearn/diabetes").stat().st_mtime_ns == mtime       # not written again
    df = datasets.load("sklearn/diabetes")
    assert df.shape == (442, 12) and list(df.columns)[0] == "patient_id" and list(df.columns)[-1] == "progression"
    assert df["patient_id"].tolist() == list(range(1, 443))
    assert df["progression"].between(25, 346).all() and df["age"].min() >= 19           # not scaled
    path.unlink()
    assert hashlib.sha256(datasets.path("sklearn/diabetes").read_bytes()).hexdigest() == first  # same bytes
    assert not list(cache.glob(".*.tmp"))


def test_wine_columns_are_safe_names(cache):
    df = datasets.load("sklearn/wine")
    assert df.shape == (178, 15) and df["wine_id"].is_unique
    assert "od280_od315_of_diluted_wines" in df.columns and sorted(df["cultivar"].unique()) == [0, 1, 2]
    assert all(c.replace("_", "").isalnum() for c in df.columns)


def test_unknown_names_list_the_choices():
    assert {"sklearn/diabetes", "sklearn/wine", "fraud/claims"} <= set(datasets.names())
    with pytest.raises(ValueError, match="sklearn/diabetes"):
        datasets.path("sklearn/iris")


def test_example_path_by_name(cache):
    assert example_path() == example_path("fraud") == example_path("fraud_pipeline.yaml")
    assert example_path().name == "fraud_pipeline.yaml"
    assert example_path("diabetes").name == "diabetes_pipeline.yaml"
    assert {"fraud", "diabetes"} <= set(example_names())
    for bad in ("nope", "../examples/fraud", "fraud_pipeline"):
        with pytest.raises(ValueError, match="no bundled example pipeline"):
            example_path(bad)


def test_the_diabetes_pipeline_is_a_checked_regression(cache):
    spec = load_pipeline(example_path("diabetes"))
    assert spec.problem.problem_type == "regression" and spec.problem.metric == "rmse"
    assert spec.problem.threshold and spec.training and spec.deployment and spec.monitoring and spec.tuning
    check_columns(spec, None)                  # every column it names is in the data set's header
    spec.problem.target = "prognosis"
    with pytest.raises(PipelineFileError, match="prognosis"):
        check_columns(spec, None)

"""Feature transformations (``aws_ml.features.transforms``) and definition inference."""
import pickle

import numpy as np
import pandas as pd
import pytest

from aws_ml import datasets
from aws_ml.features import infer_feature_definitions
from aws_ml.features.transforms import (CorrelationFilter, DateParts, PairFeatures, correlation_analysis,
                                        feature_pipeline)


def test_infer_feature_definitions():
    df = pd.DataFrame({"i": [1], "f": [1.5], "s": ["x"], "b": [True],
                       "d": pd.to_datetime(["2024-01-01"]), "c": pd.Categorical(["a"])})
    assert infer_feature_definitions(df) == [
        {"FeatureName": "i", "FeatureType": "Integral"}, {"FeatureName": "f", "FeatureType": "Fractional"},
        {"FeatureName": "s", "FeatureType": "String"}, {"FeatureName": "b", "FeatureType": "Integral"},
        {"FeatureName": "d", "FeatureType": "String"}, {"FeatureName": "c", "FeatureType": "String"}]


def test_date_parts_and_cycles():
    X = pd.DataFrame({"when": ["2024-12-31T23:00:00Z", "2025-01-04T06:30:00Z"]})
    out = DateParts().fit_transform(X)
    assert out["when_year"].tolist() == [2024, 2025]
    assert out["when_month"].tolist() == [12, 1]
    assert out["when_dow"].tolist() == [1, 5]          # Tuesday, Saturday
    assert out["when_weekend"].tolist() == [0, 1]
    assert out["when_hour"].tolist() == [23, 6]
    # December and January are neighbours on the month circle
    dec = np.array([out["when_month_sin"][0], out["when_month_cos"][0]])
    jan = np.array([out["when_month_sin"][1], out["when_month_cos"][1]])
    assert np.linalg.norm(dec - jan) < 0.6
    assert list(DateParts(cyclical=False).fit(X).get_feature_names_out()) == [
        "when_year", "when_month", "when_day", "when_dow", "when_weekend", "when_hour"]


def test_pair_features():
    X = pd.DataFrame({"a": [2.0, 3.0], "b": [4.0, 0.0]})
    out = PairFeatures(ratios=[("a", "b")], products=[("a", "b")]).fit_transform(X)
    assert out["a_per_b"].iloc[0] == 0.5 and np.isnan(out["a_per_b"].iloc[1])
    assert out["a_x_b"].tolist() == [8.0, 0.0]


@pytest.mark.parametrize("select", ["mutual_info", "model"])
def test_pipeline_fitted_once_applies_the_same_at_inference(select):
    claims = datasets.load("fraud/claims")
    y = claims.pop("fraud")
    claims["when"] = pd.to_datetime(
        {"year": 2024, "month": claims["incident_month"], "day": claims["incident_day"].clip(upper=28),
         "hour": claims["incident_hour"]}, utc=True)
    pipe = feature_pipeline(numeric=["num_injuries", "injury_claim", "vehicle_claim"],
                            categorical=["incident_type", "authorities_contacted"],
                            dates=["when"], ratios=[("injury_claim", "total_claim_amount")],
                            select=select, k=8)
    train = pipe.fit_transform(claims.iloc[:4000], y.iloc[:4000])
    assert train.shape == (4000, 8)
    assert not train.isna().any().any()  # imputation: authorities_contacted has gaps
    again = pickle.loads(pickle.dumps(pipe))  # shipped with the model
    test = again.transform(claims.iloc[4000:])
    assert list(test.columns) == list(train.columns)
    np.testing.assert_allclose(test.to_numpy(), pipe.transform(claims.iloc[4000:]).to_numpy())
    unseen = claims.iloc[4000:4001].assign(incident_type="Meteorite")  # unknown category
    assert again.transform(unseen).shape == (1, 8)


def test_pipeline_rejects_bad_parameters():
    with pytest.raises(ValueError, match="'select' parameter"):
        feature_pipeline(numeric=["a"], select="magic")
    with pytest.raises(ValueError, match="at least one column"):
        feature_pipeline()
    with pytest.raises(ValueError, match="'scale' parameter"):
        feature_pipeline(numeric=["a"], scale="robust")
    with pytest.raises(ValueError, match="'encoding' parameter"):
        feature_pipeline(categorical=["a"], encoding="target")
    with pytest.raises(ValueError, match="'impute' parameter"):
        feature_pipeline(numeric=["a"], impute="zero")
    with pytest.raises(ValueError, match="'max_correlation' parameter"):
        feature_pipeline(numeric=["a"], max_correlation=1.5).fit(pd.DataFrame({"a": [1.0, 2.0]}))


TRAIN = pd.DataFrame({"x": [1.0, 2.0, np.nan, 4.0, 5.0], "c": ["a", "b", None, "a", "b"]})


def test_standardisation_and_normalisation_use_training_statistics():
    std = feature_pipeline(numeric=["x"]).fit(TRAIN)
    out = std.transform(TRAIN)["numeric__x"]
    assert out.mean() == pytest.approx(0.0) and out.std(ddof=0) == pytest.approx(1.0)
    norm = feature_pipeline(numeric=["x"], scale="minmax").fit(TRAIN)
    got = norm.transform(TRAIN)["numeric__x"].tolist()
    assert got == pytest.approx([0.0, 0.25, 0.5, 0.75, 1.0])  # the gap imputed by the median, 3
    # inference rows are scaled with the training minimum and maximum, not their own
    assert norm.transform(pd.DataFrame({"x": [9.0], "c": ["a"]}))["numeric__x"].tolist() == [2.0]
    raw = feature_pipeline(numeric=["x"], scale=False, impute="mean").fit(TRAIN)
    assert raw.transform(TRAIN)["numeric__x"].tolist() == [1.0, 2.0, 3.0, 4.0, 5.0]


def test_ordinal_encoding_and_missing_category():
    pipe = feature_pipeline(categorical=["c"], encoding="ordinal").fit(TRAIN)
    codes = pipe.transform(TRAIN)["categorical__c"].tolist()
    assert codes == [0.0, 1.0, 2.0, 0.0, 1.0]              # a, b, missing
    assert pipe.transform(pd.DataFrame({"x": [1.0], "c": ["zzz"]}))["categorical__c"].tolist() == [-1.0]
    onehot = feature_pipeline(categorical=["c"]).fit(TRAIN)
    assert list(onehot.transform(TRAIN).columns) == ["categorical__c_a", "categorical__c_b", "categorical__c_missing"]


def test_correlation_analysis_and_filter():
    rng = np.random.default_rng(0)
    a = rng.normal(size=200)
    X = pd.DataFrame({"a": a, "a_copy": -2 * a + 0.01 * rng.normal(size=200), "b": rng.normal(size=200),
                      "const": 1.0})
    y = a + 0.1 * rng.normal(size=200)
    found = correlation_analysis(X, y, threshold=0.9)
    assert found["pairs"][["a", "b"]].values.tolist() == [["a", "a_copy"]]
    assert found["pairs"]["r"].iloc[0] < -0.99                     # signed
    assert found["matrix"].loc["const", "a"] == 0.0                # a constant correlates with nothing
    assert list(found["target"].index[:2]) == ["a", "a_copy"]
    filt = CorrelationFilter(0.9).fit(X)
    assert filt.dropped_ == ["a_copy"] and filt.kept_ == ["a", "b", "const"]
    assert list(filt.transform(X.iloc[:3]).columns) == ["a", "b", "const"]
    # inside the pipeline, fitted once: the same columns at inference
    pipe = feature_pipeline(numeric=["a", "a_copy", "b"], max_correlation=0.9).fit(X)
    assert list(pipe.transform(X.iloc[:5]).columns) == ["numeric__a", "numeric__b"]
    assert pipe.named_steps["decorrelate"].dropped_ == ["numeric__a_copy"]
    again = pickle.loads(pickle.dumps(pipe))
    np.testing.assert_allclose(again.transform(X.iloc[:5]).to_numpy(), pipe.transform(X.iloc[:5]).to_numpy())

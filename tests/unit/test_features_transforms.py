"""Feature transformations (``aws_ml.features.transforms``) and definition inference."""
import pickle

import numpy as np
import pandas as pd
import pytest

from aws_ml import datasets
from aws_ml.features import infer_feature_definitions
from aws_ml.features.transforms import DateParts, PairFeatures, feature_pipeline


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

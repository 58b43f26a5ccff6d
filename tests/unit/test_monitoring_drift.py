"""Baselines (Model Monitor's statistics.json / constraints.json), drift checks and the
violations they raise, and the data-capture payloads (aws_ml.monitoring)."""
from __future__ import annotations

import base64
import json

import numpy as np
import pandas as pd
import pytest

from aws_ml.monitoring import Baseline, check_drift, suggest_baseline
from aws_ml.monitoring.baseline import SKETCH_K, inferred_type
from aws_ml.monitoring.capture import CaptureError, decode_payload
from aws_ml.monitoring.drift import numeric_drift
from tests.contract.test_monitoring.fraud import CLAIM_AMOUNTS, fraud_split

pytest.importorskip("scipy")


@pytest.fixture(scope="module")
def split():
    return fraud_split()


@pytest.fixture(scope="module")
def baseline(split):
    return suggest_baseline(split.X_train)


@pytest.fixture
def mixed():
    rng = np.random.default_rng(0)
    n = 1000
    return pd.DataFrame({
        "amount": rng.gamma(2.0, 500.0, n),
        "count": rng.integers(0, 5, n),
        "colour": rng.choice(["red", "green", "blue"], n, p=[0.5, 0.3, 0.2]),
        "note": [None if i % 10 == 0 else "x" for i in range(n)],
    })


def test_statistics_follow_the_model_monitor_schema(mixed):
    b = suggest_baseline(mixed)
    assert b.statistics["version"] == 0 and b.item_count == 1000
    assert b.feature_names == ["amount", "count", "colour", "note"]
    amount = b.feature("amount")
    assert amount["inferred_type"] == "Fractional"
    num = amount["numerical_statistics"]
    assert set(num) == {"common", "mean", "sum", "std_dev", "min", "max", "distribution"}
    assert num["mean"] == pytest.approx(mixed["amount"].mean())
    assert num["std_dev"] == pytest.approx(mixed["amount"].std(ddof=0))
    buckets = num["distribution"]["kll"]["buckets"]
    assert len(buckets) == 10 and sum(x["count"] for x in buckets) == 1000
    assert buckets[0]["lower_bound"] == num["min"] and buckets[-1]["upper_bound"] == num["max"]
    sketch = num["distribution"]["kll"]["sketch"]
    assert sketch["parameters"]["k"] == SKETCH_K and len(sketch["data"][0]) == 1000   # n < k: every value
    colour = b.feature("colour")
    assert colour["inferred_type"] == "String"
    assert colour["string_statistics"]["distinct_count"] == 3
    assert colour["string_statistics"]["distribution"]["categorical"]["buckets"][0]["value"] == "red"
    assert b.feature("note")["string_statistics"]["common"] == {"num_present": 900, "num_missing": 100}
    json.dumps(b.to_dict(), allow_nan=False)


def test_constraints_are_suggested_from_the_data(mixed):
    b = suggest_baseline(mixed)
    assert b.constraint("count") == {"name": "count", "inferred_type": "Integral", "completeness": 1.0,
                                     "num_constraints": {"is_non_negative": True}}
    assert b.constraint("colour")["string_constraints"]["domains"] == ["red", "green", "blue"]
    assert b.constraint("note")["completeness"] == 0.9
    cfg = b.constraints["monitoring_config"]
    assert cfg["evaluate_constraints"] == "Enabled" and cfg["distribution_constraints"]["comparison_threshold"] == 0.1


def test_a_large_column_is_sketched():
    values = pd.DataFrame({"v": np.arange(10_000, dtype=float)})
    sketch = suggest_baseline(values).feature("v")["numerical_statistics"]["distribution"]["kll"]["sketch"]["data"][0]
    assert len(sketch) == SKETCH_K and sketch == sorted(sketch)
    assert sketch[0] < 10 and sketch[-1] > 9990


@pytest.mark.parametrize("values, kind", [
    ([1, 2, 3], "Integral"), ([1.5, 2.0], "Fractional"), (["a", "b"], "String"),
    (["1", "2"], "Integral"), (["1.0", "2"], "Fractional"), ([None, None], "Unknown"), ([True, False], "String"),
])
def test_inferred_types(values, kind):
    assert inferred_type(pd.Series(values)) == kind


def test_held_out_data_does_not_drift(split, baseline):
    report = check_drift(baseline, split.X_test)
    assert report.violations == [] and report.drifted_features == []
    assert report.item_count == len(split.X_test) and report.baseline_item_count == len(split.X_train)
    assert all(f["psi"] < 0.05 and f["p_value"] > 0.01 for f in report.features)


def test_claim_amounts_times_three_drift(split, baseline):
    report = check_drift(baseline, split.shifted)
    assert sorted(report.drifted_features) == sorted(CLAIM_AMOUNTS)
    assert [v["constraint_check_type"] for v in report.violations] == ["baseline_drift_check"] * 3
    total = report.feature("total_claim_amount")
    assert total["psi"] > 1 and total["distance"] > 0.5 and total["p_value"] < 1e-10
    assert total["mean"] == pytest.approx(3 * split.X_test["total_claim_amount"].mean())
    assert report.violations[0]["description"].startswith("Baseline drift distance: ")
    assert report.constraint_violations() == {"violations": report.violations}
    json.dumps(report.to_dict(), allow_nan=False)


def test_the_ks_distance_is_that_of_scipy(split, baseline):
    from scipy.stats import ks_2samp

    current = split.shifted["vehicle_claim"].to_numpy()
    # a baseline of fewer than k rows keeps every value: the distance and p-value are exact
    small = suggest_baseline(split.X_train.iloc[:2000])
    out = numeric_drift(small.feature("vehicle_claim"), current)
    expected = ks_2samp(split.X_train["vehicle_claim"].iloc[:2000], current, method="asymp")
    assert out["distance"] == pytest.approx(expected.statistic)
    assert out["p_value"] == pytest.approx(expected.pvalue, abs=1e-12)
    # with 3,500 rows the baseline keeps a sketch of 2,048 quantiles: the distance is close
    sketched = numeric_drift(baseline.feature("vehicle_claim"), current)
    assert sketched["distance"] == pytest.approx(ks_2samp(split.X_train["vehicle_claim"], current).statistic,
                                                 abs=2 / SKETCH_K)


def test_thresholds_are_honoured(split, baseline):
    slightly = split.X_test.copy()
    slightly["incident_hour"] = slightly["incident_hour"] + 1
    assert check_drift(baseline, slightly).drifted_features == []
    assert check_drift(baseline, slightly, comparison_threshold=0.02, psi_threshold=0.05).drifted_features \
        == ["incident_hour"]


def test_constraint_violations(mixed):
    b = suggest_baseline(mixed)
    current = mixed.drop(columns=["note"]).assign(extra=1)
    current["count"] = current["count"].astype(float) + 0.5          # no longer integral
    current.loc[:99, "amount"] = -5.0                                  # negatives
    current.loc[100:400, "colour"] = "purple"                          # outside the domain
    report = check_drift(b, current)
    checks = {(v["feature_name"], v["constraint_check_type"]) for v in report.violations}
    assert ("note", "missing_column_check") in checks
    assert ("extra", "extra_column_check") in checks
    assert ("count", "data_type_check") in checks
    assert ("amount", "data_type_check") in checks                    # is_non_negative
    assert ("colour", "categorical_values_check") in checks
    assert ("colour", "baseline_drift_check") in checks


def test_completeness_check(mixed):
    b = suggest_baseline(mixed)
    current = mixed.copy()
    current.loc[:299, "note"] = None                                   # 63 % present, baseline 90 %
    [v] = [v for v in check_drift(b, current).violations if v["constraint_check_type"] == "completeness_check"]
    assert v["feature_name"] == "note"
    assert v["description"].endswith("Expected completeness: 0.9, observed completeness: 0.63")
    assert not any(v["constraint_check_type"] == "completeness_check"
                   for v in check_drift(b, mixed.iloc[:500]).violations)


def test_bad_inputs():
    with pytest.raises(TypeError, match="DataFrame"):
        suggest_baseline([[1, 2]])
    with pytest.raises(ValueError, match="at least one row"):
        suggest_baseline(pd.DataFrame({"a": []}))
    with pytest.raises(ValueError, match="needs a session"):
        suggest_baseline(pd.DataFrame({"a": [1]}), output_uri="s3://b/p")
    with pytest.raises(ValueError, match="s3://bucket/prefix"):
        suggest_baseline(pd.DataFrame({"a": [1]}), session=object(), output_uri="b/p")
    b = suggest_baseline(pd.DataFrame({"a": [1, 2]}))
    with pytest.raises(TypeError, match="Baseline"):
        check_drift({"statistics": {}}, pd.DataFrame({"a": [1]}))
    with pytest.raises(TypeError, match="s3:// data-capture prefix"):
        check_drift(b, [[1]])
    assert isinstance(b, Baseline)


@pytest.mark.parametrize("payload, expected", [
    ({"observedContentType": "text/csv", "mode": "INPUT", "data": "1,2", "encoding": "CSV"}, ("text/csv", "1,2")),
    ({"observedContentType": "application/json", "mode": "INPUT", "data": "[1]", "encoding": "JSON"},
     ("application/json", "[1]")),
    ({"observedContentType": "text/csv; charset=utf-8", "mode": "INPUT",
      "data": base64.b64encode(b"3,4").decode(), "encoding": "BASE64"}, ("text/csv", "3,4")),
    ({"observedContentType": "application/jsonlines", "mode": "OUTPUT",
      "data": base64.b64encode(b'{"a": 1}').decode(), "encoding": "BASE64"}, ("application/jsonlines", '{"a": 1}')),
    ({"observedContentType": "application/x-npy", "mode": "INPUT",
      "data": base64.b64encode(b"\x93NUMPY").decode(), "encoding": "BASE64"}, ("application/x-npy", None)),
])
def test_capture_payloads(payload, expected):
    if expected[1] is None:                  # binary payloads are not text: refused by name
        with pytest.raises(CaptureError, match="application/x-npy"):
            decode_payload(payload)
    else:
        assert decode_payload(payload) == expected


def test_unknown_capture_encoding():
    with pytest.raises(CaptureError, match="unknown capture encoding 'GZIP'"):
        decode_payload({"observedContentType": "text/csv", "data": "", "encoding": "GZIP"})


def test_a_kll_sketch_of_several_levels_is_weighted():
    # level 0 items stand for one row each, level 1 items for two: 0..9 once, 10..19 twice
    stat = {"name": "v", "inferred_type": "Integral", "numerical_statistics": {
        "common": {"num_present": 30, "num_missing": 0},
        "distribution": {"kll": {"buckets": [], "sketch": {"parameters": {"c": 0.64, "k": 2048},
                                                            "data": [list(range(10)), list(range(10, 20))]}}}}}
    same = np.array(list(range(10)) + [v for v in range(10, 20) for _ in range(2)], dtype=float)
    out = numeric_drift(stat, same)
    assert out["distance"] == 0 and out["psi"] == pytest.approx(0, abs=1e-9)
    assert numeric_drift(stat, np.arange(20, dtype=float))["distance"] == pytest.approx(1 / 6)


def test_a_baseline_with_a_histogram_only_still_compares():
    stat = {"name": "v", "inferred_type": "Fractional", "numerical_statistics": {
        "common": {"num_present": 100, "num_missing": 0}, "distribution": {"kll": {"buckets": [
            {"lower_bound": 0.0, "upper_bound": 1.0, "count": 50.0},
            {"lower_bound": 1.0, "upper_bound": 2.0, "count": 50.0}]}}}}
    assert numeric_drift(stat, np.full(100, 0.5))["distance"] == pytest.approx(0.5)


def test_small_samples_of_the_baseline_itself_are_not_drift():
    """PSI is biased upwards on small samples (≈ (bins - 1) / n): 40 rows drawn from the
    baseline's own distribution reach PSI 0.2 on many features. Drift needs the change to
    be significant too, so they are not flagged, while a real shift still is."""
    import numpy as np
    import pandas as pd

    from aws_ml.monitoring import check_drift, suggest_baseline

    rng = np.random.default_rng(7)
    cols = [f"f{i}" for i in range(20)]
    baseline = suggest_baseline(pd.DataFrame(rng.normal(size=(2000, 20)), columns=cols))
    same = pd.DataFrame(rng.normal(size=(40, 20)), columns=cols)
    report = check_drift(baseline, same)
    assert sum(f["psi"] >= 0.2 for f in report.features) >= 5          # the bias is there...
    assert len(report.violations) <= 1                                   # ...and is not called drift
    shifted = check_drift(baseline, same + 1.0)
    assert len(shifted.violations) == 20

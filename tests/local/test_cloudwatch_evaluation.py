"""The alarm evaluation rules of the local CloudWatch (a pure function of the periods)."""
from __future__ import annotations

import pytest

from local_backends.cloudwatch.evaluation import Period, evaluate, window
from local_backends.cloudwatch.stats import Row, extended, parse_extended

CFG = {"ComparisonOperator": "GreaterThanThreshold", "Threshold": 10.0, "EvaluationPeriods": 3,
       "Period": 60, "Statistic": "Average"}


def periods(*values):
    return [Period(600.0 + 60 * i, v, 1.0 if v is not None else 0.0) for i, v in enumerate(values)]


@pytest.mark.parametrize("values, cfg, expected", [
    ((20, 20, 20), {}, "ALARM"),
    ((20, 5, 20), {}, "OK"),                                     # 3 of 3 needed
    ((20, 5, 20), {"DatapointsToAlarm": 2}, "ALARM"),
    ((None, None, 20), {}, "OK"),                                # missing periods are left out
    ((None, None, 20), {"TreatMissingData": "breaching"}, "ALARM"),
    ((None, None, 5), {"TreatMissingData": "breaching", "DatapointsToAlarm": 2}, "ALARM"),
    ((None, None, None), {}, "INSUFFICIENT_DATA"),
    ((None, None, None), {"TreatMissingData": "notBreaching"}, "OK"),
    ((None, None, None), {"TreatMissingData": "breaching"}, "ALARM"),
    ((10, 10, 10), {}, "OK"),                                    # not greater than
    ((10, 10, 10), {"ComparisonOperator": "GreaterThanOrEqualToThreshold"}, "ALARM"),
    ((1, 2, 3), {"ComparisonOperator": "LessThanThreshold"}, "ALARM"),
    ((10, 2, 3), {"ComparisonOperator": "LessThanOrEqualToThreshold", "DatapointsToAlarm": 3}, "ALARM"),
])
def test_states(values, cfg, expected):
    assert evaluate({**CFG, **cfg}, periods(*values), 800.0, "OK").state == expected


def test_ignore_keeps_the_state_without_data():
    assert evaluate({**CFG, "TreatMissingData": "ignore"}, periods(None, None, None), 800.0, "ALARM") is None


def test_reasons():
    out = evaluate({**CFG, "EvaluationPeriods": 1}, periods(20), 800.0, "OK")
    assert out.reason == ("Threshold Crossed: 1 datapoint [20.0 (01/01/70 00:10:00)] was greater than "
                          "the threshold (10.0).")
    out = evaluate(CFG, periods(5, None, 6), 800.0, "ALARM")
    assert out.reason == ("Threshold Crossed: 2 out of the last 3 datapoints [6.0 (01/01/70 00:12:00), "
                          "5.0 (01/01/70 00:10:00)] were not greater than the threshold (10.0) "
                          "(minimum 3 datapoints for ALARM -> OK transition).")
    assert out.reason_data["recentDatapoints"] == [6.0, 5.0]
    assert evaluate(CFG, periods(None, None, None), 800.0, "OK").reason == \
        "Insufficient Data: 3 datapoints were unknown."


def test_window_ends_with_the_current_period():
    assert window(1000.0, 60, 3) == (840.0, 1020.0)


@pytest.mark.parametrize("name, ok", [("p99", True), ("p99.9", True), ("p100", True), ("p0", True),
                                      ("tm90", True), ("p101", False), ("p99.999", False), ("x", False)])
def test_extended_statistic_names(name, ok):
    assert (parse_extended(name) is not None) is ok


def test_trimmed_and_percentiles():
    rows = [Row(0, "None", 10, 55, 1, 10, "[[1,1],[2,1],[3,1],[4,1],[5,1],[6,1],[7,1],[8,1],[9,1],[10,1]]")]
    assert extended(rows, "p50") == 5
    assert extended(rows, "p90") == 9
    assert extended(rows, "tm90") == pytest.approx(5.0)   # mean of 1..9
    assert extended(rows, "tc90") == 9
    assert extended(rows, "ts90") == 45
    # a statistic set with distinct values has no percentiles, as on AWS
    assert extended([Row(0, "None", 4, 20, 2, 9, None)], "p50") is None

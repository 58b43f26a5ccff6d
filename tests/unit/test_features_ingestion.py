"""How ``aws_ml.features.ingest`` turns DataFrame cells into ``ValueAsString``."""
import numpy as np
import pandas as pd
import pytest

from aws_ml.features.ingestion import IngestionReport, _as_strings
from local_backends.featurestore_common import event_time_seconds, parse_value
from local_backends.featurestore_common.values import format_event_time


def test_cells_as_strings():
    df = pd.DataFrame({"id": [1, 2], "when": pd.to_datetime(["2024-01-02 03:04:05.678", "2024-05-06"], format="ISO8601"),
                       "n": [1.0, np.nan], "x": [0.1, 2.0], "s": ["a", None], "b": [True, False]})
    types = {"id": "Integral", "when": "String", "n": "Integral", "x": "Fractional",
             "s": "String", "b": "Integral"}
    rows = _as_strings(df, types, "when")
    assert rows[0] == [("id", "1"), ("when", "2024-01-02T03:04:05.678Z"), ("n", "1"), ("x", "0.1"),
                       ("s", "a"), ("b", "1")]
    assert rows[1][1] == ("when", "2024-05-06T00:00:00.000Z")
    assert rows[1][2] == ("n", None) and rows[1][4] == ("s", None)  # missing: left out


def test_datetime_event_time_as_fractional():
    df = pd.DataFrame({"t": pd.to_datetime(["1970-01-01 00:00:01.5"], utc=True)})
    assert _as_strings(df, {"t": "Fractional"}, "t") == [[("t", "1.5")]]


def test_unknown_column_is_refused():
    with pytest.raises(ValueError, match="not a feature"):
        _as_strings(pd.DataFrame({"zzz": [1]}), {"id": "Integral"}, "t")


def test_value_parsing_and_event_times():
    assert parse_value("Integral", "-12") == -12
    assert parse_value("Fractional", "1e3") == 1000.0
    for bad_type, bad in (("Integral", "1.0"), ("Integral", str(2 ** 63)), ("Fractional", "x")):
        with pytest.raises(ValueError):
            parse_value(bad_type, bad)
    assert event_time_seconds("String", "1970-01-01T00:00:01.250Z") == 1.25
    assert event_time_seconds("Fractional", "12.5") == 12.5
    for bad in ("1970-01-01 00:00:01", "1970-01-01T00:00:01", "1970-13-01T00:00:00Z"):
        with pytest.raises(ValueError):
            event_time_seconds("String", bad)
    assert format_event_time("String", 1.25) == "1970-01-01T00:00:01.250Z"


def test_report_text():
    report = IngestionReport("g", total=3, succeeded=2, failed=[(5, "ValidationError: x")], seconds=2.0)
    assert not report.ok and report.rows_per_second == 1.0
    assert str(report) == "g: 2/3 rows ingested, 1 failed, 1 rows/s"

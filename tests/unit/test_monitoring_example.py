"""examples/evaluate_model.py runs end to end on the local backend (endpoint, capture, drift,
CloudWatch alarms, report)."""
from __future__ import annotations

import runpy
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "evaluate_model.py"

pytest.importorskip("sklearn")
pytest.importorskip("starlette")


@pytest.mark.slow
def test_evaluate_model_example(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AWS_ML_BACKEND", "local")
    runpy.run_path(str(EXAMPLE), run_name="__main__")
    out = capsys.readouterr().out
    assert "normal traffic: 1,500 captured rows, 0 violation(s); alarms {'fraud-logistic-PRAUC-below-threshold': " \
           "'OK', 'fraud-logistic-drift-violations': 'OK'}" in out
    assert "after shifted traffic: 3,000 rows against a baseline of 3,500: 3 violation(s)" in out
    assert "'fraud-logistic-drift-violations': 'ALARM'" in out
    html = (tmp_path / "model_evaluation" / "report.html").read_text(encoding="utf-8")
    assert html.count('class="chart"') == 8

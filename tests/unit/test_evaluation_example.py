"""examples/evaluate_fraud.py runs end to end on the local backend (S3, Glue, Athena, dashboard)."""
from __future__ import annotations

import runpy
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "evaluate_fraud.py"


@pytest.mark.slow
def test_evaluate_fraud_example(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AWS_ML_BACKEND", "local")
    runpy.run_path(str(EXAMPLE), run_name="__main__")
    out = capsys.readouterr().out
    assert "The target fraud is imbalanced: 164 of 5,000 rows (3.3%)" in out
    assert "From Athena: imbalanced — 1210 missing authorities_contacted" in out
    assert "Unkown" in out and "DPL" in out
    html = (tmp_path / "evaluation" / "index.html").read_text(encoding="utf-8")
    assert html.count('class="chart"') == 9

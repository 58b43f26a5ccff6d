"""The pipeline's run report in a real headless Chromium: the eight sections in order,
every chart drawn, nothing logged as an error, nothing fetched from the network."""
from __future__ import annotations

from pathlib import Path

from aws_ml import Session
from aws_ml.pipeline import run
from tests.browser.pages import open_offline
from tests.unit.pipeline_support import prerun, prerun_template  # noqa: F401


def test_run_report_renders_every_chart(browser, prerun, artifacts):
    folder, _ = prerun
    with Session(backend="local", home=folder / "home", region="us-east-1") as session:
        result = run(folder / "pipeline.yaml", session, progress=False)      # cached: a run to compare with
    assert result.executed == [] and result.previous_run_id
    page, problems = open_offline(browser, Path(result.report_html))
    try:
        ids = page.evaluate("[...document.querySelectorAll('section.card[id^=section-]')].map(s => s.id)")
        assert ids == [f"section-{n}" for n in range(1, 9)]
        charts = page.evaluate("""() => Object.fromEntries([...document.querySelectorAll('figure.chart')].map(c => [
            c.dataset.chart, [...c.querySelectorAll('rect.bar')].filter(r => r.getBoundingClientRect().width > 0
                                                                          && r.getBoundingClientRect().height > 0).length]))""")
        assert {"timings", "previous-timings", "class-balance", "informative-features"} <= set(charts), charts
        assert all(n >= 1 for n in charts.values()), charts
        assert charts["timings"] == 8 and charts["class-balance"] == 2
        text = page.inner_text("body")
        assert "Are the data balanced? Are there outliers?" in text
        assert "rows with fraud = 1 in 600" in text
        assert "Compared with the previous run" in text and "not in the file" in text
        page.screenshot(path=str(artifacts / "pipeline_run_report.png"), full_page=True)
    finally:
        page.close()
    assert problems == {"console": [], "page": [], "network": []}


def test_corrective_iterations_are_drawn_in_section_8(browser, tmp_path, artifacts):
    from tests.unit.pipeline_support import small_pipeline, write_pipeline

    spec = small_pipeline(tmp_path, evaluation=None,
                          training={"hyperparameters": {"num_round": 10, "max_depth": 2}},
                          tuning={"strategy": "random", "max_jobs": 2, "ranges": {"max_depth": [2, 4]},
                                  "run": "on_miss", "actions": ["tune"], "max_iterations": 2})
    spec["problem"]["threshold"] = 0.97
    with Session(backend="local", home=tmp_path / "home", region="us-east-1") as session:
        result = run(write_pipeline(tmp_path, spec), session, progress=False)
    assert result.ok
    page, problems = open_offline(browser, Path(result.report_html))
    try:
        bars = page.evaluate("""() => [...document.querySelectorAll('#section-8 figure.chart[data-chart="corrective-iterations"] rect.bar')]
                                   .filter(r => r.getBoundingClientRect().width > 0).length""")
        assert bars == 2                                  # the initial model and the one iteration
        rows = page.evaluate("() => document.querySelectorAll('#section-8 table.iterations tr').length")
        assert rows == 2                                  # header + iteration 1
        assert "short of the target 0.97" in page.inner_text("#section-8")
        page.locator("#section-8").screenshot(path=str(artifacts / "pipeline_run_report_section8.png"))
    finally:
        page.close()
    assert problems == {"console": [], "page": [], "network": []}

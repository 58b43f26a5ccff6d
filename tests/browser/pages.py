"""Opening a self-contained HTML page in Chromium the way every browser test does."""
from __future__ import annotations

from pathlib import Path

CHARTS_DRAWN = ("() => [...document.querySelectorAll('.chart')]"
                ".every(c => c.querySelector('.js-plotly-plot .main-svg'))")


def open_offline(browser, path: Path, ready: str | None = None):
    """Open ``path`` with every non-``file://`` request blocked; returns the page and the
    problems seen: ``{"console": [...], "page": [...], "network": [...]}``. ``ready`` is a
    JavaScript predicate to wait for after the load."""
    page = browser.new_page()
    problems: dict[str, list[str]] = {"console": [], "page": [], "network": []}
    page.on("console", lambda m: problems["console"].append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems["page"].append(str(e)))

    def guard(route):
        if route.request.url.startswith("file://"):
            route.continue_()
        else:
            problems["network"].append(route.request.url)
            route.abort()

    page.route("**/*", guard)
    page.goto(path.as_uri(), wait_until="load")
    if ready:
        page.wait_for_function(ready)
    return page, problems


def rendered_charts(page) -> dict[str, int]:
    """``{chart name: number of plotly SVG layers drawn in it}``."""
    return page.evaluate("""() => Object.fromEntries([...document.querySelectorAll('.chart')].map(
        c => [c.dataset.chart, c.querySelectorAll('.js-plotly-plot .main-svg').length]))""")

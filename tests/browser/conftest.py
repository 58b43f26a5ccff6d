"""Browser tests: the HTML dashboards opened in a real headless Chromium (Debian's package),
driven by Playwright's Python package.

Chromium comes from ``apt-get install chromium`` (``tests/browser/setup_chromium.sh``); never
from ``playwright install``, which downloads a browser build. Without Chromium or Playwright
the tests are skipped on a developer's machine and **fail** on CI (``CI=true``).
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-quic", "--disable-sync"]
SETUP_HINT = "run `bash tests/browser/setup_chromium.sh` and `pip install playwright`"


def chromium_path() -> str | None:
    """``AWS_ML_CHROMIUM``, else Debian's ``/usr/bin/chromium``, else ``chromium`` on PATH."""
    for candidate in (os.environ.get("AWS_ML_CHROMIUM"), "/usr/bin/chromium"):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return shutil.which("chromium") or shutil.which("chromium-browser")


def _unavailable(reason: str):
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"browser tests cannot run on CI: {reason} ({SETUP_HINT})", pytrace=False)
    pytest.skip(f"{reason} ({SETUP_HINT})")


@pytest.fixture(scope="session")
def chromium_executable() -> str:
    path = chromium_path()
    if path is None:
        _unavailable("Chromium is not installed (/usr/bin/chromium is missing)")
    return path


@pytest.fixture(scope="session")
def playwright_api():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright Python package is not installed")
    with sync_playwright() as api:
        yield api


@pytest.fixture(scope="module")
def browser(playwright_api, chromium_executable, tmp_path_factory):
    """A headless Chromium with a fresh profile (user-data-dir) of its own."""
    profile = tmp_path_factory.mktemp("chromium-profile")
    context = playwright_api.chromium.launch_persistent_context(
        str(profile), executable_path=chromium_executable, headless=True, args=CHROMIUM_ARGS,
        viewport={"width": 1400, "height": 900})
    context.set_default_timeout(60_000)
    yield context
    context.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """``tests/artifacts/`` (gitignored): screenshots for a person to look at."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS

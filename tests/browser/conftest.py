"""Headless Chromium for the browser tests, driven by selenium with the system browser and driver.

Every test in this folder is marked ``browser``. Without chromium, chromedriver or selenium the
tests skip with the reason locally, but fail when ``CI=true``: in CI the browser tests must run.
Selenium Manager never downloads anything here, because the driver path is given explicitly.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from selenium.webdriver import Chrome

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "artifacts" / "browser"
CHROMIUM = os.environ.get("NETLAB_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("NETLAB_CHROMEDRIVER", "/usr/bin/chromedriver")
CHROME_ARGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-dev-shm-usage",
    "--window-size=1280,900",
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every test collected from this folder as a browser test."""
    here = Path(__file__).resolve().parent
    for item in items:
        if here in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.browser)


def browser_problem() -> str | None:
    """Why the browser tests cannot run on this machine, or None when they can."""
    for what, path in (("chromium", CHROMIUM), ("chromedriver", CHROMEDRIVER)):
        if not (os.path.isfile(path) and os.access(path, os.X_OK)) and shutil.which(path) is None:
            return f"{what} not found at {path} (apt-get install chromium chromium-driver)"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install selenium==4.52.0)"
    return None


def _skip_or_fail(reason: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"browser tests must run in CI: {reason}")
    pytest.skip(reason)


@pytest.fixture
def chrome() -> Iterator[Chrome]:
    """A headless Chromium session; quit at teardown even if the test failed."""
    problem = browser_problem()
    if problem:
        _skip_or_fail(problem)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in CHROME_ARGS:
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def screenshot(chrome: Any) -> Callable[[str], Path]:
    """``screenshot(name)`` saves ``artifacts/browser/<name>.png`` and returns its path."""

    def take(name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        if not chrome.save_screenshot(str(path)):
            raise AssertionError(f"chromium could not save screenshot {path}")
        return path

    return take

"""Headless Chromium for the tests: the page from a file:// URL, with no network.

In CI (``MINEMAP_REQUIRE_BROWSER=1``) a missing piece is a failure, elsewhere a skip.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest

#: In CI every missing piece (Chromium, ChromeDriver, selenium) is a failure, not a skip.
REQUIRED = os.environ.get("MINEMAP_REQUIRE_BROWSER") == "1"
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")

# record alert() calls and payload side effects before any page script runs
GUARD = """
window.__alerts = [];
window.alert = function (m) { window.__alerts.push(String(m)); };
window.confirm = window.prompt = window.alert;
"""


def missing() -> list[str]:
    """What the browser tests need and this machine lacks."""
    found = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    if importlib.util.find_spec("selenium") is None:
        found.append("the selenium package")
    return found


def require_browser() -> None:
    """Skip the calling test module (fail it in CI) when Chromium cannot run."""
    lacking = missing()
    if not lacking:
        return
    why = (
        f"headless Chromium tests need {', '.join(lacking)} (Debian packages chromium "
        "and chromium-driver, and pip's selenium); .ci/run installs them"
    )
    if REQUIRED:
        pytest.fail(f"MINEMAP_REQUIRE_BROWSER=1: {why}", pytrace=False)
    pytest.skip(why, allow_module_level=True)


def chromium(profile: Path, *, window: str = "1200,800", performance: bool = False):
    """A headless Chromium driver cut off from the network (``performance=True`` also logs
    every request the page makes, see :func:`requests`)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
        "--disable-sync",
        f"--window-size={window}",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(arg)
    prefs = {"browser": "ALL"}
    if performance:
        prefs["performance"] = "ALL"
    options.set_capability("goog:loggingPrefs", prefs)
    chrome = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    # offline: the page must not need the network, so cut it off
    chrome.execute_cdp_cmd("Network.enable", {})
    chrome.execute_cdp_cmd(
        "Network.emulateNetworkConditions",
        {"offline": True, "latency": 0, "downloadThroughput": 0, "uploadThroughput": 0},
    )
    chrome.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": GUARD})
    return chrome


def requests(chrome) -> list[str]:
    """URLs the page asked for since the last call (needs ``performance=True``)."""
    import json

    urls = []
    for entry in chrome.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message.get("method") == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    return urls

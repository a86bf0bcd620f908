"""Render the sample data's report in headless Chromium and save docs/img/report.png.

Run from the repository root (needs Debian's chromium and chromium-driver)::

    python docs/make_report_screenshot.py
"""

from __future__ import annotations

import tempfile
import tomllib
import warnings
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.service import Service

import minemap
from minemap.planning import Capacity
from minemap.planning.template import capacity_template
from minemap.report import build_report

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "img" / "report.png"
WIDTH, HEIGHT = 1000, 1250


def main() -> None:
    project = minemap.open_project(ROOT / "sample_data", name="Sample scenario (synthetic data)")
    project.capacity = Capacity.from_dict(tomllib.loads(capacity_template()))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the sample's 37.05 ha released outside hazards
        report = build_report(project, start="2026-01-01", draws=200, seed=1)
    with tempfile.TemporaryDirectory() as tmp:
        page = Path(tmp) / "report.html"
        report.save(page)
        options = webdriver.ChromeOptions()
        for arg in (
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--hide-scrollbars",
            f"--window-size={WIDTH},{HEIGHT}",
            f"--user-data-dir={tmp}/profile",
        ):
            options.add_argument(arg)
        driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
        try:
            driver.execute_cdp_cmd(
                "Emulation.setDeviceMetricsOverride",
                {"width": WIDTH, "height": HEIGHT, "deviceScaleFactor": 1, "mobile": False},
            )
            driver.get(page.as_uri())
            driver.save_screenshot(str(OUT))
        finally:
            driver.quit()
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()

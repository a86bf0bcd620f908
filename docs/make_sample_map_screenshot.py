"""Render the sample-data map offline in headless Chromium and save docs/img/sample_map.png.

Run from the repository root (needs Debian's chromium and chromium-driver)::

    python docs/make_sample_map_screenshot.py
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.service import Service

import minemap
from minemap.maps import hazard_map, save_map

ROOT = Path(__file__).resolve().parents[1]
GPKG = ROOT / "sample_data" / "scenario.gpkg"
OUT = ROOT / "docs" / "img" / "sample_map.png"


def main() -> None:
    hazards, releases = minemap.read_hazards(GPKG), minemap.read_releases(GPKG)
    context = {
        kind: minemap.read_features(GPKG, kind=kind)
        for kind in ("roads", "infrastructure", "residential", "districts")
    }
    fmap = hazard_map(
        hazards, releases, title="Sample scenario (synthetic data)", tiles=None, **context
    )
    with tempfile.TemporaryDirectory() as tmp:
        page = Path(tmp) / "sample.html"
        save_map(fmap, page, offline=True)
        options = webdriver.ChromeOptions()
        for arg in (
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--disable-component-update",
            "--no-first-run",
            "--disable-sync",
            "--window-size=1400,900",
            "--hide-scrollbars",
            f"--user-data-dir={tmp}/profile",
        ):
            options.add_argument(arg)
        driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
        try:
            driver.execute_cdp_cmd(
                "Emulation.setDeviceMetricsOverride",
                {"width": 1400, "height": 900, "deviceScaleFactor": 1, "mobile": False},
            )
            driver.get(page.as_uri())
            deadline = time.monotonic() + 60
            while not driver.execute_script("return !!(window.minemap && window.minemap.ready)"):
                if time.monotonic() > deadline:
                    raise TimeoutError("the map did not finish drawing within 60 s")
                time.sleep(0.05)
            time.sleep(0.5)
            driver.save_screenshot(str(OUT))
        finally:
            driver.quit()


if __name__ == "__main__":
    main()

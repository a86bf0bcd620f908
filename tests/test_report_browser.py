"""The report in a real browser: headless Chromium from file://, no network request, no
console error, every table and image present and the embedded map drawn."""

from __future__ import annotations

import time
import warnings

import pytest
from _browser import chromium, requests, require_browser

from minemap.report import build_report

pytestmark = pytest.mark.browser
require_browser()


@pytest.fixture(scope="module")
def driver(tmp_path_factory):
    chrome = chromium(tmp_path_factory.mktemp("chromium-profile"), performance=True)
    yield chrome
    chrome.quit()


@pytest.fixture(scope="module")
def report_file(tmp_path_factory, sample_data):
    import tomllib

    from minemap.planning import Capacity
    from minemap.planning.template import capacity_template
    from minemap.project import open_project

    project = open_project(sample_data)
    project.capacity = Capacity.from_dict(tomllib.loads(capacity_template()))
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"37\.05 ha of recorded release")
        warnings.filterwarnings("ignore", message=r".*3 find\(s\) \(3 devices\) lie outside")
        report = build_report(project, start="2026-01-01", draws=30, seed=2)
    path = tmp_path_factory.mktemp("report") / "report.html"
    report.save(path)
    return path, report


def test_the_report_opens_offline_with_every_part_and_no_request(driver, report_file):
    path, report = report_file
    driver.get_log("browser")
    driver.get_log("performance")
    driver.get(path.as_uri())
    # a frame out of sight gets no animation frames: bring the map into view, as a reader does
    driver.execute_script("document.querySelector('iframe.map').scrollIntoView()")
    end = time.monotonic() + 30
    while True:  # the frame's document replaces its first blank one: look again each time
        driver.switch_to.default_content()
        driver.switch_to.frame(driver.find_element("css selector", "iframe.map"))
        if driver.execute_script("return !!(window.minemap && window.minemap.ready)"):
            break
        assert time.monotonic() < end, "the report's map never finished drawing"
        time.sleep(0.1)
    drawn = driver.execute_script("return window.minemap.drawn")
    driver.switch_to.default_content()
    assert drawn["hazard-high"] == 60 and drawn["roads"] == 30
    assert [e for e in driver.get_log("browser") if e["level"] in ("SEVERE", "WARNING")] == []
    asked = [u for u in requests(driver) if not u.startswith(("data:", "about:"))]
    assert asked == [path.as_uri()]  # the page itself, and nothing else
    tables = driver.execute_script("return document.querySelectorAll('table').length")
    assert tables == report.html.count("<table")
    images = driver.execute_script(
        "return Array.from(document.images).map(i => [i.complete, i.naturalWidth, i.className])"
    )
    assert len(images) == 3 and all(ok and width > 100 for ok, width, _ in images)
    key = driver.find_element("id", "key-figures").text
    total = report.figures["summary"].set_index("threat_level").loc["total", "hazard_ha"]
    assert f"{total:,.1f}" in key


def test_the_print_shows_the_static_map_instead_of_the_frame(driver, report_file):
    path, _ = report_file
    driver.get(path.as_uri())
    driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    try:
        shown = driver.execute_script(
            "return [getComputedStyle(document.querySelector('iframe.map')).display,"
            " getComputedStyle(document.querySelector('img.print-only')).display]"
        )
    finally:
        driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})
    assert shown == ["none", "block"]

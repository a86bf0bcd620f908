"""Benchmark: an HTML map of the 100,000-polygon synthetic scenario.

Times ``hazard_map`` + ``save_map(offline=True)`` (median of ``--repeat`` runs), reports the
file size, and the time headless Chromium takes to open the file and draw every layer.

Budget (issue 4): save < 10 s, file < 10 MB, open with every layer drawn < 15 s.

Usage::

    python benchmarks/bench_map.py                 # 100,000 hazards
    python benchmarks/bench_map.py --hazards 20000 --repeat 1
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import warnings
from pathlib import Path


def _open_in_chromium(path: Path, timeout: float = 120.0) -> tuple[float, dict, list]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update",
                "--no-first-run", "--disable-sync", "--window-size=1400,900",
                f"--user-data-dir={tempfile.mkdtemp()}"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    driver.set_script_timeout(timeout)
    driver.set_page_load_timeout(timeout)
    try:
        driver.get("about:blank")
        start = time.perf_counter()
        driver.get(path.resolve().as_uri())
        while not driver.execute_script("return !!(window.minemap && window.minemap.ready)"):
            if time.perf_counter() - start > timeout:
                raise TimeoutError("the map did not finish drawing")
            time.sleep(0.02)
        elapsed = time.perf_counter() - start
        drawn = driver.execute_script("return window.minemap.drawn")
        errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    finally:
        driver.quit()
    return elapsed, drawn, errors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hazards", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", default=None, help="keep the HTML here")
    parser.add_argument("--no-browser", action="store_true")
    args = parser.parse_args()

    from minemap import io
    from minemap.maps import hazard_map, save_map
    from minemap.synthetic import make_scenario

    scale = args.hazards / 100_000
    t0 = time.perf_counter()
    s = make_scenario(n_hazards=args.hazards, high_ha=150_000 * scale,
                      medium_ha=400_000 * scale, low_ha=275_000 * scale, seed=1)
    print(f"scenario: {len(s.hazards):,} hazards, {len(s.releases):,} releases, "
          f"{len(s.roads):,} roads, {len(s.infrastructure):,} infrastructure, "
          f"{len(s.residential):,} residential, {len(s.districts)} districts "
          f"(made in {time.perf_counter() - t0:.1f} s)")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        layers = dict(hazards=io.read_hazards(s.hazards), releases=io.read_releases(s.releases),
                      roads=io.read_features(s.roads, kind="roads"),
                      infrastructure=io.read_features(s.infrastructure, kind="infrastructure"),
                      residential=io.read_features(s.residential, kind="residential"),
                      districts=io.read_features(s.districts, kind="districts"))
    out = Path(args.out) if args.out else Path(tempfile.mkdtemp()) / "bench_map.html"
    build, save = [], []
    for run in range(args.repeat):
        t = time.perf_counter()
        fmap = hazard_map(layers["hazards"], layers["releases"], roads=layers["roads"],
                          infrastructure=layers["infrastructure"],
                          residential=layers["residential"], districts=layers["districts"],
                          title="Benchmark scenario", tiles=None)
        t1 = time.perf_counter()
        save_map(fmap, out, offline=True)
        build.append(t1 - t)
        save.append(time.perf_counter() - t1)
        print(f"run {run + 1}: hazard_map {build[-1]:.2f} s, save_map {save[-1]:.2f} s",
              flush=True)
    total = [b + s_ for b, s_ in zip(build, save, strict=True)]
    size = out.stat().st_size / 1e6
    rows = [("hazard_map (exact figures + display layers)", f"{statistics.median(build):.2f} s"),
            ("save_map(offline=True)", f"{statistics.median(save):.2f} s"),
            ("hazard_map + save_map (budget < 10 s)", f"{statistics.median(total):.2f} s"),
            ("file size (budget < 10 MB)", f"{size:.2f} MB")]
    if not args.no_browser:
        elapsed, drawn, errors = _open_in_chromium(out)
        rows.append(("open in headless Chromium, every layer drawn (budget < 15 s)",
                     f"{elapsed:.2f} s"))
        rows.append(("layers drawn", ", ".join(f"{k}={v}" for k, v in sorted(drawn.items()))))
        rows.append(("console errors", str(len(errors))))
    width = max(len(r[0]) for r in rows)
    print(f"\n{'measure':<{width}}  result")
    print(f"{'-' * width}  {'-' * 12}")
    for name, value in rows:
        print(f"{name:<{width}}  {value}")
    print(f"\n(median of {args.repeat}; map written to {out})")


if __name__ == "__main__":
    main()

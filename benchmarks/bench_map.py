"""Benchmark: an HTML map of 100,000 hazard polygons, built, saved and opened in Chromium.

Times ``hazard_map`` + ``save_map(offline=True)`` (median of ``--repeat`` runs), reports the
file size, and opens the file ``--repeat`` times in headless Chromium: the time until every
layer is drawn (the runtime sets ``minemap.ready`` two animation frames after its first
full draw; the benchmark also waits for the view's first zoom to end and be drawn), then
pan and zoom redraws (``panBy``/``setZoom`` without animation, timed in the page until
``moveend`` plus two animation frames).

Scenarios: minemap's own synthetic scenario (default), or ``--external``: blob-shaped
hazards from ``benchmarks/blobs.py``, a generator that shares nothing with
``minemap.synthetic``.

Budget (issue 4): save < 10 s, file < 10 MB, open with every layer drawn < 15 s.
Budget (issue 10, item 14): the external map opens in < 5 s and a pan redraws only what
comes into view.

Usage::

    python benchmarks/bench_map.py                 # 100,000 hazards
    python benchmarks/bench_map.py --external      # 100,000 external blobs
    python benchmarks/bench_map.py --hazards 20000 --repeat 1
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import warnings
from pathlib import Path

# timed in the page: a move, then moveend, then two animation frames (the frame drawn)
_MOVE_JS = """
var done = arguments[arguments.length - 1], map = window.minemap.map, kind = arguments[0];
var start = performance.now();
map.once("moveend", function () {
  requestAnimationFrame(function () {
    requestAnimationFrame(function () { done(performance.now() - start); });
  });
});
if (kind === "pan") { map.panBy([arguments[1], arguments[2]], {animate: false}); }
else { map.setZoom(map.getZoom() + arguments[1], {animate: false}); }
"""


# fitBounds may still be animating the first zoom when the runtime says it is ready: wait
# for it to end and for the frame drawn after it
_SETTLED_JS = """
var done = arguments[arguments.length - 1], map = window.minemap.map;
function frame() { requestAnimationFrame(function () { requestAnimationFrame(done); }); }
if (map._animatingZoom) { map.once("moveend", frame); } else { frame(); }
"""


def _moves(driver) -> dict[str, float]:
    """Median redraw times (ms) of four pans, a zoom in and a zoom out."""
    pans = [
        driver.execute_async_script(_MOVE_JS, "pan", dx, dy)
        for dx, dy in ((300, 0), (0, 250), (-300, 0), (0, -250))
    ]
    zoom_in = driver.execute_async_script(_MOVE_JS, "zoom", 1)
    zoom_out = driver.execute_async_script(_MOVE_JS, "zoom", -1)
    return {"pan": statistics.median(pans), "zoom in": zoom_in, "zoom out": zoom_out}


def _open_in_chromium(
    path: Path, timeout: float = 120.0
) -> tuple[float, dict, list, dict[str, float]]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

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
        f"--user-data-dir={tempfile.mkdtemp()}",
    ):
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
        driver.execute_async_script(_SETTLED_JS)
        elapsed = time.perf_counter() - start
        drawn = driver.execute_script("return window.minemap.drawn")
        moves = _moves(driver)
        errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    finally:
        driver.quit()
    return elapsed, drawn, errors, moves


def _runs(values: list[float], unit: str = "s", digits: int = 2) -> str:
    each = ", ".join(f"{v:.{digits}f}" for v in values)
    return f"{statistics.median(values):.{digits}f} {unit} (runs: {each})"


def _external(n: int) -> dict:
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from blobs import make_blobs

    from minemap import io

    t0 = time.perf_counter()
    hazards, releases = make_blobs(n, max(3, round(3_000 * n / 100_000)))
    print(
        f"external blobs: {len(hazards):,} hazards, {len(releases):,} releases "
        f"(made in {time.perf_counter() - t0:.1f} s)"
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return dict(hazards=io.read_hazards(hazards), releases=io.read_releases(releases))


def _synthetic(n: int) -> dict:
    from minemap import io
    from minemap.synthetic import make_scenario

    scale = n / 100_000
    t0 = time.perf_counter()
    s = make_scenario(
        n_hazards=n,
        high_ha=150_000 * scale,
        medium_ha=400_000 * scale,
        low_ha=275_000 * scale,
        seed=1,
    )
    print(
        f"scenario: {len(s.hazards):,} hazards, {len(s.releases):,} releases, "
        f"{len(s.roads):,} roads, {len(s.infrastructure):,} infrastructure, "
        f"{len(s.residential):,} residential, {len(s.districts)} districts "
        f"(made in {time.perf_counter() - t0:.1f} s)"
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return dict(
            hazards=io.read_hazards(s.hazards),
            releases=io.read_releases(s.releases),
            roads=io.read_features(s.roads, kind="roads"),
            infrastructure=io.read_features(s.infrastructure, kind="infrastructure"),
            residential=io.read_features(s.residential, kind="residential"),
            districts=io.read_features(s.districts, kind="districts"),
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hazards", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", default=None, help="keep the HTML here")
    parser.add_argument("--no-browser", action="store_true")
    parser.add_argument(
        "--external",
        action="store_true",
        help="blob-shaped hazards from benchmarks/blobs.py, not minemap's own",
    )
    args = parser.parse_args()

    from minemap.maps import hazard_map, save_map

    if args.external:
        layers = _external(args.hazards)
    else:
        layers = _synthetic(args.hazards)
    out = Path(args.out) if args.out else Path(tempfile.mkdtemp()) / "bench_map.html"
    build, save = [], []
    for run in range(args.repeat):
        t = time.perf_counter()
        fmap = hazard_map(
            layers["hazards"],
            layers["releases"],
            roads=layers.get("roads"),
            infrastructure=layers.get("infrastructure"),
            residential=layers.get("residential"),
            districts=layers.get("districts"),
            title="Benchmark scenario",
            tiles=None,
        )
        t1 = time.perf_counter()
        save_map(fmap, out, offline=True)
        build.append(t1 - t)
        save.append(time.perf_counter() - t1)
        print(f"run {run + 1}: hazard_map {build[-1]:.2f} s, save_map {save[-1]:.2f} s", flush=True)
    total = [b + s_ for b, s_ in zip(build, save, strict=True)]
    size = out.stat().st_size / 1e6
    rows = [
        ("hazard_map (exact figures + display layers)", f"{statistics.median(build):.2f} s"),
        ("save_map(offline=True)", f"{statistics.median(save):.2f} s"),
        ("hazard_map + save_map (budget < 10 s)", f"{statistics.median(total):.2f} s"),
        ("file size (budget < 10 MB)", f"{size:.2f} MB"),
    ]
    rows[:3] = [
        (name, _runs(values))
        for (name, _), values in zip(rows[:3], (build, save, total), strict=True)
    ]
    if not args.no_browser:
        opened, moves, errors = [], [], []
        for _ in range(args.repeat):
            elapsed, drawn, errs, move = _open_in_chromium(out)
            print(
                f"open {elapsed:.2f} s, " + ", ".join(f"{k} {v:.0f} ms" for k, v in move.items()),
                flush=True,
            )
            opened.append(elapsed)
            moves.append(move)
            errors.extend(errs)
        rows.append(("open in headless Chromium, every layer drawn", _runs(opened)))
        for key in moves[0]:
            rows.append(
                (f"{key} redraw (moveend + 2 frames)", _runs([m[key] for m in moves], "ms", 0))
            )
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

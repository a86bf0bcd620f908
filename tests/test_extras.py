"""Optional dependencies (``minemap._extras``): the computation runs without any extra, and
whatever needs one says, in one line, which to install."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from minemap._errors import MissingDependencyError
from minemap._extras import require
from minemap.cli import run

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data" / "scenario.gpkg"

#: Makes the optional packages unimportable, as in an environment installed without extras.
_BLOCK = """
import sys
BLOCKED = {"folium", "matplotlib", "xstatic", "rasterio", "exactextract", "branca", "dask",
           "distributed", "dask_geopandas"}
class Blocker:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None
sys.meta_path.insert(0, Blocker())
"""


def _without_extras(code: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", _BLOCK + code],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=300,
    )


def _cli(args: list[str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    return _without_extras(f"from minemap.cli import main\nmain({args!r})", tmp_path)


def test_require_names_the_extra_and_the_package(monkeypatch):
    monkeypatch.setitem(sys.modules, "xstatic.pkg.leaflet", None)  # as if not installed
    with pytest.raises(MissingDependencyError, match=r"^static maps needs xstatic-leaflet, "):
        require("json", "xstatic.pkg.leaflet", extra="maps", purpose="static maps")
    with pytest.raises(ImportError, match=r"pip install 'minemap\[maps\]'$"):
        require("not_a_module_a", "not_a_module_b", extra="maps", purpose="x")


def test_the_computation_runs_without_any_extra(tmp_path, capsys):
    gpkg = str(SAMPLE)
    summary = _cli(["summary", gpkg, "--released", gpkg, "--format", "csv"], tmp_path)
    assert summary.returncode == 0, summary.stderr
    assert run(["summary", gpkg, "--released", gpkg, "--format", "csv"]) == 0
    assert summary.stdout == capsys.readouterr().out  # the same table, to the last digit

    priority = _cli(
        ["priority", gpkg, "--released", gpkg, "--roads", gpkg, "--residential", gpkg]
        + ["-o", "zones.gpkg", "--ranking", "ranking.csv"],
        tmp_path,
    )
    assert priority.returncode == 0, priority.stderr
    assert (tmp_path / "zones.gpkg").stat().st_size > 0
    assert len((tmp_path / "ranking.csv").read_text().splitlines()) > 100

    library = _without_extras(
        "import minemap, sys\n"
        f"h = minemap.read_hazards({gpkg!r})\n"
        f"r = minemap.read_releases({gpkg!r})\n"
        "t = minemap.land_release_summary(h, r)\n"
        "p = minemap.progress_over_time(h, r, freq='YE')\n"
        "print(round(float(t.set_index('threat_level').loc['total', 'hazard_ha'])))\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'folium', 'matplotlib', 'rasterio', 'exactextract'}))",
        tmp_path,
    )
    assert library.returncode == 0, library.stderr
    assert library.stdout.split() == ["5500", "[]"]


@pytest.mark.parametrize(
    ("args", "extra"),
    [
        (["map", "{gpkg}", "-o", "map.html"], "maps"),
        (["progress", "{gpkg}", "--released", "{gpkg}", "--chart", "chart.png"], "maps"),
        (
            ["priority", "{gpkg}", "--roads", "{gpkg}", "--population", "pop.tif"]
            + ["-o", "zones.gpkg"],
            "population",
        ),
    ],
)
def test_a_missing_extra_is_one_line_naming_it(args, extra, tmp_path):
    done = _cli([a.format(gpkg=SAMPLE) for a in args], tmp_path)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert lines[-1].startswith("minemap: error: ")
    assert lines[-1].endswith(f"install it with: pip install 'minemap[{extra}]'")
    assert "Traceback" not in done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # nothing half-written


def test_the_synthetic_generator_names_its_extra(tmp_path):
    done = _without_extras(
        "import minemap.synthetic",
        tmp_path,
    )
    assert done.returncode == 1
    assert done.stderr.strip().splitlines()[-1] == (
        "minemap._errors.MissingDependencyError: the synthetic scenario generator needs "
        "rasterio, which is not installed; install it with: pip install 'minemap[synthetic]'"
    )


def test_the_dask_path_names_its_extra(tmp_path: Path) -> None:
    done = _without_extras(
        "import geopandas as gpd, shapely, sys\n"
        "import minemap, minemap.partitioned as part\n"
        "hz = gpd.GeoDataFrame({'hazard_id': ['H1'], 'threat_level': ['high']},\n"
        "    geometry=[shapely.box(0, 0, 10, 10)], crs=32638)\n"
        "print(part.partition_components(hz, npartitions=2).tolist())\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in {'dask', 'distributed'}))\n"
        "part.land_release_summary(hz)",
        tmp_path,
    )
    assert done.returncode == 1
    assert done.stdout.split("\n")[:2] == ["[0]", "[]"]
    assert done.stderr.strip().splitlines()[-1] == (
        "minemap._errors.MissingDependencyError: running on a Dask cluster needs dask, "
        "distributed, dask-geopandas, which are not installed; install it with: "
        "pip install 'minemap[dask]'"
    )

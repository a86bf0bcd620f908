"""Tests of the ``minemap map`` command."""

from __future__ import annotations

import pytest
from test_maps_interactive import _districts, _hazards, _releases, _roads

from minemap.cli import run


@pytest.fixture()
def files(tmp_path):
    paths = {}
    for name, layer in (("hazards", _hazards()), ("releases", _releases()),
                        ("roads", _roads()), ("districts", _districts())):
        paths[name] = tmp_path / f"{name}.geojson"
        layer.to_file(paths[name], driver="GeoJSON")
    return paths


def test_map_command_writes_offline_html(files, tmp_path, capsys):
    out = tmp_path / "map.html"
    status = run(["map", str(files["hazards"]), "--released", str(files["releases"]),
                  "--roads", str(files["roads"]), "--districts", str(files["districts"]),
                  "-o", str(out), "--offline", "--title", "Field <team> map"])
    assert status == 0
    page = out.read_text(encoding="utf-8")
    assert "//" not in page
    assert "Field &lt;team&gt; map" in page
    assert "minemap.addLayer" in page and "district" in page
    err = capsys.readouterr().err
    assert "outside every hazard" in err or err == "" or "warning" in err


def test_map_command_public_grid(files, tmp_path):
    out = tmp_path / "public.html"
    assert run(["map", str(files["hazards"]), "--released", str(files["releases"]),
                "-o", str(out), "--offline", "--public-grid", "500"]) == 0
    page = out.read_text(encoding="utf-8")
    assert '"n":"grid-high"' in page and '"n":"hazard-high"' not in page


def test_map_command_online_default_has_basemap(files, tmp_path):
    out = tmp_path / "online.html"
    assert run(["map", str(files["hazards"]), "-o", str(out)]) == 0
    assert "tile.openstreetmap.org" in out.read_text(encoding="utf-8")


def test_map_command_errors_are_one_line(files, tmp_path, capsys):
    status = run(["map", str(tmp_path / "missing.gpkg"), "-o", str(tmp_path / "m.html")])
    assert status == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("minemap: error:")
    status = run(["map", str(files["hazards"]), "-o", str(tmp_path / "no" / "m.html")])
    assert status == 2
    assert not (tmp_path / "no").exists()


def test_local_tiles_without_attribution_get_a_default(files, tmp_path, capsys):
    out = tmp_path / "map.html"
    status = run(["map", str(files["hazards"]), "--tiles", "tiles/{z}/{x}/{y}.png", "-o",
                  str(out)])
    assert status == 0, capsys.readouterr().err
    assert "--attribution" in out.read_text(encoding="utf-8")

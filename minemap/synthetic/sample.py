"""The sample scenario, written from the installed package.

The repository ships ``sample_data/``; a wheel does not (data files beside a package are not
code). :func:`sample_data` writes the same files, drawn again from the same seed, wherever a
user asks, so that the README's and the notebooks' commands work after ``pip install``
too. The test suite checks that what it writes equals the repository's ``sample_data/``.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import TypedDict

from minemap import __version__
from minemap._errors import OutputError
from minemap.io.layer_folders import check_not_in_layer
from minemap.synthetic.evidence import field_evidence, write_field_evidence
from minemap.synthetic.scenario import make_scenario, write_population_raster, write_scenario

__all__ = ["SAMPLE_EVIDENCE", "SAMPLE_FILES", "SAMPLE_SEED", "sample_data"]

#: The seed the sample scenario (``python -m minemap.synthetic --seed 42``) and its field
#: evidence are drawn from.
SAMPLE_SEED = 42


class _EvidenceSizes(TypedDict):
    n_finds: int
    n_incidents: int
    n_records: int
    n_settlements: int


#: How much field evidence the sample holds (options of :func:`field_evidence`).
SAMPLE_EVIDENCE: _EvidenceSizes = {
    "n_finds": 300,
    "n_incidents": 60,
    "n_records": 40,
    "n_settlements": 60,
}

#: The files of the sample scenario (the layers once as a GeoPackage, once as GeoJSON files
#: and, for incidents, a CSV file; the population raster; and a notice that all of it is
#: invented).
SAMPLE_FILES: tuple[str, ...] = (
    "scenario.gpkg",
    "hazards.geojson",
    "releases.geojson",
    "roads.geojson",
    "infrastructure.geojson",
    "residential.geojson",
    "districts.geojson",
    "incidents.csv",
    "finds.geojson",
    "records.geojson",
    "settlements.geojson",
    "population.tif",
    "SYNTHETIC.txt",
)

_NOTICE = """\
Everything in this folder is SYNTHETIC. It was drawn by minemap {version} from a seeded
random generator (seed {seed}; "minemap sample-data DIR" writes it again). These are not real
minefield locations, land releases, roads, settlements, facilities, populations,
administrative boundaries, incidents, device finds or minefield records. Do not use these
files for any operational purpose.

scenario.gpkg holds ten layers: hazards, releases, roads, infrastructure, residential,
districts, incidents, finds, records and settlements; the *.geojson files and incidents.csv
hold the same layers one per file; population.tif is people per 100 m cell.

Try:
    minemap summary {folder}/scenario.gpkg --released {folder}/scenario.gpkg
"""


def _cache_folder() -> Path:
    """``$XDG_CACHE_HOME/minemap`` (``~/.cache/minemap`` by default)."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "minemap" / f"sample_data-{__version__}"


def sample_data(directory: str | os.PathLike[str] | None = None) -> Path:
    """Write the sample scenario (the repository's ``sample_data/``) and return its folder.

    Parameters
    ----------
    directory : str or os.PathLike, optional
        Where to write the files; created if missing. It must not already hold any of
        :data:`SAMPLE_FILES`: nothing is overwritten. By default the files go to a folder in
        the user's cache (``$XDG_CACHE_HOME/minemap/`` or ``~/.cache/minemap/``), written on
        the first call and reused afterwards.

    Returns
    -------
    pathlib.Path
        The folder holding :data:`SAMPLE_FILES`.

    Raises
    ------
    minemap.OutputError
        If the folder already holds one of the files, or cannot be written. A failed call
        leaves no partial set of files behind.

    Examples
    --------
    >>> import tempfile, minemap
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     folder = sample_data(Path(tmp) / "sample")
    ...     hazards = minemap.read_hazards(folder / "scenario.gpkg")
    ...     table = minemap.land_release_summary(hazards)
    >>> round(float(table.set_index("threat_level").loc["total", "hazard_ha"]))
    5500
    """
    if directory is None:
        folder = _cache_folder()
        if _complete(folder):
            return folder
        # an interrupted or foreign folder: start it afresh (asked again, as another process
        # may have just moved a complete set into place)
        if folder.exists() and not _complete(folder):
            shutil.rmtree(folder, ignore_errors=True)
    else:
        if not str(directory).strip():
            raise OutputError("the sample data needs a folder name; give e.g. sample_data.")
        folder = Path(directory)
        if folder.exists() and not folder.is_dir():
            raise OutputError(f"{folder} is a file; give a folder for the sample data.")
        # a partitioned GeoParquet layer holds only its parts: neither the files nor a
        # folder of them may go inside one (it would stop being readable as a layer)
        check_not_in_layer(folder)
        check_not_in_layer(folder / SAMPLE_FILES[0])
        taken = [name for name in SAMPLE_FILES if (folder / name).exists()]
        if taken:
            raise OutputError(
                f"{folder} already holds {', '.join(taken)}; give a new folder, or one "
                "without these files (the sample data never replaces a file)."
            )
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".minemap-sample-", dir=folder.parent))
    except OSError as exc:
        raise OutputError(f"{folder}: cannot be written ({exc.strerror}).") from None
    try:
        _write(staging, folder)
        try:
            _move_into(staging, folder)
        except OutputError:
            if directory is None and _complete(folder):
                return folder  # another process filled the cache meanwhile: the same files
            raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return folder


def _complete(folder: Path) -> bool:
    """Whether ``folder`` holds every sample file."""
    return all((folder / name).is_file() for name in SAMPLE_FILES)


def _write(staging: Path, folder: Path) -> None:
    scenario = make_scenario(seed=SAMPLE_SEED)
    write_scenario(scenario, staging)
    evidence = field_evidence(scenario, seed=SAMPLE_SEED, **SAMPLE_EVIDENCE)
    write_field_evidence(evidence, staging, geopackage="scenario.gpkg")
    write_population_raster(scenario, staging / "population.tif", resolution_m=100)
    notice = _NOTICE.format(version=__version__, seed=SAMPLE_SEED, folder=folder)
    (staging / "SYNTHETIC.txt").write_text(notice, encoding="utf-8")


def _move_into(staging: Path, folder: Path) -> None:
    """Move the complete set into ``folder``: one rename for a new folder, else file by file
    (each file whole) after checking again that none is taken."""
    try:
        if not folder.exists():
            staging.rename(folder)
            return
        if any((folder / name).exists() for name in SAMPLE_FILES):
            raise OutputError(f"{folder} gained sample files while they were written; retry.")
    except OSError as exc:
        raise OutputError(f"{folder}: cannot be written ({exc.strerror}).") from None
    moved: list[Path] = []
    try:
        for name in SAMPLE_FILES:
            os.replace(staging / name, folder / name)
            moved.append(folder / name)
    except OSError as exc:
        for path in moved:  # all of the set or none of it
            path.unlink(missing_ok=True)
        raise OutputError(f"{folder}: cannot be written ({exc.strerror}).") from None

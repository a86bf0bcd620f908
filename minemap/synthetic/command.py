"""``python -m minemap.synthetic``: make a synthetic scenario and write it, with its
population raster and field evidence (:mod:`minemap.synthetic.scenario`,
:mod:`minemap.synthetic.evidence`). SYNTHETIC data, not real minefield locations.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from minemap.synthetic.evidence import field_evidence, write_field_evidence
from minemap.synthetic.scenario import make_scenario, write_population_raster, write_scenario


def main(argv: Sequence[str] | None = None) -> int:
    """Make a scenario and write its layers, population raster and field evidence
    (``python -m``).

    Parameters
    ----------
    argv : sequence of str, optional
        The command's arguments (default: ``sys.argv[1:]``); ``--help`` lists them.

    Returns
    -------
    int
        0; the paths written are printed, one a line.

    Examples
    --------
    >>> import contextlib, io, pathlib, tempfile
    >>> out = tempfile.mkdtemp()
    >>> with contextlib.redirect_stdout(io.StringIO()) as printed:
    ...     status = main(["--out", out, "--seed", "1", "--high-ha", "10", "--medium-ha", "10",
    ...                    "--low-ha", "10", "--n-hazards", "6"])
    >>> status
    0
    >>> names = sorted(pathlib.Path(line).name for line in printed.getvalue().splitlines())
    >>> names  # doctest: +NORMALIZE_WHITESPACE
    ['districts.geojson', 'finds.geojson', 'hazards.geojson', 'incidents.csv',
     'infrastructure.geojson', 'population.tif', 'records.geojson', 'releases.geojson',
     'residential.geojson', 'roads.geojson', 'scenario.gpkg', 'settlements.geojson']
    """
    parser = argparse.ArgumentParser(
        prog="python -m minemap.synthetic",
        description="Write a SYNTHETIC land-release scenario (not real minefield data).",
    )
    parser.add_argument("--out", required=True, type=Path, help="output directory")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--high-ha", type=float, default=1_500.0)
    parser.add_argument("--medium-ha", type=float, default=2_500.0)
    parser.add_argument("--low-ha", type=float, default=1_500.0)
    parser.add_argument("--n-hazards", type=int, default=None)
    parser.add_argument(
        "--resolution-m", type=float, default=100.0, help="cell size of population.tif in metres"
    )
    parser.add_argument(
        "--no-evidence",
        action="store_true",
        help="leave out the field evidence (incidents, finds, records, settlements)",
    )
    args = parser.parse_args(argv)
    scenario = make_scenario(
        seed=args.seed,
        high_ha=args.high_ha,
        medium_ha=args.medium_ha,
        low_ha=args.low_ha,
        n_hazards=args.n_hazards,
    )
    paths = write_scenario(scenario, args.out)
    paths.append(
        write_population_raster(
            scenario, args.out / "population.tif", resolution_m=args.resolution_m
        )
    )
    if not args.no_evidence:
        written = write_field_evidence(
            field_evidence(scenario, seed=args.seed), args.out, geopackage="scenario.gpkg"
        )
        paths += [p for p in written if p not in paths]
    for path in paths:
        print(path)
    return 0

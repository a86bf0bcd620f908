"""``minemap priority``: priority zones and the clearance ranking.

One call each to :func:`minemap.priority.priority_zones` and
:func:`minemap.ranking.rank_hazards`; zones and ranking are written together or not at all.
"""

from __future__ import annotations

import argparse
import importlib
import warnings
from typing import Any

import geopandas as gpd
import pandas as pd
import pyogrio

from minemap._errors import OutputError, SchemaError
from minemap.cli import engine, helpers, options
from minemap.io import OutputSet, add_layer, check_layer_suffix, is_stream, resolve_output
from minemap.io.staging import MULTI_LAYER_SUFFIXES
from minemap.priority import (
    CATEGORIES,
    DEFAULT_DISTANCES_M,
    ZONE_COLUMNS,
    parse_distances,
    priority_zones,
    zone_summary,
)
from minemap.ranking import rank_hazards, resolve_weights

_SHOWN = [
    "rank",
    "hazard_id",
    "threat_level",
    "remaining_ha",
    "residential_ha",
    "infrastructure_ha",
    "roads_ha",
    "nearest_feature_m",
    "population",
    "incidents_nearby",
    "devices_found_nearby",
    "priority_score",
]
_EVIDENCE_SHOWN = ("incidents_nearby", "devices_found_nearby")


def _check_zones_output(args: argparse.Namespace) -> None:
    """Zones go to a file, in a vector format, never over a layer minemap did not write."""
    if helpers.is_stdout(args.output) or is_stream(args.output):
        raise OutputError(
            f"{args.output}: priority zones are a vector layer written to a "
            "file; give -o zones.gpkg (or .geojson, .fgb, .parquet, .shp.zip, .csv)."
        )
    path = check_layer_suffix(resolve_output(args.output))
    if path.suffix.lower() not in MULTI_LAYER_SUFFIXES or not path.is_file():
        return
    try:
        layers = {str(name) for name in pyogrio.list_layers(path)[:, 0]}
        if args.zones_layer not in layers:
            return
        fields = set(pyogrio.read_info(path, layer=args.zones_layer)["fields"])
    except Exception:  # noqa: BLE001 - not a readable GeoPackage: the format check says so
        raise OutputError(
            f"{args.output}: exists but is not a GeoPackage minemap can add a "
            "layer to; choose another file name."
        ) from None
    if not set(ZONE_COLUMNS) <= fields:
        raise OutputError(
            f"{args.output}: its layer {args.zones_layer!r} holds other data, "
            "not priority zones; choose another layer name with --zones-layer "
            "or another file."
        )


def _distance(distances: dict[str, float] | None, kind: str) -> float:
    """The distance of a category, in metres (the default unless --distances sets it)."""
    return float((distances or DEFAULT_DISTANCES_M).get(kind, DEFAULT_DISTANCES_M[kind]))


def _compute(
    args: argparse.Namespace,
    hazards: gpd.GeoDataFrame,
    releases: gpd.GeoDataFrame | None,
    layers: dict[str, gpd.GeoDataFrame],
    evidence: dict[str, gpd.GeoDataFrame | None],
    distances: dict[str, float] | None,
    order: tuple[str, ...],
    weights: Any,
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Priority zones and the ranking."""
    with engine.run_options(args) as run:
        zones = priority_zones(
            hazards,
            releases,
            distances_m=distances,
            order=order,
            as_of=args.as_of,
            **run,
            **layers,
        )
        ranking = rank_hazards(
            hazards,
            releases,
            population=args.population,
            weights=weights,
            distances_m=distances,
            order=order,
            as_of=args.as_of,
            population_radius_m=args.population_radius,
            zones=None if "client" in run else zones,  # each Dask partition makes its own
            incidents=evidence["incidents"],
            finds=evidence["finds"],
            evidence_radius_m=args.evidence_radius,
            **run,
            **layers,
        )
    return zones, ranking


def cmd_priority(args: argparse.Namespace, records: list[warnings.WarningMessage]) -> None:
    """Compute zones and the ranking, write both, print a summary."""
    engine.check(args)
    distances = parse_distances(args.distances) if args.distances else None
    order = options.category_order(args.order, CATEGORIES)
    if not (args.roads or args.infrastructure or args.residential):
        raise SchemaError("give at least one of --roads, --infrastructure, --residential.")
    _check_zones_output(args)
    helpers.plan_outputs(args, [("-o", args.output, None), ("--ranking", args.ranking, (".csv",))])
    if args.population is not None:  # needs the 'population' extra: say so before the work
        importlib.import_module("minemap.population")
    weights = None
    if args.weights:
        with helpers.naming("--weights", args.weights):
            weights = resolve_weights(args.weights)
    hazards, releases = helpers.read_inputs(args)
    # from a database, features are read only where zones and the ranking can need them
    layers = {}
    for kind in CATEGORIES:
        layer = helpers.read_near_features(args, kind, hazards, _distance(distances, kind))
        if layer is not None:
            layers[kind] = layer
    if not layers:
        raise SchemaError(
            "none of --roads, --infrastructure, --residential has features to "
            "make zones from (see the warnings above); check the files and "
            "their --*-tags."
        )
    evidence = {
        kind: helpers.read_evidence_option(args, kind, near=hazards, reach_m=args.evidence_radius)
        for kind in ("incidents", "finds")
    }
    zones, ranking = _compute(args, hazards, releases, layers, evidence, distances, order, weights)
    table = pd.DataFrame(ranking.drop(columns=ranking.geometry.name))
    as_of = zones.attrs.get("as_of")
    with OutputSet() as outputs:
        add_layer(outputs, zones, args.output, layer=args.zones_layer)
        if args.ranking:
            outputs.add_text(args.ranking, helpers.csv_text(table, as_of=as_of or ""))
    summary = zone_summary(zones)
    top = table.loc[table["rank"].notna()].head(args.top)
    weights = ranking.attrs["weights"]  # the weights used, defaults filled in
    if args.format == "json":
        doc = {
            "unit": "ha",
            "as_of": as_of,
            "zones": helpers.records(summary),
            "distances_m": zones.attrs["distances_m"],
            "order": zones.attrs["order"],
            "ranking_top": helpers.records(top.astype({"rank": int})),
            "weights": weights,
            "area_frame": zones.attrs["area_frame"],
            "warnings": helpers.messages(records),
        }
        helpers.emit(helpers.dump_json(doc), None)
        return
    shown = top[[c for c in _SHOWN if c in top.columns]].copy()
    shown = shown.drop(  # evidence columns only when the layer was given
        columns=[c for c in _EVIDENCE_SHOWN if table[c].isna().all()]
    )
    for column in ("nearest_feature_m", "population", *_EVIDENCE_SHOWN):
        if column not in shown:
            continue
        shown[column] = shown[column].map(lambda v: "" if pd.isna(v) else f"{v:,.0f}")
    shown["priority_score"] = shown["priority_score"].map(lambda v: f"{v:.4f}")
    distances_text = ", ".join(f"{k} {v:g} m" for k, v in zones.attrs["distances_m"].items())
    when = f" as of {as_of}" if as_of else ""
    text = (
        f"Priority zones of the remaining hazard area{when} (hectares; {distances_text}; "
        f"overlaps go to {' > '.join(zones.attrs['order'])})\n"
        f"{helpers.format_table(summary)}\n\n"
        f"Clearance ranking, top {len(shown)} of {int(ranking['rank'].notna().sum())} "
        f"(1 = clear first)\n{helpers.format_table(shown)}\n\n"
        f"Weights: {', '.join(f'{k}={v:g}' for k, v in weights.items())}"
        + (
            f" (incidents and finds within {ranking.attrs['evidence_radius_m']:g} m)"
            if ranking.attrs.get("evidence_radius_m")
            else ""
        )
        + "\n"
        f"Zones written to {args.output}"
        + (f"; ranking to {args.ranking}" if args.ranking else "")
        + "\n"
    )
    helpers.emit(text, None)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``priority`` to the ``minemap`` command."""
    parser = options.add_command(
        subparsers,
        "priority",
        help="priority zones near roads, infrastructure and settlements, and a ranking",
        description="Remaining hazard area within a distance of roads, infrastructure and "
        "residential areas (each hectare once, under the first category of "
        "--order), and an explainable ranking of hazards (1 = clear first).",
    )
    options.add_hazard_inputs(parser)
    options.add_released(parser)
    options.add_as_of(parser)
    group = parser.add_argument_group("priority features")
    options.add_priority_features(group)
    rank = parser.add_argument_group("zones and ranking")
    rank.add_argument(
        "--population",
        metavar="RASTER",
        help="GeoTIFF of people per cell (with nodata) for the ranking",
    )
    rank.add_argument(
        "--population-radius",
        type=float,
        default=1000.0,
        metavar="M",
        help="count people within this many metres of a hazard",
    )
    options.add_evidence_layer(rank, "incidents")
    options.add_evidence_layer(rank, "finds")
    rank.add_argument(
        "--evidence-radius",
        type=float,
        default=1000.0,
        metavar="M",
        help="count --incidents and --finds within this many metres of a hazard",
    )
    options.add_zone_options(rank)
    rank.add_argument(
        "--weights",
        metavar="TOML",
        help="ranking weights file, [weights] criterion = number (default: "
        "minemap's weights, printed with the ranking; see docs/priority.md)",
    )
    options.add_output(
        parser,
        required=True,
        metavar="ZONES",
        what="zones output (.gpkg, .geojson, .fgb, .parquet, .shp.zip: a "
        "zipped Shapefile, .csv); "
        "into an existing GeoPackage, only the zones layer is replaced",
    )
    parser.add_argument(
        "--zones-layer", default="priority_zones", metavar="NAME", help="layer name in ZONES"
    )
    parser.add_argument(
        "--ranking", metavar="CSV", help="also write the full ranking here (with -o, or neither)"
    )
    parser.add_argument(
        "--top", type=int, default=10, metavar="N", help="hazards of the ranking to print"
    )
    parser.add_argument(
        "--format", choices=("table", "json"), default="table", help="what to print"
    )
    engine.add_engine(parser)
    parser.set_defaults(func=cmd_priority)

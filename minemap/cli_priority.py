"""``minemap priority``: priority zones and the clearance ranking from the command line.

Picked up by :func:`minemap.cli.build_parser` through :func:`register`.
"""

from __future__ import annotations

import argparse
import json
import warnings
from pathlib import Path

import geopandas as gpd
import pandas as pd

from minemap import io as _io
from minemap._errors import SchemaError
from minemap.cli import _add_input_options, _emit, _format_table, _messages, _read_inputs, _records
from minemap.priority import (
    CATEGORIES,
    parse_distances,
    priority_zones,
    read_osm_features,
    zone_summary,
)
from minemap.ranking import rank_hazards

_SHOWN = ["rank", "hazard_id", "threat_level", "remaining_ha", "residential_ha",
          "infrastructure_ha", "roads_ha", "nearest_feature_m", "population", "priority_score"]


def _read_features(path: str, kind: str, layer: str | None, crs: str | None,
                   tag_filter: str | None) -> gpd.GeoDataFrame:
    if Path(path).suffix.lower() in {".pbf", ".osm"}:
        return read_osm_features(path, kind=kind, layer=layer, tag_filter=tag_filter)
    features = _io.read_features(path, kind=kind, layer=layer, crs=crs)  # type: ignore[arg-type]
    if tag_filter:
        if tag_filter not in features.columns:
            raise SchemaError(f"{features.attrs.get('source', path)}: no column {tag_filter!r} "
                              f"for --{kind}-filter.")
        attrs = dict(features.attrs)
        features = features.loc[features[tag_filter].notna()].reset_index(drop=True)
        features.attrs.update(attrs)
        if len(features) == 0:
            return _io.read_features(features, kind=kind)  # raises: nothing left
    return features


def _order(text: str | None) -> tuple[str, ...]:
    if not text:
        return CATEGORIES
    return tuple(part.strip() for part in text.split(",") if part.strip())


def cmd_priority(args: argparse.Namespace, records: list[warnings.WarningMessage]) -> None:
    """Compute zones and the ranking, write them, print a summary."""
    distances = parse_distances(args.distances) if args.distances else None
    order = _order(args.order)
    if not (args.roads or args.infrastructure or args.residential):
        raise SchemaError("give at least one of --roads, --infrastructure, --residential.")
    hazards, releases = _read_inputs(args)
    layers = {}
    for kind in CATEGORIES:
        path = getattr(args, kind)
        if path:
            layers[kind] = _read_features(path, kind, getattr(args, f"{kind}_layer"), args.crs,
                                          getattr(args, f"{kind}_filter"))
    zones = priority_zones(hazards, releases, distances_m=distances, order=order,
                           as_of=args.as_of, **layers)
    ranking = rank_hazards(hazards, releases, population=args.population, weights=args.weights,
                           distances_m=distances, order=order, as_of=args.as_of,
                           population_radius_m=args.population_radius, zones=zones, **layers)
    _io.write_layer(zones, args.output, layer=args.zones_layer)
    if args.ranking:
        _io.write_text(args.ranking,
                       pd.DataFrame(ranking.drop(columns=ranking.geometry.name)).to_csv(
                           index=False))
    summary = zone_summary(zones)
    top = pd.DataFrame(ranking.drop(columns=ranking.geometry.name))
    top = top.loc[top["rank"].notna()].head(args.top)
    weights = ranking.attrs["weights"]
    if args.format == "json":
        doc = {"unit": "ha", "zones": _records(summary),
               "distances_m": zones.attrs["distances_m"], "order": zones.attrs["order"],
               "ranking_top": _records(top.astype({"rank": int})), "weights": weights,
               "area_frame": zones.attrs["area_frame"], "warnings": _messages(records)}
        _emit(json.dumps(doc, indent=2, ensure_ascii=False), None)
        return
    shown = top[[c for c in _SHOWN if c in top.columns]].copy()
    for column in ("nearest_feature_m", "population"):
        shown[column] = shown[column].map(lambda v: "" if pd.isna(v) else f"{v:,.0f}")
    shown["priority_score"] = shown["priority_score"].map(lambda v: f"{v:.4f}")
    distances_text = ", ".join(f"{k} {v:g} m" for k, v in zones.attrs["distances_m"].items())
    text = (f"Priority zones of the remaining hazard area (hectares; {distances_text}; "
            f"overlaps go to {' > '.join(zones.attrs['order'])})\n"
            f"{_format_table(summary)}\n\n"
            f"Clearance ranking, top {len(shown)} of {int(ranking['rank'].notna().sum())} "
            f"(1 = clear first)\n{_format_table(shown)}\n\n"
            f"Weights: {', '.join(f'{k}={v:g}' for k, v in weights.items())}\n"
            f"Zones written to {args.output}"
            + (f"; ranking to {args.ranking}" if args.ranking else "") + "\n")
    _emit(text, None)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``priority`` command to the ``minemap`` parser."""
    parser = subparsers.add_parser(
        "priority", help="priority zones near roads, infrastructure and settlements, and a "
        "clearance ranking",
        description="Remaining hazard area within a distance of roads, infrastructure and "
        "residential areas (each hectare once, under the first category of --order), and an "
        "explainable ranking of hazards (1 = clear first).")
    _add_input_options(parser)
    parser.add_argument("--released", metavar="RELEASES", help="land-release records")
    for kind, what in (("roads", "road lines"), ("infrastructure", "infrastructure features"),
                       ("residential", "residential areas (polygons or points)")):
        parser.add_argument(f"--{kind}", metavar=kind.upper(),
                            help=f"{what}: any vector file or an OpenStreetMap .osm.pbf")
        parser.add_argument(f"--{kind}-layer", metavar="NAME", help=f"layer of --{kind}")
        parser.add_argument(f"--{kind}-filter", metavar="COLUMN",
                            help=f"keep only {kind} features where COLUMN is set (.osm.pbf "
                            "default: highway for roads, building or landuse=residential for "
                            "residential, amenity or man_made for infrastructure)")
    parser.add_argument("--population", metavar="RASTER",
                        help="GeoTIFF of people per cell (with nodata) for the ranking")
    parser.add_argument("--population-radius", type=float, default=1000.0, metavar="M",
                        help="count people within this many metres of a hazard (default 1000)")
    parser.add_argument("--distances", metavar="CATEGORY=M,...",
                        help="e.g. residential=500,roads=100 (defaults: residential 500, "
                        "infrastructure 250, roads 100)")
    parser.add_argument("--order", metavar="A,B,C",
                        help="precedence where zones overlap (default "
                        "residential,infrastructure,roads)")
    parser.add_argument("--weights", metavar="TOML", help="ranking weights file")
    parser.add_argument("--as-of", metavar="YYYY-MM-DD",
                        help="count only releases dated on or before this date")
    parser.add_argument("-o", "--output", required=True, metavar="ZONES",
                        help="zones output (GeoPackage, GeoJSON, FlatGeobuf, GeoParquet, ...)")
    parser.add_argument("--zones-layer", default="priority_zones", metavar="NAME",
                        help="layer name in ZONES (default priority_zones)")
    parser.add_argument("--ranking", metavar="CSV", help="write the full ranking here")
    parser.add_argument("--top", type=int, default=10, metavar="N",
                        help="hazards of the ranking to print (default 10)")
    parser.add_argument("--format", choices=("table", "json"), default="table")
    parser.set_defaults(func=cmd_priority)

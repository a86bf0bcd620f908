"""Readers and writers: files, OpenStreetMap extracts, CSV points, atomic output.

Readers validate and repair once, on read (:mod:`minemap.io.readers`, :mod:`minemap.io.osm`,
:mod:`minemap.io.csv_points`; field evidence in :mod:`minemap.io.evidence`; tag filters in
:mod:`minemap.io.tags`); writers write whole or not at all (:mod:`minemap.io.writers`); a
layer larger than memory is a folder of GeoParquet files (:mod:`minemap.io.parquet`); a
PostGIS table or query is read in chunks with a spatial filter (:mod:`minemap.io.postgis`);
a run's result tables go to a GeoPackage or a PostGIS schema in one transaction
(:mod:`minemap.io.results`).
"""

from __future__ import annotations

from minemap.io.evidence import read_finds, read_incidents, read_records, read_settlements
from minemap.io.features import read_features
from minemap.io.osm import DEFAULT_TAGS, read_osm_features
from minemap.io.parquet import (
    check_output_folder,
    is_partitioned,
    iter_partitions,
    partition_bounds,
    read_partitioned,
    write_partitioned,
)
from minemap.io.postgis import PostGIS, display_url, is_database_url
from minemap.io.postgis_load import write_tables
from minemap.io.readers import (
    OSM_SUFFIXES,
    FeatureKind,
    Source,
    list_layers,
    read_hazards,
    read_layer,
    read_releases,
    with_edges,
)
from minemap.io.results import (
    WrittenRun,
    describe_inputs,
    split_schema,
    table_name,
    write_results,
)
from minemap.io.staging import (
    OutputSet,
    check_output_path,
    is_stream,
    resolve_output,
    write_atomic,
    write_text,
)
from minemap.io.tags import TagFilter, parse_tags
from minemap.io.writers import (
    add_layer,
    check_layer_suffix,
    spreadsheet_safe,
    write_layer,
)

__all__ = [
    "DEFAULT_TAGS",
    "OSM_SUFFIXES",
    "FeatureKind",
    "check_output_folder",
    "is_partitioned",
    "iter_partitions",
    "partition_bounds",
    "read_partitioned",
    "write_partitioned",
    "Source",
    "PostGIS",
    "display_url",
    "is_database_url",
    "list_layers",
    "read_features",
    "read_finds",
    "read_hazards",
    "read_incidents",
    "read_layer",
    "read_osm_features",
    "read_records",
    "read_releases",
    "read_settlements",
    "TagFilter",
    "parse_tags",
    "with_edges",
    "OutputSet",
    "add_layer",
    "check_layer_suffix",
    "check_output_path",
    "is_stream",
    "resolve_output",
    "spreadsheet_safe",
    "write_atomic",
    "write_layer",
    "write_text",
    "WrittenRun",
    "describe_inputs",
    "split_schema",
    "table_name",
    "write_results",
    "write_tables",
]

"""minemap: landmine contamination and land-release planning from your own geodata.

Read hazard areas and land-release records, get exact hectares and percentages per threat
level, district and period, and chart progress:

    import minemap
    project = minemap.open_project("sample_data/scenario.gpkg")
    project.summary(by="district")            # or, layer by layer:
    hazards = minemap.read_hazards("sample_data/scenario.gpkg")
    releases = minemap.read_releases("sample_data/scenario.gpkg")
    minemap.land_release_summary(hazards, releases, by="district")
"""

from __future__ import annotations

from minemap._errors import (
    CoordinateError,
    CRSError,
    DatabaseError,
    DataWarning,
    DuplicateIdWarning,
    EmptyLayerError,
    FormatError,
    GeometryTypeError,
    InputFileError,
    MinemapError,
    MinemapWarning,
    MissingDependencyError,
    OutputError,
    RepairError,
    RepairWarning,
    SchemaError,
)
from minemap.crs import area_frame, area_ha
from minemap.io import (
    read_features,
    read_finds,
    read_hazards,
    read_incidents,
    read_partitioned,
    read_records,
    read_releases,
    read_settlements,
    write_partitioned,
    write_results,
)
from minemap.plots import plot_progress
from minemap.project import Project, open_project
from minemap.stats import land_release_summary, progress_over_time

__version__ = "0.1.0"

# Maps pull in folium and matplotlib; they are imported on first use, so computation and
# the command line start without them.
_LAZY = {
    "hazard_map": "minemap.maps",
    "save_map": "minemap.maps",
    "plot_map": "minemap.maps",
    "priority_zones": "minemap.priority",
    "rank_hazards": "minemap.ranking",
    "sample_data": "minemap.synthetic",
    "plan_clearance": "minemap.planning",
    "release_mix": "minemap.planning",
    "historic_rate": "minemap.planning",
    "compare_plans": "minemap.planning",
    "device_density": "minemap.evidence",
    "estimate_remaining_devices": "minemap.evidence",
    "record_accuracy": "minemap.evidence",
    "settlement_readiness": "minemap.readiness",
    "communities_at_risk": "minemap.readiness",
    "ReadinessRule": "minemap.readiness",
    "check_layers": "minemap.quality",
    "QualityReport": "minemap.quality",
}


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'minemap' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)


__all__ = [
    "CRSError",
    "CoordinateError",
    "DataWarning",
    "DuplicateIdWarning",
    "EmptyLayerError",
    "FormatError",
    "GeometryTypeError",
    "InputFileError",
    "MinemapError",
    "MinemapWarning",
    "MissingDependencyError",
    "OutputError",
    "DatabaseError",
    "Project",
    "QualityReport",
    "check_layers",
    "RepairError",
    "RepairWarning",
    "SchemaError",
    "area_frame",
    "compare_plans",
    "device_density",
    "estimate_remaining_devices",
    "record_accuracy",
    "settlement_readiness",
    "communities_at_risk",
    "ReadinessRule",
    "hazard_map",
    "open_project",
    "historic_rate",
    "plot_map",
    "priority_zones",
    "rank_hazards",
    "sample_data",
    "save_map",
    "area_ha",
    "land_release_summary",
    "plan_clearance",
    "plot_progress",
    "progress_over_time",
    "read_features",
    "read_finds",
    "read_hazards",
    "read_incidents",
    "read_partitioned",
    "read_records",
    "read_releases",
    "read_settlements",
    "release_mix",
    "write_partitioned",
    "write_results",
]

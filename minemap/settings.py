"""Names and defaults shared by every module: column names (with units), vocabularies."""

from __future__ import annotations

#: Threat levels, highest first. A place covered by several hazards counts under the first.
THREAT_LEVELS: tuple[str, ...] = ("high", "medium", "low")
#: Land-release methods, strongest first. A place released several times counts under the first.
RELEASE_METHODS: tuple[str, ...] = ("cleared", "reduced", "cancelled")

# canonical input columns
HAZARD_ID = "hazard_id"
THREAT_LEVEL = "threat_level"
RELEASE_ID = "release_id"
METHOD = "method"
RELEASE_DATE = "release_date"

# output columns (unit in the name)
HAZARD_HA = "hazard_ha"
CLEARED_HA = "cleared_ha"
REDUCED_HA = "reduced_ha"
CANCELLED_HA = "cancelled_ha"
RELEASED_HA = "released_ha"
REMAINING_HA = "remaining_ha"
PERCENT_CLEARED = "percent_cleared"
PERCENT_RELEASED = "percent_released"
RELEASED_OUTSIDE_HA = "released_outside_hazards_ha"
TOTAL = "total"

METHOD_HA = {"cleared": CLEARED_HA, "reduced": REDUCED_HA, "cancelled": CANCELLED_HA}
SUMMARY_COLUMNS: tuple[str, ...] = (
    HAZARD_HA,
    CLEARED_HA,
    REDUCED_HA,
    CANCELLED_HA,
    RELEASED_HA,
    REMAINING_HA,
    PERCENT_CLEARED,
    PERCENT_RELEASED,
)

#: A repair may change a feature's area by at most this fraction unless allowed.
MAX_REPAIR_AREA_CHANGE = 0.01
#: Longest distance (radius, buffer, tolerance) accepted, in metres: farther than this a
#: disc drawn in a local frame no longer measures true metres.
MAX_DISTANCE_M = 100_000.0
#: Widest tolerance accepted when records are matched to finds, in metres.
MAX_TOLERANCE_M = 10_000.0
#: How many offending feature ids an error message lists before "and N more".
IDS_IN_MESSAGES = 5

#: Colour-blind-safe palette (Okabe–Ito) shared by maps and plots.
THREAT_COLOURS = {"high": "#D55E00", "medium": "#E69F00", "low": "#F0E442"}
METHOD_COLOURS = {"cleared": "#009E73", "reduced": "#56B4E9", "cancelled": "#0072B2"}

#: Progress bars for long work: ``True`` always, ``False`` never, ``None`` (the default)
#: automatically, when standard error is a terminal or in a Jupyter notebook (the
#: environment variable ``MINEMAP_PROGRESS=1`` or ``0`` decides when this is ``None``).
progress: bool | None = None

# field evidence (minemap.io.evidence, minemap.evidence, minemap.readiness)
#: Kinds of explosive device a find or an incident names (IMAS 04.10); ``unknown`` where the
#: record does not say.
DEVICE_TYPES: tuple[str, ...] = ("ap_mine", "at_mine", "uxo", "submunition", "ied", "unknown")
INCIDENT_ID = "incident_id"
INCIDENT_DATE = "incident_date"
KILLED = "killed"
INJURED = "injured"
DEVICE_TYPE = "device_type"
VICTIM_ACTIVITY = "victim_activity"
FIND_ID = "find_id"
FIND_DATE = "find_date"
DEVICE_COUNT = "device_count"
RECORD_ID = "record_id"
RECORDED_DEVICES = "recorded_devices"
SETTLEMENT_ID = "settlement_id"
SETTLEMENT_NAME = "name"
POPULATION = "population"
DEVICES_PER_HA = "devices_per_ha"
DISTANCE_M = "distance_m"

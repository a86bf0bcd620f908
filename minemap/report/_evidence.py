"""The report's field-evidence section: devices found and remaining, record accuracy, return
readiness and communities at risk.

Every figure comes from the public function a user would call
(:func:`minemap.device_density`, :func:`minemap.estimate_remaining_devices`,
:func:`minemap.record_accuracy`, :func:`minemap.readiness.settlement_readiness`,
:func:`minemap.readiness.communities_at_risk`), with its definitions printed beside it.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

import pandas as pd

from minemap._display import format_value
from minemap._display import table_html as _plain_table
from minemap.settings import (
    DEVICE_COUNT,
    INJURED,
    KILLED,
    THREAT_LEVEL,
)

if TYPE_CHECKING:
    from minemap.project import Project
    from minemap.report._content import Section

table_html = functools.partial(_plain_table, labels=True)

#: Rows of the communities-at-risk table shown.
COMMUNITIES_SHOWN = 10


def _count(value: object) -> str:
    return format_value("devices", value)


def evidence_section(
    project: Project, *, as_of: object | None, public: bool, figures: dict[str, Any]
) -> Section | None:
    """The section, or None when the project has no field evidence.

    ``figures`` receives the tables, for checks and JSON. The public version keeps the
    aggregate tables and leaves out everything that names a record or a settlement.
    """
    from minemap.report._content import Section

    layers = (project.incidents, project.finds, project.records, project.settlements)
    if all(layer is None for layer in layers):
        return None
    section = Section("evidence", "Field evidence")
    if project.incidents is not None:
        incidents = project.incidents
        killed, injured = int(incidents[KILLED].sum()), int(incidents[INJURED].sum())
        when = ""
        if len(incidents):
            first = pd.Timestamp(incidents["incident_date"].min()).date()
            last = pd.Timestamp(incidents["incident_date"].max()).date()
            when = f" from {first} to {last}"
        section.paragraphs.append(
            f"{_count(len(incidents))} incidents{when}: {_count(killed)} people killed and "
            f"{_count(injured)} injured."
        )
        figures["incidents"] = {"incidents": len(incidents), "killed": killed, "injured": injured}
    if project.finds is not None and project.releases is not None:
        _devices(section, project, as_of, figures)
    if project.records is not None and project.finds is not None and project.releases is not None:
        _records(section, project, public, figures)
    if project.settlements is not None:
        _settlements(section, project, as_of, public, figures)
    return section


def _devices(section: Section, project: Project, as_of: object, figures: dict[str, Any]) -> None:
    from minemap.evidence import device_density, estimate_remaining_devices

    assert project.finds is not None
    density = device_density(project.hazards, project.releases, project.finds, as_of=as_of)
    remaining = estimate_remaining_devices(
        project.hazards, project.releases, project.finds, as_of=as_of
    )
    figures["device_density"] = density
    figures["remaining_devices"] = remaining
    devices = int(project.finds[DEVICE_COUNT].sum())
    section.paragraphs.append(
        f"{_count(devices)} devices were found in {_count(len(project.finds))} finds; "
        f"{_count(density.attrs.get('devices_outside', 0))} of them outside every hazard "
        f"and {_count(density.attrs.get('devices_in_unreleased', 0))} in hazard land not "
        "released (both counted here, not in the densities)."
    )
    section.blocks.append(
        table_html(
            density,
            columns=[
                THREAT_LEVEL,
                "method",
                "released_ha",
                "devices",
                "devices_per_ha",
                "devices_per_ha_low",
                "devices_per_ha_high",
                "percent_no_find",
            ],
            caption="Devices found per hectare released "
            f"({density.attrs.get('interval', 'interval')})",
            css_class="minemap-table wrap",
        )
    )
    section.blocks.append(
        table_html(
            remaining,
            columns=[
                c
                for c in (
                    THREAT_LEVEL,
                    "remaining_ha",
                    "devices_per_ha",
                    "devices_estimate",
                    "devices_low",
                    "devices_high",
                    "reason",
                )
                if c in remaining.columns
            ],
            caption="Devices remaining: remaining hectares × devices per hectare found on "
            "cleared land of the same threat level",
            css_class="minemap-table wrap",
        )
    )


def _records(section: Section, project: Project, public: bool, figures: dict[str, Any]) -> None:
    from minemap.evidence import record_accuracy

    assert project.records is not None and project.finds is not None
    assert project.releases is not None
    accuracy = record_accuracy(project.records, project.finds, project.releases)
    figures["record_accuracy"] = accuracy.summary
    section.blocks.append(
        table_html(accuracy.summary, caption="Accuracy of the handed-over minefield records")
    )
    definitions = pd.DataFrame(
        {"term": list(accuracy.definitions), "definition": list(accuracy.definitions.values())}
    )
    section.blocks.append(
        table_html(definitions, caption="Definitions", css_class="minemap-table wrap")
    )
    if not public:
        shown = accuracy.records.drop(columns=accuracy.records.geometry.name)
        section.blocks.append(
            table_html(
                shown.head(COMMUNITIES_SHOWN * 2),
                caption=f"Records (the first {min(len(shown), COMMUNITIES_SHOWN * 2)} of "
                f"{len(shown)})",
            )
        )


def _settlements(
    section: Section, project: Project, as_of: object, public: bool, figures: dict[str, Any]
) -> None:
    from minemap.readiness import communities_at_risk, settlement_readiness

    assert project.settlements is not None
    readiness = settlement_readiness(
        project.settlements,
        project.hazards,
        project.releases,
        incidents=project.incidents,
        as_of=as_of,
    )
    figures["readiness"] = readiness.drop(columns=readiness.geometry.name)
    counts = readiness["status"].value_counts().reindex(["ready", "conditional", "blocked"])
    people = (
        readiness.groupby("status")["population"].sum().reindex(["ready", "conditional", "blocked"])
    )
    table = pd.DataFrame(
        {
            "status": counts.index,
            "settlements": counts.fillna(0).astype(int).to_numpy(),
            "population": people.fillna(0).to_numpy(),
        }
    )
    section.blocks.append(table_html(table, caption="Return readiness of settlements"))
    section.paragraphs.append(f"Readiness rule: {readiness.attrs.get('rule', '')}")
    at_risk = communities_at_risk(
        project.settlements,
        project.hazards,
        project.releases,
        incidents=project.incidents,
        as_of=as_of,
    )
    figures["communities_at_risk"] = at_risk.drop(columns=at_risk.geometry.name)
    section.paragraphs.append(
        f"{_count(len(at_risk))} settlements lie near remaining hazards or recent incidents: "
        "the list for mine risk education, most people first."
    )
    if not public:
        section.blocks.append(
            table_html(
                at_risk.head(COMMUNITIES_SHOWN),
                caption=f"Communities at risk (the first {COMMUNITIES_SHOWN})",
                css_class="minemap-table wrap",
            )
        )

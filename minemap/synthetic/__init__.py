"""Synthetic scenarios: invented hazards, releases and features for tests, notebooks and the
sample data. Nothing here describes a real minefield.

* :mod:`minemap.synthetic.scenario`: :func:`make_scenario` draws a scenario,
  :func:`write_scenario` and :func:`write_population_raster` write it
  (``python -m minemap.synthetic --out DIR``).
* :mod:`minemap.synthetic.evidence`: :func:`field_evidence` draws incidents, device finds,
  minefield records and settlements for a scenario, :func:`write_field_evidence` writes them.
* :mod:`minemap.synthetic.sample`: :func:`sample_data` writes the sample scenario that the
  repository ships as ``sample_data/``, so it is there after ``pip install`` too.

Needs the ``synthetic`` extra (scipy, rasterio): ``pip install 'minemap[synthetic]'``.
"""

from __future__ import annotations

from minemap.synthetic.command import main
from minemap.synthetic.evidence import (
    EVIDENCE_LAYERS,
    MINED_CHANCE,
    RECORD_TRUTHS,
    VICTIM_ACTIVITIES,
    FieldEvidence,
    field_evidence,
    write_field_evidence,
)
from minemap.synthetic.sample import SAMPLE_EVIDENCE, SAMPLE_FILES, SAMPLE_SEED, sample_data
from minemap.synthetic.scenario import (
    FORMATS,
    LAYERS,
    RASTER_NODATA,
    Scenario,
    make_scenario,
    write_population_raster,
    write_scenario,
)

__all__ = [
    "EVIDENCE_LAYERS",
    "FORMATS",
    "LAYERS",
    "MINED_CHANCE",
    "RASTER_NODATA",
    "RECORD_TRUTHS",
    "SAMPLE_EVIDENCE",
    "SAMPLE_FILES",
    "SAMPLE_SEED",
    "FieldEvidence",
    "Scenario",
    "VICTIM_ACTIVITIES",
    "field_evidence",
    "main",
    "make_scenario",
    "sample_data",
    "write_field_evidence",
    "write_population_raster",
    "write_scenario",
]

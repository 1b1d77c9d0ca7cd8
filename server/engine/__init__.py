"""Pure physics of one inference: frozen specs in, impacts out.

Nothing here imports Flask, the database, the catalog loader, the clock or the environment
(`tests/test_engine_purity.py` enforces it). Units live in names.
"""

from server.engine.estimate import estimate, fit_scatter, prepare, usage_parts, widen, widen_impacts
from server.engine.hardware import site_embodied_per_it_kwh
from server.engine.specs import (
    Calibration,
    GpuSpec,
    Impacts,
    ModelSpec,
    NodeSpec,
    Prepared,
    SiteSpec,
    TaskKind,
    TrainingSpec,
    UsageParts,
    Workload,
)

__all__ = [
    "Calibration",
    "GpuSpec",
    "Impacts",
    "ModelSpec",
    "NodeSpec",
    "Prepared",
    "SiteSpec",
    "TaskKind",
    "TrainingSpec",
    "UsageParts",
    "Workload",
    "estimate",
    "fit_scatter",
    "prepare",
    "site_embodied_per_it_kwh",
    "usage_parts",
    "widen",
    "widen_impacts",
]

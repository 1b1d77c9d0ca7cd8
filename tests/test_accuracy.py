"""Engine accuracy on held-out ML.ENERGY v3 rows (bench/accuracy.py; data in bench/data/).

Acceptance criterion: on models the calibration never saw, the engine's GPU-only energy lands within x1.5
of ML.ENERGY's GPU-only measurement at the median and within x2.5 at the 90th percentile, for LLMs and for
diffusion models alike.
"""

from __future__ import annotations

from types import ModuleType

import pytest

from tests.conftest import load_bench

MEDIAN_MAX = 1.5
P90_MAX = 2.5


def _load_bench() -> ModuleType:
    return load_bench("accuracy.py")


@pytest.fixture(scope="module")
def report() -> dict[str, dict[str, float]]:
    result: dict[str, dict[str, float]] = _load_bench().accuracy_report()
    return result


@pytest.mark.parametrize("family", ["llm", "diffusion"])
def test_median_within_1_5(report: dict[str, dict[str, float]], family: str) -> None:
    stats = report[family]
    assert stats["rows"] >= 20
    assert stats["median"] <= MEDIAN_MAX, f"{family}: median factor x{stats['median']:.2f} > x{MEDIAN_MAX}"


@pytest.mark.parametrize("family", ["llm", "diffusion"])
def test_p90_within_2_5(report: dict[str, dict[str, float]], family: str) -> None:
    stats = report[family]
    assert stats["p90"] <= P90_MAX, f"{family}: 90th percentile factor x{stats['p90']:.2f} > x{P90_MAX}"


def test_every_task_family_is_scored(report: dict[str, dict[str, float]]) -> None:
    tasks = {key for key in report if ":" in key}
    assert {"diffusion:text-to-image", "diffusion:text-to-video"} <= tasks
    assert sum(key.startswith("llm:") for key in tasks) >= 3

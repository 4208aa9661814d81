"""Trust signals on small known data: volume, drift, the score's arithmetic (no disk)."""

from __future__ import annotations

import pytest

from dte_platform.confidence.drift import psi
from dte_platform.confidence.score import combine, drift_component, freshness_component
from dte_platform.confidence.volume import judge

HISTORY = [100.0, 104.0, 98.0, 101.0, 97.0, 103.0, 99.0]


@pytest.mark.parametrize(("rows", "verdict"), [(400, "spike"), (20, "drop")])
def test_volume_flags_a_spike_and_a_drop(rows: int, verdict: str) -> None:
    result = judge(rows, HISTORY, min_history=5, threshold=3.5)
    assert result.judged and result.anomaly
    assert result.details["verdict"] == verdict
    assert result.details["median"] == 100.0


def test_volume_accepts_normal_variation() -> None:
    result = judge(102, HISTORY, min_history=5, threshold=3.5)
    assert result.judged and not result.anomaly


def test_volume_does_not_judge_with_too_little_history() -> None:
    result = judge(10_000, HISTORY[:3], min_history=5, threshold=3.5)
    assert not result.judged and not result.anomaly
    assert "too little history" in result.details["verdict"]


def test_psi_is_zero_for_identical_and_large_for_shifted_distributions() -> None:
    reference = {"a": 0.5, "b": 0.3, "c": 0.2}
    assert psi(reference, reference) == 0.0
    assert psi({"a": 0.48, "b": 0.32, "c": 0.2}, reference) < 0.01
    assert psi({"a": 0.1, "b": 0.3, "c": 0.6}, reference) > 0.25


def test_score_combines_components_by_weight_and_shows_them() -> None:
    weights = {"contract": 0.5, "completeness": 0.25, "validity": 0.25, "freshness": 0.0}
    score = combine({"contract": 80.0, "completeness": 100.0, "validity": 60.0, "freshness": 0.0}, weights)
    assert score.score == pytest.approx(0.5 * 80 + 0.25 * 100 + 0.25 * 60)
    assert score.components["contract"] == (80.0, 0.5)
    assert "freshness" not in score.components  # zero weight
    assert "| **score** | **80.0** |" in score.table()


def test_missing_components_are_left_out_and_weights_renormalised() -> None:
    score = combine(
        {"contract": 100.0, "validity": 50.0, "drift": None}, {"contract": 0.3, "validity": 0.1, "drift": 0.6}
    )
    assert score.components == {
        "contract": (100.0, pytest.approx(0.75)),
        "validity": (50.0, pytest.approx(0.25)),
    }
    assert score.score == pytest.approx(87.5)


def test_freshness_and_drift_components() -> None:
    assert freshness_component(3600, 86400) == 100.0
    assert freshness_component(1.5 * 86400, 86400) == pytest.approx(50.0)
    assert freshness_component(3 * 86400, 86400) == 0.0
    assert freshness_component(10, None) is None
    assert drift_component(0.0, 0.25) == 100.0
    assert drift_component(0.25, 0.25) == pytest.approx(50.0)
    assert drift_component(None, 0.25) is None

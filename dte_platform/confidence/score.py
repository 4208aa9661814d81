"""The trust score: one 0-100 number per materialization, with every component and weight shown.

Components (each 0-100): contract (share of contract checks that passed), completeness, validity,
freshness (100 within the SLA, falling to 0 at twice the SLA), volume (100 unless an anomaly),
drift (100 at no drift, 0 at twice the threshold). A component with nothing to measure is left
out and the remaining weights are renormalised, so the score never pretends.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class TrustScore:
    score: float
    components: dict[str, tuple[float, float]]  # name -> (value, effective weight)

    def table(self) -> str:
        lines = ["| component | value | weight |", "|---|---|---|"]
        lines += [f"| {n} | {v:.1f} | {w:.3f} |" for n, (v, w) in self.components.items()]
        return "\n".join([*lines, f"| **score** | **{self.score:.1f}** | 1.000 |"])


def freshness_component(lag_s: float | None, sla_s: float | None) -> float | None:
    if lag_s is None or not sla_s:
        return None
    return max(0.0, min(100.0, 100.0 * (2 - lag_s / sla_s))) if lag_s > sla_s else 100.0


def drift_component(max_psi: float | None, threshold: float) -> float | None:
    return None if max_psi is None else max(0.0, 100.0 * (1 - max_psi / (2 * threshold)))


def combine(values: Mapping[str, float | None], weights: Mapping[str, float]) -> TrustScore:
    present = {k: v for k, v in values.items() if v is not None and weights.get(k, 0) > 0}
    total = sum(weights[k] for k in present)
    if not total:
        return TrustScore(0.0, {})
    components = {k: (float(v), weights[k] / total) for k, v in present.items()}
    return TrustScore(round(sum(v * w for v, w in components.values()), 2), components)

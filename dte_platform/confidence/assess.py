"""Assess one materialization: indicators, volume and drift against history, the trust score.

Runs in the step's own warehouse connection after the data is written, appends to the
``trust.*`` history, and returns the ``volume``, ``drift`` and ``confidence`` results.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import duckdb

from dte_platform.compiler.results import RuleResult
from dte_platform.compiler.rules import CompiledDataset
from dte_platform.confidence import drift, history, volume
from dte_platform.confidence.indicators import Indicators, measure
from dte_platform.confidence.score import TrustScore, combine, drift_component, freshness_component
from dte_platform.contracts.model import ConfidenceSpec


@dataclass(frozen=True)
class Assessment:
    indicators: Indicators
    score: TrustScore
    results: list[RuleResult]

    def metadata(self) -> dict[str, Any]:
        """Plain values; the orchestration layer renders the tables."""
        ind = self.indicators
        out: dict[str, Any] = {
            "dte/trust_score": self.score.score,
            "dte/trust_components": self.score.table(),
            "dte/indicators": ind.columns,
        }
        for key, value in (
            ("completeness_pct", ind.completeness_pct),
            ("validity_pct", ind.validity_pct),
            ("freshness_lag_s", ind.freshness_lag_s),
        ):
            if value is not None:
                out[f"dte/{key}"] = round(float(value), 4)
        return out


@dataclass(frozen=True)
class Target:
    """What is assessed: the dataset's table (or one partition of it) in one run."""

    asset: str
    table: str
    partition: dt.date | None
    run_id: str
    at: dt.datetime


def assess(
    conn: duckdb.DuckDBPyConnection,
    compiled: CompiledDataset,
    spec: ConfidenceSpec,
    target: Target,
    prior: Sequence[RuleResult],
    validity_pct: float | None,
) -> Assessment:
    freshness = next((r for r in prior if r.rule.kind == "freshness"), None)
    indicators = measure(
        conn,
        compiled,
        target.table,
        target.partition,
        validity_pct=validity_pct,
        freshness_lag_s=freshness.measured if freshness else None,
    )
    key = target.partition.isoformat() if target.partition else None
    verdict = volume.judge(
        indicators.rows,
        history.row_count_history(conn, target.asset, key),
        spec.volume_min_history,
        spec.volume_threshold,
    )
    reference_label, reference = history.reference(conn, target.asset, key, target.run_id)
    columns = drift.eligible(compiled, {c: v.get("distinct") for c, v in indicators.columns.items()})  # type: ignore[misc]
    current = drift.distributions(conn, target.table, columns, target.partition, reference)
    judged = indicators.rows >= drift.MIN_ROWS
    psis = {c: round(drift.psi(current[c], reference[c]), 5) for c in current if judged and reference.get(c)}
    max_psi = max(psis.values()) if psis else None
    score = _score(spec, prior, indicators, freshness, verdict, max_psi)
    history.append(
        conn,
        target.asset,
        key,
        target.run_id,
        target.at,
        {**indicators.flat(), "trust_score": score.score},
        current,
    )
    if not judged:
        reference_label = f"not judged: fewer than {drift.MIN_ROWS} rows"
    results = [
        _volume(compiled, verdict),
        _drift(compiled, spec, psis, max_psi, reference_label),
        _confidence(compiled, spec, score),
    ]
    return Assessment(indicators, score, results)


def _score(
    spec: ConfidenceSpec,
    prior: Sequence[RuleResult],
    indicators: Indicators,
    freshness: RuleResult | None,
    verdict: volume.VolumeVerdict,
    max_psi: float | None,
) -> TrustScore:
    contract = [r for r in prior if r.rule.check_name.startswith("contract__")]
    values = {
        "contract": 100.0 * sum(r.passed for r in contract) / len(contract) if contract else None,
        "completeness": indicators.completeness_pct,
        "validity": indicators.validity_pct,
        "freshness": freshness_component(
            indicators.freshness_lag_s, freshness.rule.params["max_age_seconds"] if freshness else None
        ),
        "volume": (0.0 if verdict.anomaly else 100.0) if verdict.judged else None,
        "drift": drift_component(max_psi, spec.drift_threshold),
    }
    return combine(values, spec.weights)


def _volume(compiled: CompiledDataset, verdict: volume.VolumeVerdict) -> RuleResult:
    z = verdict.details.get("robust_z")
    return RuleResult(
        compiled.rule("volume"), not verdict.anomaly, float(z) if z is not None else None, 0, verdict.details
    )


def _drift(
    compiled: CompiledDataset,
    spec: ConfidenceSpec,
    psis: dict[str, float],
    max_psi: float | None,
    reference: str | None,
) -> RuleResult:
    drifted = sorted(c for c, v in psis.items() if v > spec.drift_threshold)
    details = {
        "reference": reference or "none yet (first measurement)",
        "threshold": spec.drift_threshold,
        "psi": psis,
        "drifted_columns": drifted,
    }
    return RuleResult(compiled.rule("drift"), not drifted, max_psi, len(drifted), details)


def _confidence(compiled: CompiledDataset, spec: ConfidenceSpec, score: TrustScore) -> RuleResult:
    details = {
        "score": score.score,
        "min_score": spec.min_score,
        "components": {
            k: {"value": round(v, 2), "weight": round(w, 4)} for k, (v, w) in score.components.items()
        },
    }
    return RuleResult(compiled.rule("confidence"), score.score >= spec.min_score, score.score, 0, details)

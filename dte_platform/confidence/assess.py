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
from dte_platform.compiler.rules import ColumnType, CompiledDataset
from dte_platform.compiler.sql_exec import PARTITION_COLUMN
from dte_platform.confidence import drift, history, volume
from dte_platform.confidence.indicators import Indicators, measure
from dte_platform.confidence.score import TrustScore, combine, drift_component, freshness_component
from dte_platform.contracts.model import ConfidenceSpec
from dte_platform.sqlutil import ident


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
    lag = freshness.measured if freshness else None
    if freshness is not None and target.partition is not None:
        lag = _partition_lag(conn, target, freshness.rule.columns[0])
    indicators = measure(
        conn, compiled, target.table, target.partition, validity_pct=validity_pct, freshness_lag_s=lag
    )
    verdict = volume.judge(
        indicators.rows,
        history.row_count_history(conn, target.asset, target.table, target.partition, target.run_id),
        spec.volume_min_history,
        spec.volume_threshold,
    )
    columns = drift.eligible(compiled, {c: v.get("distinct") for c, v in indicators.columns.items()})  # type: ignore[misc]
    judged = _drift(conn, target, columns, indicators.rows, spec)
    max_psi = max((d.psi for d in judged.columns.values()), default=None) if judged.columns else None
    score = _score(spec, prior, indicators, freshness, verdict, max_psi)
    psis = {f"{c}.psi": d.psi for c, d in judged.columns.items()}
    history.append(
        conn,
        target.asset,
        target.partition.isoformat() if target.partition else None,
        target.run_id,
        target.at,
        {**indicators.flat(), **psis, "trust_score": score.score},
        {c: drift.shares(counts) for c, counts in judged.current.items()},
    )
    results = [
        _volume(compiled, verdict),
        _drift_result(compiled, spec, judged),
        _confidence(compiled, spec, score),
    ]
    return Assessment(indicators, score, results)


def _partition_lag(conn: duckdb.DuckDBPyConnection, target: Target, element: str) -> float | None:
    """How long before the end of its day a partition's newest data is: a property of the day's
    data, whenever the day is loaded (the table's freshness against the clock is certification's
    ``freshness`` criterion, not a trait of each day)."""
    assert target.partition is not None
    end = dt.datetime.combine(target.partition + dt.timedelta(days=1), dt.time(), dt.UTC)
    where = f"{ident(PARTITION_COLUMN)} = ?"
    newest = conn.execute(
        f"SELECT max(CAST({ident(element)} AS TIMESTAMPTZ)) FROM {target.table} WHERE {where}",
        [target.partition],
    ).fetchone()
    if newest is None or newest[0] is None:
        return None
    return max(0.0, (end - newest[0]).total_seconds())


@dataclass(frozen=True)
class _Judged:
    """Drift per column (empty when not judged), the current window's bucket counts, and what the
    window was compared with (or why it was not judged)."""

    columns: dict[str, drift.ColumnDrift]
    current: dict[str, dict[str, int]]
    reference: str


def _drift(
    conn: duckdb.DuckDBPyConnection,
    target: Target,
    columns: list[ColumnType],
    rows: int,
    spec: ConfidenceSpec,
) -> _Judged:
    if target.partition is not None:
        w = drift.windows(conn, target.table, target.partition)
        if w.reference_rows < drift.MIN_ROWS:
            own = drift.bucket_counts(conn, target.table, columns, w.current, w.current_rows)
            return _Judged(
                {}, own, f"not judged: {w.reference_rows} rows in the days before {w.current.label()}"
            )
        reference = drift.bucket_counts(conn, target.table, columns, w.reference, w.reference_rows)
        current = drift.bucket_counts(conn, target.table, columns, w.current, w.current_rows, reference)
        label = f"{w.reference.label()} ({w.reference_rows} rows) against {w.current.label()}"
        if w.current_rows < drift.MIN_JUDGED_ROWS:
            return _Judged({}, current, f"not judged: {w.current_rows} rows in {w.current.label()}")
    else:
        ref_label, reference = history.previous_build(conn, target.asset, target.run_id)
        current = drift.bucket_counts(conn, target.table, columns, drift.Window(), rows, reference or None)
        if not reference:
            return _Judged({}, current, "none yet (first build)")
        label = ref_label or "the previous build"
        if rows < drift.MIN_JUDGED_ROWS:
            return _Judged({}, current, f"not judged: {rows} rows")
    judged = {
        c.name: drift.judge(current.get(c.name, {}), reference[c.name], spec.drift_threshold)
        for c in columns
        if reference.get(c.name)
    }
    return _Judged(judged, current, label)


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


def _drift_result(compiled: CompiledDataset, spec: ConfidenceSpec, judged: _Judged) -> RuleResult:
    drifted = sorted(c for c, d in judged.columns.items() if d.drifted)
    details = {
        "reference": judged.reference,
        "threshold": spec.drift_threshold,
        "psi": {c: d.psi for c, d in judged.columns.items()},
        "p_value": {c: float(f"{d.p_value:.3g}") for c, d in judged.columns.items()},
        "drifted_columns": drifted,
    }
    max_psi = max((d.psi for d in judged.columns.values()), default=None)
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

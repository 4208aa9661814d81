"""The certification sensor and what Dagster shows of a decision.

Each tick evaluates every asset in dependency order from the instance only (it never opens the
warehouse), so a demotion reaches everything downstream in the same tick. When a decision changes
(version, level, reasons) it reports an ``AssetObservation`` and a ``certification`` check
evaluation, and requests one promotion run for all the changed certificates. The cursor keeps one
signature per asset.
"""

# no `from __future__ import annotations`: Dagster inspects the sensor's annotations at runtime
import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

import dagster as dg

from dte_platform.certification.decide import Decision
from dte_platform.certification.policy import Policy
from dte_platform.orchestration.certification.catalog import CHECK_NAME, AssetEntry, Catalog
from dte_platform.orchestration.certification.evidence import (
    Assessment,
    InstanceReader,
    assess_all,
    decision_from_json,
)
from dte_platform.orchestration.certification.promotion import promotion_run_config
from dte_platform.settings import Settings

SENSOR_NAME = "dte_certification_sensor"


def decision_metadata(decision: Decision) -> dict[str, Any]:
    reasons = "\n".join(f"- {r}" for r in decision.reasons) or "every criterion holds"
    metadata: dict[str, Any] = {
        "dte/certification": dg.MetadataValue.json(decision.to_json()),
        "dte/verdict": decision.verdict,
        "dte/certified": decision.certified,
        "dte/certified_level": decision.level.label,
        "dte/required_level": decision.required.label,
        # the first reason in plain text, readable without opening the list
        "dte/why": decision.reasons[0] if decision.reasons else "every criterion holds",
        "dte/reasons": dg.MetadataValue.md(reasons),
        "dte/data_version": decision.version or "",
    }
    if decision.expires is not None:
        metadata["dte/expires"] = dg.MetadataValue.timestamp(decision.expires)
    return metadata


def asset_events(assessment: Assessment) -> list[dg.AssetObservation | dg.AssetCheckEvaluation]:
    decision = assessment.decision
    metadata = decision_metadata(decision)
    key = assessment.entry.key
    return [
        dg.AssetObservation(asset_key=key, description=decision.verdict, metadata=metadata),
        dg.AssetCheckEvaluation(
            asset_key=key,
            check_name=CHECK_NAME,
            passed=decision.certified,
            severity=dg.AssetCheckSeverity.WARN,
            description=decision.verdict,
            metadata=metadata,
        ),
    ]


def _cursor(value: str | None) -> dict[str, str]:
    try:
        loaded = json.loads(value) if value else {}
    except json.JSONDecodeError:
        return {}
    return loaded if isinstance(loaded, dict) else {}


def changed(assessments: Sequence[Assessment], cursor: Mapping[str, str]) -> list[Assessment]:
    """The assessments whose decision differs from the one last reported (never-materialized skipped)."""
    return [
        a for a in assessments if a.decision.version is not None and cursor.get(a.entry.name) != a.signature
    ]


def build_certification_sensor(
    settings: Settings, catalog: Catalog, policy: Policy, job: dg.JobDefinition
) -> dg.SensorDefinition:
    @dg.sensor(
        name=SENSOR_NAME,
        job=job,
        minimum_interval_seconds=30,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Evaluates every asset's certificate from its finished check results, "
        "materializations, failed runs, freshness and upstream certificates; reports changes and "
        "requests promotion runs.",
    )
    def _sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult:
        cursor = _cursor(context.cursor)
        assessments = assess_all(catalog, context.instance, policy, settings.now())
        updates = changed(assessments, cursor)
        # a `certification` check executed inside a run shows the decision recorded before it;
        # when that is not the current one, the sensor's decision is shown again
        stored = InstanceReader(context.instance).certification_checks([e.key for e in catalog.entries])
        stale = [
            a
            for a in assessments
            if a not in updates
            and a.decision.version is not None
            and stored.get(a.entry.name, a.decision.certified) != a.decision.certified
        ]
        events = [event for a in [*updates, *stale] for event in asset_events(a)]
        if not updates:  # at most a check to correct: nothing new to record or publish
            return dg.SensorResult(
                asset_events=events, skip_reason=None if events else "no certificate changed"
            )
        new_cursor = {**cursor, **{a.entry.name: a.signature for a in updates}}
        key = hashlib.sha256(json.dumps(new_cursor, sort_keys=True).encode()).hexdigest()[:24]
        request = dg.RunRequest(
            run_key=f"certification-{key}",
            run_config=promotion_run_config(updates),
            tags={"dte/kind": "certification", "dte/assets": ",".join(a.entry.name for a in updates)[:200]},
        )
        return dg.SensorResult(
            asset_events=events, run_requests=[request], cursor=json.dumps(new_cursor, sort_keys=True)
        )

    return _sensor


def build_certification_check(policy: Policy, entry: AssetEntry) -> dg.AssetChecksDefinition:
    """The ``certification`` check of an asset. The sensor judges; when a run executes this check
    (the UI includes an asset's checks when it materializes it) it shows the decision the sensor
    last recorded, and says that the new materialization is judged on the sensor's next tick."""

    @dg.asset_check(
        asset=entry.key,
        name=CHECK_NAME,
        description=f"Certificate: the achieved level must reach {policy.required_level(entry.risk).label} "
        f"(risk {entry.risk}); judged by the certification sensor from this asset's checks, "
        "freshness, failed runs, lineage and upstream certificates.",
        blocking=False,
    )
    def _check(context: dg.AssetCheckExecutionContext) -> dg.AssetCheckResult:
        last = InstanceReader(context.instance).latest_certification(entry.key)
        if last is None:
            return dg.AssetCheckResult(
                passed=False,
                severity=dg.AssetCheckSeverity.WARN,
                description="not judged yet: the certification sensor judges this asset on its next tick",
            )
        decision = decision_from_json(last)
        return dg.AssetCheckResult(
            passed=decision.certified,
            severity=dg.AssetCheckSeverity.WARN,
            description=f"{decision.verdict} (as last judged; this materialization is judged on the "
            "certification sensor's next tick)",
            metadata=decision_metadata(decision),
        )

    return _check

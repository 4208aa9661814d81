"""Certification in Dagster: a sensor that evaluates every asset's certificate, a ``certification``
check per asset that shows it, and a promotion job that records it and publishes certified data.

- The **sensor** (on by default) gathers evidence from the Dagster instance only — it never opens
  the warehouse — decides (``dte_platform.certification.decide``), and when a decision changes it
  reports an ``AssetObservation`` (``dte/certification`` metadata) and a ``certification`` check
  evaluation, and requests a promotion run. Upstream decisions of the same tick feed downstream
  ones, so a demotion propagates through the graph in one tick; expiry is judged on every tick.
- The **promotion job** writes the evidence pack, inserts the certificate into
  ``trust.certificates`` and, for a certified version, copies it to ``certified.<layer>__<name>``
  (write-audit-publish, see ``dte_platform.certification.publish``).
- ``dte run`` calls :func:`certify` at the end, so a pipeline without a daemon certifies the same way.

The non-public event-log reads Dagster offers for check state are wrapped in :class:`InstanceReader`.
"""

# no `from __future__ import annotations`: Dagster inspects the context annotations at runtime
import dataclasses
import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import dagster as dg

from dte_platform import __version__
from dte_platform.certification.decide import CheckState, Decision, Evidence, Freshness, Upstream, decide
from dte_platform.certification.policy import Level, Policy, project_policy
from dte_platform.certification.publish import CertificateRow, certified_table, record
from dte_platform.compiler.rules import CompiledDataset
from dte_platform.contracts import Contract, Dataset, SourceSpec
from dte_platform.evidence.store import EvidenceStore
from dte_platform.ingest.writer import data_table, table_name
from dte_platform.orchestration.resources import WarehouseResource
from dte_platform.settings import Settings

CHECK_NAME = "certification"
PROMOTION_OP = "record_and_publish_certificates"
JOB_NAME = "dte_certification"
SENSOR_NAME = "dte_certification_sensor"
#: check metadata that can carry row values; it stays in Dagster (where it is already redacted) and
#: never enters an evidence pack
_NOT_IN_PACKS = frozenset({"dte/failing_sample"})


@dataclasses.dataclass(frozen=True)
class AssetEntry:
    """What certification needs to know about one asset, fixed when the definitions load."""

    key: dg.AssetKey
    risk: str
    checks: Mapping[str, str]  # check name -> ERROR | WARN
    partitioned_checks: frozenset[str]
    upstream: tuple[str, ...]
    contract: Contract
    compiled: CompiledDataset
    code_version: str | None
    source: SourceSpec | None = None

    @property
    def name(self) -> str:
        return self.key.to_user_string()


@dataclasses.dataclass(frozen=True)
class Catalog:
    """Every certifiable asset in dependency order (upstream first)."""

    entries: tuple[AssetEntry, ...]

    def __getitem__(self, asset: str) -> AssetEntry:
        return next(e for e in self.entries if e.name == asset)


def build_catalog(
    datasets: Sequence[tuple[Contract, Dataset, CompiledDataset]],
    assets: Sequence[dg.AssetsDefinition],
    checks: Sequence[dg.AssetChecksDefinition],
) -> Catalog:
    by_key = {"/".join(c.key_path): (contract, d, c) for contract, d, c in datasets}
    severities: dict[str, dict[str, str]] = {}
    partitioned: dict[str, set[str]] = {}
    for spec in [s for a in assets for s in a.check_specs] + [s for c in checks for s in c.check_specs]:
        if spec.name == CHECK_NAME:
            continue  # the certificate is not evidence for itself
        name = spec.asset_key.to_user_string()
        severities.setdefault(name, {})[spec.name] = "ERROR" if spec.blocking else "WARN"
        if spec.partitions_def is not None:
            partitioned.setdefault(name, set()).add(spec.name)
    deps: dict[str, tuple[str, ...]] = {}
    versions: dict[str, str | None] = {}
    for asset in assets:
        for key in asset.keys:
            deps[key.to_user_string()] = tuple(
                sorted(
                    d.to_user_string() for d in asset.asset_deps.get(key, ()) if d.to_user_string() in by_key
                )
            )
            versions[key.to_user_string()] = asset.code_versions_by_key.get(key)
    entries = []
    for name in _topological(deps):
        contract, dataset, compiled = by_key[name]
        entries.append(
            AssetEntry(
                key=dg.AssetKey(name.split("/")),
                risk=dataset.dte.risk,
                checks=severities.get(name, {}),
                partitioned_checks=frozenset(partitioned.get(name, ())),
                upstream=deps[name],
                contract=contract,
                compiled=compiled,
                code_version=versions.get(name),
                source=dataset.dte.source,
            )
        )
    return Catalog(tuple(entries))


def _topological(deps: Mapping[str, tuple[str, ...]]) -> list[str]:
    ordered: list[str] = []
    done: set[str] = set()

    def visit(name: str) -> None:
        if name in done:
            return
        done.add(name)
        for parent in deps.get(name, ()):
            visit(parent)
        ordered.append(name)

    for name in sorted(deps):
        visit(name)
    return ordered


class InstanceReader:
    """The instance reads certification relies on, in one place (some are not public API)."""

    def __init__(self, instance: dg.DagsterInstance) -> None:
        self.instance = instance

    def latest_materialization(self, key: dg.AssetKey) -> dg.EventLogRecord | None:
        result = self.instance.fetch_materializations(dg.AssetRecordsFilter(asset_key=key), limit=1)
        return result.records[0] if result.records else None

    def check_states(self, entry: AssetEntry) -> list[CheckState]:
        keys = [dg.AssetCheckKey(entry.key, name) for name in sorted(entry.checks)]
        storage = self.instance.event_log_storage
        latest = storage.get_latest_asset_check_execution_by_key(keys)
        failed: dict[str, list[str]] = {}
        passed_somewhere: set[str] = set()
        partitioned = [k for k in keys if k.name in entry.partitioned_checks]
        if partitioned:
            for info in storage.get_asset_check_partition_info(partitioned):
                status = info.latest_execution_status.value
                if status == "FAILED":
                    failed.setdefault(info.check_key.name, []).append(str(info.partition_key))
                elif status == "SUCCEEDED":
                    passed_somewhere.add(info.check_key.name)
        states = []
        for key in keys:
            record = latest.get(key)
            evaluation = _evaluation(record)
            if key.name in entry.partitioned_checks:
                bad = tuple(sorted(failed.get(key.name, ())))
                executed = bool(bad) or key.name in passed_somewhere
                passed = (not bad) if executed else None
            else:
                bad = ()
                passed = None if evaluation is None else bool(evaluation.passed)
            states.append(
                CheckState(
                    name=key.name,
                    severity=entry.checks[key.name],
                    passed=passed,
                    failed_partitions=bad,
                    metadata=_plain_metadata(evaluation.metadata if evaluation else {}),
                )
            )
        return states

    def certification_checks(self, keys: Sequence[dg.AssetKey]) -> dict[str, bool]:
        """asset -> whether its ``certification`` check last passed (assets with a result only)."""
        check_keys = [dg.AssetCheckKey(key, CHECK_NAME) for key in keys]
        latest = self.instance.event_log_storage.get_latest_asset_check_execution_by_key(check_keys)
        out = {}
        for check_key, execution in latest.items():
            evaluation = _evaluation(execution)
            if evaluation is not None:
                out[check_key.asset_key.to_user_string()] = bool(evaluation.passed)
        return out

    def latest_certification(self, key: dg.AssetKey) -> dict[str, Any] | None:
        """The decision last reported for ``key`` (observation metadata), if any."""
        records = self.instance.fetch_observations(dg.AssetRecordsFilter(asset_key=key), limit=20).records
        for rec in records:
            observation = rec.asset_observation
            value = observation.metadata.get("dte/certification") if observation else None
            if value is not None:
                return dict(value.value)  # type: ignore[arg-type]
        return None


def _evaluation(record: Any) -> dg.AssetCheckEvaluation | None:
    if record is None or record.event is None or record.event.dagster_event is None:
        return None
    data = record.event.dagster_event.event_specific_data
    return data if isinstance(data, dg.AssetCheckEvaluation) else None


def _plain(value: Any) -> Any:
    """A metadata value as plain JSON data."""
    inner = getattr(value, "value", value)
    if isinstance(inner, dg.TableSchema | dg.TableColumnLineage):
        return str(inner)
    if isinstance(inner, dict | list | str | int | float | bool) or inner is None:
        return inner
    return str(inner)


def _plain_metadata(metadata: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _plain(v) for k, v in sorted(metadata.items()) if k not in _NOT_IN_PACKS}


@dataclasses.dataclass(frozen=True)
class Assessment:
    """One asset's decision and the evidence behind it (what goes into the pack)."""

    entry: AssetEntry
    evidence: Evidence
    decision: Decision
    materialization: Mapping[str, Any]  # version facts: storage id, run id, partition, fingerprint
    indicators: Mapping[str, Any]
    lineage_run_ids: tuple[str, ...]

    @property
    def signature(self) -> str:
        """Changes when anything a consumer of the certificate cares about changes."""
        d = self.decision
        parts = [d.level.label, d.required.label, str(d.certified), d.version or "", *d.reasons]
        return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]

    def pack_content(self) -> dict[str, Any]:
        decision = self.decision.to_json()
        evidence = self.evidence
        return {
            "decision": decision,
            "contract": {
                "file": self.entry.contract.file.name,
                "id": self.entry.contract.id,
                "version": self.entry.contract.version,
                "sha256": self.entry.contract.sha256,
            },
            "code_version": {"platform": __version__, "asset": self.entry.code_version},
            "data": dict(self.materialization),
            "checks": [
                {
                    "name": c.name,
                    "severity": c.severity,
                    "status": c.status,
                    "passed": c.passed,
                    "partitions_failed": list(c.failed_partitions),
                    "metadata": dict(c.metadata),
                }
                for c in evidence.checks
            ],
            "indicators": dict(self.indicators),
            "freshness": None
            if evidence.freshness is None
            else {
                "measured_at": evidence.freshness.measured_at.isoformat(),
                "lag_seconds": evidence.freshness.lag_seconds,
                "max_age_seconds": evidence.freshness.max_age_seconds,
                "deadline": d.isoformat() if (d := evidence.freshness.deadline) else None,
            },
            "lineage": {"recorded": evidence.lineage_recorded, "run_ids": list(self.lineage_run_ids)},
            "upstream": [
                {"asset": u.asset, "level": u.level.label, "certified": u.certified}
                for u in evidence.upstream
            ],
        }


_INDICATOR_KEYS = (
    "dte/trust_score",
    "dte/completeness_pct",
    "dte/validity_pct",
    "dte/freshness_lag_s",
    "dte/indicators",
    "dte/trust_components",
    "dagster/row_count",
)


def assess_asset(
    entry: AssetEntry,
    reader: InstanceReader,
    policy: Policy,
    now: dt.datetime,
    upstream: Mapping[str, Decision],
) -> Assessment:
    """Gather ``entry``'s evidence from the instance and decide its certificate at ``now``."""
    record = reader.latest_materialization(entry.key)
    materialization = record.asset_materialization if record else None
    metadata = _plain_metadata(materialization.metadata) if materialization else {}
    checks = reader.check_states(entry)
    evidence = Evidence(
        asset=entry.name,
        risk=entry.risk,
        version=f"materialization-{record.storage_id}" if record else None,
        materialized_at=dt.datetime.fromtimestamp(record.timestamp, dt.UTC) if record else None,
        checks=tuple(checks),
        freshness=_freshness(checks),
        lineage_recorded=metadata.get("dte/lineage_status") in {"emitted", "spooled"},
        upstream=tuple(_upstream(name, upstream) for name in entry.upstream),
    )
    facts: dict[str, Any] = {"version": evidence.version}
    if record is not None:
        facts.update(
            storage_id=record.storage_id,
            run_id=record.run_id,
            partition=record.partition_key,
            materialized_at=evidence.materialized_at.isoformat() if evidence.materialized_at else None,
            fingerprint=metadata.get("dte/data_fingerprint"),
            table=data_table(entry.compiled),
        )
    return Assessment(
        entry=entry,
        evidence=evidence,
        decision=decide(evidence, policy, now),
        materialization=facts,
        indicators={k.removeprefix("dte/"): metadata[k] for k in _INDICATOR_KEYS if k in metadata},
        lineage_run_ids=tuple(
            str(metadata[k]) for k in ("dte/lineage_run_id", "dte/lineage_checks_run_id") if metadata.get(k)
        ),
    )


def _upstream(name: str, decisions: Mapping[str, Decision]) -> Upstream:
    decision = decisions.get(name)
    if decision is None:
        return Upstream(name, Level.NONE, False)
    return Upstream(name, decision.level, decision.certified, decision.fresh_until)


def _freshness(checks: Iterable[CheckState]) -> Freshness | None:
    check = next((c for c in checks if c.name == "freshness"), None)
    if check is None:
        return None
    meta = check.metadata
    measured_at = meta.get("dte/measured_at")
    if check.passed is None or measured_at is None or "dte/max_age_seconds" not in meta:
        return Freshness(dt.datetime.min.replace(tzinfo=dt.UTC), None, 0.0)
    lag = meta.get("dte/lag_seconds")
    return Freshness(
        measured_at=dt.datetime.fromisoformat(str(measured_at)),
        lag_seconds=None if lag is None else float(lag),
        max_age_seconds=float(meta["dte/max_age_seconds"]),
    )


def assess_all(
    catalog: Catalog, instance: dg.DagsterInstance, policy: Policy, now: dt.datetime
) -> list[Assessment]:
    """Every asset's certificate at ``now``, upstream first so that demotions propagate."""
    reader = InstanceReader(instance)
    decisions: dict[str, Decision] = {}
    out = []
    for entry in catalog.entries:
        assessment = assess_asset(entry, reader, policy, now, decisions)
        decisions[entry.name] = assessment.decision
        out.append(assessment)
    return out


# --- what Dagster shows -------------------------------------------------------------------------


def decision_metadata(assessment: Assessment) -> dict[str, Any]:
    d = assessment.decision
    reasons = "\n".join(f"- {r}" for r in d.reasons) or "every criterion holds"
    metadata: dict[str, Any] = {
        "dte/certification": dg.MetadataValue.json(d.to_json()),
        "dte/certified": d.certified,
        "dte/certified_level": d.level.label,
        "dte/required_level": d.required.label,
        "dte/reasons": dg.MetadataValue.md(reasons),
        "dte/evidence_version": d.version or "",
    }
    if d.expires is not None:
        metadata["dte/expires"] = dg.MetadataValue.timestamp(d.expires)
    return metadata


def _headline(d: Decision) -> str:
    verdict = "certified" if d.certified else "NOT certified"
    return f"{d.level.label} ({d.required.label} required): {verdict}"


def asset_events(assessment: Assessment) -> list[dg.AssetObservation | dg.AssetCheckEvaluation]:
    metadata = decision_metadata(assessment)
    key = assessment.entry.key
    return [
        dg.AssetObservation(asset_key=key, description=_headline(assessment.decision), metadata=metadata),
        dg.AssetCheckEvaluation(
            asset_key=key,
            check_name=CHECK_NAME,
            passed=assessment.decision.certified,
            severity=dg.AssetCheckSeverity.WARN,
            description=_headline(assessment.decision),
            metadata=metadata,
        ),
    ]


# --- promotion ----------------------------------------------------------------------------------


class PromotionConfig(dg.Config):
    """One entry per certificate to record: the decision and its evidence as canonical JSON."""

    certificates: list[str]


def promote(
    settings: Settings, warehouse: WarehouseResource, items: Sequence[Mapping[str, Any]], run_id: str | None
) -> list[str]:
    """Write each certificate's evidence pack, record it, publish certified versions. Returns notes."""
    store = EvidenceStore(settings.artifacts_dir / "certification")
    notes = []
    for item in items:
        content = item["content"]
        decision = content["decision"]
        written = store.append(item["asset"], content)
        row = CertificateRow(
            asset=item["asset"],
            version=decision["version"],
            level=decision["level"],
            required=decision["required"],
            certified=decision["certified"],
            status=decision["status"],
            issued=dt.datetime.fromisoformat(decision["issued"]),
            expires=dt.datetime.fromisoformat(decision["expires"]) if decision["expires"] else None,
            evidence_hash=written.hash,
            evidence_sequence=written.sequence,
            fingerprint=content["data"].get("fingerprint"),
            reasons=decision["reasons"],
            run_id=run_id,
        )
        layer, slug = item["table"]
        with warehouse.get_connection() as conn:
            outcome = record(
                conn,
                row,
                source_table=content["data"].get("table") if decision["certified"] else None,
                target_table=certified_table(layer, slug),
            )
        notes.append(f"{item['asset']}: {decision['level']} ({decision['status']}), {outcome.note}")
    return notes


def promotion_item(assessment: Assessment) -> str:
    layer, slug = table_name(assessment.entry.compiled)
    return json.dumps(
        {"asset": assessment.entry.name, "table": [layer, slug], "content": assessment.pack_content()},
        sort_keys=True,
    )


def promotion_run_config(assessments: Sequence[Assessment], **extra: Any) -> dg.RunConfig:
    """The promotion job's run config recording ``assessments`` (the sensor's and ``dte run``'s)."""
    items = [promotion_item(a) for a in assessments]
    return dg.RunConfig(ops={PROMOTION_OP: PromotionConfig(certificates=items)}, **extra)


def build_promotion_job(settings: Settings, pool: str) -> dg.JobDefinition:
    @dg.op(
        name=PROMOTION_OP,
        description="Evidence packs, trust.certificates and certified.* for the requested certificates.",
        pool=pool,
    )
    def _promote(
        context: dg.OpExecutionContext, config: PromotionConfig, warehouse: WarehouseResource
    ) -> None:
        items = [json.loads(c) for c in config.certificates]
        for note in promote(settings, warehouse, items, context.run.run_id):
            context.log.info(note)

    @dg.job(
        name=JOB_NAME,
        description="Records certificates (evidence pack + trust.certificates) and publishes certified "
        "versions to certified.*; launched by the certification sensor and by `dte run`.",
        tags={"dte/kind": "certification"},
    )
    def _job() -> None:
        _promote()

    return _job


# --- the sensor ---------------------------------------------------------------------------------


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
        description="Evaluates every asset's certificate from its check results, materializations, "
        "freshness and upstream certificates; reports changes and requests promotion runs.",
    )
    def _sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult:
        cursor = _cursor(context.cursor)
        assessments = assess_all(catalog, context.instance, policy, settings.now())
        updates = changed(assessments, cursor)
        # a `certification` check executed inside a run may have judged an intermediate state
        # (upstream observations not yet updated): the sensor's decision is the one shown
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


# --- the per-asset check ------------------------------------------------------------------------


def build_certification_check(
    settings: Settings, catalog: Catalog, policy: Policy, entry: AssetEntry
) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=entry.key,
        name=CHECK_NAME,
        description=f"Certificate: the achieved level must reach {policy.required_level(entry.risk).label} "
        f"(risk {entry.risk}); evaluated from this asset's checks, freshness, lineage and upstream "
        "certificates by the certification sensor.",
        blocking=False,
    )
    def _check(context: dg.AssetCheckExecutionContext) -> dg.AssetCheckResult:
        reader = InstanceReader(context.instance)
        upstream = {}
        for name in entry.upstream:
            last = reader.latest_certification(catalog[name].key)
            if last is not None:
                upstream[name] = _decision_from_json(last)
        assessment = assess_asset(entry, reader, policy, settings.now(), upstream)
        return dg.AssetCheckResult(
            passed=assessment.decision.certified,
            severity=dg.AssetCheckSeverity.WARN,
            description=_headline(assessment.decision),
            metadata=decision_metadata(assessment),
        )

    return _check


def _decision_from_json(value: Mapping[str, Any]) -> Decision:
    return Decision(
        asset=value["asset"],
        level=Level.parse(value["level"]),
        required=Level.parse(value["required"]),
        reasons=tuple(value["reasons"]),
        issued=dt.datetime.fromisoformat(value["issued"]),
        expires=dt.datetime.fromisoformat(value["expires"]) if value.get("expires") else None,
        version=value.get("version"),
        fresh_until=dt.datetime.fromisoformat(value["fresh_until"]) if value.get("fresh_until") else None,
    )


@dataclasses.dataclass(frozen=True)
class Certification:
    catalog: Catalog
    policy: Policy
    checks: list[dg.AssetChecksDefinition]
    job: dg.JobDefinition
    sensor: dg.SensorDefinition


def build_certification(
    settings: Settings,
    datasets: Sequence[tuple[Contract, Dataset, CompiledDataset]],
    assets: Sequence[dg.AssetsDefinition],
    checks: Sequence[dg.AssetChecksDefinition],
    pool: str,
) -> Certification:
    policy = project_policy(settings.checks_dir)
    catalog = build_catalog(datasets, assets, checks)
    job = build_promotion_job(settings, pool)
    return Certification(
        catalog=catalog,
        policy=policy,
        checks=[build_certification_check(settings, catalog, policy, e) for e in catalog.entries],
        job=job,
        sensor=build_certification_sensor(settings, catalog, policy, job),
    )


# --- headless -----------------------------------------------------------------------------------


def certify(
    settings: Settings,
    certification: Certification,
    instance: dg.DagsterInstance,
    job: dg.JobDefinition,
) -> list[Assessment]:
    """What the sensor would do, now, in this process: report changed certificates as run-less
    events and run the promotion job for them. Returns every asset's assessment."""
    assessments = assess_all(certification.catalog, instance, certification.policy, settings.now())
    last = {a.entry.name: instance_signature(instance, a) for a in assessments}
    updates = [a for a in assessments if a.decision.version is not None and last[a.entry.name] != a.signature]
    for assessment in updates:
        for event in asset_events(assessment):
            instance.report_runless_asset_event(event)
    if updates:
        job.execute_in_process(
            run_config=promotion_run_config(
                updates, loggers={"console": {"config": {"log_level": "WARNING"}}}
            ),
            instance=instance,
            tags={"dte/kind": "certification", "dte/launched_by": "dte run"},
            raise_on_error=True,
        )
    return assessments


def instance_signature(instance: dg.DagsterInstance, assessment: Assessment) -> str | None:
    """The signature of the decision last reported for the asset (from its observation)."""
    last = InstanceReader(instance).latest_certification(assessment.entry.key)
    if last is None:
        return None
    previous = dataclasses.replace(assessment, decision=_decision_from_json(last))
    return previous.signature

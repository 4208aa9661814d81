"""Gathering an asset's certification evidence from the Dagster instance: finished work only.

- the data version is that of the latest materialization whose run has finished;
- each check counts with its latest *completed* evaluation on each partition (planned, queued and
  in-progress executions are not evidence; a partition whose latest run failed keeps the evaluation
  of its last finished one); a reconciliation that could not be judged is "not run";
- a materialization that failed after a partition's last success is named, with its error;
- a derived asset's recorded input versions are compared with its inputs' current versions.

The non-public event-log reads Dagster offers for check state are wrapped in :class:`InstanceReader`.
"""

import dataclasses
import datetime as dt
import hashlib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import dagster as dg
from dagster._core.event_api import PartitionKeyFilter
from dagster._core.storage.asset_check_execution_record import AssetCheckExecutionRecordStatus as Status

from dte_platform import __version__
from dte_platform.certification.decide import (
    CheckState,
    Decision,
    Evidence,
    FailedRun,
    Freshness,
    InputVersion,
    Upstream,
    decide,
)
from dte_platform.certification.findings import finding
from dte_platform.certification.policy import Level, Policy
from dte_platform.ingest.writer import data_table
from dte_platform.orchestration.certification.catalog import CHECK_NAME, AssetEntry, Catalog
from dte_platform.orchestration.steps import DATA_VERSION, FINGERPRINT, INPUTS, MATERIALIZED_AT

COMPLETED = frozenset({Status.SUCCEEDED, Status.FAILED})
#: check metadata that can carry row values; it stays in Dagster (where it is already redacted) and
#: never enters an evidence pack
_NOT_IN_PACKS = frozenset({"dte/failing_sample"})
_HISTORY = 10


class InstanceReader:
    """The instance reads certification relies on, in one place (some are not public API). One
    reader serves one evaluation (a sensor tick), caching what it looked up."""

    def __init__(self, instance: dg.DagsterInstance) -> None:
        self.instance = instance
        self._finished: dict[str, bool] = {}

    def run_finished(self, run_id: str | None) -> bool:
        """Runless events count as finished; a run that is queued or in progress does not."""
        if not run_id:
            return True
        if run_id not in self._finished:
            record = self.instance.get_run_record_by_id(run_id)
            self._finished[run_id] = record is None or record.dagster_run.is_finished
        return self._finished[run_id]

    def latest_materialization(self, key: dg.AssetKey) -> dg.EventLogRecord | None:
        """The latest materialization whose run has finished."""
        records = self.instance.fetch_materializations(dg.AssetRecordsFilter(asset_key=key), limit=_HISTORY)
        return next((r for r in records.records if self.run_finished(r.run_id)), None)

    def data_version(self, key: dg.AssetKey) -> str | None:
        record = self.latest_materialization(key)
        if record is None or record.asset_materialization is None:
            return None
        return _version(record.asset_materialization.metadata, record.storage_id)

    def check_states(self, entry: AssetEntry) -> list[CheckState]:
        storage = self.instance.event_log_storage
        keys = {name: dg.AssetCheckKey(entry.key, name) for name in sorted(entry.checks)}
        whole = [k for n, k in keys.items() if n not in entry.partitioned_checks]
        latest = storage.get_latest_asset_check_execution_by_key(whole) if whole else {}
        per_partition: dict[str, dict[str, Status]] = {}
        parts = [k for n, k in keys.items() if n in entry.partitioned_checks]
        for info in storage.get_asset_check_partition_info(parts) if parts else []:
            partition = str(info.partition_key)
            status: Status | None = info.latest_execution_status
            if status not in COMPLETED:
                status = self._finished_status(info.check_key, partition)
            if status is not None:
                per_partition.setdefault(info.check_key.name, {})[partition] = status
        states = []
        for name, key in keys.items():
            if name in entry.partitioned_checks:
                states.append(self._partitioned_state(entry, key, per_partition.get(name, {})))
            else:
                evaluation = self._finished_evaluation(key, latest.get(key), None)
                states.append(_state(entry, name, evaluation, ()))
        return states

    def _partitioned_state(
        self, entry: AssetEntry, key: dg.AssetCheckKey, statuses: Mapping[str, Status]
    ) -> CheckState:
        failed = tuple(sorted(p for p, s in statuses.items() if s == Status.FAILED))
        if not statuses:
            return _state(entry, key.name, None, ())
        evaluation = self._finished_evaluation(key, None, failed[-1] if failed else max(statuses))
        return _state(entry, key.name, evaluation, failed, passed=not failed)

    def _finished_status(self, key: dg.AssetCheckKey, partition: str) -> Status | None:
        history = self._history(key, partition)
        return history[0].status if history else None

    def _history(self, key: dg.AssetCheckKey, partition: str | None) -> list[Any]:
        storage = self.instance.event_log_storage
        records = storage.get_asset_check_execution_history(
            key,
            limit=_HISTORY,
            status=set(COMPLETED),
            partition_filter=PartitionKeyFilter(key=partition) if partition is not None else None,
        )
        return [r for r in records if self.run_finished(r.run_id) and _evaluation(r) is not None]

    def _finished_evaluation(
        self, key: dg.AssetCheckKey, record: Any, partition: str | None
    ) -> dg.AssetCheckEvaluation | None:
        """The latest completed evaluation of ``key`` (on ``partition``) whose run has finished."""
        if record is not None and record.status in COMPLETED and self.run_finished(record.run_id):
            return _evaluation(record)
        history = self._history(key, partition)
        return _evaluation(history[0]) if history else None

    def failed_runs(self, entry: AssetEntry) -> list[FailedRun]:
        """The asset's own materializations that failed after the partition's last success: the
        latest attempt of a partition (a planned materialization) with no materialization since,
        whose run finished without success and whose step for this asset failed."""
        storage = self.instance.event_log_storage
        pending: dict[str | None, str]
        if entry.partitioned:
            attempts = storage.get_latest_asset_partition_materialization_attempts_without_materializations(
                entry.key
            )
            pending = {str(p): run_id for p, (run_id, _) in attempts.items()}
        else:
            planned = storage.get_latest_planned_materialization_info(entry.key)
            latest = self.latest_materialization(entry.key)
            newer = planned is not None and (latest is None or planned.storage_id > latest.storage_id)
            pending = {None: planned.run_id} if newer and planned is not None else {}
        out = []
        for partition, run_id in sorted(pending.items(), key=lambda item: item[0] or ""):
            error = self._own_step_failure(run_id, entry.key)
            if error is not None:
                out.append(FailedRun(partition, run_id, error))
        return out

    def _own_step_failure(self, run_id: str, key: dg.AssetKey) -> str | None:
        """The error of ``key``'s own step in a finished, unsuccessful run (None otherwise: the run
        is still going, succeeded, or failed elsewhere, e.g. upstream)."""
        record = self.instance.get_run_record_by_id(run_id)
        if record is None or not record.dagster_run.is_finished or record.dagster_run.is_success:
            return None
        step = "__".join(key.path)
        for event in self.instance.all_logs(run_id, of_type=dg.DagsterEventType.STEP_FAILURE):
            dagster_event = event.dagster_event
            if dagster_event is None or not (dagster_event.step_key or "").startswith(step):
                continue
            return failure_message(dagster_event.step_failure_data)
        if record.dagster_run.status == dg.DagsterRunStatus.CANCELED:
            return "the run was canceled before it finished"
        return None

    def latest_certification(self, key: dg.AssetKey) -> dict[str, Any] | None:
        """The decision last reported for ``key`` (observation metadata), if any."""
        records = self.instance.fetch_observations(dg.AssetRecordsFilter(asset_key=key), limit=20).records
        for rec in records:
            observation = rec.asset_observation
            value = observation.metadata.get("dte/certification") if observation else None
            if value is not None:
                return dict(value.value)  # type: ignore[arg-type]
        return None

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


def _evaluation(record: Any) -> dg.AssetCheckEvaluation | None:
    if record is None or record.event is None or record.event.dagster_event is None:
        return None
    data = record.event.dagster_event.event_specific_data
    return data if isinstance(data, dg.AssetCheckEvaluation) else None


def failure_message(data: Any) -> str:
    """A step failure's own message, one line: our steps raise ``Failure`` with a description that
    names the file and what is wrong; otherwise the innermost cause of the error."""
    user = getattr(data, "user_failure_data", None)
    message = getattr(user, "description", None) or ""
    error = getattr(data, "error", None)
    while not message and error is not None:
        message = error.message if error.cause is None else ""
        error = error.cause
    lines = [line.strip() for line in message.strip().splitlines() if line.strip()]
    return lines[0][:500] if lines else "the step failed"


def _state(
    entry: AssetEntry,
    name: str,
    evaluation: dg.AssetCheckEvaluation | None,
    failed: tuple[str, ...],
    passed: bool | None = None,
) -> CheckState:
    metadata = _plain_metadata(evaluation.metadata) if evaluation is not None else {}
    if evaluation is None or metadata.get("dte/judged") is False:
        outcome = None
    else:
        outcome = bool(evaluation.passed) if passed is None else passed
    return CheckState(
        name=name,
        severity=entry.checks[name],
        passed=outcome,
        failed_partitions=failed,
        metadata=metadata,
        label=entry.labels.get(name, ""),
        finding=finding(metadata) if outcome is False else "",
    )


def _plain(value: Any) -> Any:
    """A metadata value as plain JSON data."""
    inner = getattr(value, "value", value)
    if isinstance(inner, dg.TableSchema | dg.TableColumnLineage):
        return str(inner)
    records = getattr(inner, "records", None)
    if records is not None and isinstance(records, list):
        return [dict(r.data) for r in records]
    if isinstance(inner, dict | list | str | int | float | bool) or inner is None:
        return inner
    return str(inner)


def _plain_metadata(metadata: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _plain(v) for k, v in sorted(metadata.items()) if k not in _NOT_IN_PACKS}


def _version(metadata: Mapping[str, Any], storage_id: int) -> str:
    entry = metadata.get(DATA_VERSION)
    return str(entry.value) if entry is not None else f"materialization-{storage_id}"


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
        evidence = self.evidence
        return {
            "decision": self.decision.to_json(),
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
                    "label": c.label,
                    "severity": c.severity,
                    "status": c.status,
                    "passed": c.passed,
                    "partitions_failed": list(c.failed_partitions),
                    "finding": c.finding,
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
                {
                    "asset": u.asset,
                    "level": u.level.label,
                    "required": u.required.label,
                    "certified": u.certified,
                }
                for u in evidence.upstream
            ],
            "failed_runs": [
                {"partition": r.partition, "run_id": r.run_id, "error": r.error} for r in evidence.failed_runs
            ],
            "inputs": [
                {"asset": i.asset, "built_from": i.built_from, "current": i.current} for i in evidence.inputs
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
    raw = materialization.metadata if materialization else {}
    metadata = _plain_metadata(raw)
    checks = reader.check_states(entry)
    version = _version(raw, record.storage_id) if record else None
    materialized_at = _materialized_at(metadata, record)
    freshness, measured = _freshness(checks)
    evidence = Evidence(
        asset=entry.name,
        risk=entry.risk,
        version=version,
        materialized_at=materialized_at,
        checks=tuple(checks),
        freshness=freshness,
        freshness_measured=measured,
        lineage_recorded=metadata.get("dte/lineage_status") in {"emitted", "spooled"},
        upstream=tuple(_upstream(name, upstream) for name in entry.upstream),
        failed_runs=tuple(reader.failed_runs(entry)),
        inputs=tuple(_inputs(metadata.get(INPUTS), reader, entry)) if record else (),
    )
    facts: dict[str, Any] = {"version": version}
    if record is not None:
        facts.update(
            storage_id=record.storage_id,
            run_id=record.run_id,
            partition=record.partition_key,
            materialized_at=materialized_at.isoformat() if materialized_at else None,
            fingerprint=metadata.get(FINGERPRINT),
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


def _materialized_at(metadata: Mapping[str, Any], record: dg.EventLogRecord | None) -> dt.datetime | None:
    """On the platform's clock (``DTE_AS_OF`` when set), as the step recorded it."""
    if record is None:
        return None
    recorded = metadata.get(MATERIALIZED_AT)
    if isinstance(recorded, str):
        return dt.datetime.fromisoformat(recorded)
    return dt.datetime.fromtimestamp(record.timestamp, dt.UTC)


def _inputs(recorded: Any, reader: InstanceReader, entry: AssetEntry) -> Iterable[InputVersion]:
    if not isinstance(recorded, dict):
        return []
    return [
        InputVersion(asset, built_from, reader.data_version(dg.AssetKey(asset.split("/"))))
        for asset, built_from in sorted(recorded.items())
        if asset in entry.upstream
    ]


def _upstream(name: str, decisions: Mapping[str, Decision]) -> Upstream:
    decision = decisions.get(name)
    if decision is None:
        return Upstream(name, Level.NONE, False)
    return Upstream(name, decision.level, decision.certified, decision.fresh_until, decision.required)


def _freshness(checks: Iterable[CheckState]) -> tuple[Freshness | None, bool]:
    """(the freshness the check measured, whether a finished measurement exists)."""
    check = next((c for c in checks if c.name == "freshness"), None)
    if check is None:
        return None, True
    meta = check.metadata
    measured_at = meta.get("dte/measured_at")
    if check.passed is None or measured_at is None or "dte/max_age_seconds" not in meta:
        return None, False
    lag = meta.get("dte/lag_seconds")
    return (
        Freshness(
            measured_at=dt.datetime.fromisoformat(str(measured_at)),
            lag_seconds=None if lag is None else float(lag),
            max_age_seconds=float(meta["dte/max_age_seconds"]),
        ),
        True,
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


def decision_from_json(value: Mapping[str, Any]) -> Decision:
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

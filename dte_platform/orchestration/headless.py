"""Headless materialization for ``dte run``: every source asset over every partition with landing
data (or a selection), one Dagster run per day, with a progress display and a summary."""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg

from dte_platform.ingest import available_partitions
from dte_platform.orchestration.certification import (
    CHECK_NAME,
    JOB_NAME,
    Assessment,
    build_certification,
    certify,
)
from dte_platform.orchestration.certification.evidence import failure_message
from dte_platform.orchestration.factories import build_definitions, compiled_datasets
from dte_platform.orchestration.steps import WAREHOUSE_POOL
from dte_platform.settings import Settings


@dataclass
class PartitionOutcome:
    asset: str
    partition: str
    materialized: bool = False
    rows: dict[str, int] = field(default_factory=dict)
    failed_errors: list[str] = field(default_factory=list)
    failed_warnings: list[str] = field(default_factory=list)
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.materialized and not self.failed_errors


def instance_for_run(dagster_home: str | None) -> dg.DagsterInstance:
    """The persistent instance of ``DAGSTER_HOME`` (runs show up in the UI), else a throwaway one."""
    if not dagster_home:
        return dg.DagsterInstance.ephemeral()
    Path(dagster_home).mkdir(parents=True, exist_ok=True)
    return dg.DagsterInstance.get()


WHOLE = "-"  # the "partition" of datasets rebuilt whole (golden)


Step = tuple[str, list[str]]  # (partition day or WHOLE, asset keys)


def plan(settings: Settings, select: Sequence[str] = (), partitions: Sequence[str] = ()) -> list[Step]:
    """Runs in dependency order: sources day by day (days with landing files), golden datasets,
    partitioned marts on those days, then marts rebuilt whole."""
    sources: dict[str, list[str]] = {}
    golden: list[str] = []
    daily_marts: list[str] = []
    whole_marts: list[str] = []
    all_days: set[str] = set()
    for _, dataset, compiled in compiled_datasets(settings):
        key = "/".join(compiled.key_path)
        source = dataset.dte.source
        days = (
            [
                d
                for d in available_partitions(settings.project_dir, source)
                if d >= (source.partition_start or d) and (not partitions or d in partitions)
            ]
            if source
            else []
        )
        all_days.update(days)
        if select and not any(fnmatch.fnmatch(key, pattern) for pattern in select):
            continue
        for day in days:
            sources.setdefault(day, []).append(key)
        if dataset.dte.canonical is not None:
            golden.append(key)
        elif dataset.dte.sql is not None:
            (daily_marts if dataset.dte.partition_start else whole_marts).append(key)
    steps: list[Step] = sorted(sources.items())
    steps += [(WHOLE, golden)] if golden else []
    steps += [(day, daily_marts) for day in sorted(all_days)] if daily_marts else []
    return steps + ([(WHOLE, whole_marts)] if whole_marts else [])


# the progress display and the summary replace Dagster's per-event console log; failures are in the summary
_QUIET = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}


def run_all(
    settings: Settings,
    instance: dg.DagsterInstance,
    days: list[Step],
    on_day: Callable[[str], None] = lambda _: None,
    defs: dg.Definitions | None = None,
) -> list[PartitionOutcome]:
    defs = defs or build_definitions(settings)
    assets = {a.key.to_user_string(): a for a in defs.assets or [] if isinstance(a, dg.AssetsDefinition)}
    outcomes: list[PartitionOutcome] = []
    for day, keys in days:
        result = dg.materialize(
            [assets[k] for k in keys],
            partition_key=None if day == WHOLE else day,
            instance=instance,
            resources=defs.resources,
            raise_on_error=False,
            tags={"dte/launched_by": "dte run"},
            run_config=_QUIET,
        )
        outcomes.extend(_outcomes(result, day, keys))
        on_day(day)
    selected = {k for _, keys in days for k in keys}
    return outcomes + _standalone_checks(defs, instance, selected)


def certify_project(
    settings: Settings, instance: dg.DagsterInstance, defs: dg.Definitions | None = None
) -> list[Assessment]:
    """The certification the sensor would run, in this process: report what changed, record it
    and publish certified versions (see ``orchestration/certification/``)."""
    defs = defs or build_definitions(settings)
    assets = [a for a in defs.assets or [] if isinstance(a, dg.AssetsDefinition)]
    checks = [c for c in defs.asset_checks or [] if isinstance(c, dg.AssetChecksDefinition)]
    certification = build_certification(settings, compiled_datasets(settings), assets, checks, WAREHOUSE_POOL)
    return certify(settings, certification, instance, defs.resolve_job_def(JOB_NAME))


def _standalone_checks(
    defs: dg.Definitions, instance: dg.DagsterInstance, selected: set[str]
) -> list[PartitionOutcome]:
    """Cross-asset checks (checks/) of the selected assets, in one run once everything is loaded."""
    checks = [
        c
        for c in defs.asset_checks or []
        if isinstance(c, dg.AssetChecksDefinition)
        and any(k.asset_key.to_user_string() in selected for k in c.check_keys)
        and not any(k.name == CHECK_NAME for k in c.check_keys)  # certify_project() evaluates those
    ]
    if not checks:
        return []
    assets = [a for a in defs.assets or [] if isinstance(a, dg.AssetsDefinition)]
    result = dg.materialize(
        [*assets, *checks],
        selection=dg.AssetSelection.checks(*[k for c in checks for k in c.check_keys]),
        instance=instance,
        resources=defs.resources,
        raise_on_error=False,
        tags={"dte/launched_by": "dte run"},
        run_config=_QUIET,
    )
    outcomes: dict[str, PartitionOutcome] = {}
    for evaluation in result.get_asset_check_evaluations():
        name = f"{evaluation.asset_key.to_user_string()} ({evaluation.check_name})"
        outcome = outcomes.setdefault(
            name, PartitionOutcome(asset=name, partition="check", materialized=True)
        )
        if not evaluation.passed:
            bucket = (
                outcome.failed_errors
                if evaluation.severity == dg.AssetCheckSeverity.ERROR
                else outcome.failed_warnings
            )
            bucket.append(evaluation.check_name)
    return list(outcomes.values())


def _outcomes(result: dg.ExecuteInProcessResult, day: str, keys: list[str]) -> list[PartitionOutcome]:
    by_key = {k: PartitionOutcome(asset=k, partition=day) for k in keys}
    for event in result.get_asset_materialization_events():
        materialization = event.step_materialization_data.materialization
        outcome = by_key[materialization.asset_key.to_user_string()]
        outcome.materialized = True
        metadata = materialization.metadata
        counts = {k: v.value for k, v in metadata.items() if isinstance(v.value, int)}
        outcome.rows = {k.removeprefix("dte/"): v for k, v in counts.items() if k.startswith("dte/rows_")}
        if "dte/source_records" in counts:  # golden: source records in, entities out
            outcome.rows = {
                "rows_in": counts["dte/source_records"],
                "rows_loaded": counts["dagster/row_count"],
            }
        elif not outcome.rows and "dagster/row_count" in counts:  # marts: rows built
            outcome.rows = {"rows_loaded": counts["dagster/row_count"]}
    for evaluation in result.get_asset_check_evaluations():
        if not evaluation.passed:
            outcome = by_key[evaluation.asset_key.to_user_string()]
            bucket = (
                outcome.failed_errors
                if evaluation.severity == dg.AssetCheckSeverity.ERROR
                else outcome.failed_warnings
            )
            bucket.append(evaluation.check_name)
    for event in result.all_events:
        if event.is_step_failure and event.step_key:
            message = failure_message(event.step_failure_data)
            for outcome in by_key.values():
                if not outcome.materialized and outcome.error is None:
                    outcome.error = message
    return list(by_key.values())

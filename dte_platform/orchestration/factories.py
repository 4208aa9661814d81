"""Factories: a folder of contracts becomes Dagster definitions.

Each builder is a function (never a loop body: Dagster's decorators would late-bind the loop
variable). Loading fails fast on the first bad contract, naming the file and the field.
"""

# no `from __future__ import annotations`: Dagster inspects the context annotation at runtime
import dataclasses
import datetime as dt
from collections.abc import Iterator
from typing import Any

import dagster as dg

from dte_platform.certification.policy import project_policy
from dte_platform.certification.publish import table_fingerprint
from dte_platform.compiler import CompiledDataset, compile_dataset, sql_exec
from dte_platform.compiler.project import by_asset_key, compile_project
from dte_platform.compiler.results import RuleResult
from dte_platform.compiler.rules import Severity
from dte_platform.confidence.assess import Assessment, Target, assess
from dte_platform.contracts import Contract, Dataset, reconciliations
from dte_platform.errors import DefinitionError, DteError
from dte_platform.ingest import IngestReport, SourceRun, ingest_partition
from dte_platform.ingest.landing import partition_files, relative_name
from dte_platform.ingest.run import prepare_source
from dte_platform.ingest.writer import data_table
from dte_platform.lineage import datasets as lineage_datasets
from dte_platform.orchestration.lineage import LineageResource, lineage_resource, step_lineage
from dte_platform.orchestration.resources import WarehouseResource
from dte_platform.orchestration.translator import ContractTranslator
from dte_platform.settings import Settings

#: every step that touches the warehouse runs in this pool; see README "Concurrency"
WAREHOUSE_POOL = "dte_warehouse"


def build_source_asset(
    contract: Contract, dataset: Dataset, settings: Settings, translator: ContractTranslator | None = None
) -> dg.AssetsDefinition:
    """One daily-partitioned asset per source dataset, with one check per compiled rule."""
    translator = translator or ContractTranslator()
    compiled = compile_dataset(contract, dataset, settings.sensitive_classes)
    source = dataset.dte.source
    if source is None:  # pragma: no cover - callers filter
        raise DefinitionError(contract.file, f"{dataset.path}.customProperties", "no dte.source")
    if source.partition_start is None:
        raise DefinitionError(
            contract.file,
            f"{dataset.path}.customProperties.dte.value.source.partitioning",
            "source datasets are daily partitioned: declare partitioning {type: daily, start}",
        )
    job = prepare_source(
        settings.project_dir, compiled, source, dataset.dte.quarantine_max_percent, str(contract.file)
    )
    key = translator.asset_key(compiled)
    partitions_def = translator.partitions_def(dataset)

    @dg.asset(
        key=key,
        description=translator.description(contract, dataset),
        group_name=translator.group_name(compiled),
        owners=translator.owners(contract),
        tags=translator.tags(contract, dataset),
        kinds=translator.kinds(dataset),
        metadata=translator.metadata(contract, dataset, compiled),
        partitions_def=partitions_def,
        check_specs=[translator.check_spec(key, r, partitions_def) for r in compiled.rules],
        freshness_policy=translator.freshness_policy(compiled),
        code_version=translator.code_version(contract, dataset),
        pool=WAREHOUSE_POOL,
    )
    def _source_asset(
        context: dg.AssetExecutionContext, warehouse: WarehouseResource, lineage: LineageResource
    ) -> Iterator[Any]:
        out = lineage_datasets.table_dataset(
            compiled, warehouse.lineage_name(), description=dataset.description, owners=contract.owners
        )
        landing = [
            lineage_datasets.file_dataset(settings.project_dir, f)
            for f in _landing(job, context.partition_key)
        ]
        now = settings.now()
        with step_lineage(context, lineage, key.to_user_string(), landing, [out]) as step:
            report, rows, metrics, assessment, fingerprint = _ingest(context, warehouse, job, dataset, now)
            results = [*report.results, *assessment.results]
            step.outputs = [dataclasses.replace(out, row_count=rows, column_metrics=metrics)]
            step.checked = [dataclasses.replace(step.outputs[0], assertions=_assertions(results))]
        yield dg.MaterializeResult(
            metadata={
                **materialization_metadata(report),
                **confidence_metadata(assessment),
                **step.metadata(),
                "dte/data_fingerprint": fingerprint,
            }
        )
        for result in results:
            yield check_result(result, measured_at=now)

    return _source_asset


def _landing(job: SourceRun, day: str) -> list[str]:
    try:
        return [relative_name(job.project_dir, f) for f in partition_files(job.project_dir, job.source, day)]
    except DteError:
        return []  # the ingest step reports it


def _assertions(results: list[RuleResult]) -> tuple[Any, ...]:
    return lineage_datasets.table_dataset_assertions(results)


def _ingest(
    context: dg.AssetExecutionContext,
    warehouse: WarehouseResource,
    job: SourceRun,
    dataset: Dataset,
    now: dt.datetime,
) -> tuple[IngestReport, int, dict[str, dict[str, int | float]], Assessment, str]:
    try:
        with warehouse.get_connection() as conn:
            report = ingest_partition(conn, job, context.partition_key, now)
            day = dt.date.fromisoformat(report.partition)
            rows, metrics = lineage_datasets.column_metrics(conn, job.compiled, day)
            validity = (
                100.0 * (report.rows_in - report.rows_quarantined) / report.rows_in
                if report.rows_in
                else None
            )
            assessment = assess_step(conn, context, job.compiled, dataset, day, report.results, validity)
            fingerprint = table_fingerprint(conn, report.table)
    except DteError as exc:
        # the partition is left as it was; the message names the file and what is wrong with it
        raise dg.Failure(description=str(exc), metadata={"dte/partition": context.partition_key}) from exc
    context.log.info(
        f"{report.table} {report.partition}: {report.rows_in} rows in, {report.rows_loaded} loaded, "
        f"{report.rows_quarantined} quarantined ({report.rows_unparseable} unparseable)"
    )
    return report, rows, metrics, assessment, fingerprint


def materialization_metadata(report: IngestReport) -> dict[str, Any]:
    failed = [r.rule.check_name for r in report.failed]
    return {
        "dagster/row_count": report.rows_loaded,
        "dagster/partition_row_count": report.rows_loaded,
        "dte/rows_in": report.rows_in,
        "dte/rows_loaded": report.rows_loaded,
        "dte/rows_quarantined": report.rows_quarantined,
        "dte/rows_unparseable": report.rows_unparseable,
        "dte/quarantine_percent": round(100.0 * report.rows_quarantined / report.rows_in, 3)
        if report.rows_in
        else 0.0,
        "dte/files": dg.MetadataValue.json(report.files),
        "dte/checks_failed": dg.MetadataValue.json(failed),
    }


def confidence_metadata(assessment: Assessment) -> dict[str, Any]:
    metadata = assessment.metadata()
    metadata["dte/trust_components"] = dg.MetadataValue.md(metadata["dte/trust_components"])
    metadata["dte/indicators"] = dg.MetadataValue.json(metadata["dte/indicators"])
    return metadata


def assess_step(
    conn: Any,
    context: dg.AssetExecutionContext,
    compiled: CompiledDataset,
    dataset: Dataset,
    partition: dt.date | None,
    results: list[RuleResult],
    validity: float | None,
) -> Assessment:
    """Indicators, volume, drift and the trust score of what the step just wrote."""
    target = Target(
        asset="/".join(compiled.key_path),
        table=data_table(compiled),
        partition=partition,
        run_id=context.run.run_id,
        at=dt.datetime.now(dt.UTC),
    )
    return assess(conn, compiled, dataset.dte.confidence, target, results, validity)


def check_result(result: RuleResult, measured_at: dt.datetime | None = None) -> dg.AssetCheckResult:
    """``measured_at``: the instant time-dependent rules (freshness) were judged at."""
    rule = result.rule
    metadata: dict[str, Any] = {
        "dte/rule": rule.description,
        "dte/declared_at": rule.source,
        "dte/failing_rows": result.failing_rows,
    }
    if rule.kind == "freshness" and measured_at is not None:
        metadata["dte/measured_at"] = measured_at.isoformat()
    if result.measured is not None:
        metadata["dte/measured"] = float(result.measured)
    for name, value in result.details.items():
        metadata[f"dte/{name}"] = (
            value if isinstance(value, int | float | str | bool) else dg.MetadataValue.json(value)
        )
    if result.samples:
        metadata["dte/failing_sample"] = dg.MetadataValue.md(_sample_table(result.samples))
    return dg.AssetCheckResult(
        check_name=rule.check_name,
        passed=result.passed,
        severity=dg.AssetCheckSeverity.ERROR
        if rule.severity is Severity.ERROR
        else dg.AssetCheckSeverity.WARN,
        metadata=metadata,
    )


def _sample_table(samples: tuple[Any, ...]) -> str:
    columns = list(samples[0])
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for sample in samples:
        cells = [_cell(sample.get(c)) for c in columns]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _cell(value: Any) -> str:
    text = "∅" if value is None else str(value)
    return text.replace("|", "\\|").replace("\n", " ")[:80]


def compiled_datasets(settings: Settings) -> list[tuple[Contract, Dataset, CompiledDataset]]:
    """Every dataset of the project's contracts, compiled, in a stable order."""
    return compile_project(settings)


def compiled_sources(settings: Settings) -> list[tuple[Contract, Dataset, CompiledDataset]]:
    """Every dataset with a landing source."""
    return [item for item in compiled_datasets(settings) if item[1].dte.source is not None]


def build_contract_assets(
    settings: Settings, translator: ContractTranslator | None = None
) -> list[dg.AssetsDefinition]:
    """Sources (landing files) and golden datasets (canonicalization), one asset per dataset."""
    from dte_platform.marts.catalog import warehouse_tables
    from dte_platform.orchestration.golden import build_golden_asset
    from dte_platform.orchestration.marts import build_mart_asset

    translator = translator or project_translator(settings)
    datasets = compiled_datasets(settings)
    by_key = by_asset_key(datasets)
    assets = [
        build_source_asset(c, d, settings, translator) for c, d, _ in datasets if d.dte.source is not None
    ]
    assets += [
        build_golden_asset(c, d, compiled, by_key, settings, translator)
        for c, d, compiled in datasets
        if d.dte.canonical is not None
    ]
    tables = warehouse_tables((c, translator.partitions_def(d) is not None) for _, d, c in datasets)
    assets += [
        build_mart_asset(c, d, compiled, tables, translator) for c, d, compiled in datasets if d.dte.sql
    ]
    _check_unique_keys(assets)
    return assets


def _check_unique_keys(assets: list[dg.AssetsDefinition]) -> None:
    seen: dict[dg.AssetKey, str] = {}
    for asset in assets:
        for key in asset.keys:
            where = str(asset.metadata_by_key[key].get("dte/contract", ""))
            if key in seen:
                raise DefinitionError(
                    where, "domain/name", f"asset {key.to_user_string()} is also declared by {seen[key]}"
                )
            seen[key] = where


def build_reconciliation_checks(
    settings: Settings, translator: ContractTranslator | None = None
) -> list[dg.AssetChecksDefinition]:
    """One asset check per entry of the project's ``checks/reconciliations.yaml``."""
    translator = translator or ContractTranslator()
    items = compiled_datasets(settings)
    datasets = {translator.asset_key(c).to_user_string(): c for _, _, c in items}
    daily = frozenset(
        translator.asset_key(c).to_user_string() for _, d, c in items if translator.partitions_def(d)
    )
    file = settings.checks_dir / reconciliations.FILE_NAME
    return [
        _reconciliation_check(r, datasets, daily)
        for r in reconciliations.load_reconciliations(file, datasets)
    ]


def _reconciliation_check(
    rec: reconciliations.Reconciliation,
    datasets: dict[str, CompiledDataset],
    daily: frozenset[str] = frozenset(),
) -> dg.AssetChecksDefinition:
    table, reference = data_table(datasets[rec.asset]), data_table(datasets[rec.reference_asset])
    severity = dg.AssetCheckSeverity.ERROR if rec.severity is Severity.ERROR else dg.AssetCheckSeverity.WARN
    keys = ", ".join(rec.columns)

    @dg.asset_check(
        asset=dg.AssetKey(rec.asset.split("/")),
        name=rec.name,
        description=rec.description or f"every {rec.asset} ({keys}) exists in {rec.reference_asset}",
        additional_deps=[dg.AssetKey(rec.reference_asset.split("/"))],
        blocking=rec.severity is Severity.ERROR,
        pool=WAREHOUSE_POOL,
    )
    def _check(warehouse: WarehouseResource) -> dg.AssetCheckResult:
        if rec.kind == "totals":
            same_days = rec.asset in daily and rec.reference_asset in daily
            return _totals(warehouse, rec, table, reference, severity, same_days)
        with warehouse.get_connection() as conn:
            orphans, rows = sql_exec.count_orphans(conn, table, rec.columns, reference, rec.reference_columns)
        percent = 100.0 * orphans / rows if rows else 0.0
        return dg.AssetCheckResult(
            passed=percent <= rec.max_percent,
            severity=severity,
            metadata={
                "dte/orphan_rows": orphans,
                "dte/rows_checked": rows,
                "dte/orphan_percent": round(percent, 4),
                "dte/tolerance_percent": rec.max_percent,
                "dte/declared_at": rec.path,
            },
        )

    return _check


def _totals(
    warehouse: WarehouseResource,
    rec: reconciliations.Reconciliation,
    table: str,
    reference: str,
    severity: dg.AssetCheckSeverity,
    same_days: bool,
) -> dg.AssetCheckResult:
    with warehouse.get_connection() as conn:
        total, expected = sql_exec.compare_totals(
            conn, table, rec.columns[0], reference, rec.reference_columns[0], rec.where, same_days
        )
    gap = 100.0 * abs(total - expected) / abs(expected) if expected else (0.0 if total == 0 else 100.0)
    return dg.AssetCheckResult(
        passed=gap <= rec.max_percent,
        severity=severity,
        metadata={
            "dte/total": total,
            "dte/reference_total": expected,
            "dte/gap_percent": round(gap, 6),
            "dte/tolerance_percent": rec.max_percent,
            "dte/declared_at": rec.path,
            "dte/compared": "the days the asset holds" if same_days else "whole tables",
        },
    )


def build_resources(settings: Settings) -> dict[str, Any]:
    return {
        "warehouse": WarehouseResource(
            database=str(settings.warehouse_path),
            readable=[str(settings.project_dir)],
            lineage_namespace=settings.warehouse_lineage_namespace,
        ),
        "lineage": lineage_resource(settings),
    }


def project_translator(settings: Settings) -> ContractTranslator:
    """The translator for the project: its certification policy sets the required-tier tags."""
    policy = project_policy(settings.checks_dir)
    return ContractTranslator({risk: level.label for risk, level in policy.required.items()})


@dataclasses.dataclass(frozen=True)
class Operations:
    """What is not a materialization: the profiling job and schedule, and certification."""

    settings: Settings
    jobs: list[dg.JobDefinition]
    schedules: list[dg.ScheduleDefinition]


def build_operations(settings: Settings) -> Operations:
    from dte_platform.orchestration.profiling import build_profiling

    datasets = [c for _, d, c in compiled_datasets(settings) if d.dte.source or d.dte.canonical or d.dte.sql]
    job, schedule = build_profiling(settings, datasets)
    return Operations(settings, [job], [schedule])


def assemble_definitions(
    assets: list[dg.AssetsDefinition],
    checks: list[dg.AssetChecksDefinition],
    resources: dict[str, Any],
    operations: Operations | None = None,
) -> dg.Definitions:
    """Steps run in the run's own process (DuckDB has one writer); runs queue on the warehouse lock.

    With ``operations``, every asset also gets its ``certification`` check, and the certification
    sensor and promotion job are added (see ``orchestration/certification.py``).
    """
    from dte_platform.orchestration.automation import build_automation
    from dte_platform.orchestration.certification import build_certification

    jobs: list[dg.JobDefinition] = []
    schedules: list[dg.ScheduleDefinition] = []
    sensors: list[dg.SensorDefinition] = []
    all_checks = list(checks)
    if operations is not None:
        jobs, schedules = list(operations.jobs), list(operations.schedules)
        certification = build_certification(
            operations.settings, compiled_datasets(operations.settings), assets, checks, WAREHOUSE_POOL
        )
        all_checks += certification.checks
        jobs.append(certification.job)
        sensors.append(certification.sensor)
        daily, schedule, landing = build_automation(operations.settings, assets, certification.catalog)
        jobs.append(daily)
        schedules.append(schedule)
        sensors.append(landing)
    return dg.Definitions(
        assets=assets,
        asset_checks=all_checks,
        resources=resources,
        jobs=jobs,
        schedules=schedules,
        sensors=sensors,
        executor=dg.in_process_executor,
    )


def build_definitions(settings: Settings) -> dg.Definitions:
    """The whole contract-driven code location for one project folder (what ``dte run`` uses)."""
    return assemble_definitions(
        build_contract_assets(settings),
        build_reconciliation_checks(settings),
        build_resources(settings),
        build_operations(settings),
    )

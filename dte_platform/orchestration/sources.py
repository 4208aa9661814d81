"""Source datasets as Dagster assets: a contract with ``dte.source`` becomes a daily-partitioned
asset that ingests its landing files, quarantines bad rows, and reports one check per rule."""

# no `from __future__ import annotations`: Dagster inspects the context annotation at runtime
import dataclasses
import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import dagster as dg

from dte_platform.compiler import compile_dataset
from dte_platform.compiler.results import RuleResult
from dte_platform.confidence.assess import Assessment
from dte_platform.contracts import Contract, Dataset
from dte_platform.errors import DefinitionError, DteError
from dte_platform.ingest import IngestReport, SourceRun, ingest_partition
from dte_platform.ingest.landing import partition_files, relative_name
from dte_platform.ingest.run import prepare_source
from dte_platform.lineage import datasets as lineage_datasets
from dte_platform.orchestration.lineage import LineageResource, step_lineage
from dte_platform.orchestration.resources import WarehouseResource
from dte_platform.orchestration.steps import (
    WAREHOUSE_POOL,
    assess_step,
    check_result,
    confidence_metadata,
    materialization_metadata,
    version_metadata,
    version_rows,
)
from dte_platform.orchestration.translator import ContractTranslator
from dte_platform.settings import Settings


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
            done = _ingest(context, warehouse, job, dataset, now)
            results = [*done.report.results, *done.assessment.results]
            step.outputs = [dataclasses.replace(out, row_count=done.rows, column_metrics=done.metrics)]
            step.checked = [dataclasses.replace(step.outputs[0], assertions=_assertions(results))]
        yield dg.MaterializeResult(
            metadata={
                **materialization_metadata(done.report, done.table_rows),
                **confidence_metadata(done.assessment),
                **step.metadata(),
                **done.version,
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


@dataclass(frozen=True)
class _Ingested:
    report: IngestReport
    rows: int
    metrics: dict[str, dict[str, int | float]]
    assessment: Assessment
    table_rows: int
    version: dict[str, Any]


def _ingest(
    context: dg.AssetExecutionContext,
    warehouse: WarehouseResource,
    job: SourceRun,
    dataset: Dataset,
    now: dt.datetime,
) -> _Ingested:
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
            version = version_metadata(conn, job.compiled, now)
    except DteError as exc:
        # the partition is left as it was; the message names the file and what is wrong with it
        raise dg.Failure(description=str(exc), metadata={"dte/partition": context.partition_key}) from exc
    context.log.info(
        f"{report.table} {report.partition}: {report.rows_in} rows in, {report.rows_loaded} loaded, "
        f"{report.rows_quarantined} quarantined ({report.rows_unparseable} unparseable)"
    )
    return _Ingested(report, rows, metrics, assessment, version_rows(version), version)

"""Marts as Dagster assets: deps and column lineage come from the SQL, checks from the contract."""

# no `from __future__ import annotations`: Dagster inspects the context annotation at runtime
import dataclasses
import datetime as dt
from collections.abc import Iterator, Mapping
from typing import Any

import dagster as dg

from dte_platform.compiler.rules import CompiledDataset
from dte_platform.compiler.sql_model import TableInfo
from dte_platform.contracts import Contract, Dataset
from dte_platform.lineage import ColumnSource
from dte_platform.lineage import Dataset as LineageDataset
from dte_platform.lineage.datasets import (
    WarehouseName,
    column_metrics,
    table_dataset,
    table_dataset_assertions,
)
from dte_platform.marts.jobs import mart_job
from dte_platform.marts.run import MartJob, build_mart
from dte_platform.orchestration.lineage import LineageResource, step_lineage
from dte_platform.orchestration.resources import WarehouseResource
from dte_platform.orchestration.steps import (
    WAREHOUSE_POOL,
    assess_step,
    check_result,
    confidence_metadata,
    input_versions,
    version_metadata,
    version_rows,
)
from dte_platform.orchestration.translator import ContractTranslator
from dte_platform.settings import Settings


def build_mart_asset(
    contract: Contract,
    dataset: Dataset,
    compiled: CompiledDataset,
    tables: Mapping[tuple[str, str], TableInfo],
    translator: ContractTranslator,
    settings: Settings,
) -> dg.AssetsDefinition:
    job = mart_job(contract, dataset, compiled, tables)
    key = translator.asset_key(compiled)
    partitions_def = translator.partitions_def(dataset)
    metadata = {
        **translator.metadata(contract, dataset, compiled),
        "dagster/column_lineage": column_lineage(job),
        "dte/sql": dg.MetadataValue.md(f"```sql\n{job.model.sql.strip()}\n```"),
    }

    @dg.asset(
        key=key,
        deps=[dg.AssetKey(d.split("/")) for d in job.model.deps],
        description=translator.description(contract, dataset),
        group_name=translator.group_name(compiled),
        owners=translator.owners(contract),
        tags=translator.tags(contract, dataset),
        kinds={"duckdb", "sql"},
        metadata=metadata,
        partitions_def=partitions_def,
        check_specs=[translator.check_spec(key, r, partitions_def) for r in compiled.rules],
        code_version=translator.code_version(contract, dataset),
        pool=WAREHOUSE_POOL,
    )
    def _mart_asset(
        context: dg.AssetExecutionContext, warehouse: WarehouseResource, lineage: LineageResource
    ) -> Iterator[Any]:
        day = dt.date.fromisoformat(context.partition_key) if job.partitioned else None
        built_from = input_versions(context.instance, [dg.AssetKey(d.split("/")) for d in job.model.deps])
        name = warehouse.lineage_name()
        inputs = [LineageDataset(namespace=name.namespace, name=name.dataset(t)) for t in job.model.tables]
        out = table_dataset(
            compiled,
            name,
            description=dataset.description,
            owners=contract.owners,
            column_lineage=_ol_column_lineage(job, name),
        )
        with step_lineage(context, lineage, key.to_user_string(), inputs, [out]) as step:
            try:
                with warehouse.get_connection() as conn:
                    report = build_mart(conn, job, day)
                    rows, metrics = column_metrics(conn, compiled, day)
                    validity = report.validity_pct
                    assessment = assess_step(conn, context, compiled, dataset, day, report.results, validity)
                    version = version_metadata(conn, compiled, settings.now(), built_from)
            except Exception as exc:
                raise dg.Failure(description=f"{job.table}: {str(exc).splitlines()[0]}") from exc
            results = [*report.results, *assessment.results]
            step.outputs = [dataclasses.replace(out, row_count=rows, column_metrics=metrics)]
            step.checked = [
                dataclasses.replace(
                    step.outputs[0], column_lineage={}, assertions=table_dataset_assertions(results)
                )
            ]
        metadata = {
            "dagster/row_count": version_rows(version),
            "dte/table": report.table,
            **confidence_metadata(assessment),
            **step.metadata(),
            **version,
        }
        if job.partitioned:
            metadata["dagster/partition_row_count"] = report.rows
        yield dg.MaterializeResult(metadata=metadata)
        for result in results:
            yield check_result(result)

    return _mart_asset


def _ol_column_lineage(job: MartJob, warehouse: WarehouseName) -> dict[str, tuple[ColumnSource, ...]]:
    return {
        column: tuple(
            ColumnSource(namespace=warehouse.namespace, name=warehouse.dataset(table), field=field)
            for _, table, field in sources
        )
        for column, sources in job.model.column_lineage.items()
        if sources
    }


def column_lineage(job: MartJob) -> dg.TableColumnLineage:
    return dg.TableColumnLineage(
        deps_by_column={
            column: [
                dg.TableColumnDep(asset_key=dg.AssetKey(asset.split("/")), column_name=name)
                for asset, _, name in sources
            ]
            for column, sources in job.model.column_lineage.items()
        }
    )

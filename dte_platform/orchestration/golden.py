"""Golden datasets as Dagster assets: a golden contract's ``dte.canonical`` becomes an asset that
depends on its input source assets, with the contract's checks and the golden-record checks."""

# no `from __future__ import annotations`: Dagster inspects the context annotation at runtime
import dataclasses
import datetime as dt
from collections.abc import Iterator, Mapping
from typing import Any

import dagster as dg

from dte_platform.canonical.jobs import golden_job
from dte_platform.canonical.run import GoldenReport, build_golden
from dte_platform.compiler.rules import CompiledDataset
from dte_platform.contracts import Contract, Dataset
from dte_platform.errors import DteError
from dte_platform.lineage.datasets import column_metrics, table_dataset, table_dataset_assertions
from dte_platform.orchestration.lineage import LineageResource, step_lineage
from dte_platform.orchestration.resources import WarehouseResource
from dte_platform.orchestration.steps import (
    WAREHOUSE_POOL,
    assess_step,
    check_result,
    confidence_metadata,
    input_versions,
    version_metadata,
)
from dte_platform.orchestration.translator import ContractTranslator
from dte_platform.settings import Settings


def build_golden_asset(
    contract: Contract,
    dataset: Dataset,
    compiled: CompiledDataset,
    datasets: Mapping[str, CompiledDataset],
    settings: Settings,
    translator: ContractTranslator,
) -> dg.AssetsDefinition:
    job = golden_job(contract, dataset, compiled, datasets, settings)
    spec = job.spec
    key = translator.asset_key(compiled)

    @dg.asset(
        key=key,
        deps=[dg.AssetKey(i.asset.split("/")) for i in spec.inputs],
        description=translator.description(contract, dataset),
        group_name=translator.group_name(compiled),
        owners=translator.owners(contract),
        tags=translator.tags(contract, dataset),
        kinds={"duckdb", "splink"},
        metadata=translator.metadata(contract, dataset, compiled),
        check_specs=[translator.check_spec(key, r, None) for r in compiled.rules],
        code_version=translator.code_version(contract, dataset),
        pool=WAREHOUSE_POOL,
    )
    def _golden_asset(
        context: dg.AssetExecutionContext, warehouse: WarehouseResource, lineage: LineageResource
    ) -> Iterator[Any]:
        name = warehouse.lineage_name()
        built_from = input_versions(context.instance, [dg.AssetKey(i.asset.split("/")) for i in spec.inputs])
        inputs = [table_dataset(datasets[i.asset], name) for i in spec.inputs]
        out = table_dataset(compiled, name, description=dataset.description, owners=contract.owners)
        with step_lineage(context, lineage, key.to_user_string(), inputs, [out]) as step:
            try:
                with warehouse.get_connection() as conn:
                    report = build_golden(conn, job, dt.datetime.now(dt.UTC))
                    rows, metrics = column_metrics(conn, compiled, None)
                    validity = report.validity_pct
                    assessment = assess_step(conn, context, compiled, dataset, None, report.results, validity)
                    version = version_metadata(conn, compiled, settings.now(), built_from)
            except DteError as exc:
                raise dg.Failure(description=str(exc)) from exc
            results = [*report.results, *assessment.results]
            step.outputs = [dataclasses.replace(out, row_count=rows, column_metrics=metrics)]
            step.checked = [
                dataclasses.replace(step.outputs[0], assertions=table_dataset_assertions(results))
            ]
        context.log.info(
            f"{report.table}: {report.records} source records -> {report.entities} entities "
            f"({report.merges} merges, {report.splits} splits, {report.created_ids} new ids)"
        )
        yield dg.MaterializeResult(
            metadata={
                **golden_metadata(report),
                **confidence_metadata(assessment),
                **step.metadata(),
                **version,
            }
        )
        for result in results:
            yield check_result(result)

    return _golden_asset


def golden_metadata(report: GoldenReport) -> dict[str, Any]:
    return {
        "dagster/row_count": report.entities,
        "dte/source_records": report.records,
        "dte/entities": report.entities,
        "dte/merge_rate": round(report.merge_rate, 4),
        "dte/candidate_pairs": report.candidate_pairs,
        "dte/matched_pairs": report.matched_pairs,
        "dte/new_ids": report.created_ids,
        "dte/merges": report.merges,
        "dte/splits": report.splits,
        "dte/cluster_sizes": dg.MetadataValue.json({str(k): v for k, v in report.cluster_sizes.items()}),
        "dte/model": dg.MetadataValue.path(report.model_path),
        "dte/model_sha256": report.model_sha256,
        "dte/training_skipped": dg.MetadataValue.json(report.skipped_training),
    }

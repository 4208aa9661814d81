"""Factories: a folder of contracts becomes Dagster definitions.

Each builder is a function (never a loop body: Dagster's decorators would late-bind the loop
variable). Loading fails fast on the first bad contract, naming the file and the field.
"""

# no `from __future__ import annotations`: Dagster inspects the context annotation at runtime
import dataclasses
from typing import Any

import dagster as dg

from dte_platform.certification.policy import project_policy
from dte_platform.compiler import CompiledDataset
from dte_platform.compiler.project import by_asset_key, compile_project
from dte_platform.contracts import Contract, Dataset
from dte_platform.errors import DefinitionError
from dte_platform.marts.catalog import warehouse_tables
from dte_platform.orchestration.golden import build_golden_asset
from dte_platform.orchestration.lineage import lineage_resource
from dte_platform.orchestration.marts import build_mart_asset
from dte_platform.orchestration.reconciliation import build_reconciliation_checks
from dte_platform.orchestration.resources import WarehouseResource
from dte_platform.orchestration.sources import build_source_asset
from dte_platform.orchestration.steps import WAREHOUSE_POOL
from dte_platform.orchestration.translator import ContractTranslator
from dte_platform.settings import Settings

#: re-exported: callers assemble projects from here
__all__ = [
    "WAREHOUSE_POOL",
    "assemble_definitions",
    "build_contract_assets",
    "build_definitions",
    "build_operations",
    "build_reconciliation_checks",
    "build_resources",
    "build_source_asset",
    "compiled_datasets",
    "compiled_sources",
    "project_translator",
]


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
        build_mart_asset(c, d, compiled, tables, translator, settings)
        for c, d, compiled in datasets
        if d.dte.sql
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
    return ContractTranslator(
        {risk: level.label for risk, level in policy.required.items()}, as_of=settings.as_of
    )


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

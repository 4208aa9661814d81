"""Orchestration: the only package that imports Dagster. Factories and a translator build
assets, checks, freshness policies and resources from contracts."""

from dte_platform.orchestration.factories import (
    WAREHOUSE_POOL,
    assemble_definitions,
    build_contract_assets,
    build_definitions,
    build_operations,
    build_reconciliation_checks,
    build_resources,
    build_source_asset,
    compiled_sources,
)
from dte_platform.orchestration.resources import WarehouseResource
from dte_platform.orchestration.steps import check_result
from dte_platform.orchestration.translator import ContractTranslator

__all__ = [
    "WAREHOUSE_POOL",
    "ContractTranslator",
    "WarehouseResource",
    "assemble_definitions",
    "build_contract_assets",
    "build_definitions",
    "build_operations",
    "build_reconciliation_checks",
    "build_resources",
    "build_source_asset",
    "check_result",
    "compiled_sources",
]

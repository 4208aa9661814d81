"""Contracts: ODCS v3.1 files loaded, validated and turned into a typed model."""

from dte_platform.contracts.loader import (
    contract_from_document,
    discover_contracts,
    load_contract,
    load_project_contracts,
    readable_path,
)
from dte_platform.contracts.model import (
    Column,
    Contract,
    Dataset,
    DteSpec,
    QualitySpec,
    SlaProperty,
    SourceSpec,
)

__all__ = [
    "Column",
    "Contract",
    "Dataset",
    "DteSpec",
    "QualitySpec",
    "SlaProperty",
    "SourceSpec",
    "contract_from_document",
    "discover_contracts",
    "load_contract",
    "load_project_contracts",
    "readable_path",
]

"""A whole project compiled: every dataset of every contract, in a stable order."""

from __future__ import annotations

from dte_platform.compiler.compile import compile_dataset
from dte_platform.compiler.rules import CompiledDataset
from dte_platform.contracts import Contract, Dataset, load_project_contracts
from dte_platform.settings import Settings


def compile_project(settings: Settings) -> list[tuple[Contract, Dataset, CompiledDataset]]:
    return [
        (contract, dataset, compile_dataset(contract, dataset, settings.sensitive_classes))
        for contract in load_project_contracts(settings.contracts_dir)
        for dataset in contract.datasets
    ]


def by_asset_key(compiled: list[tuple[Contract, Dataset, CompiledDataset]]) -> dict[str, CompiledDataset]:
    return {"/".join(c.key_path): c for _, _, c in compiled}

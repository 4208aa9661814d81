"""A whole project compiled: every dataset of every contract, in a stable order.

Several builders need the compiled project while one code location loads; the result is kept
for as long as no contract file changes (path, size and modification time), so contracts are
parsed and validated once per load, and an edited contract is always read afresh.
"""

from __future__ import annotations

from dte_platform.compiler.compile import compile_dataset
from dte_platform.compiler.rules import CompiledDataset
from dte_platform.contracts import Contract, Dataset, discover_contracts, load_project_contracts
from dte_platform.settings import Settings

Compiled = list[tuple[Contract, Dataset, CompiledDataset]]
_cache: dict[tuple[object, ...], Compiled] = {}


def _fingerprint(settings: Settings) -> tuple[object, ...]:
    files = discover_contracts(settings.contracts_dir) if settings.contracts_dir.is_dir() else []
    stats = tuple((str(f), f.stat().st_mtime_ns, f.stat().st_size) for f in files)
    return (settings.contracts_dir, settings.sensitive_classes, stats)


def compile_project(settings: Settings) -> Compiled:
    key = _fingerprint(settings)
    if key not in _cache:
        _cache.clear()  # one project at a time is plenty; never grows
        _cache[key] = [
            (contract, dataset, compile_dataset(contract, dataset, settings.sensitive_classes))
            for contract in load_project_contracts(settings.contracts_dir)
            for dataset in contract.datasets
        ]
    return list(_cache[key])


def by_asset_key(compiled: Compiled) -> dict[str, CompiledDataset]:
    return {"/".join(c.key_path): c for _, _, c in compiled}

"""What certification knows about each asset, fixed when the definitions load: its risk, its checks
(severity, partitioned or not, label), its upstream assets, its contract, in dependency order."""

# no `from __future__ import annotations`: Dagster inspects annotations at runtime elsewhere in the package
import dataclasses
from collections.abc import Mapping, Sequence

import dagster as dg

from dte_platform.compiler.rules import CompiledDataset
from dte_platform.contracts import Contract, Dataset, SourceSpec

CHECK_NAME = "certification"


@dataclasses.dataclass(frozen=True)
class AssetEntry:
    """What certification needs to know about one asset, fixed when the definitions load."""

    key: dg.AssetKey
    risk: str
    checks: Mapping[str, str]  # check name -> ERROR | WARN
    partitioned_checks: frozenset[str]
    upstream: tuple[str, ...]
    contract: Contract
    compiled: CompiledDataset
    code_version: str | None
    source: SourceSpec | None = None
    labels: Mapping[str, str] = dataclasses.field(default_factory=dict)  # check name -> plain words
    partitioned: bool = False

    @property
    def name(self) -> str:
        return self.key.to_user_string()


@dataclasses.dataclass(frozen=True)
class Catalog:
    """Every certifiable asset in dependency order (upstream first)."""

    entries: tuple[AssetEntry, ...]

    def __getitem__(self, asset: str) -> AssetEntry:
        return next(e for e in self.entries if e.name == asset)

    def downstream(self, asset: str) -> set[str]:
        """Every asset that reads ``asset``, directly or through others."""
        out: set[str] = set()
        for entry in self.entries:  # dependency order: a reader comes after what it reads
            if asset in entry.upstream or out & set(entry.upstream):
                out.add(entry.name)
        return out


def build_catalog(
    datasets: Sequence[tuple[Contract, Dataset, CompiledDataset]],
    assets: Sequence[dg.AssetsDefinition],
    checks: Sequence[dg.AssetChecksDefinition],
) -> Catalog:
    by_key = {"/".join(c.key_path): (contract, d, c) for contract, d, c in datasets}
    severities: dict[str, dict[str, str]] = {}
    partitioned: dict[str, set[str]] = {}
    labels: dict[str, dict[str, str]] = {}
    for spec in [s for a in assets for s in a.check_specs] + [s for c in checks for s in c.check_specs]:
        if spec.name == CHECK_NAME:
            continue  # the certificate is not evidence for itself
        name = spec.asset_key.to_user_string()
        severities.setdefault(name, {})[spec.name] = "ERROR" if spec.blocking else "WARN"
        labels.setdefault(name, {})[spec.name] = (spec.description or "").split(" [")[0]
        if spec.partitions_def is not None:
            partitioned.setdefault(name, set()).add(spec.name)
    deps: dict[str, tuple[str, ...]] = {}
    versions: dict[str, str | None] = {}
    is_partitioned: dict[str, bool] = {}
    for asset in assets:
        for key in asset.keys:
            name = key.to_user_string()
            deps[name] = tuple(
                sorted(
                    d.to_user_string() for d in asset.asset_deps.get(key, ()) if d.to_user_string() in by_key
                )
            )
            versions[name] = asset.code_versions_by_key.get(key)
            is_partitioned[name] = asset.partitions_def is not None
    entries = []
    for name in _topological(deps):
        contract, dataset, compiled = by_key[name]
        entries.append(
            AssetEntry(
                key=dg.AssetKey(name.split("/")),
                risk=dataset.dte.risk,
                checks=severities.get(name, {}),
                partitioned_checks=frozenset(partitioned.get(name, ())),
                upstream=deps[name],
                contract=contract,
                compiled=compiled,
                code_version=versions.get(name),
                source=dataset.dte.source,
                labels=labels.get(name, {}),
                partitioned=is_partitioned[name],
            )
        )
    return Catalog(tuple(entries))


def _topological(deps: Mapping[str, tuple[str, ...]]) -> list[str]:
    ordered: list[str] = []
    done: set[str] = set()

    def visit(name: str) -> None:
        if name in done:
            return
        done.add(name)
        for parent in deps.get(name, ()):
            visit(parent)
        ordered.append(name)

    for name in sorted(deps):
        visit(name)
    return ordered

"""Golden jobs from contracts: what building one golden dataset needs, validated at load."""

from __future__ import annotations

from collections.abc import Mapping

from dte_platform.canonical import spec as canonical_spec
from dte_platform.canonical.run import GoldenJob
from dte_platform.compiler.pandera_exec import build_row_schemas
from dte_platform.compiler.project import by_asset_key, compile_project
from dte_platform.compiler.rules import CompiledDataset
from dte_platform.contracts import Contract, Dataset
from dte_platform.ingest.writer import data_table
from dte_platform.settings import Settings


def golden_job(
    contract: Contract,
    dataset: Dataset,
    compiled: CompiledDataset,
    datasets: Mapping[str, CompiledDataset],
    settings: Settings,
) -> GoldenJob:
    spec = dataset.dte.canonical
    if spec is None:
        raise ValueError(f"{compiled.name} has no canonical spec")
    canonical_spec.validate(contract, dataset, spec, datasets)
    return GoldenJob(
        compiled=compiled,
        spec=spec,
        tables={i.asset: data_table(datasets[i.asset]) for i in spec.inputs},
        schemas=build_row_schemas(compiled, str(contract.file)),
        artifacts_dir=settings.artifacts_dir,
    )


def project_golden_jobs(settings: Settings) -> dict[str, GoldenJob]:
    """Asset key -> golden job, for every golden dataset of the project."""
    compiled = compile_project(settings)
    datasets = by_asset_key(compiled)
    return {
        "/".join(c.key_path): golden_job(contract, dataset, c, datasets, settings)
        for contract, dataset, c in compiled
        if dataset.dte.canonical is not None
    }

"""Mart jobs from contracts: the SQL parsed and checked against the contract at load time."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from dte_platform.compiler.pandera_exec import build_row_schemas
from dte_platform.compiler.rules import CompiledDataset
from dte_platform.compiler.sql_model import PARTITION_PARAMETER, TableInfo, parse_model
from dte_platform.contracts import Contract, Dataset
from dte_platform.contracts.loader import read_definition_text
from dte_platform.errors import DefinitionError
from dte_platform.marts.run import MartJob


def mart_job(
    contract: Contract,
    dataset: Dataset,
    compiled: CompiledDataset,
    tables: Mapping[tuple[str, str], TableInfo],
) -> MartJob:
    sql_file = dataset.dte.sql
    if sql_file is None:
        raise ValueError(f"{compiled.name} is not a mart")
    model = parse_model(sql_file, read_sql(sql_file), tables)
    # DuckDB compares column names ignoring case
    declared = [c.name for c in compiled.columns]
    returned = {c.lower() for c in model.output_columns}
    missing = [c for c in declared if c.lower() not in returned]
    extra = [c for c in model.output_columns if c.lower() not in {d.lower() for d in declared}]
    if missing or extra:
        raise DefinitionError(
            sql_file,
            "",
            f"the SELECT must return the contract's properties; "
            f"missing {missing or 'none'}, not in the contract {extra or 'none'}",
        )
    partitioned = dataset.dte.partition_start is not None
    if partitioned and not model.uses_partition:
        raise DefinitionError(sql_file, "", f"a partitioned mart reads its day as ${PARTITION_PARAMETER}")
    if not partitioned and model.uses_partition:
        raise DefinitionError(
            contract.file,
            dataset.dte.sql_path,
            f"the SQL uses ${PARTITION_PARAMETER}: declare dte.partitioning",
        )
    return MartJob(compiled, model, build_row_schemas(compiled, str(contract.file)), partitioned)


def read_sql(file: Path) -> str:
    """The SQL text, read with the same size bound as a contract (a mart is one SELECT, not a dump)."""
    return read_definition_text(file, "SQL file")

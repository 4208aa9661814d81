"""Platform datasets as OpenLineage datasets: names, schema, owners, metrics and check results.

Names follow the OpenLineage naming conventions: warehouse tables are ``<catalog>.<schema>.<table>``
in the namespace ``duckdb://<the warehouse file's path in the project>`` (configurable, and the same
wherever the project is checked out); landing files are in the namespace ``file``, named by their
absolute path. Only column *names* and counts ever appear here: no values, so sensitive columns are
safe by construction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb

from dte_platform.compiler.results import RuleResult
from dte_platform.compiler.rules import CompiledDataset
from dte_platform.compiler.sql_exec import PARTITION_COLUMN
from dte_platform.ingest.writer import table_name
from dte_platform.lineage.events import Assertion, Column, ColumnSource, Dataset
from dte_platform.sqlutil import ident, table_ref
from dte_platform.warehouse import one


@dataclass(frozen=True)
class WarehouseName:
    """How the warehouse's tables are named in OpenLineage: ``<catalog>.<schema>.<table>`` in
    ``namespace`` (``duckdb://data/warehouse.duckdb`` by default, see ``Settings``)."""

    namespace: str
    catalog: str

    def dataset(self, qualified_table: str) -> str:
        """``sources.shop__orders`` -> ``warehouse.sources.shop__orders``."""
        return f"{self.catalog}.{qualified_table}"


def table_dataset(
    compiled: CompiledDataset,
    warehouse: WarehouseName,
    *,
    description: str | None = None,
    owners: Sequence[str] = (),
    row_count: int | None = None,
    column_metrics: Mapping[str, Mapping[str, int | float]] | None = None,
    results: Sequence[RuleResult] = (),
    column_lineage: Mapping[str, tuple[ColumnSource, ...]] | None = None,
) -> Dataset:
    return Dataset(
        namespace=warehouse.namespace,
        name=warehouse.dataset(".".join(table_name(compiled))),
        columns=tuple(Column(c.name, c.duckdb_type) for c in compiled.columns),
        description=description,
        owners=tuple(owners),
        data_source=warehouse.namespace,
        row_count=row_count,
        column_metrics=column_metrics or {},
        assertions=tuple(_assertion(r) for r in results),
        column_lineage=column_lineage or {},
    )


def table_dataset_assertions(results: Sequence[RuleResult]) -> tuple[Assertion, ...]:
    return tuple(_assertion(r) for r in results)


def _assertion(result: RuleResult) -> Assertion:
    columns = result.rule.columns
    return Assertion(
        name=result.rule.check_name, success=result.passed, column=columns[0] if len(columns) == 1 else None
    )


def file_dataset(project_dir: Path, relative: str) -> Dataset:
    """A landing file as the naming conventions name local files: namespace ``file``, its path."""
    return Dataset(namespace="file", name=(project_dir.resolve() / relative).as_posix())


def column_metrics(
    conn: duckdb.DuckDBPyConnection, compiled: CompiledDataset, partition: dt.date | None
) -> tuple[int, dict[str, dict[str, int | float]]]:
    """Row count, and null and (approximate) distinct counts per column, in one scan."""
    items = ["count(*)"]
    for column in compiled.columns:
        name = ident(column.name)
        items += [f"count(*) FILTER (WHERE {name} IS NULL)", f"approx_count_distinct({name})"]
    where = f" WHERE {ident(PARTITION_COLUMN)} = ?" if partition is not None else ""
    row = one(
        conn,
        f"SELECT {', '.join(items)} FROM {table_ref(*table_name(compiled))}{where}",
        [partition] if partition is not None else [],
    )
    metrics: dict[str, dict[str, int | float]] = {
        column.name: {"nullCount": int(row[1 + 2 * i]), "distinctCount": int(row[2 + 2 * i])}
        for i, column in enumerate(compiled.columns)
    }
    return int(row[0]), metrics

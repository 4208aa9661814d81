"""Build a mart from its SQL and measure it against its contract.

- Unpartitioned: ``CREATE OR REPLACE TABLE`` inside a transaction. Readers keep seeing the
  previous version until the new one is complete; a failing build leaves it untouched.
- Daily partitioned: the SQL reads the day as ``$partition_date``; the partition is deleted and
  re-inserted in one transaction, tagged ``_partition_date`` like the sources, so only the
  affected day is rebuilt and re-runs are idempotent.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import duckdb

from dte_platform.compiler.pandera_exec import RowSchemas, built_row_results
from dte_platform.compiler.results import RuleResult
from dte_platform.compiler.rules import CompiledDataset
from dte_platform.compiler.sql_exec import PARTITION_COLUMN, SINGLE_RULES, evaluate_metrics
from dte_platform.compiler.sql_model import PARTITION_PARAMETER, SqlModel
from dte_platform.ingest.writer import data_table, table_name
from dte_platform.sqlutil import ident
from dte_platform.warehouse import ensure_schema, one, require_tables, run


@dataclass(frozen=True)
class MartJob:
    compiled: CompiledDataset
    model: SqlModel
    schemas: RowSchemas
    partitioned: bool

    @property
    def table(self) -> str:
        return data_table(self.compiled)


@dataclass(frozen=True)
class MartReport:
    table: str
    partition: str | None
    rows: int
    results: list[RuleResult] = field(default_factory=list)
    validity_pct: float | None = None


def build_mart(conn: duckdb.DuckDBPyConnection, job: MartJob, partition: dt.date | None) -> MartReport:
    require_tables(conn, dict(job.model.table_assets))
    ensure_schema(conn, table_name(job.compiled)[0])
    params: Mapping[str, Any] = {PARTITION_PARAMETER: partition} if job.model.uses_partition else {}
    run(conn, "BEGIN TRANSACTION")
    try:
        if job.partitioned:
            assert partition is not None
            _replace_partition(conn, job, partition, params)
        else:
            conn.execute(f"CREATE OR REPLACE TABLE {job.table} AS {job.model.sql}", params).fetchall()
        run(conn, "COMMIT")
    except BaseException:
        run(conn, "ROLLBACK")
        raise
    where, where_params = _partition_filter(partition if job.partitioned else None)
    rows = int(one(conn, f"SELECT count(*) FROM {job.table}{where}", where_params)[0])
    results, validity = _results(conn, job, partition if job.partitioned else None)
    return MartReport(job.table, partition.isoformat() if partition else None, rows, results, validity)


def _replace_partition(
    conn: duckdb.DuckDBPyConnection, job: MartJob, day: dt.date, params: Mapping[str, Any]
) -> None:
    # the line break ends a trailing `--` comment of the model before the closing parenthesis
    tagged = f"SELECT *, CAST($__day AS DATE) AS {ident(PARTITION_COLUMN)} FROM ({job.model.sql}\n)"
    bound = {**params, "__day": day}
    conn.execute(f"CREATE TABLE IF NOT EXISTS {job.table} AS {tagged} LIMIT 0", bound).fetchall()
    conn.execute(
        f"DELETE FROM {job.table} WHERE {ident(PARTITION_COLUMN)} = $__day", {"__day": day}
    ).fetchall()
    conn.execute(f"INSERT INTO {job.table} BY NAME {tagged}", bound).fetchall()


def _partition_filter(partition: dt.date | None) -> tuple[str, list[Any]]:
    return ("", []) if partition is None else (f" WHERE {ident(PARTITION_COLUMN)} = ?", [partition])


def _results(
    conn: duckdb.DuckDBPyConnection, job: MartJob, partition: dt.date | None
) -> tuple[list[RuleResult], float | None]:
    where, params = _partition_filter(partition)
    columns = ", ".join(ident(c.name) for c in job.compiled.columns)
    frame = conn.sql(f"SELECT {columns} FROM {job.table}{where}", params=params).pl()
    results, validity = built_row_results(job.schemas, frame)
    results += evaluate_metrics(conn, job.compiled, job.table, partition)
    results += [
        SINGLE_RULES[rule.kind](conn, rule, job.table, partition)
        for rule in job.compiled.dataset_rules
        if rule.kind in SINGLE_RULES
    ]
    return results, validity

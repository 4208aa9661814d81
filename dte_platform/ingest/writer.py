"""Write one partition: valid rows to the table, the rest to quarantine, in one transaction.

Re-running a partition deletes what it wrote before and inserts the new result, inside a single
DuckDB transaction on the DATE partition column: readers see the old partition or the new one,
never a mix, and any number of re-runs leaves the same content.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import polars as pl

from dte_platform.compiler.rules import CompiledDataset
from dte_platform.compiler.sql_exec import PARTITION_COLUMN
from dte_platform.errors import DteError
from dte_platform.sqlutil import ident, table_ref
from dte_platform.warehouse import ensure_schema, one, run

SOURCE_FILE, SOURCE_LINE = "_source_file", "_source_line"
RULE_IDS, REASON, RAW_RECORD = "_rule_ids", "_reason", "_raw_record"
QUARANTINE_SCHEMA = "quarantine"


class TableShapeError(DteError):
    """The warehouse table disagrees with the contract in a way we will not migrate silently."""


def table_name(compiled: CompiledDataset) -> tuple[str, str]:
    return (compiled.layer or "sources", compiled.slug)


def data_table(compiled: CompiledDataset) -> str:
    return table_ref(*table_name(compiled))


def quarantine_table(compiled: CompiledDataset) -> str:
    return table_ref(QUARANTINE_SCHEMA, table_name(compiled)[1])


def _data_columns(compiled: CompiledDataset) -> list[tuple[str, str]]:
    return [(c.name, c.duckdb_type) for c in compiled.columns] + [
        (PARTITION_COLUMN, "DATE"),
        (SOURCE_FILE, "VARCHAR"),
        (SOURCE_LINE, "BIGINT"),
    ]


def _quarantine_columns(compiled: CompiledDataset) -> list[tuple[str, str]]:
    return [
        (PARTITION_COLUMN, "DATE"),
        (SOURCE_FILE, "VARCHAR"),
        (SOURCE_LINE, "BIGINT"),
        (RULE_IDS, "VARCHAR[]"),
        (REASON, "VARCHAR"),
        (RAW_RECORD, "VARCHAR"),
    ] + [(c.name, "VARCHAR") for c in compiled.columns]


def ensure_tables(conn: duckdb.DuckDBPyConnection, compiled: CompiledDataset) -> None:
    schema, table = table_name(compiled)
    _ensure(conn, schema, table, _data_columns(compiled))
    _ensure(conn, QUARANTINE_SCHEMA, table, _quarantine_columns(compiled))


def _ensure(conn: duckdb.DuckDBPyConnection, schema: str, table: str, columns: list[tuple[str, str]]) -> None:
    ensure_schema(conn, schema)
    existing = dict(
        conn.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = ? AND table_name = ?",
            [schema, table],
        ).fetchall()
    )
    ref = table_ref(schema, table)
    if not existing:
        ddl = ", ".join(f"{ident(n)} {t}" for n, t in columns)
        run(conn, f"CREATE TABLE {ref} ({ddl})")
        return
    for name, duck_type in columns:
        if name not in existing:
            run(conn, f"ALTER TABLE {ref} ADD COLUMN {ident(name)} {duck_type}")
        elif _normal(existing[name]) != _normal(duck_type):
            raise TableShapeError(
                f"{schema}.{table}.{name} is {existing[name]} in the warehouse but {duck_type} in the "
                "contract; migrate or drop the table before loading"
            )


def _normal(duck_type: str) -> str:
    text = duck_type.upper().replace(" ", "")
    return {"TIMESTAMPWITHTIMEZONE": "TIMESTAMPTZ"}.get(text, text)


def replace_partition(
    conn: duckdb.DuckDBPyConnection,
    compiled: CompiledDataset,
    day: dt.date,
    valid: pl.DataFrame,
    quarantined: pl.DataFrame,
) -> None:
    """Swap the partition's rows in table and quarantine atomically."""
    data_cols = [n for n, _ in _data_columns(compiled)]
    quarantine_cols = [n for n, _ in _quarantine_columns(compiled)]
    run(conn, "BEGIN TRANSACTION")
    try:
        _swap(conn, data_table(compiled), day, valid, data_cols, "__dte_valid")
        _swap(conn, quarantine_table(compiled), day, quarantined, quarantine_cols, "__dte_quarantine")
        run(conn, "COMMIT")
    except BaseException:
        run(conn, "ROLLBACK")
        raise
    finally:
        conn.unregister("__dte_valid")
        conn.unregister("__dte_quarantine")


def _swap(
    conn: duckdb.DuckDBPyConnection,
    table: str,
    day: dt.date,
    frame: pl.DataFrame,
    columns: list[str],
    view: str,
) -> None:
    run(conn, f"DELETE FROM {table} WHERE {ident(PARTITION_COLUMN)} = ?", [day])
    conn.register(view, frame.select(columns).to_arrow())
    names = ", ".join(ident(c) for c in columns)
    run(conn, f"INSERT INTO {table} ({names}) SELECT {names} FROM {ident(view)}")


def partition_counts(
    conn: duckdb.DuckDBPyConnection, compiled: CompiledDataset, day: dt.date
) -> tuple[int, int]:
    """Rows of the partition now in the table and in quarantine, read back from the warehouse."""
    part = ident(PARTITION_COLUMN)
    row = one(
        conn,
        f"SELECT (SELECT count(*) FROM {data_table(compiled)} WHERE {part} = ?), "
        f"(SELECT count(*) FROM {quarantine_table(compiled)} WHERE {part} = ?)",
        [day, day],
    )
    return int(row[0]), int(row[1])

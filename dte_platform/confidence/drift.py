"""Distribution drift: each column's distribution against a reference, as a population stability index.

Numeric columns are cut into deciles of the reference (or, with no reference yet, of the data
itself) and categorical ones into their most frequent values, plus ``__other__`` and ``__null__``.
Sensitive columns, keys and high-cardinality text are left out: their buckets would be values.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
from collections.abc import Mapping

import duckdb

from dte_platform.compiler.rules import ColumnType, CompiledDataset
from dte_platform.compiler.sql_exec import PARTITION_COLUMN
from dte_platform.sqlutil import ident

EPSILON = 1e-4
#: below this many rows a distribution is too noisy to call drift (PSI of small samples is large)
MIN_ROWS = 100
TOP_CATEGORIES = 20
MAX_CATEGORIES = 50
_NUMERIC = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "DOUBLE", "DECIMAL")
NULL, OTHER = "__null__", "__other__"


def psi(current: Mapping[str, float], reference: Mapping[str, float]) -> float:
    total = 0.0
    for bucket in set(current) | set(reference):
        cur, ref = max(current.get(bucket, 0.0), EPSILON), max(reference.get(bucket, 0.0), EPSILON)
        total += (cur - ref) * math.log(cur / ref)
    return total


def eligible(compiled: CompiledDataset, distinct: Mapping[str, int | None]) -> list[ColumnType]:
    keys = set(compiled.primary_key)
    out = []
    for column in compiled.columns:
        if column.sensitive or column.name in keys or column.nested:
            continue
        numeric = column.duckdb_type.startswith(_NUMERIC)
        if numeric or (
            column.duckdb_type in {"VARCHAR", "BOOLEAN"}
            and (distinct.get(column.name) or 0) <= MAX_CATEGORIES
        ):
            out.append(column)
    return out


def distributions(
    conn: duckdb.DuckDBPyConnection,
    table: str,
    columns: list[ColumnType],
    partition: dt.date | None,
    reference: Mapping[str, Mapping[str, float]],
) -> dict[str, dict[str, float]]:
    where = f" WHERE {ident(PARTITION_COLUMN)} = ?" if partition is not None else ""
    params = [partition] if partition is not None else []
    out = {}
    for column in columns:
        numeric = column.duckdb_type.startswith(_NUMERIC)
        bucket = (
            _numeric_bucket(conn, table, column.name, where, params, reference.get(column.name))
            if numeric
            else _category_bucket(conn, table, column.name, where, params, reference.get(column.name))
        )
        rows = conn.execute(
            f"SELECT {bucket} AS b, count(*) FROM {table}{where} GROUP BY b", params
        ).fetchall()
        total = sum(n for _, n in rows)
        out[column.name] = {str(b): n / total for b, n in rows} if total else {}
    return out


def _numeric_bucket(
    conn: duckdb.DuckDBPyConnection,
    table: str,
    column: str,
    where: str,
    params: list,
    reference: Mapping[str, float] | None,
) -> str:
    edges = _edges(reference) if reference else _deciles(conn, table, column, where, params)
    value = f"CAST({ident(column)} AS DOUBLE)"
    cases = [f"WHEN {value} < {edges[0]!r} THEN '(-inf,{edges[0]!r})'"] if edges else []
    cases += [f"WHEN {value} < {hi!r} THEN '[{lo!r},{hi!r})'" for lo, hi in itertools.pairwise(edges)]
    last = f"'[{edges[-1]!r},inf)'" if edges else "'all'"
    return f"CASE WHEN {value} IS NULL THEN '{NULL}' {' '.join(cases)} ELSE {last} END"


def _deciles(
    conn: duckdb.DuckDBPyConnection, table: str, column: str, where: str, params: list
) -> list[float]:
    quantiles = [round(q / 10, 1) for q in range(1, 10)]
    row = conn.execute(
        f"SELECT quantile_cont(CAST({ident(column)} AS DOUBLE), {quantiles}) FROM {table}{where}", params
    ).fetchall()[0][0]
    return sorted({float(v) for v in row or [] if v is not None and math.isfinite(v)})


def _edges(reference: Mapping[str, float]) -> list[float]:
    edges: set[float] = set()
    for label in reference:
        if label.startswith(("[", "(")):
            low, high = label[1:-1].split(",")
            edges.update(float(v) for v in (low, high) if v not in {"-inf", "inf"})
    return sorted(edges)


def _category_bucket(
    conn: duckdb.DuckDBPyConnection,
    table: str,
    column: str,
    where: str,
    params: list,
    reference: Mapping[str, float] | None,
) -> str:
    if reference:
        categories = sorted(b[1:] for b in reference if b.startswith("="))
    else:
        rows = conn.execute(
            f"SELECT CAST({ident(column)} AS VARCHAR) AS v, count(*) AS n FROM {table}{where} "
            f"GROUP BY v HAVING v IS NOT NULL ORDER BY n DESC, v LIMIT {TOP_CATEGORIES}",
            params,
        ).fetchall()
        categories = sorted(r[0] for r in rows)
    value = f"CAST({ident(column)} AS VARCHAR)"
    listed = ", ".join("'" + c.replace("'", "''") + "'" for c in categories) or "NULL"
    return (
        f"CASE WHEN {value} IS NULL THEN '{NULL}' WHEN {value} IN ({listed}) THEN '=' || {value} "
        f"ELSE '{OTHER}' END"
    )

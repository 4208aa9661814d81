"""The queryable history of trust: ``trust.indicators`` and ``trust.distributions``.

Every materialization appends its indicators (asset, partition, run id, indicator, value, time)
and its column distributions; volume and drift judge a new measurement against this history.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import duckdb
import polars as pl

from dte_platform.compiler.sql_exec import PARTITION_COLUMN
from dte_platform.sqlutil import ident
from dte_platform.warehouse import ensure_schema, run

SCHEMA = "trust"
INDICATORS = f"{SCHEMA}.indicators"
DISTRIBUTIONS = f"{SCHEMA}.distributions"
#: how far back a partition's row count is compared with the days before it
HISTORY_DAYS = 28


def ensure_tables(conn: duckdb.DuckDBPyConnection) -> None:
    ensure_schema(conn, SCHEMA)
    run(
        conn,
        f"CREATE TABLE IF NOT EXISTS {INDICATORS} (asset VARCHAR, partition VARCHAR, run_id VARCHAR, "
        "indicator VARCHAR, value DOUBLE, measured_at TIMESTAMPTZ)",
    )
    run(
        conn,
        f"CREATE TABLE IF NOT EXISTS {DISTRIBUTIONS} (asset VARCHAR, partition VARCHAR, run_id VARCHAR, "
        '"column" VARCHAR, bucket VARCHAR, share DOUBLE, measured_at TIMESTAMPTZ)',
    )


def append(
    conn: duckdb.DuckDBPyConnection,
    asset: str,
    partition: str | None,
    run_id: str,
    at: dt.datetime,
    indicators: Mapping[str, float],
    distributions: Mapping[str, Mapping[str, float]],
) -> None:
    ensure_tables(conn)
    rows = pl.DataFrame(
        {"indicator": list(indicators), "value": [float(v) for v in indicators.values()]},
        schema={"indicator": pl.String, "value": pl.Float64},
    )
    shares = pl.DataFrame(
        [(c, b, float(s)) for c, buckets in distributions.items() for b, s in buckets.items()],
        schema={"column": pl.String, "bucket": pl.String, "share": pl.Float64},
        orient="row",
    )
    conn.register("__dte_indicators", rows.to_arrow())
    conn.register("__dte_shares", shares.to_arrow())
    try:
        run(
            conn,
            f"INSERT INTO {INDICATORS} SELECT ?, ?, ?, indicator, value, ? FROM __dte_indicators",
            [asset, partition, run_id, at],
        )
        run(
            conn,
            f'INSERT INTO {DISTRIBUTIONS} SELECT ?, ?, ?, "column", bucket, share, ? FROM __dte_shares',
            [asset, partition, run_id, at],
        )
    finally:
        conn.unregister("__dte_indicators")
        conn.unregister("__dte_shares")


def row_count_history(
    conn: duckdb.DuckDBPyConnection, asset: str, table: str, partition: dt.date | None, run_id: str
) -> list[float]:
    """Earlier row counts to judge a count against: for a partition, the row counts of the days before
    it by partition date (up to ``HISTORY_DAYS``, read from the table itself, so the order runs
    happened in does not matter); for a table rebuilt whole, its previous builds."""
    ensure_tables(conn)
    if partition is None:
        sql = (
            f"SELECT value FROM {INDICATORS} WHERE asset = ? AND indicator = 'row_count' AND run_id <> ? "
            "ORDER BY measured_at"
        )
        return [r[0] for r in conn.execute(sql, [asset, run_id]).fetchall()]
    part = ident(PARTITION_COLUMN)
    since = partition - dt.timedelta(days=HISTORY_DAYS)
    sql = f"SELECT count(*) FROM {table} WHERE {part} >= ? AND {part} < ? GROUP BY {part} ORDER BY {part}"
    return [float(r[0]) for r in conn.execute(sql, [since, partition]).fetchall()]


def previous_build(
    conn: duckdb.DuckDBPyConnection, asset: str, run_id: str
) -> tuple[str | None, dict[str, dict[str, int]]]:
    """A table rebuilt whole: the bucket counts of its previous build (another run), with a label."""
    ensure_tables(conn)
    found = conn.execute(
        f"SELECT run_id FROM {DISTRIBUTIONS} WHERE asset = ? AND partition IS NULL AND run_id <> ? "
        "ORDER BY measured_at DESC LIMIT 1",
        [asset, run_id],
    ).fetchall()
    if not found:
        return None, {}
    ref_run = found[0][0]
    rows = conn.execute(
        f'SELECT d."column", d.bucket, d.share * i.value FROM {DISTRIBUTIONS} d JOIN {INDICATORS} i '
        "ON i.asset = d.asset AND i.run_id = d.run_id AND i.partition IS NULL AND i.indicator = 'row_count' "
        "WHERE d.asset = ? AND d.run_id = ? AND d.partition IS NULL",
        [asset, ref_run],
    ).fetchall()
    out: dict[str, dict[str, int]] = {}
    for column, bucket, count in rows:
        out.setdefault(column, {})[bucket] = round(count)
    return f"the previous build (run {ref_run[:8]})", out

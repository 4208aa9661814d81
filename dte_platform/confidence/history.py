"""The queryable history of trust: ``trust.indicators`` and ``trust.distributions``.

Every materialization appends its indicators (asset, partition, run id, indicator, value, time)
and its column distributions; volume and drift judge a new measurement against this history.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import duckdb
import polars as pl

from dte_platform.warehouse import ensure_schema, run

SCHEMA = "trust"
INDICATORS = f"{SCHEMA}.indicators"
DISTRIBUTIONS = f"{SCHEMA}.distributions"


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


def row_count_history(conn: duckdb.DuckDBPyConnection, asset: str, partition: str | None) -> list[float]:
    """Earlier row counts: the latest of every other partition, or the earlier runs of a whole table."""
    ensure_tables(conn)
    if partition is None:
        sql = (
            f"SELECT value FROM {INDICATORS} WHERE asset = ? AND indicator = 'row_count' ORDER BY measured_at"
        )
        return [r[0] for r in conn.execute(sql, [asset]).fetchall()]
    sql = (
        f"SELECT arg_max(value, measured_at) FROM {INDICATORS} WHERE asset = ? AND indicator = 'row_count' "
        "AND partition <> ? GROUP BY partition ORDER BY partition"
    )
    return [r[0] for r in conn.execute(sql, [asset, partition]).fetchall()]


def reference(
    conn: duckdb.DuckDBPyConnection, asset: str, partition: str | None, run_id: str
) -> tuple[str | None, dict[str, dict[str, float]]]:
    """The previous materialization's distributions (another partition, or an earlier run)."""
    ensure_tables(conn)
    other = "partition <> ?" if partition is not None else "run_id <> ?"
    found = conn.execute(
        f"SELECT run_id, partition FROM {DISTRIBUTIONS} WHERE asset = ? AND {other} "
        "ORDER BY measured_at DESC LIMIT 1",
        [asset, partition if partition is not None else run_id],
    ).fetchall()
    if not found:
        return None, {}
    ref_run, ref_partition = found[0]
    rows = conn.execute(
        f'SELECT "column", bucket, share FROM {DISTRIBUTIONS} WHERE asset = ? AND run_id = ? '
        "AND partition IS NOT DISTINCT FROM ?",
        [asset, ref_run, ref_partition],
    ).fetchall()
    out: dict[str, dict[str, float]] = {}
    for column, bucket, share in rows:
        out.setdefault(column, {})[bucket] = share
    return f"{ref_partition or 'whole'} (run {ref_run})", out

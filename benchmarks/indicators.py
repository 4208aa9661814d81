"""Confidence indicators against one plain DuckDB aggregate over the same columns.

``python -m benchmarks.indicators [--rows 1000000 10000000]`` builds an orders-like table per size
(DuckDB ``range()``), then times in the same run: (a) one hand-written aggregate (count, non-null
counts, distinct counts exact for the key and approximate otherwise, min/max/avg of the
numerics), (b) our ``measure`` (the same indicators) and (c) the whole ``assess`` (indicators,
volume, drift distributions, trust score, history append). Compare the ratios.
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
import time
from pathlib import Path

import duckdb

from benchmarks.common import REPO
from dte_platform.compiler import compile_dataset
from dte_platform.confidence.assess import Target, assess
from dte_platform.confidence.indicators import measure
from dte_platform.contracts import load_contract
from dte_platform.contracts.model import ConfidenceSpec
from dte_platform.ingest.writer import data_table, ensure_tables

PLAIN = """SELECT count(*), count(order_id), count(DISTINCT order_id), count(account_id),
approx_count_distinct(account_id), count(product_id), approx_count_distinct(product_id), count(quantity),
approx_count_distinct(quantity), min(quantity), max(quantity), avg(quantity), count(unit_price),
approx_count_distinct(unit_price), min(unit_price), max(unit_price), avg(unit_price), count(amount),
approx_count_distinct(amount), min(amount), max(amount), avg(amount), count(currency),
approx_count_distinct(currency), count(status), approx_count_distinct(status), count(ordered_at),
approx_count_distinct(ordered_at) FROM sources.shop__orders"""


def build(conn: duckdb.DuckDBPyConnection, compiled, rows: int) -> None:
    ensure_tables(conn, compiled)
    conn.execute(f"""INSERT INTO {data_table(compiled)} SELECT i, 'W' || lpad((i % 90000)::VARCHAR, 7, '0'),
        'P' || lpad((i % 400)::VARCHAR, 4, '0'), 1 + i % 5, (i % 997) / 10.0,
        (1 + i % 5) * (i % 997) / 10.0, 'EUR',
        ['placed','paid','shipped','delivered','cancelled','returned'][1 + i % 6],
        TIMESTAMPTZ '2026-11-01 00:00:00+00' + to_seconds(i % 86400), DATE '2026-11-01', 'f', i
        FROM range({rows}) t(i)""").fetchall()


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def bench(compiled, rows: int) -> tuple[float, float, float]:
    table, day, now = data_table(compiled), dt.date(2026, 11, 1), dt.datetime.now(dt.UTC)
    with tempfile.TemporaryDirectory() as folder:
        conn = duckdb.connect(str(Path(folder) / "bench.duckdb"))
        build(conn, compiled, rows)
        conn.execute("CHECKPOINT").fetchall()
        plain = min(timed(lambda: conn.execute(PLAIN).fetchall()) for _ in range(3))
        ours = min(
            timed(lambda: measure(conn, compiled, table, day, validity_pct=None, freshness_lag_s=None))
            for _ in range(3)
        )
        target = Target("bench", table, day, "r1", now)
        full = timed(lambda: assess(conn, compiled, ConfidenceSpec(), target, [], None))
        conn.close()
    return plain, ours, full


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000, 10_000_000])
    args = parser.parse_args(argv)
    contract = load_contract(REPO / "assets/sources/shop/orders.odcs.yaml", REPO / "assets")
    compiled = compile_dataset(contract, contract.datasets[0])
    print(f"{'rows':>11} {'plain s':>8} {'measure s':>10} {'ratio':>6} {'assess s':>9} {'ratio':>6}")
    for rows in args.rows:
        plain, ours, full = bench(compiled, rows)
        print(
            f"{rows:>11,} {plain:>8.2f} {ours:>10.2f} {ours / plain:>6.2f} {full:>9.2f} {full / plain:>6.2f}",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

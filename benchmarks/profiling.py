"""Profiling benchmark: our sampled profile against the profiler on the whole table.

``python -m benchmarks.profiling [--rows 1000000]`` builds an orders-like table of that many rows in a
temporary DuckDB file (numeric, categorical and timestamp columns, a sensitive email and the lineage
columns, generated with ``range()``), then, in separate processes so that each peak RSS is its own:

- **sampled**: ``profile_table`` with its defaults (100k-row seeded bernoulli sample, minimal report,
  correlations/interactions/missing diagrams off), the call the asset makes;
- **full**: the profiler's plain minimal report on every row of the same data columns, read into pandas.

Both exclude the profiler's import (seconds, paid once per process; printed separately) and include
reading from DuckDB. It prints both times, their ratio and peak RSS. Machines are shared: compare the ratio.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

from benchmarks.common import peak_rss_mb, run_child
from dte_platform.demo.schema import ORDER_COLUMNS

TABLE = '"sources"."shop__orders"'
SENSITIVE = ("customer_email",)
DATA_COLUMNS = ORDER_COLUMNS
BUILD = """
CREATE SCHEMA sources;
CREATE TABLE {table} AS
SELECT
    range + 1 AS order_id,
    'W' || lpad(CAST(hash(range, 'account') % 50000 AS VARCHAR), 7, '0') AS account_id,
    'P' || lpad(CAST(hash(range, 'product') % 2000 AS VARCHAR), 4, '0') AS product_id,
    CAST(1 + hash(range, 'quantity') % 10 AS INTEGER) AS quantity,
    CAST(1 + (hash(range, 'price') % 50000) / 100.0 AS DECIMAL(10, 2)) AS unit_price,
    CAST(quantity * unit_price AS DECIMAL(12, 2)) AS amount,
    ['EUR', 'USD', 'GBP'][1 + CAST(hash(range, 'currency') % 3 AS INTEGER)] AS currency,
    ['placed', 'paid', 'shipped', 'delivered', 'cancelled', 'returned']
        [1 + CAST(hash(range, 'status') % 6 AS INTEGER)] AS status,
    TIMESTAMP '2024-01-01' + to_seconds(CAST(hash(range, 'at') % 31536000 AS BIGINT)) AS ordered_at,
    'user' || range || '@example.com' AS customer_email,
    'landing/shop/orders/' || (range // 100000) || '.csv' AS _source_file,
    range % 100000 + 2 AS _source_line
FROM range({rows})
"""


def _import_profiler() -> float:
    """Import the profiler up front, offline (no usage analytics call), and return the seconds it took."""
    os.environ.setdefault("YDATA_PROFILING_NO_ANALYTICS", "1")
    start = time.perf_counter()
    import ydata_profiling  # noqa: F401

    return time.perf_counter() - start


def build(warehouse: Path, rows: int) -> float:
    import duckdb

    start = time.perf_counter()
    with duckdb.connect(str(warehouse)) as conn:
        for statement in BUILD.format(table=TABLE, rows=int(rows)).split(";"):
            if statement.strip():
                conn.execute(statement).fetchall()
    return time.perf_counter() - start


def run_sampled(warehouse: Path) -> dict[str, float]:
    import duckdb

    from dte_platform.confidence.profiling import profile_table

    import_seconds = _import_profiler()
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        result = profile_table(
            conn, TABLE, sensitive=SENSITIVE, out_path=warehouse.with_name("sampled.html"), title="orders"
        )
    return {
        "seconds": result.seconds,
        "import_seconds": import_seconds,
        "rows": result.rows_profiled,
        "html_mb": result.path.stat().st_size / 1e6,
        "peak_rss_mb": peak_rss_mb(),
    }


def run_full(warehouse: Path) -> dict[str, float]:
    import duckdb

    import_seconds = _import_profiler()
    from ydata_profiling import ProfileReport

    start = time.perf_counter()
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        columns = ", ".join(f'"{name}"' for name in DATA_COLUMNS)
        frame = conn.sql(f"SELECT {columns} FROM {TABLE}").df()
    page = ProfileReport(frame, title="orders", minimal=True, progress_bar=False).to_html()
    out = warehouse.with_name("full.html")
    out.write_text(page, encoding="utf-8")
    return {
        "seconds": time.perf_counter() - start,
        "import_seconds": import_seconds,
        "rows": len(frame),
        "html_mb": out.stat().st_size / 1e6,
        "peak_rss_mb": peak_rss_mb(),
    }


def child(kind: str, warehouse: Path) -> dict[str, float]:
    return run_child("benchmarks.profiling", kind, str(warehouse))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--child", nargs=2, metavar=("KIND", "WAREHOUSE"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        runner = run_sampled if args.child[0] == "sampled" else run_full
        print(json.dumps(runner(Path(args.child[1]))))
        return 0
    folder = Path(tempfile.mkdtemp(prefix="dte-bench-profiling-"))
    try:
        warehouse = folder / "warehouse.duckdb"
        print(f"built {args.rows:,} rows in {build(warehouse, args.rows):.2f} s", flush=True)
        sampled, full = child("sampled", warehouse), child("full", warehouse)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print(f"{'':>8} {'rows':>10} {'seconds':>8} {'import s':>9} {'peak RSS MB':>12} {'HTML MB':>8}")
    for name, run in (("sampled", sampled), ("full", full)):
        print(
            f"{name:>8} {run['rows']:>10,.0f} {run['seconds']:>8.2f} {run['import_seconds']:>9.2f} "
            f"{run['peak_rss_mb']:>12.0f} {run['html_mb']:>8.2f}"
        )
    print(f"full / sampled time: {full['seconds'] / sampled['seconds']:.1f}x", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

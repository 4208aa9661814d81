"""Ingest benchmark: our contract path against plain DuckDB on the same orders files.

``python -m benchmarks.ingest [--rows 1000000 10000000]`` generates the demo data at each size
(cached under ``benchmarks/.data``), then in separate processes, so each peak RSS is its own:

- **ours**: every orders partition through ``ingest_partition`` (the code the asset runs): read as
  text, parse, pandera row rules, quarantine, transactional write, dataset rules in DuckDB;
- **baseline**: one ``CREATE TABLE AS SELECT * FROM read_csv(...)`` over the same files with the
  contract's types, then one aggregate query over the same rules.

It prints both times, their ratio, rows/s and peak RSS. Machines are shared: compare the ratio.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import REPO, peak_rss_mb, run_child

CACHE = REPO / "benchmarks" / ".data"
CONTRACT = REPO / "assets" / "sources" / "shop" / "orders.odcs.yaml"

BASELINE_COLUMNS = (
    "{'order_id': 'BIGINT', 'account_id': 'VARCHAR', 'product_id': 'VARCHAR', 'quantity': 'BIGINT', "
    "'unit_price': 'DECIMAL(10,2)', 'amount': 'DECIMAL(12,2)', 'currency': 'VARCHAR', 'status': 'VARCHAR', "
    "'ordered_at': 'TIMESTAMPTZ'}"
)
BASELINE_RULES = """
SELECT count(*),
  count(*) FILTER (WHERE order_id IS NULL OR order_id < 1),
  count(*) FILTER (WHERE account_id IS NULL OR NOT regexp_matches(account_id, '^W[0-9]{7}$')),
  count(*) FILTER (WHERE product_id IS NULL OR NOT regexp_matches(product_id, '^P[0-9]{4}$')),
  count(*) FILTER (WHERE quantity IS NULL OR quantity NOT BETWEEN 1 AND 100),
  count(*) FILTER (WHERE unit_price IS NULL OR unit_price < 0),
  count(*) FILTER (WHERE amount IS NULL OR amount < 0),
  count(*) FILTER (WHERE currency IS NULL OR NOT regexp_matches(currency, '^[A-Z]{3}$')),
  count(*) FILTER (WHERE status NOT IN ('placed','paid','shipped','delivered','cancelled','returned')),
  count(*) FILTER (WHERE ordered_at IS NULL),
  count(*) - count(DISTINCT order_id),
  count(*) FILTER (WHERE abs(amount - quantity * unit_price) > 0.01),
  max(ordered_at)
FROM orders
"""


def dataset(rows: int) -> Path:
    """A project folder whose data/landing holds the generated files (kept between runs)."""
    project = CACHE / f"orders_{rows}"
    if not (project / "data" / "landing" / "shop" / "orders").is_dir():
        shutil.rmtree(project, ignore_errors=True)
        command = [
            sys.executable,
            "-m",
            "dte_platform.demo",
            "--out",
            str(project / "data"),
            "--rows",
            str(rows),
        ]
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    return project


def run_ours(project: Path) -> dict[str, float]:
    from dte_platform.compiler import compile_dataset
    from dte_platform.contracts import load_contract
    from dte_platform.ingest.landing import available_partitions
    from dte_platform.ingest.run import ingest_partition, prepare_source
    from dte_platform.warehouse import connect

    warehouse = Path(tempfile.mkdtemp(prefix="dte-bench-")) / "warehouse.duckdb"
    contract = load_contract(CONTRACT, REPO / "assets")
    dataset_ = contract.datasets[0]
    assert dataset_.dte.source is not None
    compiled = compile_dataset(contract, dataset_)
    job = prepare_source(project, compiled, dataset_.dte.source, dataset_.dte.quarantine_max_percent)
    rows_in = loaded = 0
    start = time.perf_counter()
    with connect(warehouse, readable=[project]) as conn:
        for day in available_partitions(project, dataset_.dte.source):
            report = ingest_partition(conn, job, day, dt.datetime.now(dt.UTC))
            rows_in += report.rows_in
            loaded += report.rows_loaded
    seconds = time.perf_counter() - start
    shutil.rmtree(warehouse.parent)
    return {"seconds": seconds, "rows_in": rows_in, "rows_loaded": loaded, "peak_rss_mb": peak_rss_mb()}


def run_baseline(project: Path) -> dict[str, float]:
    import duckdb

    folder = Path(tempfile.mkdtemp(prefix="dte-bench-"))
    files = str(project / "data" / "landing" / "shop" / "orders" / "*.csv")
    start = time.perf_counter()
    con = duckdb.connect(str(folder / "baseline.duckdb"))
    con.execute(
        f"CREATE TABLE orders AS SELECT * FROM read_csv('{files}', header=true, auto_detect=false, "
        f"columns={BASELINE_COLUMNS}, ignore_errors=true)"
    ).fetchall()
    measured = con.execute(BASELINE_RULES).fetchall()[0]
    con.close()
    seconds = time.perf_counter() - start
    shutil.rmtree(folder)
    return {"seconds": seconds, "rows_loaded": int(measured[0]), "peak_rss_mb": peak_rss_mb()}


def child(kind: str, data: Path) -> dict[str, float]:
    return run_child("benchmarks.ingest", kind, str(data))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--child", nargs=2, metavar=("KIND", "DATA"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        runner = run_ours if args.child[0] == "ours" else run_baseline
        print(json.dumps(runner(Path(args.child[1]))))
        return 0
    print(
        f"{'rows':>11} {'ours s':>8} {'duckdb s':>9} {'ratio':>6} {'ours rows/s':>12} "
        f"{'ours RSS MB':>12} {'duckdb RSS MB':>14} {'loaded':>10} {'quarantined':>12}"
    )
    for rows in args.rows:
        data = dataset(rows)
        ours, base = child("ours", data), child("baseline", data)
        print(
            f"{rows:>11,} {ours['seconds']:>8.2f} {base['seconds']:>9.2f} "
            f"{ours['seconds'] / base['seconds']:>6.2f} {ours['rows_in'] / ours['seconds']:>12,.0f} "
            f"{ours['peak_rss_mb']:>12.0f} {base['peak_rss_mb']:>14.0f} {ours['rows_loaded']:>10,.0f} "
            f"{ours['rows_in'] - ours['rows_loaded']:>12,.0f}",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

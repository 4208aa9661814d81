"""Command line for the demo data: ``python -m dte_platform.demo --out DIR``.

``dte demo generate`` calls :func:`main` with its own arguments.
"""

from __future__ import annotations

import argparse
import time
from datetime import date
from pathlib import Path

from rich.console import Console
from rich.table import Table

from dte_platform.demo.generator import (
    DEFAULT_CONFIG,
    GenerationSummary,
    config_for_volume,
    generate,
)

PROGRESS_THRESHOLD = 200_000  # orders from which a progress bar is shown


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m dte_platform.demo",
        description="Write deterministic demo landing files (CRM, shop customers, orders, "
        "products) with seeded defects, plus the customer ground truth.",
    )
    parser.add_argument("--out", type=Path, required=True, help="directory to write into")
    parser.add_argument(
        "--start",
        type=date.fromisoformat,
        default=DEFAULT_CONFIG.start,
        help="first day, YYYY-MM-DD (default: %(default)s)",
    )
    parser.add_argument(
        "--days",
        type=int,
        default=DEFAULT_CONFIG.days,
        help="number of days (default: %(default)s)",
    )
    parser.add_argument(
        "--rows",
        type=int,
        default=DEFAULT_CONFIG.orders,
        help="total orders over all days (default: %(default)s)",
    )
    parser.add_argument(
        "--customers",
        type=int,
        default=None,
        help="CRM persons (default: grows sub-linearly with --rows, at least "
        f"{DEFAULT_CONFIG.crm_customers})",
    )
    parser.add_argument(
        "--seed", type=int, default=DEFAULT_CONFIG.seed, help="random seed (default: %(default)s)"
    )
    parser.add_argument(
        "--defect-rate",
        type=float,
        default=DEFAULT_CONFIG.defect_rate,
        help="share of rows with a seeded defect (default: %(default)s)",
    )
    parser.add_argument(
        "--incidents",
        action=argparse.BooleanOptionalAction,
        default=DEFAULT_CONFIG.incidents,
        help="also seed incidents that cost an asset its certificate (a re-used order id, bad "
        "products on small days, a re-sent product); default: quarantinable row defects only",
    )
    parser.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help=f"progress bar (default: from {PROGRESS_THRESHOLD:,} rows on)",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        config = config_for_volume(
            args.rows,
            crm_customers=args.customers,
            start=args.start,
            days=args.days,
            seed=args.seed,
            defect_rate=args.defect_rate,
            incidents=args.incidents,
        )
    except ValueError as error:
        parser.error(str(error))
    show_progress = args.progress if args.progress is not None else args.rows >= PROGRESS_THRESHOLD
    started = time.perf_counter()
    summary = generate(args.out, config, progress=show_progress)
    _print_summary(Console(), args.out, summary, time.perf_counter() - started)
    return 0


def _print_summary(console: Console, out: Path, summary: GenerationSummary, seconds: float) -> None:
    table = Table(title=f"Demo data in {out}")
    for column in ("source", "files", "rows", "seeded defects", "MB"):
        table.add_column(column, justify="left" if column == "source" else "right")
    for source, rows in summary.rows.items():
        files = [p for p in summary.files if p.parent.as_posix().endswith(source)]
        size = sum(p.stat().st_size for p in files) / 1e6
        defects = sum(summary.defects.get(source, {}).values())
        table.add_row(source, str(len(files)), f"{rows:,}", f"{defects:,}", f"{size:.2f}")
    console.print(table)
    console.print(
        f"{len(summary.files)} files, {summary.total_bytes / 1e6:.2f} MB in "
        f"{seconds:.1f} s; ground truth (not landing data): ground_truth/"
    )


if __name__ == "__main__":
    raise SystemExit(main())

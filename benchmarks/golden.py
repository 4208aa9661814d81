"""Golden-record quality and cost: our canonicalization against the generator's ground truth.

``python -m benchmarks.golden [--records 10000 100000 1000000]`` generates the demo customers at
each size (cached under ``benchmarks/.data``), loads the two customer sources through the ingest
path, then, in a fresh process per size so that peak RSS is its own, builds ``golden/customers``
through the same code the asset runs and scores the crosswalk against the true entity ids:
pairwise precision/recall/F1 over implied pairs, B-cubed F1, predicted vs true entities.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import polars as pl

from benchmarks.common import peak_rss_mb, run_child
from benchmarks.ingest import CACHE, REPO

#: generator --customers per ~1 record (CRM 1.06 per person, shop 1.04 per account, 60% overlap)
RECORDS_PER_CUSTOMER = 2.1


def dataset(records: int) -> Path:
    project = CACHE / f"customers_{records}"
    if not (project / "data" / "landing" / "crm").is_dir():
        shutil.rmtree(project, ignore_errors=True)
        customers = str(round(records / RECORDS_PER_CUSTOMER))
        command = [
            sys.executable,
            "-m",
            "dte_platform.demo",
            "--out",
            str(project / "data"),
            "--customers",
            customers,
            "--rows",
            "1000",
        ]
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    shutil.copytree(
        REPO / "assets",
        project / "assets",
        dirs_exist_ok=True,
        ignore=shutil.ignore_patterns("*.py", "__pycache__"),
    )
    return project


def load_sources(project: Path) -> float:
    from dte_platform.ingest.landing import available_partitions
    from dte_platform.ingest.run import ingest_partition, prepare_source
    from dte_platform.orchestration.factories import compiled_sources
    from dte_platform.settings import Settings
    from dte_platform.warehouse import connect

    settings = Settings.for_project(project)
    settings.warehouse_path.unlink(missing_ok=True)
    start = time.perf_counter()
    with connect(settings.warehouse_path) as conn:
        for contract, dataset_, compiled in compiled_sources(settings):
            if compiled.name != "customers" or dataset_.dte.source is None:
                continue
            job = prepare_source(
                project,
                compiled,
                dataset_.dte.source,
                dataset_.dte.quarantine_max_percent,
                str(contract.file),
            )
            for day in available_partitions(project, dataset_.dte.source):
                ingest_partition(conn, job, day, dt.datetime.now(dt.UTC))
    return time.perf_counter() - start


def run_golden(project: Path) -> dict[str, float]:
    from dte_platform.canonical.jobs import project_golden_jobs
    from dte_platform.canonical.run import build_golden
    from dte_platform.settings import Settings
    from dte_platform.warehouse import connect

    settings = Settings.for_project(project)
    job = project_golden_jobs(settings)["golden/customers"]
    start = time.perf_counter()
    with connect(settings.warehouse_path) as conn:
        report = build_golden(conn, job, dt.datetime.now(dt.UTC))
        xref = conn.sql("SELECT source_system, source_key, golden_id FROM golden.customers__xref").pl()
    seconds = time.perf_counter() - start
    truth = pl.read_csv(project / "data" / "ground_truth" / "customer_entities.csv")
    scores = score(xref.join(truth, on=["source_system", "source_key"]))
    rss = peak_rss_mb()
    return {
        "seconds": seconds,
        "peak_rss_mb": rss,
        "records": report.records,
        "candidate_pairs": report.candidate_pairs,
        **scores,
    }


def score(frame: pl.DataFrame) -> dict[str, float]:
    def pairs(columns: list[str]) -> int:
        sizes = frame.group_by(columns).len().get_column("len")
        return int((sizes * (sizes - 1) // 2).sum())

    both = pairs(["golden_id", "entity_id"])
    precision, recall = both / max(pairs(["golden_id"]), 1), both / max(pairs(["entity_id"]), 1)
    overlap = frame.with_columns(
        pl.len().over("golden_id", "entity_id").alias("both"),
        pl.len().over("golden_id").alias("cluster"),
        pl.len().over("entity_id").alias("entity"),
    )
    b3p = overlap.select((pl.col("both") / pl.col("cluster")).mean()).item()
    b3r = overlap.select((pl.col("both") / pl.col("entity")).mean()).item()
    return {
        "pairwise_precision": precision,
        "pairwise_recall": recall,
        "pairwise_f1": _f1(precision, recall),
        "bcubed_f1": _f1(b3p, b3r),
        "predicted_entities": frame.get_column("golden_id").n_unique(),
        "true_entities": frame.get_column("entity_id").n_unique(),
    }


def _f1(precision: float, recall: float) -> float:
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--records", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--child", metavar="PROJECT", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(run_golden(Path(args.child))))
        return 0
    print(
        f"{'records':>10} {'load s':>7} {'golden s':>9} {'RSS MB':>7} {'pairs':>10} {'P':>7} {'R':>7} "
        f"{'F1':>7} {'B3 F1':>7} {'entities':>9} {'true':>9}"
    )
    for records in args.records:
        project = dataset(records)
        load = load_sources(project)
        r = run_child("benchmarks.golden", str(project))
        print(
            f"{r['records']:>10,} {load:>7.1f} {r['seconds']:>9.1f} {r['peak_rss_mb']:>7.0f} "
            f"{r['candidate_pairs']:>10,} {r['pairwise_precision']:>7.4f} {r['pairwise_recall']:>7.4f} "
            f"{r['pairwise_f1']:>7.4f} {r['bcubed_f1']:>7.4f} {r['predicted_entities']:>9,} "
            f"{r['true_entities']:>9,}",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

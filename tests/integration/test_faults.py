"""Faults: a writer killed with SIGKILL inside its transaction, two writers on one partition, and a
lineage endpoint or artifacts folder that fails while a run writes its data.

Writers run in child processes on a real DuckDB file. The kill point is deterministic: the child
wraps the writer module's statement helper so that, right before ``COMMIT`` (everything written,
nothing committed), it drops a marker file and waits; the parent sees the marker and sends SIGKILL.
After the kill the warehouse must open, hold exactly its last committed state, and a re-run must
complete with every landing row accounted for.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from dte_platform.orchestration import build_definitions
from dte_platform.orchestration.headless import plan, run_all
from dte_platform.orchestration.lineage import LineageResource
from dte_platform.settings import Settings
from dte_platform.warehouse import connect
from tests.helpers import contract, orders_contract, source_dte, write_project
from tests.integration.test_lineage_emitter import Receiver

REPO = Path(__file__).resolve().parents[2]
DAY = "2026-11-01"
ORDERS = f"data/landing/shop/orders/{DAY}.csv"
ORDER_TABLES = ("sources.shop__orders", "quarantine.shop__orders")

# A writer in its own process. argv[1] is a JSON object: mode (ingest | mart | golden), project,
# target (mart asset key), day, and optionally pause (marker file: wait before COMMIT) and
# ready/go (marker files: a start barrier, so that two children request the warehouse together).
_CHILD = r"""
import datetime as dt, json, sys, time
from pathlib import Path

args = json.loads(sys.argv[1])
project, mode = Path(args["project"]), args["mode"]
from dte_platform.settings import Settings
from dte_platform.warehouse import connect
settings = Settings.for_project(project)

if mode == "ingest":
    import dte_platform.ingest.writer as writer_module
    from dte_platform.compiler.project import compile_project
    from dte_platform.ingest.run import ingest_partition, prepare_source
    contract, dataset, compiled = next(i for i in compile_project(settings) if i[1].dte.source)
    job = prepare_source(project, compiled, dataset.dte.source, 100.0)
    def work(conn):
        report = ingest_partition(conn, job, args["day"], dt.datetime.now(dt.UTC))
        return [report.rows_in, report.rows_loaded, report.rows_quarantined]
elif mode == "mart":
    import dte_platform.marts.run as writer_module
    from dte_platform.compiler.project import compile_project
    from dte_platform.marts.catalog import warehouse_tables
    from dte_platform.marts.jobs import mart_job
    compiled = compile_project(settings)
    tables = warehouse_tables((c, d.dte.source is not None or d.dte.partition_start is not None)
                              for _, d, c in compiled)
    contract, dataset, mart = next(i for i in compiled if "/".join(i[2].key_path) == args["target"])
    job = mart_job(contract, dataset, mart, tables)
    day = dt.date.fromisoformat(args["day"]) if args.get("day") else None
    def work(conn):
        return [writer_module.build_mart(conn, job, day).rows]
else:
    import dte_platform.canonical.run as writer_module
    from dte_platform.canonical.jobs import project_golden_jobs
    job = project_golden_jobs(settings)[args["target"]]
    def work(conn):
        report = writer_module.build_golden(conn, job, dt.datetime(2026, 11, 20, tzinfo=dt.UTC))
        return [report.records, report.entities]

if args.get("pause"):
    statement = writer_module.run
    def pausing(conn, sql, params=None):
        if sql == "COMMIT":
            Path(args["pause"]).write_text("in the transaction, before COMMIT")
            time.sleep(600)  # SIGKILL arrives here
        return statement(conn, sql, params)
    writer_module.run = pausing

if args.get("ready"):
    Path(args["ready"]).touch()
    while not Path(args["go"]).exists():
        time.sleep(0.005)
requested = time.time()
with connect(settings.warehouse_path) as conn:
    acquired = time.time()
    counts = work(conn)
print(json.dumps({"counts": counts, "requested": requested, "acquired": acquired, "finished": time.time()}))
"""


def child(args: dict[str, Any]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            "-c",
            _CHILD,
            json.dumps({k: str(v) if isinstance(v, Path) else v for k, v in args.items()}),
        ],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(process: subprocess.Popen[str], timeout: float = 300) -> dict[str, Any]:
    out, err = process.communicate(timeout=timeout)
    assert process.returncode == 0, err[-3000:]
    return dict(json.loads(out.strip().splitlines()[-1]))


def kill_before_commit(args: dict[str, Any], marker: Path, warehouse: Path) -> bool:
    """Run a writer until it is about to COMMIT, then SIGKILL it. True when the files of the
    warehouse changed on disk meanwhile: the kill left uncommitted blocks behind."""
    before = _digest(warehouse)
    process = child({**args, "pause": marker})
    try:
        deadline = time.monotonic() + 300
        while not marker.exists():
            assert process.poll() is None, process.communicate()[1][-3000:]
            assert time.monotonic() < deadline, "the writer never reached COMMIT"
            time.sleep(0.02)
        at_kill = _digest(warehouse)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == -signal.SIGKILL
    return before != at_kill


def _digest(warehouse: Path) -> str:
    wal = warehouse.with_name(warehouse.name + ".wal")
    digest = hashlib.sha256()
    for path in (warehouse, wal):
        digest.update(path.read_bytes() if path.exists() else b"-")
    return digest.hexdigest()


def fingerprint(warehouse: Path, tables: tuple[str, ...]) -> dict[str, tuple[int, int] | None]:
    """Row count and an order-independent hash of every row, per table (None: no such table).

    Opening through :func:`connect` proves the file lock was released and DuckDB recovers the file.
    """
    with connect(warehouse, timeout_s=10) as conn:
        names = conn.execute("SELECT schema_name, table_name FROM duckdb_tables()").fetchall()
        existing = {f"{schema}.{table}" for schema, table in names}
        out: dict[str, tuple[int, int] | None] = {}
        for table in tables:
            query = f"SELECT count(*), coalesce(bit_xor(hash(x)), 0) FROM {table} AS x"
            out[table] = tuple(conn.execute(query).fetchall()[0]) if table in existing else None
        return out


def loaded_orders(project: Path) -> int:
    counts = fingerprint(Settings.for_project(project).warehouse_path, ORDER_TABLES)["sources.shop__orders"]
    return counts[0] if counts else 0


def orders_csv(rows: int, version: int) -> str:
    """``rows`` orders; every 20th has a negative amount (quarantined). ``version`` changes the amounts."""
    lines = ["order_id,email,amount,status,ordered_at"]
    for i in range(rows):
        amount = "-1" if i % 20 == 0 else f"{(i * version) % 997}.5"
        lines.append(f"{i},user{i}@example.com,{amount},paid,2026-11-01T{i % 24:02d}:00:00Z")
    return "\n".join(lines) + "\n"


def orders_project(root: Path, rows: int) -> Path:
    """The orders source; its quarantine tolerance admits the 5% of negative amounts."""
    orders = orders_contract(
        dte=source_dte("data/landing/shop/orders/{date}.csv", quarantine={"maxPercent": 10})
    )
    return write_project(root, {"sources/shop/orders.odcs.yaml": orders}, {ORDERS: orders_csv(rows, 1)})


# -- SIGKILL inside the write transaction ------------------------------------------------------------


@pytest.mark.slow
def test_an_ingest_killed_before_commit_leaves_the_last_committed_partition(tmp_path: Path) -> None:
    project = orders_project(tmp_path / "project", rows=1_000)
    warehouse = Settings.for_project(project).warehouse_path
    ingest = {"mode": "ingest", "project": project, "day": DAY}
    finish(child(ingest))  # the previous good content of the partition
    committed = fingerprint(warehouse, ORDER_TABLES)
    (project / ORDERS).write_text(orders_csv(200_000, 7))

    dirty = kill_before_commit(ingest, tmp_path / "paused", warehouse)

    assert dirty  # uncommitted rows had reached the disk
    assert fingerprint(warehouse, ORDER_TABLES) == committed
    rows_in, loaded, quarantined = finish(child(ingest))["counts"]
    assert (rows_in, loaded, quarantined) == (200_000, 190_000, 10_000)
    counts = fingerprint(warehouse, ORDER_TABLES)
    assert (counts["sources.shop__orders"][0], counts["quarantine.shop__orders"][0]) == (loaded, quarantined)


def test_a_first_ingest_killed_before_commit_leaves_nothing(tmp_path: Path) -> None:
    project = orders_project(tmp_path / "project", rows=100_000)
    warehouse = Settings.for_project(project).warehouse_path
    kill_before_commit({"mode": "ingest", "project": project, "day": DAY}, tmp_path / "paused", warehouse)
    # the tables were created before the transaction; the partition's rows were not committed
    assert fingerprint(warehouse, ORDER_TABLES) == dict.fromkeys(ORDER_TABLES, (0, 0))


DAILY_MART = contract(
    name="daily_copy",
    domain="sales",
    properties=[{"name": "order_id", "logicalType": "integer"}, {"name": "amount", "logicalType": "number"}],
    dte={"risk": "low", "sql": "daily_copy.sql", "partitioning": {"type": "daily", "start": DAY}},
)
WHOLE_MART = contract(
    name="whole_copy",
    domain="sales",
    properties=[{"name": "order_id", "logicalType": "integer"}, {"name": "amount", "logicalType": "number"}],
    dte={"risk": "low", "sql": "whole_copy.sql"},
)
MART_SQL = {
    "assets/marts/sales/daily_copy.sql": "SELECT order_id, amount FROM sources.shop__orders "
    "WHERE _partition_date = $partition_date",
    "assets/marts/sales/whole_copy.sql": "SELECT order_id, amount FROM sources.shop__orders",
}


@pytest.mark.slow
@pytest.mark.parametrize(
    ("target", "day"), [("marts/sales/daily_copy", DAY), ("marts/sales/whole_copy", None)]
)
def test_a_mart_build_killed_before_commit_leaves_the_previous_version(
    tmp_path: Path, target: str, day: str | None
) -> None:
    project = write_project(
        tmp_path / "project",
        {
            "sources/shop/orders.odcs.yaml": orders_contract(),
            "marts/sales/daily_copy.odcs.yaml": DAILY_MART,
            "marts/sales/whole_copy.odcs.yaml": WHOLE_MART,
        },
        {ORDERS: orders_csv(200_000, 1), **MART_SQL},
    )
    warehouse = Settings.for_project(project).warehouse_path
    table = "marts." + target.split("/", 1)[1].replace("/", "__")
    finish(child({"mode": "ingest", "project": project, "day": DAY}))
    [built] = finish(child({"mode": "mart", "project": project, "target": target, "day": day}))["counts"]
    committed = fingerprint(warehouse, (table,))
    assert committed[table] is not None and committed[table][0] == built == 190_000
    (project / ORDERS).write_text(orders_csv(300_000, 7))
    finish(child({"mode": "ingest", "project": project, "day": DAY}))

    mart = {"mode": "mart", "project": project, "target": target, "day": day}
    dirty = kill_before_commit(mart, tmp_path / "paused", warehouse)

    assert dirty
    assert fingerprint(warehouse, (table,)) == committed
    assert finish(child(mart))["counts"] == [285_000]
    assert fingerprint(warehouse, (table,))[table][0] == 285_000


GOLDEN_TABLES = tuple(
    f"golden.customers{suffix}" for suffix in ("", "__xref", "__matches", "__identity", "__ids", "__events")
)


@pytest.fixture
def golden_project(tmp_path: Path) -> Path:
    """The sample contracts with the customer sources of the first day loaded."""
    project = tmp_path / "project"
    shutil.copytree(REPO / "assets", project / "assets", ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    shutil.copytree(REPO / "data" / "landing", project / "data" / "landing")
    settings = Settings.for_project(project)
    run_all(settings, dg.DagsterInstance.ephemeral(), plan(settings, ["sources/*/customers"], [DAY]))
    return project


@pytest.mark.slow
def test_a_golden_build_killed_before_commit_leaves_the_previous_golden_records(
    golden_project: Path, tmp_path: Path
) -> None:
    settings = Settings.for_project(golden_project)
    golden = {"mode": "golden", "project": golden_project, "target": "golden/customers"}
    kill_before_commit(golden, tmp_path / "first", settings.warehouse_path)
    assert fingerprint(settings.warehouse_path, GOLDEN_TABLES) == dict.fromkeys(GOLDEN_TABLES)
    records, _ = finish(child(golden))["counts"]
    committed = fingerprint(settings.warehouse_path, GOLDEN_TABLES)
    run_all(settings, dg.DagsterInstance.ephemeral(), plan(settings, ["sources/*/customers"], ["2026-11-02"]))

    kill_before_commit(golden, tmp_path / "second", settings.warehouse_path)

    assert fingerprint(settings.warehouse_path, GOLDEN_TABLES) == committed
    more, _ = finish(child(golden))["counts"]
    after = fingerprint(settings.warehouse_path, GOLDEN_TABLES)
    assert more > records
    assert after["golden.customers__xref"][0] == more  # every source record in the crosswalk once


# -- two writers on one partition ------------------------------------------------------------------


@pytest.mark.slow
def test_two_processes_ingesting_one_partition_at_once_equal_a_single_run(tmp_path: Path) -> None:
    project = orders_project(tmp_path / "project", rows=300_000)
    warehouse = Settings.for_project(project).warehouse_path
    ingest = {"mode": "ingest", "project": project, "day": DAY}
    single = finish(child(ingest))["counts"]
    expected = fingerprint(warehouse, ORDER_TABLES)

    go = tmp_path / "go"
    racers = [child({**ingest, "ready": tmp_path / f"ready{i}", "go": go}) for i in range(2)]
    deadline = time.monotonic() + 120
    while not all((tmp_path / f"ready{i}").exists() for i in range(2)):
        assert all(r.poll() is None for r in racers) and time.monotonic() < deadline
        time.sleep(0.02)
    go.touch()
    first, second = sorted((finish(r) for r in racers), key=lambda r: r["acquired"])

    assert first["counts"] == second["counts"] == single
    assert fingerprint(warehouse, ORDER_TABLES) == expected
    assert max(first["requested"], second["requested"]) < first["finished"]  # they did race
    assert second["acquired"] >= first["finished"]  # and the lock made one wait for the other


# -- lineage faults: the data is written, the failure is a clear warning ----------------------------


@dataclasses.dataclass(frozen=True)
class Run:
    success: bool
    seconds: float
    messages: list[str]  # every log message of the run

    @property
    def lineage_warnings(self) -> list[str]:
        return [m for m in self.messages if m.startswith("lineage event")]


def materialize_orders(project: Path, lineage: LineageResource) -> Run:
    """The orders partition through ``dagster.materialize``, with the given lineage resource."""
    defs = build_definitions(Settings.for_project(project))
    instance = dg.DagsterInstance.ephemeral()
    start = time.monotonic()
    result = dg.materialize(
        list(defs.assets),
        partition_key=DAY,
        resources={**defs.resources, "lineage": lineage},
        instance=instance,
        raise_on_error=False,
    )
    seconds = time.monotonic() - start
    messages = [str(e.user_message) for e in instance.all_logs(result.run_id) if e.user_message]
    return Run(result.success, seconds, messages)


@pytest.fixture
def small_orders(tmp_path: Path) -> Path:
    return orders_project(tmp_path / "project", rows=50)


@pytest.mark.parametrize("endpoint", ["http_500", "slower_than_the_timeout"])
def test_a_failing_lineage_endpoint_never_costs_the_data(small_orders: Path, endpoint: str) -> None:
    statuses, delay = ((500,) * 10, 0.0) if endpoint == "http_500" else ((), 3.0)
    lineage_dir = small_orders / "artifacts" / "lineage"
    with Receiver(statuses=statuses, delay=delay) as receiver:
        resource = LineageResource(
            transport="http", url=receiver.url, lineage_dir=str(lineage_dir), timeout_s=0.5
        )
        run = materialize_orders(small_orders, resource)
    assert run.success
    assert run.seconds < 30  # three events, each bounded by the 0.5 s timeout
    assert loaded_orders(small_orders) == 47  # 50 rows, 3 with a negative amount
    assert len([m for m in run.lineage_warnings if " spooled: " in m]) == 3, run.lineage_warnings
    assert len((lineage_dir / "spool.jsonl").read_text().splitlines()) == 3  # kept for `dte lineage replay`


def test_an_unwritable_lineage_folder_never_costs_the_data(small_orders: Path) -> None:
    lineage_dir = small_orders / "artifacts" / "lineage"
    lineage_dir.parent.mkdir(parents=True)
    lineage_dir.write_text("a file where the lineage folder should be")
    resource = LineageResource(transport="file", lineage_dir=str(lineage_dir), timeout_s=0.5)
    run = materialize_orders(small_orders, resource)
    assert run.success
    assert loaded_orders(small_orders) == 47  # 50 rows, 3 with a negative amount
    lost = run.lineage_warnings
    assert len(lost) == 3 and all(" lost: " in m and str(lineage_dir) in m for m in lost), lost

"""Dagster's instance on PostgreSQL, configured by ``resources/dagster_postgres.yaml``.

A throwaway PostgreSQL server is started for the test (loopback only, its own socket folder, data
in a temp folder) and the production instance file is loaded against it unchanged: a run of the
sample project is stored there with its materialization and check events, and the warehouse
pool keeps its limit of one step at a time.

PostgreSQL refuses to run as root. When the tests run as root (CI, containers), the server runs
as an unprivileged account (``postgres`` when it exists, else ``nobody``) through ``subprocess``'s
own ``user``/``group`` switch, so no ``su``/``sudo`` configuration is needed; its folder then lives
outside pytest's root-only temp tree, which that account could not enter.
"""

from __future__ import annotations

import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from dte_platform.orchestration import WAREHOUSE_POOL, build_definitions
from dte_platform.settings import Settings

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
INSTANCE_YAML = REPO / "resources" / "dagster_postgres.yaml"
ORDERS = dg.AssetKey(["sources", "shop", "orders"])
DAY = "2026-11-01"
UNPRIVILEGED_ACCOUNTS = ("postgres", "nobody")


@dataclass(frozen=True)
class PostgresServer:
    """A running throwaway server: where to reach it and how to log in."""

    port: int
    user: str
    password: str
    database: str

    def env(self) -> dict[str, str]:
        """The variables ``resources/dagster_postgres.yaml`` reads."""
        return {
            "DTE_PG_HOST": "127.0.0.1",
            "DTE_PG_PORT": str(self.port),
            "DTE_PG_USER": self.user,
            "DTE_PG_PASSWORD": self.password,
            "DTE_PG_DB": self.database,
        }

    def query(self, sql: str, database: str | None = None) -> list[tuple[Any, ...]]:
        import psycopg2  # brought by dagster-postgres

        conn = psycopg2.connect(
            host="127.0.0.1",
            port=self.port,
            user=self.user,
            password=self.password,
            dbname=database or self.database,
        )
        try:
            conn.autocommit = True
            with conn.cursor() as cursor:
                cursor.execute(sql)
                return list(cursor.fetchall()) if cursor.description else []
        finally:
            conn.close()


@dataclass(frozen=True)
class Account:
    """Who runs the server: the current user, or an unprivileged one when we are root."""

    uid: int
    gid: int

    @property
    def switch(self) -> dict[str, Any]:
        """``subprocess`` arguments that run a command as this account."""
        if self.uid == os.geteuid():
            return {}
        return {"user": self.uid, "group": self.gid, "extra_groups": []}


def server_account() -> Account:
    if os.geteuid() != 0:
        return Account(os.geteuid(), os.getegid())
    for name in UNPRIVILEGED_ACCOUNTS:
        try:
            entry = pwd.getpwnam(name)
        except KeyError:
            continue
        return Account(entry.pw_uid, entry.pw_gid)
    raise RuntimeError(f"running as root and none of the accounts {UNPRIVILEGED_ACCOUNTS} exists")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def throwaway_postgres() -> Iterator[PostgresServer]:
    """Start a server on a free loopback port; stop it (immediate mode) and delete its data after."""
    account = server_account()
    root = Path(tempfile.mkdtemp(prefix="dte-postgres-"))
    os.chown(root, account.uid, account.gid)
    data, sockets, log = root / "data", root / "sockets", root / "server.log"
    server = PostgresServer(free_port(), "dte", secrets.token_hex(12), "dagster")
    password_file = root / "password"
    password_file.write_text(server.password + "\n")
    os.chown(password_file, account.uid, account.gid)
    try:
        _as(
            account,
            "initdb",
            "-D",
            data,
            "-U",
            server.user,
            "--pwfile",
            password_file,
            "--auth=scram-sha-256",
            "--encoding=UTF8",
            "--no-locale",
            "--no-sync",
        )
        sockets.mkdir()
        os.chown(sockets, account.uid, account.gid)
        options = f"-c listen_addresses=127.0.0.1 -p {server.port} -k {sockets} -c fsync=off"
        try:
            _as(account, "pg_ctl", "-D", data, "-l", log, "-o", options, "-w", "-t", "60", "start")
        except subprocess.CalledProcessError:
            raise AssertionError(f"PostgreSQL did not start:\n{_read(log)}") from None
        try:
            server.query(f"CREATE DATABASE {server.database}", database="postgres")
            yield server
        finally:
            _stop(account, data, log)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _stop(account: Account, data: Path, log: Path) -> None:
    """``pg_ctl stop -m immediate``, then prove the postmaster and its children are gone."""
    postmaster = int((data / "postmaster.pid").read_text().split()[0])
    processes = {postmaster, *_children(postmaster)}
    _as(account, "pg_ctl", "-D", data, "-m", "immediate", "-w", "-t", "60", "stop")
    deadline = time.monotonic() + 30
    while (alive := [pid for pid in processes if _alive(pid)]) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not alive, f"PostgreSQL processes left after stop: {alive}\n{_read(log)}"


def _as(account: Account, *command: object) -> None:
    subprocess.run(
        [str(part) for part in command],
        check=True,
        capture_output=True,
        env={"PATH": os.environ["PATH"], "LC_ALL": "C"},
        **account.switch,
    )


def _children(pid: int) -> list[int]:
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:  # fields after the command: state, ppid, ...
            children.append(int(stat.parent.name))
    return children


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _read(path: Path) -> str:
    return path.read_text(errors="replace") if path.exists() else "(no log)"


@pytest.fixture
def postgres() -> Iterator[PostgresServer]:
    if shutil.which("initdb") is None or shutil.which("pg_ctl") is None:
        pytest.skip("PostgreSQL's initdb/pg_ctl are not on PATH (Debian: apt-get install postgresql)")
    with throwaway_postgres() as server:
        yield server


@pytest.fixture
def instance(
    postgres: PostgresServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[dg.DagsterInstance]:
    """The production instance file, unchanged, in a fresh DAGSTER_HOME pointed at the server."""
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy2(INSTANCE_YAML, home / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    for name, value in postgres.env().items():
        monkeypatch.setenv(name, value)
    loaded = dg.DagsterInstance.get()
    try:
        yield loaded
    finally:
        loaded.dispose()


def test_runs_events_and_pool_limit_live_in_postgres(
    instance: dg.DagsterInstance, postgres: PostgresServer, sample_project: Path
) -> None:
    assert type(instance.run_storage).__name__ == "PostgresRunStorage"
    assert type(instance.event_log_storage).__name__ == "PostgresEventLogStorage"
    assert type(instance.schedule_storage).__name__ == "PostgresScheduleStorage"
    assert type(instance.run_coordinator).__name__ == "QueuedRunCoordinator"

    defs = build_definitions(Settings.for_project(sample_project))
    orders = next(a for a in defs.assets if isinstance(a, dg.AssetsDefinition) and ORDERS in a.keys)
    result = dg.materialize([orders], partition_key=DAY, resources=defs.resources, instance=instance)
    assert result.success

    run = instance.get_run_by_id(result.run_id)
    assert run is not None and run.status == dg.DagsterRunStatus.SUCCESS
    materialization = instance.get_latest_materialization_event(ORDERS)
    assert materialization is not None and materialization.run_id == result.run_id
    evaluations = result.get_asset_check_evaluations()
    assert {"conservation", "contract__amount__minimum"} <= {e.check_name for e in evaluations}

    # the same facts, read straight from PostgreSQL rather than through Dagster
    assert postgres.query(f"SELECT status FROM runs WHERE run_id = '{result.run_id}'") == [("SUCCESS",)]
    by_type = dict(
        postgres.query(
            f"SELECT dagster_event_type, count(*) FROM event_logs WHERE run_id = '{result.run_id}' "
            "GROUP BY dagster_event_type"
        )
    )
    assert by_type.get("ASSET_MATERIALIZATION") == 1
    assert by_type.get("ASSET_CHECK_EVALUATION") == len(evaluations)

    # the warehouse pool is limited to one step at a time, in the shared store
    assert instance.get_concurrency_config().pool_config.default_pool_limit == 1
    assert instance.event_log_storage.get_concurrency_info(WAREHOUSE_POOL).slot_count == 1

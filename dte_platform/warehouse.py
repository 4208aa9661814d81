"""The DuckDB warehouse file and its single-writer rule.

DuckDB lets one process at a time open a database file for writing. Every connection the platform
opens goes through :func:`connect`, which first takes an exclusive file lock next to the warehouse;
a second process (another run, another step process, ``dte run``) waits for it instead of failing.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
from filelock import FileLock, Timeout

from dte_platform.errors import DteError
from dte_platform.sqlutil import ident

DEFAULT_LOCK_TIMEOUT_S = 1800.0


class WarehouseBusy(DteError):
    """The warehouse lock was not released in time."""


@contextmanager
def connect(path: Path, timeout_s: float = DEFAULT_LOCK_TIMEOUT_S) -> Iterator[duckdb.DuckDBPyConnection]:
    """An exclusive connection to the warehouse, serialised across processes by a file lock."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(path.with_name(path.name + ".lock")))
    try:
        lock.acquire(timeout=timeout_s)
    except Timeout as exc:
        raise WarehouseBusy(f"{path}: another process held the warehouse for {timeout_s:.0f}s") from exc
    try:
        conn = duckdb.connect(str(path))
        try:
            run(conn, "SET TimeZone = 'UTC'")
            yield conn
        finally:
            conn.close()
    finally:
        lock.release()


def run(conn: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None) -> None:
    """Execute a statement and drain its result (DuckDB 2 refuses new work on an unfinished one)."""
    conn.execute(sql, params or []).fetchall()


def one(conn: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None) -> tuple[Any, ...]:
    """The single row a query returns, its result drained."""
    rows = conn.execute(sql, params or []).fetchall()
    if len(rows) != 1:
        raise ValueError(f"expected one row, got {len(rows)}")
    return tuple(rows[0])


class MissingInput(DteError):
    """A dataset is built from a table that no run has written yet."""


def require_tables(conn: duckdb.DuckDBPyConnection, tables: dict[str, str]) -> None:
    """``tables``: ``schema.table`` -> the asset that writes it. Names every one that is missing."""
    existing = {
        f"{s}.{t}"
        for s, t in conn.execute("SELECT table_schema, table_name FROM information_schema.tables").fetchall()
    }
    missing = [
        f"{table} (materialize {asset} first)"
        for table, asset in sorted(tables.items())
        if table not in existing
    ]
    if missing:
        raise MissingInput("input not built yet: " + "; ".join(missing))


def ensure_schema(conn: duckdb.DuckDBPyConnection, schema: str) -> None:
    run(conn, f"CREATE SCHEMA IF NOT EXISTS {ident(schema)}")

"""The DuckDB warehouse file and its single-writer rule.

DuckDB lets one process at a time open a database file for writing. Every connection the platform
opens goes through :func:`connect`, which first takes an exclusive file lock next to the warehouse;
a second process (another run, another step process, ``dte run``) waits for it instead of failing.

Each connection is also confined, as defence in depth behind the load-time checks of the SQL that
contracts supply: DuckDB may touch files only under the warehouse's folder (its WAL and spill
files) and the folders the caller names (the project, for landing files). Reading or writing any
other file, ``ATTACH`` elsewhere and ``INSTALL``/``LOAD`` fail, and the configuration is locked so
that no statement can lift the confinement.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
from filelock import FileLock, Timeout

from dte_platform.errors import DteError
from dte_platform.sqlutil import ident, literal

DEFAULT_LOCK_TIMEOUT_S = 1800.0


class WarehouseBusy(DteError):
    """The warehouse lock was not released in time."""


#: the storage format of a warehouse file this platform creates: the DuckDB 1.0 format, which every
#: DuckDB client from 1.0 on opens (datacontract-cli, BI tools, notebooks pinned to older releases);
#: newer formats would lock those out. It applies when the file is created.
STORAGE_COMPATIBILITY = "v1.0.0"


@contextmanager
def connect(
    path: Path, timeout_s: float = DEFAULT_LOCK_TIMEOUT_S, readable: Iterable[Path] = ()
) -> Iterator[duckdb.DuckDBPyConnection]:
    """An exclusive connection to the warehouse, serialised across processes by a file lock.

    DuckDB may access files only under the warehouse's folder and the ``readable`` folders."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(path.with_name(path.name + ".lock")))
    try:
        lock.acquire(timeout=timeout_s)
    except Timeout as exc:
        raise WarehouseBusy(f"{path}: another process held the warehouse for {timeout_s:.0f}s") from exc
    try:
        conn = duckdb.connect(str(path), config={"storage_compatibility_version": STORAGE_COMPATIBILITY})
        try:
            _configure(conn, [path.parent, *readable])
            yield conn
        finally:
            conn.close()
    finally:
        lock.release()


def _configure(conn: duckdb.DuckDBPyConnection, folders: Sequence[Path]) -> None:
    """UTC, file access confined to ``folders``, then the configuration locked (in this order:
    nothing can be set once it is locked, and the folders only while external access is on)."""
    allowed = ", ".join(literal(str(folder.resolve()).rstrip("/") + "/") for folder in folders)
    run(conn, "SET TimeZone = 'UTC'")
    run(conn, f"SET allowed_directories = [{allowed}]")
    run(conn, "SET enable_external_access = false")
    run(conn, "SET lock_configuration = true")


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

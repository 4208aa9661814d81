"""Dagster resources: the warehouse, as dagster-duckdb's resource with our single-writer lock."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
from dagster_duckdb import DuckDBResource
from pydantic import Field

from dte_platform import warehouse
from dte_platform.lineage.datasets import WarehouseName


class WarehouseResource(DuckDBResource):
    """``DuckDBResource`` whose connections queue on a file lock instead of failing.

    DuckDB allows one writing process per file. Runs launched together (``dagster dev`` gives each
    run its own process) therefore take turns on the warehouse; each holds it only while a step
    talks to DuckDB.
    """

    lock_timeout_s: float = Field(
        default=warehouse.DEFAULT_LOCK_TIMEOUT_S,
        description="How long a step waits for another process to release the warehouse.",
    )

    readable: list[str] = Field(
        default_factory=list,
        description="Folders DuckDB may read besides the warehouse's own (the project's landing data); "
        "every other file is out of reach of the SQL the platform runs.",
    )

    lineage_namespace: str = Field(
        default="",
        description="OpenLineage namespace of the warehouse's tables (default: duckdb:// + the file path).",
    )

    def lineage_name(self) -> WarehouseName:
        """How this warehouse's tables are named in lineage events (catalog = DuckDB's, the file stem)."""
        path = Path(self.database)
        return WarehouseName(self.lineage_namespace or f"duckdb://{path.as_posix()}", path.stem)

    @contextmanager
    def get_connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        folders = [Path(p) for p in self.readable]
        with warehouse.connect(Path(self.database), self.lock_timeout_s, folders) as conn:
            yield conn

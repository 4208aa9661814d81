"""Exact trust indicators of one materialization, measured in a single DuckDB scan.

Per column: completeness %, distinct count (exact for key columns, approximate otherwise),
uniqueness % for keys, and min/max/mean for numeric columns that are not sensitive (an extreme
of a sensitive column is one of its values). Validity and freshness come from what the run
already knows (quarantine counts, the freshness rule), so they cost no extra scan.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import duckdb

from dte_platform.compiler.rules import CompiledDataset
from dte_platform.compiler.sql_exec import PARTITION_COLUMN
from dte_platform.sqlutil import ident
from dte_platform.warehouse import one

_NUMERIC = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "DOUBLE", "DECIMAL")


@dataclass(frozen=True)
class Indicators:
    rows: int
    columns: dict[str, dict[str, float | int | None]]
    validity_pct: float | None
    freshness_lag_s: float | None

    @property
    def completeness_pct(self) -> float | None:
        values = [
            c["completeness_pct"] for c in self.columns.values() if c.get("completeness_pct") is not None
        ]
        return round(sum(values) / len(values), 4) if values else None  # type: ignore[arg-type]

    def flat(self) -> dict[str, float]:
        """indicator name -> value, for the history table."""
        out: dict[str, float] = {"row_count": float(self.rows)}
        for name, value in (
            ("completeness_pct", self.completeness_pct),
            ("validity_pct", self.validity_pct),
            ("freshness_lag_s", self.freshness_lag_s),
        ):
            if value is not None:
                out[name] = float(value)
        for column, values in self.columns.items():
            out.update({f"{column}.{k}": float(v) for k, v in values.items() if v is not None})
        return out


def _numeric(duckdb_type: str) -> bool:
    return duckdb_type.startswith(_NUMERIC)


def measure(
    conn: duckdb.DuckDBPyConnection,
    compiled: CompiledDataset,
    table: str,
    partition: dt.date | None,
    *,
    validity_pct: float | None,
    freshness_lag_s: float | None,
) -> Indicators:
    keys = set(compiled.primary_key) | {
        r.columns[0] for r in compiled.rules if r.kind == "unique" and r.columns
    }
    items, slots = ["count(*)"], []
    for column in compiled.columns:
        name = ident(column.name)
        distinct = f"count(DISTINCT {name})" if column.name in keys else f"approx_count_distinct({name})"
        stats = [f"count({name})", distinct]
        if _numeric(column.duckdb_type) and not column.sensitive:
            stats += [f"min({name})::DOUBLE", f"max({name})::DOUBLE", f"avg({name})::DOUBLE"]
        slots.append((column.name, len(items), len(stats)))
        items += stats
    where = f" WHERE {ident(PARTITION_COLUMN)} = ?" if partition is not None else ""
    row = one(conn, f"SELECT {', '.join(items)} FROM {table}{where}", [partition] if partition else [])
    rows = int(row[0])
    columns = {name: _column(row[start : start + size], rows, name in keys) for name, start, size in slots}
    return Indicators(rows, columns, validity_pct, freshness_lag_s)


def _column(values: tuple[Any, ...], rows: int, key: bool) -> dict[str, float | int | None]:
    present, distinct = int(values[0]), int(values[1])
    out: dict[str, float | int | None] = {
        "completeness_pct": round(100.0 * present / rows, 4) if rows else None,
        "distinct": distinct,
    }
    if key:
        out["uniqueness_pct"] = round(100.0 * distinct / present, 4) if present else None
    if len(values) == 5:
        out.update({"min": values[2], "max": values[3], "mean": values[4]})
    return out

"""Data profiles of warehouse tables: one HTML report per table (or partition), sensitive columns excluded.

Part of ``dte_platform.confidence``: the profile is evidence a reader can look at next to the contract
checks. This module only reads the warehouse through the connection it is given and writes one HTML file;
orchestration decides when to call it and where the report goes.

Privacy: the profiler's own "sensitive" mode still shows numeric and date values, so sensitive columns are
left out of the SQL that feeds it; the profiler never sees them. The platform's lineage columns (names
starting with ``_``) are left out too: the profile is of the contract's data columns only.

Cost: tables larger than ``sample_rows`` are sampled in DuckDB with seeded bernoulli sampling (repeatable,
unlike a reservoir sample it does not hold the whole table), and the profiler runs in minimal mode with
correlations, interactions and missing-value diagrams off. The profiler is imported inside the call that
uses it: importing it takes seconds, and code-location load time must not pay for it.
"""

from __future__ import annotations

import html
import os
import time
import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from dte_platform.sqlutil import ident

if TYPE_CHECKING:
    import pandas as pd

#: Column types handed to the profiler as they are; any other type (nested, enum, uuid, interval, time,
#: blob, ...) is cast to VARCHAR first, so the profiler only ever sees hashable scalar values.
_NATIVE_TYPES = frozenset(
    {
        "BOOLEAN",
        "TINYINT",
        "SMALLINT",
        "INTEGER",
        "BIGINT",
        "HUGEINT",
        "UTINYINT",
        "USMALLINT",
        "UINTEGER",
        "UBIGINT",
        "UHUGEINT",
        "FLOAT",
        "DOUBLE",
        "VARCHAR",
        "DATE",
        "TIMESTAMP",
        "TIMESTAMP_S",
        "TIMESTAMP_MS",
        "TIMESTAMP_NS",
        "TIMESTAMP WITH TIME ZONE",
    }
)

#: The profiler reports each report's shape to its vendor over the network unless this is set; a profile
#: run must work offline and must not call out from the warehouse host.
_NO_ANALYTICS_ENV = "YDATA_PROFILING_NO_ANALYTICS"


@dataclass(frozen=True)
class ProfileResult:
    path: Path
    """The HTML report."""
    rows_total: int
    """Rows of the table (after ``where``)."""
    rows_profiled: int
    """Rows the profiler saw (the sample, or all of them)."""
    columns_profiled: tuple[str, ...]
    columns_dropped: tuple[str, ...]
    """Sensitive columns of the table, never selected, never seen by the profiler."""
    seconds: float


@dataclass(frozen=True)
class _Selection:
    """Which columns of the table are profiled, and the SQL expression that reads each."""

    profiled: tuple[str, ...]
    dropped: tuple[str, ...]
    expressions: tuple[str, ...]


def profile_table(
    conn: duckdb.DuckDBPyConnection,
    table: str,
    *,
    sensitive: Collection[str],
    out_path: Path,
    title: str,
    sample_rows: int = 100_000,
    seed: int = 42,
    where: str | None = None,
    params: Sequence[Any] = (),
    minimal: bool = True,
) -> ProfileResult:
    """Profile ``table`` (an already-quoted reference) into an HTML report at ``out_path``.

    ``where`` is an optional SQL condition with ``?`` placeholders bound from ``params`` (a partition
    filter, say). Columns named in ``sensitive`` (matched case-insensitively, as DuckDB matches
    identifiers) and columns whose names start with ``_`` are never selected. When nothing is left to
    profile (every column sensitive, or no rows), a short HTML page saying so is written instead.
    """
    if sample_rows < 1:
        raise ValueError(f"sample_rows must be at least 1, got {sample_rows}")
    start = time.perf_counter()
    selection = _select_columns(conn, table, sensitive)
    condition = f" WHERE ({where})" if where else ""
    rows_total = _count_rows(conn, table, condition, params)
    frame = None
    if selection.profiled and rows_total > 0:
        frame = _read_sample(conn, table, selection, condition, params, rows_total, sample_rows, seed)
    rows_profiled = 0 if frame is None else len(frame)
    if frame is not None and rows_profiled > 0:
        page = _with_note(_profile_report(frame, title, minimal), _note(selection, rows_profiled, rows_total))
    else:
        page = _empty_page(title, selection, rows_total)
    _write_atomically(out_path, page)
    return ProfileResult(
        path=out_path,
        rows_total=rows_total,
        rows_profiled=rows_profiled,
        columns_profiled=selection.profiled if rows_profiled else (),
        columns_dropped=selection.dropped,
        seconds=time.perf_counter() - start,
    )


def _select_columns(conn: duckdb.DuckDBPyConnection, table: str, sensitive: Collection[str]) -> _Selection:
    relation = conn.sql(f"SELECT * FROM {table}")
    hidden = {name.casefold() for name in sensitive}
    profiled: list[str] = []
    dropped: list[str] = []
    expressions: list[str] = []
    for name, column_type in zip(relation.columns, relation.types, strict=True):
        if name.casefold() in hidden:
            dropped.append(name)
        elif not name.startswith("_"):
            profiled.append(name)
            expressions.append(_column_expression(name, str(column_type)))
    return _Selection(tuple(profiled), tuple(dropped), tuple(expressions))


def _column_expression(name: str, column_type: str) -> str:
    quoted = ident(name)
    if column_type in _NATIVE_TYPES or column_type.startswith("DECIMAL("):
        return quoted
    return f"CAST({quoted} AS VARCHAR) AS {quoted}"


def _count_rows(conn: duckdb.DuckDBPyConnection, table: str, condition: str, params: Sequence[Any]) -> int:
    row = conn.execute(f"SELECT count(*) FROM {table}{condition}", list(params)).fetchall()[0]
    return int(row[0])


def _sample_clause(rows_total: int, sample_rows: int, seed: int) -> str:
    """Seeded bernoulli sampling sized to give about ``sample_rows`` rows; empty when all rows fit."""
    if rows_total <= sample_rows:
        return ""
    percent = min(100.0, 100.0 * sample_rows / rows_total)
    return f" USING SAMPLE {percent:.9f} PERCENT (bernoulli, {int(seed)}) LIMIT {int(sample_rows)}"


def _read_sample(
    conn: duckdb.DuckDBPyConnection,
    table: str,
    selection: _Selection,
    condition: str,
    params: Sequence[Any],
    rows_total: int,
    sample_rows: int,
    seed: int,
) -> pd.DataFrame:
    columns = ", ".join(selection.expressions)
    source = f"SELECT {columns} FROM {table}{condition}"
    query = f"SELECT * FROM ({source}) AS profiled{_sample_clause(rows_total, sample_rows, seed)}"
    return conn.sql(query, params=list(params) or None).df()


def _profile_report(frame: pd.DataFrame, title: str, minimal: bool) -> str:
    """The profiler adapter: a pandas frame in, a self-contained HTML page out.

    The only place that knows the profiling library. Its renamed successor (``import data_profiling``)
    keeps the ``ProfileReport`` API; switching is the import line (and the analytics opt-out variable,
    if the successor renames it).
    """
    if not os.environ.get(_NO_ANALYTICS_ENV):
        os.environ[_NO_ANALYTICS_ENV] = "1"
    from ydata_profiling import ProfileReport

    report = ProfileReport(
        frame,
        title=title,
        minimal=minimal,
        progress_bar=False,
        # None switches each group off; samples and duplicates would copy raw rows into the page.
        correlations=None,
        interactions=None,
        missing_diagrams=None,
        samples=None,
        duplicates=None,
        html={"inline": True, "use_local_assets": True},
    )
    return str(report.to_html())


def _note(selection: _Selection, rows_profiled: int, rows_total: int) -> str:
    dropped = ", ".join(selection.dropped) or "none"
    return (
        f"Profiled: {rows_profiled} of {rows_total} rows (a seeded sample). "
        f"Sensitive columns left out, never read: {dropped}."
    )


def _with_note(page: str, note: str) -> str:
    """The report with a line saying what it was made of, right after the opening body tag."""
    banner = (
        '<p style="margin:0;padding:.6rem 1rem;background:#fff7e6;font-family:sans-serif">'
        f"{html.escape(note)}</p>"
    )
    at = page.find("<body")
    end = page.find(">", at) + 1 if at >= 0 else 0
    return page[:end] + banner + page[end:]


def _empty_page(title: str, selection: _Selection, rows_total: int) -> str:
    if not selection.profiled:
        reason = "Every column of this table is sensitive or internal, so nothing could be profiled."
    else:
        reason = f"No rows to profile ({rows_total} rows matched)."
    dropped = ", ".join(selection.dropped) or "none"
    return (
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title></head>\n<body>\n"
        f"<h1>{html.escape(title)}</h1>\n<p>{html.escape(reason)}</p>\n"
        f"<p>Sensitive columns left out: {html.escape(dropped)}</p>\n</body></html>\n"
    )


def _write_atomically(out_path: Path, text: str) -> None:
    out_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_path.with_name(f".{out_path.name}.{uuid.uuid4().hex}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(out_path)
    finally:
        tmp.unlink(missing_ok=True)

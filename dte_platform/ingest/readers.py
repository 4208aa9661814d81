"""Landing files -> one polars frame of text + typed values, plus the lines that did not parse.

DuckDB does the reading (CSV with its rejects table, JSON Lines line by line, Parquet) and the
parsing (text -> contract type, NULL when the text does not parse). For every contract column the
frame carries the typed value under the column's name and the landing text under ``__raw__<name>``,
with ``__file`` and ``__line`` telling where each record came from. Nothing is dropped: a line that
cannot be parsed at all is returned in ``rejects`` with its raw text and DuckDB's reason.
"""

from __future__ import annotations

import csv
import gzip
import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import duckdb
import numpy as np
import polars as pl

from dte_platform.compiler.pandera_exec import raw_name
from dte_platform.compiler.rules import ColumnType, CompiledDataset
from dte_platform.compiler.types import PARSERS, temporal_parser
from dte_platform.contracts.model import SourceSpec
from dte_platform.errors import LandingError
from dte_platform.sqlutil import ident, literal
from dte_platform.warehouse import run

FILE_COLUMN, LINE_COLUMN = "__file", "__line"
REJECT_SCHEMA = {"file": pl.String, "line": pl.Int64, "raw": pl.String, "error": pl.String}
_counter = itertools.count()


@dataclass
class FileBatch:
    frame: pl.DataFrame
    rejects: pl.DataFrame
    extra_columns: set[str] = field(default_factory=set)
    missing_columns: set[str] = field(default_factory=set)


@dataclass
class LandingBatch:
    frame: pl.DataFrame
    rejects: pl.DataFrame
    files: list[str]
    extra_columns: list[str]
    missing_columns: list[str]

    @property
    def rows_in(self) -> int:
        return self.frame.height + self.rejects.height


def _typed(column: ColumnType, raw_sql: str, nested_sql: str = "false") -> str:
    if column.strptime:
        parsed = temporal_parser(raw_sql, column.duckdb_type, column.strptime)
    else:
        parsed = PARSERS[column.parser](raw_sql, column.duckdb_type)
    if column.parser == "text":
        parsed = f"CAST({parsed} AS VARCHAR)"
    return f"CASE WHEN {nested_sql} THEN NULL ELSE {parsed} END"


def _select_items(compiled: CompiledDataset, present: dict[str, str], nested: Callable[[str], str]) -> str:
    """``present`` maps contract column -> SQL of its landing text; absent columns read as NULL."""
    items = []
    for column in compiled.columns:
        raw = present.get(column.name, "CAST(NULL AS VARCHAR)")
        is_nested = nested(column.name) if column.name in present else "false"
        if column.parser == "text" and is_nested == "false":
            # text that is its own value: one column here, aliased in polars (no copy) by _with_raw
            items.append(f"CAST({raw} AS VARCHAR) AS {ident(column.name)}")
            continue
        items.append(f"{raw} AS {ident(raw_name(column.name))}")
        items.append(f"{_typed(column, raw, is_nested)} AS {ident(column.name)}")
    return ", ".join(items)


def _with_raw(frame: pl.DataFrame, compiled: CompiledDataset) -> pl.DataFrame:
    missing = [c.name for c in compiled.columns if raw_name(c.name) not in frame.columns]
    return frame.with_columns(pl.col(name).alias(raw_name(name)) for name in missing)


def _missing(compiled: CompiledDataset, names: set[str], file: Path, required: set[str]) -> set[str]:
    missing = {c.name for c in compiled.columns if c.source_name not in names}
    blocking = sorted(missing & required)
    if blocking:
        raise LandingError(file, f"required column(s) missing: {', '.join(blocking)}")
    return missing


# --- CSV -------------------------------------------------------------------------------------


def _open_text(file: Path) -> IO[str]:
    if file.suffix == ".gz":
        return gzip.open(file, "rt", encoding="utf-8-sig", newline="")
    return file.open(encoding="utf-8-sig", newline="")


def _csv_header(file: Path, source: SourceSpec) -> list[str]:
    try:
        with _open_text(file) as handle:
            header = next(
                csv.reader(handle, delimiter=source.delimiter, quotechar=source.quote or None), None
            )
    except (UnicodeDecodeError, OSError, csv.Error, EOFError) as exc:
        raise LandingError(file, f"cannot read the CSV header: {exc}") from exc
    if not header or not any(h.strip() for h in header):
        raise LandingError(file, "empty file: no CSV header line")
    duplicated = sorted({h for h in header if header.count(h) > 1})
    if duplicated:
        raise LandingError(file, f"duplicated column(s) in header: {', '.join(duplicated)}")
    return header


def read_csv(
    conn: duckdb.DuckDBPyConnection,
    file: Path,
    compiled: CompiledDataset,
    source: SourceSpec,
    required: set[str],
) -> FileBatch:
    header = _csv_header(file, source)
    names = set(header)
    missing = _missing(compiled, names, file, required)
    present = {c.name: ident(c.source_name) for c in compiled.columns if c.source_name in names}
    n = next(_counter)
    rejects_table, scan_table = f"__dte_rejects_{n}", f"__dte_scan_{n}"
    columns = "{" + ", ".join(f"{literal(h)}: 'VARCHAR'" for h in header) + "}"
    nulls = "[" + ", ".join(literal(v) for v in source.null_values) + "]"
    options = (
        f"auto_detect=false, header=true, columns={columns}, delim={literal(source.delimiter)}, "
        f"quote={literal(source.quote)}, escape={literal(source.escape)}, nullstr={nulls}, "
        f"store_rejects=true, rejects_table={literal(rejects_table)}, "
        f"rejects_scan={literal(scan_table)}, max_line_size=10000000"
    )
    items = _select_items(compiled, present, lambda _: "false")
    sql = f"SELECT {items} FROM read_csv({literal(str(file))}, {options})"
    try:
        frame = conn.sql(sql).pl()
        rejected = conn.execute(
            f"SELECT line, any_value(csv_line), min(error_type || ': ' || error_message) "
            f"FROM {ident(rejects_table)} GROUP BY line ORDER BY line"
        ).fetchall()
    except duckdb.Error as exc:
        raise LandingError(file, f"cannot read CSV: {str(exc).splitlines()[0]}") from exc
    finally:
        run(conn, f"DROP TABLE IF EXISTS {ident(rejects_table)}")
        run(conn, f"DROP TABLE IF EXISTS {ident(scan_table)}")
    lines = _accepted_lines(frame.height, [int(r[0]) for r in rejected])
    return FileBatch(
        frame=frame.with_columns(pl.Series(LINE_COLUMN, lines, dtype=pl.Int64)),
        rejects=pl.DataFrame(
            [(str(file), int(r[0]), r[1], r[2]) for r in rejected], schema=REJECT_SCHEMA, orient="row"
        ),
        extra_columns=names - {c.source_name for c in compiled.columns},
        missing_columns=missing,
    )


def _accepted_lines(accepted: int, rejected_lines: list[int]) -> np.ndarray:
    """Line numbers of the accepted records, given the (sorted) line numbers DuckDB rejected.

    DuckDB counts one line per record, the header being line 1. Accepted record k sits at data
    index k plus the number of rejected records that came before it.
    """
    k = np.arange(accepted, dtype=np.int64)
    if not rejected_lines:
        return k + 2
    data_index = np.asarray(rejected_lines, dtype=np.int64) - 2
    shifted = data_index - np.arange(len(data_index), dtype=np.int64)
    return k + np.searchsorted(shifted, k, side="right") + 2


# --- JSON Lines ------------------------------------------------------------------------------


def read_jsonl(
    conn: duckdb.DuckDBPyConnection,
    file: Path,
    compiled: CompiledDataset,
    source: SourceSpec,
    required: set[str],
) -> FileBatch:
    # AND does not short-circuit in vectorised SQL: json_type would fail on invalid lines
    ok = (
        "CASE WHEN trim(line) = '' THEN NULL "
        "WHEN json_valid(line) THEN json_type(line) = 'OBJECT' ELSE false END"
    )
    lines_sql = (
        f"SELECT line_no, line, {ok} AS ok FROM (SELECT unnest(range(1, len(l) + 1)) AS line_no, "
        "rtrim(unnest(l), chr(13)) AS line "
        f"FROM (SELECT string_split(content, chr(10)) AS l FROM read_text({literal(str(file))})))"
    )
    present, nested = {}, {}
    for column in compiled.columns:
        path = literal('$."' + column.source_name.replace('"', '\\"') + '"')
        present[column.name] = (
            f"CASE WHEN json_type(line, {path}) IN ('OBJECT', 'ARRAY') "
            f"THEN CAST(json_extract(line, {path}) AS VARCHAR) "
            f"ELSE json_extract_string(line, {path}) END"
        )
        nested[column.name] = (
            "false" if column.nested else f"coalesce(json_type(line, {path}) IN ('OBJECT', 'ARRAY'), false)"
        )
    try:
        run(conn, f"CREATE OR REPLACE TEMP TABLE __dte_lines AS {lines_sql}")
        frame = conn.sql(
            f"SELECT {_select_items(compiled, present, nested.__getitem__)}, line_no AS {LINE_COLUMN} "
            "FROM __dte_lines WHERE ok ORDER BY line_no"
        ).pl()
        rejected = conn.execute(
            "SELECT line_no, line FROM __dte_lines WHERE NOT ok ORDER BY line_no"
        ).fetchall()
        keys = {
            r[0]
            for r in conn.execute(
                "SELECT DISTINCT unnest(json_keys(line)) FROM __dte_lines WHERE ok"
            ).fetchall()
        }
    except duckdb.Error as exc:
        raise LandingError(file, f"cannot read JSON Lines: {str(exc).splitlines()[0]}") from exc
    finally:
        run(conn, "DROP TABLE IF EXISTS __dte_lines")
    return FileBatch(
        frame=frame.with_columns(pl.col(LINE_COLUMN).cast(pl.Int64)),
        rejects=pl.DataFrame(
            [(str(file), int(n), text, "INVALID JSON: not a JSON object") for n, text in rejected],
            schema=REJECT_SCHEMA,
            orient="row",
        ),
        extra_columns=keys - {c.source_name for c in compiled.columns},
        missing_columns=set(),
    )


# --- Parquet ---------------------------------------------------------------------------------


def read_parquet(
    conn: duckdb.DuckDBPyConnection,
    file: Path,
    compiled: CompiledDataset,
    source: SourceSpec,
    required: set[str],
) -> FileBatch:
    scan = f"read_parquet({literal(str(file))})"
    try:
        described = {r[0]: str(r[1]) for r in conn.execute(f"DESCRIBE SELECT * FROM {scan}").fetchall()}
        names = set(described)
        missing = _missing(compiled, names, file, required)
        present = {
            c.name: f"CAST({ident(c.source_name)} AS VARCHAR)"
            for c in compiled.columns
            if c.source_name in names
        }
        nested = {
            c.name: "false" if c.nested else _parquet_nested(described[c.source_name])
            for c in compiled.columns
            if c.source_name in names
        }
        frame = conn.sql(f"SELECT {_select_items(compiled, present, nested.__getitem__)} FROM {scan}").pl()
    except duckdb.Error as exc:
        raise LandingError(file, f"cannot read Parquet: {str(exc).splitlines()[0]}") from exc
    return FileBatch(
        frame=frame.with_columns(pl.int_range(1, frame.height + 1, dtype=pl.Int64).alias(LINE_COLUMN)),
        rejects=pl.DataFrame(schema=REJECT_SCHEMA),
        extra_columns=names - {c.source_name for c in compiled.columns},
        missing_columns=missing,
    )


def _parquet_nested(duckdb_type: str) -> str:
    nested = duckdb_type.startswith(("STRUCT", "MAP", "UNION")) or duckdb_type.endswith("]")
    return "true" if nested else "false"


READERS: dict[str, Callable[..., FileBatch]] = {"csv": read_csv, "jsonl": read_jsonl, "parquet": read_parquet}


def read_partition(
    conn: duckdb.DuckDBPyConnection,
    files: list[Path],
    names: list[str],
    compiled: CompiledDataset,
    source: SourceSpec,
    required: set[str],
) -> LandingBatch:
    """All files of a partition, in order; ``names`` are the files as they appear in results."""
    reader = READERS[source.format]
    batches = list(_read_each(conn, files, names, compiled, source, required, reader))
    return LandingBatch(
        frame=pl.concat([b.frame for b in batches], how="vertical_relaxed"),
        rejects=pl.concat([b.rejects for b in batches]),
        files=names,
        extra_columns=sorted(set().union(*(b.extra_columns for b in batches))),
        missing_columns=sorted(set().union(*(b.missing_columns for b in batches))),
    )


def _read_each(
    conn: duckdb.DuckDBPyConnection,
    files: list[Path],
    names: list[str],
    compiled: CompiledDataset,
    source: SourceSpec,
    required: set[str],
    reader: Callable[..., FileBatch],
) -> Iterator[FileBatch]:
    for file, name in zip(files, names, strict=True):
        batch = reader(conn, file, compiled, source, required)
        yield FileBatch(
            frame=_with_raw(batch.frame, compiled).with_columns(
                pl.lit(name, dtype=pl.String).alias(FILE_COLUMN)
            ),
            rejects=batch.rejects.with_columns(pl.lit(name, dtype=pl.String).alias("file")),
            extra_columns=batch.extra_columns,
            missing_columns=batch.missing_columns,
        )

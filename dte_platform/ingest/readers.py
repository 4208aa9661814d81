"""Landing files -> one polars frame of text + typed values, plus the lines that did not parse.

DuckDB does the reading (CSV with its rejects table, JSON Lines line by line, Parquet) and the
parsing (text -> contract type, NULL when the text does not parse). For every contract column the
frame carries the typed value under the column's name and the landing text under ``__raw__<name>``,
with ``__file`` and ``__line`` telling where each record came from. Nothing is dropped: a line that
cannot be parsed at all is returned in ``rejects`` with its raw text and DuckDB's reason.

What a file must be, and what it may get wrong (tests/fixtures/bad_inputs/ has a case for each):
text files are UTF-8, and one that is not fails the partition naming its first bad line, since
loading only its ASCII rows would bias the day silently; gzip is recognised by its content, not
its name; a 0-byte file is a failed transfer, not an empty day; the contract's ``nullValues`` are
NULL in CSV and in JSON Lines strings alike; dates and timestamps lie in years 1 to 9999.
"""

from __future__ import annotations

import csv
import datetime as dt
import itertools
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import polars as pl

from dte_platform.compiler.pandera_exec import raw_name
from dte_platform.compiler.rules import ColumnType, CompiledDataset
from dte_platform.compiler.types import PARSERS, temporal_parser
from dte_platform.contracts.model import SourceSpec
from dte_platform.errors import LandingError
from dte_platform.ingest import textfiles
from dte_platform.ingest.landing import landing_file
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


#: the instants a date or timestamp may hold: years 1 to 9999, what ISO 8601 writes with four
#: digits and what Python (so every consumer of the warehouse) can represent. DuckDB parses
#: 99999-01-01 and 'infinity' too; such a value would crash whatever reads it next. (Its other
#: special word, 'epoch', is 1970-01-01 and in range: it loads as that instant.)
_TEMPORAL_RANGE: dict[str, tuple[dt.date, dt.date]] = {
    "DATE": (dt.date(1, 1, 1), dt.date(9999, 12, 31)),
    "TIMESTAMPTZ": (
        dt.datetime(1, 1, 1, tzinfo=dt.UTC),
        dt.datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=dt.UTC),
    ),
}


def _typed(column: ColumnType, raw_sql: str, nested_sql: str = "false") -> str:
    if column.strptime:
        parsed = temporal_parser(raw_sql, column.duckdb_type, column.strptime)
    else:
        parsed = PARSERS[column.parser](raw_sql, column.duckdb_type)
    if column.parser == "text":
        parsed = f"CAST({parsed} AS VARCHAR)"
    return f"CASE WHEN {nested_sql} THEN NULL ELSE {parsed} END"


def _in_temporal_range(frame: pl.DataFrame, compiled: CompiledDataset) -> pl.DataFrame:
    """Out-of-range dates become NULL, so that their text fails ``<column>__type``.

    Checked here on the values DuckDB returned (one comparison) rather than in SQL, where the
    check would parse every value twice; nothing reads these values before this check.
    """
    checks = [
        pl.when(pl.col(c.name).is_between(*_TEMPORAL_RANGE[c.duckdb_type])).then(pl.col(c.name)).alias(c.name)
        for c in compiled.columns
        if c.duckdb_type in _TEMPORAL_RANGE
    ]
    return frame.with_columns(checks) if checks else frame


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


def _duckdb_message(exc: duckdb.Error, file: Path) -> str:
    """DuckDB's first line, without the file path it repeats (the error already starts with it)."""
    first = str(exc).splitlines()[0]
    return first.replace(f": {file}", "").replace(f"'{file}'", "the file").replace(str(file), "the file")


def _missing(compiled: CompiledDataset, names: set[str], file: Path, required: set[str]) -> set[str]:
    missing = {c.name for c in compiled.columns if c.source_name not in names}
    blocking = sorted(missing & required)
    if blocking:
        raise LandingError(file, f"required column(s) missing: {', '.join(blocking)}")
    return missing


# --- CSV -------------------------------------------------------------------------------------

_OTHER_DELIMITERS = (";", "\t", "|", ",")
_STATE_MACHINE = "state machine reached an invalid state"
REPEATED_HEADER = "REPEATED HEADER: the line repeats the header row"


def _csv_header(file: Path, source: SourceSpec) -> list[str]:
    """The header, decoded line by line: a bad byte further down is not a header problem."""
    try:
        with textfiles.open_binary(file) as handle:
            reader = csv.reader(
                textfiles.decoded_lines(handle, file),
                delimiter=source.delimiter,
                quotechar=source.quote or None,
            )
            header = next(reader, None)
    except (OSError, csv.Error, EOFError, zlib.error) as exc:
        if isinstance(exc, FileNotFoundError):
            raise
        raise LandingError(file, f"cannot read the CSV header: {exc}") from exc
    if not header or not any(h.strip() for h in header):
        raise LandingError(file, "no CSV header: the first line is blank")
    duplicated = sorted({h for h in header if header.count(h) > 1})
    if duplicated:
        raise LandingError(file, f"duplicated column(s) in header: {', '.join(duplicated)}")
    return header


def _wrong_delimiter(file: Path, header: list[str], compiled: CompiledDataset, source: SourceSpec) -> None:
    """A one-column header that splits into contract columns on another delimiter."""
    if len(header) != 1:
        return
    expected = {c.source_name for c in compiled.columns}
    for other in _OTHER_DELIMITERS:
        parts = header[0].split(other)
        if other != source.delimiter and len(parts) > 1 and expected & set(parts):
            raise LandingError(
                file,
                f"the header is one column {header[0][:80]!r}: the file looks delimited by "
                f"{other!r} but the contract says {source.delimiter!r}",
            )


def _csv_options(file: Path, header: list[str], source: SourceSpec, rejects: str, scan: str) -> str:
    columns = "{" + ", ".join(f"{literal(h)}: 'VARCHAR'" for h in header) + "}"
    nulls = "[" + ", ".join(literal(v) for v in source.null_values) + "]"
    compression = "gzip" if textfiles.is_gzip(file) else "none"
    return (
        f"auto_detect=false, header=true, columns={columns}, delim={literal(source.delimiter)}, "
        f"quote={literal(source.quote)}, escape={literal(source.escape)}, nullstr={nulls}, "
        f"compression={literal(compression)}, store_rejects=true, rejects_table={literal(rejects)}, "
        f"rejects_scan={literal(scan)}, max_line_size={textfiles.MAX_LINE_BYTES}"
    )


def read_csv(
    conn: duckdb.DuckDBPyConnection,
    file: Path,
    compiled: CompiledDataset,
    source: SourceSpec,
    required: set[str],
) -> FileBatch:
    header = _csv_header(file, source)
    _wrong_delimiter(file, header, compiled, source)
    names = set(header)
    missing = _missing(compiled, names, file, required)
    present = {c.name: ident(c.source_name) for c in compiled.columns if c.source_name in names}
    n = next(_counter)
    rejects_table, scan_table = f"__dte_rejects_{n}", f"__dte_scan_{n}"
    options = _csv_options(file, header, source, rejects_table, scan_table)
    items = _select_items(compiled, present, lambda _: "false")
    sql = f"SELECT {items} FROM read_csv({literal(str(file))}, {options})"
    try:
        frame = conn.sql(sql).pl()
        rejected = conn.execute(
            f"SELECT line, any_value(csv_line), min(error_type || ': ' || error_message), "
            f"bool_or(error_type = 'INVALID ENCODING') "
            f"FROM {ident(rejects_table)} GROUP BY line ORDER BY line"
        ).fetchall()
    except duckdb.Error as exc:
        raise _csv_read_error(file, exc) from exc
    finally:
        run(conn, f"DROP TABLE IF EXISTS {ident(rejects_table)}")
        run(conn, f"DROP TABLE IF EXISTS {ident(scan_table)}")
    if any(r[3] for r in rejected):
        raise textfiles.encoding_error(file) or LandingError(file, "not UTF-8 encoded")
    duckdb_lines = [int(r[0]) for r in rejected]
    accepted_lines, rejected_lines = textfiles.record_lines(
        file, source.delimiter, source.quote, source.escape, frame.height, duckdb_lines
    )
    batch = FileBatch(
        frame=frame.with_columns(pl.Series(LINE_COLUMN, accepted_lines, dtype=pl.Int64)),
        rejects=pl.DataFrame(
            [(str(file), line, r[1], r[2]) for line, r in zip(rejected_lines, rejected, strict=True)],
            schema=REJECT_SCHEMA,
            orient="row",
        ),
        extra_columns=names - {c.source_name for c in compiled.columns},
        missing_columns=missing,
    )
    return _without_repeated_headers(batch, compiled, header, source, file)


def _csv_read_error(file: Path, exc: duckdb.Error) -> LandingError:
    if _STATE_MACHINE in str(exc):
        diagnosed = textfiles.line_ending_error(file)
        if diagnosed is not None:
            return diagnosed
    return LandingError(file, f"cannot read CSV: {_duckdb_message(exc, file)}")


def _without_repeated_headers(
    batch: FileBatch, compiled: CompiledDataset, header: list[str], source: SourceSpec, file: Path
) -> FileBatch:
    """A record that repeats the header (files concatenated with their headers) is not data.

    Typed columns would quarantine it anyway; in a contract of text columns it would load as a row.
    """
    frame = batch.frame
    present = [c for c in compiled.columns if c.source_name in header]
    if not present or frame.height == 0:
        return batch
    texts = [raw_name(c.name) if raw_name(c.name) in frame.columns else c.name for c in present]
    repeated = pl.all_horizontal(
        pl.col(text).eq_missing(c.source_name) for text, c in zip(texts, present, strict=True)
    )
    lines = frame.filter(repeated).get_column(LINE_COLUMN).to_list()
    if not lines:
        return batch
    raw = source.delimiter.join(header)
    extra = pl.DataFrame(
        [(str(file), line, raw, REPEATED_HEADER) for line in lines], schema=REJECT_SCHEMA, orient="row"
    )
    return FileBatch(
        frame=frame.filter(~repeated),
        rejects=pl.concat([batch.rejects, extra]).sort("line"),
        extra_columns=batch.extra_columns,
        missing_columns=batch.missing_columns,
    )


# --- JSON Lines ------------------------------------------------------------------------------

# One row per line: its number, its text, its keys (NULL unless valid JSON) and why it is not a
# record, or '' when it is one (NULL for a blank line, which is no record). Every json_* call
# parses the line again, so each runs once, and CASE (lazy, unlike AND) keeps them off lines
# where they would fail.
_JSONL_LINES = """
SELECT line_no, line, keys, CASE
    WHEN trim(line) = '' THEN NULL
    WHEN keys IS NULL THEN 'INVALID JSON: the line is not valid JSON'
    WHEN NOT starts_with(ltrim(line), '{{') THEN 'INVALID JSON: the line is ' || CASE json_type(line)
         WHEN 'ARRAY' THEN 'an array' WHEN 'VARCHAR' THEN 'a string' WHEN 'NULL' THEN 'null'
         WHEN 'BOOLEAN' THEN 'a boolean' ELSE 'a number' END || ', not an object'
    ELSE '' END AS problem
FROM (
    SELECT line_no, line, CASE WHEN trim(line) <> '' AND json_valid(line) THEN json_keys(line) END AS keys
    FROM (
        -- a UTF-8 byte order mark opens the file, not the first record
        SELECT line_no, CASE WHEN line_no = 1 THEN ltrim(line, '\ufeff') ELSE line END AS line
        FROM (
            SELECT unnest(range(1, len(l) + 1)) AS line_no, rtrim(unnest(l), chr(13)) AS line
            FROM (SELECT string_split(content, chr(10)) AS l FROM read_text({file}))
        )
    )
)
"""
_KEYS = "__keys"
DUPLICATE_KEYS = "INVALID JSON: duplicate key(s) in the object; which value counts is undefined"


def _jsonl_values(
    compiled: CompiledDataset, source: SourceSpec
) -> tuple[str, dict[str, str], dict[str, str]]:
    """The subquery extracting every contract key of each record in two parses (text and JSON
    type of all paths at once), and per column the SQL of its landing text and of "is nested".

    Nested values come as JSON text; the contract's null spellings are NULL, as in a CSV file.
    """
    paths = ", ".join(literal('$."' + c.source_name.replace('"', '\\"') + '"') for c in compiled.columns)
    nulls = ", ".join(literal(v) for v in source.null_values) or "NULL"
    values = (
        f"SELECT line_no, keys, json_extract_string(line, [{paths}]) AS __text, "
        f"json_type(line, [{paths}]) AS __type FROM __dte_lines WHERE problem = ''"
    )
    present, nested = {}, {}
    for i, column in enumerate(compiled.columns, start=1):
        text, kind = f"__text[{i}]", f"__type[{i}]"
        present[column.name] = (
            f"CASE WHEN {kind} = 'VARCHAR' AND {text} IN ({nulls}) THEN NULL ELSE {text} END"
        )
        nested[column.name] = "false" if column.nested else f"coalesce({kind} IN ('OBJECT', 'ARRAY'), false)"
    return values, present, nested


def read_jsonl(
    conn: duckdb.DuckDBPyConnection,
    file: Path,
    compiled: CompiledDataset,
    source: SourceSpec,
    required: set[str],
) -> FileBatch:
    values, present, nested = _jsonl_values(compiled, source)
    items = _select_items(compiled, present, nested.__getitem__)
    try:
        run(
            conn,
            f"CREATE OR REPLACE TEMP TABLE __dte_lines AS {_JSONL_LINES.format(file=literal(str(file)))}",
        )
        frame = conn.sql(
            f"SELECT {items}, line_no AS {LINE_COLUMN}, keys AS {_KEYS} FROM ({values}) ORDER BY line_no"
        ).pl()
        frame, duplicated = _split_duplicate_keys(frame)
        rejected = conn.execute(
            f"SELECT line_no, line, CASE WHEN problem = '' THEN {literal(DUPLICATE_KEYS)} ELSE problem END "
            "FROM __dte_lines WHERE problem <> '' OR list_contains(?, line_no) ORDER BY line_no",
            [duplicated],
        ).fetchall()
    except duckdb.Error as exc:
        raise _jsonl_read_error(file, exc) from exc
    finally:
        run(conn, "DROP TABLE IF EXISTS __dte_lines")
    keys = set(frame.get_column(_KEYS).explode().drop_nulls().unique().to_list())
    # a key no record carries is a missing column, as a missing header is in CSV: required ones
    # refuse the file, optional ones are schema drift (a file whose every line is unparseable has no
    # keys to judge; its lines are quarantined as unparseable)
    missing = _missing(compiled, keys, file, required) if frame.height else set()
    return FileBatch(
        frame=frame.drop(_KEYS).with_columns(pl.col(LINE_COLUMN).cast(pl.Int64)),
        rejects=pl.DataFrame(
            [(str(file), int(n), text, problem) for n, text, problem in rejected],
            schema=REJECT_SCHEMA,
            orient="row",
        ),
        extra_columns=keys - {c.source_name for c in compiled.columns},
        missing_columns=missing,
    )


def _split_duplicate_keys(frame: pl.DataFrame) -> tuple[pl.DataFrame, list[int]]:
    """Objects naming a key twice (DuckDB would keep one value silently): the records without
    them, and their line numbers. Counted in polars, several times faster than list_distinct."""
    keys = pl.col(_KEYS)
    duplicated = keys.list.n_unique() != keys.list.len()
    lines = frame.filter(duplicated).get_column(LINE_COLUMN).cast(pl.Int64).to_list()
    return (frame.filter(~duplicated) if lines else frame), lines


def _jsonl_read_error(file: Path, exc: duckdb.Error) -> LandingError:
    if textfiles.is_gzip(file):
        return LandingError(file, "gzip-compressed content; JSON Lines landing files are read uncompressed")
    return textfiles.encoding_error(file) or LandingError(
        file, f"cannot read JSON Lines: {_duckdb_message(exc, file)}"
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
        raise LandingError(file, f"cannot read Parquet: {_duckdb_message(exc, file)}") from exc
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
    project_dir: Path,
    files: list[Path],
    names: list[str],
    compiled: CompiledDataset,
    source: SourceSpec,
    required: set[str],
) -> LandingBatch:
    """All files of a partition, in order; ``names`` are the files as they appear in results."""
    reader = READERS[source.format]
    batches = list(_read_each(conn, project_dir, files, names, compiled, source, required, reader))
    return LandingBatch(
        frame=pl.concat([b.frame for b in batches], how="vertical_relaxed"),
        rejects=pl.concat([b.rejects for b in batches]),
        files=names,
        extra_columns=sorted(set().union(*(b.extra_columns for b in batches))),
        missing_columns=sorted(set().union(*(b.missing_columns for b in batches))),
    )


def _read_each(
    conn: duckdb.DuckDBPyConnection,
    project_dir: Path,
    files: list[Path],
    names: list[str],
    compiled: CompiledDataset,
    source: SourceSpec,
    required: set[str],
    reader: Callable[..., FileBatch],
) -> Iterator[FileBatch]:
    for file, name in zip(files, names, strict=True):
        batch = _read_one(conn, project_dir, file, compiled, source, required, reader)
        yield FileBatch(
            frame=_with_raw(_in_temporal_range(batch.frame, compiled), compiled).with_columns(
                pl.lit(name, dtype=pl.String).alias(FILE_COLUMN)
            ),
            rejects=batch.rejects.with_columns(pl.lit(name, dtype=pl.String).alias("file")),
            extra_columns=batch.extra_columns,
            missing_columns=batch.missing_columns,
        )


def _read_one(
    conn: duckdb.DuckDBPyConnection,
    project_dir: Path,
    file: Path,
    compiled: CompiledDataset,
    source: SourceSpec,
    required: set[str],
    reader: Callable[..., FileBatch],
) -> FileBatch:
    """One file, checked again right before it is read: it was listed a moment ago, but it may
    have been deleted or swapped for a symlink pointing outside the project since."""
    if landing_file(project_dir, file) is None:
        raise LandingError(file, "landing path became a directory after it was listed")
    try:
        if file.stat().st_size == 0:
            # a transfer that failed before its first byte, not a day without rows
            raise LandingError(file, "empty file (0 bytes)")
        return reader(conn, file, compiled, source, required)
    except FileNotFoundError:
        raise LandingError(file, "landing file vanished while the partition was being read") from None
    except LandingError:
        if not file.exists():
            raise LandingError(file, "landing file vanished while the partition was being read") from None
        raise

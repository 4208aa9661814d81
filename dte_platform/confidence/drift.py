"""Distribution drift: each column's distribution against a reference, as a population stability
index (PSI) with a significance test, so that small samples stay quiet.

For a daily-partitioned dataset the comparison is by **partition date**, read from the table
itself, never by the order runs happened in: the *current window* is the partition (pooled with
the days before it, up to a week, while it has fewer than ``MIN_ROWS`` rows) and the *reference*
is the ``REFERENCE_DAYS`` days before that window. Re-running a day, or loading days in any order,
judges a day the same way once the days before it are there. A table rebuilt whole is compared
with its previous build.

A column drifts when its PSI exceeds the contract's bound **and** a chi-square test of the two
samples' bucket counts says the difference is not noise (p < ``SIGNIFICANCE``). Numeric columns are
cut into the reference's deciles; categorical ones into the reference's most frequent values, plus
``__other__`` and ``__null__``. Sensitive columns, keys and high-cardinality text are left out:
their buckets would be values. Windows larger than ``SAMPLE_ROWS`` are sampled by row hash, which
keeps the result a function of the data.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import duckdb
from scipy.stats import chi2

from dte_platform.compiler.rules import ColumnType, CompiledDataset
from dte_platform.compiler.sql_exec import PARTITION_COLUMN
from dte_platform.sqlutil import ident

EPSILON = 1e-4
#: a window pools days until it has this many rows (a week at most) before it is judged
MIN_ROWS = 100
#: below this many rows even a pooled window is not judged (the reason says so)
MIN_JUDGED_ROWS = 20
POOL_DAYS = 7
REFERENCE_DAYS = 28
SIGNIFICANCE = 0.001
SAMPLE_ROWS = 200_000
TOP_CATEGORIES = 20
MAX_CATEGORIES = 50
_NUMERIC = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "DOUBLE", "DECIMAL")
NULL, OTHER = "__null__", "__other__"

Counts = dict[str, int]


def psi(current: Mapping[str, float], reference: Mapping[str, float]) -> float:
    total = 0.0
    for bucket in set(current) | set(reference):
        cur, ref = max(current.get(bucket, 0.0), EPSILON), max(reference.get(bucket, 0.0), EPSILON)
        total += (cur - ref) * math.log(cur / ref)
    return total


def shares(counts: Mapping[str, int]) -> dict[str, float]:
    total = sum(counts.values())
    return {b: n / total for b, n in counts.items()} if total else {}


def p_value(current: Mapping[str, int], reference: Mapping[str, int]) -> float:
    """Chi-square test of homogeneity of two samples' bucket counts (1.0 when there is nothing to
    compare). Each cell gets half a count, so a bucket the reference never saw cannot make a
    single row look significant."""
    buckets = sorted(b for b in set(current) | set(reference) if current.get(b, 0) + reference.get(b, 0))
    if len(buckets) < 2:
        return 1.0
    table = [[current.get(b, 0) + 0.5 for b in buckets], [reference.get(b, 0) + 0.5 for b in buckets]]
    totals = [sum(row) for row in table]
    grand = sum(totals)
    statistic = 0.0
    for j in range(len(buckets)):
        column = table[0][j] + table[1][j]
        for i in (0, 1):
            expected = totals[i] * column / grand
            statistic += (table[i][j] - expected) ** 2 / expected
    return float(chi2.sf(statistic, len(buckets) - 1))


def eligible(compiled: CompiledDataset, distinct: Mapping[str, int | None]) -> list[ColumnType]:
    keys = set(compiled.primary_key)
    out = []
    for column in compiled.columns:
        if column.sensitive or column.name in keys or column.nested:
            continue
        numeric = column.duckdb_type.startswith(_NUMERIC)
        if numeric or (
            column.duckdb_type in {"VARCHAR", "BOOLEAN"}
            and (distinct.get(column.name) or 0) <= MAX_CATEGORIES
        ):
            out.append(column)
    return out


@dataclass(frozen=True)
class Window:
    """Rows of the table between two partition dates (both inclusive); ``None``: the whole table."""

    first: dt.date | None = None
    last: dt.date | None = None

    def where(self) -> tuple[str, list[dt.date]]:
        if self.first is None or self.last is None:
            return "", []
        return f" WHERE {ident(PARTITION_COLUMN)} BETWEEN ? AND ?", [self.first, self.last]

    def label(self) -> str:
        if self.first is None or self.last is None:
            return "the whole table"
        return self.first.isoformat() if self.first == self.last else f"{self.first}..{self.last}"


@dataclass(frozen=True)
class Windows:
    """The current window of a partition and the reference before it (by partition date)."""

    current: Window
    reference: Window
    current_rows: int
    reference_rows: int


def windows(conn: duckdb.DuckDBPyConnection, table: str, partition: dt.date) -> Windows:
    """Pool ``partition`` with the days before it (a week at most) until it has ``MIN_ROWS`` rows;
    the reference is the ``REFERENCE_DAYS`` days before the pooled window."""
    part = ident(PARTITION_COLUMN)
    since = partition - dt.timedelta(days=POOL_DAYS + REFERENCE_DAYS)
    counts = dict(
        conn.execute(
            f"SELECT {part}, count(*) FROM {table} WHERE {part} BETWEEN ? AND ? GROUP BY 1",
            [since, partition],
        ).fetchall()
    )
    first, rows = partition, counts.get(partition, 0)
    for back in range(1, POOL_DAYS):
        if rows >= MIN_ROWS:
            break
        first = partition - dt.timedelta(days=back)
        rows += counts.get(first, 0)
    ref_last = first - dt.timedelta(days=1)
    ref_first = ref_last - dt.timedelta(days=REFERENCE_DAYS - 1)
    ref_rows = sum(n for day, n in counts.items() if ref_first <= day <= ref_last)
    return Windows(Window(first, partition), Window(ref_first, ref_last), rows, ref_rows)


def bucket_counts(
    conn: duckdb.DuckDBPyConnection,
    table: str,
    columns: Sequence[ColumnType],
    window: Window,
    rows: int,
    edges_from: Mapping[str, Counts] | None = None,
) -> dict[str, Counts]:
    """Per column, the window's rows counted per bucket. Buckets come from ``edges_from`` (the
    reference's) or, without it, from this window itself (the reference defines the buckets)."""
    where, params = window.where()
    sample = _sample(rows, where)
    out: dict[str, Counts] = {}
    for column in columns:
        given = (edges_from or {}).get(column.name)
        numeric = column.duckdb_type.startswith(_NUMERIC)
        if numeric:
            edges = _edges(given) if given else _deciles(conn, table, column.name, where + sample, params)
            bucket = _numeric_bucket(column.name, edges)
        else:
            categories = sorted(b[1:] for b in given if b.startswith("=")) if given else None
            if categories is None:
                categories = _top(conn, table, column.name, where + sample, params)
            bucket = _category_bucket(column.name, categories)
        found = conn.execute(
            f"SELECT {bucket} AS b, count(*) FROM {table} AS t{where}{sample} GROUP BY b", params
        ).fetchall()
        out[column.name] = {str(b): int(n) for b, n in found}
    return out


def _sample(rows: int, where: str) -> str:
    """A deterministic row-hash sample of about ``SAMPLE_ROWS`` rows when the window is larger."""
    if rows <= SAMPLE_ROWS:
        return ""
    keep = max(1, round(10_000 * SAMPLE_ROWS / rows))
    return f"{' AND' if where else ' WHERE'} hash(t) % 10000 < {keep}"


def _numeric_bucket(column: str, edges: list[float]) -> str:
    value = f"CAST({ident(column)} AS DOUBLE)"
    cases = [f"WHEN {value} < {edges[0]!r} THEN '(-inf,{edges[0]!r})'"] if edges else []
    cases += [f"WHEN {value} < {hi!r} THEN '[{lo!r},{hi!r})'" for lo, hi in itertools.pairwise(edges)]
    last = f"'[{edges[-1]!r},inf)'" if edges else "'all'"
    return f"CASE WHEN {value} IS NULL THEN '{NULL}' {' '.join(cases)} ELSE {last} END"


def _deciles(
    conn: duckdb.DuckDBPyConnection, table: str, column: str, where: str, params: list[dt.date]
) -> list[float]:
    quantiles = [round(q / 10, 1) for q in range(1, 10)]
    row = conn.execute(
        f"SELECT quantile_cont(CAST({ident(column)} AS DOUBLE), {quantiles}) FROM {table} AS t{where}", params
    ).fetchall()[0][0]
    return sorted({float(v) for v in row or [] if v is not None and math.isfinite(v)})


def _edges(reference: Mapping[str, int | float]) -> list[float]:
    edges: set[float] = set()
    for label in reference:
        if label.startswith(("[", "(")):
            low, high = label[1:-1].split(",")
            edges.update(float(v) for v in (low, high) if v not in {"-inf", "inf"})
    return sorted(edges)


def _top(
    conn: duckdb.DuckDBPyConnection, table: str, column: str, where: str, params: list[dt.date]
) -> list[str]:
    rows = conn.execute(
        f"SELECT CAST({ident(column)} AS VARCHAR) AS v, count(*) AS n FROM {table} AS t{where} "
        f"GROUP BY v HAVING v IS NOT NULL ORDER BY n DESC, v LIMIT {TOP_CATEGORIES}",
        params,
    ).fetchall()
    return sorted(r[0] for r in rows)


def _category_bucket(column: str, categories: Sequence[str]) -> str:
    value = f"CAST({ident(column)} AS VARCHAR)"
    listed = ", ".join("'" + c.replace("'", "''") + "'" for c in categories) or "NULL"
    return (
        f"CASE WHEN {value} IS NULL THEN '{NULL}' WHEN {value} IN ({listed}) THEN '=' || {value} "
        f"ELSE '{OTHER}' END"
    )


@dataclass(frozen=True)
class ColumnDrift:
    psi: float
    p_value: float
    drifted: bool


def judge(current: Counts, reference: Counts, threshold: float) -> ColumnDrift:
    value = psi(shares(current), shares(reference))
    p = p_value(current, reference)
    return ColumnDrift(round(value, 5), p, value > threshold and p < SIGNIFICANCE)

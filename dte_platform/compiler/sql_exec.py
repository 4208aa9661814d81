"""Dataset-rule executor: DuckDB SQL over a loaded table.

Library metrics of one partition are measured in a single aggregate scan; uniqueness across
partitions, ``type: sql`` rules and data freshness each need a query of their own. Values are bound
as parameters, identifiers quoted.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import duckdb
import sqlglot
import sqlglot.expressions as exp

from dte_platform.compiler.results import RuleResult
from dte_platform.compiler.rules import CompiledDataset, Rule
from dte_platform.compiler.sql_guard import UnsafeSql, check_select
from dte_platform.errors import DefinitionError
from dte_platform.sqlutil import ident
from dte_platform.warehouse import one

PARTITION_COLUMN = "_partition_date"
#: what ``${table}`` of a ``type: sql`` rule reads: the partition's rows, as a CTE
RULE_TABLE = "__dte_table"


@dataclass
class _Aggregate:
    """SELECT-list items and their bound parameters, in order."""

    items: list[str] = field(default_factory=list)
    params: list[Any] = field(default_factory=list)

    def add(self, sql: str, *params: Any) -> int:
        self.items.append(sql)
        self.params.extend(params)
        return len(self.items) - 1


def _placeholders(values: Sequence[Any]) -> str:
    return ", ".join("?" for _ in values)


def _metric_count(rule: Rule, agg: _Aggregate) -> int:
    metric, args = rule.params["metric"], rule.params["arguments"]
    col = ident(rule.columns[0]) if rule.columns else None
    if metric == "rowCount":
        return agg.add("count(*)")
    if metric == "nullValues":
        return agg.add(f"count(*) FILTER (WHERE {col} IS NULL)")
    if metric == "missingValues":
        missing = [v for v in args.get("missingValues", [None, ""]) if v is not None]
        if not missing:
            return agg.add(f"count(*) FILTER (WHERE {col} IS NULL)")
        return agg.add(
            f"count(*) FILTER (WHERE {col} IS NULL OR CAST({col} AS VARCHAR) IN ({_placeholders(missing)}))",
            *map(str, missing),
        )
    if metric == "invalidValues":
        return _invalid_count(col or "", args, agg)
    keys = ", ".join(ident(c) for c in rule.columns)
    if len(rule.columns) == 1:
        return agg.add(f"count({keys}) - count(DISTINCT {keys})")
    return agg.add(f"count(*) - count(DISTINCT row({keys}))")


def _invalid_count(col: str, args: dict[str, Any], agg: _Aggregate) -> int:
    conditions: list[str] = []
    params: list[Any] = []
    valid = [v for v in args.get("validValues", []) if v is not None]
    if "validValues" in args:
        if valid:
            conditions.append(f"CAST({col} AS VARCHAR) NOT IN ({_placeholders(valid)})")
            params.extend(_as_text(v) for v in valid)
        else:
            conditions.append("true")
    if "pattern" in args:
        conditions.append(f"NOT regexp_matches(CAST({col} AS VARCHAR), ?)")
        params.append(args["pattern"])
    where = " OR ".join(conditions)
    return agg.add(f"count(*) FILTER (WHERE {col} IS NOT NULL AND ({where}))", *params)


def _as_text(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def evaluate_metrics(
    conn: duckdb.DuckDBPyConnection, compiled: CompiledDataset, table: str, partition: dt.date | None
) -> list[RuleResult]:
    """Every ``metric`` rule of the dataset: those scoped to the partition in one aggregate scan of
    it, the table-wide ones in one scan of the whole table. Results keep the rules' order."""
    rules = [r for r in compiled.dataset_rules if r.kind == "metric"]
    out: dict[str, RuleResult] = {}
    for scoped in (True, False):
        group = [r for r in rules if r.per_partition == scoped]
        if group:
            results = _metric_scan(conn, group, table, partition if scoped else None)
            out.update(zip([r.id for r in group], results, strict=True))
    return [out[r.id] for r in rules]


def _metric_scan(
    conn: duckdb.DuckDBPyConnection, rules: list[Rule], table: str, partition: dt.date | None
) -> list[RuleResult]:
    agg = _Aggregate()
    total = agg.add("count(*)")
    slots = [_metric_count(rule, agg) for rule in rules]
    where, where_params = _partition_filter(partition)
    row = one(conn, f"SELECT {', '.join(agg.items)} FROM {table}{where}", [*agg.params, *where_params])
    rows = int(row[total])
    return [_metric_result(rule, int(row[slot]), rows) for rule, slot in zip(rules, slots, strict=True)]


def rule_partition(rule: Rule, partition: dt.date | None) -> dt.date | None:
    """The partition ``rule`` is judged on: ``partition`` when it is scoped to one, else None."""
    return partition if rule.per_partition else None


def _partition_filter(partition: dt.date | None) -> tuple[str, list[Any]]:
    if partition is None:
        return "", []
    return f" WHERE {ident(PARTITION_COLUMN)} = ?", [partition]


def _metric_result(rule: Rule, count: int, rows: int) -> RuleResult:
    percent = rule.params["unit"] == "percent"
    measured = (100.0 * count / rows if rows else 0.0) if percent else float(count)
    assert rule.threshold is not None
    details = {
        "metric": rule.params["metric"],
        "unit": rule.params["unit"],
        "count": count,
        "rows": rows,
        "threshold": rule.threshold.describe(),
    }
    failing = 0 if rule.params["metric"] == "rowCount" else count
    return RuleResult(rule, rule.threshold.holds(measured), measured, failing, details)


def evaluate_unique_across(
    conn: duckdb.DuckDBPyConnection, rule: Rule, table: str, partition: dt.date | None
) -> RuleResult:
    """Rows of this partition whose key also appears in another partition of the table."""
    keys = [ident(c) for c in rule.columns]
    match = " AND ".join(f"o.{k} = p.{k}" for k in keys)
    part = ident(PARTITION_COLUMN)
    if partition is None:
        sql = f"SELECT count(*) - count(DISTINCT row({', '.join(keys)})) FROM {table}"
        params: list[Any] = []
    else:
        # keys of this partition that occur in any other row, here or in another partition
        sql = (
            f"SELECT count(*) FROM {table} p WHERE p.{part} = ? AND EXISTS "
            f"(SELECT 1 FROM {table} o WHERE (o.{part} <> ? OR o.rowid <> p.rowid) AND {match})"
        )
        params = [partition, partition]
    count = int(one(conn, sql, params)[0])
    details: dict[str, Any] = {"duplicate_rows": count}
    if count and rule.params.get("show_keys"):
        details["duplicate_keys"] = _duplicate_keys(conn, rule, table, partition)
    return RuleResult(rule, count == 0, float(count), count, details)


def _duplicate_keys(
    conn: duckdb.DuckDBPyConnection, rule: Rule, table: str, partition: dt.date | None, shown: int = 5
) -> list[str]:
    """A few duplicated key values (of this partition, when there is one), as text."""
    keys = ", ".join(f"t.{ident(c)}" for c in rule.columns)
    match = " AND ".join(f"p.{ident(c)} = t.{ident(c)}" for c in rule.columns)
    part = ident(PARTITION_COLUMN)
    mine = f"WHERE EXISTS (SELECT 1 FROM {table} p WHERE p.{part} = ? AND {match})" if partition else ""
    rows = conn.execute(
        f"SELECT concat_ws('|', {keys}) FROM {table} t {mine} GROUP BY {keys} HAVING count(*) > 1 "
        f"ORDER BY 1 LIMIT {shown}",
        [partition] if partition else [],
    ).fetchall()
    return [str(r[0]) for r in rows]


def validate_sql_rule(rule: Rule, file: str = "") -> None:
    """A ``type: sql`` rule must be one read-only SELECT over ``${table}``; checked at load, before
    anything runs, by sqlglot and then by DuckDB's own parser (see :mod:`sql_guard`)."""
    field = f"{rule.source}.query"
    query = _substitute(rule, RULE_TABLE)
    try:
        statements = sqlglot.parse(query, read="duckdb")
    except sqlglot.errors.ParseError as exc:
        raise DefinitionError(file, field, f"SQL does not parse: {exc}") from exc
    except RecursionError as exc:
        raise DefinitionError(file, field, "SQL is nested too deeply") from exc
    if len(statements) != 1 or not isinstance(statements[0], exp.Query):
        raise DefinitionError(file, field, "must be exactly one SELECT statement")
    try:
        check_select(query, {("", RULE_TABLE)})
    except UnsafeSql as exc:
        message = exc.message.replace(RULE_TABLE, "${table}")
        raise DefinitionError(file, field, f"may only read ${{table}}: {message}") from exc
    # sqlglot's reading must agree: every table is ${table} or one of the query's own CTEs
    tree = statements[0]
    ctes = {cte.alias for cte in tree.find_all(exp.CTE)}
    tables = {t.sql("duckdb") for t in tree.find_all(exp.Table) if t.db or t.name not in ctes | {RULE_TABLE}}
    if tables:
        raise DefinitionError(file, field, f"may only read ${{table}}, found {sorted(tables)}")


def _substitute(rule: Rule, table: str) -> str:
    column = ident(rule.columns[0]) if rule.columns else ""
    return str(rule.params["query"]).replace("${table}", table).replace("${column}", column)


def evaluate_sql_rule(
    conn: duckdb.DuckDBPyConnection, rule: Rule, table: str, partition: dt.date | None
) -> RuleResult:
    """Run the rule's query over the partition, or the whole table when the rule is table-wide
    (exposed to it as ``${table}``)."""
    where, params = _partition_filter(rule_partition(rule, partition))
    scoped = f"(SELECT * FROM {table}{where})"
    # the line break ends a trailing `--` comment of the rule before the closing parenthesis
    query = f"WITH {RULE_TABLE} AS {scoped} SELECT * FROM ({_substitute(rule, RULE_TABLE)}\n)"
    try:
        rows = conn.execute(query, params).fetchall()
    except duckdb.Error as exc:
        return RuleResult(rule, False, None, 0, {"error": str(exc).splitlines()[0]})
    value = rows[0][0] if len(rows) == 1 and len(rows[0]) == 1 else None
    measured = float(value) if isinstance(value, int | float) else None
    assert rule.threshold is not None
    return RuleResult(
        rule,
        rule.threshold.holds(measured),
        measured,
        0,
        {"value": measured, "threshold": rule.threshold.describe()},
    )


def evaluate_freshness(
    conn: duckdb.DuckDBPyConnection, rule: Rule, table: str, now: dt.datetime
) -> RuleResult:
    """Age of the newest value of the SLA's element column over the whole table."""
    col = ident(rule.columns[0])
    newest = one(conn, f"SELECT max(CAST({col} AS TIMESTAMPTZ)) FROM {table}")[0]
    limit = rule.params["max_age_seconds"]
    if newest is None:
        return RuleResult(rule, False, None, 0, {"newest": None, "max_age_seconds": limit})
    lag = (now - newest).total_seconds()
    return RuleResult(
        rule,
        lag <= limit,
        lag,
        0,
        {"newest": newest.isoformat(), "lag_seconds": round(lag, 1), "max_age_seconds": limit},
    )


#: dataset rule kind -> evaluator for the kinds that need a query of their own
SINGLE_RULES: dict[str, Callable[[duckdb.DuckDBPyConnection, Rule, str, dt.date | None], RuleResult]] = {
    "unique_across": evaluate_unique_across,
    "sql": evaluate_sql_rule,
}


def count_orphans(
    conn: duckdb.DuckDBPyConnection,
    table: str,
    columns: Sequence[str],
    reference: str,
    reference_columns: Sequence[str],
) -> tuple[int, int]:
    """(rows whose non-null key has no match in ``reference``, rows with a non-null key)."""
    keys = ", ".join(f"{ident(rc)} AS k{i}" for i, rc in enumerate(reference_columns))
    match = " AND ".join(f"r.k{i} = t.{ident(c)}" for i, c in enumerate(columns))
    present = " AND ".join(f"t.{ident(c)} IS NOT NULL" for c in columns)
    row = one(
        conn,
        f"SELECT count(*) FILTER (WHERE r.k0 IS NULL), count(*) FROM {table} t "
        f"LEFT JOIN (SELECT DISTINCT {keys} FROM {reference}) r ON {match} WHERE {present}",
    )
    return int(row[0]), int(row[1])


def compare_totals(
    conn: duckdb.DuckDBPyConnection,
    table: str,
    column: str,
    reference: str,
    reference_column: str,
    where: str | None,
    same_days: bool = False,
) -> tuple[float, float]:
    """(sum of ``column`` in ``table``, sum of ``reference_column`` in the filtered ``reference``).

    ``same_days``: both tables are daily partitioned; compare only the days ``table`` holds, so
    that a daily asset built for some days (a backfill under way) is judged on those days."""
    condition = f" WHERE ({where}\n)" if where else ""  # a trailing `--` comment ends at the break
    if same_days:
        days = f"{ident(PARTITION_COLUMN)} IN (SELECT DISTINCT {ident(PARTITION_COLUMN)} FROM {table})"
        condition = f"{condition} AND {days}" if condition else f" WHERE {days}"
    row = one(
        conn,
        f"SELECT (SELECT coalesce(sum({ident(column)}), 0) FROM {table}), "
        f"(SELECT coalesce(sum({ident(reference_column)}), 0) FROM {reference}{condition})",
    )
    return float(row[0]), float(row[1])

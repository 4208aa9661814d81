"""Row-rule executor: the row rules of a compiled dataset as pandera schemas on polars frames.

The frame holds each contract column twice: the typed value under its name and the landing text
under :func:`raw_name`. Each rule becomes one named pandera check whose expression is True where
the row passes; pandera's lazy validation collects the failing row indices per rule.

Uniqueness runs second, over the rows that passed every ERROR rule, so that a bad first occurrence
cannot push a good duplicate into quarantine.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pandera.polars as pa
import polars as pl
from pandera.api.polars.types import PolarsData
from pandera.config import ValidationDepth, config_context

from dte_platform.compiler.patterns import for_polars
from dte_platform.compiler.results import RuleResult
from dte_platform.compiler.rules import ColumnType, CompiledDataset, Rule, Severity

ROW_INDEX = "__row"
_SECOND_PASS = frozenset({"unique"})


def raw_name(column: str) -> str:
    return f"__raw__{column}"


def _required(rule: Rule, types: dict[str, ColumnType]) -> pl.Expr:
    # judged on the landing text: a value that is present but does not parse is a type failure
    return pl.col(raw_name(rule.columns[0])).is_not_null()


def _type(rule: Rule, types: dict[str, ColumnType]) -> pl.Expr:
    column = rule.columns[0]
    return pl.col(raw_name(column)).is_null() | pl.col(column).is_not_null()


def _literal(value: object, duckdb_type: str) -> pl.Expr:
    if duckdb_type == "DATE":
        return pl.lit(str(value)).str.to_date()
    if duckdb_type == "TIMESTAMPTZ":
        return pl.lit(str(value)).str.to_datetime(time_zone="UTC", time_unit="us")
    return pl.lit(value)


_COMPARE: dict[str, Callable[[pl.Expr, pl.Expr], pl.Expr]] = {
    ">=": lambda a, b: a >= b,
    ">": lambda a, b: a > b,
    "<=": lambda a, b: a <= b,
    "<": lambda a, b: a < b,
}


def _bound(rule: Rule, types: dict[str, ColumnType]) -> pl.Expr:
    column = pl.col(rule.columns[0])
    bound = _literal(rule.params["value"], rule.params["duckdb_type"])
    return column.is_null() | _COMPARE[rule.params["op"]](column, bound)


def _pattern(rule: Rule, types: dict[str, ColumnType]) -> pl.Expr:
    column = pl.col(rule.columns[0]).cast(pl.String)
    return column.is_null() | column.str.contains(for_polars(rule.params["pattern"]))


def _length(rule: Rule, types: dict[str, ColumnType]) -> pl.Expr:
    column = pl.col(rule.columns[0]).cast(pl.String)
    return column.is_null() | _COMPARE[rule.params["op"]](
        column.str.len_chars(), pl.lit(rule.params["value"])
    )


def _range(rule: Rule, types: dict[str, ColumnType]) -> pl.Expr:
    column = pl.col(rule.columns[0])
    return column.is_null() | column.is_between(rule.params["low"], rule.params["high"])


def _multiple(rule: Rule, types: dict[str, ColumnType]) -> pl.Expr:
    column = pl.col(rule.columns[0]).cast(pl.Float64)
    ratio = column / float(rule.params["value"])
    return column.is_null() | ((ratio - ratio.round()).abs() < 1e-9)


def _enum(rule: Rule, types: dict[str, ColumnType]) -> pl.Expr:
    """Numbers compare as numbers (``7`` allows ``7.00``), everything else as the value's text."""
    column, values = pl.col(rule.columns[0]), rule.params["values"]
    if types[rule.columns[0]].parser in {"integer", "float", "decimal"}:
        numbers = [float(v) for v in values if isinstance(v, int | float) and not isinstance(v, bool)]
        return column.is_null() | column.cast(pl.Float64).is_in(numbers)
    texts = [str(v).lower() if isinstance(v, bool) else str(v) for v in values if v is not None]
    return column.is_null() | column.cast(pl.String).is_in(texts)


def _unique(rule: Rule, types: dict[str, ColumnType]) -> pl.Expr:
    any_null = pl.any_horizontal([pl.col(c).is_null() for c in rule.columns])
    return any_null | pl.struct(list(rule.columns)).is_first_distinct()


#: rule kind -> polars expression that is True where a row passes. Extend here for new row rules.
ROW_RULES: dict[str, Callable[[Rule, dict[str, ColumnType]], pl.Expr]] = {
    "required": _required,
    "type": _type,
    "bound": _bound,
    "pattern": _pattern,
    "length": _length,
    "range": _range,
    "multiple": _multiple,
    "enum": _enum,
    "unique": _unique,
}


@dataclass(frozen=True)
class RowSchemas:
    first: pa.DataFrameSchema
    second: pa.DataFrameSchema
    rules: dict[str, Rule]


def _check(rule: Rule, expr: pl.Expr) -> pa.Check:
    def dte_row_rule(data: PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(expr.alias(rule.id))

    # the name is what pandera reports per failing row; no `error=`, it would replace the name
    return pa.Check(dte_row_rule, name=rule.id, ignore_na=False)


def build_row_schemas(compiled: CompiledDataset, file: str = "") -> RowSchemas:
    """Both pandera schemas of a dataset; an expression polars cannot build fails as a definition."""
    types = {c.name: c for c in compiled.columns}
    passes: list[tuple[dict[str, list[pa.Check]], list[pa.Check]]] = [({}, []), ({}, [])]
    for rule in compiled.row_rules:
        columns, frame_checks = passes[rule.kind in _SECOND_PASS]
        check = _check(rule, ROW_RULES[rule.kind](rule, types))
        # single-column rules attach to their column: pandera then reports the value, not the whole row
        if len(rule.columns) == 1:
            columns.setdefault(rule.columns[0], []).append(check)
        else:
            frame_checks.append(check)
    first, second = (
        _schema(f"{compiled.name}_{label}", *p) for label, p in zip(("rows", "keys"), passes, strict=True)
    )
    return RowSchemas(first=first, second=second, rules={r.id: r for r in compiled.row_rules})


def _schema(name: str, columns: dict[str, list[pa.Check]], checks: list[pa.Check]) -> pa.DataFrameSchema:
    return pa.DataFrameSchema(
        {column: pa.Column(checks=c, nullable=True) for column, c in columns.items()},
        checks=checks,
        name=name,
    )


def _failures(schema: pa.DataFrameSchema, frame: pl.DataFrame, rules: dict[str, Rule]) -> pl.DataFrame:
    """``(__row, rule_id)`` for every failing row of every rule in ``schema``."""
    empty = pl.DataFrame(schema={ROW_INDEX: pl.UInt32, "rule_id": pl.String})
    if not (schema.checks or schema.columns) or frame.height == 0:
        return empty
    try:
        with config_context(validation_depth=ValidationDepth.SCHEMA_AND_DATA):
            schema.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases
        unexpected = cases.filter(~pl.col("check").is_in(list(rules)) | pl.col("index").is_null())
        if unexpected.height:
            # failure_case holds row values: never put it in a message (sensitive columns)
            checks = sorted(set(unexpected.get_column("check").cast(pl.String).to_list()))[:3]
            raise RuntimeError(f"row rule engine failed in check(s) {checks}") from None
        rows = frame.get_column(ROW_INDEX).gather(cases.get_column("index"))
        return pl.DataFrame({ROW_INDEX: rows, "rule_id": cases.get_column("check")})
    return empty


def evaluate_rows(schemas: RowSchemas, frame: pl.DataFrame) -> pl.DataFrame:
    """Failing ``(__row, rule_id, severity)`` triples; ``frame`` must carry a ``__row`` index."""
    first = _failures(schemas.first, frame, schemas.rules)
    blocked = _with_severity(first, schemas.rules).filter(pl.col("severity") == Severity.ERROR.value)
    survivors = frame.filter(~pl.col(ROW_INDEX).is_in(blocked.get_column(ROW_INDEX).implode()))
    second = _failures(schemas.second, survivors, schemas.rules)
    return _with_severity(pl.concat([first, second]), schemas.rules)


def _with_severity(failures: pl.DataFrame, rules: dict[str, Rule]) -> pl.DataFrame:
    severity = {rid: r.severity.value for rid, r in rules.items()}
    return failures.with_columns(
        pl.col("rule_id")
        .replace_strict(severity, default=Severity.ERROR.value, return_dtype=pl.String)
        .alias("severity")
    )


def built_row_results(schemas: RowSchemas, frame: pl.DataFrame) -> tuple[list[RuleResult], float | None]:
    """Row rules on data the platform built (golden, marts): failing rows are counted, not
    quarantined; each value stands for its own landing text. Also returns the validity: the share
    of rows (in %) that pass every row rule."""
    indexed = frame.with_columns(pl.col(c).alias(raw_name(c)) for c in frame.columns).with_row_index(
        ROW_INDEX
    )
    failures = evaluate_rows(schemas, indexed)
    counts = {str(k): int(v) for k, v in failures.group_by("rule_id").len().iter_rows()}
    failing = failures.get_column(ROW_INDEX).n_unique()
    validity = 100.0 * (frame.height - failing) / frame.height if frame.height else None
    results = [
        RuleResult(
            rule,
            counts.get(rid, 0) == 0,
            float(counts.get(rid, 0)),
            counts.get(rid, 0),
            {"failing_rows": counts.get(rid, 0), "rows": frame.height},
        )
        for rid, rule in schemas.rules.items()
    ]
    return results, validity

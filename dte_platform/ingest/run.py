"""Ingest one partition of a source: read, validate rows, split, write, measure.

Every landing row ends in exactly one place (table or quarantine), and the conservation rule reads
both back from the warehouse to prove it. The report carries a :class:`RuleResult` for every rule
of the compiled dataset.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from dte_platform.compiler.pandera_exec import (
    ROW_INDEX,
    RowSchemas,
    build_row_schemas,
    evaluate_rows,
    raw_name,
)
from dte_platform.compiler.results import REDACTED, SAMPLE_SIZE, RuleResult
from dte_platform.compiler.rules import CompiledDataset, Rule, Severity
from dte_platform.compiler.sql_exec import (
    SINGLE_RULES,
    evaluate_freshness,
    evaluate_metrics,
    validate_sql_rule,
)
from dte_platform.contracts.model import SourceSpec
from dte_platform.errors import LandingError
from dte_platform.ingest import writer
from dte_platform.ingest.landing import partition_files, relative_name
from dte_platform.ingest.readers import FILE_COLUMN, LINE_COLUMN, LandingBatch, read_partition

UNPARSEABLE = "unparseable"


@dataclass(frozen=True)
class IngestReport:
    partition: str
    table: str
    files: list[str]
    rows_in: int
    rows_loaded: int
    rows_quarantined: int
    rows_unparseable: int
    results: list[RuleResult]
    extra_columns: list[str] = field(default_factory=list)
    missing_columns: list[str] = field(default_factory=list)

    @property
    def failed(self) -> list[RuleResult]:
        return [r for r in self.results if not r.passed]


@dataclass(frozen=True)
class SourceRun:
    """What ingesting a source needs besides the connection: built once per asset definition."""

    project_dir: Path
    compiled: CompiledDataset
    source: SourceSpec
    schemas: RowSchemas
    max_quarantine_percent: float


def ingest_partition(
    conn: duckdb.DuckDBPyConnection, job: SourceRun, day: str, now: dt.datetime
) -> IngestReport:
    files = partition_files(job.project_dir, job.source, day)
    if not files:
        raise LandingError(job.project_dir / job.source.path, f"no landing file for partition {day}")
    names = [relative_name(job.project_dir, f) for f in files]
    required = {r.columns[0] for r in job.compiled.row_rules if r.kind == "required"}
    batch = read_partition(conn, job.project_dir, files, names, job.compiled, job.source, required)
    frame = batch.frame.with_row_index(ROW_INDEX)
    failures = evaluate_rows(job.schemas, frame)
    blocked = failures.filter(pl.col("severity") == Severity.ERROR.value)
    valid = frame.filter(~pl.col(ROW_INDEX).is_in(blocked.get_column(ROW_INDEX).implode()))
    quarantined = _quarantine_frame(job.compiled, frame, blocked, batch, day)
    partition = dt.date.fromisoformat(day)
    writer.ensure_tables(conn, job.compiled)
    writer.replace_partition(
        conn, job.compiled, partition, _data_frame(job.compiled, valid, day), quarantined
    )
    loaded, in_quarantine = writer.partition_counts(conn, job.compiled, partition)
    results = [
        *_row_results(job, frame, failures, batch.rows_in),
        *_dataset_results(conn, job.compiled, partition, now),
        _conservation(job.compiled, batch.rows_in, loaded, in_quarantine),
        _unparseable(job, batch),
        _columns(job.compiled, batch),
    ]
    return IngestReport(
        partition=day,
        table=writer.data_table(job.compiled),
        files=names,
        rows_in=batch.rows_in,
        rows_loaded=loaded,
        rows_quarantined=in_quarantine,
        rows_unparseable=batch.rejects.height,
        results=[r for r in results if r is not None],
        extra_columns=batch.extra_columns,
        missing_columns=batch.missing_columns,
    )


def _data_frame(compiled: CompiledDataset, valid: pl.DataFrame, day: str) -> pl.DataFrame:
    return valid.select(
        *[pl.col(c.name) for c in compiled.columns],
        pl.lit(dt.date.fromisoformat(day)).alias(writer.PARTITION_COLUMN),
        pl.col(FILE_COLUMN).alias(writer.SOURCE_FILE),
        pl.col(LINE_COLUMN).alias(writer.SOURCE_LINE),
    )


def _quarantine_frame(
    compiled: CompiledDataset, frame: pl.DataFrame, blocked: pl.DataFrame, batch: LandingBatch, day: str
) -> pl.DataFrame:
    reasons = {r.id: r.description for r in compiled.rules}
    per_row = (
        blocked.group_by(ROW_INDEX)
        .agg(pl.col("rule_id").unique().sort().alias(writer.RULE_IDS))
        .with_columns(
            pl.col(writer.RULE_IDS)
            .list.eval(pl.element().replace_strict(reasons, default=pl.element()))
            .list.join("; ")
            .alias(writer.REASON)
        )
    )
    bad_rows = (
        frame.join(per_row, on=ROW_INDEX, how="inner")
        .sort(ROW_INDEX)
        .select(
            pl.col(FILE_COLUMN).alias(writer.SOURCE_FILE),
            pl.col(LINE_COLUMN).alias(writer.SOURCE_LINE),
            writer.RULE_IDS,
            writer.REASON,
            pl.lit(None, dtype=pl.String).alias(writer.RAW_RECORD),
            *[pl.col(raw_name(c.name)).alias(c.name) for c in compiled.columns],
        )
    )
    unparseable = batch.rejects.select(
        pl.col("file").alias(writer.SOURCE_FILE),
        pl.col("line").alias(writer.SOURCE_LINE),
        pl.lit([UNPARSEABLE], dtype=pl.List(pl.String)).alias(writer.RULE_IDS),
        pl.col("error").alias(writer.REASON),
        pl.col("raw").alias(writer.RAW_RECORD),
        *[pl.lit(None, dtype=pl.String).alias(c.name) for c in compiled.columns],
    )
    return pl.concat([bad_rows, unparseable]).with_columns(
        pl.lit(dt.date.fromisoformat(day)).alias(writer.PARTITION_COLUMN)
    )


def _row_results(
    job: SourceRun, frame: pl.DataFrame, failures: pl.DataFrame, rows_in: int
) -> list[RuleResult]:
    counts = dict(failures.group_by("rule_id").len().iter_rows())
    return [
        _row_result(job, rule, frame, failures, int(counts.get(rule.id, 0)), rows_in)
        for rule in job.compiled.row_rules
    ]


def _row_result(
    job: SourceRun, rule: Rule, frame: pl.DataFrame, failures: pl.DataFrame, failing: int, rows_in: int
) -> RuleResult:
    percent = 100.0 * failing / rows_in if rows_in else 0.0
    if rule.severity is Severity.ERROR:
        passed, tolerance = percent <= job.max_quarantine_percent, job.max_quarantine_percent
    else:
        passed, tolerance = failing == 0, 0.0
    rows = failures.filter(pl.col("rule_id") == rule.id).get_column(ROW_INDEX).head(SAMPLE_SIZE)
    details = {
        "failing_rows": failing,
        "failing_percent": round(percent, 4),
        "tolerance_percent": tolerance,
        "action": "quarantined" if rule.blocking else "loaded, flagged",
    }
    return RuleResult(
        rule,
        passed,
        float(failing),
        failing,
        details,
        samples=_samples(job.compiled, frame, rows, rule.columns),
    )


def _samples(
    compiled: CompiledDataset, frame: pl.DataFrame, rows: pl.Series, focus: Iterable[str]
) -> tuple[dict[str, Any], ...]:
    if rows.is_empty():
        return ()
    picked = frame.join(pl.DataFrame({ROW_INDEX: rows}), on=ROW_INDEX, how="semi")
    focus_first = list(dict.fromkeys([*focus, *(c.name for c in compiled.columns)]))
    sensitive = compiled.sensitive_columns
    out = []
    for record in picked.iter_rows(named=True):
        sample: dict[str, Any] = {"file": record[FILE_COLUMN], "line": record[LINE_COLUMN]}
        for name in focus_first:
            sample[name] = REDACTED if name in sensitive else record[raw_name(name)]
        out.append(sample)
    return tuple(out)


def _dataset_results(
    conn: duckdb.DuckDBPyConnection, compiled: CompiledDataset, partition: dt.date, now: dt.datetime
) -> list[RuleResult]:
    table = writer.data_table(compiled)
    results = evaluate_metrics(conn, compiled, table, partition)
    for rule in compiled.dataset_rules:
        if rule.kind in SINGLE_RULES:
            results.append(SINGLE_RULES[rule.kind](conn, rule, table, partition))
        elif rule.kind == "freshness":
            results.append(_without_sensitive_newest(evaluate_freshness(conn, rule, table, now), compiled))
    return results


def _without_sensitive_newest(result: RuleResult, compiled: CompiledDataset) -> RuleResult:
    """The lag is fine to show; the newest value itself is not when its column is sensitive."""
    if not set(result.rule.columns) & compiled.sensitive_columns:
        return result
    details = {**result.details, "newest": REDACTED} if "newest" in result.details else result.details
    return replace(result, details=details)


def _platform_rule(compiled: CompiledDataset, kind: str) -> Rule | None:
    return next((r for r in compiled.dataset_rules if r.kind == kind), None)


def _conservation(
    compiled: CompiledDataset, rows_in: int, loaded: int, quarantined: int
) -> RuleResult | None:
    rule = _platform_rule(compiled, "conservation")
    if rule is None:
        return None
    details = {"rows_in": rows_in, "rows_loaded": loaded, "rows_quarantined": quarantined}
    lost = rows_in - loaded - quarantined
    return RuleResult(rule, lost == 0, float(lost), abs(lost), details)


def _unparseable(job: SourceRun, batch: LandingBatch) -> RuleResult | None:
    """Lines that could not be parsed at all count against the same tolerance as a row rule: a day
    of unreadable lines loads nothing and must not pass."""
    rule = _platform_rule(job.compiled, "unparseable")
    if rule is None:
        return None
    count = batch.rejects.height
    percent = 100.0 * count / batch.rows_in if batch.rows_in else 0.0
    details = {
        "failing_rows": count,
        "failing_percent": round(percent, 4),
        "tolerance_percent": job.max_quarantine_percent,
        "action": "quarantined",
    }
    return RuleResult(rule, percent <= job.max_quarantine_percent, float(count), count, details)


def _columns(compiled: CompiledDataset, batch: LandingBatch) -> RuleResult | None:
    rule = _platform_rule(compiled, "columns")
    if rule is None:
        return None
    details = {"extra_columns": batch.extra_columns, "missing_optional_columns": batch.missing_columns}
    drift = len(batch.extra_columns) + len(batch.missing_columns)
    return RuleResult(rule, drift == 0, float(drift), 0, details)


def prepare_source(
    project_dir: Path,
    compiled: CompiledDataset,
    source: SourceSpec,
    max_quarantine_percent: float,
    file: str = "",
) -> SourceRun:
    """Everything a source needs to run, validated now so that a bad rule fails at load time."""
    for rule in compiled.dataset_rules:
        if rule.kind == "sql":
            validate_sql_rule(rule, file)
    return SourceRun(project_dir, compiled, source, build_row_schemas(compiled, file), max_quarantine_percent)

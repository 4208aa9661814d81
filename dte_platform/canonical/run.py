"""Build a golden dataset: read its inputs, match, give stable ids, survive attributes, write.

Outputs, replaced together in one transaction (readers see the previous version until commit):

- ``golden.<name>``: one row per entity, survived attributes, ``_source_records`` and
  ``_provenance`` (attribute -> ``system:key`` of the record it came from);
- ``golden.<name>__xref``: source system and key -> golden id, with the match probability;
- ``golden.<name>__matches``: pairs at or above the threshold with their comparison levels;
- ``golden.<name>__identity`` and ``golden.<name>__ids``: the identity map across runs;
- ``golden.<name>__events``: new ids, merges and splits, appended per run.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pyarrow as pa

from dte_platform.canonical import identity
from dte_platform.canonical.matching import MatchResult, match
from dte_platform.canonical.prepare import match_sql, records_sql
from dte_platform.canonical.survivorship import PROVENANCE, survive
from dte_platform.compiler.pandera_exec import RowSchemas, built_row_results
from dte_platform.compiler.results import RuleResult
from dte_platform.compiler.rules import CompiledDataset, Rule
from dte_platform.compiler.sql_exec import SINGLE_RULES, evaluate_metrics
from dte_platform.contracts.model import CanonicalSpec
from dte_platform.sqlutil import ident, table_ref
from dte_platform.warehouse import ensure_schema, require_tables, run

SCHEMA = "golden"


@dataclass(frozen=True)
class GoldenJob:
    compiled: CompiledDataset
    spec: CanonicalSpec
    tables: Mapping[str, str]  # input asset key -> table reference
    schemas: RowSchemas
    artifacts_dir: Path

    @property
    def name(self) -> str:
        return self.compiled.slug

    def table(self, suffix: str = "") -> str:
        return table_ref(SCHEMA, self.name + suffix)


@dataclass(frozen=True)
class GoldenReport:
    table: str
    records: int
    entities: int
    candidate_pairs: int
    matched_pairs: int
    created_ids: int
    merges: int
    splits: int
    model_sha256: str
    model_path: str
    skipped_training: list[str]
    cluster_sizes: dict[int, int]
    results: list[RuleResult] = field(default_factory=list)
    validity_pct: float | None = None

    @property
    def merge_rate(self) -> float:
        return 1 - self.entities / self.records if self.records else 0.0


def build_golden(conn: duckdb.DuckDBPyConnection, job: GoldenJob, now: dt.datetime) -> GoldenReport:
    golden_types = {c.name: c for c in job.compiled.columns}
    require_tables(
        conn, {t.replace('"', ""): i.asset for i in job.spec.inputs for t in [job.tables[i.asset]]}
    )
    records = conn.sql(records_sql(job.spec, job.tables, golden_types)).pl()
    conn.register("__dte_records", records.to_arrow())
    try:
        match_records = conn.sql(match_sql(job.spec, "__dte_records", golden_types)).to_arrow_table()
    finally:
        conn.unregister("__dte_records")
    matched = match(match_records, job.spec, job.name)
    previous, ages = _previous_identity(conn, job)
    assignment = identity.assign(
        matched.clusters.select("source_system", "source_key", "cluster_id"), previous, ages
    )
    keyed = records.join(assignment.records, on=["source_system", "source_key"], how="left")
    golden = survive(keyed, job.spec, list(job.spec.fields))
    golden = _golden_frame(golden, job)
    xref = _xref(assignment.records, matched)
    _write(conn, job, golden, xref, matched, assignment, previous, now)
    # after the tables committed: a build killed earlier leaves the previous model with its tables
    model_path, model_sha = _save_model(job, matched.model)
    sizes = dict(xref.group_by("golden_id").len().get_column("len").value_counts().sort("len").iter_rows())
    report = GoldenReport(
        table=job.table(),
        records=records.height,
        entities=golden.height,
        candidate_pairs=matched.candidate_pairs,
        matched_pairs=matched.pairs.height,
        created_ids=len(assignment.created),
        merges=_events(assignment, "merge"),
        splits=_events(assignment, "split"),
        model_sha256=model_sha,
        model_path=str(model_path),
        skipped_training=matched.skipped_training,
        cluster_sizes={int(k): int(v) for k, v in sizes.items()},
    )
    results, validity = _results(conn, job, golden, records, match_records, report)
    return GoldenReport(**{**report.__dict__, "results": results, "validity_pct": validity})


def _events(assignment: identity.Assignment, kind: str) -> int:
    return assignment.events.filter(pl.col("event") == kind).height


def _previous_identity(
    conn: duckdb.DuckDBPyConnection, job: GoldenJob
) -> tuple[pl.DataFrame, dict[str, Any]]:
    empty = pl.DataFrame(schema={"source_system": pl.String, "source_key": pl.String, "golden_id": pl.String})
    if not _exists(conn, job.name + "__identity"):
        return empty, {}
    previous = conn.sql(f"SELECT source_system, source_key, golden_id FROM {job.table('__identity')}").pl()
    ages = {
        g: (created, g)
        for g, created in conn.execute(f"SELECT golden_id, created_at FROM {job.table('__ids')}").fetchall()
    }
    return previous, ages


def _exists(conn: duckdb.DuckDBPyConnection, table: str) -> bool:
    rows = conn.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?",
        [SCHEMA, table],
    ).fetchall()
    return bool(rows[0][0])


def _golden_frame(golden: pl.DataFrame, job: GoldenJob) -> pl.DataFrame:
    """Contract column order; the id column is the contract's primary key (``golden_id`` default)."""
    key = (job.compiled.primary_key or ("golden_id",))[0]
    golden = golden.rename({"golden_id": key}) if key != "golden_id" else golden
    columns = [c.name for c in job.compiled.columns]
    missing = [pl.lit(None).alias(c) for c in columns if c not in golden.columns]
    return golden.with_columns(missing).select(*columns, "_source_records", PROVENANCE).sort(key)


def _xref(records: pl.DataFrame, matched: MatchResult) -> pl.DataFrame:
    probability = matched.clusters.select("source_system", "source_key", "match_probability")
    return records.join(probability, on=["source_system", "source_key"], how="left").sort(
        "source_system", "source_key"
    )


def _save_model(job: GoldenJob, model: dict[str, Any]) -> tuple[Path, str]:
    text = json.dumps(model, indent=2, sort_keys=True, default=str)
    folder = job.artifacts_dir / "golden" / job.name
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "model.json"
    partial = path.with_name(path.name + ".partial")
    partial.write_text(text + "\n", encoding="utf-8")
    partial.replace(path)  # atomic: readers see the old model or the new one, never half of one
    return path, hashlib.sha256(text.encode("utf-8")).hexdigest()


def _write(
    conn: duckdb.DuckDBPyConnection,
    job: GoldenJob,
    golden: pl.DataFrame,
    xref: pl.DataFrame,
    matched: MatchResult,
    assignment: identity.Assignment,
    previous: pl.DataFrame,
    now: dt.datetime,
) -> None:
    ensure_schema(conn, SCHEMA)
    identity_map = _identity_map(assignment.records, previous)
    new_ids = pl.DataFrame(
        {"golden_id": assignment.created, "created_at": [now] * len(assignment.created)},
        schema={"golden_id": pl.String, "created_at": pl.Datetime("us", "UTC")},
    )
    events = assignment.events.with_columns(pl.lit(now).alias("at"))
    frames = {
        "golden": golden,
        "xref": xref,
        "matches": matched.pairs,
        "identity": identity_map,
        "ids": new_ids,
        "events": events,
    }
    run(conn, "BEGIN TRANSACTION")
    try:
        for name, frame in frames.items():
            conn.register(f"__dte_{name}", frame.to_arrow())
        _replace(conn, job.table(), "__dte_golden")
        for suffix in ("xref", "matches", "identity"):
            _replace(conn, job.table(f"__{suffix}"), f"__dte_{suffix}")
        _append(conn, job.table("__ids"), "__dte_ids")
        _append(conn, job.table("__events"), "__dte_events")
        run(conn, "COMMIT")
    except BaseException:
        run(conn, "ROLLBACK")
        raise
    finally:
        for name in frames:
            conn.unregister(f"__dte_{name}")


def _identity_map(current: pl.DataFrame, previous: pl.DataFrame) -> pl.DataFrame:
    """Current assignments, plus records seen before and absent now (they keep their id if they return)."""
    gone = previous.join(current, on=["source_system", "source_key"], how="anti")
    return pl.concat([current, gone]).sort("source_system", "source_key")


def _replace(conn: duckdb.DuckDBPyConnection, table: str, view: str) -> None:
    run(conn, f"CREATE OR REPLACE TABLE {table} AS SELECT * FROM {ident(view)}")


def _append(conn: duckdb.DuckDBPyConnection, table: str, view: str) -> None:
    run(conn, f"CREATE TABLE IF NOT EXISTS {table} AS SELECT * FROM {ident(view)} LIMIT 0")
    run(conn, f"INSERT INTO {table} SELECT * FROM {ident(view)}")


# --- checks ----------------------------------------------------------------------------------


def _results(
    conn: duckdb.DuckDBPyConnection,
    job: GoldenJob,
    golden: pl.DataFrame,
    records: pl.DataFrame,
    match_records: pa.Table,
    report: GoldenReport,
) -> tuple[list[RuleResult], float | None]:
    results, validity = _contract_rows(job, golden)
    results.extend(evaluate_metrics(conn, job.compiled, job.table(), None))
    for rule in job.compiled.dataset_rules:
        if rule.kind in SINGLE_RULES:
            results.append(SINGLE_RULES[rule.kind](conn, rule, job.table(), None))
        elif rule.kind in _GOLDEN_CHECKS:
            results.append(_GOLDEN_CHECKS[rule.kind](conn, job, rule, records, match_records, report))
    return results, validity


def _contract_rows(job: GoldenJob, golden: pl.DataFrame) -> tuple[list[RuleResult], float | None]:
    """Row rules of the golden contract, counted on the golden rows (nothing to quarantine here)."""
    return built_row_results(job.schemas, golden.select(c.name for c in job.compiled.columns))


def _xref_conservation(
    conn: duckdb.DuckDBPyConnection,
    job: GoldenJob,
    rule: Rule,
    records: pl.DataFrame,
    match_records: pa.Table,
    report: GoldenReport,
) -> RuleResult:
    xref = job.table("__xref")
    row = conn.execute(
        "SELECT count(*), count(DISTINCT (source_system, source_key)), "
        "count(*) FILTER (WHERE golden_id IS NULL), "
        f"(SELECT count(*) FROM {xref} x ANTI JOIN {job.table()} g ON g.{ident(_key(job))} = x.golden_id) "
        f"FROM {xref}"
    ).fetchall()[0]
    rows, distinct, unassigned, dangling = (int(v) for v in row)
    missing = report.records - distinct
    passed = rows == distinct == report.records and unassigned == 0 and dangling == 0
    details = {
        "source_records": report.records,
        "xref_rows": rows,
        "missing": missing,
        "duplicated": rows - distinct,
        "without_golden_id": unassigned,
        "pointing_nowhere": dangling,
    }
    return RuleResult(rule, passed, float(abs(missing) + rows - distinct), abs(missing), details)


def _key(job: GoldenJob) -> str:
    return (job.compiled.primary_key or ("golden_id",))[0]


def _cluster_size(
    conn: duckdb.DuckDBPyConnection,
    job: GoldenJob,
    rule: Rule,
    records: pl.DataFrame,
    match_records: pa.Table,
    report: GoldenReport,
) -> RuleResult:
    largest = max(report.cluster_sizes) if report.cluster_sizes else 0
    oversized = sum(n for size, n in report.cluster_sizes.items() if size > rule.params["max"])
    details = {
        "largest": largest,
        "max_allowed": rule.params["max"],
        "oversized_entities": oversized,
        "size_distribution": {str(k): v for k, v in report.cluster_sizes.items()},
    }
    return RuleResult(rule, oversized == 0, float(largest), oversized, details)


def _duplicate_rate(
    conn: duckdb.DuckDBPyConnection,
    job: GoldenJob,
    rule: Rule,
    records: pl.DataFrame,
    match_records: pa.Table,
    report: GoldenReport,
) -> RuleResult:
    """Share of rows sharing an exact email or phone with another row: in sources vs golden."""
    keys: list[str] = [f for f in ("email", "phone") if f in job.spec.fields]
    frame = pl.from_arrow(match_records)
    assert isinstance(frame, pl.DataFrame)
    before = _shared_key_rate(frame, keys)
    after = _shared_key_rate(_golden_match_keys(conn, job, frame, keys), keys)
    details = {"before_percent": round(100 * before, 3), "after_percent": round(100 * after, 3), "keys": keys}
    return RuleResult(rule, after <= before, round(100 * after, 3), 0, details)


def _golden_match_keys(
    conn: duckdb.DuckDBPyConnection, job: GoldenJob, frame: pl.DataFrame, keys: list[str]
) -> pl.DataFrame:
    xref = conn.sql(f"SELECT source_system, source_key, golden_id FROM {job.table('__xref')}").pl()
    joined = frame.join(xref, on=["source_system", "source_key"]).select("golden_id", *keys)
    return joined.group_by("golden_id").agg(pl.col(k).drop_nulls().first() for k in keys)


def _shared_key_rate(frame: pl.DataFrame, keys: list[str]) -> float:
    if not keys or frame.height == 0:
        return 0.0
    shared = pl.any_horizontal([pl.col(k).is_not_null() & (pl.len().over(k) > 1) for k in keys])
    return frame.select(shared.mean()).item() or 0.0


_GOLDEN_CHECKS = {
    "xref_conservation": _xref_conservation,
    "cluster_size": _cluster_size,
    "duplicate_rate": _duplicate_rate,
}

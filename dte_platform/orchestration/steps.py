"""What every warehouse step shares: its pool, the metadata of a materialization (the data version
certification judges, the instant it was made, the inputs it was built from), the confidence
assessment, and check results as Dagster shows them. The asset builders (sources, golden records,
marts) import these; the factory only assembles.
"""

# no `from __future__ import annotations`: Dagster inspects the context annotation at runtime
import datetime as dt
import hashlib
from collections.abc import Iterable, Mapping
from typing import Any

import dagster as dg

from dte_platform.certification.publish import table_fingerprint
from dte_platform.compiler import CompiledDataset
from dte_platform.compiler.results import RuleResult
from dte_platform.compiler.rules import Severity
from dte_platform.confidence.assess import Assessment, Target, assess
from dte_platform.contracts import Dataset
from dte_platform.ingest import IngestReport
from dte_platform.ingest.writer import data_table

#: every step that touches the warehouse runs in this pool; see README "Concurrency"
WAREHOUSE_POOL = "dte_warehouse"
#: metadata keys of a materialization that certification reads
DATA_VERSION = "dte/data_version"
MATERIALIZED_AT = "dte/materialized_at"
INPUTS = "dte/inputs"
FINGERPRINT = "dte/data_fingerprint"


def data_version(fingerprint: str) -> str:
    """A short, content-derived version of a table: equal contents, equal versions."""
    return hashlib.sha256(fingerprint.encode()).hexdigest()[:16]


def version_metadata(
    conn: Any, compiled: CompiledDataset, now: dt.datetime, inputs: Mapping[str, str | None] | None = None
) -> dict[str, Any]:
    """The data version certification judges (from the table's fingerprint, read in the step's own
    transaction), the instant on the platform's clock, and for derived assets the version of each
    input they were built from."""
    fingerprint = table_fingerprint(conn, data_table(compiled))
    metadata: dict[str, Any] = {
        FINGERPRINT: fingerprint,
        DATA_VERSION: data_version(fingerprint),
        MATERIALIZED_AT: now.isoformat(),
    }
    if inputs is not None:
        metadata[INPUTS] = dg.MetadataValue.json(dict(sorted(inputs.items())))
    return metadata


def version_rows(version: Mapping[str, Any]) -> int:
    """The table's row count, from the fingerprint in :func:`version_metadata` (``rows=N;sum=...``)."""
    return int(str(version[FINGERPRINT]).split(";")[0].removeprefix("rows="))


def input_versions(instance: dg.DagsterInstance, upstream: Iterable[dg.AssetKey]) -> dict[str, str | None]:
    """The current data version of each input, as its latest materialization recorded it."""
    out: dict[str, str | None] = {}
    for key in upstream:
        records = instance.fetch_materializations(dg.AssetRecordsFilter(asset_key=key), limit=1).records
        value = None
        if records and records[0].asset_materialization is not None:
            entry = records[0].asset_materialization.metadata.get(DATA_VERSION)
            value = str(entry.value) if entry is not None else None
        out[key.to_user_string()] = value
    return out


def materialization_metadata(report: IngestReport, table_rows: int) -> dict[str, Any]:
    """``dagster/row_count`` is the table's rows, ``dagster/partition_row_count`` the partition's
    (as Dagster defines them)."""
    failed = [r.rule.check_name for r in report.failed]
    return {
        "dagster/row_count": table_rows,
        "dagster/partition_row_count": report.rows_loaded,
        "dte/rows_in": report.rows_in,
        "dte/rows_loaded": report.rows_loaded,
        "dte/rows_quarantined": report.rows_quarantined,
        "dte/rows_unparseable": report.rows_unparseable,
        "dte/quarantine_percent": round(100.0 * report.rows_quarantined / report.rows_in, 3)
        if report.rows_in
        else 0.0,
        "dte/files": dg.MetadataValue.json(report.files),
        "dte/checks_failed": dg.MetadataValue.json(failed),
    }


def confidence_metadata(assessment: Assessment) -> dict[str, Any]:
    metadata = assessment.metadata()
    metadata["dte/trust_components"] = dg.MetadataValue.md(metadata["dte/trust_components"])
    metadata["dte/indicators"] = _indicator_table(metadata["dte/indicators"])
    return metadata


def _indicator_table(columns: Mapping[str, Mapping[str, Any]]) -> dg.MetadataValue:
    """Per-column indicators as a table, one row per column (not a screen of JSON)."""
    fields = sorted({k for values in columns.values() for k in values})
    schema = dg.TableSchema(
        columns=[dg.TableColumn("column", "string")]
        + [dg.TableColumn(f, "float" if f != "distinct" else "int") for f in fields]
    )
    records = [
        dg.TableRecord({"column": name, **{f: values.get(f) for f in fields}})
        for name, values in columns.items()
    ]
    return dg.MetadataValue.table(records=records, schema=schema)


def assess_step(
    conn: Any,
    context: dg.AssetExecutionContext,
    compiled: CompiledDataset,
    dataset: Dataset,
    partition: dt.date | None,
    results: list[RuleResult],
    validity: float | None,
) -> Assessment:
    """Indicators, volume, drift and the trust score of what the step just wrote."""
    target = Target(
        asset="/".join(compiled.key_path),
        table=data_table(compiled),
        partition=partition,
        run_id=context.run.run_id,
        at=dt.datetime.now(dt.UTC),
    )
    return assess(conn, compiled, dataset.dte.confidence, target, results, validity)


def check_result(result: RuleResult, measured_at: dt.datetime | None = None) -> dg.AssetCheckResult:
    """``measured_at``: the instant time-dependent rules (freshness) were judged at."""
    rule = result.rule
    metadata: dict[str, Any] = {
        "dte/rule": rule.description,
        "dte/declared_at": rule.source,
        "dte/failing_rows": result.failing_rows,
    }
    if rule.kind == "freshness" and measured_at is not None:
        metadata["dte/measured_at"] = measured_at.isoformat()
    if result.measured is not None:
        metadata["dte/measured"] = float(result.measured)
    for name, value in result.details.items():
        metadata[f"dte/{name}"] = (
            value if isinstance(value, int | float | str | bool) else dg.MetadataValue.json(value)
        )
    if result.samples:
        metadata["dte/failing_sample"] = _sample_table(result.samples)
    return dg.AssetCheckResult(
        check_name=rule.check_name,
        passed=result.passed,
        severity=dg.AssetCheckSeverity.ERROR
        if rule.severity is Severity.ERROR
        else dg.AssetCheckSeverity.WARN,
        metadata=metadata,
    )


def _sample_table(samples: tuple[Any, ...]) -> dg.MetadataValue:
    """Failing rows as a table (text shown as it is, so a redacted value reads ``<redacted>``)."""
    columns = list(samples[0])
    schema = dg.TableSchema(columns=[dg.TableColumn(c, "string") for c in columns])
    records = [dg.TableRecord({c: _cell(sample.get(c)) for c in columns}) for sample in samples]
    return dg.MetadataValue.table(records=records, schema=schema)


def _cell(value: Any) -> str:
    text = "∅" if value is None else str(value)
    return text.replace("\n", " ")[:80]

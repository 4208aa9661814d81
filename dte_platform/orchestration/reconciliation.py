"""Cross-asset checks declared in ``checks/reconciliations.yaml``: referential (every key of an asset
exists in another) and totals (a sum agrees with another asset's), as Dagster asset checks."""

# no `from __future__ import annotations`: Dagster inspects the context annotation at runtime
from typing import Any

import dagster as dg

from dte_platform.compiler import CompiledDataset, sql_exec
from dte_platform.compiler.project import compile_project
from dte_platform.compiler.rules import Severity
from dte_platform.contracts import reconciliations
from dte_platform.ingest.writer import data_table
from dte_platform.orchestration.resources import WarehouseResource
from dte_platform.orchestration.steps import WAREHOUSE_POOL
from dte_platform.orchestration.translator import ContractTranslator
from dte_platform.settings import Settings


def build_reconciliation_checks(
    settings: Settings, translator: ContractTranslator | None = None
) -> list[dg.AssetChecksDefinition]:
    """One asset check per entry of the project's ``checks/reconciliations.yaml``."""
    translator = translator or ContractTranslator()
    items = compile_project(settings)
    datasets = {translator.asset_key(c).to_user_string(): c for _, _, c in items}
    daily = frozenset(
        translator.asset_key(c).to_user_string() for _, d, c in items if translator.partitions_def(d)
    )
    file = settings.checks_dir / reconciliations.FILE_NAME
    return [
        _reconciliation_check(r, datasets, daily)
        for r in reconciliations.load_reconciliations(file, datasets)
    ]


def _reconciliation_check(
    rec: reconciliations.Reconciliation,
    datasets: dict[str, CompiledDataset],
    daily: frozenset[str] = frozenset(),
) -> dg.AssetChecksDefinition:
    table, reference = data_table(datasets[rec.asset]), data_table(datasets[rec.reference_asset])
    severity = dg.AssetCheckSeverity.ERROR if rec.severity is Severity.ERROR else dg.AssetCheckSeverity.WARN
    keys = ", ".join(rec.columns)

    @dg.asset_check(
        asset=dg.AssetKey(rec.asset.split("/")),
        name=rec.name,
        description=rec.description or f"every {rec.asset} ({keys}) exists in {rec.reference_asset}",
        additional_deps=[dg.AssetKey(rec.reference_asset.split("/"))],
        blocking=rec.severity is Severity.ERROR,
        pool=WAREHOUSE_POOL,
    )
    def _check(warehouse: WarehouseResource) -> dg.AssetCheckResult:
        with warehouse.get_connection() as conn:
            missing = _missing(conn, {table: rec.asset, reference: rec.reference_asset})
        if missing:
            return _not_judged(severity, rec, missing)
        if rec.kind == "totals":
            same_days = rec.asset in daily and rec.reference_asset in daily
            return _totals(warehouse, rec, table, reference, severity, same_days)
        with warehouse.get_connection() as conn:
            orphans, rows = sql_exec.count_orphans(conn, table, rec.columns, reference, rec.reference_columns)
        percent = 100.0 * orphans / rows if rows else 0.0
        return dg.AssetCheckResult(
            passed=percent <= rec.max_percent,
            severity=severity,
            metadata={
                "dte/orphan_rows": orphans,
                "dte/rows_checked": rows,
                "dte/orphan_percent": round(percent, 4),
                "dte/tolerance_percent": rec.max_percent,
                "dte/declared_at": rec.path,
            },
        )

    return _check


def _missing(conn: Any, tables: dict[str, str]) -> list[str]:
    """The assets among ``tables`` (table -> asset) that no run has built yet."""
    existing = {
        f'"{s}"."{t}"'
        for s, t in conn.execute("SELECT table_schema, table_name FROM information_schema.tables").fetchall()
    }
    return sorted(asset for table, asset in tables.items() if table not in existing)


def _not_judged(
    severity: dg.AssetCheckSeverity, rec: reconciliations.Reconciliation, missing: list[str]
) -> dg.AssetCheckResult:
    """A reconciliation whose other side does not exist yet is not judged: neither a pass nor a
    failure. Certification reads ``dte/judged: false`` as "not run"."""
    reason = f"not judged: {', '.join(missing)} not built yet"
    return dg.AssetCheckResult(
        passed=True,
        severity=severity,
        description=reason,
        metadata={"dte/judged": False, "dte/reason": reason, "dte/declared_at": rec.path},
    )


def _totals(
    warehouse: WarehouseResource,
    rec: reconciliations.Reconciliation,
    table: str,
    reference: str,
    severity: dg.AssetCheckSeverity,
    same_days: bool,
) -> dg.AssetCheckResult:
    with warehouse.get_connection() as conn:
        total, expected = sql_exec.compare_totals(
            conn, table, rec.columns[0], reference, rec.reference_columns[0], rec.where, same_days
        )
    gap = 100.0 * abs(total - expected) / abs(expected) if expected else (0.0 if total == 0 else 100.0)
    return dg.AssetCheckResult(
        passed=gap <= rec.max_percent,
        severity=severity,
        metadata={
            "dte/total": total,
            "dte/reference_total": expected,
            "dte/gap_percent": round(gap, 6),
            "dte/tolerance_percent": rec.max_percent,
            "dte/declared_at": rec.path,
            "dte/compared": "the days the asset holds" if same_days else "whole tables",
        },
    )

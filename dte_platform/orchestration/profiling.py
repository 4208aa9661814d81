"""Profiling reports off the critical path: an on-demand job and a (stopped by default) daily
schedule write a sampled ydata-profiling report per dataset and link it from the asset page."""

# no `from __future__ import annotations`: Dagster inspects the context annotation at runtime
import dagster as dg

from dte_platform.compiler.rules import CompiledDataset
from dte_platform.confidence.profiling import profile_table
from dte_platform.ingest.writer import data_table
from dte_platform.orchestration.resources import WarehouseResource
from dte_platform.orchestration.steps import WAREHOUSE_POOL
from dte_platform.settings import Settings
from dte_platform.warehouse import one

JOB_NAME = "profile_reports"


def build_profiling(
    settings: Settings, datasets: list[CompiledDataset]
) -> tuple[dg.JobDefinition, dg.ScheduleDefinition]:
    reports = settings.artifacts_dir / "reports"

    @dg.op(
        pool=WAREHOUSE_POOL, description="a sampled profile per dataset; sensitive columns are dropped first"
    )
    def profile_datasets(context: dg.OpExecutionContext, warehouse: WarehouseResource) -> None:
        for compiled in datasets:
            key = "/".join(compiled.key_path)
            with warehouse.get_connection() as conn:
                if not _exists(conn, compiled):
                    context.log.info(f"{key}: not materialized yet, no profile")
                    continue
                result = profile_table(
                    conn,
                    data_table(compiled),
                    sensitive=compiled.sensitive_columns,
                    out_path=reports / key / "profile.html",
                    title=f"{key} profile",
                )
            context.log_event(
                dg.AssetObservation(
                    asset_key=dg.AssetKey(list(compiled.key_path)),
                    metadata={
                        "dte/profile_report": dg.MetadataValue.path(str(result.path)),
                        "dte/profile_rows": result.rows_profiled,
                        "dte/profile_rows_total": result.rows_total,
                        "dte/profile_columns_dropped": dg.MetadataValue.json(list(result.columns_dropped)),
                    },
                )
            )

    @dg.job(name=JOB_NAME, description="Profile every dataset on a bounded sample (ydata-profiling)")
    def profile_reports() -> None:
        profile_datasets()

    schedule = dg.ScheduleDefinition(
        name=f"{JOB_NAME}_daily",
        job=profile_reports,
        cron_schedule="0 6 * * *",
        default_status=dg.DefaultScheduleStatus.STOPPED,
    )
    return profile_reports, schedule


def _exists(conn, compiled: CompiledDataset) -> bool:
    schema, table = data_table(compiled).replace('"', "").split(".", 1)
    row = one(
        conn,
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?",
        [schema, table],
    )
    return bool(row[0])

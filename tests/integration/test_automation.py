"""The daily schedule, the landing sensor (late data) and backfill idempotency, on real runs."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from dte_platform.orchestration.automation import DAILY_JOB, DAILY_SCHEDULE, LANDING_SENSOR
from dte_platform.orchestration.factories import build_definitions
from dte_platform.settings import Settings

CRM_DAY2 = Path("data/landing/crm/customers/2026-11-02.jsonl")


def _tables(warehouse: Path) -> dict[str, list[tuple]]:
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        names = conn.execute(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_schema IN ('sources', 'quarantine', 'golden', 'marts') ORDER BY ALL"
        ).fetchall()
        return {
            f"{s}.{t}": conn.execute(f'SELECT * FROM "{s}"."{t}" ORDER BY ALL').fetchall() for s, t in names
        }


def test_the_daily_schedule_loads_yesterday() -> None:
    defs = build_definitions(Settings.for_project(Path(__file__).resolve().parents[2]))
    schedule = defs.resolve_schedule_def(DAILY_SCHEDULE)
    assert schedule.cron_schedule == "0 3 * * *"
    context = dg.build_schedule_context(
        scheduled_execution_time=dt.datetime(2026, 11, 15, 3, tzinfo=dt.UTC),
        repository_def=defs.get_repository_def(),
    )
    (request,) = schedule.evaluate_tick(context).run_requests or []
    assert request.partition_key == "2026-11-14"
    assert request.tags["dte/trigger"] == "schedule"
    assert schedule.job_name == DAILY_JOB


def test_every_partitioned_asset_backfills_one_run_per_partition() -> None:
    """No backfill policy is Dagster's one run per partition, tagged ``dagster/partition``: the only
    way per-day check results are recorded per day (a ranged run stores them unpartitioned).
    tests/e2e/test_dagster_dev.py checks the runs a real backfill launches."""
    defs = build_definitions(Settings.for_project(Path(__file__).resolve().parents[2]))
    partitioned = [a for a in defs.assets or [] if isinstance(a, dg.AssetsDefinition) and a.partitions_def]
    assert len(partitioned) == 6
    assert {a.backfill_policy for a in partitioned} == {None}


@pytest.mark.slow
def test_late_landing_data_rematerializes_its_partition_idempotently(
    sample_project: Path, tmp_path: Path
) -> None:
    settings = Settings.for_project(sample_project)
    for day in ("2026-11-03", "2026-11-04", "2026-11-05"):  # keep the sample to two days
        for file in (sample_project / "data" / "landing").rglob(f"{day}.*"):
            file.unlink()
    defs = build_definitions(settings)
    sensor = defs.resolve_sensor_def(LANDING_SENSOR)
    job = defs.resolve_job_def(DAILY_JOB)
    home = tmp_path / "home"
    home.mkdir()
    with dg.DagsterInstance.local_temp(str(home)) as instance:
        for day in ("2026-11-01", "2026-11-02"):
            assert job.execute_in_process(partition_key=day, instance=instance).success

        baseline = sensor(dg.build_sensor_context(instance=instance, definitions=defs))
        assert not baseline.run_requests and baseline.cursor
        quiet = sensor(dg.build_sensor_context(instance=instance, definitions=defs, cursor=baseline.cursor))
        assert not quiet.run_requests

        # a corrected CRM export for an old day arrives late
        landing = sample_project / CRM_DAY2
        lines = landing.read_text().splitlines()
        record = json.loads(lines[0])
        record["city"] = "Rotterdam"
        lines[0] = json.dumps(record, ensure_ascii=False)
        landing.write_text("\n".join(lines) + "\n")
        os.utime(landing, ns=(landing.stat().st_atime_ns, landing.stat().st_mtime_ns + 10**9))
        late = sensor(dg.build_sensor_context(instance=instance, definitions=defs, cursor=baseline.cursor))
        (request,) = late.run_requests or []
        assert request.partition_key == "2026-11-02"
        selected = {k.to_user_string() for k in request.asset_selection or []}
        assert selected == {
            "sources/crm/customers",
            "golden/customers",
            "marts/sales/customer_orders",
            "marts/sales/daily_revenue",
            "marts/customers/customer_lifetime_value",
        }
        for _ in range(2):  # the same request twice: identical tables
            result = job.execute_in_process(
                partition_key=request.partition_key,
                asset_selection=request.asset_selection,
                instance=instance,
            )
            assert result.success
            if _ == 0:
                first = _tables(settings.warehouse_path)
        assert _tables(settings.warehouse_path) == first
        crm = first["sources.crm__customers"]
        assert any("Rotterdam" in row for row in crm)
        after = sensor(dg.build_sensor_context(instance=instance, definitions=defs, cursor=late.cursor))
        assert not after.run_requests

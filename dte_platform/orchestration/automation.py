"""Automation: the daily job and its schedule, and a sensor that picks up late or re-sent landing
files by re-materializing their partition (and everything downstream of the source).

Backfills: every partitioned asset runs **one run per partition** (Dagster's default when an asset
declares no backfill policy; a ranged single run would record the per-day check results without
their partition): each partition is one warehouse transaction with its own check results, and the
``dte_warehouse`` pool queues the runs. Re-running a partition replaces it, so any range
can be backfilled twice with identical tables.
"""

# no `from __future__ import annotations`: Dagster inspects the context annotations at runtime
import datetime as dt
import hashlib
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import dagster as dg

from dte_platform.contracts import SourceSpec
from dte_platform.errors import DteError
from dte_platform.ingest import available_partitions, partition_files
from dte_platform.orchestration.certification import CHECK_NAME, Catalog
from dte_platform.settings import Settings

#: what ``dg.define_asset_job`` returns (its class is not exported by dagster)
AssetJob = Any

DAILY_JOB = "dte_daily"
DAILY_SCHEDULE = "dte_daily_schedule"
LANDING_SENSOR = "dte_landing_sensor"
#: the daily run starts at 03:00 UTC and loads the previous day
DAILY_CRON = "0 3 * * *"


def build_daily_job(keys: Sequence[dg.AssetKey]) -> AssetJob:
    """Every contract asset: sources and daily marts for one partition, golden and whole marts rebuilt."""
    certificates = [dg.AssetCheckKey(key, CHECK_NAME) for key in keys]
    return dg.define_asset_job(
        DAILY_JOB,
        # the certification sensor judges the new versions; the job does not repeat it
        selection=dg.AssetSelection.assets(*keys) - dg.AssetSelection.checks(*certificates),
        description="Sources and daily marts for one day, with golden records and whole marts rebuilt; "
        "the daily schedule and the landing sensor launch it.",
        tags={"dte/kind": "daily"},
    )


def build_daily_schedule(job: AssetJob) -> dg.ScheduleDefinition:
    @dg.schedule(
        name=DAILY_SCHEDULE,
        job=job,
        cron_schedule=DAILY_CRON,
        execution_timezone="UTC",
        default_status=dg.DefaultScheduleStatus.STOPPED,
        description="Materializes yesterday's partition of every source and everything downstream. "
        "Stopped in a fresh instance (the committed sample is a fixed fortnight); turn it on in "
        "Automation once real landing data arrives daily.",
    )
    def _schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
        now = context.scheduled_execution_time or dt.datetime.now(dt.UTC)
        day = (now.astimezone(dt.UTC).date() - dt.timedelta(days=1)).isoformat()
        return dg.RunRequest(
            run_key=f"daily-{day}", partition_key=day, tags={"dte/kind": "daily", "dte/trigger": "schedule"}
        )

    return _schedule


def landing_state(project_dir: Path, sources: Mapping[str, SourceSpec]) -> dict[str, dict[str, str]]:
    """asset -> day -> a signature of that day's landing files (names, sizes, modification times)."""
    state: dict[str, dict[str, str]] = {}
    for asset, source in sources.items():
        days: dict[str, str] = {}
        for day in available_partitions(project_dir, source):
            try:
                files = partition_files(project_dir, source, day)
            except DteError:
                continue  # a refused file: the materialization reports it when someone runs the day
            stats = [(f.relative_to(project_dir).as_posix(), f.stat()) for f in files if f.exists()]
            text = json.dumps([(name, s.st_size, s.st_mtime_ns) for name, s in stats])
            days[day] = hashlib.sha256(text.encode()).hexdigest()[:16]
        state[asset] = days
    return state


def changed_days(
    before: Mapping[str, Mapping[str, str]], after: Mapping[str, Mapping[str, str]]
) -> dict[str, list[str]]:
    """day -> sources whose landing files for that day are new or changed."""
    out: dict[str, list[str]] = {}
    for asset, days in after.items():
        for day, signature in days.items():
            if before.get(asset, {}).get(day) != signature:
                out.setdefault(day, []).append(asset)
    return {day: sorted(assets) for day, assets in sorted(out.items())}


def build_landing_sensor(
    project_dir: Path,
    sources: Mapping[str, SourceSpec],
    downstream: Mapping[str, Sequence[str]],
    job: AssetJob,
) -> dg.SensorDefinition:
    """``downstream``: source asset -> every asset that (transitively) reads it."""

    @dg.sensor(
        name=LANDING_SENSOR,
        job=job,
        minimum_interval_seconds=60,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Re-materializes a partition when its landing files appear or change after the "
        "sensor started (late or re-sent data), with everything downstream of that source. The first "
        "tick only records what is already there.",
    )
    def _sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult:
        after = landing_state(project_dir, sources)
        if context.cursor is None:
            return dg.SensorResult(cursor=json.dumps(after, sort_keys=True), skip_reason="baseline recorded")
        before = json.loads(context.cursor)
        requests = []
        for day, assets in changed_days(before, after).items():
            selection = sorted({a for s in assets for a in (s, *downstream.get(s, ()))})
            signature = hashlib.sha256(json.dumps([after[a][day] for a in assets]).encode()).hexdigest()[:16]
            requests.append(
                dg.RunRequest(
                    run_key=f"landing-{day}-{signature}",
                    partition_key=day,
                    asset_selection=[dg.AssetKey(a.split("/")) for a in selection],
                    tags={
                        "dte/kind": "daily",
                        "dte/trigger": "landing",
                        "dte/sources": ",".join(assets)[:200],
                    },
                )
            )
        return dg.SensorResult(
            run_requests=requests,
            cursor=json.dumps(after, sort_keys=True),
            skip_reason=None if requests else "no new or changed landing files",
        )

    return _sensor


def build_automation(
    settings: Settings, assets: Sequence[dg.AssetsDefinition], catalog: Catalog
) -> tuple[AssetJob, dg.ScheduleDefinition, dg.SensorDefinition]:
    """The daily job over every contract asset that shares the sources' daily partitions (plus the
    unpartitioned ones), its schedule, and the landing sensor."""
    partitions = {key: a.partitions_def for a in assets for key in a.keys}
    sources = {e.name: e.source for e in catalog.entries if e.source is not None}
    daily = next((partitions[dg.AssetKey(a.split("/"))] for a in sources), None)
    keys = [k for k, p in partitions.items() if p is None or p == daily]
    job = build_daily_job(keys)
    in_job = {k.to_user_string() for k in keys}
    downstream = {s: sorted(catalog.downstream(s) & in_job) for s in sources}
    return (
        job,
        build_daily_schedule(job),
        build_landing_sensor(settings.project_dir, sources, downstream, job),
    )

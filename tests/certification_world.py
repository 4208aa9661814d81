"""A project, a persistent Dagster instance and the certification sensor's cursor, as the daemon
would keep them: materialize, tick, read the warehouse. A world can be saved and copied, so that
many scenarios start from one certified baseline without paying for it again."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb

from dte_platform.orchestration.certification import JOB_NAME, SENSOR_NAME
from dte_platform.orchestration.factories import build_definitions
from dte_platform.orchestration.headless import WHOLE, PartitionOutcome, certify_project, plan, run_all
from dte_platform.settings import Settings

AS_OF = dt.datetime(2026, 11, 15, 6, tzinfo=dt.UTC)
_CURSOR_FILE = "sensor_cursor.json"


class World:
    """One project, one persistent Dagster instance, and the sensor's cursor between ticks."""

    def __init__(self, project: Path, home: Path, as_of: dt.datetime = AS_OF) -> None:
        self.project = project
        self.home = home
        self.as_of = as_of
        home.mkdir(parents=True, exist_ok=True)
        self.instance = dg.DagsterInstance.local_temp(str(home))
        saved = home / _CURSOR_FILE
        self.cursor: str | None = saved.read_text() if saved.exists() else None

    def settings(self, as_of: dt.datetime | None = None) -> Settings:
        return Settings.for_project(self.project, as_of=as_of or self.as_of)

    def materialize(
        self, days: list[str] | None = None, select: tuple[str, ...] = (), reverse: bool = False
    ) -> list[PartitionOutcome]:
        """``days``: the partitions (default: every day with landing data)."""
        steps = plan(self.settings(), select, days or [])
        if reverse:  # each group of days (sources, then daily marts after golden) in reverse
            groups: list[list[tuple[str, list[str]]]] = []
            for step in steps:
                if not groups or (step[0] == WHOLE) != (groups[-1][0][0] == WHOLE):
                    groups.append([])
                groups[-1].append(step)
            steps = [s for group in groups for s in (group if group[0][0] == WHOLE else reversed(group))]
        return run_all(self.settings(), self.instance, steps)

    def materialize_partition(self, asset: str, day: str) -> list[PartitionOutcome]:
        """One partition of one asset, whether or not it has landing data (as the UI allows)."""
        return run_all(self.settings(), self.instance, [(day, [asset])])

    def tick(self, as_of: dt.datetime | None = None, promote: bool = True) -> dg.SensorResult:
        """One sensor evaluation; its events are stored and its run request executed, as the
        daemon would do."""
        defs = build_definitions(self.settings(as_of))
        sensor = defs.resolve_sensor_def(SENSOR_NAME)
        context = dg.build_sensor_context(instance=self.instance, definitions=defs, cursor=self.cursor)
        result = sensor(context)
        assert isinstance(result, dg.SensorResult)
        if result.cursor is not None:
            self.cursor = result.cursor
        for event in result.asset_events:
            self.instance.report_runless_asset_event(event)
        if promote:
            for request in result.run_requests or []:
                job = defs.resolve_job_def(JOB_NAME)
                outcome = job.execute_in_process(run_config=request.run_config, instance=self.instance)
                assert outcome.success
        return result

    def certify_headless(self, as_of: dt.datetime | None = None) -> dict[str, dict[str, Any]]:
        """What ``dte run`` does after its runs; every asset's decision."""
        assessments = certify_project(self.settings(as_of), self.instance)
        return {a.entry.name: a.decision.to_json() for a in assessments}

    def sql(self, query: str) -> list[tuple]:
        with duckdb.connect(str(self.settings().warehouse_path), read_only=True) as conn:
            return conn.execute(query).fetchall()

    def certified_tables(self) -> dict[str, list[tuple]]:
        names = self.sql(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'certified' ORDER BY 1"
        )
        return {n: self.sql(f'SELECT * FROM certified."{n}" ORDER BY ALL') for (n,) in names}

    def save(self) -> None:
        if self.cursor is not None:
            (self.home / _CURSOR_FILE).write_text(self.cursor)

    def copy_to(self, root: Path) -> World:
        """An independent copy of the project, its warehouse and artifacts, and the instance."""
        self.save()
        self.instance.dispose()
        shutil.copytree(self.project, root / "project")
        shutil.copytree(self.home, root / "home")
        self.instance = dg.DagsterInstance.local_temp(str(self.home))
        return World(root / "project", root / "home", self.as_of)

    def dispose(self) -> None:
        self.instance.dispose()


def observations(result: dg.SensorResult) -> dict[str, dict[str, Any]]:
    return {
        e.asset_key.to_user_string(): e.metadata["dte/certification"].value
        for e in result.asset_events
        if isinstance(e, dg.AssetObservation)
    }


def project_from(landing_parent: Path, root: Path) -> Path:
    """A project folder: this repository's contracts and checks, and ``landing_parent/landing``."""
    repo = Path(__file__).resolve().parents[1]
    project = root / "project"
    ignore = shutil.ignore_patterns("*.py", "__pycache__")
    shutil.copytree(repo / "assets", project / "assets", ignore=ignore)
    shutil.copytree(repo / "checks", project / "checks", ignore=ignore)
    shutil.copytree(landing_parent / "landing", project / "data" / "landing")
    return project


def last_decisions(world: World) -> dict[str, dict[str, Any]]:
    """The latest reported decision of every asset (from its observation)."""
    from dte_platform.orchestration.certification.evidence import InstanceReader

    reader = InstanceReader(world.instance)
    out = {}
    for (asset,) in world.sql("SELECT DISTINCT asset FROM trust.certificates"):
        found = reader.latest_certification(dg.AssetKey(asset.split("/")))
        if found is not None:
            out[asset] = found
    return out


def decision_bytes(decisions: dict[str, dict[str, Any]]) -> str:
    return json.dumps(decisions, sort_keys=True)

"""A promotion killed with SIGKILL inside its transaction leaves certified.* and trust.certificates
at their last committed state; re-running the same promotion completes and the evidence chain
verifies. The child wraps the publish module's statement helper so that it stops right before
``COMMIT`` (a marker file tells the parent when), as tests/integration/test_faults.py does."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dte_platform.cli import main as cli
from dte_platform.orchestration.certification import JOB_NAME
from dte_platform.orchestration.factories import build_definitions
from tests.integration.test_certification import CRM, CRM_DAY3, World, observations

_CHILD = r"""
import json, sys, time
from pathlib import Path
import dte_platform.certification.publish as publish
from dte_platform.orchestration.certification import promote
from dte_platform.orchestration.factories import build_resources
from dte_platform.settings import Settings

args = json.loads(sys.argv[1])
settings = Settings.for_project(Path(args["project"]))
statement = publish.run

def pausing(conn, sql, params=None):
    if sql == "COMMIT":
        Path(args["pause"]).write_text("at commit")
        time.sleep(600)
    statement(conn, sql, params)

publish.run = pausing
items = [json.loads(c) for c in args["certificates"]]
promote(settings, build_resources(settings)["warehouse"], items, "killed-run")
"""


@pytest.mark.slow
def test_a_killed_promotion_changes_nothing_and_a_rerun_completes(
    sample_project: Path, tmp_path: Path
) -> None:
    world = World(sample_project, tmp_path / "home")
    try:
        world.materialize(select=(CRM,))
        world.tick()
        certified = world.sql('SELECT * FROM certified."sources__crm__customers" ORDER BY ALL')
        certificates = world.sql("SELECT * FROM trust.certificates ORDER BY ALL")

        # a new, valid version of day 3: one customer moved
        landing = sample_project / CRM_DAY3
        lines = landing.read_text().splitlines()
        record = json.loads(lines[1])
        record["city"] = "Utrecht"
        lines[1] = json.dumps(record, ensure_ascii=False)
        landing.write_text("\n".join(lines) + "\n")
        world.materialize(["2026-11-03"], select=(CRM,))
        result = world.tick(promote=False)
        assert observations(result)[CRM]["certified"]
        (request,) = result.run_requests or []
        items = request.run_config["ops"]["record_and_publish_certificates"]["config"]["certificates"]

        marker = tmp_path / "at-commit"
        child = subprocess.Popen(
            [
                sys.executable,
                "-c",
                _CHILD,
                json.dumps({"project": str(sample_project), "pause": str(marker), "certificates": items}),
            ],
            cwd=Path(__file__).resolve().parents[2],
        )
        deadline = time.monotonic() + 120
        while not marker.exists():
            assert child.poll() is None, "the promotion ended before reaching COMMIT"
            assert time.monotonic() < deadline, "the promotion never reached COMMIT"
            time.sleep(0.05)
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=30)

        assert world.sql('SELECT * FROM certified."sources__crm__customers" ORDER BY ALL') == certified
        assert world.sql("SELECT * FROM trust.certificates ORDER BY ALL") == certificates
        # the killed attempt's pack is on disk but no certificate points at it: verify says so
        assert cli(["evidence", "verify", CRM, "--project", str(sample_project)]) == 1

        # re-running the same promotion (what re-executing the failed run does) completes
        job = build_definitions(world.settings()).resolve_job_def(JOB_NAME)
        assert job.execute_in_process(run_config=request.run_config, instance=world.instance).success
        published = world.sql('SELECT * FROM certified."sources__crm__customers" ORDER BY ALL')
        assert published != certified and any("Utrecht" in row for row in published)
        assert world.sql("SELECT count(*) FROM trust.certificates") == [(len(certificates) + 1,)]
        assert cli(["evidence", "verify", CRM, "--project", str(sample_project)]) == 0
    finally:
        world.instance.dispose()


def test_the_promotion_job_refuses_to_publish_a_version_that_changed_underneath(
    sample_project: Path, tmp_path: Path
) -> None:
    """Between the decision and the promotion a new materialization replaced the table: the stale
    certificate is recorded but nothing is published."""
    world = World(sample_project, tmp_path / "home")
    try:
        world.materialize(select=(CRM,))
        result = world.tick(promote=False)
        (request,) = result.run_requests or []
        (sample_project / CRM_DAY3).write_text((sample_project / CRM_DAY3).read_text().splitlines()[0] + "\n")
        world.materialize(["2026-11-03"], select=(CRM,))
        job = build_definitions(world.settings()).resolve_job_def(JOB_NAME)
        assert job.execute_in_process(run_config=request.run_config, instance=world.instance).success
        assert world.sql("SELECT certified, published FROM trust.certificates") == [(True, False)]
        tables = world.sql(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'certified'"
        )
        assert tables == []
    finally:
        world.instance.dispose()

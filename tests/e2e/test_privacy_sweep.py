"""Privacy sweep: unique canary values planted in every sensitive column of the sample never appear
in any artifact (evidence packs, lineage events, profiles, models), in the Dagster instance (event
log metadata, run storage, captured logs) or in what the commands print."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from dte_platform.orchestration.factories import build_definitions
from dte_platform.settings import Settings

DAY = "2026-11-02"
CRM = {
    "first_name": "Zyxcanaryfirst",
    "last_name": "Zyxcanarylast",
    "email": "qq.canary.4711@canary.example",
    "phone": "+49 30 47114711",
    "birth_date": "1911-11-11",
}
SHOP = {
    "full_name": "Qwcanaryfull Qwcanaryname",
    "email": "qw.canary.0815@canary.example",
    "phone": "030 08150815",
}
#: what must never be found, in any case: every value, and the distinctive parts of normalized forms
NEEDLES = [
    *CRM.values(),
    *SHOP.values(),
    "zyxcanary",
    "qwcanary",
    "canary.4711",
    "canary.0815",
    "47114711",
    "08150815",
    "1911-11-11",
]


def _plant(project: Path) -> None:
    crm = project / f"data/landing/crm/customers/{DAY}.jsonl"
    lines = crm.read_text().splitlines()
    record = json.loads(lines[0])
    record.update(CRM)
    lines[0] = json.dumps(record, ensure_ascii=False)
    crm.write_text("\n".join(lines) + "\n")

    shop = project / f"data/landing/shop/customers/{DAY}.csv"
    rows = list(csv.DictReader(io.StringIO(shop.read_text())))
    rows[0].update(SHOP)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    shop.write_text(out.getvalue())


def _leaks(root: Path) -> list[str]:
    found = []
    for path in root.rglob("*"):
        if not path.is_file() or path.suffix == ".duckdb" or path.name.endswith((".duckdb.wal", ".lock")):
            continue
        data = path.read_bytes().lower()
        found += [f"{needle!r} in {path}" for needle in NEEDLES if needle.lower().encode() in data]
    return found


@pytest.mark.slow
def test_no_sensitive_canary_leaves_the_warehouse(sample_project: Path, tmp_path: Path) -> None:
    _plant(sample_project)
    home = tmp_path / "dagster_home"
    home.mkdir()
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "DTE_AS_OF": "2026-11-15T06:00:00Z",
        "PYTHONWARNINGS": "ignore",
    }
    cli = [sys.executable, "-m", "dte_platform.cli"]
    run = subprocess.run(
        [*cli, "run", "--project", str(sample_project)], env=env, capture_output=True, text=True, timeout=900
    )
    assert "certificates as of" in run.stdout, run.stdout[-2000:] + run.stderr[-2000:]
    certify = subprocess.run(
        [*cli, "certify", "--project", str(sample_project)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    settings = Settings.for_project(sample_project)
    with dg.DagsterInstance.from_config(str(home)) as instance:
        profiles = build_definitions(settings).resolve_job_def("profile_reports")
        assert profiles.execute_in_process(instance=instance).success
        # the sensor path too: the same evidence the daemon would report
        records = instance.get_run_records()
        assert any(r.dagster_run.job_name == "dte_certification" for r in records)
    packs = list((settings.artifacts_dir / "certification").rglob("*.json"))
    assert len(packs) >= 8, "every asset was certified (or refused) with an evidence pack"
    assert list((settings.artifacts_dir / "lineage").glob("*.jsonl")), "lineage events were written"
    assert list(settings.artifacts_dir.rglob("*.html")), "profiles and pack pages were written"

    # the warehouse holds the canaries (that is where they belong) ...
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as conn:
        emails = conn.execute('SELECT email FROM sources."crm__customers"').fetchall()
    assert (CRM["email"],) in emails
    # ... and nothing else does
    leaks = _leaks(settings.artifacts_dir) + _leaks(home)
    printed = (run.stdout + run.stderr + certify.stdout + certify.stderr).lower()
    leaks += [f"{needle!r} printed by dte" for needle in NEEDLES if needle.lower() in printed]
    assert not leaks, "\n".join(leaks)

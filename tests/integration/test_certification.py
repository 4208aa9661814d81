"""Certification end to end on the sample: real materializations, real sensor ticks on a persistent
instance, the promotion job, the warehouse's certified.* tables and the evidence packs."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest

from dte_platform.cli import main as cli
from dte_platform.orchestration.certification import CHECK_NAME
from dte_platform.orchestration.headless import certify_project
from tests.certification_world import World, observations

DAYS = ["2026-11-01", "2026-11-02", "2026-11-03"]
AS_OF = dt.datetime(2026, 11, 4, 6, tzinfo=dt.UTC)
CRM = "sources/crm/customers"
GOLDEN = "golden/customers"
CRM_DAY3 = Path("data/landing/crm/customers/2026-11-03.jsonl")


@pytest.fixture
def world(sample_project: Path, tmp_path: Path) -> Iterator[World]:
    world = World(sample_project, tmp_path / "dagster_home", as_of=AS_OF)
    yield world
    world.instance.dispose()


def _null_spike(project: Path) -> str:
    """Blank the last name (a required column) of a third of the day's CRM records."""
    file = project / CRM_DAY3
    original = file.read_text()
    lines = original.splitlines()
    for i in range(0, len(lines), 3):
        record = json.loads(lines[i])
        record["last_name"] = None
        lines[i] = json.dumps(record, ensure_ascii=False)
    file.write_text("\n".join(lines) + "\n")
    return original


@pytest.mark.slow
def test_sensor_certifies_demotes_with_downstream_and_restores(world: World) -> None:
    world.materialize(DAYS)
    first = observations(world.tick())
    assert first[CRM]["certified"] and first[CRM]["level"] == "gold"
    assert first[GOLDEN] == {**first[GOLDEN], "level": "gold", "certified": True}
    certified_before = world.sql('SELECT * FROM certified."sources__crm__customers" ORDER BY ALL')
    golden_before = world.sql('SELECT * FROM certified."golden__customers" ORDER BY ALL')
    assert len(certified_before) == world.sql('SELECT count(*) FROM sources."crm__customers"')[0][0] > 600

    # nothing changed: the next tick reports nothing and requests no run
    quiet = world.tick()
    assert not quiet.asset_events and not quiet.run_requests

    original = _null_spike(world.project)
    world.materialize(["2026-11-03"], select=(CRM,))
    demoted = observations(world.tick())
    assert demoted[CRM]["certified"] is False and demoted[CRM]["level"] == "none"
    assert any(
        "contract__last_name__required" in r and "failed on 2026-11-03" in r for r in demoted[CRM]["reasons"]
    )
    # the demotion reaches the golden records (and what reads them) in the same tick
    assert demoted[GOLDEN]["certified"] is False
    assert any(f"upstream {CRM} is not certified" in r for r in demoted[GOLDEN]["reasons"])
    assert {a for a, d in first.items() if d["level"] != "gold"} == set()
    downstream = {a for a, d in demoted.items() if not d["certified"]}
    assert {"marts/sales/customer_orders", "marts/sales/daily_revenue"} <= downstream
    # lifetime value is medium risk, and still not certified: its inputs are not (every level
    # requires the upstream certified at its own required level)
    clv = demoted["marts/customers/customer_lifetime_value"]
    assert clv["certified"] is False
    assert any("upstream" in r for r in clv["reasons"])
    # consumers still read the last certified version
    assert world.sql('SELECT * FROM certified."sources__crm__customers" ORDER BY ALL') == certified_before
    assert world.sql('SELECT * FROM certified."golden__customers" ORDER BY ALL') == golden_before
    rows = world.sql(
        "SELECT certified, published, reasons FROM trust.certificates "
        f"WHERE asset = '{CRM}' ORDER BY evidence_sequence"
    )
    assert [(r[0], r[1]) for r in rows] == [(True, True), (False, False)]
    assert any("last_name" in reason for reason in rows[-1][2])

    (world.project / CRM_DAY3).write_text(original)
    world.materialize(["2026-11-03"], select=(CRM,))
    restored = observations(world.tick())
    assert restored[CRM]["certified"] and restored[GOLDEN]["certified"]
    assert world.sql('SELECT * FROM certified."sources__crm__customers" ORDER BY ALL') == certified_before


def test_failed_or_uncertified_runs_leave_certified_data_alone(world: World) -> None:
    world.materialize(DAYS, select=(CRM,))
    world.tick()
    before = world.sql('SELECT * FROM certified."sources__crm__customers" ORDER BY ALL')
    # a failed run: the landing file is gone, the step fails, nothing is written
    landing = world.project / CRM_DAY3
    original = landing.read_text()
    landing.unlink()
    world.materialize_partition(CRM, "2026-11-03")
    failed = observations(world.tick())  # no new version; the failure itself is the reason
    assert failed[CRM]["certified"] is False
    assert any("materialization of 2026-11-03 failed" in r for r in failed[CRM]["reasons"])
    # an uncertified version: the table changes, certified.* does not
    landing.write_text(original.splitlines()[0].replace('"CRM-', '"X-') + "\n")
    world.materialize_partition(CRM, "2026-11-03")
    demoted = observations(world.tick())[CRM]
    assert demoted["certified"] is False
    assert any("failed on 2026-11-03" in r for r in demoted["reasons"]), demoted["reasons"]
    assert world.sql('SELECT * FROM certified."sources__crm__customers" ORDER BY ALL') == before
    assert world.sql('SELECT count(*) FROM sources."crm__customers"') != [(len(before),)]


def test_certificates_expire_without_a_run(world: World) -> None:
    world.materialize(DAYS, select=(CRM,))
    assert observations(world.tick())[CRM]["certified"]
    expires = dt.datetime.fromisoformat(observations_of(world, CRM)["expires"])
    still = world.tick(as_of=expires - dt.timedelta(minutes=1))
    assert not still.asset_events
    lapsed = observations(world.tick(as_of=expires + dt.timedelta(minutes=1)))
    assert lapsed[CRM]["certified"] is False
    assert any("data is stale" in r for r in lapsed[CRM]["reasons"])
    # the check that an engineer filters on shows the run-less demotion too
    check = world.instance.event_log_storage.get_latest_asset_check_execution_by_key(
        [dg.AssetCheckKey(dg.AssetKey(CRM.split("/")), CHECK_NAME)]
    )
    (record,) = check.values()
    assert record.run_id == "" or record.run_id is None or record.status.value == "FAILED"


def test_the_sensor_corrects_a_certification_check_that_disagrees(world: World) -> None:
    world.materialize(DAYS, select=(CRM,))
    assert observations(world.tick())[CRM]["certified"]
    # e.g. the check executed inside a run while an upstream observation was not yet updated
    world.instance.report_runless_asset_event(
        dg.AssetCheckEvaluation(asset_key=dg.AssetKey(CRM.split("/")), check_name=CHECK_NAME, passed=False)
    )
    result = world.tick()
    assert not result.run_requests  # nothing new to record or publish
    (check,) = [e for e in result.asset_events if isinstance(e, dg.AssetCheckEvaluation)]
    assert check.passed and check.asset_key.to_user_string() == CRM
    assert not world.tick().asset_events


def observations_of(world: World, asset: str) -> dict:
    records = world.instance.fetch_observations(dg.AssetKey(asset.split("/")), limit=1).records
    return records[0].asset_observation.metadata["dte/certification"].value


def test_dte_run_certifies_headless_and_evidence_verifies(world: World) -> None:
    world.materialize(DAYS, select=(CRM,))
    assessments = certify_project(world.settings(), world.instance)
    by_asset = {a.entry.name: a.decision for a in assessments}
    assert by_asset[CRM].certified
    assert by_asset[GOLDEN].version is None  # not materialized: nothing to record
    assert world.sql("SELECT asset, level FROM trust.certificates") == [(CRM, "gold")]
    # a second evaluation with nothing new records nothing
    certify_project(world.settings(), world.instance)
    assert world.sql("SELECT count(*) FROM trust.certificates") == [(1,)]
    assert cli(["evidence", "verify", "--project", str(world.project)]) == 0
    pack = next((world.project / "artifacts" / "certification" / "sources__crm__customers").glob("*.json"))
    pack.write_bytes(pack.read_bytes().replace(b'"certified":true', b'"certified":false', 1))
    assert cli(["evidence", "verify", "--project", str(world.project)]) == 1


def test_no_sensitive_value_reaches_an_evidence_pack(world: World) -> None:
    canary = "zz-canary-4417@example.com"
    file = world.project / CRM_DAY3
    lines = file.read_text().splitlines()
    record = json.loads(lines[0])
    record.update(email=canary, first_name="Canarina", last_name="Kanarienvogel", phone="+49 30 99991111")
    lines[0] = json.dumps(record, ensure_ascii=False)
    file.write_text("\n".join(lines) + "\n")
    world.materialize(DAYS, select=("sources/*", GOLDEN))
    world.tick()
    packs = list((world.project / "artifacts" / "certification").rglob("*"))
    assert any(p.suffix == ".json" for p in packs) and any(p.suffix == ".html" for p in packs)
    for path in packs:
        if path.is_file():
            text = path.read_text("utf-8")
            for value in (canary, "Canarina", "Kanarienvogel", "99991111"):
                assert value not in text, f"{value} in {path}"

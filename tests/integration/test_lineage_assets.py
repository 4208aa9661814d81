"""Every asset step emits OpenLineage: a source -> golden -> mart chain to an HTTP receiver on
127.0.0.1, each event valid against the official schemas; a dead endpoint spools, replay delivers."""

from __future__ import annotations

import dataclasses
import json
from collections import defaultdict
from pathlib import Path

import dagster as dg
import pytest

from dte_platform.cli import main
from dte_platform.orchestration.headless import plan, run_all
from dte_platform.settings import LineageSettings, Settings
from tests.integration.test_lineage_emitter import Receiver, closed_port
from tests.unit.test_lineage_events import CORE_ID, assert_valid

CHAIN = [
    "sources/crm/customers",
    "sources/shop/customers",
    "sources/shop/orders",
    "sources/shop/products",
    "golden/customers",
    "marts/sales/customer_orders",
    "marts/sales/daily_revenue",
    "marts/customers/customer_lifetime_value",
]


@pytest.fixture
def project(sample_project: Path) -> Path:
    return sample_project


def by_job(events: list[dict]) -> dict[str, list[dict]]:
    jobs: dict[str, list[dict]] = defaultdict(list)
    for event in events:
        jobs[event["job"]["name"]].append(event)
    return jobs


def test_the_chain_emits_start_complete_and_checks_for_every_asset(project: Path) -> None:
    with Receiver() as receiver:
        settings = dataclasses.replace(
            Settings.for_project(project), lineage=LineageSettings("http", receiver.url)
        )
        run_all(settings, dg.DagsterInstance.ephemeral(), plan(settings, partitions=["2026-11-01"]))
    events = receiver.bodies()
    for event in events:
        assert_valid(event, f"{CORE_ID}#/$defs/RunEvent")
    jobs = by_job(events)
    for asset in CHAIN:
        step = jobs[asset]
        assert [e["eventType"] for e in step] == ["START", "COMPLETE"], asset
        assert step[0]["run"]["runId"] == step[1]["run"]["runId"]
        assert "parent" in step[0]["run"]["facets"]  # the Dagster run
        [checks] = jobs[asset + ".checks"]
        assert checks["run"]["facets"]["parent"]["run"]["runId"] == step[0]["run"]["runId"]
        assert checks["inputs"][0]["inputFacets"]["dataQualityAssertions"]["assertions"]
    # the naming conventions: <catalog>.<schema>.<table> under a namespace that names the warehouse
    # file by its place in the project (the same in every checkout), files under `file` by path
    golden_inputs = {(d["namespace"], d["name"]) for d in jobs["golden/customers"][0]["inputs"]}
    warehouse = "duckdb://data/warehouse.duckdb"
    assert golden_inputs == {
        (warehouse, "warehouse.sources.crm__customers"),
        (warehouse, "warehouse.sources.shop__customers"),
    }
    mart = jobs["marts/sales/customer_orders"][1]
    assert {d["name"] for d in mart["inputs"]} == {
        "warehouse.sources.shop__orders",
        "warehouse.sources.shop__products",
        "warehouse.golden.customers",
        "warehouse.golden.customers__xref",
    }
    lineage = mart["outputs"][0]["facets"]["columnLineage"]["fields"]
    assert lineage["amount"]["inputFields"][0]["name"] == "warehouse.sources.shop__orders"
    landing = jobs["sources/shop/orders"][0]["inputs"][0]
    expected_file = (project / "data/landing/shop/orders/2026-11-01.csv").resolve().as_posix()
    assert (landing["namespace"], landing["name"]) == ("file", expected_file)
    assert str(project) not in json.dumps([e["inputs"] + e["outputs"] for e in jobs["golden/customers"]])
    assert lineage["golden_id"]["inputFields"][0]["field"] == "golden_id"
    orders = jobs["sources/shop/orders"][1]["outputs"][0]
    assert orders["outputFacets"]["outputStatistics"]["rowCount"] == 345
    assert orders["facets"]["dataQualityMetrics"]["columnMetrics"]["amount"]["nullCount"] == 0


def test_sensitive_values_appear_in_no_event(project: Path) -> None:
    crm = (project / "data/landing/crm/customers/2026-11-01.jsonl").read_text().splitlines()
    record = json.loads(next(line for line in crm if line.startswith("{") and '"email": "' in line))
    settings = Settings.for_project(project)
    run_all(settings, dg.DagsterInstance.ephemeral(), plan(settings, ["sources/crm/*"], ["2026-11-01"]))
    text = (settings.artifacts_dir / "lineage" / "events.jsonl").read_text()
    assert '"email"' in text  # the column is named
    for column in ("email", "phone", "last_name", "birth_date"):
        assert record[column] not in text, column


def test_a_dead_endpoint_spools_without_failing_and_replay_delivers(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = closed_port()
    url = f"http://127.0.0.1:{port}"
    settings = dataclasses.replace(Settings.for_project(project), lineage=LineageSettings("http", url))
    outcomes = run_all(
        settings, dg.DagsterInstance.ephemeral(), plan(settings, ["sources/shop/products"], ["2026-11-01"])
    )
    assert all(o.ok for o in outcomes)  # the data run does not care about lineage delivery
    spool = settings.artifacts_dir / "lineage" / "spool.jsonl"
    assert len(spool.read_text().splitlines()) == 3  # START, COMPLETE, checks
    monkeypatch.setenv("OPENLINEAGE_URL", url)
    with Receiver(port=port) as receiver:
        assert main(["lineage", "replay", "--project", str(project)]) == 0
    assert [e["eventType"] for e in receiver.bodies()] == ["START", "COMPLETE", "COMPLETE"]
    assert not spool.exists() or not spool.read_text().strip()

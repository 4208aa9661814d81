"""The real ``dagster dev`` on a copy of this repository, operated the way a user operates it.

One server serves the whole module: a backfill of three days is launched over GraphQL (the
mutation the UI's launch dialog sends), its results are read back over GraphQL, the UI is opened in
headless Chromium, and the same backfill is launched again to show that re-running changes nothing
in the warehouse. The tests run in file order and share the server and the first backfill.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pytest
from filelock import FileLock
from playwright.sync_api import Locator, Page, expect, sync_playwright

from tests.e2e.devserver import DevServer, start_dagster_dev, wait_until

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
DAYS = ["2026-11-01", "2026-11-02", "2026-11-03"]
AS_OF = "2026-11-04T06:00:00Z"
SOURCES = ["sources/crm/customers", "sources/shop/customers", "sources/shop/orders", "sources/shop/products"]
GOLDEN = "golden/customers"  # unpartitioned: the backfill builds it once, after the three days
DAILY_MARTS = ["marts/sales/customer_orders", "marts/sales/daily_revenue"]
BACKFILL_ASSETS = [*SOURCES, GOLDEN, *DAILY_MARTS]
#: runs queue on the warehouse pool (one step at a time); one backfill takes ~2.5 min on 2 cores
BACKFILL_TIMEOUT_S = 900
#: what the backfilled assets write: tables and quarantine, golden records, marts
BACKFILLED_SCHEMAS = ("sources", "quarantine", "golden", "marts")
#: the platform's append-only history (indicators, distributions, certificates): it grows by design
HISTORY_SCHEMAS = ("trust",)
#: judged from the other checks by the certification policy; assert_certification covers it
CERTIFICATION_CHECK = "certification"
#: WARN checks judged against the measurements of earlier materializations: in a backfill the days
#: run in whatever order the queue gives them, so their outcome is not fixed by the data alone
HISTORY_CHECKS = frozenset({"volume", "drift", "confidence"})
CHROMIUM = Path("/usr/bin/chromium")
#: this machine has no internet: keep Chromium from calling home
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
#: the UI loads its data over GraphQL after the page; on 2 busy cores that can take a while
UI_TIMEOUT_MS = 60_000
#: screenshots the docs show; regenerated with DTE_UPDATE_SCREENSHOTS=1
DOCS_IMAGES = REPO / "docs" / "images"
DOCS_SHOTS = {
    "asset_catalog",
    "backfill_launch",
    "backfill",
    "orders_checks",
    "orders_certification",
    "crm_demoted",
}
CRM = "sources/crm/customers"
#: what the backfill builds that reads the CRM customers, directly or not
CRM_DOWNSTREAM = {GOLDEN, *DAILY_MARTS}

Snapshot = dict[str, list[tuple[Any, ...]]]


@dataclass
class Backfill:
    """The first backfill, finished: its id, runs, and the warehouse it left behind."""

    backfill_id: str
    status: str
    runs: list[dict[str, Any]]
    warehouse: Snapshot
    history_rows: int


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """What a deployment of the code location holds: the repo's wiring, contracts and sample landing data."""
    root = tmp_path_factory.mktemp("dagster_dev")
    project = root / "project"
    ignore = shutil.ignore_patterns("__pycache__")
    for folder in ("assets", "checks", "resources"):
        shutil.copytree(REPO / folder, project / folder, ignore=ignore)
    for file in ("definitions.py", "workspace.yaml"):
        shutil.copy2(REPO / file, project / file)
    shutil.copytree(REPO / "data" / "landing", project / "data" / "landing")
    home = root / "dagster_home"
    home.mkdir()
    shutil.copy2(REPO / "resources" / "dagster_dev.yaml", home / "dagster.yaml")
    return project


@pytest.fixture(scope="module")
def server(project: Path) -> Iterator[DevServer]:
    # freshness and certificate expiry are judged the morning after the backfilled days
    dev = start_dagster_dev(
        project, project.parent / "dagster_home", project.parent / "dagster_dev.log", env={"DTE_AS_OF": AS_OF}
    )
    try:
        dev.wait_for_http(timeout_s=120)
        dev.wait_for_location(timeout_s=180)
        yield dev
    finally:
        print(f"--- tail of {dev.log_path} ---\n{dev.log_tail(120)}")  # shown by pytest on failure
        dev.stop()


@pytest.fixture(scope="module")
def first_backfill(server: DevServer, project: Path) -> Backfill:
    backfill_id = server.launch_asset_backfill(BACKFILL_ASSETS, DAYS, title="e2e: three days")
    finished = server.wait_for_backfill(backfill_id, BACKFILL_TIMEOUT_S)
    warehouse, history_rows = read_warehouse(warehouse_path(project))
    return Backfill(backfill_id, finished["status"], finished["runs"], warehouse, history_rows)


def test_backfill_materializes_every_day_of_every_selected_asset(
    server: DevServer, first_backfill: Backfill
) -> None:
    assert first_backfill.status == "COMPLETED_SUCCESS"
    nodes = asset_nodes(server, BACKFILL_ASSETS)
    for key in [*SOURCES, *DAILY_MARTS]:
        assert materialized_days(nodes[key]) >= set(DAYS), key
        runs = [run for run in first_backfill.runs if key in run_assets(run)]
        assert sorted(run_partition(run) or "" for run in runs) == DAYS, f"{key}: one run per day"
    golden_runs = [run for run in first_backfill.runs if GOLDEN in run_assets(run)]
    assert len(golden_runs) == 1, "the unpartitioned golden dataset is built once per backfill"
    assert run_partition(golden_runs[0]) is None


def test_every_backfill_run_succeeds(server: DevServer, first_backfill: Backfill) -> None:
    failed = {
        run_label(run): server.step_failures(run["runId"])
        for run in first_backfill.runs
        if run["status"] != "SUCCESS"
    }
    assert not failed, f"backfill runs failed: {failed}"


def test_checks_run_with_every_materialization_and_pass(server: DevServer, first_backfill: Backfill) -> None:
    """The sample is clean on 11-01..03, so every contract, conservation and reconciliation check
    passes. Freshness is table-wide: a day that runs before the newer ones may find the table stale,
    but the server judges it as of the next morning, so once all days are in it passes."""
    nodes = asset_nodes(server, BACKFILL_ASSETS)
    run_ids = {run["runId"] for run in first_backfill.runs}
    failures: set[tuple[str, str, str]] = set()
    for key in BACKFILL_ASSETS:
        executions = check_executions(server, key, check_names(nodes[key]), run_ids)
        evaluations = [e for e in executions if e["passed"] is not None]
        for run in (r for r in first_backfill.runs if key in run_assets(r)):
            evaluated = {e["check"] for e in evaluations if e["runId"] == run["runId"]}
            assert expected_checks(key, nodes[key]) <= evaluated, (key, run_partition(run))
        history = [e for e in evaluations if e["check"] in HISTORY_CHECKS]
        assert {e["severity"] for e in history} <= {"WARN"}, f"{key}: history checks never block"
        failures |= {
            (key, e["check"], e["severity"])
            for e in evaluations
            if not e["passed"] and e["check"] not in HISTORY_CHECKS | {CERTIFICATION_CHECK, "freshness"}
        }
    assert failures == set()
    for key in SOURCES:
        assert "freshness" in check_names(nodes[key]), f"{key} declares an SLA"
        latest = next(
            e for e in check_executions(server, key, {"freshness"}, run_ids) if e["passed"] is not None
        )
        assert latest["passed"], f"{key}: fresh as of {AS_OF} once every day is loaded"


def test_each_day_shows_its_own_check_results(
    server: DevServer, first_backfill: Backfill, project: Path
) -> None:
    """A daily asset's per-day checks are judged per day: the UI's check list and its Partitions view
    show each day's result, not a planned execution that never got one (shown as *Skipped*). The
    contract's quality rules judge the whole table and are not per day."""
    nodes = asset_nodes(server, [*SOURCES, *DAILY_MARTS])
    run_ids = {run["runId"] for run in first_backfill.runs}
    table_wide = _table_wide_checks(project)
    unresolved = []
    for key, node in nodes.items():
        checks = expected_checks(key, node) - table_wide.get(key, set())
        by_day = {
            (e["check"], e["partition"]): e["status"] for e in check_executions(server, key, checks, run_ids)
        }
        unresolved += [
            f"{key}:{check} {day} {by_day.get((check, day), 'missing')}"
            for check in sorted(checks)
            for day in DAYS
            if by_day.get((check, day)) != "SUCCEEDED"
        ]
    assert not unresolved, f"{len(unresolved)} day-level check results not recorded, e.g. {unresolved[:5]}"


def _table_wide_checks(project: Path) -> dict[str, set[str]]:
    from dte_platform.compiler.project import compile_project
    from dte_platform.settings import Settings

    return {
        "/".join(c.key_path): {r.check_name for r in c.rules if not r.per_partition}
        for _, _, c in compile_project(Settings.for_project(project))
    }


def test_backfilling_again_leaves_the_warehouse_identical(
    server: DevServer, first_backfill: Backfill, project: Path
) -> None:
    second = server.launch_asset_backfill(BACKFILL_ASSETS, DAYS, title="e2e: the same three days again")
    finished = server.wait_for_backfill(second, BACKFILL_TIMEOUT_S)
    assert finished["status"] == "COMPLETED_SUCCESS"
    warehouse, history_rows = read_warehouse(warehouse_path(project))
    assert sorted(warehouse) == sorted(first_backfill.warehouse)
    changed = [table for table, rows in warehouse.items() if rows != first_backfill.warehouse[table]]
    assert not changed, f"re-running the backfill changed {changed}"
    assert history_rows > first_backfill.history_rows, "every run appends its measurements to trust.*"


def test_every_asset_is_certified(server: DevServer, first_backfill: Backfill, project: Path) -> None:
    assert_certification(server, BACKFILL_ASSETS, project)


def test_ui_shows_assets_checks_and_the_backfill(
    server: DevServer, first_backfill: Backfill, project: Path
) -> None:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is absent: `make browser` installs Debian's chromium")
    server.mark_welcome_seen()
    with browser_page(project) as (page, camera):
        show_catalog(page, server, camera)
        show_backfill_dialog(page, camera)
        show_orders(page, server, camera)
        show_backfill(page, server, first_backfill.backfill_id, camera)
    shots = project / "artifacts" / "screenshots"
    expected = {"asset_catalog", "backfill_launch", "orders", "orders_checks", "orders_freshness", "backfill"}
    assert {p.stem for p in shots.glob("*.png")} >= expected


def test_a_broken_file_demotes_its_source_and_everything_downstream_until_it_is_fixed(
    server: DevServer, first_backfill: Backfill, project: Path
) -> None:
    """The README tour's demotion: a CRM day re-sent with every last name blank. The landing sensor
    re-loads the day, the certification sensor demotes the source and what reads it (each naming
    its upstream), the other sources keep their certificates, certified.* does not change; once
    the file is put back, the day loads again and every certificate is restored."""
    assert_certification(server, BACKFILL_ASSETS, project)
    before = _certified_snapshot(project)
    landing = project / "data" / "landing" / "crm" / "customers" / f"{DAYS[-1]}.jsonl"
    original = landing.read_text(encoding="utf-8")
    landing.write_text(re.sub(r'"last_name": "[^"]*"', '"last_name": null', original), encoding="utf-8")
    demoted = wait_until(
        lambda: _demoted(server, {CRM, *CRM_DOWNSTREAM}),
        timeout_s=600,
        what="the demotion of the CRM customers",
    )
    assert any("contract__last_name__required" in r for r in demoted[CRM]["reasons"]), demoted[CRM]
    for key in CRM_DOWNSTREAM:
        assert any("upstream" in r for r in demoted[key]["reasons"]), (key, demoted[key])
    others = _certifications(server, [k for k in SOURCES if k != CRM])
    assert others is not None and all(d["certified"] for d, _ in others.values())
    wait_until(lambda: _promotions_done(server), timeout_s=300, what="the promotion runs to finish")
    assert _certified_snapshot(project) == before
    if CHROMIUM.exists():
        show_demotion(server, project)
    landing.write_text(original, encoding="utf-8")
    wait_until(
        lambda: _restored(server, [CRM, *CRM_DOWNSTREAM]), timeout_s=600, what="the certificates restored"
    )


def _demoted(client: DevServer, keys: set[str]) -> dict[str, dict[str, Any]] | None:
    found = _certifications(client, sorted(keys))
    if found is None or any(decision["certified"] for decision, _ in found.values()):
        return None
    return {key: decision for key, (decision, _) in found.items()}


def _restored(client: DevServer, keys: list[str]) -> bool | None:
    found = _certifications(client, keys)
    return True if found is not None and all(d["certified"] for d, _ in found.values()) else None


def _certified_snapshot(project: Path) -> dict[str, list[tuple[Any, ...]]]:
    path = warehouse_path(project)
    with (
        FileLock(str(path.with_name(path.name + ".lock")), timeout=600),
        duckdb.connect(str(path), read_only=True) as conn,
    ):
        names = rows(
            conn, "SELECT table_name FROM information_schema.tables WHERE table_schema = 'certified'"
        )
        return {n: rows(conn, f'SELECT * FROM certified."{n}" ORDER BY ALL') for (n,) in names}


def show_demotion(server: DevServer, project: Path) -> None:
    with browser_page(project) as (page, camera):
        page.goto(f"{server.url}/assets/{CRM}")
        page.get_by_role("tab", name="Checks").click()
        page.get_by_placeholder("Filter checks").fill("certification")
        page.get_by_text("certification", exact=True).first.click()
        visible(page.get_by_text("not certified: needs silver", exact=False))
        visible(page.get_by_text("contract__last_name__required", exact=False))
        camera.shoot("crm_demoted")


@contextmanager
def browser_page(project: Path) -> Iterator[tuple[Page, Camera]]:
    """Headless Debian Chromium with no network, a page of the docs' size, and the camera that
    keeps screenshots in the project (and in docs/images/ with DTE_UPDATE_SCREENSHOTS=1)."""
    shots = project / "artifacts" / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    docs = DOCS_IMAGES if os.environ.get("DTE_UPDATE_SCREENSHOTS") == "1" else None
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(UI_TIMEOUT_MS)
            yield page, Camera(page, shots, docs)
        finally:
            browser.close()


def assert_certification(client: DevServer, asset_keys: list[str], project: Path) -> None:
    """The certification sensor (on by default) judged every backfilled asset: its observation
    carries ``dte/certification``, its ``certification`` check agrees with it, the required level
    is the one the asset's tag announces, and each certified asset was published to certified.*."""
    decisions = wait_until(
        lambda: _certifications(client, asset_keys), timeout_s=300, what="a certification of every asset"
    )
    wait_until(lambda: _promotions_done(client), timeout_s=300, what="the promotion runs to finish")
    tiers = {
        "/".join(node["assetKey"]["path"]): {t["key"]: t["value"] for t in node["tags"]}["dte/required_tier"]
        for node in client.graphql(TAGS_QUERY, {"keys": [{"path": k.split("/")} for k in asset_keys]})[
            "assetNodes"
        ]
    }
    for key, (decision, check_passed) in decisions.items():
        assert decision["required"] == tiers[key], key
        assert check_passed is decision["certified"], key
        # the days are clean and fresh as of the next morning: schema and freshness hold everywhere
        assert decision["level"] in {"bronze", "silver", "gold"}, (key, decision["reasons"])
        assert decision["certified"] or decision["reasons"], key
    certified = {key for key, (decision, _) in decisions.items() if decision["certified"]}
    # the sample seeds only defects its contracts quarantine within their tolerance
    assert certified == set(asset_keys), {
        k: d["reasons"] for k, (d, _) in decisions.items() if not d["certified"]
    }
    # every certified asset's version is what consumers of certified.* read
    assert _certified_tables(project) >= {_certified_name(k) for k in certified}


TAGS_QUERY = """
query Tags($keys: [AssetKeyInput!]) { assetNodes(assetKeys: $keys) { assetKey { path } tags { key value } } }
"""

OBSERVATION_QUERY = """
query Observation($key: AssetKeyInput!) {
  assetOrError(assetKey: $key) {
    ... on Asset {
      assetObservations(limit: 1) {
        metadataEntries { label ... on JsonMetadataEntry { jsonString } }
      }
    }
  }
}
"""

PROMOTIONS_QUERY = """
{ runsOrError(filter: {pipelineName: "dte_certification"}) { ... on Runs { results { status } } } }
"""


def _certifications(client: DevServer, keys: list[str]) -> dict[str, tuple[dict[str, Any], bool]] | None:
    out = {}
    for key in keys:
        result = client.graphql(OBSERVATION_QUERY, {"key": {"path": key.split("/")}})["assetOrError"]
        observations = result.get("assetObservations") or []
        entries = {e["label"]: e.get("jsonString") for o in observations for e in o["metadataEntries"]}
        variables = {"key": {"path": key.split("/")}, "check": CERTIFICATION_CHECK}
        checks = client.graphql(CHECK_EXECUTIONS_QUERY, variables)["assetCheckExecutions"]
        evaluated = [c for c in checks if c["evaluation"] is not None]
        if not entries.get("dte/certification") or not evaluated:
            return None
        decision, passed = (
            json.loads(entries["dte/certification"]),
            bool(evaluated[0]["evaluation"]["success"]),
        )
        if decision["certified"] is not passed:
            return None  # a check run inside a materialization is newer than the sensor's next tick
        out[key] = (decision, passed)
    return out


def _promotions_done(client: DevServer) -> bool | None:
    runs = client.graphql(PROMOTIONS_QUERY)["runsOrError"]["results"]
    finished = runs and all(r["status"] in {"SUCCESS", "FAILURE", "CANCELED"} for r in runs)
    if finished:
        assert all(r["status"] == "SUCCESS" for r in runs), runs
    return True if finished else None


def _certified_name(key: str) -> str:
    layer, *rest = key.split("/")
    return "__".join([layer, *rest])


def _certified_tables(project: Path) -> set[str]:
    path = warehouse_path(project)
    with (
        FileLock(str(path.with_name(path.name + ".lock")), timeout=120),
        duckdb.connect(str(path), read_only=True) as conn,
    ):
        rows = conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'certified'"
        ).fetchall()
    return {r[0] for r in rows}


# --- GraphQL reads ------------------------------------------------------------------------------

ASSET_NODES_QUERY = """
query AssetNodes($keys: [AssetKeyInput!]) {
  assetNodes(assetKeys: $keys) {
    assetKey { path }
    isPartitioned
    assetPartitionStatuses {
      __typename
      ... on TimePartitionStatuses { ranges { status startKey endKey } }
    }
    assetChecksOrError {
      __typename
      ... on AssetChecks { checks { name } }
    }
  }
}
"""

CHECK_EXECUTIONS_QUERY = """
query CheckExecutions($key: AssetKeyInput!, $check: String!) {
  assetCheckExecutions(assetKey: $key, checkName: $check, limit: 200) {
    runId
    status
    partition
    evaluation { success severity }
  }
}
"""


def asset_nodes(server: DevServer, keys: list[str]) -> dict[str, dict[str, Any]]:
    variables = {"keys": [{"path": key.split("/")} for key in keys]}
    nodes = server.graphql(ASSET_NODES_QUERY, variables)["assetNodes"]
    by_key = {"/".join(node["assetKey"]["path"]): node for node in nodes}
    assert set(by_key) == set(keys), f"the code location lacks {set(keys) - set(by_key)}"
    return by_key


def materialized_days(node: dict[str, Any]) -> set[str]:
    """Days inside MATERIALIZED ranges (each range is consecutive days, ends included)."""
    days: set[str] = set()
    for time_range in node["assetPartitionStatuses"].get("ranges", []):
        if time_range["status"] != "MATERIALIZED":
            continue
        day, end = dt.date.fromisoformat(time_range["startKey"]), dt.date.fromisoformat(time_range["endKey"])
        while day <= end:
            days.add(day.isoformat())
            day += dt.timedelta(days=1)
    return days


def check_names(node: dict[str, Any]) -> set[str]:
    return {check["name"] for check in node["assetChecksOrError"].get("checks", [])}


def expected_checks(key: str, node: dict[str, Any]) -> set[str]:
    """Checks every materialization evaluates: the contract's rules and, for sources, conservation.

    Others (certification, judged later by a sensor) are not tied to one materialization run.
    """
    contract = {name for name in check_names(node) if name.startswith("contract__")}
    return contract | ({"conservation"} if key.startswith("sources/") else set())


def check_executions(
    server: DevServer, key: str, checks: set[str], run_ids: set[str]
) -> list[dict[str, Any]]:
    """Each execution of the asset's checks in the given runs, as the UI lists them: the check,
    run, partition and status, and for an evaluated one whether it passed and its severity."""
    executions = []
    for check in sorted(checks):
        variables = {"key": {"path": key.split("/")}, "check": check}
        for execution in server.graphql(CHECK_EXECUTIONS_QUERY, variables)["assetCheckExecutions"]:
            if execution["runId"] not in run_ids:
                continue
            evaluation = execution["evaluation"] or {}
            executions.append(
                {
                    "check": check,
                    "runId": execution["runId"],
                    "partition": execution["partition"],
                    "status": execution["status"],
                    "passed": evaluation.get("success"),
                    "severity": evaluation.get("severity"),
                }
            )
    return executions


def run_assets(run: dict[str, Any]) -> set[str]:
    return {"/".join(key["path"]) for key in run["assetSelection"] or []}


def run_label(run: dict[str, Any]) -> str:
    return f"{run_partition(run) or 'unpartitioned'} {sorted(run_assets(run))}"


def run_partition(run: dict[str, Any]) -> str | None:
    """The run's partition: its ``dagster/partition`` tag, or the range a backfill policy gave it."""
    tags = {tag["key"]: tag["value"] for tag in run["tags"]}
    start = tags.get("dagster/asset_partition_range_start")
    end = tags.get("dagster/asset_partition_range_end")
    if start is not None:
        return start if start == end else f"{start}...{end}"
    return tags.get("dagster/partition")


# --- the warehouse --------------------------------------------------------------------------------


def warehouse_path(project: Path) -> Path:
    return project / "data" / "warehouse.duckdb"


def read_warehouse(path: Path) -> tuple[Snapshot, int]:
    """The rows of every table the backfill writes, in a stable order, and the history's row count.

    ``certified.*`` is left out: the certification sensor publishes there on its own schedule, so
    its content depends on when the snapshot is taken, not on the backfill.

    The platform's writers take the lock file next to the warehouse before they open it
    (``dte_platform.warehouse.connect``); holding it lets a reader in between two runs while
    ``dagster dev`` keeps running.
    """
    with FileLock(str(path.with_name(path.name + ".lock")), timeout=600):
        conn = duckdb.connect(str(path), read_only=True)
        try:
            tables = rows(conn, "SELECT table_schema, table_name FROM information_schema.tables ORDER BY ALL")
            snapshot: Snapshot = {}
            history_rows = 0
            for schema, table in tables:
                ref = f'"{schema}"."{table}"'
                if schema in HISTORY_SCHEMAS:
                    history_rows += rows(conn, f"SELECT count(*) FROM {ref}")[0][0]
                elif schema in BACKFILLED_SCHEMAS:
                    snapshot[f"{schema}.{table}"] = rows(conn, f"SELECT * FROM {ref} ORDER BY ALL")
            return snapshot, history_rows
        finally:
            conn.close()


def rows(conn: duckdb.DuckDBPyConnection, sql: str) -> list[tuple[Any, ...]]:
    return conn.execute(sql).fetchall()


# --- the browser ------------------------------------------------------------------------------------


@dataclass
class Camera:
    """Full-page screenshots for the test's artifacts; viewport-sized copies for the docs."""

    page: Page
    folder: Path
    docs: Path | None

    def shoot(self, name: str) -> None:
        self.page.screenshot(path=str(self.folder / f"{name}.png"), full_page=True)
        if self.docs is not None and name in DOCS_SHOTS:
            self.docs.mkdir(parents=True, exist_ok=True)
            self.page.screenshot(path=str(self.docs / f"{name}.png"))


def visible(locator: Locator) -> None:
    """Wait until the UI renders it (the first match): data arrive over GraphQL after the page."""
    expect(locator.first).to_be_visible(timeout=UI_TIMEOUT_MS)


def show_catalog(page: Page, server: DevServer, camera: Camera) -> None:
    page.goto(f"{server.url}/assets")
    for key in BACKFILL_ASSETS:
        visible(page.locator(f'a[href="/assets/{key}"]'))
    visible(page.get_by_text("sources_shop"))  # the contract's domain as the asset group
    # statuses arrive last: the golden dataset's, then the partition counts of the daily assets
    visible(page.get_by_text("Materialized", exact=True))
    visible(page.get_by_text(re.compile(r"^\d+ partitions$")))
    camera.shoot("asset_catalog")


def show_backfill_dialog(page: Page, camera: Camera) -> None:
    """Select the assets, open the launch dialog, type the range; cancel (GraphQL launches it)."""
    for key in BACKFILL_ASSETS:
        page.locator(f'label:has([data-testid="checkbox-{key}"])').click()
    page.get_by_role("button", name="Materialize selected").click()
    dialog = page.get_by_role("dialog")
    visible(dialog.get_by_text(f"Launch runs to materialize {len(BACKFILL_ASSETS)} assets"))
    partitions = dialog.locator("input[type=text]")  # appears once the partitions are loaded
    visible(partitions)
    partitions.first.fill(f"[{DAYS[0]}...{DAYS[-1]}]")  # the dialog's range syntax
    partitions.first.press("Enter")
    visible(dialog.get_by_text(f"{len(DAYS)} partitions", exact=True))
    visible(dialog.get_by_role("button", name="Launch backfill"))
    camera.shoot("backfill_launch")
    dialog.get_by_role("button", name="Cancel", exact=True).click()
    expect(dialog).to_have_count(0, timeout=UI_TIMEOUT_MS)


def show_orders(page: Page, server: DevServer, camera: Camera) -> None:
    page.goto(f"{server.url}/assets/sources/shop/orders")
    visible(page.get_by_text("sources.shop__orders"))  # the table it writes
    visible(page.get_by_text("order_id"))  # the contract's columns
    camera.shoot("orders")
    page.get_by_role("tab", name="Checks").click()
    for check in ("conservation", "contract__amount__required", "contract__amount__minimum"):
        visible(page.get_by_text(check, exact=True))
    page.get_by_text("contract__amount__minimum", exact=True).first.click()
    visible(page.get_by_text("schema.orders.properties.amount.logicalTypeOptions.minimum"))  # where declared
    visible(page.get_by_text("Passed", exact=True))
    camera.shoot("orders_checks")
    page.get_by_placeholder("Filter checks").fill("freshness")
    page.get_by_text("freshness", exact=True).first.click()
    visible(page.get_by_text("dte/lag_seconds"))  # measured on the data, as of the server's DTE_AS_OF
    visible(page.get_by_text("dte/measured_at"))
    camera.shoot("orders_freshness")
    page.get_by_placeholder("Filter checks").fill("certification")
    page.get_by_text("certification", exact=True).first.click()
    for label in ("dte/certified_level", "dte/required_level", "dte/reasons"):
        visible(page.get_by_text(label))
    camera.shoot("orders_certification")


def show_backfill(page: Page, server: DevServer, backfill_id: str, camera: Camera) -> None:
    page.goto(f"{server.url}/runs/b/{backfill_id}")
    visible(page.get_by_text(f"{DAYS[0]}...{DAYS[-1]}"))  # the partition selection
    visible(page.get_by_text("Succeeded"))
    for key in BACKFILL_ASSETS:
        visible(page.get_by_text(key.replace("/", " / "), exact=True))
    camera.shoot("backfill")

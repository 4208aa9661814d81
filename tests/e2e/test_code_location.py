"""The real code location (definitions.py) on the committed sample data."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from tests.conftest import REPO

EXPECTED_ASSETS = {
    "golden/customers",
    "marts/customers/customer_lifetime_value",
    "marts/sales/customer_orders",
    "marts/sales/daily_revenue",
    "sources/crm/customers",
    "sources/shop/customers",
    "sources/shop/orders",
    "sources/shop/products",
}


def load_code_location(project: Path, monkeypatch: pytest.MonkeyPatch) -> dg.Definitions:
    monkeypatch.setenv("DTE_PROJECT_DIR", str(project))
    monkeypatch.syspath_prepend(str(REPO))
    spec = importlib.util.spec_from_file_location("dte_code_location", REPO / "definitions.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.defs


def lint(path: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "dte_platform.cli", "contracts", "lint", path]
    return subprocess.run(command, capture_output=True, text=True, check=False)


def test_asset_graph_snapshot(sample_project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    defs = load_code_location(sample_project, monkeypatch)
    graph = defs.resolve_asset_graph()
    assert {k.to_user_string() for k in graph.get_all_asset_keys()} == EXPECTED_ASSETS
    checks = {f"{k.asset_key.to_user_string()}:{k.name}" for k in graph.asset_check_keys}
    assert "sources/shop/orders:orders_reference_known_products" in checks
    assert "sources/shop/orders:contract__status__invalid_values" in checks
    assert "sources/crm/customers:contract__email__format" in checks
    assert sum(1 for c in checks if c.endswith(":conservation")) == 4
    assert "golden/customers:xref_conservation" in checks
    golden = graph.get(dg.AssetKey(["golden", "customers"]))
    assert {k.to_user_string() for k in golden.parent_keys} == {
        "sources/crm/customers",
        "sources/shop/customers",
    }
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        assert node.tags["dte/risk"] in {"low", "medium", "high"}
        daily = key.path[0] == "sources" or key.path[-1] in {"customer_orders", "daily_revenue"}
        assert (node.partitions_def is not None) == daily


def test_every_committed_contract_lints(repo: Path) -> None:
    result = lint(str(repo / "assets"))
    assert result.returncode == 0, result.stdout
    assert "8 contract(s), 0 with errors" in result.stdout


def test_official_examples_load_with_not_enforced_notes(repo: Path) -> None:
    examples = repo / "tests" / "fixtures" / "odcs_examples"
    result = lint(str(examples))
    assert result.returncode == 0, result.stdout
    assert "5 contract(s), 0 with errors" in result.stdout
    out = result.stdout.replace("\n", " ")
    assert "not enforced: slaProperties.retention" in out
    assert "init-template-v3.2.0.odcs.yaml: ODCS v3.2.0" in out
    # the official v3.0.2 example uses v3.1.0's `metric` key: read as v3.1.0, and said so
    assert "column-completeness.odcs.yaml: ODCS v3.1.0" in out
    assert "note: apiVersion v3.0.2: read as v3.1.0" in out


def test_lint_fails_on_a_broken_contract(tmp_path: Path, repo: Path) -> None:
    broken = tmp_path / "broken.odcs.yaml"
    text = (
        (repo / "assets/sources/shop/orders.odcs.yaml")
        .read_text()
        .replace("logicalType: integer", "logicalType: int", 1)
    )
    broken.write_text(text)
    result = lint(str(broken))
    assert result.returncode == 1
    assert "schema.orders.properties.order_id.logicalType" in result.stdout.replace("\n", "")


def test_dte_run_materializes_the_sample_and_quarantines_seeded_defects(
    sample_project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DAGSTER_HOME", str(sample_project / ".dagster_home"))  # runs persist there
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "dte_platform.cli",
            "run",
            "--project",
            str(sample_project),
            "--partition",
            "2026-11-01...2026-11-03",
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert " ok, 0 failed" in result.stdout, result.stdout + result.stderr
    assert "golden/customers" in result.stdout
    assert result.returncode == 0
    warehouse = sample_project / "data" / "warehouse.duckdb"
    with duckdb.connect(str(warehouse), read_only=True) as con:
        days = con.execute("SELECT count(DISTINCT _partition_date) FROM sources.shop__orders").fetchall()
        reasons = dict(
            con.execute(
                "SELECT r, count(*) FROM (SELECT unnest(_rule_ids) AS r FROM quarantine.shop__orders) "
                "GROUP BY r"
            ).fetchall()
        )
        loaded = con.execute("SELECT count(*) FROM sources.shop__orders").fetchall()[0][0]
        quarantined = con.execute("SELECT count(*) FROM quarantine.shop__orders").fetchall()[0][0]
    assert days == [(3,)]
    assert {"amount__minimum", "quantity__minimum", "unparseable"} <= set(reasons)
    rows_in = (
        sum(
            1
            for day in ("01", "02", "03")
            for _ in (sample_project / f"data/landing/shop/orders/2026-11-{day}.csv").open()
        )
        - 3
    )
    assert loaded + quarantined == rows_in  # every landing line, header excluded, is somewhere


def test_readme_contract_example_lints_with_nothing_unenforced(repo: Path, tmp_path: Path) -> None:
    text = (repo / "README.md").read_text(encoding="utf-8")
    example = text.split("```yaml\n", 1)[1].split("```", 1)[0]
    target = tmp_path / "assets" / "sources" / "shop" / "returns.odcs.yaml"
    target.parent.mkdir(parents=True)
    target.write_text(example, encoding="utf-8")
    result = lint(str(target))
    assert result.returncode == 0, result.stdout
    assert "not enforced" not in result.stdout


SNAPSHOT = Path(__file__).with_name("asset_graph.snapshot.json")


def graph_snapshot(defs: dg.Definitions) -> dict:
    graph = defs.resolve_asset_graph()
    assets = {}
    for key in sorted(graph.get_all_asset_keys(), key=lambda k: k.to_user_string()):
        node = graph.get(key)
        checks = sorted(
            f"{c.name}{' (blocking)' if graph.get_check_spec(c).blocking else ''}"
            for c in graph.asset_check_keys
            if c.asset_key == key
        )
        assets[key.to_user_string()] = {
            "group": node.group_name,
            "deps": sorted(k.to_user_string() for k in node.parent_keys),
            "tags": dict(sorted(node.tags.items())),
            "kinds": sorted(node.kinds),
            "checks": checks,
        }
    return assets


def test_asset_graph_matches_the_committed_snapshot(
    sample_project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A change to the graph (keys, deps, checks, tags) shows up in review as a snapshot diff.

    Regenerate with ``UPDATE_SNAPSHOTS=1 make test`` after an intended change.
    """
    import json
    import os

    current = graph_snapshot(load_code_location(sample_project, monkeypatch))
    if os.environ.get("UPDATE_SNAPSHOTS"):
        SNAPSHOT.write_text(json.dumps(current, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    assert current == json.loads(SNAPSHOT.read_text(encoding="utf-8"))


def test_a_marts_code_version_changes_with_its_sql(
    sample_project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = dg.AssetKey(["marts", "sales", "daily_revenue"])

    def version() -> str | None:
        defs = load_code_location(sample_project, monkeypatch)
        return defs.resolve_assets_def(key).code_versions_by_key[key]

    before = version()
    sql = sample_project / "assets/marts/sales/daily_revenue.sql"
    sql.write_text(sql.read_text().replace("sum(amount)", "2 * sum(amount)", 1))
    assert "2 * sum(amount)" in sql.read_text()
    assert version() != before

"""Contracts -> Dagster definitions, materialized for real (dagster.materialize, DuckDB in tmp)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from dte_platform.errors import DefinitionError
from dte_platform.orchestration import build_definitions
from dte_platform.settings import Settings
from tests.helpers import contract, csv_text, orders_contract, source_dte, write_project

DAY = "2026-11-01"
ORDERS_CSV = csv_text(
    "order_id,email,amount,status,ordered_at",
    "1,canary-7f3a@example.com,10,paid,2026-11-01T10:00:00Z",
    "2,not-an-email-canary-9b1c,20,paid,2026-11-01T11:00:00Z",
    "3,c@example.com,-1,paid,2026-11-01T12:00:00Z",
)


def project(tmp_path: Path, **contracts: dict) -> Path:
    documents = {"sources/shop/orders.odcs.yaml": orders_contract(), **contracts}
    return write_project(tmp_path, documents, {"data/landing/shop/orders/2026-11-01.csv": ORDERS_CSV})


def materialize(settings: Settings, partition: str = DAY, instance: dg.DagsterInstance | None = None):
    defs = build_definitions(settings)
    return dg.materialize(
        list(defs.assets),
        partition_key=partition,
        resources=defs.resources,
        instance=instance or dg.DagsterInstance.ephemeral(),
        raise_on_error=False,
    )


def check_specs(defs: dg.Definitions) -> list[dg.AssetCheckSpec]:
    graph = defs.resolve_asset_graph()
    return [graph.get_check_spec(key) for key in graph.asset_check_keys]


def test_asset_spec_from_contract(tmp_path: Path) -> None:
    defs = build_definitions(Settings.for_project(project(tmp_path)))
    key = dg.AssetKey(["sources", "shop", "orders"])
    spec = defs.resolve_all_asset_specs()[0]
    assert spec.key == key
    assert spec.tags["dte/risk"] == "medium"
    assert spec.group_name == "sources_shop"
    assert {"duckdb", "csv"} <= spec.kinds
    assert isinstance(spec.partitions_def, dg.DailyPartitionsDefinition)
    assert spec.freshness_policy is not None
    schema = spec.metadata["dagster/column_schema"]
    assert [c.name for c in schema.columns] == ["order_id", "email", "amount", "status", "ordered_at"]
    checks = {c.name: c for c in check_specs(defs) if c.asset_key == key}
    assert checks["contract__amount__minimum"].blocking
    assert not checks["schema_drift"].blocking
    assert "freshness" in checks and "conservation" in checks


def test_materialization_records_rows_and_check_results(tmp_path: Path) -> None:
    result = materialize(Settings.for_project(project(tmp_path)))
    [event] = result.get_asset_materialization_events()
    metadata = event.step_materialization_data.materialization.metadata
    assert metadata["dte/rows_in"].value == 3
    assert metadata["dte/rows_loaded"].value + metadata["dte/rows_quarantined"].value == 3
    assert metadata["dagster/row_count"].value == 1
    evaluations = {e.check_name: e for e in result.get_asset_check_evaluations()}
    assert not evaluations["contract__amount__minimum"].passed
    assert evaluations["contract__amount__minimum"].severity == dg.AssetCheckSeverity.ERROR
    assert evaluations["conservation"].passed
    assert evaluations["contract__amount__minimum"].partition == DAY


def test_blocking_error_check_stops_downstream_but_warning_does_not(tmp_path: Path) -> None:
    settings = Settings.for_project(project(tmp_path))
    orders = build_definitions(settings).assets[0]

    @dg.asset(deps=[orders], partitions_def=orders.partitions_def)
    def downstream() -> None:
        return None

    defs = build_definitions(settings)
    result = dg.materialize(
        [*defs.assets, downstream], partition_key=DAY, resources=defs.resources, raise_on_error=False
    )
    assert not result.success
    assert dg.AssetKey("downstream") not in {e.asset_key for e in result.get_asset_materialization_events()}


def test_sensitive_values_never_reach_dagster_metadata(tmp_path: Path) -> None:
    instance = dg.DagsterInstance.ephemeral()
    materialize(Settings.for_project(project(tmp_path)), instance=instance)
    entries = [entry for run in instance.get_runs() for entry in instance.all_logs(run.run_id)]
    dumped = json.dumps([str(entry) for entry in entries])  # metadata, messages, logs: everything
    assert "contract__email__format" in dumped and "<redacted>" in dumped
    assert "canary-7f3a" not in dumped and "not-an-email-canary-9b1c" not in dumped


def test_a_dropped_in_contract_is_a_new_asset_with_checks(tmp_path: Path) -> None:
    products = contract(
        name="products",
        domain="shop",
        properties=[
            {"name": "sku", "logicalType": "string", "primaryKey": True},
            {"name": "price", "logicalType": "number", "logicalTypeOptions": {"minimum": 0}},
        ],
        dte=source_dte("data/landing/shop/products/{date}.csv"),
    )
    root = project(tmp_path, **{"sources/shop/products.odcs.yaml": products})
    (root / "data/landing/shop/products").mkdir(parents=True)
    (root / "data/landing/shop/products/2026-11-01.csv").write_text(csv_text("sku,price", "A,1", "B,-2"))
    settings = Settings.for_project(root)
    defs = build_definitions(settings)
    keys = {s.key.to_user_string() for s in defs.resolve_all_asset_specs()}
    assert keys == {"sources/shop/orders", "sources/shop/products"}
    checks = {c.name for c in check_specs(defs) if c.asset_key.path[-1] == "products"}
    assert {"contract__price__minimum", "contract__primary_key", "conservation"} <= checks
    materialize(settings)
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        assert con.execute("SELECT sku FROM sources.shop__products").fetchall() == [("A",)]


def test_broken_contract_fails_loading_with_file_and_field(tmp_path: Path) -> None:
    broken = orders_contract()
    broken["schema"][0]["properties"][2]["logicalType"] = "money"
    root = write_project(tmp_path, {"sources/shop/orders.odcs.yaml": broken}, {})
    with pytest.raises(DefinitionError) as caught:
        build_definitions(Settings.for_project(root))
    message = str(caught.value)
    assert "orders.odcs.yaml" in message
    assert "schema.orders.properties.amount.logicalType" in message


def test_landing_error_fails_the_run_with_a_clear_message(tmp_path: Path) -> None:
    root = project(tmp_path)
    (root / "data/landing/shop/orders/2026-11-01.csv").write_text("order_id,status\n1,paid\n")
    result = materialize(Settings.for_project(root))
    assert not result.success
    failure = next(e for e in result.all_events if e.is_step_failure)
    assert "required column(s) missing: amount" in failure.step_failure_data.error.message


def test_reconciliation_check_from_checks_folder(tmp_path: Path) -> None:
    root = project(tmp_path)
    (root / "checks").mkdir()
    (root / "checks/reconciliations.yaml").write_text(
        "reconciliations:\n  - name: status_known\n    asset: sources/shop/orders\n    type: referential\n"
        "    columns: [nope]\n    references: {asset: sources/shop/orders, columns: [status]}\n"
    )
    with pytest.raises(
        DefinitionError, match=r"reconciliations\.status_known\.columns: sources/shop/orders has no column"
    ):
        build_definitions(Settings.for_project(root))


CONCURRENT = """
import sys, dagster as dg
from dte_platform.orchestration import build_definitions
from dte_platform.settings import Settings
defs = build_definitions(Settings.for_project(sys.argv[1]))
result = dg.materialize(list(defs.assets), partition_key=sys.argv[2], resources=defs.resources,
                        raise_on_error=False)
ok = bool(result.get_asset_materialization_events())
print("MATERIALIZED" if ok else "FAILED")
"""


@pytest.mark.slow
def test_two_runs_launched_at_the_same_time_both_succeed(tmp_path: Path) -> None:
    root = project(tmp_path)
    (root / "data/landing/shop/orders/2026-11-02.csv").write_text(
        ORDERS_CSV.replace("2026-11-01", "2026-11-02")
    )
    script = tmp_path / "run.py"
    script.write_text(CONCURRENT)
    procs = [
        subprocess.Popen(
            [sys.executable, str(script), str(root), day],
            stdout=subprocess.PIPE,
            text=True,
            stderr=subprocess.DEVNULL,
        )
        for day in ("2026-11-01", "2026-11-02", "2026-11-01")
    ]
    outputs = [p.communicate(timeout=300)[0] for p in procs]
    assert all(p.returncode == 0 for p in procs)
    assert all("MATERIALIZED" in out for out in outputs)
    with duckdb.connect(str(root / "data/warehouse.duckdb"), read_only=True) as con:
        counts = con.execute(
            "SELECT _partition_date::VARCHAR, count(*) FROM sources.shop__orders GROUP BY 1 ORDER BY 1"
        ).fetchall()
    assert counts == [("2026-11-01", 1), ("2026-11-02", 1)]  # same partition twice: replaced, not duplicated

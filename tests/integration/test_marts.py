"""Marts: dependencies and column lineage from the SQL, clear SQL errors, atomic and partial rebuilds."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from dte_platform.errors import DefinitionError
from dte_platform.marts.catalog import warehouse_tables
from dte_platform.marts.jobs import mart_job
from dte_platform.marts.run import build_mart
from dte_platform.orchestration import build_definitions
from dte_platform.orchestration.factories import compiled_datasets
from dte_platform.orchestration.headless import plan, run_all
from dte_platform.settings import Settings
from dte_platform.warehouse import connect
from tests.helpers import contract, csv_text, orders_contract, write_project

HEADER = "order_id,email,amount,status,ordered_at"
DAY1, DAY2 = "2026-11-01", "2026-11-02"
DAILY_SQL = """SELECT o._partition_date AS day, count(*) AS orders, sum(o.amount) AS revenue
FROM sources.shop__orders AS o WHERE o._partition_date = $partition_date GROUP BY 1"""
TOTAL_SQL = "SELECT count(*) AS orders, sum(amount) AS revenue FROM sources.shop__orders"


def mart(name: str, sql_name: str, properties: list[dict], partitioned: bool) -> dict:
    dte = {"risk": "low", "sql": sql_name}
    if partitioned:
        dte["partitioning"] = {"type": "daily", "start": DAY1}
    return contract(name=name, domain="sales", properties=properties, dte=dte)


DAILY = mart(
    "daily",
    "daily.sql",
    [
        {"name": "day", "logicalType": "date", "primaryKey": True},
        {"name": "orders", "logicalType": "integer"},
        {"name": "revenue", "logicalType": "number", "logicalTypeOptions": {"minimum": 0}},
    ],
    partitioned=True,
)
TOTAL = mart(
    "total",
    "total.sql",
    [{"name": "orders", "logicalType": "integer"}, {"name": "revenue", "logicalType": "number"}],
    partitioned=False,
)


def project(tmp_path: Path, daily_sql: str = DAILY_SQL, total_sql: str = TOTAL_SQL) -> Path:
    return write_project(
        tmp_path,
        {
            "sources/shop/orders.odcs.yaml": orders_contract(),
            "marts/sales/daily.odcs.yaml": DAILY,
            "marts/sales/total.odcs.yaml": TOTAL,
        },
        {
            "assets/marts/sales/daily.sql": daily_sql,
            "assets/marts/sales/total.sql": total_sql,
            f"data/landing/shop/orders/{DAY1}.csv": csv_text(
                HEADER, "1,a@x.org,10,paid,2026-11-01T10:00:00Z", "2,b@x.org,5,paid,2026-11-01T11:00:00Z"
            ),
            f"data/landing/shop/orders/{DAY2}.csv": csv_text(HEADER, "3,c@x.org,7,paid,2026-11-02T10:00:00Z"),
        },
    )


def load(root: Path) -> Settings:
    settings = Settings.for_project(root)
    outcomes = run_all(settings, dg.DagsterInstance.ephemeral(), plan(settings))
    assert all(o.ok for o in outcomes), [(o.asset, o.partition, o.error, o.failed_errors) for o in outcomes]
    return settings


def rows(settings: Settings, sql: str) -> list[tuple]:
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_dependencies_and_column_lineage_come_from_the_sql(tmp_path: Path) -> None:
    defs = build_definitions(Settings.for_project(project(tmp_path)))
    graph = defs.resolve_asset_graph()
    daily = graph.get(dg.AssetKey(["marts", "sales", "daily"]))
    assert {k.to_user_string() for k in daily.parent_keys} == {"sources/shop/orders"}
    assert isinstance(daily.partitions_def, dg.DailyPartitionsDefinition)
    lineage = daily.metadata["dagster/column_lineage"]
    assert lineage.deps_by_column["revenue"] == [
        dg.TableColumnDep(dg.AssetKey(["sources", "shop", "orders"]), "amount")
    ]
    assert lineage.deps_by_column["orders"] == []  # count(*) reads no particular column
    assert graph.get(dg.AssetKey(["marts", "sales", "total"])).partitions_def is None


def test_partitioned_and_whole_marts_build_in_order(tmp_path: Path) -> None:
    settings = load(project(tmp_path))
    assert rows(
        settings,
        "SELECT day::VARCHAR, orders, revenue::DOUBLE, _partition_date::VARCHAR "
        "FROM marts.sales__daily ORDER BY 1",
    ) == [(DAY1, 2, 15.0, DAY1), (DAY2, 1, 7.0, DAY2)]
    assert rows(settings, "SELECT orders, revenue::DOUBLE FROM marts.sales__total") == [(3, 22.0)]


def test_rebuilding_a_day_touches_only_that_day(tmp_path: Path) -> None:
    root = project(tmp_path)
    settings = load(root)
    (root / f"data/landing/shop/orders/{DAY1}.csv").write_text(
        csv_text(HEADER, "1,a@x.org,100,paid,2026-11-01T10:00:00Z")
    )
    defs = build_definitions(settings)
    for _ in range(2):  # idempotent
        dg.materialize(
            list(defs.assets),
            partition_key=DAY1,
            resources=defs.resources,
            selection=[dg.AssetKey(["sources", "shop", "orders"]), dg.AssetKey(["marts", "sales", "daily"])],
        )
    assert rows(
        settings, "SELECT day::VARCHAR, orders, revenue::DOUBLE FROM marts.sales__daily ORDER BY 1"
    ) == [(DAY1, 1, 100.0), (DAY2, 1, 7.0)]


def test_a_failing_rebuild_leaves_the_previous_version_readable(tmp_path: Path) -> None:
    settings = load(project(tmp_path))
    before = rows(settings, "SELECT * FROM marts.sales__total")
    datasets = compiled_datasets(settings)
    tables = warehouse_tables(
        (c, d.dte.partition_start is not None or d.dte.source is not None) for _, d, c in datasets
    )
    contract_, dataset, compiled = next(item for item in datasets if item[2].name == "total")
    total = mart_job(contract_, dataset, compiled, tables)
    broken = dataclasses.replace(
        total,
        model=dataclasses.replace(
            total.model,
            sql="SELECT count(*) AS orders, sum(CAST(email AS INTEGER)) AS revenue FROM sources.shop__orders",
        ),
    )
    with connect(settings.warehouse_path) as conn, pytest.raises(duckdb.ConversionException):
        build_mart(conn, broken, None)
    assert rows(settings, "SELECT * FROM marts.sales__total") == before


@pytest.mark.parametrize(
    ("sql", "where", "message"),
    [
        (
            "SELECT day, count(*) AS orders,\n  sum(amount) AS revenue FROM sources.shop__orderz "
            "WHERE x = $partition_date",
            "line 2, column 31",
            "unknown table sources.shop__orderz (known: ",
        ),
        ("SELECT day FROM (SELECT", "line 1", "SQL syntax error"),
        (
            "SELECT _partition_date AS day, count(*) AS orders FROM sources.shop__orders "
            "WHERE _partition_date = $partition_date GROUP BY 1",
            "",
            "missing ['revenue']",
        ),
        (
            "SELECT _partition_date AS day, count(*) AS orders, sum(amount) AS revenue "
            "FROM sources.shop__orders GROUP BY 1",
            "",
            "reads its day as $partition_date",
        ),
        ("SELECT * FROM read_csv('/etc/passwd')", "", "table functions are not allowed"),
    ],
)
def test_sql_errors_name_the_file_and_position(tmp_path: Path, sql: str, where: str, message: str) -> None:
    with pytest.raises(DefinitionError) as caught:
        build_definitions(Settings.for_project(project(tmp_path, daily_sql=sql)))
    assert caught.value.file.endswith("daily.sql")
    assert caught.value.field.startswith(where)
    assert message in caught.value.message


def test_totals_reconciliation_checks_a_mart_against_its_source(tmp_path: Path) -> None:
    root = project(tmp_path)
    (root / "checks").mkdir()
    (root / "checks/reconciliations.yaml").write_text(
        "reconciliations:\n  - name: revenue_adds_up\n    asset: marts/sales/daily\n    type: totals\n"
        "    columns: [revenue]\n"
        "    references: {asset: sources/shop/orders, columns: [amount], where: \"status = 'paid'\"}\n"
        "    severity: error\n"
    )
    outcomes = run_all(
        Settings.for_project(root), dg.DagsterInstance.ephemeral(), plan(Settings.for_project(root))
    )
    check = next(o for o in outcomes if "revenue_adds_up" in o.asset)
    assert check.ok and not check.failed_warnings
    (root / "checks/reconciliations.yaml").write_text(
        (root / "checks/reconciliations.yaml")
        .read_text()
        .replace("status = 'paid'", "status = 'paid' AND amount > 6")
    )
    outcomes = run_all(
        Settings.for_project(root), dg.DagsterInstance.ephemeral(), plan(Settings.for_project(root))
    )
    assert next(o for o in outcomes if "revenue_adds_up" in o.asset).failed_errors == ["revenue_adds_up"]


def test_building_before_the_inputs_exist_says_which_to_materialize(tmp_path: Path) -> None:
    defs = build_definitions(Settings.for_project(project(tmp_path)))
    total = [a for a in defs.assets if a.key == dg.AssetKey(["marts", "sales", "total"])]
    result = dg.materialize(total, resources=defs.resources, raise_on_error=False)
    failure = next(e for e in result.all_events if e.is_step_failure)
    message = failure.step_failure_data.error.message
    assert "input not built yet: sources.shop__orders (materialize sources/shop/orders first)" in message

"""Hostile definitions: contracts, mart SQL and reconciliations that try to inject SQL or to reach
files outside the project.

Each attack is either refused while loading (a DefinitionError naming the file and the field) or
stays a plain, quoted identifier. Real builds prove it: the project is compiled and materialized on
a DuckDB file, then no sentinel file exists, no database was attached, no macro was created, and a
canary file outside the project never shows up in a table, a log, a lineage event or an error.
"""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import pytest
import yaml

from dte_platform.compiler.sql_guard import UnsafeSql, check_select
from dte_platform.errors import DefinitionError
from dte_platform.orchestration import build_definitions
from dte_platform.orchestration.headless import plan, run_all
from dte_platform.settings import Settings
from dte_platform.warehouse import connect
from tests.helpers import contract, csv_text, orders_contract, source_dte, write_project

DAY = "2026-11-01"
CANARY = "canary-3f9c51e7-outside-the-project"
ORDERS_CSV = f"data/landing/shop/orders/{DAY}.csv"
HEADER = "order_id,email,amount,status,ordered_at"
REPO = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Sandbox:
    """A project folder and, next to it (outside it), a canary to protect and sentinels to watch."""

    root: Path

    @property
    def project(self) -> Path:
        return self.root / "project"

    @property
    def canary(self) -> Path:
        return self.root / "outside" / "canary.csv"

    @property
    def pwn_csv(self) -> Path:
        return self.root / "pwn.csv"

    @property
    def pwn_db(self) -> Path:
        return self.root / "pwn.db"

    @property
    def pwn_dir(self) -> Path:
        return self.root / "exported"

    @property
    def warehouse(self) -> Path:
        return self.project / "data" / "warehouse.duckdb"

    def assert_untouched(self, *texts: str) -> None:
        """No injected statement wrote anything, and the canary is in none of ``texts``."""
        assert not self.pwn_csv.exists()
        assert not self.pwn_db.exists()
        assert not self.pwn_dir.exists()
        for text in texts:
            assert CANARY not in text


@pytest.fixture
def sandbox(tmp_path: Path) -> Sandbox:
    box = Sandbox(tmp_path)
    box.canary.parent.mkdir()
    box.canary.write_text(f"secret\n{CANARY}\n", encoding="utf-8")
    box.project.mkdir()
    return box


def warehouse_dump(path: Path) -> tuple[str, set[str], list[str]]:
    """(every row of every table as text, attached databases, user-defined functions and macros)."""
    with duckdb.connect(str(path), read_only=True) as con:
        tables = con.execute("SELECT table_schema, table_name FROM information_schema.tables").fetchall()
        rows = [con.execute(f'SELECT * FROM "{s}"."{t}"').fetchall() for s, t in tables]
        databases = {r[0] for r in con.execute("SELECT database_name FROM duckdb_databases()").fetchall()}
        user_functions = "SELECT function_name FROM duckdb_functions() WHERE NOT internal"
        functions = [r[0] for r in con.execute(user_functions).fetchall()]
    return json.dumps([tables, rows], default=str), databases, functions


def event_logs(instance: dg.DagsterInstance) -> str:
    return json.dumps([str(entry) for run in instance.get_runs() for entry in instance.all_logs(run.run_id)])


# -- hostile identifiers: weird, quoted, harmless --------------------------------------------------


def hostile_columns(box: Sandbox) -> dict[str, str]:
    """Column role -> a column name that is also an attempt at SQL."""
    return {
        "quote": 'a"b',
        "attach": f"x'); ATTACH '{box.pwn_db}' AS pwn; --",
        "copy": f"y\"); COPY (SELECT 1) TO '{box.pwn_csv}'; --",
        "comment": "c/* x */d",
        "semicolon": "semi;colon",
        "reader": f"read_text('{box.canary}')",
        "amount": "Amount",
    }


def hostile_project(box: Sandbox) -> dict[str, str]:
    cols = hostile_columns(box)
    valid = f"v'); ATTACH '{box.pwn_db}' AS pwn; --"
    properties: list[dict[str, Any]] = [{"name": "id", "logicalType": "integer", "primaryKey": True}]
    properties += [{"name": name, "logicalType": "string"} for role, name in cols.items() if role != "amount"]
    properties.append({"name": cols["amount"], "logicalType": "number"})
    properties[1]["logicalTypeOptions"] = {"pattern": "^(ab|'\\); ATTACH 'x' AS y; --)$"}
    properties[2]["quality"] = [
        {"metric": "invalidValues", "arguments": {"validValues": [valid, "w'; --"]}, "mustBe": 0}
    ]
    properties[5]["quality"] = [
        {
            "type": "sql",
            "name": "semicolon_column",
            "query": "SELECT count(*) FROM ${table} WHERE ${column} = 's'",
            "mustBe": 1,
        }
    ]
    quality = [
        {
            "type": "sql",
            "name": "quoted_column",
            "query": 'SELECT count(*) FROM ${table} WHERE "a""b" = \'ab\'',
            "mustBe": 1,
        },
    ]
    dte = source_dte("data/landing/shop/orders/{date}.csv", quarantine={"maxPercent": 100})
    source = contract(name="orders", domain="shop", properties=properties, quality=quality, dte=dte)
    names = [c for role, c in cols.items() if role != "amount"]
    daily = contract(
        name="weird_daily",
        domain="sales",
        properties=[
            {"name": "day", "logicalType": "date"},
            *({"name": n, "logicalType": "string"} for n in names),
            {"name": "Total;--", "logicalType": "number"},
        ],
        dte={"risk": "low", "sql": "weird_daily.sql", "partitioning": {"type": "daily", "start": DAY}},
    )
    whole = contract(
        name="weird_all",
        domain="sales",
        properties=[
            {"name": cols["comment"], "logicalType": "string"},
            {"name": 'n"; DROP', "logicalType": "integer"},
        ],
        dte={"risk": "low", "sql": "weird_all.sql"},
    )
    quoted = ", ".join(_quote(n) for n in names)
    daily_sql = (
        f'SELECT _partition_date AS day, {quoted}, sum("Amount") AS "Total;--"\n'
        "FROM sources.shop__orders WHERE _partition_date = $partition_date GROUP BY ALL -- no line break"
    )
    whole_sql = 'SELECT "c/* x */d", count(*) AS "n""; DROP" FROM sources.shop__orders GROUP BY 1 -- trailing'
    reconciliation = {
        "reconciliations": [
            {
                "name": "weird_totals",
                "asset": "marts/sales/weird_daily",
                "type": "totals",
                "columns": ["Total;--"],
                "references": {
                    "asset": "sources/shop/orders",
                    "columns": ["Amount"],
                    "where": "\"semi;colon\" = 's' -- a trailing comment",
                },
                "severity": "error",
            }
        ]
    }
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["id", *names, cols["amount"]])
    writer.writerow([1, "ab", valid, "x", "c", "s", "r", "10.5"])
    writer.writerow([2, "A1", "w'; --", "x", "c", "s", "r", "4"])  # fails the pattern: quarantined
    write_project(
        box.project,
        {
            "sources/shop/orders.odcs.yaml": source,
            "marts/sales/weird_daily.odcs.yaml": daily,
            "marts/sales/weird_all.odcs.yaml": whole,
        },
        {
            ORDERS_CSV: buffer.getvalue(),
            "assets/marts/sales/weird_daily.sql": daily_sql,
            "assets/marts/sales/weird_all.sql": whole_sql,
            "checks/reconciliations.yaml": yaml.safe_dump(reconciliation, sort_keys=False),
        },
    )
    return cols


def _quote(name: str) -> str:
    """Quoting of the test's own, independent of the ``sqlutil.ident`` under test."""
    return '"' + name.replace('"', '""') + '"'


def test_hostile_identifiers_and_values_are_plain_data_through_a_real_build(
    sandbox: Sandbox,
) -> None:
    cols = hostile_columns(sandbox)
    hostile_project(sandbox)
    settings = Settings.for_project(sandbox.project)
    instance = dg.DagsterInstance.ephemeral()

    outcomes = run_all(settings, instance, plan(settings, partitions=[DAY]))

    by_asset = {o.asset: o for o in outcomes}
    assert all(o.error is None for o in outcomes), [(o.asset, o.error) for o in outcomes]
    assert by_asset["sources/shop/orders"].failed_warnings == []
    assert by_asset["sources/shop/orders"].failed_errors == []  # the pattern quarantines 1 row of 2
    assert by_asset["marts/sales/weird_daily (weird_totals)"].failed_errors == []
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        columns = con.execute(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_schema = 'sources' AND table_name = 'shop__orders' ORDER BY ordinal_position"
        ).fetchall()
        assert [c[0] for c in columns][:8] == ["id", *cols.values()]
        assert con.execute(f"SELECT id, {_quote(cols['attach'])} FROM sources.shop__orders").fetchall() == [
            (1, f"v'); ATTACH '{sandbox.pwn_db}' AS pwn; --")
        ]
        assert con.execute("SELECT _rule_ids FROM quarantine.shop__orders").fetchall() == [
            (["a_b__pattern"],)
        ]
        assert con.execute('SELECT "a""b", "Total;--" FROM marts.sales__weird_daily').fetchall() == [
            ("ab", 10.5)
        ]
        assert con.execute("SELECT * FROM marts.sales__weird_all").fetchall() == [("c", 1)]
    dump, databases, functions = warehouse_dump(settings.warehouse_path)
    assert databases == {"warehouse", "system", "temp"}
    assert functions == []
    logs = event_logs(instance)
    lineage = (settings.artifacts_dir / "lineage" / "events.jsonl").read_text(encoding="utf-8")
    sandbox.assert_untouched(dump, logs, lineage)


def test_the_payloads_are_live_when_run_unguarded(sandbox: Sandbox) -> None:
    """The sentinels are meaningful: the same statements, on a DuckDB nobody confined, do write them."""
    with duckdb.connect() as con:
        con.execute(
            f"SELECT 1; ATTACH '{sandbox.pwn_db}' AS pwn; COPY (SELECT 1) TO '{sandbox.pwn_csv}'"
        ).fetchall()
        attached = {r[0] for r in con.execute("SELECT database_name FROM duckdb_databases()").fetchall()}
        leaked = con.execute(f"SELECT content FROM read_text('{sandbox.canary}')").fetchall()
    assert "pwn" in attached and sandbox.pwn_csv.exists() and CANARY in leaked[0][0]


# -- SQL text: refused at load ---------------------------------------------------------------------


def select_attacks(box: Sandbox) -> dict[str, str]:
    """Attacks in a place that takes a SELECT; ``{t}`` is the table the place may read."""
    return {
        "second_statement": f"SELECT count(*) AS n FROM {{t}}; ATTACH '{box.pwn_db}' AS pwn",
        "comment_ended_by_carriage_return": (
            f"SELECT count(*) AS n FROM {{t}} -- x\r; COPY (SELECT 1) TO '{box.pwn_csv}'"
        ),
        "copy": f"COPY (SELECT 1) TO '{box.pwn_csv}'",
        "attach": f"ATTACH '{box.pwn_db}' AS pwn",
        "install": "INSTALL sqlite",
        "load": "LOAD sqlite",
        "pragma": "PRAGMA database_list",
        "set": "SET enable_external_access = true",
        "macro": "CREATE MACRO pwn(x) AS x",
        "export": f"EXPORT DATABASE '{box.pwn_dir}'",
        "call": "CALL pragma_database_list()",
        "two_selects": "SELECT count(*) AS n FROM {t}; SELECT 1",
        "read_csv": f"SELECT count(*) AS n FROM read_csv('{box.canary}')",
        "read_text_in_subquery": (
            f"SELECT count(*) AS n FROM {{t}} WHERE EXISTS (SELECT content FROM read_text('{box.canary}'))"
        ),
        "glob": "SELECT count(*) AS n FROM glob('/*')",
        "file_as_table": f"SELECT count(*) AS n FROM '{box.canary}'",
        "query_function": f"SELECT count(*) AS n FROM query('SELECT * FROM read_csv(''{box.canary}'')')",
        "sniff_csv": f"SELECT count(*) AS n FROM {{t}}, sniff_csv('{box.canary}')",
        "settings_table": "SELECT count(*) AS n FROM duckdb_settings()",
        "other_database": "SELECT count(*) AS n FROM pwn.main.x",
    }


SELECT_ATTACKS = list(select_attacks(Sandbox(Path("/x"))))


def orders_project(
    box: Sandbox,
    orders: dict[str, Any] | None = None,
    contracts: dict[str, dict[str, Any]] | None = None,
    files: dict[str, str] | None = None,
) -> None:
    """The orders source with one landing file, plus any other contracts (under assets/) and files."""
    write_project(
        box.project,
        {"sources/shop/orders.odcs.yaml": orders or orders_contract(), **(contracts or {})},
        {ORDERS_CSV: csv_text(HEADER, "1,a@x.org,10,paid,2026-11-01T10:00:00Z"), **(files or {})},
    )


def refused(box: Sandbox) -> DefinitionError:
    """Loading fails, and nothing was built, written or read on the way."""
    with pytest.raises(DefinitionError) as caught:
        build_definitions(Settings.for_project(box.project))
    assert not box.warehouse.exists()
    box.assert_untouched(str(caught.value))
    return caught.value


@pytest.mark.parametrize("attack", SELECT_ATTACKS)
def test_a_sql_quality_rule_that_is_not_a_select_over_its_table_is_refused(
    sandbox: Sandbox, attack: str
) -> None:
    query = select_attacks(sandbox)[attack].format(t="${table}")
    rule = {"type": "sql", "name": "evil", "query": query, "mustBe": 0}
    orders_project(sandbox, orders=orders_contract(quality=[rule]))
    error = refused(sandbox)
    assert error.file.endswith("orders.odcs.yaml")
    assert error.field == "schema.orders.quality.evil.query"


@pytest.mark.parametrize("attack", SELECT_ATTACKS)
def test_a_mart_that_is_not_a_select_over_known_tables_is_refused(sandbox: Sandbox, attack: str) -> None:
    sql = select_attacks(sandbox)[attack].format(t="sources.shop__orders")
    mart = contract(
        name="evil",
        domain="sales",
        properties=[{"name": "n", "logicalType": "integer"}],
        dte={"risk": "low", "sql": "evil.sql"},
    )
    orders_project(
        sandbox, contracts={"marts/sales/evil.odcs.yaml": mart}, files={"assets/marts/sales/evil.sql": sql}
    )
    assert refused(sandbox).file.endswith("evil.sql")


def where_attacks(box: Sandbox) -> dict[str, str]:
    return {
        "second_statement": f"amount > 0; ATTACH '{box.pwn_db}' AS pwn",
        "comment_ended_by_carriage_return": f"amount > 0 -- x\r; COPY (SELECT 1) TO '{box.pwn_csv}'",
        "break_out_of_parentheses": f"amount > 0) UNION ALL (SELECT content FROM read_text('{box.canary}')",
        "subquery_reading_a_file": f"amount IN (SELECT 1 FROM read_csv('{box.canary}'))",
        "file_as_table": f"EXISTS (FROM '{box.canary}')",
        "table_function": "amount > (SELECT count(*) FROM glob('/*'))",
        "set_operation": "amount > 0 UNION ALL SELECT 1 FROM __reference",
        "other_clauses": "amount > 0 GROUP BY amount",
    }


@pytest.mark.parametrize("attack", list(where_attacks(Sandbox(Path("/x")))))
def test_a_reconciliation_condition_that_is_not_a_plain_condition_is_refused(
    sandbox: Sandbox, attack: str
) -> None:
    document = {
        "reconciliations": [
            {
                "name": "evil",
                "asset": "sources/shop/orders",
                "type": "totals",
                "columns": ["amount"],
                "references": {
                    "asset": "sources/shop/orders",
                    "columns": ["amount"],
                    "where": where_attacks(sandbox)[attack],
                },
            }
        ]
    }
    orders_project(sandbox, files={"checks/reconciliations.yaml": yaml.safe_dump(document)})
    error = refused(sandbox)
    assert error.file.endswith("reconciliations.yaml")
    assert error.field == "reconciliations.evil.references.where"


def test_totals_over_a_text_column_fail_loading_not_every_run(sandbox: Sandbox) -> None:
    document = {
        "reconciliations": [
            {
                "name": "t",
                "asset": "sources/shop/orders",
                "type": "totals",
                "columns": ["status"],
                "references": {"asset": "sources/shop/orders", "columns": ["amount"]},
            }
        ]
    }
    orders_project(sandbox, files={"checks/reconciliations.yaml": yaml.safe_dump(document)})
    error = refused(sandbox)
    assert error.field == "reconciliations.t.columns"
    assert "totals need a numeric column; 'status' is VARCHAR" in error.message


@pytest.mark.parametrize("attack", SELECT_ATTACKS)
def test_duckdbs_own_parser_refuses_each_select_attack_on_its_own(attack: str) -> None:
    """The second layer, alone: what DuckDB itself parses is one SELECT over known tables."""
    sql = select_attacks(Sandbox(Path("/tmp/sandbox")))[attack].format(t="sources.shop__orders")
    with pytest.raises(UnsafeSql):
        check_select(sql, {("sources", "shop__orders")})


def test_duckdbs_own_parser_accepts_plain_selects() -> None:
    check_select(
        "WITH d AS (SELECT * FROM sources.shop__orders WHERE _partition_date = $partition_date)\n"
        "SELECT status, count(*) AS n FROM d JOIN (VALUES ('paid')) v(s) ON d.status = v.s GROUP BY ALL -- x",
        {("sources", "shop__orders")},
    )


# -- names that must be identifiers, and names the platform keeps for itself -----------------------


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        (lambda d: d.update(domain="shop; DROP TABLE x --"), "domain", "must be an identifier"),
        (
            lambda d: d["schema"][0].update(name="orders\"; ATTACH 'x' --"),
            "schema.orders\"; ATTACH 'x' --.name",
            "must be an identifier",
        ),
        (
            lambda d: d["schema"][0]["properties"][3].update(name="status\x00; --"),
            "properties",
            "control character",
        ),
        (
            lambda d: d["schema"][0]["properties"][3].update(physicalName="st\natus"),
            "physicalName",
            "control character",
        ),
        (lambda d: d["schema"][0]["properties"][3].update(name="_Partition_Date"), "properties", "reserved"),
        (lambda d: d["schema"][0]["properties"][3].update(name="__raw__amount"), "properties", "reserved"),
        (lambda d: d["schema"][0]["properties"][3].update(name="AMOUNT"), "properties", "ignores case"),
    ],
)
def test_names_that_would_break_or_collide_in_the_warehouse_are_refused(
    sandbox: Sandbox, change: Any, field: str, message: str
) -> None:
    document = orders_contract()
    change(document)
    orders_project(sandbox, orders=document)
    error = refused(sandbox)
    assert field in error.field and message in error.message


# -- files outside the project -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    ["../outside/{date}.csv", "data/../../outside/{date}.csv", "~/{date}.csv", "ABSOLUTE/{date}.csv"],
)
def test_landing_paths_that_leave_the_project_are_refused(sandbox: Sandbox, path: str) -> None:
    path = path.replace("ABSOLUTE", str(sandbox.canary.parent))
    orders_project(sandbox, orders=orders_contract(dte=source_dte(path)))
    error = refused(sandbox)
    assert error.field == "customProperties.dte.value.source.path"
    assert "inside the project" in error.message


def test_a_contract_or_mart_sql_linked_from_outside_the_project_is_refused(sandbox: Sandbox) -> None:
    outside = sandbox.canary.parent
    (outside / "evil.odcs.yaml").write_text(f"# {CANARY}\n" + yaml.safe_dump(orders_contract()))
    orders_project(sandbox)
    link = sandbox.project / "assets/sources/shop/evil.odcs.yaml"
    link.symlink_to(outside / "evil.odcs.yaml")
    assert "resolves outside" in refused(sandbox).message
    link.unlink()
    mart = contract(name="m", domain="sales", properties=[{"name": "n"}], dte={"risk": "low", "sql": "m.sql"})
    write_project(sandbox.project, {"marts/sales/m.odcs.yaml": mart}, {})
    (outside / "m.sql").write_text(f"SELECT content AS n FROM read_text('{sandbox.canary}')")
    (sandbox.project / "assets/marts/sales/m.sql").symlink_to(outside / "m.sql")
    assert "next to the contract" in refused(sandbox).message


# -- the connection itself: defence in depth --------------------------------------------------------


def test_the_warehouse_connection_reaches_no_file_outside_its_folders(sandbox: Sandbox) -> None:
    """What the load-time checks would let through if they had a gap still cannot leave the project."""
    landing = sandbox.project / "data/landing/x.csv"
    landing.parent.mkdir(parents=True)
    landing.write_text("a\n1\n")
    attempts = [
        f"SELECT * FROM read_text('{sandbox.canary}')",
        f"SELECT * FROM read_csv('{sandbox.project}/../outside/canary.csv')",
        f"SELECT * FROM '{sandbox.canary}'",
        "SELECT * FROM glob('/*')",
        f"ATTACH '{sandbox.pwn_db}' AS pwn",
        f"COPY (SELECT 1) TO '{sandbox.pwn_csv}'",
        f"EXPORT DATABASE '{sandbox.pwn_dir}'",
        "INSTALL sqlite",
        "LOAD sqlite",
        "SET enable_external_access = true",
        "SET allowed_directories = ['/']",
        "SET lock_configuration = false",
    ]
    # DuckDB 1.4 follows a symlink found inside an allowed folder; landing paths are therefore
    # resolved and refused outside the project before DuckDB sees them (bad_inputs:
    # symlink_escapes_project, swapped_for_outside_symlink_while_reading)
    errors = []
    with connect(sandbox.warehouse, readable=[sandbox.project]) as conn:
        for sql in attempts:
            with pytest.raises(duckdb.Error) as caught:
                conn.execute(sql).fetchall()
            errors.append(str(caught.value))
        assert conn.execute(f"SELECT a FROM read_csv('{landing}')").fetchall() == [(1,)]
        databases = {r[0] for r in conn.execute("SELECT database_name FROM duckdb_databases()").fetchall()}
    assert databases == {"warehouse", "system", "temp"}
    sandbox.assert_untouched(*errors)


# -- bounded cost: bombs and giants ----------------------------------------------------------------

_LOADER = """
import json, sys
from pathlib import Path
from dte_platform.contracts import load_contract
from dte_platform.compiler.sql_guard import UnsafeSql, check_select
from dte_platform.errors import DefinitionError

def peak_rss_mb():  # VmHWM restarts at exec, unlike ru_maxrss, which keeps the parent's peak
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024

out = {"baseline_mb": peak_rss_mb()}
for name in sys.argv[1:]:
    try:
        load_contract(Path(name))
        outcome = "loaded"
    except DefinitionError as exc:
        outcome = exc.field + ": " + exc.message
    out[Path(name).name] = outcome
out["peak_mb"] = peak_rss_mb()
print(json.dumps(out))
"""


def _bombs(folder: Path) -> dict[str, str]:
    """File name -> the refusal expected; written into ``folder``."""
    laughs = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    laughs += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 10)]
    document = orders_contract()
    document["tags"] = "TAGS"
    laughs.append(yaml.safe_dump(document).replace("TAGS", "*a9"))
    header = yaml.safe_dump(orders_contract(), sort_keys=False)
    many = "".join(f"  - {{name: c{i}}}\n" for i in range(100_000))
    files = {
        "laughs.odcs.yaml": ("\n".join(laughs), "values, aliases expanded"),
        "deep.odcs.yaml": ("x: " + "[" * 200_000 + "]" * 200_000, "nested deeper than"),
        "deep.json.odcs.yaml": ('{"a": ' * 50_000 + "1" + "}" * 50_000, "nested deeper than"),
        "deep_block.odcs.yaml": (
            "".join(" " * i + f"k{i}:\n" for i in range(300)) + " " * 300 + "v\n",
            "nested deeper than",
        ),
        "giant.odcs.yaml": ("description: '" + "x" * 50_000_000 + "'\n", "over the limit"),
        "columns_100k.odcs.yaml": (
            header.replace("  properties:\n", "  properties:\n" + many, 1),
            "over the limit",
        ),
        "columns_50k.odcs.yaml": (
            header.replace(
                "  properties:\n",
                "  properties:\n" + many[: 990_000 - len(header)].rsplit("\n", 1)[0] + "\n",
                1,
            ),
            "objects, aliases expanded",
        ),
        "latin1.odcs.yaml": (None, "not UTF-8"),
    }
    for name, (text, _) in files.items():
        if text is None:
            (folder / name).write_bytes("description: caf\xe9\n".encode("latin-1"))
        else:
            (folder / name).write_text(text, encoding="utf-8")
    return {name: message for name, (_, message) in files.items()}


def test_yaml_bombs_and_giants_fail_fast_in_bounded_memory(tmp_path: Path) -> None:
    expected = _bombs(tmp_path)
    files = [str(tmp_path / name) for name in expected]
    run = subprocess.run(
        [sys.executable, "-c", _LOADER, *files],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
        check=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    report = json.loads(run.stdout)
    for name, message in expected.items():
        outcome = report[name]
        assert message in outcome, name
    assert report["peak_mb"] - report["baseline_mb"] < 50  # the 50 MB file is never read whole

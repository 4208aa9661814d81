"""A second opinion from the tools around us, on the committed sample after a whole ``dte run``:

- another DuckDB release (the one datacontract-cli pins) opens the warehouse file we wrote;
- ``datacontract lint`` accepts every committed contract;
- ``datacontract test`` reads every committed contract against our warehouse, and its verdict on
  each quality rule is ours; every schema check it derives (types, required, ranges, patterns)
  passes on the data we loaded.

datacontract-cli needs a DuckDB release other than the platform's, so it lives in an environment of
its own, installed from tests/tools/datacontract/uv.lock.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
import yaml
from dagster._core.instance import InstanceRef

from dte_platform.compiler.project import compile_project
from dte_platform.ingest.writer import table_name
from dte_platform.settings import Settings
from tests.conftest import REPO

pytestmark = pytest.mark.slow

TOOLS = REPO / "tests" / "tools" / "datacontract"
UV = Path(sys.executable).with_name("uv")
AS_OF = "2026-11-15T06:00:00Z"


@pytest.fixture(scope="module")
def tool_env() -> Path:
    """The datacontract-cli environment, installed from its lock (kept between runs)."""
    env = REPO / ".venv-datacontract"
    subprocess.run(
        [str(UV), "sync", "--frozen", "--quiet", "--project", str(TOOLS), "--python", sys.executable],
        env={**os.environ, "UV_PROJECT_ENVIRONMENT": str(env), "UV_PYTHON_DOWNLOADS": "never"},
        check=True,
        timeout=900,
    )
    return env / "bin"


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The committed sample, run end to end by ``dte run`` (DAGSTER_HOME keeps the check results)."""
    project = tmp_path_factory.mktemp("second_opinion") / "project"
    ignore = shutil.ignore_patterns("*.py", "__pycache__")
    shutil.copytree(REPO / "assets", project / "assets", ignore=ignore)
    shutil.copytree(REPO / "checks", project / "checks", ignore=ignore)
    shutil.copytree(REPO / "data" / "landing", project / "data" / "landing")
    home = project / ".dagster_home"
    env = {**os.environ, "DTE_AS_OF": AS_OF, "DAGSTER_HOME": str(home)}
    env.pop("DTE_PROJECT_DIR", None)
    subprocess.run(
        [sys.executable, "-m", "dte_platform.cli", "run", "--project", str(project)],
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    assert (project / "data" / "warehouse.duckdb").exists()
    return project


def test_another_duckdb_release_opens_the_warehouse(tool_env: Path, sample: Path) -> None:
    probe = (
        "import duckdb, json, sys\n"
        "con = duckdb.connect(sys.argv[1], read_only=True)\n"
        "print(json.dumps([duckdb.__version__, con.execute("
        "'SELECT count(*) FROM sources.shop__orders').fetchone()[0]]))\n"
    )
    warehouse = sample / "data" / "warehouse.duckdb"
    run = subprocess.run(
        [str(tool_env / "python"), "-c", probe, str(warehouse)], capture_output=True, text=True, check=True
    )
    version, rows = json.loads(run.stdout)
    import duckdb

    assert version != duckdb.__version__
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert rows == con.execute("SELECT count(*) FROM sources.shop__orders").fetchone()[0] > 0


def test_datacontract_lint_accepts_every_committed_contract(tool_env: Path) -> None:
    files = sorted((REPO / "assets").rglob("*.odcs.yaml"))
    assert len(files) >= 8
    for file in files:
        run = subprocess.run(
            [str(tool_env / "datacontract"), "lint", str(file)], capture_output=True, text=True, check=False
        )
        assert run.returncode == 0, f"{file.name}: {run.stdout}{run.stderr}"


def _with_server(contract: Path, warehouse: Path, schema: str, table: str, out: Path) -> Path:
    """The contract as datacontract-cli needs it to find our table: a duckdb server and the table's
    physical name; nothing else changes."""
    document = yaml.safe_load(contract.read_text(encoding="utf-8"))
    document["servers"] = [
        {"server": "warehouse", "type": "duckdb", "database": str(warehouse), "schema": schema}
    ]
    document["schema"][0]["physicalName"] = table
    out.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return out


def _their_checks(tool_env: Path, contract: Path, out: Path) -> list[dict[str, Any]]:
    report = out.with_suffix(".json")
    subprocess.run(
        [
            str(tool_env / "datacontract"),
            "test",
            str(contract),
            "--output-format",
            "json",
            "--output",
            str(report),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    return json.loads(report.read_text(encoding="utf-8"))["checks"]


def _their_key(model: str, rule: Any) -> str:
    """The key datacontract-cli gives the check of one of our contract quality rules."""
    if rule.kind == "sql":
        return f"sql:{rule.id}"
    metric = {
        "nullValues": "null_values",
        "missingValues": "missing_values",
        "invalidValues": "invalid_values",
        "duplicateValues": "duplicate_values",
        "rowCount": "row_count",
    }[rule.params["metric"]]
    if ".properties." in rule.source:  # declared on a property
        return f"{model}__{rule.columns[0]}__field_{metric}"
    return f"{model}__{metric}" if metric == "row_count" else f"{model}__model_{metric}"


def _our_verdicts(sample: Path) -> dict[str, dict[str, bool]]:
    """asset -> check name -> whether it holds on the current data, as the platform reported it: the
    latest evaluation, and for a check per partition the latest on every partition."""
    instance = dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(sample / ".dagster_home")))
    storage = instance.event_log_storage
    out: dict[str, dict[str, bool]] = {}
    for _, _, compiled in compile_project(Settings.for_project(sample)):
        key = dg.AssetKey(list(compiled.key_path))
        rules = [r for r in compiled.rules if r.kind not in {"volume", "drift", "confidence"}]
        checks = {r.check_name: dg.AssetCheckKey(key, r.check_name) for r in rules}
        latest = storage.get_latest_asset_check_execution_by_key(list(checks.values()))
        verdicts = {}
        for name, check in checks.items():
            record = latest.get(check)
            if record is not None and record.event is not None:
                verdicts[name] = bool(record.event.dagster_event.event_specific_data.passed)
        partitioned = [checks[r.check_name] for r in rules if r.per_partition]
        for info in storage.get_asset_check_partition_info(partitioned) if partitioned else []:
            status = info.latest_execution_status.value
            if status in {"SUCCEEDED", "FAILED"}:
                name = info.check_key.name
                verdicts[name] = verdicts.get(name, True) and status == "SUCCEEDED"
        out["/".join(compiled.key_path)] = verdicts
    return out


#: datacontract-cli's schema checks -> the kinds of our rules that say the same of a column
_SCHEMA_KINDS = {
    "field_primary_key_unique": {"unique", "unique_across"},
    "field_unique": {"unique", "unique_across"},
    "field_primary_key_required": {"required"},
    "field_required": {"required"},
    "field_type": {"type"},
    "field_minimum": {"bound"},
    "field_maximum": {"bound"},
    "field_regex": {"pattern"},
    "field_enum": {"enum"},
}


def test_datacontract_test_agrees_with_our_verdicts(tool_env: Path, sample: Path, tmp_path: Path) -> None:
    ours = _our_verdicts(sample)
    warehouse = sample / "data" / "warehouse.duckdb"
    compared = 0
    for contract, dataset, compiled in compile_project(Settings.for_project(sample)):
        schema, table = table_name(compiled)
        copy = _with_server(contract.file, warehouse, schema, table, tmp_path / f"{schema}__{table}.yaml")
        theirs = _their_checks(tool_env, copy, copy)
        by_key = {
            c["key"]: c for c in theirs if c["category"] == "quality" and c["type"] != "model_quality_sql"
        }
        sql_checks = [c for c in theirs if c["type"] == "model_quality_sql"]
        verdicts = ours["/".join(compiled.key_path)]
        for check in theirs:
            if check["category"] != "schema" or check["result"] == "passed":
                continue
            # what another reader finds wrong with a column, we report too
            kinds = _SCHEMA_KINDS.get(check["type"], set())
            ours_failing = [
                r.check_name
                for r in compiled.rules
                if r.kind in kinds and check["field"] in r.columns and verdicts.get(r.check_name) is False
            ]
            assert ours_failing, (dataset.name, check["key"], check.get("reason"))
        sql_rules = [r for r in compiled.dataset_rules if r.kind == "sql"]
        for rule in compiled.dataset_rules:
            if rule.kind not in {"metric", "sql"} or rule.per_partition:
                continue
            if rule.kind == "sql":
                check = sql_checks[sql_rules.index(rule)]
            else:
                check = by_key[_their_key(table, rule)]
            verdict = verdicts[rule.check_name]
            assert (check["result"] == "passed") is verdict, (dataset.name, rule.id, check)
            compared += 1
    assert compared >= 10

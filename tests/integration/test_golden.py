"""Golden records on the demo sample: stable ids, merges, crosswalk conservation, bad specs."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import dagster as dg
import duckdb
import polars as pl
import pytest
import yaml

from dte_platform.canonical.jobs import project_golden_jobs
from dte_platform.canonical.run import build_golden
from dte_platform.errors import DefinitionError
from dte_platform.orchestration import build_definitions
from dte_platform.orchestration.headless import plan, run_all
from dte_platform.settings import Settings
from dte_platform.warehouse import connect
from tests.conftest import REPO

NOW = dt.datetime(2026, 11, 20, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample project with every source partition loaded (golden not built yet)."""
    project = tmp_path_factory.mktemp("golden") / "project"
    shutil.copytree(REPO / "assets", project / "assets", ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    shutil.copytree(REPO / "data" / "landing", project / "data" / "landing")
    settings = Settings.for_project(project)
    run_all(settings, dg.DagsterInstance.ephemeral(), plan(settings, ["sources/*/customers"]))
    return project


@pytest.fixture
def project(loaded: Path, tmp_path: Path) -> Path:
    """A private copy of the loaded project, so each test may change its warehouse."""
    copy = tmp_path / "project"
    shutil.copytree(loaded, copy)
    return copy


def build(project: Path):
    settings = Settings.for_project(project)
    with connect(settings.warehouse_path) as conn:
        return build_golden(conn, project_golden_jobs(settings)["golden/customers"], NOW)


def query(project: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(project / "data" / "warehouse.duckdb"), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_golden_asset_materializes_with_passing_checks(project: Path) -> None:
    defs = build_definitions(Settings.for_project(project))
    golden = [a for a in defs.assets if a.key == dg.AssetKey(["golden", "customers"])]
    result = dg.materialize(golden, resources=defs.resources, raise_on_error=False)
    assert result.success
    checks = {e.check_name: e.passed for e in result.get_asset_check_evaluations()}
    assert (
        checks["xref_conservation"]
        and checks["contract__primary_key"]
        and checks["contract__golden_id__required"]
    )
    assert checks["cluster_size"] and checks["duplicate_rate"]
    [event] = result.get_asset_materialization_events()
    metadata = event.step_materialization_data.materialization.metadata
    assert metadata["dte/entities"].value < metadata["dte/source_records"].value
    assert 0 < metadata["dte/merge_rate"].value < 1
    assert not any("f1" in key.lower() for key in metadata)  # quality vs truth is unknown in production


def test_every_source_record_is_in_the_crosswalk_once(project: Path) -> None:
    report = build(project)
    sources = (
        query(project, "SELECT count(DISTINCT customer_id) FROM sources.crm__customers")[0][0]
        + query(project, "SELECT count(DISTINCT account_id) FROM sources.shop__customers")[0][0]
    )
    assert report.records == sources
    assert query(
        project, "SELECT count(*), count(DISTINCT (source_system, source_key)) FROM golden.customers__xref"
    ) == [(sources, sources)]
    assert query(
        project,
        "SELECT count(*) FROM golden.customers__xref x ANTI JOIN golden.customers g USING (golden_id)",
    ) == [(0,)]


def test_matching_finds_the_true_duplicates(project: Path) -> None:
    build(project)
    xref = pl.DataFrame(
        query(project, "SELECT source_system, source_key, golden_id FROM golden.customers__xref"),
        schema=["source_system", "source_key", "golden_id"],
        orient="row",
    )
    truth = pl.read_csv(REPO / "data/ground_truth/customer_entities.csv")
    joined = xref.join(truth, on=["source_system", "source_key"])
    assert pairwise_f1(joined) >= 0.97


def pairwise_f1(frame: pl.DataFrame) -> float:
    def pairs(columns: list[str]) -> int:
        sizes = frame.group_by(columns).len().get_column("len")
        return int((sizes * (sizes - 1) // 2).sum())

    true_positive = pairs(["golden_id", "entity_id"])
    precision, recall = true_positive / pairs(["golden_id"]), true_positive / pairs(["entity_id"])
    return 2 * precision * recall / (precision + recall)


def test_rerunning_gives_identical_ids_and_golden_rows(project: Path) -> None:
    first = build(project)
    xref = query(project, "SELECT * EXCLUDE (match_probability) FROM golden.customers__xref ORDER BY ALL")
    rows = query(project, "SELECT * FROM golden.customers ORDER BY golden_id")
    second = build(project)
    assert (
        query(project, "SELECT * EXCLUDE (match_probability) FROM golden.customers__xref ORDER BY ALL")
        == xref
    )
    assert query(project, "SELECT * FROM golden.customers ORDER BY golden_id") == rows
    assert first.created_ids == len(rows) and second.created_ids == 0
    assert first.model_sha256 == second.model_sha256  # training is reproducible


def test_a_new_record_of_a_known_person_takes_that_persons_id(project: Path) -> None:
    build(project)
    [(key, gid)] = query(
        project,
        "SELECT source_key, golden_id FROM golden.customers__xref "
        "WHERE source_system = 'crm' ORDER BY source_key LIMIT 1",
    )
    with connect(project / "data/warehouse.duckdb") as conn:
        conn.execute(
            f"INSERT INTO sources.crm__customers SELECT * REPLACE ('CRM-999999' AS customer_id, "
            f"DATE '2026-11-15' AS _partition_date) FROM sources.crm__customers WHERE customer_id = '{key}'"
        )
    report = build(project)
    assert query(project, "SELECT golden_id FROM golden.customers__xref WHERE source_key = 'CRM-999999'") == [
        (gid,)
    ]
    assert report.created_ids == 0


def test_a_merge_keeps_the_older_id_and_is_recorded(project: Path) -> None:
    build(project)
    [(gid, first, second)] = query(
        project,
        "SELECT golden_id, min(source_key), max(source_key) FROM golden.customers__xref "
        "GROUP BY golden_id HAVING count(*) = 2 ORDER BY golden_id LIMIT 1",
    )
    with connect(project / "data/warehouse.duckdb") as conn:  # as if an older run had kept them apart
        conn.execute(
            "UPDATE golden.customers__identity SET golden_id = 'GOLDER' WHERE source_key = ?", [second]
        )
        conn.execute(
            "INSERT INTO golden.customers__ids VALUES ('GOLDER', TIMESTAMPTZ '2020-01-01 00:00:00+00')"
        )
    report = build(project)
    assert query(
        project,
        f"SELECT DISTINCT golden_id FROM golden.customers__xref WHERE source_key IN ('{first}', '{second}')",
    ) == [("GOLDER",)]
    assert report.merges == 1
    assert query(
        project, "SELECT event, golden_id, related_id FROM golden.customers__events WHERE event = 'merge'"
    ) == [("merge", "GOLDER", gid)]


def broken_golden(project: Path, change) -> Path:
    path = project / "assets/golden/customers.odcs.yaml"
    document = yaml.safe_load(path.read_text())
    change(document["customProperties"][0]["value"]["canonical"])
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return project


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        (
            lambda c: c["normalize"].update(first_name=["trim", "soundex"]),
            "canonical.normalize.first_name",
            "unknown normalizer 'soundex'",
        ),
        (
            lambda c: c["comparisons"].update(email={"type": "fuzzy"}),
            "canonical.comparisons.email.type",
            "unknown comparison 'fuzzy'",
        ),
        (
            lambda c: c["inputs"][1]["fields"].update(email="mail"),
            "canonical.inputs[1].fields.email",
            "has no column 'mail'",
        ),
        (
            lambda c: c["blocking"].append(["shoe_size"]),
            "canonical.blocking[5]",
            "'shoe_size' is not provided",
        ),
        (
            lambda c: c["survivorship"]["default"].update(rule="loudest"),
            "canonical.survivorship.default.rule",
            "'loudest' is not one of",
        ),
    ],
)
def test_a_bad_spec_fails_loading_naming_the_field(tmp_path: Path, change, field: str, message: str) -> None:
    project = tmp_path / "p"
    shutil.copytree(REPO / "assets", project / "assets", ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    broken_golden(project, change)
    with pytest.raises(DefinitionError) as caught:
        build_definitions(Settings.for_project(project))
    assert "customers.odcs.yaml" in str(caught.value)
    assert field in caught.value.field
    assert message in caught.value.message


def test_golden_before_its_sources_says_which_to_materialize(tmp_path: Path) -> None:
    root = tmp_path / "p"
    shutil.copytree(REPO / "assets", root / "assets", ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    defs = build_definitions(Settings.for_project(root))
    golden = [a for a in defs.assets if a.key == dg.AssetKey(["golden", "customers"])]
    result = dg.materialize(golden, resources=defs.resources, raise_on_error=False)
    failure = next(e for e in result.all_events if e.is_step_failure)
    assert "materialize sources/crm/customers first" in failure.step_failure_data.error.message

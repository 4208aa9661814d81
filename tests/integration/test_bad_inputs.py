"""The bad-input corpus (tests/fixtures/bad_inputs/): ingestion keeps working, loses nothing and
names what is wrong.

Every case loads, into a real DuckDB file, a good 2026-11-01 and a good 2026-11-02, then replaces
the 2026-11-02 landing files with the case's and ingests that day again, twice. The expected
outcome (a LandingError, or the counts and reasons of what loaded) comes from the case's
expected.yaml. In every case the other day stays byte for byte what it was, every landing row is
either in the table or in quarantine, and the second run leaves the same tables as the first.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import sys
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import polars as pl
import pytest
import yaml

from dte_platform.compiler import compile_dataset
from dte_platform.contracts import load_project_contracts
from dte_platform.errors import LandingError
from dte_platform.ingest.run import IngestReport, SourceRun, ingest_partition, prepare_source
from dte_platform.orchestration.factories import build_resources, build_source_asset
from dte_platform.settings import Settings
from dte_platform.warehouse import connect

CORPUS = Path(__file__).resolve().parents[1] / "fixtures" / "bad_inputs"
DAY1, DAY2 = "2026-11-01", "2026-11-02"
NOW = dt.datetime(2026, 11, 3, tzinfo=dt.UTC)
CSV_HEADER = "order_id,customer,amount,order_date,ordered_at,note"


@dataclass(frozen=True)
class Case:
    name: str
    folder: Path
    spec: dict[str, Any]

    @property
    def contract_file(self) -> Path:
        own = self.folder / "contract.odcs.yaml"
        return own if own.exists() else CORPUS / "_contracts" / f"{self.spec['contract']}.odcs.yaml"

    @property
    def good(self) -> str:
        return str(self.spec.get("good") or self.spec["contract"])


def load_cases() -> list[Case]:
    folders = sorted(p for p in CORPUS.iterdir() if (p / "expected.yaml").exists())
    return [Case(p.name, p, yaml.safe_load((p / "expected.yaml").read_text())) for p in folders]


CASES = load_cases()


def params(cases: list[Case]) -> list[Any]:
    return [pytest.param(c, id=c.name, marks=[pytest.mark.slow] if c.spec.get("slow") else []) for c in cases]


# --- landing files ---------------------------------------------------------------------------


def copy_landing(source: Path, project: Path) -> None:
    """Copy a landing tree; ``*.parquet.yaml`` files are written as the Parquet they describe."""
    for file in sorted(p for p in (source / "data").rglob("*") if p.is_file()):
        target = project / file.relative_to(source)
        target.parent.mkdir(parents=True, exist_ok=True)
        if file.name.endswith(".parquet.yaml"):
            write_parquet(yaml.safe_load(file.read_text()), target.with_name(file.name[: -len(".yaml")]))
        else:
            shutil.copyfile(file, target)


def write_parquet(columns: dict[str, dict[str, Any]], target: Path) -> None:
    series = []
    for name, column in columns.items():
        if column["type"] == "Datetime":
            values = pl.Series(name, column["values"]).str.to_datetime(time_zone="UTC")
            series.append(values)
        else:
            series.append(pl.Series(name, column["values"], dtype=getattr(pl, column["type"])))
    pl.DataFrame(series).write_parquet(target)


# Files that must change at a precise moment of a real run: an audit hook fires when the reader
# opens a given landing file, after the partition's file list was taken, and runs the change
# (deleting or swapping another file of the same day). Nothing in the platform is replaced.
_OPEN_ACTIONS: dict[str, Callable[[], None]] = {}
_hooked: list[bool] = []  # an audit hook cannot be removed: it is added once, idle when nothing is armed


def _on_open(event: str, args: tuple[Any, ...]) -> None:
    if event != "open" or not _OPEN_ACTIONS or not isinstance(args[0], str | os.PathLike):
        return
    action = _OPEN_ACTIONS.pop(os.path.realpath(os.fspath(args[0])), None)
    if action is not None:
        action()


def _arm(opened: Path, action: Callable[[], None]) -> None:
    if not _hooked:
        sys.addaudithook(_on_open)
        _hooked.append(True)
    _OPEN_ACTIONS[os.path.realpath(opened)] = action


def _outside_file(outside: Path) -> Path:
    outside.mkdir(parents=True, exist_ok=True)
    secret = outside / "secret.csv"
    secret.write_text(f"{CSV_HEADER}\n99,outsider,1.00,2026-11-02,2026-11-02T10:00:00Z,stolen\n")
    return secret


def _swap_for_link(path: Path, target: Path) -> Callable[[], None]:
    def swap() -> None:
        path.unlink()
        path.symlink_to(target)

    return swap


def build(project: Path, step: dict[str, Any], outside: Path) -> None:
    """The files a case makes at test time (too big to commit, symlinks, changes mid-run)."""
    [(kind, args)] = step.items()
    if kind == "huge_string":
        note = "x" * int(args["bytes"])
        rows = [
            "21,fay,5.00,2026-11-02,2026-11-02T10:00:00Z,ok",
            f"22,gus,6.00,2026-11-02,2026-11-02T11:00:00Z,{note}",
            "23,hal,7.00,2026-11-02,2026-11-02T12:00:00Z,good",
        ]
        (project / args["file"]).write_text("\n".join([CSV_HEADER, *rows]) + "\n")
    elif kind == "symlink":
        (project / args["file"]).symlink_to(project / args["to"])
    elif kind == "fifo":
        os.mkfifo(project / args["file"])
    elif kind == "symlink_outside":
        (project / args["file"]).symlink_to(_outside_file(outside))
    elif kind == "on_open" and "delete" in args:
        _arm(project / args["opened"], (project / args["delete"]).unlink)
    elif kind == "on_open":
        link = project / args["link_outside"]
        _arm(project / args["opened"], _swap_for_link(link, _outside_file(outside)))
    else:
        raise ValueError(f"unknown build step {kind!r}")


@contextmanager
def case_applied(project: Path, job: SourceRun, case: Case, outside: Path) -> Iterator[None]:
    """The case's landing files in place of the good 2026-11-02 ones, for one run."""
    for old in project.glob(job.source.path.replace("{date}", DAY2)):
        old.unlink()
    copy_landing(case.folder, project)
    for step in case.spec.get("build", []):
        build(project, step, outside)
    try:
        yield
        assert not _OPEN_ACTIONS, f"the reader never opened {sorted(_OPEN_ACTIONS)}"
    finally:
        _OPEN_ACTIONS.clear()


# --- projects and warehouse ------------------------------------------------------------------


def source_job(project: Path) -> SourceRun:
    loaded = load_project_contracts(project / "assets")[0]
    dataset = loaded.datasets[0]
    source = dataset.dte.source
    assert source is not None, "a corpus contract is a source contract"
    compiled = compile_dataset(loaded, dataset)
    return prepare_source(project, compiled, source, dataset.dte.quarantine_max_percent)


def ingest(project: Path, job: SourceRun, day: str) -> IngestReport:
    with warehouse(project) as conn:
        return ingest_partition(conn, job, day, NOW)


def tables(job: SourceRun) -> tuple[str, str]:
    name = f"{job.compiled.domain}__{job.compiled.name}"
    return f"sources.{name}", f"quarantine.{name}"


def warehouse(project: Path) -> AbstractContextManager[duckdb.DuckDBPyConnection]:
    return connect(project / "data" / "warehouse.duckdb")


def snapshot(project: Path, job: SourceRun) -> dict[str, list[tuple[Any, ...]]]:
    """Both days of table and quarantine, every column, in a stable order."""
    out = {}
    with warehouse(project) as conn:
        for table in tables(job):
            for day in (DAY1, DAY2):
                sql = f"SELECT * FROM {table} WHERE _partition_date = ? ORDER BY ALL"
                out[f"{table} {day}"] = conn.execute(sql, [dt.date.fromisoformat(day)]).fetchall()
    return out


@pytest.fixture(scope="module")
def templates(tmp_path_factory: pytest.TempPathFactory) -> Callable[[Case, Path], Path]:
    """A project per (contract, good data) with both good days loaded, copied for each case."""
    built: dict[tuple[Path, str], Path] = {}

    def project_for(case: Case, target: Path) -> Path:
        key = (case.contract_file, case.good)
        if key not in built:
            root = tmp_path_factory.mktemp(f"template_{case.good}")
            document = yaml.safe_load(case.contract_file.read_text())
            contract_path = root / "assets" / "sources" / document["domain"] / f"{document['name']}.odcs.yaml"
            contract_path.parent.mkdir(parents=True)
            shutil.copyfile(case.contract_file, contract_path)
            copy_landing(CORPUS / "_good" / case.good, root)
            job = source_job(root)
            for day in (DAY1, DAY2):
                report = ingest(root, job, day)
                assert report.rows_loaded == report.rows_in > 0, f"good {case.good} {day} is not good"
            built[key] = root
        shutil.copytree(built[key], target, symlinks=True)
        return target

    return project_for


# --- the corpus ------------------------------------------------------------------------------


def run_case(project: Path, job: SourceRun, case: Case, outside: Path) -> IngestReport | LandingError:
    with case_applied(project, job, case, outside):
        try:
            return ingest(project, job, DAY2)
        except LandingError as exc:
            return exc


@pytest.mark.parametrize("case", params(CASES))
def test_bad_input(case: Case, templates: Callable[[Case, Path], Path], tmp_path: Path) -> None:
    project = templates(case, tmp_path / "project")
    job = source_job(project)
    before = snapshot(project, job)
    first = run_case(project, job, case, tmp_path / "outside")
    after_first = snapshot(project, job)
    second = run_case(project, job, case, tmp_path / "outside")

    assert snapshot(project, job) == after_first, "a second run changed the tables"
    assert str(second) == str(first) if isinstance(first, LandingError) else second == first
    table, quarantine = tables(job)
    for key in (f"{table} {DAY1}", f"{quarantine} {DAY1}"):
        assert after_first[key] == before[key], f"{key} changed"
    if "error" in case.spec:
        assert isinstance(first, LandingError), f"expected an error, got {first}"
        assert_error(first, case.spec["error"])
        assert after_first == before, "a failed partition wrote something"
    else:
        assert isinstance(first, IngestReport), f"expected a load, got: {first}"
        with warehouse(project) as conn:
            assert_loaded(conn, job, first, case.spec["loaded"])
    assert_guards(case)


def assert_error(error: LandingError, expected: dict[str, Any]) -> None:
    message = str(error)
    assert re.search(expected["match"], message), message
    names = expected["names"]
    assert names["file"] in message, message
    if "line" in names:
        assert f"line {names['line']}" in message, message
    if "column" in names:
        assert names["column"] in message, message


def assert_loaded(
    conn: duckdb.DuckDBPyConnection, job: SourceRun, report: IngestReport, expected: dict[str, Any]
) -> None:
    table, quarantine = tables(job)
    [(loaded, quarantined)] = conn.execute(
        f"SELECT (SELECT count(*) FROM {table} WHERE _partition_date = ?), "
        f"(SELECT count(*) FROM {quarantine} WHERE _partition_date = ?)",
        [dt.date.fromisoformat(DAY2)] * 2,
    ).fetchall()
    counts = (expected["rows_in"], expected["rows_loaded"], expected["rows_quarantined"])
    assert (report.rows_in, loaded, quarantined) == counts
    assert report.rows_in == loaded + quarantined
    assert (report.rows_loaded, report.rows_quarantined) == (loaded, quarantined)
    failed = {r.rule.id for r in report.failed}
    assert "conservation" not in failed
    assert set(expected.get("failed_checks", [])) <= failed, failed
    rows = day_rows(conn, quarantine, "_source_file, _source_line, _rule_ids, _reason, _raw_record")
    assert_quarantine(rows, report, expected)
    if "loaded_lines" in expected:
        assert [r[0] for r in day_rows(conn, table, "_source_line")] == expected["loaded_lines"]
    for column, values in expected.get("values", {}).items():
        assert [r[0] for r in day_rows(conn, table, f'CAST("{column}" AS VARCHAR)')] == values, column
    for column, lengths in expected.get("lengths", {}).items():
        assert [r[0] for r in day_rows(conn, table, f'length("{column}")')] == lengths, column


def day_rows(conn: duckdb.DuckDBPyConnection, table: str, select: str) -> list[tuple[Any, ...]]:
    """``select`` over the case's day, in landing order."""
    sql = f"SELECT {select} FROM {table} WHERE _partition_date = ? ORDER BY _source_file, _source_line"
    return conn.execute(sql, [dt.date.fromisoformat(DAY2)]).fetchall()


def assert_quarantine(rows: list[tuple[Any, ...]], report: IngestReport, expected: dict[str, Any]) -> None:
    reasons: list[str] = expected["quarantine_reasons"]
    for file, line, rule_ids, reason, _ in rows:
        assert file in report.files and line >= 1 and rule_ids and reason, (file, line, rule_ids, reason)
        explained = [r for r in reasons if r in rule_ids or r.lower() in reason.lower()]
        assert explained, f"line {line}: {rule_ids} {reason!r} is not among {reasons}"
    for wanted in reasons:
        assert any(wanted in r[2] or wanted.lower() in r[3].lower() for r in rows), f"no row for {wanted}"
    if "quarantine_lines" in expected:
        assert [r[1] for r in rows] == expected["quarantine_lines"]
    for text in expected.get("raw_contains", []):
        assert any(r[4] and text in r[4] for r in rows), f"no raw record holds {text!r}"


def assert_guards(case: Case) -> None:
    """Bytes the committed files must keep (a checkout that rewrote line endings voids a case)."""
    committed = b"".join(p.read_bytes() for p in (case.folder / "data").rglob("*") if p.is_file())
    for hex_bytes in case.spec.get("guard_hex", []):
        assert bytes.fromhex(hex_bytes) in committed, f"{case.name}: fixture lost bytes {hex_bytes}"


# --- the same cases through Dagster ----------------------------------------------------------


def materialize(project: Path) -> dg.ExecuteInJobResult:
    settings = Settings.for_project(project)
    contract = load_project_contracts(project / "assets")[0]
    asset = build_source_asset(contract, contract.datasets[0], settings)
    return dg.materialize(
        [asset],
        partition_key=DAY2,
        resources=build_resources(settings),
        instance=dg.DagsterInstance.ephemeral(),
        raise_on_error=False,
    )


@pytest.mark.parametrize("case", params([c for c in CASES if c.spec.get("dagster")]))
def test_bad_input_through_dagster(
    case: Case, templates: Callable[[Case, Path], Path], tmp_path: Path
) -> None:
    project = templates(case, tmp_path / "project")
    job = source_job(project)
    before = snapshot(project, job)
    with case_applied(project, job, case, tmp_path / "outside"):
        result = materialize(project)
    if "error" in case.spec:
        assert not result.success
        failure = next(e for e in result.all_events if e.is_step_failure)
        message = failure.step_failure_data.error.message
        assert case.spec["error"]["names"]["file"] in message, message
        assert re.search(case.spec["error"]["match"], message), message
        assert snapshot(project, job) == before
        return
    # the run itself fails when a blocking check fails; the partition is written all the same
    [event] = result.get_asset_materialization_events()
    metadata = event.step_materialization_data.materialization.metadata
    expected = case.spec["loaded"]
    assert metadata["dte/rows_in"].value == expected["rows_in"]
    assert metadata["dte/rows_loaded"].value == expected["rows_loaded"]
    assert metadata["dte/rows_quarantined"].value == expected["rows_quarantined"]
    evaluations = {e.check_name: e for e in result.get_asset_check_evaluations()}
    assert evaluations["conservation"].passed


def test_readme_lists_every_case() -> None:
    readme = (CORPUS / "README.md").read_text()
    listed = set(re.findall(r"^\| `([a-z0-9_]+)` \|", readme, flags=re.MULTILINE))
    assert listed == {c.name for c in CASES}
    assert len(CASES) >= 30

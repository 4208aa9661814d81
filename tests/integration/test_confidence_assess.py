"""Indicators on a real DuckDB table with known values; drift on a shifted vs a resampled partition."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from dte_platform.compiler import compile_dataset
from dte_platform.confidence.assess import Target, assess
from dte_platform.contracts import contract_from_document
from dte_platform.contracts.model import ConfidenceSpec
from dte_platform.ingest.writer import data_table, ensure_tables, replace_partition
from dte_platform.warehouse import connect
from tests.helpers import contract

NOW = dt.datetime(2026, 11, 20, tzinfo=dt.UTC)
PROPERTIES = [
    {"name": "id", "logicalType": "integer", "primaryKey": True},
    {"name": "amount", "logicalType": "number"},
    {"name": "kind", "logicalType": "string"},
    {"name": "email", "logicalType": "string", "classification": "restricted"},
    {"name": "salary", "logicalType": "number", "classification": "confidential"},
]


@pytest.fixture
def compiled():
    document = contract(
        name="t",
        domain="d",
        properties=PROPERTIES,
        dte={
            "risk": "low",
            "source": {
                "path": "data/t/{date}.csv",
                "format": "csv",
                "partitioning": {"type": "daily", "start": "2026-11-01"},
            },
        },
    )
    loaded = contract_from_document(document, Path("assets/sources/d/t.odcs.yaml"), layer="sources")
    return compile_dataset(loaded, loaded.datasets[0])


def frame(
    day: str, amounts: list[float | None] | np.ndarray, kinds: list[str], start: int = 0
) -> pl.DataFrame:
    n = len(amounts)
    return pl.DataFrame(
        {
            "id": np.arange(start, start + n),
            "amount": pl.Series(list(amounts), dtype=pl.Float64),
            "kind": kinds,
            "email": [None if i % 4 == 0 else f"canary{i}@example.com" for i in range(n)],
            "salary": np.full(n, 987654.321),
            "_partition_date": [dt.date.fromisoformat(day)] * n,
            "_source_file": ["f"] * n,
            "_source_line": np.arange(n),
        }
    )


def write(conn, compiled, day: str, data: pl.DataFrame) -> None:
    ensure_tables(conn, compiled)
    empty = pl.DataFrame(
        {
            "_partition_date": pl.Series([], dtype=pl.Date),
            "_source_file": pl.Series([], dtype=pl.String),
            "_source_line": pl.Series([], dtype=pl.Int64),
            "_rule_ids": pl.Series([], dtype=pl.List(pl.String)),
            "_reason": pl.Series([], dtype=pl.String),
            "_raw_record": pl.Series([], dtype=pl.String),
            **{c.name: pl.Series([], dtype=pl.String) for c in compiled.columns},
        }
    )
    replace_partition(conn, compiled, dt.date.fromisoformat(day), data, empty)


def run(conn, compiled, day: str, run_id: str):
    target = Target("sources/d/t", data_table(compiled), dt.date.fromisoformat(day), run_id, NOW)
    return assess(conn, compiled, ConfidenceSpec(), target, [], validity_pct=90.0)


def test_indicators_on_known_data(tmp_path: Path, compiled) -> None:
    with connect(tmp_path / "w.duckdb") as conn:
        write(
            conn,
            compiled,
            "2026-11-01",
            frame("2026-11-01", [1.0, 2.0, 3.0, None, 4.0] * 40, ["a", "b"] * 100),
        )
        result = run(conn, compiled, "2026-11-01", "r1")
    columns = result.indicators.columns
    assert result.indicators.rows == 200
    assert columns["amount"]["completeness_pct"] == 80.0
    assert (columns["amount"]["min"], columns["amount"]["max"], columns["amount"]["mean"]) == (1.0, 4.0, 2.5)
    assert columns["id"]["uniqueness_pct"] == 100.0 and columns["id"]["distinct"] == 200
    assert columns["email"]["completeness_pct"] == 75.0
    assert "min" not in columns["salary"] and "max" not in columns["salary"]  # sensitive: no extremes
    assert result.indicators.validity_pct == 90.0
    assert "987654" not in str(result.metadata())


def test_drift_is_found_on_a_shift_and_not_on_a_resample(tmp_path: Path, compiled) -> None:
    rng = np.random.default_rng(1)
    with connect(tmp_path / "w.duckdb") as conn:
        write(
            conn,
            compiled,
            "2026-11-01",
            frame("2026-11-01", rng.normal(100, 10, 2000), list(rng.choice(["a", "b", "c"], 2000))),
        )
        first = run(conn, compiled, "2026-11-01", "r1")
        write(
            conn,
            compiled,
            "2026-11-02",
            frame("2026-11-02", rng.normal(100, 10, 2000), list(rng.choice(["a", "b", "c"], 2000)), 5000),
        )
        resample = run(conn, compiled, "2026-11-02", "r2")
        shifted_kinds = list(rng.choice(["a", "b", "c"], 2000, p=[0.8, 0.1, 0.1]))
        write(
            conn, compiled, "2026-11-03", frame("2026-11-03", rng.normal(130, 10, 2000), shifted_kinds, 9000)
        )
        shifted = run(conn, compiled, "2026-11-03", "r3")
    drift = {r.rule.id: r for r in first.results}["drift"]
    assert drift.passed and "not judged: 0 rows in the days before" in drift.details["reference"]
    same = {r.rule.id: r for r in resample.results}["drift"]
    assert same.passed, same.details
    moved = {r.rule.id: r for r in shifted.results}["drift"]
    assert not moved.passed
    assert set(moved.details["drifted_columns"]) == {"amount", "kind"}
    assert "email" not in moved.details["psi"] and "salary" not in moved.details["psi"]
    assert moved.details["reference"].startswith("2026-10-06..2026-11-02")  # the days before, by date


def test_a_day_is_judged_against_the_days_before_it_whatever_the_load_order(tmp_path: Path, compiled) -> None:
    """Loading a later day first does not make an earlier day drift against it."""
    rng = np.random.default_rng(2)
    days = {
        "2026-11-01": frame("2026-11-01", rng.normal(100, 10, 500), list(rng.choice(["a", "b"], 500))),
        "2026-11-02": frame("2026-11-02", rng.normal(100, 10, 500), list(rng.choice(["a", "b"], 500)), 5000),
        "2026-11-03": frame("2026-11-03", rng.normal(300, 10, 500), list(rng.choice(["a", "b"], 500)), 9000),
    }
    drifted = {}
    with connect(tmp_path / "w.duckdb") as conn:
        for day in ("2026-11-03", "2026-11-02", "2026-11-01"):
            write(conn, compiled, day, days[day])
            result = {r.rule.id: r for r in run(conn, compiled, day, f"r{day}").results}["drift"]
            drifted[day] = result.passed
        again = {r.rule.id: r for r in run(conn, compiled, "2026-11-03", "again").results}["drift"]
    assert drifted == {"2026-11-03": True, "2026-11-02": True, "2026-11-01": True}
    assert not again.passed  # once the days before it exist, the shifted day is judged against them


def test_small_partitions_are_pooled_and_small_counts_stay_quiet(tmp_path: Path, compiled) -> None:
    rng = np.random.default_rng(3)
    with connect(tmp_path / "w.duckdb") as conn:
        for n, day in enumerate(f"2026-11-{d:02d}" for d in range(1, 16)):
            values = rng.normal(100, 10, 12)
            write(conn, compiled, day, frame(day, values, list(rng.choice(["a", "b"], 12)), 100 * n + 1000))
            last = {r.rule.id: r for r in run(conn, compiled, day, f"r{day}").results}
    assert last["drift"].passed, last["drift"].details
    assert "2026-11-09..2026-11-15" in last["drift"].details["reference"]  # a week pooled
    assert last["volume"].passed, last["volume"].details

"""Decimals arrive in the warehouse exactly as they landed, through every reader, and a negative
amount is quarantined by its rule. Run at the lowest dependency versions too (`make test-lowest`):
an older DuckDB/polars pair once zeroed every decimal crossing between them."""

from __future__ import annotations

import decimal
from pathlib import Path

import polars as pl
import pytest

from tests.helpers import contract, csv_text, source_dte, write_project
from tests.integration.test_ingest import ingest, table

PROPERTIES = [
    {"name": "id", "logicalType": "integer", "primaryKey": True},
    {
        "name": "price",
        "logicalType": "number",
        "physicalType": "decimal(12,2)",
        "required": True,
        "logicalTypeOptions": {"minimum": 0},
    },
]
PRICES = ["32.39", "0.01", "1234567890.12", "19.90", "-5.00", "7"]
EXPECTED = {1: "32.39", 2: "0.01", 3: "1234567890.12", 4: "19.90", 6: "7.00"}


def _project(tmp_path: Path, fmt: str) -> Path:
    document = contract(
        name="p", domain="d", properties=PROPERTIES, dte=source_dte(f"data/p/{{date}}.{fmt}", fmt)
    )
    rows = list(enumerate(PRICES, start=1))
    if fmt == "csv":
        files: dict[str, str | bytes] = {
            "data/p/2026-11-01.csv": csv_text("id,price", *(f"{i},{p}" for i, p in rows))
        }
    elif fmt == "jsonl":
        lines = [f'{{"id": {i}, "price": {p}}}' for i, p in rows]
        files = {"data/p/2026-11-01.jsonl": "\n".join(lines) + "\n"}
    else:
        files = {}
    project = write_project(tmp_path, {"sources/d/p.odcs.yaml": document}, files)
    if fmt == "parquet":
        frame = pl.DataFrame(
            {"id": [i for i, _ in rows], "price": [decimal.Decimal(p) for _, p in rows]},
            schema={"id": pl.Int64, "price": pl.Decimal(12, 2)},
        )
        (project / "data/p").mkdir(parents=True)
        frame.write_parquet(project / "data/p/2026-11-01.parquet")
    return project


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet"])
def test_decimals_round_trip_exactly_and_negative_amounts_are_quarantined(tmp_path: Path, fmt: str) -> None:
    project = _project(tmp_path, fmt)
    report = ingest(project)
    assert (report.rows_in, report.rows_loaded, report.rows_quarantined) == (6, 5, 1)
    loaded = table(project, "SELECT id, CAST(price AS VARCHAR) FROM sources.d__p ORDER BY id")
    assert dict(loaded) == EXPECTED
    reasons = table(project, "SELECT _rule_ids FROM quarantine.d__p")
    assert reasons == [(["price__minimum"],)]
    total = table(project, "SELECT CAST(sum(price) AS VARCHAR) FROM sources.d__p")
    assert total == [(str(sum(decimal.Decimal(v) for v in EXPECTED.values())),)]

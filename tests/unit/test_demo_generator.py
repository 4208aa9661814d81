"""The demo data generator: determinism, layout, ground truth and seeded defects."""

from __future__ import annotations

import csv
import json
import re
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from dte_platform.demo.__main__ import main
from dte_platform.demo.generator import (
    CRM_CUSTOMER_FIELDS,
    GROUND_TRUTH_COLUMNS,
    ORDER_COLUMNS,
    ORDER_STATUSES,
    PRODUCT_SCHEMA,
    SHOP_CUSTOMER_COLUMNS,
    GenerationSummary,
    GeneratorConfig,
    config_for_volume,
    generate,
)

CONFIG = GeneratorConfig()
DAYS = [date(2026, 11, day).isoformat() for day in range(1, 15)]
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$", re.IGNORECASE)
AMOUNT = re.compile(r"^-?\d+\.\d{2}$")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, GenerationSummary]:
    out = tmp_path_factory.mktemp("demo")
    return out, generate(out, CONFIG)


@pytest.fixture(scope="module")
def out(demo: tuple[Path, GenerationSummary]) -> Path:
    return demo[0]


def relative_files(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def csv_rows(path: Path) -> tuple[list[str], list[list[str]]]:
    with path.open(encoding="utf-8", newline="") as handle:
        header, *rows = list(csv.reader(handle))
    return header, rows


def json_lines(path: Path) -> tuple[list[dict[str, Any]], list[str]]:
    """Parsed objects and the lines that are not valid JSON."""
    parsed, invalid = [], []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            parsed.append(json.loads(line))
        except json.JSONDecodeError:
            invalid.append(line)
    return parsed, invalid


def all_csv(out: Path, source: str) -> list[tuple[str, list[str]]]:
    """(day, row) for every data row of a CSV source, in file order."""
    return [(day, row) for day in DAYS for row in csv_rows(out / "landing" / source / f"{day}.csv")[1]]


def all_crm(out: Path) -> tuple[list[dict[str, Any]], list[str]]:
    parsed: list[dict[str, Any]] = []
    invalid: list[str] = []
    for day in DAYS:
        records, broken = json_lines(out / "landing/crm/customers" / f"{day}.jsonl")
        parsed += records
        invalid += broken
    return parsed, invalid


def products(out: Path) -> pl.DataFrame:
    return pl.concat([pl.read_parquet(out / "landing/shop/products" / f"{d}.parquet") for d in DAYS])


# determinism -------------------------------------------------------------------------


def test_same_config_gives_byte_identical_files(tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    generate(first, CONFIG)
    generate(second, CONFIG)
    names = relative_files(first)
    assert names == relative_files(second)
    for name in names:
        assert (first / name).read_bytes() == (second / name).read_bytes(), name


def test_another_seed_gives_other_data(tmp_path: Path, out: Path) -> None:
    generate(tmp_path, GeneratorConfig(seed=8))
    name = f"landing/shop/orders/{DAYS[3]}.csv"
    assert (tmp_path / name).read_bytes() != (out / name).read_bytes()


# layout and columns ------------------------------------------------------------------


def test_layout_has_one_file_per_source_and_day(demo: tuple[Path, GenerationSummary]) -> None:
    out, summary = demo
    expected = ["ground_truth/customer_entities.csv"]
    for folder, suffix in [
        ("crm/customers", "jsonl"),
        ("shop/customers", "csv"),
        ("shop/orders", "csv"),
        ("shop/products", "parquet"),
    ]:
        expected += [f"landing/{folder}/{day}.{suffix}" for day in DAYS]
    assert relative_files(out) == sorted(expected)
    assert [p.relative_to(out).as_posix() for p in summary.files] == sorted(expected)


def test_csv_headers_are_exact(out: Path) -> None:
    for day in DAYS:
        assert csv_rows(out / "landing/shop/customers" / f"{day}.csv")[0] == list(SHOP_CUSTOMER_COLUMNS)
        assert csv_rows(out / "landing/shop/orders" / f"{day}.csv")[0] == list(ORDER_COLUMNS)
    assert csv_rows(out / "ground_truth/customer_entities.csv")[0] == list(GROUND_TRUTH_COLUMNS)


def test_crm_records_have_exactly_the_documented_keys(out: Path) -> None:
    records, _ = all_crm(out)
    keys = Counter(tuple(record) for record in records)
    assert keys.most_common(1)[0][0] == CRM_CUSTOMER_FIELDS
    assert all(set(record) <= set(CRM_CUSTOMER_FIELDS) for record in records)
    assert sum(n for k, n in keys.items() if k != CRM_CUSTOMER_FIELDS) < 0.02 * len(records)


def test_products_parquet_schema(out: Path) -> None:
    for day in DAYS:
        frame = pl.read_parquet(out / "landing/shop/products" / f"{day}.parquet")
        assert frame.schema == pl.Schema(PRODUCT_SCHEMA)


def test_formats_of_clean_values(out: Path) -> None:
    records, _ = all_crm(out)
    record = next(r for r in records if "customer_id" in r)
    assert re.fullmatch(r"CRM-\d{6}", record["customer_id"])
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+01:00", record["updated_at"])
    _, account = all_csv(out, "shop/customers")[0]
    assert re.fullmatch(r"W\d{7}", account[0])
    assert products(out)["product_id"].str.contains(r"^P\d{4}$").all()


def test_timestamps_fall_on_their_file_day(out: Path) -> None:
    for day in DAYS:
        records, _ = json_lines(out / "landing/crm/customers" / f"{day}.jsonl")
        assert {r["updated_at"][:10] for r in records} == {day}
        _, accounts = csv_rows(out / "landing/shop/customers" / f"{day}.csv")
        assert Counter(a[6][:10] for a in accounts if len(a) == 7).most_common(1)[0][0] == day
        created = pl.read_parquet(out / "landing/shop/products" / f"{day}.parquet")["created_at"]
        assert created.dt.date().cast(pl.String).is_in([day, DAYS[0]]).all()


def test_orders_are_consistent_apart_from_defects(out: Path) -> None:
    rows = [row for _, row in all_csv(out, "shop/orders") if len(row) == len(ORDER_COLUMNS)]
    clean = [r for r in rows if AMOUNT.match(r[5]) and r[3] != "0" and r[7] in ORDER_STATUSES and r[1]]
    assert len(clean) > 0.9 * CONFIG.orders
    assert all(1 <= int(r[3]) <= 5 and r[6] == "EUR" for r in clean)
    consistent = [r for r in clean if round(int(r[3]) * float(r[4]), 2) == float(r[5])]
    assert len(consistent) > 0.95 * len(clean)


def test_summary_counts_match_the_files(demo: tuple[Path, GenerationSummary]) -> None:
    out, summary = demo
    crm = sum(len((out / "landing/crm/customers" / f"{d}.jsonl").read_text().splitlines()) for d in DAYS)
    assert summary.rows == {
        "crm/customers": crm,
        "shop/customers": len(all_csv(out, "shop/customers")),
        "shop/orders": len(all_csv(out, "shop/orders")),
        "shop/products": products(out).height,
    }
    assert summary.rows["shop/orders"] == CONFIG.orders
    assert summary.rows["crm/customers"] > CONFIG.crm_customers


def test_default_output_is_small(demo: tuple[Path, GenerationSummary]) -> None:
    assert demo[1].total_bytes < 2_000_000


# ground truth ------------------------------------------------------------------------


def test_ground_truth_covers_every_customer_key_exactly_once(out: Path) -> None:
    _, truth = csv_rows(out / "ground_truth/customer_entities.csv")
    pairs = [(system, key) for system, key, _ in truth]
    assert len(pairs) == len(set(pairs))
    records, _ = all_crm(out)
    crm_keys = {r["customer_id"] for r in records if "customer_id" in r}
    shop_keys = {row[0] for _, row in all_csv(out, "shop/customers")}
    assert {key for system, key in pairs if system == "crm"} == crm_keys
    assert {key for system, key in pairs if system == "shop"} == shop_keys
    assert all(re.fullmatch(r"E\d{6}", entity) for _, _, entity in truth)


def test_ground_truth_has_within_and_cross_system_duplicates(out: Path) -> None:
    _, truth = csv_rows(out / "ground_truth/customer_entities.csv")
    per_entity: dict[str, Counter[str]] = {}
    for system, _, entity in truth:
        per_entity.setdefault(entity, Counter())[system] += 1
    crm_persons = [c for c in per_entity.values() if c["crm"]]
    shop_persons = [c for c in per_entity.values() if c["shop"]]
    assert 0.03 < sum(c["crm"] > 1 for c in crm_persons) / len(crm_persons) < 0.1
    assert 0.02 < sum(c["shop"] > 1 for c in shop_persons) / len(shop_persons) < 0.07
    assert 0.5 < sum(c["crm"] > 0 for c in shop_persons) / len(shop_persons) < 0.7


def test_people_have_non_ascii_names(out: Path) -> None:
    records, _ = all_crm(out)
    last_names = {r["last_name"] for r in records if isinstance(r.get("last_name"), str)}
    assert {"Müller", "Ørsted"} <= last_names
    assert any(not name.isascii() for name in last_names)


# references --------------------------------------------------------------------------


def test_orders_reference_existing_products_and_accounts(out: Path) -> None:
    product_ids = set(products(out)["product_id"].to_list())
    account_ids = {row[0] for _, row in all_csv(out, "shop/customers")}
    orders = [row for _, row in all_csv(out, "shop/orders")]
    assert {row[2] for row in orders} <= product_ids
    assert {row[1] for row in orders if row[1]} <= account_ids


# seeded defects ----------------------------------------------------------------------


def test_crm_defects(out: Path) -> None:
    records, invalid = all_crm(out)
    assert invalid and all(line.startswith("{") for line in invalid)
    assert any("customer_id" not in r for r in records)
    assert any(r["email"] is None for r in records)
    assert any(isinstance(r["email"], str) and not EMAIL.match(r["email"]) for r in records)
    assert any(isinstance(r["city"], dict) for r in records)
    for day in DAYS:
        day_records, _ = json_lines(out / f"landing/crm/customers/{day}.jsonl")
        ids = [r["customer_id"] for r in day_records if "customer_id" in r]
        if len(ids) != len(set(ids)):
            break
    else:
        pytest.fail("no duplicate customer_id within a day")


def test_shop_customer_defects(out: Path) -> None:
    rows = all_csv(out, "shop/customers")
    assert any(len(row) > len(SHOP_CUSTOMER_COLUMNS) for _, row in rows)
    assert any(len(row) < len(SHOP_CUSTOMER_COLUMNS) for _, row in rows)  # unterminated quote
    good = [row for _, row in rows if len(row) == len(SHOP_CUSTOMER_COLUMNS)]
    assert any(row[2] == "" for row in good)
    assert any(row[2] and not EMAIL.match(row[2]) for row in good)
    per_day = Counter((day, row[0]) for day, row in rows)
    assert max(per_day.values()) > 1


def test_order_defects(out: Path) -> None:
    rows = all_csv(out, "shop/orders")
    assert sum(len(row) < len(ORDER_COLUMNS) for _, row in rows) >= 2  # ragged lines
    full = [(day, row) for day, row in rows if len(row) == len(ORDER_COLUMNS)]
    assert any(row[5].startswith("-") for _, row in full)
    assert any(row[3] == "0" for _, row in full)
    assert any(row[5].endswith(" EUR") for _, row in full)
    assert any(row[1] == "" for _, row in full)
    assert {"SHIPPED?", "lost"} & {row[7] for _, row in full}
    assert any(row[8][:10] < day for day, row in full)  # late data
    per_day = Counter((day, row[0]) for day, row in full)
    assert max(per_day.values()) > 1
    days_per_id = Counter(order_id for _, order_id in set(per_day))
    assert max(days_per_id.values()) == 1  # an order id re-used on a later day is an incident


def test_product_defects_are_quarantinable_on_the_first_day(out: Path) -> None:
    frame = products(out)
    assert (frame["list_price"] < 0).sum() == 1
    assert frame["name"].null_count() == 1
    assert frame.height == frame["product_id"].n_unique()
    bad = frame.filter((pl.col("list_price") < 0) | pl.col("name").is_null())
    assert bad["created_at"].dt.date().to_list() == [date(2026, 11, 1)] * 2


def test_incidents_break_what_they_touch(tmp_path: Path) -> None:
    """With incidents, an order id comes back on a later day and a product is re-sent."""
    generate(tmp_path, GeneratorConfig(incidents=True))
    full = [(day, row) for day, row in all_csv(tmp_path, "shop/orders") if len(row) == len(ORDER_COLUMNS)]
    pairs = {(day, row[0]) for day, row in full}
    assert max(Counter(order_id for _, order_id in pairs).values()) > 1
    frame = products(tmp_path)
    assert frame.height - frame["product_id"].n_unique() == 1


def test_defects_are_spread_over_the_days(demo: tuple[Path, GenerationSummary]) -> None:
    out, summary = demo
    assert set(summary.defects["shop/orders"]) >= {"negative_amount", "unknown_status", "late_data"}
    for day in DAYS:
        _, rows = csv_rows(out / "landing/shop/orders" / f"{day}.csv")
        statuses = {row[7] for row in rows if len(row) == len(ORDER_COLUMNS)}
        broken = [row for row in rows if len(row) != len(ORDER_COLUMNS) or not AMOUNT.match(row[5])]
        assert broken or statuses - set(ORDER_STATUSES), day


def test_zero_defect_rate_gives_clean_files(tmp_path: Path) -> None:
    config = GeneratorConfig(days=3, orders=300, crm_customers=60, products=10, defect_rate=0)
    summary = generate(tmp_path, config)
    assert all(not kinds for kinds in summary.defects.values())
    for path in summary.files:
        if path.suffix == ".jsonl":
            assert not json_lines(path)[1]
        elif path.suffix == ".csv":
            header, rows = csv_rows(path)
            assert all(len(row) == len(header) for row in rows)


# configuration and command line ------------------------------------------------------


def test_invalid_config_is_rejected() -> None:
    with pytest.raises(ValueError, match="days"):
        GeneratorConfig(days=0)


def test_volume_config_grows_customers_sub_linearly() -> None:
    small, large = config_for_volume(4200), config_for_volume(10_000_000)
    assert (small.crm_customers, small.products) == (CONFIG.crm_customers, CONFIG.products)
    assert CONFIG.crm_customers < large.crm_customers < 10_000_000 // 100
    assert config_for_volume(10_000_000, crm_customers=500).crm_customers == 500


def test_command_line_writes_and_reports(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["--out", str(tmp_path), "--days", "2", "--rows", "500", "--customers", "80", "--seed", "3"]
    assert main(argv) == 0
    assert "shop/orders" in capsys.readouterr().out
    assert len(list((tmp_path / "landing/shop/orders").glob("*.csv"))) == 2

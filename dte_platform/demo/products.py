"""The product catalog (Parquet): products added over the period, with seeded defects."""

from __future__ import annotations

import math
import random
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from dte_platform.demo.common import Calendar, Row, SourceResult, py_rng
from dte_platform.demo.config import GeneratorConfig
from dte_platform.demo.pools import BRANDS, CATEGORIES, CATEGORY_NAMES, PRICE_ENDINGS
from dte_platform.demo.schema import PRODUCT_SCHEMA, PRODUCTS_DIR

LATER_PRODUCT_SHARE = 0.15  # products that appear after the first day


@dataclass(frozen=True)
class Product:
    product_id: str
    name: str
    category: str
    cents: int
    day: int
    epoch_us: int


def _product_days(rng: random.Random, count: int, days: int) -> list[int]:
    if days == 1 or count == 1:
        return [0] * count
    later = min(count - 1, max(days - 1, round(LATER_PRODUCT_SHARE * count)))
    spread = [1 + k % (days - 1) for k in range(min(later, days - 1))]
    spread += [rng.randint(1, days - 1) for _ in range(later - len(spread))]
    return sorted([0] * (count - later) + spread)


def make_products(seed: int, count: int, cal: Calendar) -> list[Product]:
    rng = py_rng(seed, "products")
    days = _product_days(rng, count, cal.days)
    stamps = sorted((day, rng.randrange(8 * 3600, 18 * 3600)) for day in days)
    return [
        _make_product(rng, number, day, int(cal.starts[day]) + second)
        for number, (day, second) in enumerate(stamps, start=1)
    ]


def _make_product(rng: random.Random, number: int, day: int, epoch: int) -> Product:
    category = rng.choice(CATEGORY_NAMES)
    items, low, high = CATEGORIES[category]
    name = f"{rng.choice(BRANDS)} {rng.choice(items)}"
    euros = int(low * math.exp(rng.random() * math.log(high / low)))
    ending = rng.choice(PRICE_ENDINGS)
    cents = euros * 100 + ending if ending else max(euros, 1) * 100
    return Product(f"P{number:04d}", name, category, cents, day, epoch * 1_000_000)


def _product_row(product: Product) -> Row:
    return {
        "product_id": product.product_id,
        "name": product.name,
        "category": product.category,
        "list_price": product.cents / 100,
        "created_at": product.epoch_us,
    }


def _nonempty_day(by_day: list[list[Row]], preferred: int) -> int:
    order = [*range(preferred, len(by_day)), *range(preferred)]
    return next((day for day in order if by_day[day]), 0)


def _product_defects(by_day: list[list[Row]], incidents: bool) -> Counter[str]:
    """A negative price and a missing name, quarantined. Without incidents both land on the first
    (largest) day, within the quarantine tolerance; with them, on days with one or two products
    (too many quarantined for the day), and a product of the first day is re-sent on the last."""
    days = len(by_day)
    negative = by_day[_nonempty_day(by_day, days // 2) if incidents else 0]
    negative[len(negative) // 2]["list_price"] *= -1
    nameless = by_day[_nonempty_day(by_day, (3 * days) // 4) if incidents else 0]
    nameless[-1]["name"] = None
    defects = Counter({"negative_list_price": 1, "null_name": 1})
    if incidents and days > 1:
        resent = dict(by_day[0][len(by_day[0]) // 3])
        resent["list_price"] = round(resent["list_price"] * 1.1, 2)
        by_day[days - 1].append(resent)
        defects["duplicate_product_id"] = 1
    return defects


def write_products(
    out_dir: Path, config: GeneratorConfig, products: list[Product], cal: Calendar
) -> SourceResult:
    by_day: list[list[Row]] = [[] for _ in range(cal.days)]
    for product in products:
        by_day[product.day].append(_product_row(product))
    result = SourceResult()
    if config.defect_rate > 0:
        result.defects = _product_defects(by_day, config.incidents)
    for day, rows in enumerate(by_day):
        path = out_dir / PRODUCTS_DIR / f"{cal.name(day)}.parquet"
        path.parent.mkdir(parents=True, exist_ok=True)
        _products_frame(rows).write_parquet(path)
        result.files.append(path)
        result.rows += len(rows)
    return result


def _products_frame(rows: list[Row]) -> pl.DataFrame:
    raw_schema = {**PRODUCT_SCHEMA, "created_at": pl.Int64()}
    frame = pl.DataFrame(rows, schema=raw_schema)
    created = pl.col("created_at").cast(pl.Datetime("us")).dt.replace_time_zone("UTC")
    return frame.with_columns(created.alias("created_at"))

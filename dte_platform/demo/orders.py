"""Orders (CSV): planned per day, built in vectorised chunks and written as they are built."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import timedelta
from itertools import accumulate
from pathlib import Path

import numpy as np
import polars as pl

from dte_platform.demo.common import Calendar, SourceResult, local_iso, np_rng, spread_days
from dte_platform.demo.config import GeneratorConfig
from dte_platform.demo.order_batches import (
    STATUS_VALUES,
    OrderBatch,
    OrderDayPlan,
    order_batch,
    order_catalog,
    order_chunks,
)
from dte_platform.demo.order_defects import inject_order_defects, order_defect_counts
from dte_platform.demo.schema import CURRENCY, ORDER_COLUMNS, ORDERS_DIR
from dte_platform.demo.world import World
from dte_platform.demo.writers import write_frame

ORDER_STREAM = 11
ORDER_ID_START = 100_001
WEEKDAY_WEIGHTS = (0.92, 0.95, 0.97, 1.0, 1.08, 1.18, 1.22)  # Monday .. Sunday


def _money(cents: pl.Expr) -> pl.Expr:
    sign = pl.when(cents < 0).then(pl.lit("-")).otherwise(pl.lit(""))
    whole = (cents.abs() // 100).cast(pl.String)
    fraction = (cents.abs() % 100).cast(pl.String).str.zfill(2)
    return pl.concat_str([sign, whole, pl.lit("."), fraction])


def _money_text(cents: pl.Expr) -> pl.Expr:
    """How a spreadsheet user writes an amount: 12,50 EUR."""
    whole = (cents.abs() // 100).cast(pl.String)
    fraction = (cents.abs() % 100).cast(pl.String).str.zfill(2)
    return pl.concat_str([whole, pl.lit(","), fraction, pl.lit(" EUR")])


def _orders_frame(batch: OrderBatch) -> pl.DataFrame:
    catalog = batch.plan.catalog
    raw = pl.DataFrame(
        {
            "order_id": batch.order_id,
            "account_id": catalog.account_ids.gather(batch.account),
            "product_id": catalog.product_ids.gather(batch.product),
            "quantity": batch.quantity.astype(np.int64),
            "unit_cents": batch.unit_cents,
            "amount_cents": batch.amount_cents,
            "status": STATUS_VALUES.gather(batch.status),
            "epoch": batch.epoch,
            "text_amount": batch.text_amount,
            "null_account": batch.null_account,
        }
    )
    return _with_duplicates(raw.select(_order_columns()), batch.duplicates)


def _order_columns() -> list[pl.Expr]:
    cents = pl.col("amount_cents")
    amount = pl.when(pl.col("text_amount")).then(_money_text(cents)).otherwise(_money(cents))
    return [
        pl.col("order_id"),
        pl.when(~pl.col("null_account")).then(pl.col("account_id")).alias("account_id"),
        pl.col("product_id"),
        pl.col("quantity"),
        _money(pl.col("unit_cents")).alias("unit_price"),
        amount.alias("amount"),
        pl.lit(CURRENCY).alias("currency"),
        pl.col("status"),
        local_iso(pl.col("epoch")).alias("ordered_at"),
    ]


def _with_duplicates(frame: pl.DataFrame, duplicates: list[int]) -> pl.DataFrame:
    """Rows at ``duplicates`` become exact copies of the row before them (a double send)."""
    if not duplicates:
        return frame
    take = np.arange(frame.height)
    take[duplicates] = np.array(duplicates) - 1
    return frame.select(pl.all().gather(take))


def _ragged_lines(frame: pl.DataFrame, positions: list[int]) -> dict[int, str]:
    """Rows cut after four fields, as a partial write leaves them."""
    lines = {}
    for pos in positions:
        values = frame.row(pos)[:4]
        lines[pos] = ",".join("" if value is None else str(value) for value in values)
    return lines


def _day_sizes(total: int, cal: Calendar) -> list[int]:
    """Orders per day: weekends are busier; the sizes add up to ``total`` exactly."""
    weights = np.array([WEEKDAY_WEIGHTS[(cal.start + timedelta(days=d)).weekday()] for d in range(cal.days)])
    exact = total * weights / weights.sum()
    sizes = np.floor(exact).astype(np.int64)
    remainder = total - int(sizes.sum())
    sizes[np.argsort(-(exact - sizes), kind="stable")[:remainder]] += 1
    return [int(size) for size in sizes]


def _order_specials(days: int, incidents: bool) -> list[tuple[str, ...]]:
    """Once-per-day defects: ragged lines on some days; with incidents, a repeated order id on one."""
    ragged_days = spread_days(days, math.ceil(days / 4))
    cross_day = spread_days(days, 1)[0] if days > 1 and incidents else -1
    return [
        ("ragged_line",) * (day in ragged_days) + ("duplicate_order_id_across_days",) * (day == cross_day)
        for day in range(days)
    ]


def _order_plans(config: GeneratorConfig, world: World, cal: Calendar) -> list[OrderDayPlan]:
    catalog, specials = order_catalog(world, cal), _order_specials(cal.days, config.incidents)
    sizes = _day_sizes(config.orders, cal)
    firsts = [ORDER_ID_START + done for done in accumulate([0, *sizes[:-1]])]
    return [
        OrderDayPlan(
            seed=config.seed,
            rate=config.defect_rate,
            cal=cal,
            catalog=catalog,
            day=day,
            size=size,
            first_id=firsts[day],
            previous_size=sizes[day - 1] if day else 0,
            specials=specials[day],
        )
        for day, size in enumerate(sizes)
    ]


def _write_order_day(
    path: Path, plan: OrderDayPlan, result: SourceResult, advance: Callable[[str, int], None]
) -> None:
    rng = np_rng(plan.seed, ORDER_STREAM, plan.day)
    first_id = plan.first_id
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as handle:
        handle.write((",".join(ORDER_COLUMNS) + "\n").encode())
        for chunk, seconds in enumerate(order_chunks(rng, plan.size, plan.cal.length(plan.day))):
            batch = order_batch(rng, plan, seconds, first_id)
            result.defects += inject_order_defects(batch, order_defect_counts(batch, chunk))
            frame = _orders_frame(batch)
            write_frame(handle, frame, _ragged_lines(frame, batch.ragged))
            result.rows += frame.height
            first_id += batch.size
            advance(plan.cal.name(plan.day), batch.size)


def write_orders(
    out_dir: Path,
    config: GeneratorConfig,
    world: World,
    cal: Calendar,
    advance: Callable[[str, int], None],
) -> SourceResult:
    result = SourceResult()
    for plan in _order_plans(config, world, cal):
        path = out_dir / ORDERS_DIR / f"{cal.name(plan.day)}.csv"
        _write_order_day(path, plan, result, advance)
        result.files.append(path)
    return result

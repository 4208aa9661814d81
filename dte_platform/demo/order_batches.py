"""Orders as numpy columns: the catalog they draw from, time-ordered chunks, one batch per chunk."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from dte_platform.demo.common import Calendar, rotate_split
from dte_platform.demo.schema import ORDER_STATUSES, UNKNOWN_STATUSES
from dte_platform.demo.world import World

CHUNK_ROWS = 100_000  # orders built and written at a time; bounds memory at any volume
STATUS_VALUES = pl.Series("status", [*ORDER_STATUSES, *UNKNOWN_STATUSES])
QUANTITY_P = (0.55, 0.25, 0.1, 0.06, 0.04)
STATUS_P = (0.08, 0.17, 0.22, 0.43, 0.06, 0.04)
DISCOUNT_SHARE = 0.07

# relative activity per local hour 0..23
ORDER_HOURS = (2, 1, 1, 0, 0, 1, 2, 4, 5, 6, 6, 7, 8, 7, 6, 6, 7, 8, 10, 12, 13, 11, 7, 4)


@dataclass(frozen=True)
class OrderCatalog:
    account_ids: pl.Series  # in sign-up order
    accounts_by_day: np.ndarray  # accounts signed up on or before each day
    product_ids: pl.Series  # in creation order
    product_cents: np.ndarray
    products_by_day: np.ndarray  # products created on or before each day


def order_catalog(world: World, cal: Calendar) -> OrderCatalog:
    day_index = np.arange(cal.days)
    account_days = np.array([slot.day for slot in world.shop_slots])
    product_days = np.array([product.day for product in world.products])
    return OrderCatalog(
        account_ids=pl.Series("account_id", world.shop_keys),
        accounts_by_day=np.searchsorted(account_days, day_index, side="right"),
        product_ids=pl.Series("product_id", [p.product_id for p in world.products]),
        product_cents=np.array([p.cents for p in world.products], dtype=np.int64),
        products_by_day=np.searchsorted(product_days, day_index, side="right"),
    )


@dataclass(frozen=True)
class OrderDayPlan:
    """What one day's order file needs besides its random numbers."""

    seed: int
    rate: float
    cal: Calendar
    catalog: OrderCatalog
    day: int
    size: int
    first_id: int
    previous_size: int  # orders of the day before, for the cross-day duplicate id
    specials: tuple[str, ...]  # defects that occur once, in the day's first chunk


@dataclass
class OrderBatch:
    """A chunk of one day's orders as columns, plus what the defects need to know."""

    rng: np.random.Generator
    plan: OrderDayPlan
    order_id: np.ndarray
    account: np.ndarray  # index into catalog.account_ids
    product: np.ndarray  # index into catalog.product_ids
    quantity: np.ndarray
    unit_cents: np.ndarray
    amount_cents: np.ndarray
    status: np.ndarray  # index into STATUS_VALUES
    epoch: np.ndarray
    text_amount: np.ndarray
    null_account: np.ndarray
    duplicates: list[int] = field(default_factory=list)
    ragged: list[int] = field(default_factory=list)

    @property
    def size(self) -> int:
        return len(self.order_id)


def _skewed(rng: np.random.Generator, size: int, upto: int, power: float) -> np.ndarray:
    """Indices below ``upto``; lower ones (older accounts, bestsellers) come up more often."""
    upto = max(int(upto), 1)
    return np.minimum((upto * rng.random(size) ** power).astype(np.int64), upto - 1)


def _time_segments(rng: np.random.Generator, size: int, length: int) -> list[tuple[int, int, int]]:
    """(start, end, orders) per slice of the day, in time order, none over ``CHUNK_ROWS``."""
    weights = np.array(ORDER_HOURS, dtype=np.float64)
    per_hour = rng.multinomial(size, weights / weights.sum())
    segments = []
    for hour, count in enumerate(per_hour.tolist()):
        start, end = hour * length // 24, (hour + 1) * length // 24
        parts = max(1, math.ceil(count / CHUNK_ROWS))
        for part, orders in enumerate(rotate_split(count, parts, 0)):
            lo, hi = start + (end - start) * part // parts, start + (end - start) * (part + 1) // parts
            segments.append((lo, hi, orders))
    return segments


def order_chunks(rng: np.random.Generator, size: int, length: int) -> Iterator[np.ndarray]:
    """Sorted seconds after midnight for the day's orders, in chunks of at most CHUNK_ROWS."""
    pending: list[np.ndarray] = []
    filled = 0
    for lo, hi, count in _time_segments(rng, size, length):
        if filled + count > CHUNK_ROWS:
            yield np.concatenate(pending)
            pending, filled = [], 0
        pending.append(np.sort(rng.integers(lo, hi, count)))
        filled += count
    if filled:
        yield np.concatenate(pending)


def order_batch(
    rng: np.random.Generator, plan: OrderDayPlan, seconds: np.ndarray, first_id: int
) -> OrderBatch:
    size, catalog = len(seconds), plan.catalog
    product = _skewed(rng, size, catalog.products_by_day[plan.day], 2.0)
    quantity = rng.choice(np.arange(1, 6), size=size, p=QUANTITY_P)
    unit = catalog.product_cents[product]
    discounted = np.round(unit * 0.9).astype(np.int64)
    unit = np.where(rng.random(size) < DISCOUNT_SHARE, discounted, unit)
    return OrderBatch(
        rng=rng,
        plan=plan,
        order_id=np.arange(first_id, first_id + size, dtype=np.int64),
        account=_skewed(rng, size, catalog.accounts_by_day[plan.day], 1.5),
        product=product,
        quantity=quantity,
        unit_cents=unit,
        amount_cents=quantity * unit,
        status=rng.choice(len(ORDER_STATUSES), size=size, p=STATUS_P),
        epoch=int(plan.cal.starts[plan.day]) + seconds,
        text_amount=np.zeros(size, dtype=bool),
        null_account=np.zeros(size, dtype=bool),
    )

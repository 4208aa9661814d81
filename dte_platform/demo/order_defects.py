"""Seeded defects in order batches, applied to the columns in place."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from itertools import accumulate

import numpy as np

from dte_platform.demo.common import rotate_split
from dte_platform.demo.order_batches import OrderBatch
from dte_platform.demo.schema import ORDER_STATUSES, UNKNOWN_STATUSES

ORDER_COMMON_DEFECTS = (
    "negative_amount",
    "zero_quantity",
    "unknown_status",
    "null_account_id",
    "non_numeric_amount",
    "late_data",
    "duplicate_order_id",
    "account_not_yet_signed_up",
)


def _negative_amount(batch: OrderBatch, pos: np.ndarray) -> int:
    batch.amount_cents[pos] = -batch.amount_cents[pos]
    return len(pos)


def _zero_quantity(batch: OrderBatch, pos: np.ndarray) -> int:
    batch.quantity[pos] = 0
    batch.amount_cents[pos] = 0
    return len(pos)


def _unknown_status(batch: OrderBatch, pos: np.ndarray) -> int:
    unknown = batch.rng.integers(0, len(UNKNOWN_STATUSES), len(pos))
    batch.status[pos] = len(ORDER_STATUSES) + unknown
    return len(pos)


def _null_account(batch: OrderBatch, pos: np.ndarray) -> int:
    batch.null_account[pos] = True
    return len(pos)


def _text_amount(batch: OrderBatch, pos: np.ndarray) -> int:
    batch.text_amount[pos] = True
    return len(pos)


def _late_data(batch: OrderBatch, pos: np.ndarray) -> int:
    """Orders placed two or three days earlier that only arrive in today's file."""
    day, starts = batch.plan.day, batch.plan.cal.starts
    if day < 2:
        return 0
    origin = day - batch.rng.integers(2, min(3, day) + 1, len(pos))
    offset = (batch.rng.random(len(pos)) * (starts[origin + 1] - starts[origin])).astype(np.int64)
    batch.epoch[pos] = starts[origin] + offset
    return len(pos)


def _duplicate_order(batch: OrderBatch, pos: np.ndarray) -> int:
    batch.duplicates.extend(int(p) for p in pos)
    return len(pos)


def _future_account(batch: OrderBatch, pos: np.ndarray) -> int:
    """Orders of accounts whose sign-up only lands on a later day."""
    catalog = batch.plan.catalog
    signed_up, total = int(catalog.accounts_by_day[batch.plan.day]), len(catalog.account_ids)
    if signed_up >= total:
        return 0
    batch.account[pos] = batch.rng.integers(signed_up, total, len(pos))
    return len(pos)


def _ragged(batch: OrderBatch, pos: np.ndarray) -> int:
    batch.ragged.extend(int(p) for p in pos)
    return len(pos)


def _repeat_previous_id(batch: OrderBatch, pos: np.ndarray) -> int:
    """An order id of the day before shows up again, on another order."""
    previous = batch.plan.previous_size
    if previous == 0:
        return 0
    earlier = batch.plan.first_id - 1 - batch.rng.integers(0, previous, len(pos))
    batch.order_id[pos] = earlier
    return len(pos)


ORDER_DEFECTS: dict[str, Callable[[OrderBatch, np.ndarray], int]] = {
    "negative_amount": _negative_amount,
    "zero_quantity": _zero_quantity,
    "unknown_status": _unknown_status,
    "null_account_id": _null_account,
    "non_numeric_amount": _text_amount,
    "late_data": _late_data,
    "duplicate_order_id": _duplicate_order,
    "account_not_yet_signed_up": _future_account,
    "ragged_line": _ragged,
    "duplicate_order_id_across_days": _repeat_previous_id,
}


def order_defect_counts(batch: OrderBatch, chunk: int) -> dict[str, int]:
    """Defects for one chunk: a rotating mix of the common kinds, specials in chunk 0."""
    plan = batch.plan
    if plan.rate <= 0:
        return {}
    split = rotate_split(round(plan.rate * batch.size), len(ORDER_COMMON_DEFECTS), plan.day + chunk)
    counts = dict(zip(ORDER_COMMON_DEFECTS, split, strict=True))
    if chunk == 0:
        counts.update(dict.fromkeys(plan.specials, 1))
    return counts


def inject_order_defects(batch: OrderBatch, counts: dict[str, int]) -> Counter[str]:
    """Spread the defects over distinct rows, never the first (a duplicate copies the row
    before it)."""
    total = min(sum(counts.values()), batch.size - 1)
    if total <= 0:
        return Counter()
    positions = batch.rng.choice(batch.size - 1, size=total, replace=False) + 1
    applied: Counter[str] = Counter()
    bounds = [0, *accumulate(counts.values())]
    for kind, lo, hi in zip(counts, bounds, bounds[1:], strict=False):
        done = ORDER_DEFECTS[kind](batch, np.sort(positions[lo:hi]))
        if done:
            applied[kind] += done
    return applied

"""Calendar, seeded randomness and small helpers the sources share."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from dte_platform.demo.schema import TIMEZONE

ISO_FORMAT = "%Y-%m-%dT%H:%M:%S%:z"

Row = dict[str, Any]
Line = Row | str  # a record, or a raw line written as is


@dataclass(frozen=True)
class Calendar:
    start: date
    starts: np.ndarray  # epoch seconds of local midnight, one more than there are days

    @property
    def days(self) -> int:
        return len(self.starts) - 1

    def length(self, day: int) -> int:
        return int(self.starts[day + 1] - self.starts[day])

    def name(self, day: int) -> str:
        return (self.start + timedelta(days=day)).isoformat()


def make_calendar(start: date, days: int) -> Calendar:
    dates = pl.date_range(start, start + timedelta(days=days), "1d", eager=True)
    local = dates.cast(pl.Datetime("us")).dt.replace_time_zone(TIMEZONE, ambiguous="earliest")
    return Calendar(start, local.dt.epoch("s").to_numpy())


def py_rng(seed: int, stream: str) -> random.Random:
    return random.Random(f"dte-demo/{seed}/{stream}")


def np_rng(seed: int, stream: int, day: int = 0) -> np.random.Generator:
    return np.random.default_rng([seed, stream, day])


def local_iso(epoch: pl.Expr) -> pl.Expr:
    utc = pl.from_epoch(epoch, time_unit="s").dt.replace_time_zone("UTC")
    return utc.dt.convert_time_zone(TIMEZONE).dt.strftime(ISO_FORMAT)


def local_iso_list(epochs: Sequence[int]) -> list[str]:
    series = pl.Series("epoch", list(epochs), dtype=pl.Int64)
    return pl.select(local_iso(pl.lit(series))).to_series().to_list()


def spread_days(days: int, count: int, shift: int = 0) -> list[int]:
    """``count`` days spread evenly over the period (fewer if the period is short)."""
    return sorted({(days * (2 * j + 1) // (2 * count) + shift) % days for j in range(count)})


def rotate_split(total: int, parts: int, offset: int) -> list[int]:
    base, extra = divmod(total, parts)
    return [base + int((k - offset) % parts < extra) for k in range(parts)]


@dataclass
class SourceResult:
    """What writing one source produced: its files, data rows and seeded defects per kind."""

    files: list[Path] = field(default_factory=list)
    rows: int = 0
    defects: Counter[str] = field(default_factory=Counter)

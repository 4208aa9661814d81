"""What to generate (``GeneratorConfig``) and what was written (``GenerationSummary``)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class GeneratorConfig:
    """What to generate; the defaults give a small sample (well under 2 MB)."""

    start: date = date(2026, 11, 1)
    days: int = 14
    orders: int = 4200  # total orders over all days
    crm_customers: int = 1200  # CRM persons; near-duplicate records come on top
    products: int = 120
    seed: int = 7
    defect_rate: float = 0.02  # share of rows that get some defect, per source
    #: also seed incidents that cost an asset its certificate, beyond quarantined rows: an order id
    #: re-used on a later day, bad products on days with one or two products, a re-sent product
    incidents: bool = False

    def __post_init__(self) -> None:
        problems = _config_problems(self)
        if problems:
            raise ValueError("invalid GeneratorConfig: " + "; ".join(problems))


def _config_problems(config: GeneratorConfig) -> list[str]:
    checks = {
        "days must be at least 1": config.days >= 1,
        "orders must not be negative": config.orders >= 0,
        "crm_customers must be at least 1": config.crm_customers >= 1,
        "products must be at least 1": config.products >= 1,
        "seed must not be negative": config.seed >= 0,
        "defect_rate must be between 0 and 0.5": 0.0 <= config.defect_rate <= 0.5,
    }
    return [message for message, ok in checks.items() if not ok]


DEFAULT_CONFIG = GeneratorConfig()


@dataclass(frozen=True)
class GenerationSummary:
    """What ``generate`` wrote."""

    files: list[Path]  # every file written, sorted
    rows: dict[str, int]  # data records per source, headers not counted
    defects: dict[str, dict[str, int]] = field(default_factory=dict)  # source -> kind -> n

    @property
    def total_bytes(self) -> int:
        return sum(path.stat().st_size for path in self.files)


def config_for_volume(orders: int, *, crm_customers: int | None = None, **overrides: Any) -> GeneratorConfig:
    """A config for ``orders`` orders whose customers and products grow sub-linearly."""
    root = math.isqrt(max(orders, 0))
    values: dict[str, Any] = {
        "orders": orders,
        "crm_customers": crm_customers or max(DEFAULT_CONFIG.crm_customers, 18 * root),
        "products": max(DEFAULT_CONFIG.products, root // 8),
    }
    values.update(overrides)
    return replace(DEFAULT_CONFIG, **values)

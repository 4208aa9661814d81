"""Deterministic demo data for the DTE Platform: a small retail domain with realistic defects.

The platform lands source files, checks them against data contracts, keeps rejects and
matches customers across systems. This package produces the sample data all of that is
demonstrated and tested on: a CRM export (JSON Lines), a web shop's customers and orders
(CSV) and its product catalog (Parquet), one file per source and day, plus the ground
truth of which real person is behind every customer record.

Layout under ``out_dir`` (``D`` is the ISO date of the day)::

    landing/crm/customers/D.jsonl       records created or updated that day
    landing/shop/customers/D.csv        accounts signed up that day
    landing/shop/orders/D.csv           orders received that day
    landing/shop/products/D.parquet     products added to the catalog that day
    ground_truth/customer_entities.csv  source_system, source_key -> entity_id

``ground_truth/`` is never landed: it exists for tests and entity-matching benchmarks only.

Realism that matching has to cope with: about 6 % of CRM persons have a second CRM record
(name case or typo, e-mail case, phone written differently, missing fields), about 60 % of
shop accounts belong to persons who are also in the CRM (under a differently written
name, e-mail or phone) and about 4 % of shop persons have two accounts.

Every source also carries seeded defects, about ``defect_rate`` of its rows, spread over
the days with several kinds per day; ``GenerationSummary.defects`` counts them per kind.

The same config always gives byte-identical files: all randomness comes from seeded
generators and nothing depends on the clock or on hash ordering. Orders are generated and
written day by day, in time-ordered chunks of at most ``order_batches.CHUNK_ROWS`` rows,
with vectorised numpy/polars code, so tens of millions of rows stay fast and memory stays
bounded whatever the volume; customers and products are small (see ``config_for_volume``).
Existing files at the same paths are overwritten; files of an earlier, longer run are left
in place.

This module is the entry point (``generate``); the pieces live next to it: ``config``
(``GeneratorConfig``, ``GenerationSummary``), ``schema`` (columns and paths), ``pools`` and
``people`` (persons and how their details get written), ``world`` (who has which record
when), ``customers`` with ``customer_defects``, ``products``, ``orders`` with
``order_batches`` and ``order_defects``, and ``writers`` (file output).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from dte_platform.demo.common import SourceResult, make_calendar
from dte_platform.demo.config import (
    DEFAULT_CONFIG,
    GenerationSummary,
    GeneratorConfig,
    config_for_volume,
)
from dte_platform.demo.customers import write_crm, write_shop_customers
from dte_platform.demo.orders import write_orders
from dte_platform.demo.products import write_products
from dte_platform.demo.schema import (
    CRM_CUSTOMER_FIELDS,
    GROUND_TRUTH_COLUMNS,
    ORDER_COLUMNS,
    ORDER_STATUSES,
    PRODUCT_SCHEMA,
    SHOP_CUSTOMER_COLUMNS,
)
from dte_platform.demo.world import build_world
from dte_platform.demo.writers import write_ground_truth

# the public shape of the data is re-exported with the entry point
__all__ = [
    "CRM_CUSTOMER_FIELDS",
    "DEFAULT_CONFIG",
    "GROUND_TRUTH_COLUMNS",
    "ORDER_COLUMNS",
    "ORDER_STATUSES",
    "PRODUCT_SCHEMA",
    "SHOP_CUSTOMER_COLUMNS",
    "GenerationSummary",
    "GeneratorConfig",
    "config_for_volume",
    "generate",
]


@contextmanager
def _progress(enabled: bool, total: int) -> Iterator[Callable[[str, int], None]]:
    """A rich progress bar over the orders, or a no-op."""
    if not enabled:
        yield lambda _day, _rows: None
        return
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=Console(stderr=True)) as bar:
        task = bar.add_task("orders", total=total)
        yield lambda day, rows: bar.update(task, advance=rows, description=f"orders {day}")


def generate(
    out_dir: Path, config: GeneratorConfig = DEFAULT_CONFIG, *, progress: bool = False
) -> GenerationSummary:
    """Write the demo landing files and the ground truth for ``config`` under ``out_dir``.

    ``progress`` shows a rich progress bar over the orders on stderr.
    """
    out_dir = Path(out_dir)
    cal = make_calendar(config.start, config.days)
    world = build_world(config, cal)
    results = {
        "crm/customers": write_crm(out_dir, config, world, cal),
        "shop/customers": write_shop_customers(out_dir, config, world, cal),
        "shop/products": write_products(out_dir, config, world.products, cal),
    }
    truth = write_ground_truth(out_dir, world)
    with _progress(progress, config.orders) as advance:
        results["shop/orders"] = write_orders(out_dir, config, world, cal, advance)
    return _summary(results, truth)


def _summary(results: dict[str, SourceResult], truth: Path) -> GenerationSummary:
    sources = sorted(results)
    files = sorted([truth, *(path for name in sources for path in results[name].files)])
    return GenerationSummary(
        files=files,
        rows={name: results[name].rows for name in sources},
        defects={name: dict(sorted(results[name].defects.items())) for name in sources},
    )

"""File output: JSON Lines, CSV with raw lines in between, and the ground truth."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import BinaryIO

import polars as pl

from dte_platform.demo.common import Line
from dte_platform.demo.schema import GROUND_TRUTH_COLUMNS, GROUND_TRUTH_FILE, SHOP_CUSTOMER_COLUMNS
from dte_platform.demo.world import World


def write_jsonl(path: Path, lines: list[Line]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="\n") as handle:
        for line in lines:
            text = line if isinstance(line, str) else json.dumps(line, ensure_ascii=False)
            handle.write(text + "\n")


def write_customer_csv(path: Path, lines: list[Line]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(SHOP_CUSTOMER_COLUMNS)
        for line in lines:
            if isinstance(line, str):
                handle.write(line + "\n")
            else:
                writer.writerow([line[column] for column in SHOP_CUSTOMER_COLUMNS])


def write_frame(handle: BinaryIO, frame: pl.DataFrame, replaced: dict[int, str]) -> None:
    """Append ``frame`` as CSV rows, with the rows at ``replaced`` swapped for raw lines."""
    cursor = 0
    for pos in sorted(replaced):
        frame.slice(cursor, pos - cursor).write_csv(handle, include_header=False)
        handle.write((replaced[pos] + "\n").encode())
        cursor = pos + 1
    frame.slice(cursor).write_csv(handle, include_header=False)


def write_ground_truth(out_dir: Path, world: World) -> Path:
    rows = [
        ("crm", key, world.people[slot.person].entity_id)
        for slot, key in zip(world.crm_slots, world.crm_keys, strict=True)
    ]
    rows += [
        ("shop", key, world.people[slot.person].entity_id)
        for slot, key in zip(world.shop_slots, world.shop_keys, strict=True)
    ]
    path = out_dir / GROUND_TRUTH_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(GROUND_TRUTH_COLUMNS)
        writer.writerows(sorted(rows))
    return path

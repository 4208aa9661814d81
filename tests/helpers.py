"""Builders for throwaway contracts and projects, shared by the test suites."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

START = "2026-11-01"


def source_dte(path: str, fmt: str = "csv", **extra: Any) -> dict[str, Any]:
    value: dict[str, Any] = {
        "risk": "medium",
        "source": {"path": path, "format": fmt, "partitioning": {"type": "daily", "start": START}},
    }
    value.update(extra)
    return value


def contract(
    name: str = "orders",
    domain: str = "shop",
    properties: list[dict[str, Any]] | None = None,
    quality: list[dict[str, Any]] | None = None,
    dte: dict[str, Any] | None = None,
    sla: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """A minimal valid ODCS v3.1 contract with one schema object."""
    obj: dict[str, Any] = {"name": name, "properties": copy.deepcopy(properties or [])}
    if quality:
        obj["quality"] = quality
    doc: dict[str, Any] = {
        "apiVersion": "v3.1.0",
        "kind": "DataContract",
        "id": f"{domain}-{name}",
        "version": "1.0.0",
        "status": "active",
        "domain": domain,
        "name": name,
        "schema": [obj],
    }
    if dte is not None:
        doc["customProperties"] = [{"property": "dte", "value": dte}]
    if sla:
        doc["slaProperties"] = sla
    return doc


ORDERS_PROPERTIES: list[dict[str, Any]] = [
    {"name": "order_id", "logicalType": "integer", "primaryKey": True},
    {
        "name": "email",
        "logicalType": "string",
        "classification": "restricted",
        "logicalTypeOptions": {"format": "email"},
    },
    {
        "name": "amount",
        "logicalType": "number",
        "physicalType": "decimal(12,2)",
        "required": True,
        "logicalTypeOptions": {"minimum": 0},
    },
    {"name": "status", "logicalType": "string"},
    {"name": "ordered_at", "logicalType": "timestamp"},
]


def orders_contract(**overrides: Any) -> dict[str, Any]:
    kwargs: dict[str, Any] = {
        "properties": ORDERS_PROPERTIES,
        "dte": source_dte("data/landing/shop/orders/{date}.csv"),
        "sla": [{"property": "latency", "value": 1, "unit": "d", "element": "orders.ordered_at"}],
    }
    kwargs.update(overrides)
    return contract(**kwargs)


def write_project(root: Path, contracts: dict[str, dict[str, Any]], files: dict[str, str | bytes]) -> Path:
    """A project folder: ``contracts`` maps paths under assets/ to documents, ``files`` anything else."""
    for relative, document in contracts.items():
        path = root / "assets" / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    for relative, content in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return root


def csv_text(header: str, *rows: str) -> str:
    return "\n".join([header, *rows]) + "\n"

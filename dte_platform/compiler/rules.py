"""The engine-neutral rule list a contract compiles to.

A :class:`Rule` says *what* must hold, never *how*: the pandera/polars executor runs the row rules
at ingestion and the DuckDB executor runs the dataset rules in one aggregate scan. Rule ids are
derived from the contract (column + kind, or the quality rule's own ``id``/``name``) so check names
stay stable from one load to the next.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Scope(StrEnum):
    ROW = "row"  # decided per landing row; ERROR rows are quarantined
    DATASET = "dataset"  # decided over the loaded data of a partition (or the whole table)


class Severity(StrEnum):
    ERROR = "error"
    WARN = "warning"

    @classmethod
    def parse(cls, value: Any) -> Severity:
        text = str(value or "error").lower()
        return cls.WARN if text in {"warn", "warning", "info"} else cls.ERROR


OPERATORS = (
    "mustBe",
    "mustNotBe",
    "mustBeGreaterThan",
    "mustBeGreaterOrEqualTo",
    "mustBeLessThan",
    "mustBeLessOrEqualTo",
    "mustBeBetween",
    "mustNotBeBetween",
)


#: rule kinds the platform adds to every ingested dataset, named without the ``contract__`` prefix
PLATFORM_KINDS = frozenset(
    {"volume", "drift", "confidence"}
    | {"conservation", "unparseable", "columns", "freshness", "xref_conservation", "cluster_size"}
    | {"duplicate_rate"}
)


@dataclass(frozen=True)
class Threshold:
    """An ODCS ``mustBe*`` operator with its operand."""

    operator: str
    operand: Any

    def holds(self, measured: float | None) -> bool:
        if measured is None or (isinstance(measured, float) and math.isnan(measured)):
            return False
        op, x = self.operator, self.operand
        if op == "mustBe":
            return bool(measured == x)
        if op == "mustNotBe":
            return bool(measured != x)
        if op == "mustBeGreaterThan":
            return measured > x
        if op == "mustBeGreaterOrEqualTo":
            return measured >= x
        if op == "mustBeLessThan":
            return measured < x
        if op == "mustBeLessOrEqualTo":
            return measured <= x
        low, high = x
        inside = low <= measured <= high
        return inside if op == "mustBeBetween" else not inside

    def describe(self) -> str:
        words = {
            "mustBe": "=",
            "mustNotBe": "!=",
            "mustBeGreaterThan": ">",
            "mustBeGreaterOrEqualTo": ">=",
            "mustBeLessThan": "<",
            "mustBeLessOrEqualTo": "<=",
            "mustBeBetween": "between",
            "mustNotBeBetween": "not between",
        }
        operand = (
            f"{self.operand[0]} and {self.operand[1]}" if isinstance(self.operand, list) else self.operand
        )
        return f"{words[self.operator]} {operand}"


@dataclass(frozen=True)
class Rule:
    id: str
    kind: str
    scope: Scope
    severity: Severity
    description: str
    source: str  # readable YAML path of the declaration
    columns: tuple[str, ...] = ()
    params: Mapping[str, Any] = field(default_factory=dict)
    threshold: Threshold | None = None
    #: judged on each partition's rows (row rules, the platform's per-partition checks, contract
    #: rules scoped to the partition) or on the whole table (contract quality rules by default, as
    #: ODCS readers such as ``datacontract test`` read them, and data freshness)
    per_partition: bool = True

    @property
    def check_name(self) -> str:
        """Contract rules are ``contract__<id>``; the platform's own checks keep their bare id."""
        return self.id if self.kind in PLATFORM_KINDS else f"contract__{self.id}"

    @property
    def blocking(self) -> bool:
        return self.severity is Severity.ERROR


@dataclass(frozen=True)
class ColumnType:
    """How a contract column is stored: the DuckDB type and how landing text is parsed into it."""

    name: str
    source_name: str
    duckdb_type: str
    parser: str  # registry key in dte_platform.compiler.types.PARSERS
    sensitive: bool
    nested: bool = False  # logicalType object/array: the value is JSON text
    strptime: str | None = None  # temporal text format (from logicalTypeOptions.format)


@dataclass(frozen=True)
class CompiledDataset:
    """A dataset's executable form: its column types, its rules and what is declared but not run."""

    layer: str | None
    domain: str | None
    name: str
    columns: tuple[ColumnType, ...]
    rules: tuple[Rule, ...]
    notes: tuple[str, ...]
    primary_key: tuple[str, ...] = ()

    @property
    def slug(self) -> str:
        """Table name within the layer's schema: ``shop__orders``; ``customers`` when domain = name."""
        return self.name if self.domain in (None, self.name) else f"{self.domain}__{self.name}"

    @property
    def key_path(self) -> tuple[str, ...]:
        """Asset key: ``sources/shop/orders``; ``golden/customers`` when domain = name."""
        layer = self.layer or "sources"
        return (layer, self.name) if self.domain in (None, self.name) else (layer, self.domain, self.name)

    @property
    def row_rules(self) -> tuple[Rule, ...]:
        return tuple(r for r in self.rules if r.scope is Scope.ROW)

    @property
    def dataset_rules(self) -> tuple[Rule, ...]:
        return tuple(r for r in self.rules if r.scope is Scope.DATASET)

    @property
    def sensitive_columns(self) -> frozenset[str]:
        return frozenset(c.name for c in self.columns if c.sensitive)

    def rule(self, rule_id: str) -> Rule:
        return next(r for r in self.rules if r.id == rule_id)

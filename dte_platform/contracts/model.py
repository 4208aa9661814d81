"""The loaded contract: a typed, read-only view of an ODCS v3 document plus our ``dte`` extension.

Every element keeps ``path``, its readable location in the YAML
(``schema.orders.properties.order_id``), so that later stages can name the field in their errors.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class QualitySpec:
    """One entry of an ODCS ``quality`` list, kept as declared."""

    spec: Mapping[str, Any]
    path: str


@dataclass(frozen=True)
class Column:
    name: str
    physical_name: str
    path: str
    logical_type: str | None = None
    physical_type: str | None = None
    required: bool = False
    unique: bool = False
    primary_key_position: int | None = None
    classification: str | None = None
    options: Mapping[str, Any] = field(default_factory=dict)
    quality: tuple[QualitySpec, ...] = ()
    description: str | None = None
    ignored: tuple[str, ...] = ()
    #: ODCS v3.2 ``enum``: the values the property may take (None: not declared)
    enum: tuple[Any, ...] | None = None


@dataclass(frozen=True)
class SlaProperty:
    property: str
    value: Any
    path: str
    unit: str | None = None
    element: str | None = None


@dataclass(frozen=True)
class SourceSpec:
    path: str
    format: str
    partition_start: str | None
    delimiter: str = ","
    quote: str = '"'
    escape: str = '"'
    null_values: tuple[str, ...] = ("", "NULL", "null")


@dataclass(frozen=True)
class FieldSource:
    """Where a golden field comes from in one input, and how it is normalized there."""

    column: str
    normalize: tuple[str, ...] = ()


@dataclass(frozen=True)
class CanonicalInput:
    asset: str
    system: str
    key: str
    fields: Mapping[str, FieldSource]
    path: str
    recency: str | None = None


@dataclass(frozen=True)
class SurvivorshipRule:
    rule: str
    tie_break: tuple[str, ...] = ()


@dataclass(frozen=True)
class CanonicalSpec:
    """The golden-record recipe of a golden contract (``dte.canonical``)."""

    inputs: tuple[CanonicalInput, ...]
    normalize: Mapping[str, tuple[str, ...]]
    blocking: tuple[tuple[str, ...], ...]
    comparisons: Mapping[str, Mapping[str, Any]]
    survivorship_default: SurvivorshipRule
    survivorship_fields: Mapping[str, SurvivorshipRule]
    source_priority: tuple[str, ...]
    path: str
    threshold: float = 0.9
    seed: int = 42
    max_pairs: int = 1_000_000
    em_blocking: tuple[tuple[str, ...], ...] = ()
    deterministic: tuple[tuple[str, ...], ...] = ()
    recall: float = 0.8
    max_cluster_size: int = 10

    @property
    def fields(self) -> tuple[str, ...]:
        """Every golden field some input provides, in first-seen order."""
        return tuple(dict.fromkeys(f for i in self.inputs for f in i.fields))

    def rule_for(self, field: str) -> SurvivorshipRule:
        return self.survivorship_fields.get(field, self.survivorship_default)


DEFAULT_WEIGHTS = {
    "contract": 0.30,
    "completeness": 0.15,
    "validity": 0.20,
    "freshness": 0.15,
    "volume": 0.10,
    "drift": 0.10,
}


@dataclass(frozen=True)
class ConfidenceSpec:
    """``dte.confidence``: how the trust score and the volume and drift signals judge a dataset."""

    min_score: float = 80.0
    severity: str = "warning"
    weights: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    volume_min_history: int = 5
    volume_threshold: float = 3.5  # robust z-score
    volume_severity: str = "warning"
    drift_threshold: float = 0.25  # population stability index
    drift_severity: str = "warning"


@dataclass(frozen=True)
class DteSpec:
    """The ``dte`` custom property, contract level merged with schema-object level."""

    risk: str = "low"
    source: SourceSpec | None = None
    quarantine_max_percent: float = 5.0
    freshness_severity: str = "warning"
    canonical: CanonicalSpec | None = None
    sql: Path | None = None  # a mart's SQL file (absolute)
    sql_path: str = ""  # where `sql` is declared, for errors
    partition_start: str | None = None  # a partitioned mart's first day
    confidence: ConfidenceSpec = field(default_factory=ConfidenceSpec)
    rule_scope: str = "table"  # quality rules judge the whole table, or each partition


@dataclass(frozen=True)
class Dataset:
    """One ODCS schema object: a table."""

    name: str
    path: str
    columns: tuple[Column, ...]
    quality: tuple[QualitySpec, ...]
    dte: DteSpec
    physical_name: str | None = None
    description: str | None = None
    ignored: tuple[str, ...] = ()

    def column(self, name: str) -> Column | None:
        return next((c for c in self.columns if c.name == name), None)

    @property
    def primary_key(self) -> tuple[str, ...]:
        keyed = [c for c in self.columns if c.primary_key_position is not None]
        return tuple(c.name for c in sorted(keyed, key=lambda c: c.primary_key_position or 0))


@dataclass(frozen=True)
class Contract:
    file: Path
    id: str
    version: str
    api_version: str
    status: str
    datasets: tuple[Dataset, ...]
    sla: tuple[SlaProperty, ...]
    sha256: str
    layer: str | None = None
    domain: str | None = None
    name: str | None = None
    description: str | None = None
    owners: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    ignored: tuple[str, ...] = ()
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False)
    #: the ODCS version whose schema the contract was validated with (its own apiVersion, or a later
    #: one that accepts it; see dte_platform.contracts.versions) and why, when it is not its own
    read_as: str = ""
    notices: tuple[str, ...] = ()

"""Contract -> :class:`CompiledDataset`: column storage types plus the engine-neutral rule list.

Pure: takes a loaded contract, returns values. Everything declared but not executed becomes a
"not enforced" note; nothing is dropped silently.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

from dte_platform.compiler.formats import FORMATS
from dte_platform.compiler.patterns import pattern_problem
from dte_platform.compiler.rules import (
    OPERATORS,
    ColumnType,
    CompiledDataset,
    Rule,
    Scope,
    Severity,
    Threshold,
)
from dte_platform.compiler.types import java_to_strptime, storage_type
from dte_platform.contracts.model import Column, Contract, Dataset, QualitySpec, SlaProperty
from dte_platform.errors import DefinitionError
from dte_platform.settings import DEFAULT_SENSITIVE_CLASSES

LIBRARY_METRICS = ("nullValues", "missingValues", "invalidValues", "duplicateValues", "rowCount")
#: ODCS v3.0 library ``rule`` names -> the v3.1 metric each became
LEGACY_RULES = {
    "duplicateCount": "duplicateValues",
    "validValues": "invalidValues",
    "nullCheck": "nullValues",
    "rowCount": "rowCount",
}
_BOUNDS = {"minimum": ">=", "maximum": "<=", "exclusiveMinimum": ">", "exclusiveMaximum": "<"}
_KNOWN_OPTIONS = {*_BOUNDS, "pattern", "minLength", "maxLength", "format", "multipleOf"}
#: ODCS integer formats (Rust integer types) -> the value range they allow
INTEGER_FORMATS = {
    f"{sign}{bits}": ((-(2 ** (bits - 1)), 2 ** (bits - 1) - 1) if sign == "i" else (0, 2**bits - 1))
    for sign in "iu"
    for bits in (8, 16, 32, 64)
}
_UNITS = {
    "s": 1,
    "sec": 1,
    "second": 1,
    "seconds": 1,
    "m": 60,
    "min": 60,
    "minute": 60,
    "minutes": 60,
    "h": 3600,
    "hr": 3600,
    "hour": 3600,
    "hours": 3600,
    "d": 86400,
    "day": 86400,
    "days": 86400,
    "w": 604800,
    "week": 604800,
    "weeks": 604800,
    "y": 31536000,
    "yr": 31536000,
    "year": 31536000,
    "years": 31536000,
}
FRESHNESS_PROPERTIES = ("latency", "freshness")


def compile_dataset(
    contract: Contract, dataset: Dataset, sensitive_classes: Iterable[str] = DEFAULT_SENSITIVE_CLASSES
) -> CompiledDataset:
    sensitive = {s.lower() for s in sensitive_classes}
    builder = b = _RuleBuilder(contract)
    try:
        columns = tuple(_column_type(c, sensitive) for c in dataset.columns)
    except DefinitionError as exc:
        raise b.fail(exc.field, exc.message) from exc
    for column, ctype in zip(dataset.columns, columns, strict=True):
        _column_rules(builder, dataset, column, ctype)
    _key_rules(builder, dataset, {c.name for c in columns if c.sensitive})
    for spec in dataset.quality:
        _quality_rule(builder, dataset, None, spec)
    _freshness_rule(builder, contract, dataset)
    if dataset.dte.source is not None:
        _ingest_rules(builder, dataset)
    if dataset.dte.canonical is not None:
        _golden_rules(builder, dataset)
    if dataset.dte.source is not None or dataset.dte.canonical is not None or dataset.dte.sql is not None:
        _confidence_rules(builder, dataset)
    notes = [*contract.ignored, *dataset.ignored, *(n for c in dataset.columns for n in c.ignored)]
    notes.extend(_sla_notes(contract))
    return CompiledDataset(
        layer=contract.layer,
        domain=contract.domain,
        name=dataset.name,
        columns=columns,
        rules=tuple(builder.rules),
        notes=tuple(dict.fromkeys([*notes, *builder.notes])),
        primary_key=dataset.primary_key,
    )


def compile_contract(
    contract: Contract, sensitive_classes: Iterable[str] = DEFAULT_SENSITIVE_CLASSES
) -> list[CompiledDataset]:
    return [compile_dataset(contract, d, sensitive_classes) for d in contract.datasets]


def _column_type(column: Column, sensitive: set[str]) -> ColumnType:
    stype = storage_type(column.logical_type, column.physical_type)
    fmt = column.options.get("format")
    temporal = stype.parser in {"date", "timestamp", "time"} and isinstance(fmt, str)
    return ColumnType(
        strptime=java_to_strptime(str(fmt), column.path) if temporal else None,
        name=column.name,
        source_name=column.physical_name,
        duckdb_type=stype.duckdb_type,
        parser=stype.parser,
        sensitive=(column.classification or "").lower() in sensitive,
        nested=column.logical_type in {"object", "array"},
    )


class _RuleBuilder:
    """Collects rules, keeps ids unique and stable, and gathers "not enforced" notes."""

    def __init__(self, contract: Contract) -> None:
        self.contract = contract
        self.rules: list[Rule] = []
        self.notes: list[str] = []
        self._ids: set[str] = set()

    def add(self, rule_id: str, **fields: Any) -> None:
        base = _identifier(rule_id)
        unique, n = base, 2
        while unique in self._ids:
            unique, n = f"{base}_{n}", n + 1
        self._ids.add(unique)
        self.rules.append(Rule(id=unique, **fields))

    def row(self, rule_id: str, kind: str, column: str, description: str, source: str, **params: Any) -> None:
        """An ERROR row rule on one column: failing rows are quarantined."""
        self.add(
            rule_id,
            kind=kind,
            scope=Scope.ROW,
            severity=Severity.ERROR,
            description=description,
            source=source,
            columns=(column,),
            params=params,
        )

    def dataset(
        self, rule_id: str, kind: str, severity: Severity, description: str, source: str, **params: Any
    ) -> None:
        """A dataset rule the platform adds (no threshold of the contract's own)."""
        self.add(
            rule_id,
            kind=kind,
            scope=Scope.DATASET,
            severity=severity,
            description=description,
            source=source,
            params=params,
        )

    def fail(self, field: str, message: str) -> DefinitionError:
        return DefinitionError(self.contract.file, field, message)


def _identifier(text: str) -> str:
    snake = re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", text)
    return re.sub(r"[^A-Za-z0-9_]+", "_", snake).strip("_").lower() or "rule"


def _column_rules(b: _RuleBuilder, dataset: Dataset, column: Column, ctype: ColumnType) -> None:
    name, path = column.name, column.path
    if column.required:
        b.row(f"{name}__required", "required", name, f"{name} is required (not null)", f"{path}.required")
    # landing text must parse; data the platform builds (golden, marts) is typed by its table
    source = dataset.dte.source
    landed = source is not None
    typed_source = source is not None and source.format != "csv"
    if landed and (ctype.parser != "text" or (typed_source and not ctype.nested)):
        b.row(
            f"{name}__type",
            "type",
            name,
            f"{name} parses as {ctype.duckdb_type}",
            f"{path}.logicalType",
            duckdb_type=ctype.duckdb_type,
        )
    max_length = storage_type(column.logical_type, column.physical_type).max_length
    options = dict(column.options)
    if max_length is not None and "maxLength" not in options:
        options["maxLength"] = max_length
    for key, value in options.items():
        _option_rule(b, column, ctype, key, value)
    if column.enum is not None:
        b.row(
            f"{name}__enum",
            "enum",
            name,
            f"{name} is one of the contract's enum values",
            f"{path}.enum",
            values=list(column.enum),
        )
    for spec in column.quality:
        _quality_rule(b, dataset, column, spec)


def _option_rule(b: _RuleBuilder, column: Column, ctype: ColumnType, key: str, value: Any) -> None:
    name, where = column.name, f"{column.path}.logicalTypeOptions.{key}"
    if key not in _KNOWN_OPTIONS:
        b.notes.append(f"{where}: not enforced")
        return
    if key in _BOUNDS:
        _bound_rule(b, column, ctype, key, value, where)
    elif key == "pattern":
        _check_regex(b, where, value)
        b.row(f"{name}__pattern", "pattern", name, f"{name} matches {value}", where, pattern=value)
    elif key == "multipleOf":
        if ctype.parser not in {"integer", "float", "decimal"}:
            raise b.fail(where, f"multipleOf needs a numeric column, {name} is {ctype.duckdb_type}")
        b.row(
            f"{name}__multiple_of", "multiple", name, f"{name} is a multiple of {value}", where, value=value
        )
    elif key == "format":
        _format_rule(b, column, ctype, value, where)
    elif key in {"minLength", "maxLength"}:
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise b.fail(where, f"must be a non-negative integer, got {value!r}")
        op = ">=" if key == "minLength" else "<="
        b.row(
            f"{name}__{_identifier(key)}",
            "length",
            name,
            f"length of {name} {op} {value}",
            where,
            op=op,
            value=value,
        )


def _format_rule(b: _RuleBuilder, column: Column, ctype: ColumnType, value: Any, where: str) -> None:
    """String formats are patterns, integer formats are ranges; temporal formats shape the parser."""
    name = column.name
    if ctype.parser == "text" and value in FORMATS:
        b.row(
            f"{name}__format",
            "pattern",
            name,
            f"{name} is a valid {value}",
            where,
            pattern=FORMATS[value],
            format=value,
        )
    elif ctype.parser == "integer" and value in INTEGER_FORMATS:
        low, high = INTEGER_FORMATS[value]
        b.row(
            f"{name}__format",
            "range",
            name,
            f"{name} fits {value} ({low}..{high})",
            where,
            low=low,
            high=high,
        )
    elif ctype.parser not in {"date", "timestamp", "time"}:  # temporal formats are used by the parser
        b.notes.append(f"{where}: format {value!r} not enforced")


def _bound_rule(b: _RuleBuilder, column: Column, ctype: ColumnType, key: str, value: Any, where: str) -> None:
    op = _BOUNDS[key]
    if ctype.parser in {"integer", "float", "decimal"} and not isinstance(value, int | float):
        raise b.fail(where, f"must be a number for a {ctype.duckdb_type} column, got {value!r}")
    if ctype.parser == "text":
        raise b.fail(where, f"{key} needs a numeric or temporal column, {column.name} is text")
    b.row(
        f"{column.name}__{_identifier(key)}",
        "bound",
        column.name,
        f"{column.name} {op} {value}",
        where,
        op=op,
        value=value,
        duckdb_type=ctype.duckdb_type,
    )


def _check_regex(b: _RuleBuilder, where: str, pattern: Any) -> None:
    """Judged by the engines that will run it (see :mod:`dte_platform.compiler.patterns`)."""
    problem = pattern_problem(pattern)
    if problem is not None:
        raise b.fail(where, f"pattern not supported: {problem}")


def _key_rules(b: _RuleBuilder, dataset: Dataset, sensitive: set[str]) -> None:
    key = dataset.primary_key
    uniques: list[tuple[str, tuple[str, ...], str]] = [
        (f"{c.name}__unique", (c.name,), f"{c.path}.unique") for c in dataset.columns if c.unique
    ]
    if key:
        uniques = [u for u in uniques if u[1] != key]
        uniques.insert(0, ("primary_key", key, f"{dataset.path}.properties.{key[0]}.primaryKey"))
    for rule_id, columns, where in uniques:
        label = ", ".join(columns)
        # a failure names the duplicated key values unless they are values of a sensitive column
        shown = {"show_keys": not set(columns) & sensitive}
        if dataset.dte.source is None:  # built, not landed: one table-wide check, nothing to quarantine
            b.add(
                rule_id,
                kind="unique_across",
                scope=Scope.DATASET,
                severity=Severity.ERROR,
                description=f"({label}) unique",
                source=where,
                columns=columns,
                params=shown,
            )
            continue
        b.add(
            rule_id,
            kind="unique",
            scope=Scope.ROW,
            severity=Severity.ERROR,
            description=f"({label}) unique within the partition; later duplicates are quarantined",
            source=where,
            columns=columns,
        )
        b.add(
            f"{rule_id}_across_partitions",
            kind="unique_across",
            scope=Scope.DATASET,
            severity=Severity.ERROR,
            description=f"({label}) unique across partitions",
            source=where,
            columns=columns,
            params=shown,
        )


def _quality_rule(b: _RuleBuilder, dataset: Dataset, column: Column | None, spec: QualitySpec) -> None:
    spec = _current_form(spec)
    q = spec.spec
    kind = q.get("type") or ("library" if "metric" in q or "rule" in q else "text")
    if kind in {"text", "custom"}:
        b.notes.append(f"{spec.path}: quality type {kind!r} not enforced")
        return
    metric = q.get("metric") or q.get("rule")
    if kind != "sql" and metric not in LIBRARY_METRICS:
        b.notes.append(f"{spec.path}: metric {metric!r} not enforced")
        return
    threshold = _threshold(b, spec)
    severity = Severity.parse(q.get("severity"))
    prefix = f"{column.name}__" if column else ""
    label = q.get("id") or q.get("name")
    per_partition = _per_partition(b, dataset, spec)
    if kind == "sql":
        b.add(
            label or f"{prefix}sql",
            kind="sql",
            scope=Scope.DATASET,
            severity=severity,
            description=q.get("description") or f"SQL {threshold.describe()}",
            source=spec.path,
            columns=(column.name,) if column else (),
            params={"query": q["query"]},
            threshold=threshold,
            per_partition=per_partition,
        )
        return
    _metric_rule(
        b,
        dataset,
        column,
        spec,
        str(metric),
        threshold,
        severity,
        prefix + _identifier(str(metric)),
        label,
        per_partition,
    )


def _current_form(spec: QualitySpec) -> QualitySpec:
    """An ODCS v3.0 library rule (``rule: duplicateCount``, ``validValues`` beside it, often no
    operator) in its v3.1 form (``metric: duplicateValues``, ``arguments``, ``mustBe: 0``)."""
    q = dict(spec.spec)
    legacy = q.get("rule") if "metric" not in q else None
    if legacy not in LEGACY_RULES:
        return spec
    q["metric"] = LEGACY_RULES[legacy]
    if "validValues" in q:
        q["arguments"] = {**(q.get("arguments") or {}), "validValues": q.pop("validValues")}
    if legacy != "rowCount" and not any(op in q for op in OPERATORS):
        q["mustBe"] = 0
    return QualitySpec(spec=q, path=spec.path)


def _per_partition(b: _RuleBuilder, dataset: Dataset, spec: QualitySpec) -> bool:
    """A quality rule judges the whole table unless the contract scopes it to the partition:
    ``dte.ruleScope: partition`` for the dataset, or the rule's own ``dte`` custom property."""
    scope = dataset.dte.rule_scope
    for i, item in enumerate(spec.spec.get("customProperties") or []):
        if isinstance(item, dict) and item.get("property") == "dte":
            value, where = item.get("value"), f"{spec.path}.customProperties[{i}].value"
            if not isinstance(value, dict) or set(value) - {"scope"}:
                raise b.fail(where, "the dte property of a quality rule takes {scope: table | partition}")
            scope = value.get("scope", scope)
            if scope not in {"table", "partition"}:
                raise b.fail(f"{where}.scope", f"must be table or partition, got {scope!r}")
    return scope == "partition"


def _metric_rule(
    b: _RuleBuilder,
    dataset: Dataset,
    column: Column | None,
    spec: QualitySpec,
    metric: str,
    threshold: Threshold,
    severity: Severity,
    default_id: str,
    label: Any,
    per_partition: bool,
) -> None:
    q = spec.spec
    arguments = dict(q.get("arguments") or {})
    unit = str(q.get("unit") or "rows").lower()
    if unit not in {"rows", "percent"}:
        raise b.fail(f"{spec.path}.unit", f"unit must be rows or percent, got {unit!r}")
    columns: tuple[str, ...] = (column.name,) if column else ()
    if metric == "duplicateValues" and not column:
        columns = tuple(arguments.get("properties") or ())
        for name in columns:
            if dataset.column(name) is None:
                raise b.fail(f"{spec.path}.arguments.properties", f"unknown property {name!r}")
    if metric in {"nullValues", "missingValues", "invalidValues"} and not column:
        raise b.fail(spec.path, f"{metric} belongs to a property's quality list")
    if metric == "invalidValues" and "validValues" not in arguments and "pattern" not in arguments:
        raise b.fail(f"{spec.path}.arguments", "invalidValues needs validValues or pattern")
    if "pattern" in arguments:
        _check_regex(b, f"{spec.path}.arguments.pattern", arguments["pattern"])
    target = f"{column.name} " if column else ""
    b.add(
        label or default_id,
        kind="metric",
        scope=Scope.DATASET,
        severity=severity,
        description=q.get("description") or f"{metric} of {target}{threshold.describe()} {unit}".strip(),
        source=spec.path,
        columns=columns,
        params={"metric": metric, "unit": unit, "arguments": arguments},
        threshold=threshold,
        per_partition=per_partition,
    )


def _threshold(b: _RuleBuilder, spec: QualitySpec) -> Threshold:
    present = [op for op in OPERATORS if op in spec.spec]
    if len(present) != 1:
        raise b.fail(spec.path, f"needs exactly one of {', '.join(OPERATORS)}")
    operand = spec.spec[present[0]]
    numeric = isinstance(operand, int | float) and not isinstance(operand, bool)
    if present[0].endswith("Between"):
        numeric = isinstance(operand, list) and len(operand) == 2 and operand[0] <= operand[1]
    if not numeric:
        raise b.fail(f"{spec.path}.{present[0]}", f"must be a number (or [low, high]), got {operand!r}")
    return Threshold(present[0], operand)


def _freshness_rule(b: _RuleBuilder, contract: Contract, dataset: Dataset) -> None:
    for sla in contract.sla:
        if sla.property not in FRESHNESS_PROPERTIES:
            continue
        column = _element_column(sla, dataset)
        if column is None:
            continue
        seconds = _duration_seconds(b, sla)
        b.add(
            "freshness",
            kind="freshness",
            scope=Scope.DATASET,
            severity=Severity.parse(dataset.dte.freshness_severity),
            description=f"newest {column} at most {sla.value} {sla.unit or 'd'} old",
            source=sla.path,
            columns=(column,),
            params={"max_age_seconds": seconds},
            per_partition=False,
        )
        return


def _element_column(sla: SlaProperty, dataset: Dataset) -> str | None:
    if not sla.element:
        return None
    first = sla.element.split(",")[0].strip()
    table, _, column = first.rpartition(".")
    if table and table not in {dataset.name, dataset.physical_name}:
        return None
    return column if dataset.column(column) else None


def _duration_seconds(b: _RuleBuilder, sla: SlaProperty) -> int:
    unit = (sla.unit or "d").lower()
    if unit not in _UNITS or not isinstance(sla.value, int | float) or isinstance(sla.value, bool):
        raise b.fail(sla.path, f"needs a numeric value and a time unit, got {sla.value!r} {unit!r}")
    return int(sla.value * _UNITS[unit])


def _sla_notes(contract: Contract) -> Iterator[str]:
    datasets = contract.datasets
    for sla in contract.sla:
        if sla.property not in FRESHNESS_PROPERTIES:
            yield f"{sla.path}: SLA property {sla.property!r} not enforced"
        elif not any(_element_column(sla, d) for d in datasets):
            yield f"{sla.path}: element {sla.element!r} names no column of this contract; not enforced"


def _confidence_rules(b: _RuleBuilder, dataset: Dataset) -> None:
    spec = dataset.dte.confidence
    where = f"{dataset.path}.customProperties.dte.value.confidence"
    b.dataset(
        "volume",
        "volume",
        Severity.parse(spec.volume_severity),
        f"row count within {spec.volume_threshold} robust z-scores of its history "
        f"(judged after {spec.volume_min_history} earlier measurements)",
        f"{where}.volume",
    )
    b.dataset(
        "drift",
        "drift",
        Severity.parse(spec.drift_severity),
        f"no column's distribution drifts beyond PSI {spec.drift_threshold} from its reference",
        f"{where}.drift",
    )
    b.dataset(
        "confidence",
        "confidence",
        Severity.parse(spec.severity),
        f"trust score at least {spec.min_score} of 100",
        where,
    )


def _golden_rules(b: _RuleBuilder, dataset: Dataset) -> None:
    spec = dataset.dte.canonical
    assert spec is not None
    b.dataset(
        "xref_conservation",
        "xref_conservation",
        Severity.ERROR,
        "every source record is in the crosswalk exactly once",
        f"{spec.path}.inputs",
    )
    b.dataset(
        "cluster_size",
        "cluster_size",
        Severity.WARN,
        f"no entity gathers more than {spec.max_cluster_size} source records (chaining guard)",
        f"{spec.path}.maxClusterSize",
        max=spec.max_cluster_size,
    )
    b.dataset(
        "duplicate_rate",
        "duplicate_rate",
        Severity.WARN,
        "records sharing an exact match key (email or phone) drop from sources to golden records",
        f"{spec.path}.blocking",
    )


def _ingest_rules(b: _RuleBuilder, dataset: Dataset) -> None:
    where = f"{dataset.path}.customProperties.dte.value.source"
    b.dataset(
        "conservation",
        "conservation",
        Severity.ERROR,
        "every landing row is loaded or quarantined: rows_in = rows_loaded + rows_quarantined",
        where,
    )
    b.dataset(
        "unparseable_rows",
        "unparseable",
        Severity.ERROR,
        "landing lines that cannot be parsed at all stay within quarantine.maxPercent",
        where,
    )
    b.dataset(
        "schema_drift",
        "columns",
        Severity.WARN,
        "landing files carry exactly the contract's columns (extra ones are not loaded)",
        where,
    )

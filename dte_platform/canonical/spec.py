"""Checks a golden contract's ``dte.canonical`` against the registries and the input contracts.

Run at load time: a misspelled normalizer, comparison, survivorship rule, input asset or column
fails with the contract file and the field.
"""

from __future__ import annotations

from collections.abc import Mapping

from dte_platform.canonical import normalizers
from dte_platform.canonical.comparisons import COMPARISONS, derived_columns
from dte_platform.compiler.rules import CompiledDataset
from dte_platform.contracts.model import CanonicalSpec, Contract, Dataset
from dte_platform.errors import DefinitionError


def validate(
    contract: Contract, dataset: Dataset, spec: CanonicalSpec, inputs: Mapping[str, CompiledDataset]
) -> None:
    fail = _Failer(contract, spec.path)
    golden_columns = {c.name for c in dataset.columns}
    for i, item in enumerate(spec.inputs):
        where = f"inputs[{i}]"
        source = inputs.get(item.asset)
        if source is None:
            raise fail(f"{where}.asset", f"no source contract declares asset {item.asset!r}")
        columns = {c.name for c in source.columns}
        for column, role in ((item.key, "key"), (item.recency, "recency")):
            if column is not None and column not in columns:
                raise fail(f"{where}.{role}", f"{item.asset} has no column {column!r}")
        for field, origin in item.fields.items():
            if field not in golden_columns:
                raise fail(f"{where}.fields.{field}", f"{field!r} is not a property of the golden contract")
            if origin.column not in columns:
                raise fail(f"{where}.fields.{field}", f"{item.asset} has no column {origin.column!r}")
            _normalizers(fail, f"{where}.fields.{field}.normalize", origin.normalize, set(item.fields))
    systems = [i.system for i in spec.inputs]
    if len(set(systems)) != len(systems):
        raise fail("inputs", f"each input needs its own system name, got {systems}")
    _check_fields(fail, spec)


def _check_fields(fail: _Failer, spec: CanonicalSpec) -> None:
    fields = set(spec.fields)
    for field, names in spec.normalize.items():
        _field(fail, f"normalize.{field}", field, fields)
        _normalizers(fail, f"normalize.{field}", names, fields)
    for field, comparison in spec.comparisons.items():
        _field(fail, f"comparisons.{field}", field, fields)
        _known(fail, f"comparisons.{field}.type", (comparison["type"],), COMPARISONS, "comparison")
        for other in comparison.get("with", ()):
            _field(fail, f"comparisons.{field}.with", other, fields)
        if comparison["type"] == "location" and not comparison.get("with"):
            raise fail(f"comparisons.{field}.with", "a location comparison names the field it goes with")
    blockable = fields | {d for f, p in spec.comparisons.items() for d in derived_columns(f, p["type"])}
    for i, rule in enumerate(spec.blocking + spec.em_blocking + spec.deterministic):
        for field in rule:
            _field(fail, f"blocking[{i}]" if i < len(spec.blocking) else "training", field, blockable)
    for field in spec.survivorship_fields:
        _field(fail, f"survivorship.fields.{field}", field, fields)
    rules = [spec.survivorship_default, *spec.survivorship_fields.values()]
    if any("source_priority" in (r.rule, *r.tie_break) for r in rules) and not spec.source_priority:
        raise fail(
            "survivorship.sourcePriority", "source_priority needs the list of systems in priority order"
        )


class _Failer:
    def __init__(self, contract: Contract, path: str) -> None:
        self.file, self.path = contract.file, path

    def __call__(self, field: str, message: str) -> DefinitionError:
        return DefinitionError(self.file, f"{self.path}.{field}", message)


def _field(fail: _Failer, where: str, field: str, fields: set[str]) -> None:
    if field not in fields:
        raise fail(where, f"{field!r} is not provided by any input (known: {', '.join(sorted(fields))})")


def _normalizers(fail: _Failer, where: str, entries: tuple[str, ...], fields: set[str]) -> None:
    parsed = [normalizers.parse(e) for e in entries]
    _known(fail, where, tuple(name for name, _ in parsed), normalizers.NORMALIZERS, "normalizer")
    for _, argument in parsed:
        if argument is not None and argument not in fields:
            raise fail(where, f"normalizer argument {argument!r} is not a field of this record")


def _known(
    fail: _Failer, where: str, names: tuple[str, ...], registry: Mapping[str, object], kind: str
) -> None:
    unknown = [n for n in names if n not in registry]
    if unknown:
        raise fail(where, f"unknown {kind} {unknown[0]!r} (known: {', '.join(sorted(registry))})")

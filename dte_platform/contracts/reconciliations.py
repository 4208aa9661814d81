"""Reconciliations: cross-asset checks declared in ``checks/reconciliations.yaml``.

Loaded and validated like contracts (file + field in every error); the column names are checked
against the contracts of the assets they name, so a typo fails at load rather than at run time.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import sqlglot
import sqlglot.expressions as exp

from dte_platform.compiler.rules import CompiledDataset, Severity
from dte_platform.contracts.loader import parse_yaml, readable_path, validate_against
from dte_platform.errors import DefinitionError

FILE_NAME = "reconciliations.yaml"


@dataclass(frozen=True)
class Reconciliation:
    name: str
    description: str
    asset: str
    columns: tuple[str, ...]
    reference_asset: str
    reference_columns: tuple[str, ...]
    severity: Severity
    max_percent: float
    path: str
    kind: str = "referential"
    where: str | None = None  # totals: condition on the reference rows, checked at load


def load_reconciliations(file: Path, datasets: Mapping[str, CompiledDataset]) -> list[Reconciliation]:
    """``datasets`` maps asset keys (``sources/shop/orders``) to their compiled contracts."""
    if not file.is_file():
        return []
    document = parse_yaml(file)
    validate_against("reconciliations.schema.json", document, file)
    out = []
    for i, item in enumerate(document["reconciliations"]):
        path = readable_path(document, ["reconciliations", i])
        ref = item["references"]
        _require_columns(file, f"{path}.columns", datasets, item["asset"], item["columns"])
        _require_columns(file, f"{path}.references.columns", datasets, ref["asset"], ref["columns"])
        if len(item["columns"]) != len(ref["columns"]):
            raise DefinitionError(file, f"{path}.references.columns", "needs as many columns as `columns`")
        out.append(
            Reconciliation(
                name=item["name"],
                description=item.get("description", ""),
                asset=item["asset"],
                columns=tuple(item["columns"]),
                reference_asset=ref["asset"],
                reference_columns=tuple(ref["columns"]),
                severity=Severity.parse(item.get("severity", "warning")),
                max_percent=float(item.get("maxPercent", 0.0)),
                path=path,
                kind=item["type"],
                where=_condition(file, f"{path}.references.where", ref.get("where")),
            )
        )
    return out


def _condition(file: Path, field: str, where: str | None) -> str | None:
    """A plain row condition: no subqueries, no table functions, nothing but one WHERE clause."""
    if where is None:
        return None
    try:
        query = sqlglot.parse_one(f"SELECT 1 FROM __reference WHERE {where}", read="duckdb")
    except sqlglot.errors.ParseError as exc:
        raise DefinitionError(file, field, f"not a SQL condition: {exc}") from exc
    tables = {t.name for t in query.find_all(exp.Table)}
    nested = [n for n in query.find_all(exp.Subquery, exp.Select) if n is not query]
    if (
        tables != {"__reference"}
        or nested
        or any(isinstance(f, exp.Func) and f.sql_name().upper().startswith("READ_") for f in query.walk())
    ):
        raise DefinitionError(file, field, "must be a condition on the reference's own columns")
    return where


def _require_columns(
    file: Path, field: str, datasets: Mapping[str, CompiledDataset], asset: str, columns: list[str]
) -> None:
    dataset = datasets.get(asset)
    if dataset is None:
        raise DefinitionError(
            file, field.rsplit(".", 1)[0] + ".asset", f"no contract declares asset {asset!r}"
        )
    known = {c.name for c in dataset.columns}
    unknown = [c for c in columns if c not in known]
    if unknown:
        raise DefinitionError(file, field, f"{asset} has no column(s) {', '.join(unknown)}")

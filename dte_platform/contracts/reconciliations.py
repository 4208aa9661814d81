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
from dte_platform.compiler.sql_guard import UnsafeSql, check_select
from dte_platform.contracts.loader import parse_yaml, readable_path, validate_against
from dte_platform.errors import DefinitionError

FILE_NAME = "reconciliations.yaml"
_NUMERIC_TYPES = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "DOUBLE", "FLOAT", "DECIMAL")


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
        if item["type"] == "totals":
            _require_numeric(file, f"{path}.columns", datasets[item["asset"]], item["columns"][0])
            _require_numeric(file, f"{path}.references.columns", datasets[ref["asset"]], ref["columns"][0])
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
    """A plain row condition: no subqueries, no table functions, nothing but one WHERE clause.

    Checked by sqlglot and by DuckDB's own parser, on the text as it will run (a line break
    follows the condition there, so a trailing ``--`` comment cannot swallow what comes after)."""
    if where is None:
        return None
    text = f"SELECT 1 FROM __reference WHERE {where}\n"
    try:
        query = sqlglot.parse_one(text, read="duckdb")
    except sqlglot.errors.ParseError as exc:
        raise DefinitionError(file, field, f"not a SQL condition: {exc}") from exc
    except RecursionError as exc:
        raise DefinitionError(file, field, "the condition is nested too deeply") from exc
    try:
        check_select(text, {("", "__reference")}, allow_subqueries=False)
    except UnsafeSql as exc:
        message = f"must be a condition on the reference's own columns: {exc}"
        raise DefinitionError(file, field, message) from exc
    tables = {t.name for t in query.find_all(exp.Table)}
    nested = [n for n in query.find_all(exp.Subquery, exp.Select) if n is not query]
    clauses = {key for key, value in query.args.items() if value} - {"expressions", "from", "from_", "where"}
    if (
        tables != {"__reference"}
        or nested
        or clauses
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


def _require_numeric(file: Path, field: str, dataset: CompiledDataset, column: str) -> None:
    """Totals add a column up: a text column would fail every run, so it fails loading instead."""
    duckdb_type = next(c.duckdb_type for c in dataset.columns if c.name == column)
    if not duckdb_type.upper().startswith(_NUMERIC_TYPES):
        raise DefinitionError(file, field, f"totals need a numeric column; {column!r} is {duckdb_type}")

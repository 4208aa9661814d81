"""Mart SQL, understood before it runs: dependencies, output columns and column lineage.

A mart is a contract plus a DuckDB SELECT over other assets' tables. sqlglot parses it once at
load time: every table it reads must belong to a known asset (that is the mart's dependency
list), its output columns must be the contract's properties, and each output column is traced to
the input columns that feed it. A syntax error or an unknown table fails with file, line and column.
DuckDB's own parser then reads the same text (:mod:`~dte_platform.compiler.sql_guard`): exactly one
SELECT, known tables only, no table function.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlglot
import sqlglot.expressions as exp
from sqlglot.lineage import lineage
from sqlglot.optimizer.qualify import qualify
from sqlglot.optimizer.scope import build_scope

from dte_platform.compiler.sql_guard import UnsafeSql, check_select, position
from dte_platform.errors import DefinitionError
from dte_platform.sqlutil import ident

PARTITION_PARAMETER = "partition_date"


@dataclass(frozen=True)
class TableInfo:
    """A table a mart may read: the asset it belongs to and its columns (name -> type)."""

    asset: str
    columns: Mapping[str, str]


@dataclass(frozen=True)
class SqlModel:
    file: Path
    sql: str
    deps: tuple[str, ...]  # asset keys, sorted
    tables: tuple[str, ...]  # "schema.table" read, sorted
    table_assets: tuple[tuple[str, str], ...]  # ("schema.table", asset) for each table read
    output_columns: tuple[str, ...]
    column_lineage: Mapping[str, tuple[tuple[str, str, str], ...]]  # output column -> (asset, table, column)
    uses_partition: bool


def parse_model(file: Path, sql: str, tables: Mapping[tuple[str, str], TableInfo]) -> SqlModel:
    tree = _parse(file, sql)
    read = _tables_read(file, sql, tree, tables)
    try:
        check_select(sql, tables)
    except UnsafeSql as exc:
        raise DefinitionError(file, position(sql, exc.offset), exc.message) from exc
    schema = _schema(read, tables)
    try:
        qualified = qualify(tree.copy(), schema=schema, dialect="duckdb", validate_qualify_columns=True)
    except sqlglot.errors.OptimizeError as exc:
        raise DefinitionError(file, "", f"SQL does not resolve against its inputs: {exc}") from exc
    outputs = _output_names(tree, qualified, [tables[t] for t in read])
    return SqlModel(
        file=file,
        sql=sql,
        deps=tuple(sorted({tables[t].asset for t in read})),
        tables=tuple(sorted(f"{db}.{name}" for db, name in read)),
        table_assets=tuple(sorted((f"{db}.{name}", tables[(db, name)].asset) for db, name in read)),
        output_columns=outputs,
        column_lineage={c: _sources(qualified, c, schema, tables) for c in outputs},
        uses_partition=any(p.name == PARTITION_PARAMETER for p in tree.find_all(exp.Placeholder)),
    )


def _output_names(tree: exp.Query, qualified: exp.Query, inputs: list[TableInfo]) -> tuple[str, ...]:
    """The result's column names as DuckDB gives them: spelled as in the SELECT, or as the input
    table declares them for a ``*`` (sqlglot's qualify lowercases identifiers; DuckDB keeps case)."""
    spelled = _spellings(inputs)
    spelled |= {s.alias_or_name.lower(): s.alias_or_name for s in tree.selects if s.alias_or_name}
    return tuple(spelled.get(s.alias_or_name.lower(), s.alias_or_name) for s in qualified.selects)


def _spellings(inputs: list[TableInfo]) -> dict[str, str]:
    return {c.lower(): c for info in inputs for c in info.columns}


def _parse(file: Path, sql: str) -> exp.Query:
    try:
        statements = sqlglot.parse(sql, read="duckdb")
    except sqlglot.errors.ParseError as exc:
        error = exc.errors[0] if exc.errors else {}
        where = f"line {error.get('line', '?')}, column {error.get('col', '?')}"
        raise DefinitionError(file, where, f"SQL syntax error: {error.get('description', exc)}") from exc
    except RecursionError as exc:
        raise DefinitionError(file, "", "SQL is nested too deeply") from exc
    if len(statements) != 1 or not isinstance(statements[0], exp.Query):
        raise DefinitionError(file, "", "a mart is exactly one SELECT statement")
    tree = statements[0]
    for node in tree.walk():
        if isinstance(node, exp.Func) and node.sql_name().upper().startswith("READ_"):
            raise DefinitionError(file, _position(node), "table functions are not allowed in marts")
        if isinstance(node, exp.Table) and node.args.get("catalog"):
            raise DefinitionError(file, _position(node), "a database qualifier is not allowed in marts")
    return tree


def _tables_read(
    file: Path, sql: str, tree: exp.Query, tables: Mapping[tuple[str, str], TableInfo]
) -> set[tuple[str, str]]:
    root = build_scope(tree)
    if root is None:  # pragma: no cover - parse_one gave a query, so there is a scope
        raise DefinitionError(file, "", "cannot analyse the SQL")
    read = set()
    for scope in root.traverse():
        for source in scope.sources.values():
            if not isinstance(source, exp.Table):
                continue
            key = (source.db, source.name)
            if key not in tables:
                known = ", ".join(sorted(f"{s}.{t}" for s, t in tables))
                first = source.args.get("db") or source.this
                raise DefinitionError(
                    file, _position(first, sql), f"unknown table {source.sql('duckdb')} (known: {known})"
                )
            read.add(key)
    return read


def _position(node: Any, sql: str | None = None) -> str:
    """Where a node starts: line and column (1-based) computed from its character offset."""
    meta = getattr(node, "meta", None) or {}
    if sql is not None and "start" in meta:
        start = meta["start"]
        line_start = sql.rfind("\n", 0, start) + 1
        return f"line {sql.count(chr(10), 0, start) + 1}, column {start - line_start + 1}"
    return f"line {meta['line']}, column {meta['col']}" if "line" in meta else ""


def _schema(read: set[tuple[str, str]], tables: Mapping[tuple[str, str], TableInfo]) -> dict[str, Any]:
    """sqlglot parses schema names as SQL: column names go in quoted, so that any text (``a;b``,
    ``x" --``) stays one identifier."""
    schema: dict[str, Any] = {}
    for db, name in read:
        schema.setdefault(db, {})[name] = {ident(c): t for c, t in tables[(db, name)].columns.items()}
    return schema


def _sources(
    qualified: exp.Query, column: str, schema: dict[str, Any], tables: Mapping[tuple[str, str], TableInfo]
) -> tuple[tuple[str, str, str], ...]:
    node = lineage(ident(column), qualified, schema=schema, dialect="duckdb")
    found = set()
    for leaf in node.walk():
        if leaf.downstream or not isinstance(leaf.expression, exp.Table):
            continue
        table = leaf.expression
        info = tables.get((table.db, table.name))
        if info is not None:
            # the leaf is named `alias.column` in SQL: parse it, a quoted name may hold dots and quotes
            name = exp.to_column(leaf.name, dialect="duckdb").name
            found.add((info.asset, f"{table.db}.{table.name}", _spellings([info]).get(name.lower(), name)))
    return tuple(sorted(found))

"""A second opinion from the engine that will run it: DuckDB's own parser reads every SQL text a
definition supplies (mart SQL, ``type: sql`` rules, reconciliation conditions).

sqlglot analyses that SQL at load time, but DuckDB parses what actually runs. Where two parsers
could disagree (comments, string escapes, line breaks), DuckDB's reading is the one that counts, so
each text is also parsed by DuckDB's ``json_serialize_sql``, which serializes SELECT statements only,
and must be exactly one SELECT that:

- reads only the tables it is given (or its own CTEs), unqualified by a database; a file name used
  as a table (``FROM '/etc/passwd'``) is a table name to the parser and is refused like any other;
- calls no table function (``read_csv``, ``read_text``, ``glob``, ``query``, ``duckdb_settings``…)
  and uses no other kind of source (``SHOW``, ``DESCRIBE``);
- optionally, has no subquery at all (a plain row condition).

Parsing binds nothing and touches no file: the connection used here is in memory with external
access disabled.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from typing import Any

import duckdb

#: table reference kinds a SELECT may use; anything else (TABLE_FUNCTION, SHOW_REF, …) is refused
_SAFE_SOURCES = frozenset({"BASE_TABLE", "JOIN", "SUBQUERY", "EXPRESSION_LIST", "EMPTY", "PIVOT"})
_TABLE_REF_KEYS = ("from_table", "left", "right", "source", "table")


class UnsafeSql(ValueError):
    """The SQL is not one read-only SELECT over the tables it may read. ``offset``: where, if known."""

    def __init__(self, message: str, offset: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset


@dataclass
class _Shape:
    tables: list[tuple[str, str, str, int | None]] = field(default_factory=list)  # catalog, schema, name
    sources: list[tuple[str, int | None]] = field(default_factory=list)  # refused kinds of source
    ctes: set[str] = field(default_factory=set)
    subqueries: list[int | None] = field(default_factory=list)


def check_select(sql: str, readable: Collection[tuple[str, str]], allow_subqueries: bool = True) -> None:
    """Raise :class:`UnsafeSql` unless ``sql`` is one SELECT reading only ``readable`` tables.

    ``readable`` holds ``(schema, table)`` pairs; ``("", name)`` is a table named without a schema.
    Names compare case-insensitively, as DuckDB resolves them.
    """
    shape = _shape(_serialize(sql))
    allowed = {(s.lower(), t.lower()) for s, t in readable}
    ctes = {c.lower() for c in shape.ctes}
    for kind, offset in shape.sources:
        raise UnsafeSql(f"{_source_label(kind)} is not allowed here; read tables only", offset)
    for catalog, schema, name, offset in shape.tables:
        shown = ".".join(p for p in (catalog, schema, name) if p)
        if catalog:
            raise UnsafeSql(f"table {shown!r}: a database qualifier is not allowed", offset)
        if (schema.lower(), name.lower()) in allowed or (not schema and name.lower() in ctes):
            continue
        raise UnsafeSql(f"table {shown!r} may not be read here", offset)
    if shape.subqueries and not allow_subqueries:
        raise UnsafeSql("subqueries are not allowed here", shape.subqueries[0])


def _serialize(sql: str) -> dict[str, Any]:
    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as exc:
        raise UnsafeSql(f"DuckDB cannot parse it: {_first_line(exc)}") from exc
    if len(statements) != 1 or statements[0].type != duckdb.StatementType.SELECT:  # type: ignore[attr-defined]
        kinds = ", ".join(s.type.name for s in statements) or "nothing"
        raise UnsafeSql(f"must be exactly one SELECT statement; DuckDB reads: {kinds}")
    with duckdb.connect(config={"enable_external_access": False}) as conn:
        text = conn.execute("SELECT json_serialize_sql(?)", [sql]).fetchall()[0][0]
    try:
        tree = json.loads(text)
    except RecursionError as exc:
        raise UnsafeSql("the SQL is nested too deeply") from exc
    if tree.get("error") or len(tree.get("statements", ())) != 1:
        raise UnsafeSql(f"must be exactly one SELECT statement: {tree.get('error_message', '')}".rstrip(": "))
    return dict(tree)


def _shape(tree: dict[str, Any]) -> _Shape:
    shape = _Shape()
    for node in _nodes(tree):
        for item in (node.get("cte_map") or {}).get("map") or ():
            shape.ctes.add(str(item.get("key", "")))
        if node.get("class") == "SUBQUERY":
            shape.subqueries.append(_offset(node))
        for key in _TABLE_REF_KEYS:
            ref = node.get(key)
            if isinstance(ref, dict) and "type" in ref and "class" not in ref:
                _table_ref(shape, ref)
    return shape


def _table_ref(shape: _Shape, ref: dict[str, Any]) -> None:
    kind, offset = str(ref["type"]), _offset(ref)
    if kind == "BASE_TABLE":
        names = (ref.get("catalog_name", ""), ref.get("schema_name", ""), ref.get("table_name", ""))
        shape.tables.append((*names, offset))
    elif kind == "SUBQUERY":
        shape.subqueries.append(offset)
    elif kind not in _SAFE_SOURCES:
        shape.sources.append((kind, offset))


def _nodes(tree: Any) -> Iterator[dict[str, Any]]:
    """Every object in the JSON tree, without recursion (the tree may be deep)."""
    stack = [tree]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            yield item
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def _offset(node: dict[str, Any]) -> int | None:
    location = node.get("query_location")
    return location if isinstance(location, int) and location < 2**32 else None


def _source_label(kind: str) -> str:
    return "a table function" if kind == "TABLE_FUNCTION" else f"a {kind.lower().replace('_', ' ')} source"


def _first_line(exc: BaseException) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def position(sql: str, offset: int | None) -> str:
    """``line L, column C`` (1-based) of a character offset in ``sql``; empty when unknown."""
    if offset is None or offset > len(sql):
        return ""
    line_start = sql.rfind("\n", 0, offset) + 1
    return f"line {sql.count(chr(10), 0, offset) + 1}, column {offset - line_start + 1}"

"""Quoting for SQL text we build. Values travel as bound parameters; identifiers and the few
literals DuckDB takes only inline (table-function options) go through these two functions."""

from __future__ import annotations


def ident(name: str) -> str:
    """A double-quoted identifier, safe for any text."""
    return '"' + name.replace('"', '""') + '"'


def literal(value: str) -> str:
    """A single-quoted string literal, safe for any text."""
    if "\x00" in value:
        raise ValueError("NUL byte in SQL literal")
    return "'" + value.replace("'", "''") + "'"


def table_ref(schema: str, table: str) -> str:
    return f"{ident(schema)}.{ident(table)}"

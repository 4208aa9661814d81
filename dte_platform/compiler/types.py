"""Contract types -> warehouse types, and how landing text is parsed into them.

Landing data is always read as text first; each parser turns a text expression into the typed value
or NULL when the text does not parse. A NULL typed value next to a non-NULL text value is what the
row rule ``<column>__type`` quarantines.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from dte_platform.errors import DefinitionError

_PHYSICAL = re.compile(r"^\s*([A-Za-z][A-Za-z ]*?)\s*(?:\(\s*(\d+)\s*(?:,\s*(\d+)\s*)?\))?\s*$")

_INTEGERS = {
    "tinyint": "TINYINT",
    "smallint": "SMALLINT",
    "int2": "SMALLINT",
    "int": "INTEGER",
    "integer": "INTEGER",
    "int4": "INTEGER",
    "bigint": "BIGINT",
    "int8": "BIGINT",
    "long": "BIGINT",
}
_FLOATS = {
    "double": "DOUBLE",
    "double precision": "DOUBLE",
    "float": "DOUBLE",
    "float8": "DOUBLE",
    "real": "DOUBLE",
    "float4": "DOUBLE",
}
_TEXTS = {"varchar", "char", "character", "character varying", "text", "string", "nvarchar", "nchar"}
_TIMESTAMPS = {"timestamp", "timestamptz", "timestamp_tz", "datetime", "timestamp with time zone"}
_LOGICAL = {
    "string": ("VARCHAR", "text"),
    "integer": ("BIGINT", "integer"),
    "number": ("DOUBLE", "float"),
    "date": ("DATE", "date"),
    "timestamp": ("TIMESTAMPTZ", "timestamp"),
    "time": ("TIME", "time"),
    "boolean": ("BOOLEAN", "boolean"),
    "object": ("VARCHAR", "text"),
    "array": ("VARCHAR", "text"),
}


@dataclass(frozen=True)
class StorageType:
    duckdb_type: str
    parser: str
    max_length: int | None = None  # from VARCHAR(n)


def storage_type(logical: str | None, physical: str | None) -> StorageType:
    """The physical type wins when we recognise it; otherwise the logical type decides."""
    recognised = _from_physical(physical) if physical else None
    if recognised is not None:
        return recognised
    duckdb_type, parser = _LOGICAL.get(logical or "string", ("VARCHAR", "text"))
    return StorageType(duckdb_type, parser)


def _from_physical(physical: str) -> StorageType | None:
    match = _PHYSICAL.match(physical)
    if not match:
        return None
    base, first, second = match.group(1).lower(), match.group(2), match.group(3)
    if base in _INTEGERS:
        return StorageType(_INTEGERS[base], "integer")
    if base in _FLOATS:
        return StorageType(_FLOATS[base], "float")
    if base in {"decimal", "numeric", "number"}:
        precision, scale = int(first or 18), int(second or 3)
        if not 1 <= precision <= 38 or scale > precision:
            return None
        return StorageType(f"DECIMAL({precision},{scale})", "decimal")
    if base in _TEXTS:
        return StorageType("VARCHAR", "text", int(first) if first else None)
    if base in _TIMESTAMPS:
        return StorageType("TIMESTAMPTZ", "timestamp")
    simple = {
        "date": ("DATE", "date"),
        "time": ("TIME", "time"),
        "boolean": ("BOOLEAN", "boolean"),
        "bool": ("BOOLEAN", "boolean"),
    }
    return StorageType(*simple[base]) if base in simple else None


_JAVA_TOKENS = [
    ("yyyy", "%Y"),
    ("uuuu", "%Y"),
    ("yy", "%y"),
    ("MMMM", "%B"),
    ("MMM", "%b"),
    ("MM", "%m"),
    ("dd", "%d"),
    ("EEEE", "%A"),
    ("EEE", "%a"),
    ("HH", "%H"),
    ("hh", "%I"),
    ("mm", "%M"),
    ("ss", "%S"),
    ("SSSSSS", "%f"),
    ("SSS", "%g"),
    ("a", "%p"),
    ("XXX", "%z"),
    ("xxx", "%z"),
    ("XX", "%z"),
    ("Z", "%z"),
    ("X", "%z"),
]


def java_to_strptime(pattern: str, where: str = "") -> str:
    """An ODCS (JDK DateTimeFormatter) pattern as a DuckDB strptime format."""
    out, i = [], 0
    while i < len(pattern):
        if pattern[i] == "'":
            end = pattern.find("'", i + 1)
            end = len(pattern) if end < 0 else end
            out.append(pattern[i + 1 : end].replace("%", "%%"))
            i = end + 1
            continue
        token = next((t for t in _JAVA_TOKENS if pattern.startswith(t[0], i)), None)
        if token is None and pattern[i].isalpha():
            raise DefinitionError(
                "",
                f"{where}.logicalTypeOptions.format",
                f"unsupported pattern letter {pattern[i]!r} in {pattern!r}",
            )
        out.append(token[1] if token else pattern[i].replace("%", "%%"))
        i += len(token[0]) if token else 1
    return "".join(out)


def temporal_parser(raw: str, duckdb_type: str, strptime: str) -> str:
    escaped = strptime.replace("'", "''")
    return f"TRY_CAST(try_strptime(trim({raw}), '{escaped}') AS {duckdb_type})"


def _integer(raw: str, duckdb_type: str) -> str:
    # TRY_CAST('1.5' AS BIGINT) rounds to 2; an integer column only takes integer text
    is_integer = f"regexp_full_match(trim({raw}), '[+-]?[0-9]+')"
    return f"CASE WHEN {is_integer} THEN TRY_CAST(trim({raw}) AS {duckdb_type}) END"


def _float(raw: str, duckdb_type: str) -> str:
    # NaN and Infinity parse as DOUBLE but are not numbers a contract can compare
    value = f"TRY_CAST(trim({raw}) AS {duckdb_type})"
    return f"CASE WHEN isfinite({value}) THEN {value} END"


def _cast(raw: str, duckdb_type: str) -> str:
    return f"TRY_CAST(trim({raw}) AS {duckdb_type})"


def _text(raw: str, duckdb_type: str) -> str:
    return raw


#: parser name -> SQL template turning a VARCHAR expression into the typed value (NULL on failure)
PARSERS: dict[str, Callable[[str, str], str]] = {
    "text": _text,
    "integer": _integer,
    "float": _float,
    "decimal": _cast,
    "date": _cast,
    "timestamp": _cast,
    "time": _cast,
    "boolean": _cast,
}

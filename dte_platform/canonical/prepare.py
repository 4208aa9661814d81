"""Source records -> one table of candidate records for matching, in DuckDB SQL.

For every input, each golden field is read from its source column, passed through that input's
extraction normalizers (``name_first`` on a full name, say) and cast to the golden type: that is
the *display* value survivorship chooses from. The contract's per-field ``normalize`` list then
turns it into the *match* value (``m_<field>``) the comparisons see. A source key that appears in
several partitions counts once: its most recent record.
"""

from __future__ import annotations

from collections.abc import Mapping

from dte_platform.canonical import normalizers
from dte_platform.canonical.comparisons import derived_columns
from dte_platform.compiler.rules import ColumnType
from dte_platform.contracts.model import CanonicalInput, CanonicalSpec
from dte_platform.sqlutil import ident, literal

PARTITION, LINE = "_partition_date", "_source_line"


def _display(
    item: CanonicalInput, field: str, golden: Mapping[str, ColumnType], raw: Mapping[str, str]
) -> str:
    target = golden[field].duckdb_type
    origin = item.fields.get(field)
    if origin is None:
        return f"CAST(NULL AS {target})"
    if not origin.normalize:
        return f"TRY_CAST({ident(origin.column)} AS {target})"
    text = normalizers.apply(origin.normalize, f"CAST({ident(origin.column)} AS VARCHAR)", raw)
    return f"TRY_CAST({text} AS {target})"


def _input_sql(
    item: CanonicalInput, table: str, spec: CanonicalSpec, golden: Mapping[str, ColumnType]
) -> str:
    fields = spec.fields
    raw = {f: f"CAST({ident(o.column)} AS VARCHAR)" for f, o in item.fields.items()}
    display = {f: _display(item, f, golden, raw) for f in fields}
    recency = (
        f"TRY_CAST({ident(item.recency)} AS TIMESTAMPTZ)" if item.recency else "CAST(NULL AS TIMESTAMPTZ)"
    )
    key = ident(item.key)
    order = f"{recency} DESC NULLS LAST, {ident(PARTITION)} DESC, {ident(LINE)} DESC"
    columns = ", ".join(f"{sql} AS {ident(f)}" for f, sql in display.items())
    return (
        f"SELECT {literal(item.system)} AS source_system, CAST({key} AS VARCHAR) AS source_key, "
        f"{recency} AS __recency, {columns} FROM {table} WHERE {key} IS NOT NULL "
        f"QUALIFY row_number() OVER (PARTITION BY {key} ORDER BY {order}) = 1"
    )


def records_sql(spec: CanonicalSpec, tables: Mapping[str, str], golden: Mapping[str, ColumnType]) -> str:
    """Display values of every input, unioned; ``tables`` maps input asset keys to table refs."""
    return " UNION ALL ".join(_input_sql(i, tables[i.asset], spec, golden) for i in spec.inputs)


def match_sql(spec: CanonicalSpec, records: str, golden: Mapping[str, ColumnType]) -> str:
    """Match values from the display records (the contract's normalizers, cast back to the golden
    type), named after their fields, plus the derived columns some comparisons use."""
    items = []
    context = {f: f"CAST({ident(f)} AS VARCHAR)" for f in spec.fields}
    for field in spec.fields:
        value = ident(field)
        names = spec.normalize.get(field, ())
        if names:
            text = normalizers.apply(names, f"CAST({value} AS VARCHAR)", context)
            value = f"TRY_CAST({text} AS {golden[field].duckdb_type})"
        items.append(f"{value} AS {ident(field)}")
    derived = [
        f"{sql} AS {ident(name)}"
        for field, params in spec.comparisons.items()
        for name, sql in derived_columns(field, params["type"]).items()
    ]
    inner = f"SELECT source_system, source_key, {', '.join(items)} FROM {records}"
    return f"SELECT *{''.join(', ' + d for d in derived)} FROM ({inner})"

"""Which warehouse tables a mart may read, and the asset each belongs to.

Built from the contracts alone (no warehouse access at load time): every dataset's table with its
contract columns plus the platform's own columns, and the golden side tables (crosswalk, match
evidence) under their golden asset.
"""

from __future__ import annotations

from collections.abc import Iterable

from dte_platform.canonical.run import SCHEMA as GOLDEN_SCHEMA
from dte_platform.compiler.rules import CompiledDataset
from dte_platform.compiler.sql_model import TableInfo
from dte_platform.ingest.writer import table_name

_SOURCE_EXTRA = {"_partition_date": "DATE", "_source_file": "VARCHAR", "_source_line": "BIGINT"}
_GOLDEN_EXTRA = {"_source_records": "BIGINT", "_provenance": "STRUCT(key VARCHAR, value VARCHAR)[]"}
_GOLDEN_SIDE = {
    "xref": {
        "source_system": "VARCHAR",
        "source_key": "VARCHAR",
        "golden_id": "VARCHAR",
        "match_probability": "DOUBLE",
    },
    "identity": {"source_system": "VARCHAR", "source_key": "VARCHAR", "golden_id": "VARCHAR"},
}


def warehouse_tables(datasets: Iterable[tuple[CompiledDataset, bool]]) -> dict[tuple[str, str], TableInfo]:
    """``datasets``: each compiled dataset with whether it is daily partitioned."""
    tables: dict[tuple[str, str], TableInfo] = {}
    for compiled, partitioned in datasets:
        asset = "/".join(compiled.key_path)
        schema, table = table_name(compiled)
        columns = {c.name: c.duckdb_type for c in compiled.columns}
        if schema == "sources" or partitioned:
            columns |= _SOURCE_EXTRA if schema == "sources" else {"_partition_date": "DATE"}
        if schema == GOLDEN_SCHEMA:
            columns |= _GOLDEN_EXTRA
            tables.update(
                {
                    (schema, f"{table}__{suffix}"): TableInfo(asset, cols)
                    for suffix, cols in _GOLDEN_SIDE.items()
                }
            )
        tables[(schema, table)] = TableInfo(asset, columns)
    return tables

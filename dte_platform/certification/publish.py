"""Write-audit-publish in the warehouse: ``certified.<layer>__<name>`` and ``trust.certificates``.

Assets write their own tables (write), checks and the certification decision judge them (audit),
and only a version whose certificate met its required level is copied into the ``certified``
schema (publish). The copy is made only when the table still holds exactly the version that was
certified (same data fingerprint), in one transaction with its certificate row, so consumers of
``certified.*`` never see data that was not certified, and a crash leaves the previous state.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import duckdb

from dte_platform.sqlutil import table_ref
from dte_platform.warehouse import ensure_schema, one, run

CERTIFIED_SCHEMA = "certified"
TRUST_SCHEMA = "trust"
CERTIFICATES = "certificates"

_CERTIFICATE_COLUMNS = """
    asset VARCHAR NOT NULL,
    version VARCHAR,
    level VARCHAR NOT NULL,
    required VARCHAR NOT NULL,
    certified BOOLEAN NOT NULL,
    status VARCHAR NOT NULL,
    issued TIMESTAMPTZ NOT NULL,
    expires TIMESTAMPTZ,
    evidence_hash VARCHAR NOT NULL,
    evidence_sequence BIGINT NOT NULL,
    fingerprint VARCHAR,
    published BOOLEAN NOT NULL,
    reasons VARCHAR[] NOT NULL,
    run_id VARCHAR
"""


def certificates_table() -> str:
    return table_ref(TRUST_SCHEMA, CERTIFICATES)


def certified_table(layer: str, slug: str) -> str:
    """``certified."<layer>__<slug>"``: what consumers read."""
    return table_ref(CERTIFIED_SCHEMA, f"{layer}__{slug}")


def ensure_tables(conn: duckdb.DuckDBPyConnection) -> None:
    ensure_schema(conn, TRUST_SCHEMA)
    ensure_schema(conn, CERTIFIED_SCHEMA)
    run(conn, f"CREATE TABLE IF NOT EXISTS {certificates_table()} ({_CERTIFICATE_COLUMNS})")


def table_fingerprint(conn: duckdb.DuckDBPyConnection, table: str) -> str:
    """Row count and an order-independent sum of row hashes: equal tables, equal fingerprints.

    One scan; duplicates count (a sum, not an xor), so a duplicated row changes the fingerprint.
    """
    rows, total = one(conn, f"SELECT count(*), coalesce(sum(hash(t)::HUGEINT), 0) FROM {table} AS t")
    return f"rows={rows};sum={total}"


@dataclass(frozen=True)
class CertificateRow:
    asset: str
    version: str | None
    level: str
    required: str
    certified: bool
    status: str
    issued: dt.datetime
    expires: dt.datetime | None
    evidence_hash: str
    evidence_sequence: int
    fingerprint: str | None
    reasons: Sequence[str]
    run_id: str | None


@dataclass(frozen=True)
class Outcome:
    asset: str
    published: bool
    note: str


def record(
    conn: duckdb.DuckDBPyConnection,
    row: CertificateRow,
    source_table: str | None,
    target_table: str | None,
) -> Outcome:
    """Record ``row`` in ``trust.certificates`` and, when it is certified and the source table still
    holds the certified version, publish that version to ``target_table``; one transaction."""
    ensure_tables(conn)
    publish = row.certified and source_table is not None and target_table is not None
    note = "recorded"
    run(conn, "BEGIN TRANSACTION")
    try:
        if publish and source_table and target_table:
            current = table_fingerprint(conn, source_table)
            if current != row.fingerprint:
                publish = False
                note = (
                    f"not published: {source_table} changed since the certified version "
                    f"({row.fingerprint} -> {current}); the next evaluation judges the new version"
                )
            else:
                run(conn, f"CREATE OR REPLACE TABLE {target_table} AS SELECT * FROM {source_table}")
                note = f"published to {target_table}"
        run(
            conn,
            f"INSERT INTO {certificates_table()} VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                row.asset,
                row.version,
                row.level,
                row.required,
                row.certified,
                row.status,
                row.issued,
                row.expires,
                row.evidence_hash,
                row.evidence_sequence,
                row.fingerprint,
                publish,
                list(row.reasons),
                row.run_id,
            ],
        )
        run(conn, "COMMIT")
    except BaseException:
        run(conn, "ROLLBACK")
        raise
    return Outcome(row.asset, publish, note)


def latest_certificates(conn: duckdb.DuckDBPyConnection) -> dict[str, dict[str, Any]]:
    """The newest certificate of every asset: its evidence pack's sequence, which only grows (the
    same rule ``dte evidence verify`` uses to find each chain's head; the issue time can go back
    when the platform's clock is set, as ``DTE_AS_OF`` does)."""
    exists = one(
        conn,
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?",
        [TRUST_SCHEMA, CERTIFICATES],
    )[0]
    if not exists:
        return {}
    cursor = conn.execute(
        f"SELECT * FROM {certificates_table()} QUALIFY row_number() OVER "
        "(PARTITION BY asset ORDER BY evidence_sequence DESC, rowid DESC) = 1 ORDER BY asset"
    )
    names = [d[0] for d in cursor.description or []]
    return {row[0]: dict(zip(names, row, strict=True)) for row in cursor.fetchall()}

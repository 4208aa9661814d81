"""Profiling reports on a real DuckDB file: sensitive values never reach the HTML, sampling is bounded and
repeatable, and a table with nothing to profile still gets a page."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest

from dte_platform.confidence.profiling import ProfileResult, profile_table

TABLE = '"sources"."shop__orders"'
SENSITIVE = {"email", "salary", "birth_date"}
CANARY_EMAIL = "canary-7d1e@example.com"
#: how the canary salary (987654.321) and birth date (1911-11-11) could be spelled in a report; bare
#: numbers count as whole numbers outside chart drawings (see ``shows``)
CANARY_TEXTS = (
    CANARY_EMAIL,
    "canary-",
    "7d1e",
    "example.com",
    "987654.321",
    "987654",
    "987,654",
    "987 654",
    "9.87654",
    "9.876543",
    "1911-11-11",
    "11/11/1911",
    "11-11-1911",
    "1911",
)

pytestmark = pytest.mark.filterwarnings(
    # the profiler's rename notice is attributed to the importing line, so the pyproject filter on the
    # profiler's own modules does not catch it
    r"ignore:\s*.import ydata_profiling. is deprecated:DeprecationWarning",
)


@pytest.fixture
def conn(tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    connection.execute("CREATE SCHEMA sources").fetchall()
    yield connection
    connection.close()


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Every outgoing connection fails, and is recorded; the analytics opt-out is unset to start with."""
    attempts: list[Any] = []

    def refuse(self: socket.socket, address: Any) -> None:
        attempts.append(address)
        raise OSError("network disabled in this test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setenv("YDATA_PROFILING_NO_ANALYTICS", "")
    return attempts


def shows(page: str, text: str) -> bool:
    """Whether ``text`` appears in the report page.

    A bare number is looked for as a whole number (not inside a longer one, e.g. a duration of
    0.19112 s) and outside the SVG drawings, whose path coordinates are arbitrary digits; a leaked
    column would still show its name and statistics as text.
    """
    if not text.isdigit():
        return text in page
    prose = re.sub(r"<svg\b.*?</svg>", "", page, flags=re.DOTALL)
    return re.search(rf"(?<![\d.]){text}(?!\d)", prose) is not None


def make_orders(conn: duckdb.DuckDBPyConnection, rows: int) -> None:
    """Orders with non-sensitive columns, lineage columns, and sensitive columns holding canary values.

    Canaries are made hard to miss if they leaked: the email is the most frequent value of its column,
    the salary its maximum, the birth date its minimum.
    """
    conn.execute(
        f"""
        CREATE TABLE {TABLE} AS
        SELECT
            range AS order_id,
            ['new', 'paid', 'shipped', 'returned'][1 + range % 4] AS status,
            round(10 + (range % 997) * 0.37, 2) AS amount,
            TIMESTAMP '2024-03-01' + to_seconds(range * 7) AS ordered_at,
            CASE WHEN range % 3 = 0 THEN '{CANARY_EMAIL}' ELSE 'canary-' || range || '@example.com' END
                AS email,
            CASE WHEN range % 10 = 0 THEN 987654.321 ELSE 1000 + range % 500 END AS salary,
            CASE WHEN range % 10 = 0 THEN DATE '1911-11-11' ELSE DATE '1980-01-01' + (range % 900)::INT END
                AS birth_date,
            'landing/shop/orders.csv' AS _source_file,
            range + 2 AS _source_line,
            DATE '2024-03-01' AS _partition_date
        FROM range({rows})
        """
    ).fetchall()


def profile(conn: duckdb.DuckDBPyConnection, out: Path, **kwargs: Any) -> ProfileResult:
    options: dict[str, Any] = {"sensitive": SENSITIVE, "out_path": out, "title": "shop orders"} | kwargs
    return profile_table(conn, TABLE, **options)


def test_sensitive_columns_never_reach_the_report(
    conn: duckdb.DuckDBPyConnection, tmp_path: Path, no_network: list[Any]
) -> None:
    make_orders(conn, 2_000)
    out = tmp_path / "reports" / "shop" / "orders.html"

    result = profile(conn, out)

    assert result.path == out
    assert out.is_file()
    assert sorted(p.name for p in out.parent.iterdir()) == ["orders.html"]  # no temp file left behind
    assert result.rows_total == result.rows_profiled == 2_000
    assert result.columns_profiled == ("order_id", "status", "amount", "ordered_at")
    assert result.columns_dropped == ("email", "salary", "birth_date")
    page = out.read_text(encoding="utf-8")
    for column in result.columns_profiled:
        assert column in page
    # the report says which sensitive columns it left out (their names, never their values) ...
    assert "Sensitive columns left out, never read: email, salary, birth_date." in page
    # ... and no value of theirs, and no internal column, appears anywhere else in it
    rest = page.replace("Sensitive columns left out, never read: email, salary, birth_date.", "")
    for text in (*CANARY_TEXTS, *SENSITIVE, "_source_file", "_source_line", "_partition_date"):
        assert not shows(rest, text), f"{text!r} leaked into the report"
    assert no_network == []


def test_canaries_are_visible_when_not_sensitive(conn: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    """The control for the test above: unprotected, the profiler does print these values."""
    make_orders(conn, 2_000)

    page = profile(conn, tmp_path / "open.html", sensitive=()).path.read_text(encoding="utf-8")

    assert shows(page, CANARY_EMAIL)
    assert shows(page, "987654")
    assert shows(page, "1911")


def test_sample_is_bounded_and_repeatable(conn: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    make_orders(conn, 300_000)

    first = profile(conn, tmp_path / "a.html", sample_rows=50_000, seed=7)
    second = profile(conn, tmp_path / "b.html", sample_rows=50_000, seed=7)

    assert first.rows_total == 300_000
    assert 40_000 <= first.rows_profiled <= 50_000
    assert second.rows_profiled == first.rows_profiled


def test_where_filter_with_parameters(conn: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    make_orders(conn, 2_000)

    result = profile(
        conn, tmp_path / "paid.html", where="status = ? AND order_id < ?", params=["paid", 1_000]
    )

    assert result.rows_total == result.rows_profiled == 250
    assert "paid" in result.path.read_text(encoding="utf-8")


def test_all_sensitive_still_writes_a_page(conn: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    make_orders(conn, 100)
    everything = {"order_id", "STATUS", "amount", "ordered_at", *SENSITIVE}  # matched case-insensitively

    result = profile(conn, tmp_path / "none.html", sensitive=everything, title="shop <orders>")

    assert result.rows_total == 100
    assert result.rows_profiled == 0
    assert result.columns_profiled == ()
    assert set(result.columns_dropped) == {"order_id", "status", "amount", "ordered_at", *SENSITIVE}
    page = result.path.read_text(encoding="utf-8")
    assert "nothing could be profiled" in page
    assert "shop &lt;orders&gt;" in page
    for text in CANARY_TEXTS:
        assert not shows(page, text)


def test_no_matching_rows_still_writes_a_page(conn: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    make_orders(conn, 100)

    result = profile(conn, tmp_path / "empty.html", where="status = ?", params=["cancelled"])

    assert (result.rows_total, result.rows_profiled) == (0, 0)
    assert "No rows to profile" in result.path.read_text(encoding="utf-8")


def test_import_stays_light() -> None:
    """Code-location load must not pay for the profiler (seconds) nor pull in the orchestrator."""
    code = (
        "import sys, dte_platform.confidence.profiling; "
        "print(sorted({'ydata_profiling', 'data_profiling', 'dagster'} & set(sys.modules)))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"

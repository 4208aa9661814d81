"""One pattern dialect (RE2) across the engines: lint refuses what an engine cannot run, the frame
engine reads Perl classes as RE2 does, and the string formats follow their RFCs."""

from __future__ import annotations

import ipaddress

import duckdb
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dte_platform.compiler import compile_dataset
from dte_platform.compiler.formats import FORMATS
from dte_platform.compiler.patterns import for_polars, pattern_problem
from dte_platform.contracts import contract_from_document
from dte_platform.errors import DefinitionError
from tests.helpers import contract, source_dte

CON = duckdb.connect()


def in_duckdb(pattern: str, value: str) -> bool:
    return bool(CON.execute("SELECT regexp_matches(?, ?)", [value, pattern]).fetchone()[0])


def in_polars(pattern: str, value: str) -> bool:
    return bool(pl.select(pl.lit(value).str.contains(for_polars(pattern))).item())


def compiled_with_pattern(pattern: str) -> object:
    prop = {"name": "code", "logicalType": "string", "logicalTypeOptions": {"pattern": pattern}}
    document = contract(name="t", domain="d", properties=[prop], dte=source_dte("data/t/{date}.csv"))
    loaded = contract_from_document(document, "t.odcs.yaml", layer="sources")
    return compile_dataset(loaded, loaded.datasets[0])


@pytest.mark.parametrize("pattern", ["^(?=W)W[0-9]{7}$", r"^(a)\1$", "^a++$"])
def test_patterns_an_engine_cannot_run_fail_at_compile_naming_the_field(pattern: str) -> None:
    with pytest.raises(DefinitionError) as caught:
        compiled_with_pattern(pattern)
    assert caught.value.field.endswith("logicalTypeOptions.pattern")
    assert "pattern not supported" in caught.value.message


@pytest.mark.parametrize("pattern", [r"^\p{Lu}[a-z]+$", r"^[[:alpha:]]+$", r"^\pL+$", r"(?i)^abc$"])
def test_patterns_both_engines_run_are_accepted(pattern: str) -> None:
    assert pattern_problem(pattern) is None
    compiled_with_pattern(pattern)


def test_a_negated_perl_class_inside_brackets_is_refused_with_a_reason() -> None:
    assert "write the characters out" in (pattern_problem(r"^[\D_]+$") or "")


@pytest.mark.parametrize(
    ("pattern", "value", "expected"),
    [
        (r"^\d{3}$", "123", True),
        (r"^\d{3}$", "\u0663\u0664\u0665", False),  # Arabic-Indic digits
        (r"^\d{3}$", "\uff11\uff12\uff13", False),  # full-width digits
        (r"^\p{Nd}{3}$", "\u0663\u0664\u0665", True),  # Unicode digits, asked for by name
        (r"^\w+$", "caf\u00e9", False),
        (r"^\pL+$", "caf\u00e9", True),
        (r"^a\sb$", "a\u00a0b", False),  # no-break space is not \s
        (r"^a\sb$", "a\tb", True),
        (r"\bcat\b", "\u00e9cat\u00e9", True),  # ASCII word boundaries
        (r"^[\d.]+$", "1.5", True),
        (r"^[^\s@]+$", "a b", False),
        (r"^\\d$", "\\d", True),
        (r"^[]a]+$", "]a", True),
    ],
)
def test_both_engines_give_a_pattern_the_same_meaning(pattern: str, value: str, expected: bool) -> None:
    assert in_duckdb(pattern, value) is expected
    assert in_polars(pattern, value) is expected


def _is_ipv6(text: str) -> bool:
    try:
        ipaddress.IPv6Address(text)
    except ValueError:
        return False
    return True


def _is_ipv4(text: str) -> bool:
    try:
        ipaddress.IPv4Address(text)
    except ValueError:
        return False
    return True


ADDRESS_TEXT = st.one_of(
    st.ip_addresses(v=6).map(lambda a: a.compressed),
    st.ip_addresses(v=6).map(lambda a: a.exploded),
    st.ip_addresses(v=6).map(lambda a: a.compressed + "%eth0"),
    st.text(alphabet="0123456789abcdefABCDEFg:.%", max_size=45),
)


@settings(max_examples=400, deadline=None)
@given(ADDRESS_TEXT)
def test_ipv6_format_agrees_with_pythons_parser(text: str) -> None:
    expected = _is_ipv6(text)
    assert in_duckdb(FORMATS["ipv6"], text) is expected, text
    assert in_polars(FORMATS["ipv6"], text) is expected, text


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.ip_addresses(v=4).map(str), st.text(alphabet="0123456789.", max_size=17)))
def test_ipv4_format_agrees_with_pythons_parser(text: str) -> None:
    expected = _is_ipv4(text)
    assert in_duckdb(FORMATS["ipv4"], text) is expected, text
    assert in_polars(FORMATS["ipv4"], text) is expected, text


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        (":::::", False),
        ("2001:db8:::1", False),
        ("fe80::1%eth0", True),
        ("::ffff:192.0.2.1", True),
        ("1:2:3:4:5:6:7:8:9", False),
    ],
)
def test_ipv6_examples(value: str, valid: bool) -> None:
    assert in_duckdb(FORMATS["ipv6"], value) is valid


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("https://example.com/a/b?x=1&y=2#top", True),
        ("http://user:pw@[2001:db8::1]:8080/path", True),
        ("mailto:someone@example.com", True),
        ("urn:isbn:0451450523", True),
        ("file:///etc/hosts", True),
        ("https://example.com/a%20b", True),
        ("https://exa mple.com", False),
        ("https://example.com/a%2", False),
        ("https://example.com/<script>", False),
        ("1http://example.com", False),
        ("no scheme", False),
        ("https://example.com/#a#b", False),
        ("http://[::1", False),
    ],
)
def test_uri_format_follows_rfc3986(value: str, valid: bool) -> None:
    assert in_duckdb(FORMATS["uri"], value) is valid
    assert in_polars(FORMATS["uri"], value) is valid

"""``phone_e164`` (DuckDB SQL) against the phonenumbers library as the oracle, over generated valid
numbers of every country the normalizer knows, written the ways people write them."""

from __future__ import annotations

import duckdb
import phonenumbers
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from phonenumbers import PhoneNumberFormat, PhoneNumberType

from dte_platform.canonical.normalizers import COUNTRIES, apply

CON = duckdb.connect()


def ours(text: str, country: str) -> str | None:
    literal = "'" + text.replace("'", "''") + "'"
    sql = "SELECT " + apply(("phone_e164",), f"CAST({literal} AS VARCHAR)", {"country": f"'{country}'"})
    return CON.execute(sql).fetchone()[0]


def oracle(text: str, country: str) -> str:
    return phonenumbers.format_number(phonenumbers.parse(text, country), PhoneNumberFormat.E164)


@st.composite
def written_numbers(draw: st.DrawFn) -> tuple[str, str]:
    country = draw(st.sampled_from(sorted(COUNTRIES)))
    kind = draw(st.sampled_from([PhoneNumberType.FIXED_LINE, PhoneNumberType.MOBILE]))
    example = phonenumbers.example_number_for_type(country, kind)
    assume(example is not None)
    national = str(example.national_number)
    tail = draw(st.text(alphabet="0123456789", min_size=3, max_size=3))
    number = phonenumbers.parse(f"+{example.country_code}{national[:-3]}{tail}", None)
    assume(phonenumbers.is_valid_number_for_region(number, country))
    style = draw(st.sampled_from(["e164", "international", "national", "rfc3966", "idd", "trunk0"]))
    if style == "trunk0":
        assume(COUNTRIES[country][1] == "0")
        international = phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL)
        code = f"+{number.country_code}"
        text = international.replace(code, f"{code} (0)", 1)
    elif style == "idd":
        idd = COUNTRIES[country][2]
        text = idd + " " + phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL)[1:]
    else:
        formats = {
            "e164": PhoneNumberFormat.E164,
            "international": PhoneNumberFormat.INTERNATIONAL,
            "national": PhoneNumberFormat.NATIONAL,
            "rfc3966": PhoneNumberFormat.RFC3966,
        }
        text = phonenumbers.format_number(number, formats[style])
    extension = draw(st.sampled_from(["", " ext. 12", " x 7", " #305"]))
    return text + extension, country


@settings(max_examples=400, deadline=None)
@given(written_numbers())
def test_phone_e164_agrees_with_phonenumbers(case: tuple[str, str]) -> None:
    text, country = case
    assert ours(text, country) == oracle(text, country), text


@pytest.mark.parametrize(
    ("text", "country"),
    [
        ("+49 (0)30 1234567", "DE"),
        ("06 6982 1234", "IT"),
        ("1-415-555-2671", "US"),
        ("+1 415-555-2671 ext. 123", "US"),
        ("(415) 555-2671", "US"),
        ("011 44 20 7946 0958", "US"),
        ("+44 (0) 20 7946 0958", "GB"),
        ("0044 20 7946 0958", "GB"),
        ("912 345 678", "ES"),
        ("tel:+33-1-23-45-67-89", "FR"),
        ("030 1234567", "DE"),
        ("0049 30 1234567", "DE"),
    ],
)
def test_common_ways_of_writing_a_number(text: str, country: str) -> None:
    assert ours(text, country) == oracle(text, country)

"""Normalizers are SQL: evaluated here on an in-memory DuckDB, no files."""

from __future__ import annotations

import duckdb
import pytest

from dte_platform.canonical.normalizers import apply, parse


def normalize(names: tuple[str, ...], value: str | None, **context: str) -> object:
    literal = "NULL" if value is None else "'" + value.replace("'", "''") + "'"
    sql_context = {k: f"'{v}'" for k, v in context.items()}
    return duckdb.sql("SELECT " + apply(names, f"CAST({literal} AS VARCHAR)", sql_context)).fetchall()[0][0]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("  Müller ", "mueller"),
        ("José", "jose"),
        ("Zoë  Ørsted", "zoe orsted"),
        ("GROSS", "gross"),
        ("Straße", "strasse"),
    ],
)
def test_unicode_fold_lower_trim(value: str, expected: str) -> None:
    assert normalize(("unicode_fold", "lower", "trim"), value) == expected


@pytest.mark.parametrize(
    ("value", "country", "expected"),
    [
        ("+49 30 1234567", "DE", "+49301234567"),
        ("030-1234567", "DE", "+49301234567"),
        ("0049 30 1234567", "DE", "+49301234567"),
        ("06 12 34 56 78", "FR", "+33612345678"),
        ("(212) 555-0101", "US", "+12125550101"),
        ("", "DE", None),
    ],
)
def test_phone_to_e164_uses_the_records_country(value: str, country: str, expected: str | None) -> None:
    assert normalize(("phone_e164",), value, country=country) == expected


def test_phone_country_field_is_named_by_argument() -> None:
    assert normalize(("phone_e164(land)",), "030 1234567", land="DE") == "+49301234567"
    assert parse("phone_e164(land)") == ("phone_e164", "land")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (" Anna.Mueller@Example.COM ", "anna.mueller@example.com"),
        ("anna@@example.com", "anna@example.com"),
        ("anna@example.com.", "anna@example.com"),
        ("no-at-sign.example.com", None),
        (None, None),
    ],
)
def test_email(value: str | None, expected: str | None) -> None:
    assert normalize(("email",), value) == expected


@pytest.mark.parametrize(
    ("value", "first", "last"),
    [
        ("Anna Müller", "Anna", "Müller"),
        ("MÜLLER, Anna", "Anna", "MÜLLER"),
        ("Jan van der Berg", "Jan", "van der Berg"),
        ("Cher", "Cher", None),
    ],
)
def test_name_tokens(value: str, first: str, last: str | None) -> None:
    assert normalize(("name_first",), value) == first
    assert normalize(("name_last",), value) == last


def test_title_case_city_exonyms_and_dates() -> None:
    assert normalize(("name_last", "title_case"), "MÜLLER, Anna") == "Müller"
    assert normalize(("unicode_fold", "lower", "city_exonyms"), "Munich") == "muenchen"
    assert str(normalize(("date",), "1980-02-29")) == "1980-02-29"
    assert normalize(("date",), "1981-02-29") is None

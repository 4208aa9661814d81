"""Named normalizers for golden-record fields, as DuckDB SQL on a text expression.

A contract refers to them by name (``normalize: [unicode_fold, lower, trim]``); they apply in
order. A normalizer that needs another field of the same record names it in parentheses:
``phone_e164(iso_country)`` (the default is a field called ``country``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

Normalizer = Callable[[str, Mapping[str, str]], str]

#: the countries phone_e164 knows (ISO 3166 alpha-2) -> (ITU calling code, national trunk prefix,
#: international call prefix). Italy, Spain, Portugal, Poland, Denmark, Norway and Luxembourg have
#: no trunk prefix (Italy's leading 0 is part of the number); the NANP's trunk prefix is 1.
COUNTRIES = {
    "AT": ("43", "0", "00"),
    "BE": ("32", "0", "00"),
    "CH": ("41", "0", "00"),
    "DE": ("49", "0", "00"),
    "DK": ("45", "", "00"),
    "ES": ("34", "", "00"),
    "FI": ("358", "0", "00"),
    "FR": ("33", "0", "00"),
    "GB": ("44", "0", "00"),
    "IE": ("353", "0", "00"),
    "IT": ("39", "", "00"),
    "LU": ("352", "", "00"),
    "NL": ("31", "0", "00"),
    "NO": ("47", "", "00"),
    "PL": ("48", "", "00"),
    "PT": ("351", "", "00"),
    "SE": ("46", "0", "00"),
    "US": ("1", "1", "011"),
    "CA": ("1", "1", "011"),
}
CALLING_CODES = {iso: code for iso, (code, _, _) in COUNTRIES.items()}
_FOLD = [
    ("ä", "ae"),
    ("ö", "oe"),
    ("ü", "ue"),
    ("Ä", "Ae"),
    ("Ö", "Oe"),
    ("Ü", "Ue"),
    ("ß", "ss"),
    ("ø", "o"),
    ("Ø", "O"),
    ("æ", "ae"),
    ("Æ", "Ae"),
    ("œ", "oe"),
    ("Œ", "Oe"),
    ("ł", "l"),
    ("Ł", "L"),
    ("å", "a"),
    ("Å", "A"),
    ("\u0131", "i"),
]
#: English exonyms -> local names (compared after unicode_fold + lower)
EXONYMS = {
    "munich": "muenchen",
    "cologne": "koeln",
    "the hague": "den haag",
    "frankfurt": "frankfurt am main",
    "vienna": "wien",
    "zurich": "zuerich",
    "geneva": "geneve",
    "brussels": "bruxelles",
    "lisbon": "lisboa",
    "rome": "roma",
    "milan": "milano",
    "warsaw": "warszawa",
    "prague": "praha",
    "copenhagen": "koebenhavn",
}


def _trim(e: str, ctx: Mapping[str, str]) -> str:
    return f"nullif(trim(regexp_replace({e}, '\\s+', ' ', 'g')), '')"


def _lower(e: str, ctx: Mapping[str, str]) -> str:
    return f"lower({e})"


def _upper(e: str, ctx: Mapping[str, str]) -> str:
    return f"upper({e})"


def _unicode_fold(e: str, ctx: Mapping[str, str]) -> str:
    """German-style transliteration first (Müller -> Mueller), then accents stripped (José -> Jose)."""
    for char, ascii_ in _FOLD:
        e = f"replace({e}, '{char}', '{ascii_}')"
    return f"strip_accents({e})"


def _email(e: str, ctx: Mapping[str, str]) -> str:
    """Lower case, no blanks, typing slips repaired ('@@', a trailing dot); NULL unless plausible."""
    repaired = f"rtrim(replace(regexp_replace(lower(trim({e})), '\\s+', '', 'g'), '@@', '@'), '.')"
    plausible = f"regexp_full_match({repaired}, '[a-z0-9._%+\\-]+@[a-z0-9\\-]+(\\.[a-z0-9\\-]+)+')"
    return f"(CASE WHEN {plausible} THEN {repaired} END)"


def _city_exonyms(e: str, ctx: Mapping[str, str]) -> str:
    cases = " ".join(f"WHEN '{english}' THEN '{local}'" for english, local in EXONYMS.items())
    return f"(CASE {e} {cases} ELSE {e} END)"


def _digits(e: str, ctx: Mapping[str, str]) -> str:
    return f"nullif(regexp_replace({e}, '[^0-9]', '', 'g'), '')"


def _phone_e164(e: str, ctx: Mapping[str, str]) -> str:
    """E.164 from the way people write numbers, with the record's country for national forms:
    '+49 30 1234567', '+49 (0)30 1234567', '0049 30 1234567' and '030-1234567' (DE) all become
    '+49301234567'; '06 6982 1234' (IT) keeps its 0; '1-415-555-2671' (US) drops the trunk 1;
    an extension ('ext. 12', 'x12', '#12') and a 'tel:' prefix are not part of the number.
    The test oracle is the phonenumbers library (tests/unit/test_phone_numbers.py)."""
    text = (
        f"regexp_replace(regexp_replace(regexp_replace(trim({e}), "
        f"'\\s*(;ext=|ext\\.?|extension|x|#)\\s*[0-9]+$', '', 'i'), '^tel:', '', 'i'), '\\(0\\)', '')"
    )
    digits = _digits(text, ctx)
    field = ctx.get(ARGUMENT) or "country"
    country = f"upper(trim({ctx[field]}))" if field in ctx else "NULL"

    def per_country(index: int) -> str:
        cases = " ".join(f"WHEN '{iso}' THEN '{row[index]}'" for iso, row in COUNTRIES.items())
        return f"(CASE {country} {cases} END)"

    code, trunk, idd = per_country(0), per_country(1), per_country(2)
    national = f"substr({digits}, length({trunk}) + 1)"
    return (
        f"(CASE WHEN {digits} IS NULL THEN NULL "
        f"WHEN trim({text}) LIKE '+%' THEN '+' || {digits} "
        f"WHEN {idd} IS NOT NULL AND starts_with({digits}, {idd}) "
        f"THEN '+' || substr({digits}, length({idd}) + 1) "
        f"WHEN {idd} IS NULL AND starts_with({digits}, '00') THEN '+' || substr({digits}, 3) "
        f"WHEN {code} = '1' AND length({digits}) = 11 AND starts_with({digits}, '1') THEN '+' || {digits} "
        f"WHEN {trunk} <> '' AND {code} <> '1' AND starts_with({digits}, {trunk}) "
        f"THEN '+' || {code} || {national} "
        f"WHEN {code} IS NOT NULL THEN '+' || {code} || {digits} "
        f"ELSE {digits} END)"
    )


def _name_first(e: str, ctx: Mapping[str, str]) -> str:
    """Given name from a full name: 'LAST, First' or 'First Last'."""
    return (
        f"nullif(trim(CASE WHEN contains({e}, ',') THEN split_part({e}, ',', 2) "
        f"ELSE split_part(trim({e}), ' ', 1) END), '')"
    )


def _name_last(e: str, ctx: Mapping[str, str]) -> str:
    """Family name from a full name: 'LAST, First' or 'First Last' (everything after the first word)."""
    return (
        f"nullif(trim(CASE WHEN contains({e}, ',') THEN split_part({e}, ',', 1) "
        f"ELSE substr(trim({e}), strpos(trim({e}) || ' ', ' ') + 1) END), '')"
    )


def _title_case(e: str, ctx: Mapping[str, str]) -> str:
    """'MÜLLER' -> 'Müller', 'van der berg' -> 'Van Der Berg' (for display, not for matching)."""
    return (
        f"array_to_string(list_transform(string_split(lower({e}), ' '), "
        f"lambda w: upper(substr(w, 1, 1)) || substr(w, 2)), ' ')"
    )


def _date(e: str, ctx: Mapping[str, str]) -> str:
    return f"TRY_CAST({e} AS DATE)"


NORMALIZERS: dict[str, Normalizer] = {
    "trim": _trim,
    "lower": _lower,
    "upper": _upper,
    "unicode_fold": _unicode_fold,
    "email": _email,
    "digits": _digits,
    "city_exonyms": _city_exonyms,
    "phone_e164": _phone_e164,
    "name_first": _name_first,
    "name_last": _name_last,
    "title_case": _title_case,
    "date": _date,
}


ARGUMENT = "__argument__"
_CALL = re.compile(r"^([a-z_0-9]+)(?:\(([A-Za-z_][A-Za-z0-9_]*)\))?$")


def parse(entry: str) -> tuple[str, str | None]:
    """``phone_e164(iso_country)`` -> ``("phone_e164", "iso_country")``; ``trim`` -> ``("trim", None)``."""
    match = _CALL.match(entry.strip())
    return (match.group(1), match.group(2)) if match else (entry, None)


def apply(names: tuple[str, ...], expr: str, context: Mapping[str, str]) -> str:
    for entry in names:
        name, argument = parse(entry)
        expr = NORMALIZERS[name](expr, {**context, ARGUMENT: argument} if argument else context)
    return expr

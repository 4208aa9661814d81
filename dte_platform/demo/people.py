"""The real persons behind customer records, and the ways people write their details.

A person has one name, e-mail address and phone number; the helpers here give the case
changes, typos, ASCII spellings, similar or malformed addresses and phone formats under
which the records of the two systems show them.
"""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta

from dte_platform.demo.common import py_rng
from dte_platform.demo.pools import (
    COUNTRIES,
    COUNTRY_CUM,
    EMAIL_DOMAIN_CUM,
    EMAIL_DOMAINS,
    EMAIL_STYLE_CUM,
    EMAIL_STYLES,
    FOLD,
    NAME_POOL_KEYS,
    NAME_POOLS,
    PHONE_FORMATS,
)

MIXED_NAME_SHARE = 0.1  # persons whose names come from another country's pool
BIRTH_MIN = date(1944, 1, 1)
BIRTH_SPAN_DAYS = 62 * 365


@dataclass(frozen=True)
class Phone:
    dial: str
    trunk: str
    area: str
    subscriber: str


@dataclass(frozen=True)
class Person:
    """A real person; customer records in both systems point back to one of these."""

    entity_id: str
    first_name: str
    last_name: str
    birth_date: date
    email: str
    phone: Phone
    city: str
    country: str


def format_phone(phone: Phone, style: str) -> str:
    """One number in the ways people write it: +49 30 1234567, 030-1234567, 004930..."""
    sub = phone.subscriber
    if not phone.trunk and style.startswith("national"):
        local = f"{sub[:3]}-{sub[3:]}"
        return f"({phone.area}) {local}" if style == "national_space" else f"{phone.area}-{local}"
    return PHONE_FORMATS[style].format(d=phone.dial, t=phone.trunk, a=phone.area, s=sub)


def make_people(seed: int, count: int) -> list[Person]:
    rng = py_rng(seed, "people")
    entity_numbers = rng.sample(range(1, count + 1), count)
    taken: set[str] = set()
    return [_make_person(rng, f"E{number:06d}", taken) for number in entity_numbers]


def _make_person(rng: random.Random, entity_id: str, taken: set[str]) -> Person:
    country = rng.choices(COUNTRIES, cum_weights=COUNTRY_CUM)[0]
    first, last = _pick_name(rng, country.code)
    city, area = rng.choice(country.cities)
    birth = BIRTH_MIN + timedelta(days=rng.randrange(BIRTH_SPAN_DAYS))
    subscriber = str(rng.randint(2, 9)) + "".join(rng.choices("0123456789", k=country.subscriber_digits - 1))
    phone = Phone(country.dial, country.trunk, area, subscriber)
    email = _unique_email(rng, first, last, birth, taken)
    return Person(entity_id, first, last, birth, email, phone, city, country.code)


def _pick_name(rng: random.Random, country: str) -> tuple[str, str]:
    mixed = rng.random() < MIXED_NAME_SHARE
    first_pool = NAME_POOLS[rng.choice(NAME_POOL_KEYS) if mixed else country][0]
    last_pool = NAME_POOLS[rng.choice(NAME_POOL_KEYS) if mixed else country][1]
    return rng.choice(first_pool), rng.choice(last_pool)


def _unique_email(rng: random.Random, first: str, last: str, birth: date, taken: set[str]) -> str:
    style = rng.choices(EMAIL_STYLES, cum_weights=EMAIL_STYLE_CUM)[0]
    first_slug = _slug(first)
    year = f"{birth.year % 100:02d}"
    local = style.format(f=first_slug, l=_slug(last), i=first_slug[:1], yy=year)
    domain = rng.choices(EMAIL_DOMAINS, cum_weights=EMAIL_DOMAIN_CUM)[0]
    email, counter = f"{local}@{domain}", 1
    while email in taken:
        counter += 1
        email = f"{local}{counter}@{domain}"
    taken.add(email)
    return email


def email_case(rng: random.Random, email: str) -> str:
    local, _, domain = email.partition("@")
    return rng.choice((email.upper(), email.title(), f"{local.title()}@{domain}"))


def _other_domain(rng: random.Random, domain: str) -> str:
    if domain not in EMAIL_DOMAINS:
        return domain
    shift = rng.randint(1, len(EMAIL_DOMAINS) - 1)
    return EMAIL_DOMAINS[(EMAIL_DOMAINS.index(domain) + shift) % len(EMAIL_DOMAINS)]


def similar_email(rng: random.Random, email: str) -> str:
    """A different but similar address of the same person."""
    local, _, domain = email.partition("@")
    candidates = (
        f"{local}@{_other_domain(rng, domain)}",
        f"{local.replace('.', '')}@{domain}",
        f"{local}{rng.randint(1, 99)}@{domain}",
        f"{local.replace('.', '_')}@{domain}",
    )
    choice = rng.choice(candidates)
    return choice if choice != email else f"{local}{rng.randint(1, 99)}@{domain}"


def malformed_email(rng: random.Random, email: str) -> str:
    local, _, domain = email.partition("@")
    host = domain.rsplit(".", 1)[0]
    return rng.choice(
        (
            f"{local}@@{host}",
            f"{local}.{domain}",
            f"{local}@{domain}.",
            f"{local} @{domain}",
            f"{local}@",
        )
    )


def fold(text: str) -> str:
    """ASCII transliteration as people type it: Müller -> Mueller, Zoë -> Zoe."""
    decomposed = unicodedata.normalize("NFKD", text.translate(FOLD))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _slug(text: str) -> str:
    return "".join(ch for ch in fold(text).lower() if ch.isascii() and ch.isalnum())


def typo(rng: random.Random, word: str) -> str:
    if len(word) < 3:
        return word + word[-1:]
    i = rng.randrange(1, len(word) - 1)
    swapped = word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    return rng.choice((swapped, word[:i] + word[i + 1 :], word[:i] + word[i] + word[i:]))

"""Customer records: the CRM export (JSON Lines) and the shop's accounts (CSV)."""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path

from dte_platform.demo.common import (
    Calendar,
    Line,
    Row,
    SourceResult,
    local_iso_list,
    py_rng,
    spread_days,
)
from dte_platform.demo.config import GeneratorConfig
from dte_platform.demo.customer_defects import (
    CRM_DEFECTS,
    SHOP_DEFECTS,
    apply_defects,
    defect_kinds_by_day,
)
from dte_platform.demo.people import Person, email_case, fold, format_phone, similar_email, typo
from dte_platform.demo.pools import CRM_PHONE_CUM, EXONYMS, PHONE_STYLES, SHOP_PHONE_CUM
from dte_platform.demo.schema import CRM_DIR, SHOP_CUSTOMERS_DIR
from dte_platform.demo.world import World
from dte_platform.demo.writers import write_customer_csv, write_jsonl

SHOP_PHONE_MISSING_SHARE = 0.04


# --------------------------------------------------------------------------------------
# CRM customers (JSON Lines)
# --------------------------------------------------------------------------------------


def _crm_record(rng: random.Random, person: Person, key: str, stamp: str, further: bool) -> Row:
    phone_style = rng.choices(PHONE_STYLES, cum_weights=CRM_PHONE_CUM)[0]
    record: Row = {
        "customer_id": key,
        "first_name": person.first_name,
        "last_name": person.last_name,
        "email": person.email,
        "phone": format_phone(person.phone, phone_style),
        "birth_date": person.birth_date.isoformat(),
        "city": person.city,
        "country": person.country,
        "updated_at": stamp,
    }
    if further:
        for vary in rng.sample(CRM_VARIATIONS, rng.randint(1, 3)):
            vary(rng, record, person)
    return record


def _vary_name_case(rng: random.Random, record: Row, person: Person) -> None:
    name = rng.choice(("first_name", "last_name"))
    record[name] = rng.choice((str.upper, str.lower))(record[name])


def _vary_name_typo(rng: random.Random, record: Row, person: Person) -> None:
    name = rng.choice(("first_name", "last_name"))
    record[name] = typo(rng, record[name])


def _vary_accents(rng: random.Random, record: Row, person: Person) -> None:
    record["first_name"] = fold(record["first_name"])
    record["last_name"] = fold(record["last_name"])


def _vary_email(rng: random.Random, record: Row, person: Person) -> None:
    change = rng.choice((email_case, similar_email))
    record["email"] = change(rng, person.email)


def _vary_phone(rng: random.Random, record: Row, person: Person) -> None:
    others = [s for s in PHONE_STYLES if format_phone(person.phone, s) != record["phone"]]
    record["phone"] = format_phone(person.phone, rng.choice(others))


def _vary_missing(rng: random.Random, record: Row, person: Person) -> None:
    record[rng.choice(("phone", "birth_date", "city"))] = None


CRM_VARIATIONS: tuple[Callable[[random.Random, Row, Person], None], ...] = (
    _vary_name_case,
    _vary_name_typo,
    _vary_accents,
    _vary_email,
    _vary_phone,
    _vary_missing,
)


def _crm_lines_by_day(config: GeneratorConfig, world: World, cal: Calendar) -> list[list[Line]]:
    rng = py_rng(config.seed, "crm-records")
    stamps = local_iso_list([int(cal.starts[s.day]) + s.second for s in world.crm_slots])
    by_day: list[list[Line]] = [[] for _ in range(cal.days)]
    for slot, key, stamp in zip(world.crm_slots, world.crm_keys, stamps, strict=True):
        person = world.people[slot.person]
        by_day[slot.day].append(_crm_record(rng, person, key, stamp, slot.further))
    return by_day


def write_crm(out_dir: Path, config: GeneratorConfig, world: World, cal: Calendar) -> SourceResult:
    by_day = _crm_lines_by_day(config, world, cal)
    specials = {
        "invalid_json": spread_days(cal.days, 2),
        "nested_object": spread_days(cal.days, 1),
    }
    common = ("missing_customer_id", "null_email", "malformed_email", "duplicate_customer_id")
    plan = defect_kinds_by_day(cal.days, len(world.crm_slots), config.defect_rate, common, specials)
    rng, result = py_rng(config.seed, "crm-defects"), SourceResult()
    for day, lines in enumerate(by_day):
        result.defects += apply_defects(rng, lines, plan[day], CRM_DEFECTS)
        path = out_dir / CRM_DIR / f"{cal.name(day)}.jsonl"
        write_jsonl(path, lines)
        result.files.append(path)
        result.rows += len(lines)
    return result


# --------------------------------------------------------------------------------------
# Shop customers (CSV)
# --------------------------------------------------------------------------------------


def _shop_row(rng: random.Random, person: Person, key: str, stamp: str, further: bool) -> Row:
    phone_style = rng.choices(PHONE_STYLES, cum_weights=SHOP_PHONE_CUM)[0]
    phone_missing = rng.random() < SHOP_PHONE_MISSING_SHARE
    return {
        "account_id": key,
        "full_name": _shop_name(rng, person),
        "email": _shop_email(rng, person.email, further),
        "phone": None if phone_missing else format_phone(person.phone, phone_style),
        "city": _shop_city(rng, person.city),
        "country": person.country,
        "signed_up_at": stamp,
    }


def _shop_name(rng: random.Random, person: Person) -> str:
    first, last = person.first_name, person.last_name
    styles = (
        f"{first} {last}",
        f"{last.upper()}, {first}",
        f"{first} {last}".lower(),
        f"{first} {typo(rng, last)}",
        fold(f"{first} {last}"),
    )
    return rng.choices(styles, cum_weights=(55, 70, 80, 90, 100))[0]


def _shop_email(rng: random.Random, email: str, further: bool) -> str:
    draw = rng.random()
    if further or draw < 0.15:  # a further account needs another address
        return similar_email(rng, email)
    return email_case(rng, email) if draw < 0.25 else email


def _shop_city(rng: random.Random, city: str) -> str:
    draw = rng.random()
    if draw < 0.1:
        return EXONYMS.get(city, city)
    return city.upper() if draw < 0.14 else city


def write_shop_customers(out_dir: Path, config: GeneratorConfig, world: World, cal: Calendar) -> SourceResult:
    rng = py_rng(config.seed, "shop-records")
    stamps = local_iso_list([int(cal.starts[s.day]) + s.second for s in world.shop_slots])
    by_day: list[list[Line]] = [[] for _ in range(cal.days)]
    for slot, key, stamp in zip(world.shop_slots, world.shop_keys, stamps, strict=True):
        by_day[slot.day].append(_shop_row(rng, world.people[slot.person], key, stamp, slot.further))
    broken = spread_days(cal.days, 2, shift=1)
    specials = {"too_many_fields": broken[:1], "unterminated_quote": broken[-1:]}
    common = ("malformed_email", "null_email", "duplicate_account_id")
    plan = defect_kinds_by_day(cal.days, len(world.shop_slots), config.defect_rate, common, specials)
    return _write_shop_days(out_dir, by_day, plan, py_rng(config.seed, "shop-defects"), cal)


def _write_shop_days(
    out_dir: Path,
    by_day: list[list[Line]],
    plan: list[list[str]],
    rng: random.Random,
    cal: Calendar,
) -> SourceResult:
    result = SourceResult()
    for day, lines in enumerate(by_day):
        result.defects += apply_defects(rng, lines, plan[day], SHOP_DEFECTS)
        path = out_dir / SHOP_CUSTOMERS_DIR / f"{cal.name(day)}.csv"
        write_customer_csv(path, lines)
        result.files.append(path)
        result.rows += len(lines)
    return result

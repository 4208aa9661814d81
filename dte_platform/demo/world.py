"""The simulated world: the persons, their customer records per system and day, the products."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import accumulate

from dte_platform.demo.common import Calendar, py_rng
from dte_platform.demo.config import GeneratorConfig
from dte_platform.demo.people import Person, make_people
from dte_platform.demo.products import Product, make_products

INITIAL_LOAD_SHARE = 0.4  # records that arrive with the first day's initial load
CRM_SECOND_RECORD_SHARE = 0.06
SHOP_SHARED_SHARE = 0.6  # shop persons who are also in the CRM
SHOP_SECOND_ACCOUNT_SHARE = 0.04
CRM_KEY_START = 100
SHOP_KEY_START = 12_000

# relative activity per local hour 0..23
CRM_HOURS = (0, 0, 0, 0, 0, 0, 1, 3, 8, 10, 10, 9, 7, 8, 9, 9, 8, 6, 4, 3, 2, 1, 1, 0)
SIGNUP_HOURS = (1, 1, 0, 0, 0, 0, 1, 2, 3, 4, 4, 5, 6, 5, 5, 5, 6, 7, 8, 9, 9, 8, 5, 3)


@dataclass(frozen=True)
class Slot:
    """One customer record in one system: whose, when, and whether it is a further one."""

    person: int  # index into the people
    day: int
    second: int  # seconds after local midnight
    further: bool  # the person already has a record in this system


@dataclass(frozen=True)
class World:
    people: list[Person]
    crm_slots: list[Slot]
    crm_keys: list[str]
    shop_slots: list[Slot]
    shop_keys: list[str]
    products: list[Product]


def build_world(config: GeneratorConfig, cal: Calendar) -> World:
    crm_persons = config.crm_customers
    shared = round(SHOP_SHARED_SHARE * crm_persons)
    shop_only = crm_persons - shared
    people = make_people(config.seed, crm_persons + shop_only)
    rng = py_rng(config.seed, "crm-plan")
    crm_slots = _plan_slots(rng, range(crm_persons), cal, CRM_HOURS, CRM_SECOND_RECORD_SHARE)
    crm_keys = _assign_keys(rng, len(crm_slots), "CRM-{:06d}", CRM_KEY_START)
    rng = py_rng(config.seed, "shop-plan")
    shop_persons = [*rng.sample(range(crm_persons), shared), *range(crm_persons, len(people))]
    shop_slots = _plan_slots(rng, shop_persons, cal, SIGNUP_HOURS, SHOP_SECOND_ACCOUNT_SHARE)
    shop_keys = _assign_keys(rng, len(shop_slots), "W{:07d}", SHOP_KEY_START)
    products = make_products(config.seed, config.products, cal)
    return World(people, crm_slots, crm_keys, shop_slots, shop_keys, products)


def _plan_slots(
    rng: random.Random,
    persons: Sequence[int] | range,
    cal: Calendar,
    hours: Sequence[int],
    further_share: float,
) -> list[Slot]:
    hours_cum = _cumulative(hours)
    slots = []
    for person in persons:
        day = _pick_day(rng, cal.days)
        slots.append(Slot(person, day, _pick_second(rng, hours_cum, cal.length(day)), False))
        if rng.random() < further_share:
            later = rng.randint(day, cal.days - 1)
            second = _pick_second(rng, hours_cum, cal.length(later))
            slots.append(Slot(person, later, second, True))
    slots.sort(key=lambda s: (s.day, s.second, s.person, s.further))
    return slots


def _assign_keys(rng: random.Random, count: int, template: str, start: int) -> list[str]:
    """Increasing keys in record order, with the gaps deleted test records leave."""
    keys, number = [], start
    for _ in range(count):
        number += 1 if rng.random() < 0.85 else rng.randint(2, 4)
        keys.append(template.format(number))
    return keys


def _cumulative(weights: Sequence[float]) -> tuple[float, ...]:
    return tuple(accumulate(weights))


def _pick_day(rng: random.Random, days: int) -> int:
    return 0 if rng.random() < INITIAL_LOAD_SHARE else rng.randrange(days)


def _pick_second(rng: random.Random, hours_cum: Sequence[float], length: int) -> int:
    hour = rng.choices(range(24), cum_weights=hours_cum)[0]
    return (hour * 3600 + rng.randrange(3600)) * length // 86_400

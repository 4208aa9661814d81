"""Seeded defects in customer records; the CRM and the shop share the mechanics."""

from __future__ import annotations

import json
import random
from collections import Counter
from collections.abc import Callable, Sequence

from dte_platform.demo.common import Line, Row
from dte_platform.demo.people import email_case, malformed_email
from dte_platform.demo.schema import SHOP_CUSTOMER_COLUMNS

Handler = Callable[[random.Random, list[Line], int], None]


def defect_kinds_by_day(
    days: int, rows: int, rate: float, common: Sequence[str], specials: dict[str, list[int]]
) -> list[list[str]]:
    """Which defects each day gets: rotating common kinds, plus specials on their days."""
    if rate <= 0:
        return [[] for _ in range(days)]
    plan: list[list[str]] = [[] for _ in range(days)]
    for k in range(max(2 * days, round(rate * rows))):
        plan[k % days].append(common[(k + k // days) % len(common)])
    for kind, on_days in specials.items():
        for day in on_days:
            plan[day].append(kind)
    return plan


def apply_defects(
    rng: random.Random, lines: list[Line], kinds: list[str], handlers: dict[str, Handler]
) -> Counter[str]:
    """Apply each kind to a distinct record; extra lines go right after their record."""
    kinds = kinds[: len(lines)]
    targets = sorted(rng.sample(range(len(lines)), len(kinds)), reverse=True)
    for index, kind in zip(targets, kinds, strict=True):
        handlers[kind](rng, lines, index)
    return Counter(kinds)


def _row(lines: list[Line], index: int) -> Row:
    line = lines[index]
    if not isinstance(line, dict):
        raise TypeError(f"line {index} is raw text, not a record")
    return line


def _null_email(rng: random.Random, lines: list[Line], index: int) -> None:
    _row(lines, index)["email"] = None


def _bad_email(rng: random.Random, lines: list[Line], index: int) -> None:
    row = _row(lines, index)
    row["email"] = malformed_email(rng, row["email"])


def _duplicate_key(rng: random.Random, lines: list[Line], index: int) -> None:
    copy = dict(_row(lines, index))
    copy["phone"] = (copy["phone"] or "").replace(" ", "") or None
    copy["email"] = email_case(rng, copy["email"])
    lines.insert(index + 1, copy)


def _crm_missing_id(rng: random.Random, lines: list[Line], index: int) -> None:
    copy = {k: v for k, v in _row(lines, index).items() if k != "customer_id"}
    lines.insert(index + 1, copy)


def _crm_invalid_json(rng: random.Random, lines: list[Line], index: int) -> None:
    text = json.dumps(_row(lines, index), ensure_ascii=False)
    lines.insert(index + 1, text[: rng.randint(len(text) // 3, 2 * len(text) // 3)])


def _crm_nested(rng: random.Random, lines: list[Line], index: int) -> None:
    row = _row(lines, index)
    row["city"] = {"name": row["city"] or "Berlin", "postal_code": f"{rng.randint(10000, 99999)}"}


def _shop_too_many_fields(rng: random.Random, lines: list[Line], index: int) -> None:
    row = _row(lines, index)
    name = str(row["full_name"])
    if "," not in name:
        first, _, last = name.rpartition(" ")
        name = f"{last.upper()}, {first}"
    values = {**row, "full_name": name}  # a comma in an unquoted field
    lines.insert(index + 1, ",".join(str(values[c] or "") for c in SHOP_CUSTOMER_COLUMNS))


def _shop_unterminated(rng: random.Random, lines: list[Line], index: int) -> None:
    row = _row(lines, index)
    lines.append(f'{row["account_id"]},"{row["full_name"]},{row["email"] or ""}')


CRM_DEFECTS: dict[str, Handler] = {
    "missing_customer_id": _crm_missing_id,
    "null_email": _null_email,
    "malformed_email": _bad_email,
    "duplicate_customer_id": _duplicate_key,
    "invalid_json": _crm_invalid_json,
    "nested_object": _crm_nested,
}
SHOP_DEFECTS: dict[str, Handler] = {
    "malformed_email": _bad_email,
    "null_email": _null_email,
    "duplicate_account_id": _duplicate_key,
    "too_many_fields": _shop_too_many_fields,
    "unterminated_quote": _shop_unterminated,
}

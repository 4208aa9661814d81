"""The certification policy (``checks/certification.yaml``): what each level requires, as code.

Loaded and validated like a contract: a bad policy fails at load, naming the file and the field.
Without a policy file the platform uses :data:`DEFAULT_POLICY_FILE`'s content, which is the
committed default.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from enum import IntEnum
from functools import lru_cache
from pathlib import Path
from typing import Any

from dte_platform.contracts.loader import parse_yaml, readable_path, validate_against
from dte_platform.errors import DefinitionError

FILE_NAME = "certification.yaml"
SCHEMA = "certification-policy.schema.json"


class Level(IntEnum):
    """Ordered: a higher level includes every criterion of the lower ones."""

    NONE = 0
    BRONZE = 1
    SILVER = 2
    GOLD = 3

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, value: str | None) -> Level:
        return cls.NONE if value in (None, "", "none") else cls[str(value).upper()]


CERTIFIED_LEVELS = (Level.BRONZE, Level.SILVER, Level.GOLD)


@dataclass(frozen=True)
class Criterion:
    name: str
    kind: str  # checks | freshness | lineage | upstream | runs | inputs
    description: str = ""
    select: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    severity: str = "any"  # checks: any | error | warning
    require_any: bool = False
    at_least: Level = Level.SILVER  # upstream
    require_certified: bool = False  # upstream


@dataclass(frozen=True)
class Policy:
    required: Mapping[str, Level]  # risk -> level
    levels: Mapping[Level, tuple[Criterion, ...]]
    max_age: dt.timedelta | None = None
    file: str = ""

    def required_level(self, risk: str) -> Level:
        return self.required[risk]


def load_policy(file: Path) -> Policy:
    """The policy in ``file``; every error names the file and the field."""
    document = parse_yaml(file)
    validate_against(SCHEMA, document, file)
    levels: dict[Level, tuple[Criterion, ...]] = {}
    seen: dict[str, str] = {}
    for label, items in document["levels"].items():
        criteria = []
        for i, item in enumerate(items):
            path = readable_path(document, ["levels", label, i])
            if item["name"] in seen:
                raise DefinitionError(
                    file, f"{path}.name", f"'{item['name']}' is also a criterion of {seen[item['name']]}"
                )
            seen[item["name"]] = label
            criteria.append(_criterion(item))
        levels[Level.parse(label)] = tuple(criteria)
    hours = document.get("maxAgeHours")
    return Policy(
        required={risk: Level.parse(level) for risk, level in document["requiredLevel"].items()},
        levels=levels,
        max_age=dt.timedelta(hours=hours) if hours else None,
        file=str(file),
    )


def _criterion(item: Mapping[str, Any]) -> Criterion:
    return Criterion(
        name=item["name"],
        kind=item["type"],
        description=item.get("description", ""),
        select=tuple(item.get("select", ())),
        exclude=tuple(item.get("exclude", ())),
        severity=item.get("severity", "any"),
        require_any=bool(item.get("requireAny", False)),
        at_least=Level.parse(item.get("atLeast", "silver")),
        require_certified=bool(item.get("requireCertified", False)),
    )


def project_policy(checks_dir: Path) -> Policy:
    """The project's ``checks/certification.yaml``; a project without one gets the shipped default.

    Loaded once per version of the file (the translator and the certification wiring both ask)."""
    file = checks_dir / FILE_NAME
    file = file if file.is_file() else DEFAULT_POLICY_FILE
    stat = file.stat()
    return _load_version(file, stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=16)
def _load_version(file: Path, _mtime_ns: int, _size: int) -> Policy:
    return load_policy(file)


#: the default policy shipped with the platform (the same text as this repository's checks/)
DEFAULT_POLICY_FILE = Path(__file__).with_name("default_policy.yaml")

"""One result model for every executor: a rule, whether it held, and the evidence."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from dte_platform.compiler.rules import Rule


@dataclass(frozen=True)
class RuleResult:
    rule: Rule
    passed: bool
    measured: float | None = None  # the metric's value, or the count of failing rows
    failing_rows: int = 0
    details: Mapping[str, Any] = field(default_factory=dict)
    #: a few failing rows, values of sensitive columns replaced; never more than SAMPLE_SIZE
    samples: tuple[Mapping[str, Any], ...] = ()


SAMPLE_SIZE = 5
REDACTED = "<redacted>"

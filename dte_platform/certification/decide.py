"""The certification decision: evidence + policy -> level, reasons and expiry. Pure: no I/O, no clock.

The *achieved* level is the highest whose criteria (and those of every level below) all hold; the
*required* level comes from the contract's risk. Every unmet criterion becomes a named reason in
plain words ("bronze: blocking_checks_passing: contract__last_name__required failed on 2026-11-03:
33.3% of the rows, 5% allowed"), so a certificate always says why it is not higher.

Evidence is finished work only (the caller gathers it that way): a check with no completed
evaluation on the current data is "not run", never "failed"; a materialization that failed and
wrote nothing leaves the data version as it was and is itself a reason until that partition loads.

A certificate is living: it expires at the earlier of the freshness deadline (newest data + SLA)
and the policy's maximum age after the data was materialized, both on the same clock as ``now``.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from dte_platform.certification.policy import CERTIFIED_LEVELS, Criterion, Level, Policy


@dataclass(frozen=True)
class CheckState:
    """The current outcome of one check of the asset, over every partition it ran on."""

    name: str
    severity: str  # ERROR | WARN
    passed: bool | None  # None: no finished evaluation on the current data ("not run")
    failed_partitions: tuple[str, ...] = ()
    metadata: Mapping[str, Any] = field(default_factory=dict)
    #: the rule in plain words, and what was measured against what was allowed where it failed
    label: str = ""
    finding: str = ""

    @property
    def status(self) -> str:
        return "not run" if self.passed is None else ("passed" if self.passed else "failed")


@dataclass(frozen=True)
class Freshness:
    """The data's own freshness, as the ``freshness`` check measured it: at ``measured_at`` the
    newest value of the SLA's element column was ``lag_seconds`` old. The newest value itself is
    not needed (it is redacted when the column is sensitive)."""

    measured_at: dt.datetime
    lag_seconds: float | None  # None: the element column has no value
    max_age_seconds: float

    @property
    def deadline(self) -> dt.datetime | None:
        if self.lag_seconds is None:
            return None
        return self.measured_at + dt.timedelta(seconds=self.max_age_seconds - self.lag_seconds)


@dataclass(frozen=True)
class FailedRun:
    """A materialization of ``partition`` that failed after the last one that succeeded."""

    partition: str | None
    run_id: str
    error: str


@dataclass(frozen=True)
class InputVersion:
    """The version of an input a derived asset was built from, and the input's current version."""

    asset: str
    built_from: str | None
    current: str | None


@dataclass(frozen=True)
class Upstream:
    asset: str
    level: Level
    certified: bool
    fresh_until: dt.datetime | None = None  # its freshness deadline, own or inherited
    required: Level = Level.NONE


@dataclass(frozen=True)
class Evidence:
    """Everything the decision looks at, gathered by the caller."""

    asset: str
    risk: str
    version: str | None  # the data version of the latest successful materialization (None: never)
    materialized_at: dt.datetime | None
    checks: Sequence[CheckState] = ()
    freshness: Freshness | None = None  # None: no SLA of its own; derived assets inherit upstream's
    freshness_measured: bool = True  # False: the asset has an SLA but no finished freshness check
    lineage_recorded: bool = False
    upstream: Sequence[Upstream] = ()
    failed_runs: Sequence[FailedRun] = ()
    inputs: Sequence[InputVersion] = ()


@dataclass(frozen=True)
class Decision:
    asset: str
    level: Level
    required: Level
    reasons: tuple[str, ...]
    issued: dt.datetime
    expires: dt.datetime | None
    version: str | None
    fresh_until: dt.datetime | None = None

    @property
    def certified(self) -> bool:
        return self.level >= self.required and self.level is not Level.NONE

    @property
    def status(self) -> str:
        return "certified" if self.certified else "not certified"

    @property
    def verdict(self) -> str:
        """One line: ``certified gold`` or ``not certified: needs silver, holds bronze``."""
        if self.certified:
            return f"certified {self.level.label}"
        holds = self.level.label if self.level is not Level.NONE else "no level"
        return f"not certified: needs {self.required.label}, holds {holds}"

    def to_json(self) -> dict[str, Any]:
        return {
            "asset": self.asset,
            "level": self.level.label,
            "required": self.required.label,
            "certified": self.certified,
            "status": self.status,
            "verdict": self.verdict,
            "reasons": list(self.reasons),
            "issued": self.issued.isoformat(),
            "expires": self.expires.isoformat() if self.expires else None,
            "version": self.version,
            "fresh_until": self.fresh_until.isoformat() if self.fresh_until else None,
        }


def decide(evidence: Evidence, policy: Policy, now: dt.datetime) -> Decision:
    """The certificate ``evidence`` earns under ``policy`` at instant ``now``."""
    required = policy.required_level(evidence.risk)
    fresh_until, freshness_problem = freshness_deadline(evidence)
    expires = _expiry(evidence, policy, fresh_until)
    if evidence.version is None:
        never = tuple(_failed_runs(evidence.failed_runs) or ["never materialized"])
        return Decision(evidence.asset, Level.NONE, required, never, now, None, None)
    level = Level.NONE
    reasons: list[str] = []
    if policy.max_age is not None and evidence.materialized_at is not None:
        aged_out = evidence.materialized_at + policy.max_age
        if now >= aged_out:
            reasons.append(
                f"bronze: max_age: the data version is older than the policy allows ({aged_out.isoformat()})"
            )
    for candidate in CERTIFIED_LEVELS:
        unmet = [
            f"{candidate.label}: {c.name}: {why}"
            for c in policy.levels.get(candidate, ())
            if (why := unmet_reason(c, evidence, now, fresh_until, freshness_problem)) is not None
        ]
        reasons.extend(unmet)
        if not unmet and not reasons:
            level = candidate
    return Decision(
        evidence.asset, level, required, tuple(reasons), now, expires, evidence.version, fresh_until
    )


def freshness_deadline(evidence: Evidence) -> tuple[dt.datetime | None, str | None]:
    """(the instant the data goes stale, why there is none). An asset with its own SLA uses the
    ``freshness`` check; a derived asset without one is as fresh as its stalest upstream."""
    if not evidence.freshness_measured:
        return None, "freshness not measured yet: no finished freshness check on the current data"
    own = evidence.freshness
    if own is not None:
        if own.deadline is None:
            return None, "the freshness element column has no value"
        return own.deadline, None
    if not evidence.upstream:
        return None, "freshness is not tracked: the contract declares no freshness/latency SLA"
    untracked = [u.asset for u in evidence.upstream if u.fresh_until is None]
    if untracked:
        return None, f"freshness is inherited from upstream, and {', '.join(untracked)} has none"
    return min(u.fresh_until for u in evidence.upstream if u.fresh_until is not None), None


def _expiry(evidence: Evidence, policy: Policy, fresh_until: dt.datetime | None) -> dt.datetime | None:
    candidates = []
    if fresh_until is not None:
        candidates.append(fresh_until)
    if policy.max_age is not None and evidence.materialized_at is not None:
        candidates.append(evidence.materialized_at + policy.max_age)
    return min(candidates) if candidates else None


def unmet_reason(
    criterion: Criterion,
    evidence: Evidence,
    now: dt.datetime,
    fresh_until: dt.datetime | None,
    freshness_problem: str | None,
) -> str | None:
    """Why ``criterion`` does not hold for ``evidence`` (None when it holds)."""
    if criterion.kind == "checks":
        return _checks(criterion, evidence.checks)
    if criterion.kind == "freshness":
        if freshness_problem is not None or fresh_until is None:
            return freshness_problem or "freshness unknown"
        if now > fresh_until:
            return f"data is stale: {_duration(now - fresh_until)} past its freshness deadline"
        return None
    if criterion.kind == "lineage":
        return None if evidence.lineage_recorded else "no lineage recorded for the latest materialization"
    if criterion.kind == "upstream":
        return _upstream(criterion, evidence.upstream)
    if criterion.kind == "runs":
        return "; ".join(_failed_runs(evidence.failed_runs)) or None
    if criterion.kind == "inputs":
        stale = [i for i in evidence.inputs if i.built_from != i.current]
        return "; ".join(_stale_input(i) for i in stale) or None
    raise ValueError(f"unknown criterion type {criterion.kind!r}")  # the policy schema rules it out


def _upstream(criterion: Criterion, upstream: Sequence[Upstream]) -> str | None:
    problems = []
    for u in upstream:
        holds = u.level.label if u.level is not Level.NONE else "no level"
        if criterion.require_certified and not u.certified:
            problems.append(f"upstream {u.asset} is not certified (holds {holds}, needs {u.required.label})")
        elif u.level < criterion.at_least:
            problems.append(f"upstream {u.asset} holds {holds}, below {criterion.at_least.label}")
    return "; ".join(problems) or None


def _failed_runs(runs: Sequence[FailedRun]) -> list[str]:
    return [
        f"materialization of {r.partition or 'the whole asset'} failed (run {r.run_id[:8]}): {r.error}"
        for r in runs
    ]


def _stale_input(item: InputVersion) -> str:
    built = item.built_from or "an unknown version"
    return f"built from {item.asset} version {built}; current is {item.current or 'none'}: rebuild it"


def _checks(criterion: Criterion, checks: Sequence[CheckState]) -> str | None:
    selected = [
        c
        for c in checks
        if _matches(c.name, criterion.select)
        and not _matches(c.name, criterion.exclude)
        and (criterion.severity == "any" or (criterion.severity == "error") == (c.severity == "ERROR"))
    ]
    if not selected:
        return "no such check on this asset" if criterion.require_any else None
    bad = [c for c in selected if not c.passed]
    if not bad:
        return None
    return "; ".join(_describe(c) for c in bad)


def _matches(name: str, patterns: Sequence[str]) -> bool:
    return any(fnmatch.fnmatchcase(name, pattern) for pattern in patterns)


def _describe(check: CheckState) -> str:
    label = f" ({check.label})" if check.label else ""
    if check.passed is None:
        return f"{check.name}{label} has not run on the current data"
    where = f" on {_partitions(check.failed_partitions)}" if check.failed_partitions else ""
    finding = f": {check.finding}" if check.finding else ""
    return f"{check.name}{label} failed{where}{finding}"


def _partitions(partitions: Sequence[str], shown: int = 3) -> str:
    head = ", ".join(partitions[:shown])
    return head + (f" and {len(partitions) - shown} more" if len(partitions) > shown else "")


def _duration(delta: dt.timedelta) -> str:
    seconds = int(delta.total_seconds())
    if seconds >= 86400:
        return f"{seconds / 86400:.1f} d"
    if seconds >= 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds} s"

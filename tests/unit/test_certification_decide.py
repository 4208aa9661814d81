"""The certification decision as a table: each criterion, flipped on its own, caps the level."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest
import yaml

from dte_platform.certification.decide import (
    CheckState,
    Evidence,
    FailedRun,
    Freshness,
    InputVersion,
    Upstream,
    decide,
)
from dte_platform.certification.policy import DEFAULT_POLICY_FILE, Level, load_policy, project_policy
from dte_platform.errors import DefinitionError

NOW = dt.datetime(2026, 11, 15, 6, tzinfo=dt.UTC)
REPO = Path(__file__).resolve().parents[2]
POLICY = load_policy(DEFAULT_POLICY_FILE)


def _check(name: str, severity: str = "ERROR", passed: bool | None = True, *failed: str) -> CheckState:
    return CheckState(name, severity, passed, tuple(failed))


def perfect(**changes: object) -> Evidence:
    """Evidence that earns gold; tests flip one thing at a time."""
    evidence = Evidence(
        asset="sources/shop/orders",
        risk="high",
        version="materialization-7",
        materialized_at=NOW - dt.timedelta(hours=1),
        checks=(
            _check("schema_drift", "WARN"),
            _check("conservation"),
            _check("contract__order_id__required"),
            _check("contract__status__valid_values", "WARN"),
            _check("confidence", "WARN"),
            _check("drift", "WARN"),
            _check("volume", "WARN"),
        ),
        freshness=Freshness(measured_at=NOW - dt.timedelta(hours=1), lag_seconds=3600, max_age_seconds=86400),
        lineage_recorded=True,
        upstream=(Upstream("sources/crm/customers", Level.SILVER, True, NOW + dt.timedelta(days=1)),),
    )
    return dataclasses.replace(evidence, **changes)  # type: ignore[arg-type]


def failing(name: str, severity: str = "ERROR") -> tuple[CheckState, ...]:
    """The perfect checks with ``name`` failing on one partition (added when absent)."""
    checks = [c for c in perfect().checks if c.name != name]
    return (*checks, _check(name, severity, False, "2026-11-08"))


CASES = [
    # (id, evidence, achieved level, reason fragment)
    ("all criteria hold", perfect(), Level.GOLD, None),
    ("never materialized", perfect(version=None, materialized_at=None), Level.NONE, "never materialized"),
    ("schema drift", perfect(checks=failing("schema_drift", "WARN")), Level.NONE, "schema_validated"),
    ("rows not conserved", perfect(checks=failing("conservation")), Level.NONE, "conservation failed"),
    ("no freshness SLA, no upstream", perfect(freshness=None, upstream=()), Level.NONE, "not tracked"),
    (
        "stale data",
        perfect(freshness=Freshness(NOW - dt.timedelta(days=3), 3600, 86400)),
        Level.NONE,
        "data is stale",
    ),
    (
        "freshness column empty",
        perfect(freshness=Freshness(NOW, None, 86400)),
        Level.NONE,
        "has no value",
    ),
    (
        "older than the policy's max age",
        perfect(materialized_at=NOW - dt.timedelta(hours=200)),
        Level.NONE,
        "max_age",
    ),
    (
        "blocking check fails: nothing is certified, nothing published",
        perfect(checks=failing("contract__order_id__required")),
        Level.NONE,
        "blocking_checks_passing: contract__order_id__required failed on 2026-11-08",
    ),
    (
        "blocking check has not run (not a failure, not a pass)",
        perfect(checks=(*perfect().checks, _check("revenue_matches_orders", "ERROR", None))),
        Level.NONE,
        "revenue_matches_orders has not run on the current data",
    ),
    ("trust score below minimum", perfect(checks=failing("confidence", "WARN")), Level.BRONZE, "quality_slo"),
    (
        "no confidence check",
        perfect(checks=tuple(c for c in perfect().checks if c.name != "confidence")),
        Level.BRONZE,
        "no such check",
    ),
    ("lineage not recorded", perfect(lineage_recorded=False), Level.BRONZE, "lineage_recorded"),
    (
        "a warning rule fails: every contract rule counts",
        perfect(checks=failing("contract__status__valid_values", "WARN")),
        Level.BRONZE,
        "all_rules_passing: contract__status__valid_values failed on 2026-11-08",
    ),
    ("drift", perfect(checks=failing("drift", "WARN")), Level.SILVER, "drift_within_bounds"),
    ("volume anomaly", perfect(checks=failing("volume", "WARN")), Level.SILVER, "volume_normal"),
    (
        "declared fairness evaluation fails",
        perfect(checks=failing("contract__fairness_parity", "WARN")),
        Level.BRONZE,
        "contract__fairness_parity failed",
    ),
    (
        "upstream certified at its own level, only bronze",
        perfect(
            upstream=(
                Upstream(
                    "sources/crm/customers", Level.BRONZE, True, NOW + dt.timedelta(days=1), Level.BRONZE
                ),
            )
        ),
        Level.SILVER,
        "upstream sources/crm/customers holds bronze, below silver",
    ),
    (
        "upstream not certified: demoted at every level",
        perfect(
            upstream=(
                Upstream(
                    "sources/crm/customers", Level.BRONZE, False, NOW + dt.timedelta(days=1), Level.SILVER
                ),
            )
        ),
        Level.NONE,
        "upstream sources/crm/customers is not certified (holds bronze, needs silver)",
    ),
    (
        "a failed materialization is named until the partition loads",
        perfect(failed_runs=(FailedRun("2026-11-14", "0123456789abcdef", "x.jsonl: not UTF-8 at line 32"),)),
        Level.NONE,
        "materialization of 2026-11-14 failed (run 01234567): x.jsonl: not UTF-8 at line 32",
    ),
    (
        "built from an input version that is no longer current",
        perfect(inputs=(InputVersion("sources/crm/customers", "aaaa", "bbbb"),)),
        Level.NONE,
        "built from sources/crm/customers version aaaa; current is bbbb",
    ),
    ("freshness not measured yet", perfect(freshness_measured=False), Level.NONE, "not measured yet"),
]


@pytest.mark.parametrize(("evidence", "level", "reason"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_decision_table(evidence: Evidence, level: Level, reason: str | None) -> None:
    decision = decide(evidence, POLICY, NOW)
    assert decision.level is level
    assert decision.required is Level.GOLD
    assert decision.certified is (level is Level.GOLD)
    if reason is None:
        assert decision.reasons == ()
    else:
        assert any(reason in r for r in decision.reasons), decision.reasons


@pytest.mark.parametrize(
    ("risk", "required"), [("low", Level.BRONZE), ("medium", Level.SILVER), ("high", Level.GOLD)]
)
def test_risk_sets_the_required_level(risk: str, required: Level) -> None:
    bronze_only = perfect(risk=risk, lineage_recorded=False)
    decision = decide(bronze_only, POLICY, NOW)
    assert decision.required is required
    assert decision.level is Level.BRONZE
    assert decision.certified is (required is Level.BRONZE)


def test_every_unmet_criterion_is_named_even_above_the_first_gap() -> None:
    evidence = perfect(lineage_recorded=False, checks=failing("drift", "WARN"))
    reasons = decide(evidence, POLICY, NOW).reasons
    assert [r.split(":")[0:2] for r in reasons] == [
        ["silver", " lineage_recorded"],
        ["gold", " drift_within_bounds"],
    ]


def test_failed_partitions_and_the_finding_are_in_the_reason() -> None:
    drifted = CheckState(
        "schema_drift",
        "WARN",
        False,
        ("2026-11-08", "2026-11-09"),
        label="landing files carry the columns",
        finding="1 column missing",
    )
    checks = (*perfect().checks[1:], drifted)
    reasons = decide(perfect(checks=checks), POLICY, NOW).reasons
    assert reasons[0] == (
        "bronze: schema_validated: schema_drift (landing files carry the columns) failed on "
        "2026-11-08, 2026-11-09: 1 column missing"
    )


def test_the_verdict_is_one_line() -> None:
    assert decide(perfect(), POLICY, NOW).verdict == "certified gold"
    blocked = decide(perfect(checks=failing("contract__order_id__required")), POLICY, NOW)
    assert blocked.verdict == "not certified: needs gold, holds no level"
    silver = decide(perfect(risk="high", checks=failing("drift", "WARN")), POLICY, NOW)
    assert silver.verdict == "not certified: needs gold, holds silver"


def test_expiry_is_the_earlier_of_freshness_and_max_age() -> None:
    evidence = perfect()
    decision = decide(evidence, POLICY, NOW)
    assert decision.expires == NOW + dt.timedelta(hours=22)  # newest value 2 h old, SLA 24 h
    assert decision.fresh_until == decision.expires
    later = decide(evidence, POLICY, NOW + dt.timedelta(hours=23))
    assert later.level is Level.NONE and "data is stale" in later.reasons[0]
    long_sla = perfect(freshness=Freshness(NOW, 0, 30 * 86400))
    assert decide(long_sla, POLICY, NOW).expires == long_sla.materialized_at + dt.timedelta(hours=168)


def test_derived_assets_inherit_the_stalest_upstream_freshness() -> None:
    soon, later = NOW + dt.timedelta(hours=2), NOW + dt.timedelta(days=2)
    upstream = (Upstream("a", Level.GOLD, True, later), Upstream("b", Level.GOLD, True, soon))
    derived = perfect(freshness=None, upstream=upstream)
    assert decide(derived, POLICY, NOW).fresh_until == soon
    assert decide(derived, POLICY, NOW).level is Level.GOLD
    stale = decide(derived, POLICY, NOW + dt.timedelta(hours=3))
    assert stale.level is Level.NONE and "data is stale" in stale.reasons[0]
    untracked = perfect(freshness=None, upstream=(Upstream("a", Level.GOLD, True, None),))
    assert "a has none" in decide(untracked, POLICY, NOW).reasons[0]


def test_the_repository_policy_is_the_shipped_default() -> None:
    assert (REPO / "checks" / "certification.yaml").read_bytes() == DEFAULT_POLICY_FILE.read_bytes()
    assert project_policy(REPO / "no-such-folder") == load_policy(DEFAULT_POLICY_FILE)


@pytest.mark.parametrize(
    ("edit", "field"),
    [
        (lambda d: d["levels"]["silver"][0].update(type="vibes"), "levels.silver.all_rules_passing.type"),
        (lambda d: d["levels"]["gold"][3].pop("atLeast"), "levels.gold.upstream_at_least_silver"),
        (lambda d: d["requiredLevel"].update(high="platinum"), "requiredLevel.high"),
        (lambda d: d["levels"]["bronze"][1].update(select=[]), "levels.bronze.schema_validated.select"),
        (lambda d: d.update(maxAgeHours=0), "maxAgeHours"),
        (lambda d: d["levels"]["gold"].append(d["levels"]["bronze"][1]), "levels.gold.schema_validated.name"),
    ],
)
def test_a_bad_policy_fails_naming_the_file_and_field(tmp_path: Path, edit, field: str) -> None:
    document = yaml.safe_load(DEFAULT_POLICY_FILE.read_text())
    edit(document)
    file = tmp_path / "certification.yaml"
    file.write_text(yaml.safe_dump(document))
    with pytest.raises(DefinitionError) as info:
        load_policy(file)
    assert info.value.file == str(file)
    assert info.value.field == field, str(info.value)

"""Evidence packs without disk: canonical JSON, sealing, the single-pack verifier and the HTML page."""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import json
import re
from decimal import Decimal
from typing import Any

import pytest

from dte_platform.evidence import SCHEMA, canonical_json, content_hash, render_html, seal, verify_pack


def pack_content(**decision: Any) -> dict[str, Any]:
    """Content shaped like the certification stage's, with a demotion."""
    return {
        "decision": {
            "level": "silver",
            "required": "gold",
            "certified": False,
            "status": "demoted",
            "reasons": ["gold: drift_within_bounds: drift failed on amount (psi 0.41 > 0.25)"],
            "issued": "2026-11-15T06:00:00+00:00",
            "expires": "2026-11-16T06:00:00+00:00",
            **decision,
        },
        "contract": {
            "file": "assets/sources/shop/orders.odcs.yaml",
            "id": "shop-orders",
            "version": "1.0.0",
            "sha256": "4" * 64,
        },
        "code_version": {"platform": "0.1.0", "asset": "5f1c2e"},
        "data": {"version": "run 8b1e", "fingerprint": "sha256:" + "7" * 64},
        "checks": [
            {
                "name": "contract__order_id_required",
                "severity": "ERROR",
                "passed": True,
                "partitions_failed": [],
                "metadata": {"failing_rows": 0},
            },
            {
                "name": "drift",
                "severity": "WARN",
                "passed": False,
                "partitions_failed": ["2026-11-14"],
                "metadata": {"psi": {"amount": 0.41}},
            },
        ],
        "indicators": {
            "trust_score": 91.2,
            "components": {"contract": {"value": 100.0, "weight": 0.3}},
            "completeness_pct": {"order_id": 100.0, "email": 97.5},
        },
        "freshness": {
            "newest": "2026-11-14T23:59:00+00:00",
            "lag_seconds": 3600,
            "max_age_seconds": 86400,
            "deadline": "2026-11-15T23:59:00+00:00",
        },
        "lineage": {"run_ids": ["8b1e0c2a", "77aa01ff"]},
        "upstream": [{"asset": "sources/shop/customers", "level": "gold", "certified": True}],
    }


def first_pack() -> dict[str, Any]:
    return seal(pack_content(), asset="sources/shop/orders", sequence=1, previous_hash=None)


# -- canonical JSON -----------------------------------------------------------------------------


def test_canonical_json_is_the_documented_byte_form() -> None:
    assert canonical_json({"b": [1, 2.5, None, True], "a": {"ü": "é ✓", "z": "line\nbreak"}}) == (
        '{"a":{"z":"line\\nbreak","ü":"é ✓"},"b":[1,2.5,null,true]}'.encode()
    )


def test_canonical_json_does_not_depend_on_insertion_order_or_container_type() -> None:
    one = {"x": 1, "y": {"p": (1, 2), "q": "v"}}
    other = {"y": {"q": "v", "p": [1, 2]}, "x": 1}
    assert canonical_json(one) == canonical_json(other)
    assert canonical_json(json.loads(canonical_json(one))) == canonical_json(one)


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), float("-inf")])
def test_canonical_json_rejects_non_finite_numbers_naming_the_path(bad: float) -> None:
    with pytest.raises(ValueError, match=re.escape("$.indicators.completeness_pct.email")):
        canonical_json({"indicators": {"completeness_pct": {"email": bad}}})


@pytest.mark.parametrize(
    "value", [dt.datetime(2026, 11, 15, 6, tzinfo=dt.UTC), dt.date(2026, 11, 15), dt.time(6, 0)]
)
def test_canonical_json_rejects_datetimes_naming_the_path(value: object) -> None:
    with pytest.raises(TypeError, match=re.escape("$.checks[1].metadata.at")):
        canonical_json({"checks": [{}, {"metadata": {"at": value}}]})


@pytest.mark.parametrize("value", [Decimal("1.5"), {1, 2}, b"bytes", object()])
def test_canonical_json_rejects_values_json_has_no_type_for(value: object) -> None:
    with pytest.raises(TypeError, match=re.escape('$["odd key"]')):
        canonical_json({"odd key": value})


def test_canonical_json_rejects_non_text_keys_and_broken_unicode() -> None:
    with pytest.raises(TypeError, match="keys are strings"):
        canonical_json({"data": {1: "x"}})
    with pytest.raises(ValueError, match=re.escape("$.reasons[0]")):
        canonical_json({"reasons": ["\ud800"]})


def test_content_hash_is_sha256_over_the_canonical_bytes() -> None:
    body = {"b": 1, "a": "ü"}
    expected = hashlib.sha256('{"a":"ü","b":1}'.encode()).hexdigest()
    assert content_hash(body) == f"sha256:{expected}"
    with pytest.raises(ValueError, match="cannot cover itself"):
        content_hash({**body, "hash": "sha256:" + "0" * 64})


# -- seal and verify_pack -----------------------------------------------------------------------


def test_seal_adds_the_chain_fields_and_a_hash_over_everything_else() -> None:
    pack = first_pack()
    assert (pack["schema"], pack["asset"], pack["sequence"], pack["previous_hash"]) == (
        SCHEMA,
        "sources/shop/orders",
        1,
        None,
    )
    assert pack["decision"] == pack_content()["decision"]
    assert pack["hash"] == content_hash({k: v for k, v in pack.items() if k != "hash"})
    assert verify_pack(pack) == []


def test_seal_copies_the_content() -> None:
    content = pack_content()
    pack = seal(content, asset="a/b", sequence=1, previous_hash=None)
    content["decision"]["certified"] = True
    assert pack["decision"]["certified"] is False
    assert verify_pack(pack) == []


@pytest.mark.parametrize("key", ["schema", "asset", "sequence", "previous_hash", "hash"])
def test_seal_refuses_content_that_sets_a_reserved_key(key: str) -> None:
    with pytest.raises(ValueError, match=key):
        seal({**pack_content(), key: "forged"}, asset="a/b", sequence=1, previous_hash=None)


@pytest.mark.parametrize(
    ("sequence", "previous_hash", "message"),
    [
        (1, "sha256:" + "a" * 64, "pack 1 starts the chain"),
        (2, None, "must name the hash of pack 1"),
        (0, None, "integer from 1"),
        (True, None, "integer from 1"),
        (2, "md5:abc", "previous_hash is"),
    ],
)
def test_seal_refuses_inconsistent_chain_fields(sequence: Any, previous_hash: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        seal(pack_content(), asset="a/b", sequence=sequence, previous_hash=previous_hash)


@pytest.mark.parametrize(
    "edit",
    [
        lambda p: p["decision"].update(certified=True),
        lambda p: p["decision"]["reasons"].append("added later"),
        lambda p: p["checks"][1].update(passed=True),
        lambda p: p["indicators"].update(trust_score=99.0),
        lambda p: p.update(asset="sources/shop/customers"),
        lambda p: p.pop("upstream"),
        lambda p: p.update(extra="x"),
    ],
)
def test_verify_pack_detects_a_changed_value(edit: Any) -> None:
    pack = first_pack()
    tampered = copy.deepcopy(pack)
    edit(tampered)
    problems = verify_pack(tampered)
    assert any("hash mismatch" in p for p in problems), problems


def test_verify_pack_detects_a_changed_hash_and_broken_fields() -> None:
    pack = first_pack()
    assert any("hash mismatch" in p for p in verify_pack({**pack, "hash": "sha256:" + "0" * 64}))
    assert any("hash is" in p for p in verify_pack({k: v for k, v in pack.items() if k != "hash"}))
    assert any("schema is" in p for p in verify_pack({**pack, "schema": "dte.evidence/v0"}))
    assert any("sequence is" in p for p in verify_pack({**pack, "sequence": "1"}))
    assert any("not canonical JSON" in p for p in verify_pack({**pack, "data": {"rows": float("nan")}}))


# -- the HTML page ------------------------------------------------------------------------------


def test_page_leads_with_the_verdict_and_the_reasons_by_level() -> None:
    content = pack_content(verdict="not certified: needs gold, holds silver")
    content["checks"][1].update(label="no column drifts", finding="drifted: amount (PSI 0.41)")
    content["checks"].append({"name": "revenue_matches_orders", "severity": "ERROR", "passed": None})
    page = render_html(seal(content, asset="sources/shop/orders", sequence=1, previous_hash=None))
    assert '<p class="verdict bad">Not certified: needs gold, holds silver</p>' in page
    assert "<h3>Not met for gold</h3>" in page
    assert (
        "<li><strong>Drift within bounds</strong>: drift failed on amount (psi 0.41 &gt; 0.25)</li>" in page
    )
    assert "valid until 2026-11-16T06:00:00+00:00" in page
    # a failed check says what was measured against what was allowed; "not run" is not "failed"
    assert '<td class="failed">failed</td><td>2026-11-14</td><td>drifted: amount (PSI 0.41)</td>' in page
    assert '<td class="notrun">not run</td>' in page
    assert "3 checks: 1 passed, 1 failed, 1 not run on the current data." in page
    assert "dte/" not in page and "**" not in page  # no raw metadata keys, no markdown
    assert "4" * 64 in page and "7" * 64 in page  # contract and data fingerprints
    assert "<code>dte evidence verify sources/shop/orders</code>" in page
    assert "000001.json" in page and "RFC 8785" in page


def test_page_names_failed_runs_and_the_upstream_relied_on() -> None:
    content = pack_content(verdict="not certified: needs gold, holds no level")
    content["failed_runs"] = [
        {"partition": "2026-11-14", "run_id": "9f8e", "error": "x.jsonl: not UTF-8 at line 32"}
    ]
    content["upstream"] = [
        {"asset": "sources/crm/customers", "level": "bronze", "required": "silver", "certified": False}
    ]
    content["inputs"] = [{"asset": "sources/crm/customers", "built_from": "aaaa", "current": "bbbb"}]
    page = render_html(seal(content, asset="golden/customers", sequence=1, previous_hash=None))
    assert "<td>2026-11-14</td><td><code>9f8e</code></td><td>x.jsonl: not UTF-8 at line 32</td>" in page
    assert (
        '<tr><td>sources/crm/customers</td><td>bronze</td><td>silver</td><td class="failed">no</td>'
        "<td>built from aaaa, now bbbb</td></tr>"
    ) in page


def test_page_of_a_certified_pack_says_so() -> None:
    content = pack_content(
        level="gold", certified=True, status="certified", reasons=[], verdict="certified gold"
    )
    second = seal(content, asset="sources/shop/orders", sequence=2, previous_hash=first_pack()["hash"])
    page = render_html(second)
    assert '<p class="verdict ok">Certified gold</p>' in page
    assert "Every criterion of every level holds." in page
    assert first_pack()["hash"] in page  # the previous pack's hash


def test_page_is_deterministic_and_self_contained() -> None:
    pack = first_pack()
    page = render_html(pack)
    assert page == render_html(copy.deepcopy(pack))
    lowered = page.lower()
    for outside in ("<script", "http:", "https:", "src=", "href=", "<link", "@import", "url("):
        assert outside not in lowered, outside


def test_page_escapes_every_value() -> None:
    hostile = '<script>alert("x")</script>'
    content = pack_content(reasons=[hostile], status=hostile)
    content["checks"][0]["name"] = hostile
    content["checks"][0]["metadata"] = {hostile: hostile}
    content["upstream"][0]["asset"] = hostile
    content[hostile] = {"nested": [hostile]}
    page = render_html(seal(content, asset="sources/<b>/x", sequence=1, previous_hash=None))
    assert "<script" not in page and "<b>" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page


def test_page_survives_a_pack_without_optional_sections() -> None:
    page = render_html(seal({}, asset="sources/shop/orders", sequence=1, previous_hash=None))
    assert "<h1>sources/shop/orders</h1>" in page
    assert "0 checks: 0 passed, 0 failed, 0 not run on the current data." in page

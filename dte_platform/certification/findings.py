"""A failed check's finding in plain words: what was measured against what was allowed, read from
the metadata the platform's checks record (``dte/...`` keys). Pure; used in certificate reasons
and evidence pages, never showing a raw key."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

Metadata = Mapping[str, Any]


def _num(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return "?" if value is None else str(value)


def _error(m: Metadata) -> str:
    return f"the rule could not run: {m['dte/error']}"


def _rows(m: Metadata) -> str:
    action = "quarantined" if m.get("dte/action") == "quarantined" else "failing"
    allowed = _num(m["dte/tolerance_percent"])
    return f"{_num(m['dte/failing_percent'])}% of the rows {action}, {allowed}% allowed"


def _drift(m: Metadata) -> str:
    psi = m.get("dte/psi") or {}
    shown = ", ".join(f"{c} (PSI {_num(psi.get(c))})" for c in m["dte/drifted_columns"])
    return f"drifted: {shown}; bound {_num(m.get('dte/threshold'))} against {m.get('dte/reference')}"


def _volume(m: Metadata) -> str:
    return (
        f"{m.get('dte/rows')} rows against a median of {_num(m.get('dte/median'))} "
        f"({m.get('dte/verdict', 'outside the bounds')})"
    )


def _freshness(m: Metadata) -> str:
    return f"newest data {_num(m['dte/lag_seconds'])} s old, {_num(m['dte/max_age_seconds'])} s allowed"


def _orphans(m: Metadata) -> str:
    allowed = _num(m.get("dte/tolerance_percent"))
    return f"{_num(m['dte/orphan_percent'])}% of the keys unknown, {allowed}% allowed"


def _totals(m: Metadata) -> str:
    return f"totals differ by {_num(m['dte/gap_percent'])}%, {_num(m.get('dte/tolerance_percent'))}% allowed"


def _score(m: Metadata) -> str:
    return f"trust score {_num(m['dte/score'])}, at least {_num(m['dte/min_score'])} required"


def _duplicates(m: Metadata) -> str:
    keys = m.get("dte/duplicate_keys")
    return f"{m['dte/duplicate_rows']} rows share a key" + (f": {', '.join(map(str, keys))}" if keys else "")


def _threshold(m: Metadata) -> str:
    unit = "%" if m.get("dte/unit") == "percent" else ""
    value = m.get("dte/measured", m.get("dte/value"))
    return f"measured {_num(value)}{unit}, allowed {m['dte/threshold']}{unit}"


def _conservation(m: Metadata) -> str:
    return f"{m['dte/rows_in']} landing rows, {m['dte/accounted']} accounted for"


#: (keys the metadata must have, how to say it), the most specific first
_FINDINGS: tuple[tuple[tuple[str, ...], Callable[[Metadata], str]], ...] = (
    (("dte/error",), _error),
    (("dte/failing_percent", "dte/tolerance_percent"), _rows),
    (("dte/drifted_columns",), _drift),
    (("dte/robust_z",), _volume),
    (("dte/lag_seconds", "dte/max_age_seconds"), _freshness),
    (("dte/orphan_percent",), _orphans),
    (("dte/gap_percent",), _totals),
    (("dte/score", "dte/min_score"), _score),
    (("dte/duplicate_rows",), _duplicates),
    (("dte/threshold",), _threshold),
    (("dte/rows_in", "dte/accounted"), _conservation),
)


def finding(metadata: Metadata) -> str:
    """What a failed check measured against what it allows ("" when its metadata does not say)."""
    for keys, say in _FINDINGS:
        if all(metadata.get(k) not in (None, "") for k in keys):
            return say(metadata)
    return ""

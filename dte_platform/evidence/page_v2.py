"""The page of a ``dte.evidence/v2`` pack: the decision first, then the evidence behind it."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

#: top-level keys given their own section (everything else lands in "Other evidence")
_KNOWN = frozenset(
    {
        "schema", "asset", "sequence", "previous_hash", "hash", "decision", "contract", "code_version",
        "data", "checks", "indicators", "freshness", "lineage", "upstream",
    }
)  # fmt: skip

#: digests are shown in a monospace font so they can be compared by eye
_DIGEST = re.compile(r"(?:sha256:)?[0-9a-f]{32,}")

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:2rem auto;max-width:62rem;
padding:0 1rem;color:#1d2433;line-height:1.45}
h1{font-size:1.5rem;margin-bottom:.25rem}h2{font-size:1.15rem;margin-top:2rem;border-bottom:1px solid #d8dde6}
.verdict{padding:.75rem 1rem;border-radius:.4rem;font-weight:600}
.ok{background:#e3f4e8;color:#14532d}.bad{background:#fde8e8;color:#7f1d1d}
table{border-collapse:collapse;margin:.5rem 0;font-size:.92rem}
th,td{border:1px solid #d8dde6;padding:.3rem .55rem;text-align:left;vertical-align:top}
th{background:#f3f5f9}tr.failed td{background:#fff4f4}td.fail{color:#b91c1c;font-weight:600}
td.pass{color:#15803d}code,pre{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.85rem}
code{word-break:break-all}pre{white-space:pre-wrap;background:#f6f8fa;padding:.75rem}
table.kv{margin:0}table.kv th{font-weight:500}
"""


def render_html(pack: Mapping[str, Any]) -> str:
    """The page for one pack; deterministic, every value escaped."""
    headline = _headline(pack)
    sections = [
        _verdict(pack, headline),
        _why(pack),
        _checks(pack),
        _indicators(pack),
        _section("Freshness", pack.get("freshness")),
        _fingerprints(pack),
        _upstream(pack),
        _other(pack),
        _chain(pack),
        _how_to_verify(pack),
        _record(pack),
    ]
    body = "\n".join(s for s in sections if s)
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(headline)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n{body}\n</body>\n</html>\n"
    )


def _headline(pack: Mapping[str, Any]) -> str:
    decision = _mapping(pack.get("decision"))
    level = decision.get("level") or "no level"
    required = decision.get("required")
    verdict = "CERTIFIED" if decision.get("certified") is True else "NOT CERTIFIED"
    middle = f"{level} ({required} required)" if required else str(level)
    return f"{_text(pack.get('asset'))} — {middle} — {verdict}"


def _verdict(pack: Mapping[str, Any], headline: str) -> str:
    decision = _mapping(pack.get("decision"))
    css = "ok" if decision.get("certified") is True else "bad"
    lines = [f"<h1>{escape(headline)}</h1>"]
    status = f"Status: {_text(decision.get('status'))}. " if "status" in decision else ""
    lines.append(
        f'<p class="verdict {css}">{escape(status)}Issued {escape(_text(decision.get("issued")))}; '
        f"valid until {escape(_text(decision.get('expires')))}.</p>"
    )
    return "\n".join(lines)


def _why(pack: Mapping[str, Any]) -> str:
    reasons = _mapping(pack.get("decision")).get("reasons") or []
    if not isinstance(reasons, list):
        reasons = [reasons]
    if not reasons:
        return "<h2>Why</h2>\n<p>No reasons were recorded: every criterion of the level was met.</p>"
    items = "".join(f"<li>{escape(_text(reason))}</li>" for reason in reasons)
    return f"<h2>Why</h2>\n<ul>{items}</ul>"


def _checks(pack: Mapping[str, Any]) -> str:
    checks = [c for c in _list(pack.get("checks")) if isinstance(c, Mapping)]
    failed = sum(1 for c in checks if c.get("passed") is not True)
    head = f"<h2>Checks</h2>\n<p>{len(checks)} checks: {len(checks) - failed} passed, {failed} failed.</p>"
    if not checks:
        return head
    rows = [
        "<tr><th>Result</th><th>Check</th><th>Severity</th><th>Partitions failed</th><th>Details</th></tr>"
    ]
    for check in checks:
        passed = check.get("passed") is True
        rows.append(
            f'<tr class="{"passed" if passed else "failed"}">'
            f'<td class="{"pass" if passed else "fail"}">{"passed" if passed else "FAILED"}</td>'
            f"<td>{escape(_text(check.get('name')))}</td><td>{escape(_text(check.get('severity')))}</td>"
            f"<td>{_value(check.get('partitions_failed') or [])}</td>"
            f"<td>{_value(check.get('metadata') or {})}</td></tr>"
        )
    return head + "\n<table>" + "".join(rows) + "</table>"


def _indicators(pack: Mapping[str, Any]) -> str:
    indicators = _mapping(pack.get("indicators"))
    if not indicators:
        return ""
    rest = {k: v for k, v in indicators.items() if k != "trust_score"}
    score = ""
    if "trust_score" in indicators:
        score = (
            f"<p>Trust score: <strong>{escape(_text(indicators['trust_score']))}</strong> out of 100.</p>\n"
        )
    return f"<h2>Confidence indicators</h2>\n{score}{_value(rest) if rest else ''}"


def _fingerprints(pack: Mapping[str, Any]) -> str:
    contract, code, data = (_mapping(pack.get(k)) for k in ("contract", "code_version", "data"))
    rows = {
        "Contract file": contract.get("file"),
        "Contract id and version": f"{_text(contract.get('id'))} {_text(contract.get('version'))}",
        "Contract SHA-256": contract.get("sha256"),
        "Platform version": code.get("platform"),
        "Asset code version": code.get("asset"),
        "Data version": data.get("version"),
        "Data fingerprint": data.get("fingerprint"),
    }
    shown = {"contract": ("file", "id", "version", "sha256"), "code_version": ("platform", "asset")}
    shown["data"] = ("version", "fingerprint")
    for name, fields in (("contract", contract), ("code_version", code), ("data", data)):
        rows.update({f"{name}.{k}": v for k, v in fields.items() if k not in shown[name]})
    return "<h2>What was certified</h2>\n" + _table(rows)


def _upstream(pack: Mapping[str, Any]) -> str:
    parts = []
    upstream = [u for u in _list(pack.get("upstream")) if isinstance(u, Mapping)]
    if upstream:
        rows = ["<tr><th>Upstream asset</th><th>Level</th><th>Certified</th></tr>"]
        rows += [
            f"<tr><td>{escape(_text(u.get('asset')))}</td><td>{escape(_text(u.get('level')))}</td>"
            f"<td>{escape(_text(u.get('certified')))}</td></tr>"
            for u in upstream
        ]
        parts.append("<table>" + "".join(rows) + "</table>")
    lineage = _mapping(pack.get("lineage"))
    if lineage:
        parts.append("<p>Lineage:</p>" + _table(dict(lineage)))
    return "<h2>Where it came from</h2>\n" + "\n".join(parts) if parts else ""


def _other(pack: Mapping[str, Any]) -> str:
    other = {k: v for k, v in sorted(pack.items()) if k not in _KNOWN}
    return _section("Other evidence", other) if other else ""


def _chain(pack: Mapping[str, Any]) -> str:
    previous = pack.get("previous_hash")
    rows = {
        "Sequence": pack.get("sequence"),
        "This pack's hash": pack.get("hash"),
        "Previous pack's hash": previous if previous is not None else "none: this is the first pack",
        "Format": pack.get("schema"),
    }
    return "<h2>Evidence chain</h2>\n" + _table(rows)


def _how_to_verify(pack: Mapping[str, Any]) -> str:
    asset = _text(pack.get("asset"))
    sequence = pack.get("sequence")
    json_name = f"{sequence:06d}.json" if isinstance(sequence, int) else "the JSON file"
    return (
        "<h2>How to verify</h2>\n"
        f"<p>Run <code>dte evidence verify {escape(asset)}</code> in the project. It recomputes the hash of "
        "every pack of this asset, checks that each pack names the hash of the one before, that this page "
        "matches its pack, and that the latest pack is the one the warehouse's certificate records. "
        f"The record is {escape(json_name)} next to this page; this page is a rendering of it. "
        "The hash is SHA-256 over the record without its <code>hash</code> key in RFC 8785 canonical JSON "
        "(JCS), which any JCS library reproduces.</p>"
    )


def _record(pack: Mapping[str, Any]) -> str:
    text = json.dumps(pack, indent=2, sort_keys=True, ensure_ascii=False, default=str)
    return f"<details><summary>The full record (JSON)</summary>\n<pre>{escape(text)}</pre>\n</details>"


def _section(title: str, value: object) -> str:
    if value is None or value == {}:
        return ""
    return f"<h2>{escape(title)}</h2>\n{_value(value)}"


def _table(rows: Mapping[str, object]) -> str:
    cells = "".join(f"<tr><th>{escape(k)}</th><td>{_value(v)}</td></tr>" for k, v in rows.items())
    return f'<table class="kv">{cells}</table>'


def _value(value: object) -> str:
    """Nested values as nested tables, lists of scalars as one comma-separated line."""
    if isinstance(value, Mapping):
        return _table({str(k): v for k, v in value.items()}) if value else "—"
    if isinstance(value, Sequence) and not isinstance(value, str):
        if not value:
            return "none"
        if all(not isinstance(v, Mapping | list | tuple) for v in value):
            return escape(", ".join(_text(v) for v in value))
        return "".join(f"<div>{_value(v)}</div>" for v in value)
    text = escape(_text(value))
    return f"<code>{text}</code>" if isinstance(value, str) and _DIGEST.fullmatch(value) else text


def _text(value: object) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _list(value: object) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else []

"""The page of a ``dte.evidence/v2`` pack, for an auditor who is not an engineer: one verdict line,
the reasons grouped by level in plain words, the failed runs and upstream certificates the decision
relied on, then every check ("not run" is not "failed"), the indicators, what was certified and how
to verify it. No raw metadata keys, no markdown; it fits a 1280 px screen.

Deterministic and self-contained (inline CSS, no scripts, no external resources), so
:meth:`EvidenceStore.verify` can re-render a pack and compare the page byte for byte.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

_LEVELS = ("bronze", "silver", "gold")
_CSS = """
*{box-sizing:border-box}
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:1.5rem auto;max-width:1200px;
padding:0 1rem;color:#1d2433;line-height:1.45}
h1{font-size:1.45rem;margin:0 0 .4rem}h2{font-size:1.1rem;margin-top:1.8rem;border-bottom:1px solid #d8dde6}
h3{font-size:1rem;margin:1rem 0 .3rem}.muted{color:#5b6475}
.verdict{padding:.8rem 1rem;border-radius:.4rem;font-weight:600;font-size:1.1rem}
.ok{background:#e3f4e8;color:#14532d}.bad{background:#fde8e8;color:#7f1d1d}
table{border-collapse:collapse;margin:.4rem 0;font-size:.9rem;width:100%;table-layout:fixed}
th,td{border:1px solid #d8dde6;padding:.3rem .5rem;text-align:left;vertical-align:top;overflow-wrap:anywhere}
th{background:#f3f5f9}.passed{color:#15803d}.failed{color:#b91c1c;font-weight:600}.notrun{color:#92400e}
code{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.84rem;overflow-wrap:anywhere}
ul{margin:.3rem 0;padding-left:1.3rem}li{margin:.2rem 0}
"""


def render_html(pack: Mapping[str, Any]) -> str:
    """The page for one pack; deterministic, every value escaped."""
    decision = _mapping(pack.get("decision"))
    title = f"{_text(pack.get('asset'))}: {_text(decision.get('verdict'))}"
    sections = [
        _verdict(pack, decision),
        _reasons(decision),
        _failed_runs(pack),
        _upstream(pack),
        _checks(pack),
        _indicators(pack),
        _certified(pack),
        _chain(pack),
    ]
    body = "\n".join(s for s in sections if s)
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n{body}\n</body>\n</html>\n"
    )


def _verdict(pack: Mapping[str, Any], decision: Mapping[str, Any]) -> str:
    css = "ok" if decision.get("certified") is True else "bad"
    verdict = _text(decision.get("verdict") or decision.get("status"))
    return (
        f"<h1>{escape(_text(pack.get('asset')))}</h1>\n"
        f'<p class="verdict {css}">{escape(verdict[:1].upper() + verdict[1:])}</p>\n'
        f'<p class="muted">Required level: {escape(_text(decision.get("required")))}. '
        f"Issued {escape(_text(decision.get('issued')))}; valid until "
        f"{escape(_text(decision.get('expires')))}. "
        f"Data version {escape(_text(decision.get('version')))}.</p>"
    )


def _reasons(decision: Mapping[str, Any]) -> str:
    reasons = [str(r) for r in decision.get("reasons") or []]
    if not reasons:
        return "<h2>Why</h2>\n<p>Every criterion of every level holds.</p>"
    grouped: dict[str, list[str]] = {}
    for reason in reasons:
        level, _, rest = reason.partition(": ")
        key = level if level in _LEVELS else "other"
        grouped.setdefault(key, []).append(rest if key != "other" else reason)
    parts = ["<h2>Why</h2>"]
    for level in (*_LEVELS, "other"):
        if level not in grouped:
            continue
        heading = f"Not met for {level}" if level != "other" else "Also"
        items = "".join(f"<li>{_reason(r)}</li>" for r in grouped[level])
        parts.append(f"<h3>{escape(heading)}</h3>\n<ul>{items}</ul>")
    return "\n".join(parts)


def _reason(text: str) -> str:
    """``criterion_name: what`` as "Criterion name: what"."""
    name, sep, what = text.partition(": ")
    if not sep or " " in name:
        return escape(text)
    return f"<strong>{escape(name.replace('_', ' ').capitalize())}</strong>: {escape(what)}"


def _failed_runs(pack: Mapping[str, Any]) -> str:
    runs = [r for r in _list(pack.get("failed_runs")) if isinstance(r, Mapping)]
    if not runs:
        return ""
    rows = "".join(
        f"<tr><td>{escape(_text(r.get('partition') or 'the whole asset'))}</td>"
        f"<td><code>{escape(_text(r.get('run_id')))}</code></td><td>{escape(_text(r.get('error')))}</td></tr>"
        for r in runs
    )
    return (
        "<h2>Materializations that failed</h2>\n<p>They wrote nothing; the data certified is the last "
        "version that loaded. Each stays a reason until its partition loads.</p>\n"
        '<table><colgroup><col style="width:14%"><col style="width:26%"><col></colgroup>'
        f"<tr><th>Partition</th><th>Run</th><th>Error</th></tr>{rows}</table>"
    )


def _upstream(pack: Mapping[str, Any]) -> str:
    upstream = [u for u in _list(pack.get("upstream")) if isinstance(u, Mapping)]
    inputs = {i.get("asset"): i for i in _list(pack.get("inputs")) if isinstance(i, Mapping)}
    if not upstream:
        return ""
    rows = []
    for u in upstream:
        certified = u.get("certified") is True
        item = inputs.get(u.get("asset"), {})
        built = ""
        if item:
            same = item.get("built_from") == item.get("current")
            built = (
                "current version"
                if same
                else f"built from {_text(item.get('built_from'))}, now {_text(item.get('current'))}"
            )
        rows.append(
            f"<tr><td>{escape(_text(u.get('asset')))}</td><td>{escape(_text(u.get('level')))}</td>"
            f"<td>{escape(_text(u.get('required')))}</td>"
            f'<td class="{"passed" if certified else "failed"}">{"yes" if certified else "no"}</td>'
            f"<td>{escape(built)}</td></tr>"
        )
    return (
        "<h2>Upstream certificates this decision relied on</h2>\n"
        "<table><tr><th>Asset</th><th>Level held</th><th>Level required</th><th>Certified</th>"
        f"<th>Version read</th></tr>{''.join(rows)}</table>"
    )


def _checks(pack: Mapping[str, Any]) -> str:
    checks = [c for c in _list(pack.get("checks")) if isinstance(c, Mapping)]
    counts = {s: sum(1 for c in checks if _status(c) == s) for s in ("passed", "failed", "not run")}
    head = (
        f"<h2>Checks</h2>\n<p>{len(checks)} checks: {counts['passed']} passed, {counts['failed']} failed, "
        f"{counts['not run']} not run on the current data.</p>"
    )
    if not checks:
        return head
    rows = []
    for check in sorted(
        checks, key=lambda c: ({"failed": 0, "not run": 1}.get(_status(c), 2), _text(c.get("name")))
    ):
        status = _status(check)
        css = {"passed": "passed", "failed": "failed"}.get(status, "notrun")
        label = _text(check.get("label")) if check.get("label") else ""
        where = ", ".join(str(p) for p in _list(check.get("partitions_failed")))
        name = escape(_text(check.get("name")))
        rows.append(
            f"<tr><td>{escape(label) if label else name}<br><code>{name}</code></td>"
            f"<td>{'blocking' if check.get('severity') == 'ERROR' else 'warning'}</td>"
            f'<td class="{css}">{escape(status)}</td><td>{escape(where)}</td>'
            f"<td>{escape(_text(check.get('finding')) if check.get('finding') else '')}</td></tr>"
        )
    return (
        head + '\n<table><colgroup><col style="width:34%"><col style="width:9%"><col style="width:8%">'
        '<col style="width:19%"><col></colgroup>'
        "<tr><th>Check</th><th>Severity</th><th>Result</th><th>Failed on</th>"
        "<th>Measured vs allowed</th></tr>" + "".join(rows) + "</table>"
    )


def _status(check: Mapping[str, Any]) -> str:
    if check.get("passed") is None:
        return "not run"
    return "passed" if check.get("passed") is True else "failed"


_INDICATOR_NAMES = {
    "trust_score": "Trust score (0-100)",
    "completeness_pct": "Completeness (%)",
    "validity_pct": "Validity (%)",
    "freshness_lag_s": "Freshness lag (s)",
    "row_count": "Rows in the table",
}


def _indicators(pack: Mapping[str, Any]) -> str:
    indicators = _mapping(pack.get("indicators"))
    rows = [
        f"<tr><th>{escape(name)}</th><td>{escape(_text(indicators[key]))}</td></tr>"
        for key, name in _INDICATOR_NAMES.items()
        if key in indicators
    ]
    per_column = [c for c in _list(indicators.get("indicators")) if isinstance(c, Mapping)]
    table = ""
    if per_column:
        fields = sorted({k for c in per_column for k in c if k != "column"})
        head = "".join(f"<th>{escape(f.replace('_', ' '))}</th>" for f in fields)
        body = "".join(
            f"<tr><td>{escape(_text(c.get('column')))}</td>"
            + "".join(f"<td>{escape(_text(c.get(f)))}</td>" for f in fields)
            + "</tr>"
            for c in per_column
        )
        table = f"<h3>Per column</h3>\n<table><tr><th>Column</th>{head}</tr>{body}</table>"
    if not rows and not table:
        return ""
    return f"<h2>Confidence indicators</h2>\n<table>{''.join(rows)}</table>\n{table}"


def _certified(pack: Mapping[str, Any]) -> str:
    contract, code, data = (_mapping(pack.get(k)) for k in ("contract", "code_version", "data"))
    freshness = _mapping(pack.get("freshness"))
    lineage = _mapping(pack.get("lineage"))
    rows = {
        "Contract": f"{_text(contract.get('file'))} "
        f"({_text(contract.get('id'))} version {_text(contract.get('version'))})",
        "Contract SHA-256": contract.get("sha256"),
        "Platform and asset code version": f"{_text(code.get('platform'))} / {_text(code.get('asset'))}",
        "Data version": data.get("version"),
        "Table and its fingerprint": f"{_text(data.get('table'))}: {_text(data.get('fingerprint'))}",
        "Materialized": f"{_text(data.get('materialized_at'))} (run {_text(data.get('run_id'))})",
        "Freshness deadline": freshness.get("deadline"),
        "Lineage recorded": lineage.get("recorded"),
    }
    cells = "".join(f"<tr><th>{escape(k)}</th><td>{escape(_text(v))}</td></tr>" for k, v in rows.items())
    columns = '<colgroup><col style="width:24%"><col></colgroup>'
    return f"<h2>What was certified</h2>\n<table>{columns}{cells}</table>"


def _chain(pack: Mapping[str, Any]) -> str:
    asset, sequence = _text(pack.get("asset")), pack.get("sequence")
    previous = pack.get("previous_hash")
    json_name = f"{sequence:06d}.json" if isinstance(sequence, int) else "the JSON file"
    return (
        "<h2>Evidence chain and how to verify it</h2>\n"
        f"<p>Pack {escape(_text(sequence))} of {escape(asset)}; "
        f"format {escape(_text(pack.get('schema')))}.</p>\n"
        f"<p>This pack's hash: <code>{escape(_text(pack.get('hash')))}</code><br>"
        f"Previous pack's hash: <code>{escape(_text(previous) if previous else 'none: the first pack')}"
        "</code></p>\n"
        f"<p>The record is {escape(json_name)} next to this page; this page renders it. Its hash is SHA-256 "
        "over the record without its <code>hash</code> key in RFC 8785 canonical JSON (JCS), which any JCS "
        f"library reproduces. <code>dte evidence verify {escape(asset)}</code> recomputes every hash of the "
        "asset's chain, checks each pack names the one before, that this page matches its pack, and that "
        "the latest pack is the one the warehouse's certificate records.</p>"
    )


def _text(value: object) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _list(value: object) -> Sequence[Any]:
    return list(value) if isinstance(value, list | tuple) else []

"""Evidence packs: the sealed, hash-chained record behind one certification decision.

Place in the platform: core and pure (no I/O, no clock). Certification builds a pack's *content*
(decision and reasons, contract and data fingerprints, every check, indicators, lineage);
:func:`seal` adds the chain fields (schema, asset, sequence, previous pack's hash) and the pack's own
hash; :mod:`dte_platform.evidence.store` writes it; :mod:`dte_platform.evidence.html` renders it.

A hash is only reproducible if the bytes are, so a pack is hashed in *canonical JSON*. Packs of
schema ``dte.evidence/v2`` use RFC 8785, the JSON Canonicalization Scheme (JCS), which any language
has a library for: ``hash`` is ``"sha256:" + hex(sha256(JCS(pack without "hash")))``, and the file
on disk is exactly those JCS bytes. Integers are kept within JCS's exact range (±2^53); larger
numbers must be recorded as text. Packs of ``dte.evidence/v1`` (written before) used this module's
own earlier form (keys sorted by code point, Python's float repr) and still verify with it.
Values whose text form would be ambiguous are refused instead of guessed: NaN and Infinity have no
JSON form, and a ``datetime`` has several ISO spellings, so the producer must choose one.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Mapping
from datetime import date, datetime, time
from typing import Any

import rfc8785

SCHEMA_V1 = "dte.evidence/v1"
SCHEMA = "dte.evidence/v2"
#: every pack schema this module verifies, oldest first
SCHEMAS = (SCHEMA_V1, SCHEMA)
#: the integers RFC 8785 represents exactly (IEEE 754 doubles)
_SAFE_INTEGER = 2**53 - 1
HASH_PREFIX = "sha256:"
#: keys :func:`seal` writes; content may not set them
RESERVED_KEYS = ("schema", "asset", "sequence", "previous_hash", "hash")

_HASH_RE = re.compile(r"sha256:[0-9a-f]{64}")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def canonical_json(obj: Any, schema: str | None = None) -> bytes:
    """The one byte form of ``obj`` that is hashed, written to disk and compared on verify: RFC 8785
    for ``dte.evidence/v2`` (the default), the earlier form for ``v1``. Without ``schema``, a pack
    is written in the form of the schema it names.

    Raises ``ValueError`` for NaN/Infinity, integers beyond ±2^53 and text that is not valid
    Unicode, ``TypeError`` for values JSON has no type for (datetimes included); all name the key
    path, e.g. ``$.decision.expires``.
    """
    if schema is None:
        named = obj.get("schema") if isinstance(obj, Mapping) else None
        schema = named if named in SCHEMAS else SCHEMA
    plain = _plain(obj, "$", exact_integers=schema != SCHEMA_V1)
    if schema == SCHEMA_V1:
        text = json.dumps(plain, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
        return text.encode("utf-8")
    return rfc8785.dumps(plain)


def content_hash(pack_without_hash: Mapping[str, Any]) -> str:
    """``sha256:<hex>`` over the canonical JSON of a pack without its own ``hash`` key."""
    if "hash" in pack_without_hash:
        raise ValueError("content_hash() takes the pack without its 'hash' key: a hash cannot cover itself")
    return HASH_PREFIX + hashlib.sha256(canonical_json(pack_without_hash)).hexdigest()


def seal(
    content: Mapping[str, Any], *, asset: str, sequence: int, previous_hash: str | None
) -> dict[str, Any]:
    """A new pack: the chain fields, the content, and the hash over both.

    The result is a plain JSON copy (tuples become lists, mappings dicts), so it equals the pack read
    back from disk and later changes to ``content`` do not reach it.
    """
    clash = [key for key in RESERVED_KEYS if key in content]
    if clash:
        raise ValueError(f"pack content must not set {', '.join(clash)}: seal() writes those keys itself")
    problems = _chain_field_problems(asset, sequence, previous_hash)
    if problems:
        raise ValueError("cannot seal the pack: " + "; ".join(problems))
    body = {"schema": SCHEMA, "asset": asset, "sequence": sequence, "previous_hash": previous_hash}
    body.update(content)
    pack: dict[str, Any] = json.loads(canonical_json(body))
    pack["hash"] = content_hash(pack)
    return pack


def verify_pack(pack: Mapping[str, Any]) -> list[str]:
    """What is wrong with one pack on its own (``[]`` when intact); the chain is the store's job."""
    if not isinstance(pack, Mapping):
        return [f"a pack is a JSON object, not {type(pack).__name__}"]
    problems: list[str] = []
    if pack.get("schema") not in SCHEMAS:
        problems.append(f"schema is {pack.get('schema')!r}, expected one of {', '.join(SCHEMAS)}")
    problems.extend(_chain_field_problems(pack.get("asset"), pack.get("sequence"), pack.get("previous_hash")))
    recorded = pack.get("hash")
    if not is_hash(recorded):
        problems.append(f"hash is {recorded!r}, expected 'sha256:' and 64 lowercase hex digits")
    try:
        actual = content_hash({key: value for key, value in pack.items() if key != "hash"})
    except (TypeError, ValueError) as exc:
        problems.append(f"content is not canonical JSON: {exc}")
        return problems
    if is_hash(recorded) and actual != recorded:
        problems.append(
            f"hash mismatch: the pack says {recorded} but its content hashes to {actual} "
            "(the pack was changed after it was sealed)"
        )
    return problems


def is_hash(value: object) -> bool:
    """Whether ``value`` is a well-formed pack hash (``sha256:`` + 64 lowercase hex digits)."""
    return isinstance(value, str) and _HASH_RE.fullmatch(value) is not None


def _chain_field_problems(asset: object, sequence: object, previous_hash: object) -> list[str]:
    problems: list[str] = []
    if not isinstance(asset, str) or not asset:
        problems.append(f"asset is {asset!r}, expected a non-empty asset key")
    if isinstance(sequence, bool) or not isinstance(sequence, int) or sequence < 1:
        problems.append(f"sequence is {sequence!r}, expected an integer from 1")
        return problems
    if previous_hash is not None and not is_hash(previous_hash):
        problems.append(f"previous_hash is {previous_hash!r}, expected null or a sha256: hash")
    elif sequence == 1 and previous_hash is not None:
        problems.append("pack 1 starts the chain, so its previous_hash must be null")
    elif sequence > 1 and previous_hash is None:
        problems.append(f"pack {sequence} must name the hash of pack {sequence - 1} in previous_hash")
    return problems


def _plain(value: Any, path: str, exact_integers: bool = True) -> Any:
    """``value`` as plain JSON types, or an error naming ``path``; bool is tested before int."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        if exact_integers and abs(value) > _SAFE_INTEGER:
            raise ValueError(
                f"{path}: {value} is beyond ±2^53, which JSON numbers hold exactly; record it as text"
            )
        return int(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{path}: {value!r} has no JSON form; record it as null or as text")
        return float(value)
    if isinstance(value, str):
        return _text(value, path)
    if isinstance(value, Mapping):
        return {
            _key(key, path): _plain(item, _child(path, key), exact_integers) for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [_plain(item, f"{path}[{index}]", exact_integers) for index, item in enumerate(value)]
    if isinstance(value, datetime | date | time):
        raise TypeError(
            f"{path}: {type(value).__name__} must be an ISO 8601 string before it goes into a pack "
            "(a datetime has several spellings; the producer picks one with .isoformat())"
        )
    raise TypeError(
        f"{path}: {type(value).__name__} is not JSON (use str, int, float, bool, None, lists and dicts)"
    )


def _text(value: str, path: str) -> str:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError(f"{path}: text is not valid Unicode ({exc.reason})") from None
    return str.__str__(value)


def _key(key: object, path: str) -> str:
    if not isinstance(key, str):
        raise TypeError(f"{path}: key {key!r} is {type(key).__name__}; JSON object keys are strings")
    return _text(key, path)


def _child(path: str, key: str) -> str:
    if _IDENTIFIER.fullmatch(key):
        return f"{path}.{key}"
    return f"{path}[{json.dumps(key, ensure_ascii=False)}]"

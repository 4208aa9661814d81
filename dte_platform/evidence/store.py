"""Evidence packs on disk: one append-only, hash-chained folder per asset, and its verifier.

Place in the platform: the I/O edge of the evidence stage. Certification builds a pack's content and
calls :meth:`EvidenceStore.append`; ``dte evidence verify`` calls :meth:`EvidenceStore.verify`.

Layout: ``<root>/<asset_dir_name(asset)>/<sequence:06d>.json`` (the record: exactly its canonical JSON
bytes) and ``<sequence:06d>.html`` (:func:`render_html` of the record), plus a ``.lock`` file that
serialises appends across processes.

Crash consistency. Each file is written to a temporary file in the same folder (``.<name>.<random>.tmp``),
flushed and fsynced, then renamed over its final name with ``os.replace`` and the folder fsynced, so a
final name never holds a partial file. The HTML goes first and the JSON last: the JSON file *is* the
commit. An interrupted append therefore leaves at most a temporary file or a page ``N+1.html`` without
its ``N+1.json``; :meth:`EvidenceStore.verify` reports both as "incomplete write" (never as tampering),
and the next append removes the temporary files and overwrites the page. A pack whose JSON exists but
whose page is missing or different cannot come from a crash, so that one is reported as tampering.

Why the head is anchored in the warehouse. A chain proves that nothing was changed or removed *between*
packs, but deleting the last pack, or appending a well-formed forged one, leaves a shorter or longer chain
that is still intact. The certification records each pack's hash in the warehouse (``trust.certificates``,
:data:`CERTIFICATES_TABLE`); :func:`warehouse_heads` reads the latest one per asset and
:meth:`EvidenceStore.verify` checks that the last pack is that one.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
from filelock import FileLock
from filelock import Timeout as LockTimeout

from dte_platform.errors import DteError
from dte_platform.evidence.html import render_html
from dte_platform.evidence.pack import canonical_json, seal, verify_pack

#: the warehouse table whose latest row per asset names the latest evidence pack's hash
CERTIFICATES_TABLE = "trust.certificates"
LOCK_FILE = ".lock"
LOCK_TIMEOUT_S = 60.0
#: label of problems that belong to the store root rather than to one asset
STORE_LABEL = "(store)"
_LEFTOVER = (
    "incomplete write: temporary file of an interrupted append (not part of the chain; "
    "the next append removes it)"
)
_MAX_DIR_NAME = 200
_KEY_PART = re.compile(r"[A-Za-z0-9]+(?:[._-][A-Za-z0-9]+)*")
_PACK_FILE = re.compile(r"(\d{6,})\.(json|html)")
_TEMP_FILE = re.compile(r"\.\d{6,}\.(?:json|html)\..+\.tmp")
_HEADS_SQL = f"""
SELECT asset, evidence_hash FROM {CERTIFICATES_TABLE}
WHERE asset IS NOT NULL AND evidence_hash IS NOT NULL
QUALIFY row_number() OVER (PARTITION BY asset ORDER BY evidence_sequence DESC, rowid DESC) = 1
"""


class EvidenceError(DteError):
    """Base class of the evidence store's errors."""


class EvidenceWriteError(EvidenceError):
    """A pack could not be written (disk full, read-only folder, a file where a folder should be)."""


class EvidenceReadError(EvidenceError):
    """A pack file cannot be read back as an intact pack."""


class InvalidAssetKey(EvidenceError, ValueError):
    """An asset key that cannot name a folder safely (``..``, absolute paths, separators)."""


class HeadsUnavailable(EvidenceError):
    """The warehouse's certificate table cannot be read, so chain heads are not cross-checked."""


@dataclass(frozen=True)
class WrittenPack:
    asset: str
    sequence: int
    hash: str
    json_path: Path
    html_path: Path


@dataclass(frozen=True)
class Problem:
    """One finding of :meth:`EvidenceStore.verify`; ``file`` is the file name inside the asset folder."""

    asset: str
    file: str | None
    message: str

    def __str__(self) -> str:
        return f"{self.asset}: {self.file}: {self.message}" if self.file else f"{self.asset}: {self.message}"


def asset_dir_name(asset: str) -> str:
    """``sources/shop/orders`` -> ``sources__shop__orders``.

    Each key part is letters and digits with single ``.``, ``_`` or ``-`` between them, so a part can
    be neither ``..`` nor empty, and ``__`` only ever appears as the separator: the mapping is one to
    one and :func:`asset_from_dir_name` reverses it.
    """
    if not isinstance(asset, str) or not asset:
        raise InvalidAssetKey(f"asset key {asset!r}: expected a non-empty text like sources/shop/orders")
    bad = [part for part in asset.split("/") if not _KEY_PART.fullmatch(part)]
    if bad:
        raise InvalidAssetKey(
            f"asset key {asset!r}: part {bad[0]!r} is not allowed; each '/'-separated part is letters and "
            "digits with single '.', '_' or '-' between them (no '..', '__', empty parts or backslashes)"
        )
    name = "__".join(asset.split("/"))
    if len(name) > _MAX_DIR_NAME:
        raise InvalidAssetKey(f"asset key {asset!r}: longer than {_MAX_DIR_NAME} characters")
    return name


def asset_from_dir_name(name: str) -> str | None:
    """The asset key an asset folder belongs to, or ``None`` when ``name`` is not an asset folder."""
    asset = name.replace("__", "/")
    try:
        return asset if asset_dir_name(asset) == name else None
    except InvalidAssetKey:
        return None


@dataclass
class _Listing:
    """The files of one asset folder, sorted into pack records, pages, leftovers and strays."""

    records: dict[int, Path] = field(default_factory=dict)
    pages: dict[int, Path] = field(default_factory=dict)
    leftovers: list[str] = field(default_factory=list)
    strays: list[str] = field(default_factory=list)


class EvidenceStore:
    """Append-only evidence packs under ``root`` (``settings.artifacts_dir / "certification"``)."""

    def __init__(self, root: Path, lock_timeout_s: float = LOCK_TIMEOUT_S) -> None:
        self.root = Path(root)
        self._lock_timeout_s = lock_timeout_s

    def folder(self, asset: str) -> Path:
        return self.root / asset_dir_name(asset)

    # -- writing ---------------------------------------------------------------------------------

    def append(self, asset: str, content: Mapping[str, Any]) -> WrittenPack:
        """Seal ``content`` as the asset's next pack and write its record and page.

        Refuses (:class:`EvidenceReadError`) to chain onto a latest pack that is not intact: that is a
        case for ``dte evidence verify``, not for burying under new packs.
        """
        folder = self.folder(asset)
        try:
            folder.mkdir(parents=True, exist_ok=True)
            with FileLock(str(folder / LOCK_FILE), timeout=self._lock_timeout_s):
                return self._append_locked(asset, folder, content)
        except LockTimeout as exc:
            raise EvidenceWriteError(
                f"{folder}: another append held the evidence lock for {self._lock_timeout_s:.0f}s"
            ) from exc
        except OSError as exc:
            raise EvidenceWriteError(
                f"cannot write evidence for {asset} at {_where(exc, folder)}: {exc.strerror or exc}"
            ) from exc

    def _append_locked(self, asset: str, folder: Path, content: Mapping[str, Any]) -> WrittenPack:
        listing = _list_folder(folder)
        for name in listing.leftovers:
            (folder / name).unlink(missing_ok=True)
        last = self._intact_latest(asset, listing)
        sequence = 1 if last is None else last["sequence"] + 1
        pack = seal(
            content, asset=asset, sequence=sequence, previous_hash=None if last is None else last["hash"]
        )
        json_path, html_path = folder / f"{sequence:06d}.json", folder / f"{sequence:06d}.html"
        _write_atomic(html_path, render_html(pack).encode("utf-8"))
        _write_atomic(json_path, canonical_json(pack))
        return WrittenPack(asset, sequence, pack["hash"], json_path, html_path)

    def _intact_latest(self, asset: str, listing: _Listing) -> dict[str, Any] | None:
        if not listing.records:
            return None
        sequence = max(listing.records)
        path = listing.records[sequence]
        pack, problems = _check_record(asset, sequence, path)
        if pack is None or problems:
            raise EvidenceReadError(
                f"{path}: the latest pack is not intact ({'; '.join(problems)}); run "
                f"`dte evidence verify {asset}` before certifying again"
            )
        return pack

    # -- reading ---------------------------------------------------------------------------------

    def latest(self, asset: str) -> dict[str, Any] | None:
        records = _list_folder(self.folder(asset)).records
        return _read_record(records[max(records)]) if records else None

    def packs(self, asset: str) -> list[dict[str, Any]]:
        """Every pack of ``asset`` in sequence order (as read; :meth:`verify` says whether intact)."""
        records = _list_folder(self.folder(asset)).records
        return [_read_record(records[sequence]) for sequence in sorted(records)]

    def assets(self) -> list[str]:
        """The asset keys that have packs, as their latest readable pack records them."""
        keys: set[str] = set()
        for folder in self._asset_folders():
            records = _list_folder(folder).records
            for sequence in sorted(records, reverse=True):
                with contextlib.suppress(EvidenceReadError):
                    asset = _read_record(records[sequence]).get("asset")
                    if isinstance(asset, str):
                        keys.add(asset)
                        break
        return sorted(keys)

    def _asset_folders(self) -> Iterator[Path]:
        if self.root.is_dir():
            yield from sorted(p for p in self.root.iterdir() if p.is_dir() and asset_from_dir_name(p.name))

    # -- verifying -------------------------------------------------------------------------------

    def verify(self, asset: str | None = None, heads: Mapping[str, str] | None = None) -> list[Problem]:
        """Every problem with the packs of ``asset`` (or of every asset); ``[]`` when all are intact.

        ``heads`` maps an asset to the hash the warehouse records as its latest pack; the last pack must
        be that one, and an asset in ``heads`` must have packs.
        """
        heads = dict(heads or {})
        problems: list[Problem] = []
        if asset is not None:
            targets = {asset: self.folder(asset)}
            heads = {asset: heads[asset]} if asset in heads else {}
        else:
            targets, problems = self._discover()
        for key in sorted(heads.keys() - targets.keys()):
            try:
                targets[key] = self.folder(key)
            except InvalidAssetKey as exc:
                problems.append(Problem(key, None, f"the warehouse names an asset no folder can hold: {exc}"))
        for key in sorted(targets):
            problems.extend(_verify_folder(key, targets[key], heads.get(key)))
        return problems

    def _discover(self) -> tuple[dict[str, Path], list[Problem]]:
        targets: dict[str, Path] = {}
        problems: list[Problem] = []
        if not self.root.is_dir():
            return targets, problems
        for entry in sorted(self.root.iterdir()):
            asset = asset_from_dir_name(entry.name) if entry.is_dir() else None
            if asset is None:
                problems.append(
                    Problem(STORE_LABEL, entry.name, "stray entry: the store holds one folder per asset")
                )
            else:
                targets[asset] = entry
        return targets, problems


def warehouse_heads(warehouse_path: Path) -> dict[str, str]:
    """Asset -> the evidence hash of its latest certificate (the greatest evidence sequence).

    Opens the warehouse read-only and never waits: a running writer makes this raise
    :class:`HeadsUnavailable`, as does a missing file or table; the caller then verifies without heads.
    """
    if not warehouse_path.is_file():
        raise HeadsUnavailable(f"no warehouse at {warehouse_path}")
    try:
        conn = duckdb.connect(str(warehouse_path), read_only=True)
    except duckdb.Error as exc:
        raise HeadsUnavailable(
            f"cannot open {warehouse_path} read-only (is a run writing it?): {exc}"
        ) from exc
    try:
        rows = conn.execute(_HEADS_SQL).fetchall()
    except duckdb.CatalogException as exc:
        raise HeadsUnavailable(f"{warehouse_path} has no table {CERTIFICATES_TABLE}") from exc
    except duckdb.Error as exc:
        raise HeadsUnavailable(f"cannot read {CERTIFICATES_TABLE} in {warehouse_path}: {exc}") from exc
    finally:
        conn.close()
    return {str(asset): str(evidence_hash) for asset, evidence_hash in rows}


def _verify_folder(asset: str, folder: Path, head: str | None) -> list[Problem]:
    if not folder.is_dir():
        if folder.exists():
            return [Problem(asset, None, f"{folder} is a file, not the asset's evidence folder")]
        if head is not None:
            return [
                Problem(
                    asset, None, f"the warehouse records {head} as the latest pack, but there are no packs"
                )
            ]
        return []
    listing = _list_folder(folder)
    problems = [Problem(asset, name, _LEFTOVER) for name in listing.leftovers]
    problems += [
        Problem(asset, name, "stray file: not part of the evidence chain") for name in listing.strays
    ]
    packs: dict[int, dict[str, Any]] = {}
    intact: set[int] = set()
    for sequence, path in sorted(listing.records.items()):
        pack, found = _check_record(asset, sequence, path)
        problems += [Problem(asset, path.name, message) for message in found]
        if pack is not None:
            packs[sequence] = pack
        if pack is not None and not found:
            intact.add(sequence)
    problems += _chain_problems(asset, listing, packs)
    problems += _page_problems(asset, listing, {s: packs[s] for s in intact})
    if head is not None:
        problems += _head_problems(asset, listing, packs, head)
    return problems


def _chain_problems(asset: str, listing: _Listing, packs: dict[int, dict[str, Any]]) -> list[Problem]:
    problems: list[Problem] = []
    last = max(listing.records, default=0)
    missing = [sequence for sequence in range(1, last + 1) if sequence not in listing.records]
    if missing:
        names = ", ".join(f"{sequence:06d}.json" for sequence in missing)
        problems.append(
            Problem(asset, None, f"missing {names}: the sequence must run 1..{last} without gaps")
        )
    for sequence, pack in sorted(packs.items()):
        before = packs.get(sequence - 1)
        if before is not None and pack.get("previous_hash") != before.get("hash"):
            problems.append(
                Problem(
                    asset,
                    f"{sequence:06d}.json",
                    f"chain broken: previous_hash is {pack.get('previous_hash')}, "
                    f"but pack {sequence - 1:06d} has hash {before.get('hash')}",
                )
            )
    return problems


def _page_problems(asset: str, listing: _Listing, packs: dict[int, dict[str, Any]]) -> list[Problem]:
    """``packs``: the intact records only; a damaged record is reported once, not again via its page."""
    problems: list[Problem] = []
    for sequence in sorted(listing.records):
        page = listing.pages.get(sequence)
        name = f"{sequence:06d}.html"
        if page is None:
            problems.append(Problem(asset, name, "HTML page missing (deleted: an append writes it first)"))
        elif sequence in packs and page.read_bytes() != render_html(packs[sequence]).encode("utf-8"):
            problems.append(
                Problem(
                    asset,
                    name,
                    "HTML page does not match its pack (edited, or rendered by another platform version)",
                )
            )
    next_sequence = max(listing.records, default=0) + 1
    for sequence, page in sorted(listing.pages.items()):
        if sequence == next_sequence:
            message = (
                "incomplete write: page of an interrupted append without its record "
                "(the next append replaces it)"
            )
            problems.append(Problem(asset, page.name, message))
        elif sequence not in listing.records:
            problems.append(Problem(asset, page.name, f"HTML page without its record {sequence:06d}.json"))
    return problems


def _head_problems(
    asset: str, listing: _Listing, packs: dict[int, dict[str, Any]], head: str
) -> list[Problem]:
    if not listing.records:
        return [
            Problem(asset, None, f"the warehouse records {head} as the latest pack, but there are no packs")
        ]
    last = max(listing.records)
    last_hash = packs.get(last, {}).get("hash")
    if last_hash == head:
        return []
    anchored = [sequence for sequence, pack in packs.items() if pack.get("hash") == head]
    if anchored:
        message = (
            f"the warehouse's latest certificate points at pack {anchored[0]:06d}, but the chain goes on to "
            f"{last:06d}: the packs after it have no certificate (an interrupted certification, or packs "
            "added outside the platform)"
        )
    else:
        message = (
            f"the warehouse's latest certificate points at {head}, which no pack here has: the latest pack "
            f"was deleted or replaced (the last pack here is {last:06d} with hash {last_hash})"
        )
    return [Problem(asset, None, message)]


def _check_record(asset: str, sequence: int, path: Path) -> tuple[dict[str, Any] | None, list[str]]:
    """The parsed pack (if it parses) and what is wrong with it as the ``sequence``-th pack of ``asset``."""
    try:
        data = path.read_bytes()
        pack = _parse(data)
    except (OSError, ValueError) as exc:
        return None, [f"unreadable: {exc}"]
    problems: list[str] = []
    if canonical_json(pack) != data:
        problems.append("the file's bytes are not the canonical JSON of its content (edited or reformatted)")
    problems += verify_pack(pack)
    if pack.get("sequence") != sequence:
        problems.append(
            f"the file name says pack {sequence} but the pack says {pack.get('sequence')!r} "
            "(renamed or swapped)"
        )
    if pack.get("asset") != asset:
        problems.append(f"the pack is for asset {pack.get('asset')!r}, not {asset!r}")
    return pack, problems


def _read_record(path: Path) -> dict[str, Any]:
    try:
        return _parse(path.read_bytes())
    except (OSError, ValueError) as exc:
        raise EvidenceReadError(f"{path}: unreadable evidence pack: {exc}") from exc


def _parse(data: bytes) -> dict[str, Any]:
    """Strict JSON: UTF-8, one object, no duplicate keys, no NaN/Infinity. Raises ``ValueError``."""
    value = json.loads(data.decode("utf-8"), object_pairs_hook=_no_duplicates, parse_constant=_no_constant)
    if not isinstance(value, dict):
        raise ValueError(f"expected a JSON object, got {type(value).__name__}")
    return value


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"duplicate key {key!r}")
        result[key] = value
    return result


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _list_folder(folder: Path) -> _Listing:
    listing = _Listing()
    if not folder.is_dir():
        return listing
    for entry in sorted(folder.iterdir()):
        match = _PACK_FILE.fullmatch(entry.name)
        if (
            match
            and entry.is_file()
            and entry.name == f"{int(match[1]):06d}.{match[2]}"
            and int(match[1]) > 0
        ):
            (listing.records if match[2] == "json" else listing.pages)[int(match[1])] = entry
        elif _TEMP_FILE.fullmatch(entry.name) and entry.is_file():
            listing.leftovers.append(entry.name)
        elif entry.name != LOCK_FILE:
            listing.strays.append(entry.name)
    return listing


def _write_atomic(path: Path, data: bytes) -> None:
    """Write, fsync, rename over ``path``, fsync the folder: ``path`` is either old or complete."""
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), 0o644)  # mkstemp creates 0600; auditors read these files
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        tmp.replace(path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        if isinstance(exc, OSError) and exc.filename is None:  # write/fsync errors name no file
            raise OSError(exc.errno, exc.strerror, str(path)) from exc
        raise
    _fsync_folder(path.parent)


def _fsync_folder(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _where(exc: OSError, default: Path) -> str:
    return str(exc.filename) if exc.filename else str(default)

"""Deliver OpenLineage events without ever failing the run that produced them.

Place in the platform: core, no Dagster. Orchestration builds events with
:mod:`dte_platform.lineage.events` and hands them to :class:`LineageEmitter`, which sends them through
the openlineage-python client's transport configured by :class:`~dte_platform.settings.LineageSettings`:

- ``file``: one JSON line per event appended to ``<lineage_dir>/events.jsonl``;
- ``http``: POST to ``settings.url`` (a bare ``http://host:port`` posts to ``/api/v1/lineage``, the
  Marquez path; a URL with a path posts to that path);
- ``none``: nothing is sent.

Whatever goes wrong while sending (endpoint down, timeout, HTTP error, disk error on the events file),
the event is appended to ``<lineage_dir>/spool.jsonl`` and :meth:`LineageEmitter.replay` sends it later,
in order. An event is lost only when even the spool cannot be written; that is reported as ``lost``.
Logs name errors, never event contents.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import tempfile
import threading
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from filelock import FileLock
from filelock import Timeout as LockTimeout
from openlineage.client.client import OpenLineageClient
from openlineage.client.serde import Serde
from openlineage.client.transport import Transport
from openlineage.client.transport.file import FileConfig, FileTransport
from openlineage.client.transport.http import HttpConfig, HttpTransport

from dte_platform.settings import LineageSettings

log = logging.getLogger(__name__)

EVENTS_FILE = "events.jsonl"
SPOOL_FILE = "spool.jsonl"
#: where a bare http://host:port URL posts (Marquez and most OpenLineage receivers)
DEFAULT_HTTP_ENDPOINT = "api/v1/lineage"
TRANSPORTS = frozenset({"file", "http", "none"})
#: the library retries 5xx and connection errors five times with backoff by default; that would multiply
#: the time an emit can block. The spool is the retry mechanism here, so each send is one attempt.
NO_RETRY: dict[str, Any] = {"total": 0}


@dataclass(frozen=True)
class Outcome:
    """``sent`` | ``spooled`` (kept for :meth:`LineageEmitter.replay`) | ``disabled`` | ``lost``."""

    status: str
    error: str | None = None


class LineageEmitter:
    """Sends events through a lazily created ``OpenLineageClient``; spools what it cannot send.

    Construction only checks the settings: no client, no file and no connection is created before the
    first :meth:`emit`. Each send is bounded by ``timeout_s`` (requests applies it to the connect and to
    the read; a spool lock is waited for at most as long).
    """

    def __init__(self, settings: LineageSettings, lineage_dir: Path, timeout_s: float = 5.0) -> None:
        self._kind = _transport_kind(settings)
        self._http_target = _http_target(settings.url) if self._kind == "http" else None
        self._dir = Path(lineage_dir)
        self._timeout_s = timeout_s
        self._client: OpenLineageClient | None = None
        self._client_lock = threading.Lock()

    @property
    def spool_path(self) -> Path:
        return self._dir / SPOOL_FILE

    @property
    def events_path(self) -> Path:
        return self._dir / EVENTS_FILE

    def emit(self, event: dict[str, Any]) -> Outcome:
        """Send one event; never raises (only ``BaseException``s such as ``KeyboardInterrupt`` pass).

        Every wait is bounded by ``timeout_s``: the connect, the read of the answer and, on failure, the
        spool lock; a dead or slow endpoint costs one ``timeout_s``.
        """
        if self._kind == "none":
            return Outcome("disabled")
        try:
            sent = self._send(event)
        except Exception as exc:
            return self._spool(event, exc)
        return Outcome("sent") if sent else Outcome("disabled")

    def replay(self) -> tuple[int, int]:
        """Re-send spooled events in order: ``(sent, still spooled)``.

        Stops at the first failed send and keeps it and everything after it. Sent events are removed
        with an atomic rewrite of the spool; events spooled meanwhile by other emitters are kept. Raises
        ``OSError`` only when the spool itself cannot be read or rewritten.
        """
        if self._kind == "none" or not self.spool_path.exists():
            return 0, self._spooled_count()
        try:
            with FileLock(self._lock_path("replay"), timeout=0):
                return self._replay_locked()
        except LockTimeout:
            log.info("lineage replay skipped: another replay is running")
            return 0, self._spooled_count()

    def close(self) -> None:
        """Release the transport's connections; a later emit creates a new client."""
        with self._client_lock:
            client, self._client = self._client, None
        if client is not None:
            client.close(timeout=0)

    # -- sending -----------------------------------------------------------------------------------------

    def _send(self, event: dict[str, Any]) -> bool:
        """Send through the client's transport; False when the library's own kill switch
        (``OPENLINEAGE_DISABLED``) replaced it with a no-op."""
        client = self._get_client()
        if client.transport.kind == "noop":
            return False
        if self._kind == "file":
            self._dir.mkdir(parents=True, exist_ok=True)
        # ``OpenLineageClient.emit`` only accepts the library's attrs event classes and enriches them from
        # ambient configuration (environment-variable, tag and git facets); events here are already
        # complete spec-shaped dicts built from explicit values, so they go to the client's transport,
        # which serialises them with ``Serde`` like any other event.
        client.transport.emit(event)  # type: ignore[arg-type]
        return True

    def _get_client(self) -> OpenLineageClient:
        with self._client_lock:
            if self._client is None:
                self._client = OpenLineageClient(transport=self._make_transport())
            return self._client

    def _make_transport(self) -> Transport:
        if self._http_target is not None:
            url, endpoint = self._http_target
            config = HttpConfig(url=url, endpoint=endpoint, timeout=self._timeout_s, retry=dict(NO_RETRY))
            return HttpTransport(config)
        # The library's FileTransport appends one ``Serde`` JSON line per event to a single file when
        # ``append`` is set, which is exactly the events.jsonl format, so it is used as is.
        return FileTransport(FileConfig(log_file_path=str(self.events_path), append=True))

    # -- spooling ----------------------------------------------------------------------------------------

    def _spool(self, event: dict[str, Any], exc: Exception) -> Outcome:
        error = _describe(exc)
        try:
            self._append_to_spool(Serde.to_json(event))
        except Exception as spool_exc:
            lost = f"{error}; spool not writable: {_describe(spool_exc)}"
            log.error("lineage event lost: %s", lost)
            return Outcome("lost", lost)
        log.warning("lineage event spooled for replay: %s", error)
        return Outcome("spooled", error)

    def _append_to_spool(self, line: str) -> None:
        self._dir.mkdir(parents=True, exist_ok=True)
        with self._spool_lock(), self.spool_path.open("a+b") as spool:
            # a line cut short by a crash must not swallow the next event
            spool.write(_separator(spool) + line.encode("utf-8") + b"\n")
            spool.flush()
            os.fsync(spool.fileno())

    def _spool_lock(self) -> FileLock:
        return FileLock(self._lock_path("spool"), timeout=self._timeout_s)

    def _lock_path(self, name: str) -> str:
        return str(self._dir / f".{name}.lock")

    def _read_spool(self) -> list[str]:
        with self._spool_lock():
            return _read_lines(self.spool_path)

    def _spooled_count(self) -> int:
        return len(_read_lines(self.spool_path))

    # -- replay ------------------------------------------------------------------------------------------

    def _replay_locked(self) -> tuple[int, int]:
        sent = list(self._send_in_order(self._read_spool()))
        if not sent:
            return 0, self._spooled_count()
        return len(sent), self._remove_from_spool(sent)

    def _send_in_order(self, lines: Sequence[str]) -> Iterator[str]:
        """Yield each line once it is sent; stop at the first failure."""
        for number, line in enumerate(lines, start=1):
            event = _parse(line)
            if event is None:
                log.warning("lineage spool line %d is not a JSON event; kept, not sent", number)
                continue
            try:
                if not self._send(event):
                    return
            except Exception as exc:
                log.warning("lineage replay stopped at spool line %d: %s", number, _describe(exc))
                return
            yield line

    def _remove_from_spool(self, sent: Sequence[str]) -> int:
        """Drop the sent lines (re-reading the spool, which may have grown) with an atomic rewrite."""
        with self._spool_lock():
            remaining = _without(_read_lines(self.spool_path), sent)
            _rewrite(self.spool_path, remaining)
        return len(remaining)


# -- settings ------------------------------------------------------------------------------------------


def _transport_kind(settings: LineageSettings) -> str:
    kind = settings.transport.strip().lower()
    if kind not in TRANSPORTS:
        raise ValueError(f"lineage transport must be one of {sorted(TRANSPORTS)}, got {settings.transport!r}")
    if kind == "http" and not settings.url:
        raise ValueError("lineage transport 'http' needs a url")
    return kind


def _http_target(url: str | None) -> tuple[str, str]:
    """``(base URL, endpoint)``: the URL's own path if it has one, else the Marquez default."""
    parts = urlsplit((url or "").strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"lineage url must be an http(s) URL, got {url!r}")
    endpoint = parts.path.strip("/") or DEFAULT_HTTP_ENDPOINT
    if parts.query:
        endpoint = f"{endpoint}?{parts.query}"
    return urlunsplit((parts.scheme, parts.netloc, "/", "", "")), endpoint


# -- spool file helpers --------------------------------------------------------------------------------


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def _separator(spool: Any) -> bytes:
    """``b"\\n"`` when the file's last line is unterminated, else ``b""``."""
    spool.seek(0, os.SEEK_END)
    if spool.tell() == 0:
        return b""
    spool.seek(-1, os.SEEK_END)
    return b"" if spool.read(1) == b"\n" else b"\n"


def _read_lines(path: Path) -> list[str]:
    with contextlib.suppress(FileNotFoundError):
        return [line for line in path.read_text(encoding="utf-8").split("\n") if line.strip()]
    return []


def _parse(line: str) -> dict[str, Any] | None:
    try:
        event = json.loads(line)
    except ValueError:
        return None
    return event if isinstance(event, dict) else None


def _without(lines: Sequence[str], sent: Sequence[str]) -> list[str]:
    """``lines`` minus one occurrence of each sent line, order kept."""
    to_drop = Counter(sent)
    kept = []
    for line in lines:
        if to_drop[line] > 0:
            to_drop[line] -= 1
        else:
            kept.append(line)
    return kept


def _rewrite(path: Path, lines: Sequence[str]) -> None:
    """Replace ``path`` atomically (temp file in the same folder + ``os.replace``); remove it if empty."""
    if not lines:
        path.unlink(missing_ok=True)
        return
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write("".join(f"{line}\n" for line in lines))
            out.flush()
            os.fsync(out.fileno())
        Path(tmp).replace(path)  # os.replace: an atomic rename within the folder
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise

"""Delivering lineage events for real: a JSON-lines file, a live HTTP receiver on 127.0.0.1, an endpoint
that is down or too slow, and the spool that keeps what could not be sent until ``replay()``.

Receivers run in a thread on an ephemeral port and are shut down (threads joined) by each test.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource

import dte_platform.lineage.emitter as emitter_module
from dte_platform.lineage import (
    Column,
    Dataset,
    LineageEmitter,
    Run,
    complete_event,
    fail_event,
    start_event,
)
from dte_platform.settings import LineageSettings

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "openlineage"
RUN_EVENT = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"
T0 = dt.datetime(2026, 11, 2, 6, 0, tzinfo=dt.UTC)
SECRET_NAME = "mart.customer_revenue"  # a payload value that must never show up in logs


def events() -> list[dict[str, Any]]:
    run = Run(
        run_id="0190a8f0-0000-7000-8000-00000000000a",
        job_namespace="dte",
        job_name=SECRET_NAME,
        event_time=T0,
    )
    done = replace(run, event_time=T0 + dt.timedelta(minutes=1))
    source = Dataset("duckdb://warehouse", "golden.customers", columns=(Column("customer_id", "VARCHAR"),))
    mart = Dataset("duckdb://warehouse", SECRET_NAME, columns=(Column("revenue", "DOUBLE"),), row_count=2)
    return [
        start_event(run, [source], [mart]),
        complete_event(done, [source], [mart]),
        fail_event(done, [source], [], "boom"),
    ]


@cache
def run_event_validator() -> Draft202012Validator:
    schemas = [json.loads(p.read_text(encoding="utf-8")) for p in FIXTURES.glob("*.json")]
    registry = Registry().with_resources((s["$id"], Resource.from_contents(s)) for s in schemas)
    return Draft202012Validator({"$ref": RUN_EVENT}, registry=registry)


def assert_valid(event: dict[str, Any]) -> None:
    errors = [e.message for e in run_event_validator().iter_errors(event)]
    assert errors == []


def jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


# -- a lineage receiver --------------------------------------------------------------------------------


class Receiver:
    """An HTTP endpoint on 127.0.0.1 recording ``(method, path, content type, body)`` of each request.

    ``statuses`` answers the requests in turn (then 201); ``delay`` makes each answer wait, released
    early when the receiver stops so that no handler thread outlives the test.
    """

    def __init__(self, port: int = 0, statuses: tuple[int, ...] = (), delay: float = 0.0) -> None:
        self.requests: list[tuple[str, str, str, bytes]] = []
        self.statuses = list(statuses)
        self.delay = delay
        self.stopping = threading.Event()
        self.server = ThreadingHTTPServer(("127.0.0.1", port), _Handler)
        self.server.daemon_threads = False  # server_close() joins the handler threads
        self.server.receiver = self  # type: ignore[attr-defined]
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05})

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)

    def next_status(self) -> int:
        return self.statuses.pop(0) if self.statuses else 201

    def bodies(self) -> list[dict[str, Any]]:
        return [json.loads(body) for _, _, _, body in self.requests]


class _Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        receiver: Receiver = self.server.receiver  # type: ignore[attr-defined]
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if receiver.stopping.wait(receiver.delay):
            return
        receiver.requests.append(("POST", self.path, self.headers.get("Content-Type", ""), body))
        self.send_response(receiver.next_status())
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(autouse=True)
def no_leftover_threads() -> Iterator[None]:
    before = set(threading.enumerate())
    yield
    assert set(threading.enumerate()) - before == set()


@pytest.fixture
def lineage_dir(tmp_path: Path) -> Path:
    return tmp_path / "artifacts" / "lineage"


@pytest.fixture
def make_emitter(lineage_dir: Path) -> Iterator[Any]:
    made: list[LineageEmitter] = []

    def make(transport: str = "file", url: str | None = None, timeout_s: float = 2.0) -> LineageEmitter:
        emitter = LineageEmitter(
            LineageSettings(transport=transport, url=url), lineage_dir, timeout_s=timeout_s
        )
        made.append(emitter)
        return emitter

    yield make
    for emitter in made:
        emitter.close()


# -- file ----------------------------------------------------------------------------------------------


def test_file_transport_appends_valid_json_lines(make_emitter: Any, lineage_dir: Path) -> None:
    emitter = make_emitter("file")
    outcomes = [emitter.emit(event) for event in events()]
    assert [o.status for o in outcomes] == ["sent", "sent", "sent"]
    written = jsonl(lineage_dir / "events.jsonl")
    assert written == events()
    for event in written:
        assert_valid(event)
    assert [e["eventType"] for e in written] == ["START", "COMPLETE", "FAIL"]
    assert not emitter.spool_path.exists()


def test_a_disk_error_spools_and_replay_delivers_in_order(
    make_emitter: Any, lineage_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (lineage_dir / "events.jsonl").mkdir(parents=True)  # the events file cannot be opened
    emitter = make_emitter("file")
    with caplog.at_level(logging.WARNING, logger=emitter_module.__name__):
        outcomes = [emitter.emit(event) for event in events()]
    assert {o.status for o in outcomes} == {"spooled"}
    assert outcomes[0].error and "events.jsonl" in outcomes[0].error
    assert jsonl(emitter.spool_path) == events()
    assert caplog.records and all(SECRET_NAME not in r.getMessage() for r in caplog.records)

    (lineage_dir / "events.jsonl").rmdir()
    assert emitter.replay() == (3, 0)
    assert jsonl(lineage_dir / "events.jsonl") == events()
    assert not emitter.spool_path.exists()
    assert emitter.replay() == (0, 0)


def test_the_only_way_to_lose_an_event_is_an_unwritable_spool(make_emitter: Any, lineage_dir: Path) -> None:
    lineage_dir.parent.mkdir(parents=True)
    lineage_dir.write_text("a file where the folder should be", encoding="utf-8")
    outcome = make_emitter("file").emit(events()[0])
    assert outcome.status == "lost"
    assert outcome.error and "spool not writable" in outcome.error


def test_none_transport_is_disabled(make_emitter: Any, lineage_dir: Path) -> None:
    emitter = make_emitter("none")
    assert emitter.emit(events()[0]).status == "disabled"
    assert emitter.replay() == (0, 0)
    assert not lineage_dir.exists()


@pytest.mark.parametrize(("transport", "url"), [("kafka", None), ("http", None), ("http", "ftp://host/x")])
def test_bad_settings_fail_at_construction(lineage_dir: Path, transport: str, url: str | None) -> None:
    with pytest.raises(ValueError, match="lineage"):
        LineageEmitter(LineageSettings(transport=transport, url=url), lineage_dir)


# -- http ----------------------------------------------------------------------------------------------


def test_http_transport_posts_each_event_to_the_marquez_path(make_emitter: Any) -> None:
    with Receiver() as receiver:
        emitter = make_emitter("http", receiver.url)
        outcomes = [emitter.emit(event) for event in events()]
    assert [o.status for o in outcomes] == ["sent", "sent", "sent"]
    assert [(m, p, c) for m, p, c, _ in receiver.requests] == [
        ("POST", "/api/v1/lineage", "application/json")
    ] * 3
    assert receiver.bodies() == events()
    for body in receiver.bodies():
        assert_valid(body)
    assert not emitter.spool_path.exists()


def test_a_url_with_a_path_is_posted_to_as_given(make_emitter: Any) -> None:
    with Receiver() as receiver:
        outcome = make_emitter("http", f"{receiver.url}/custom/lineage").emit(events()[0])
    assert outcome.status == "sent"
    assert [path for _, path, _, _ in receiver.requests] == ["/custom/lineage"]


def test_endpoint_down_spools_then_replay_sends(make_emitter: Any) -> None:
    port = closed_port()
    emitter = make_emitter("http", f"http://127.0.0.1:{port}")
    started = time.monotonic()
    outcomes = [emitter.emit(event) for event in events()[:2]]
    assert time.monotonic() - started < 4
    assert [o.status for o in outcomes] == ["spooled", "spooled"]
    assert jsonl(emitter.spool_path) == events()[:2]

    with Receiver(port=port) as receiver:
        assert emitter.replay() == (2, 0)
    assert receiver.bodies() == events()[:2]
    assert not emitter.spool_path.exists()


def test_replay_stops_at_the_first_failure_and_keeps_the_rest(make_emitter: Any) -> None:
    port = closed_port()
    emitter = make_emitter("http", f"http://127.0.0.1:{port}")
    assert {emitter.emit(event).status for event in events()} == {"spooled"}

    with Receiver(port=port, statuses=(201, 503)) as receiver:
        assert emitter.replay() == (1, 2)
    assert receiver.bodies() == events()[:2]  # the second was received but answered 503
    assert jsonl(emitter.spool_path) == events()[1:]

    with Receiver(port=port) as receiver:
        assert emitter.replay() == (2, 0)
    assert receiver.bodies() == events()[1:]


def test_server_error_spools(make_emitter: Any) -> None:
    with Receiver(statuses=(500,)) as receiver:
        outcome = make_emitter("http", receiver.url).emit(events()[0])
    assert outcome.status == "spooled"
    assert outcome.error and "500" in outcome.error
    assert len(receiver.requests) == 1  # one attempt: the spool is the retry


def test_slow_endpoint_spools_within_the_timeout(make_emitter: Any) -> None:
    timeout_s = 0.5
    with Receiver(delay=30) as receiver:
        emitter = make_emitter("http", receiver.url, timeout_s=timeout_s)
        started = time.monotonic()
        outcome = emitter.emit(events()[0])
        elapsed = time.monotonic() - started
    assert outcome.status == "spooled"
    assert outcome.error and "timed out" in outcome.error
    assert elapsed < timeout_s + 2.0
    assert jsonl(emitter.spool_path) == events()[:1]


def test_no_client_and_no_connection_before_the_first_emit(
    make_emitter: Any, lineage_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_network(*args: object, **kwargs: object) -> None:
        raise AssertionError("constructing an emitter must not touch the network")

    created: list[object] = []
    real_client = emitter_module.OpenLineageClient

    def counting_client(*args: Any, **kwargs: Any) -> Any:
        created.append(object())
        return real_client(*args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(emitter_module, "OpenLineageClient", counting_client)
    http = make_emitter("http", "http://10.255.255.1:9", timeout_s=0.2)
    assert http._client is None
    file = make_emitter("file")
    assert file._client is None
    assert created == [] and not lineage_dir.exists()
    monkeypatch.undo()
    monkeypatch.setattr(emitter_module, "OpenLineageClient", counting_client)

    assert file.emit(events()[0]).status == "sent"
    assert file.emit(events()[1]).status == "sent"
    assert file._client is not None and len(created) == 1

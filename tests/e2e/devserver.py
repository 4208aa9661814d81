"""A real ``dagster dev`` for end-to-end tests: start it, talk GraphQL to it, stop it cleanly.

``dagster dev`` runs the webserver, the daemon (backfills, run queue, freshness) and a code server
as child processes. It only shuts down cleanly when the whole process group gets the signal, and
it ignores SIGTERM without job control, so the server is started in its own session and stopped
by signalling that group; :meth:`DevServer.stop` then proves that no process of the group is left.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

REPO = Path(__file__).resolve().parents[2]
DAGSTER_BIN = REPO / ".venv" / "bin" / "dagster"
LOCATION_NAME = "dte_platform"


class DevServerError(AssertionError):
    """The server did not start, a request failed, or a wait ran out; the message says which."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(probe: Callable[[], T | None], timeout_s: float, what: str, interval_s: float = 0.5) -> T:
    """Poll ``probe`` until it returns something other than None; fail naming ``what`` on timeout."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = probe()
        if value is not None:
            return value
        if time.monotonic() > deadline:
            raise DevServerError(f"timed out after {timeout_s:.0f}s waiting for {what}")
        time.sleep(interval_s)


def group_members(pgid: int) -> list[int]:
    """Live (non-zombie) processes whose process group is ``pgid``, read from /proc."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # exited while we looked
        # the command name (field 2) may hold spaces and parentheses: split after its closing one
        fields = stat[stat.rindex(")") + 2 :].split()
        state, process_group = fields[0], int(fields[2])
        if process_group == pgid and state != "Z":
            members.append(int(entry.name))
    return members


@dataclass
class DevServer:
    """A running ``dagster dev``: its process, address and log file."""

    process: subprocess.Popen[bytes]
    port: int
    log_path: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def graphql(self, query: str, variables: Mapping[str, Any] | None = None, timeout_s: float = 60) -> Any:
        """POST one GraphQL document the way the UI does; its ``data``, or an error with the reply."""
        body = json.dumps({"query": query, "variables": dict(variables or {})}).encode()
        request = urllib.request.Request(
            f"{self.url}/graphql", data=body, headers={"Content-Type": "application/json"}, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout_s) as response:
                reply = json.loads(response.read())
        except urllib.error.HTTPError as exc:
            raise DevServerError(f"GraphQL HTTP {exc.code}: {exc.read()[:2000]!r}") from exc
        if reply.get("errors"):
            raise DevServerError(f"GraphQL errors: {json.dumps(reply['errors'])[:2000]}")
        return reply["data"]

    def log_tail(self, lines: int = 80) -> str:
        if not self.log_path.exists():
            return "(no log)"
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def wait_for_http(self, timeout_s: float = 120) -> None:
        wait_until(self._server_info, timeout_s, f"{self.url}/server_info\n{self.log_tail()}")

    def _server_info(self) -> dict[str, Any] | None:
        if self.process.poll() is not None:
            raise DevServerError(f"dagster dev exited with {self.process.returncode}\n{self.log_tail()}")
        try:
            with urllib.request.urlopen(f"{self.url}/server_info", timeout=5) as response:
                info: dict[str, Any] = json.loads(response.read())
                return info
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            return None

    def wait_for_location(self, name: str = LOCATION_NAME, timeout_s: float = 180) -> None:
        """Until the code location is loaded; a load error fails at once with Dagster's message."""
        wait_until(lambda: self._location_loaded(name), timeout_s, f"code location {name!r} to load")

    def _location_loaded(self, name: str) -> bool | None:
        data = self.graphql(WORKSPACE_QUERY)
        entries = {e["name"]: e for e in data["workspaceOrError"].get("locationEntries", [])}
        entry = entries.get(name)
        if entry is None or entry["loadStatus"] != "LOADED":
            return None
        location = entry["locationOrLoadError"]
        if location["__typename"] == "PythonError":
            raise DevServerError(f"code location {name!r} failed to load: {location['message']}")
        return True

    def stop(self, timeout_s: float = 60) -> None:
        """SIGTERM the process group, SIGKILL it if it lingers, and fail if any member survives."""
        pgid = self.process.pid  # the leader of its own session: pid == pgid
        _signal_group(pgid, signal.SIGTERM)
        try:
            self.process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            _signal_group(pgid, signal.SIGKILL)
            self.process.wait(timeout=30)
        # children (webserver, daemon, code server) may outlive the leader by a moment
        deadline = time.monotonic() + timeout_s
        while group_members(pgid) and time.monotonic() < deadline:
            time.sleep(0.2)
        if group_members(pgid):
            _signal_group(pgid, signal.SIGKILL)
            wait_until(lambda: True if not group_members(pgid) else None, 30, f"process group {pgid} to die")
        left = group_members(pgid)
        if left:
            raise DevServerError(f"processes of dagster dev's group {pgid} still alive: {left}")

    def launch_asset_backfill(self, asset_keys: list[str], partitions: list[str], title: str) -> str:
        """Launch a backfill of ``asset_keys`` over ``partitions`` as the UI's launch dialog does.

        Unpartitioned assets in the selection are built once, after the partitions they depend on.
        """
        params = {
            "partitionNames": partitions,
            "assetSelection": [{"path": key.split("/")} for key in asset_keys],
            "title": title,
        }
        result = self.graphql(LAUNCH_BACKFILL_MUTATION, {"params": params})["launchPartitionBackfill"]
        if result["__typename"] != "LaunchBackfillSuccess":
            raise DevServerError(f"backfill not launched: {json.dumps(result)[:2000]}")
        backfill_id: str = result["backfillId"]
        return backfill_id

    def wait_for_backfill(self, backfill_id: str, timeout_s: float) -> dict[str, Any]:
        """The backfill once it reached a final status, with its runs (status, partition, assets)."""
        probe = functools.partial(self._finished_backfill, backfill_id)
        try:
            return wait_until(probe, timeout_s, f"backfill {backfill_id} to finish", interval_s=2)
        except DevServerError as exc:
            raise DevServerError(f"{exc}\n--- {self.log_path} ---\n{self.log_tail()}") from None

    def _finished_backfill(self, backfill_id: str) -> dict[str, Any] | None:
        reply = self.graphql(BACKFILL_QUERY, {"id": backfill_id})
        backfill: dict[str, Any] = reply["partitionBackfillOrError"]
        if backfill["__typename"] != "PartitionBackfill":
            raise DevServerError(f"backfill {backfill_id}: {json.dumps(backfill)[:2000]}")
        if backfill["status"] in UNFINISHED_BACKFILL_STATUSES:
            return None
        if any(run["status"] not in FINISHED_RUN_STATUSES for run in backfill["runs"]):
            return None  # a cancelled backfill may still have runs winding down
        return backfill

    def step_failures(self, run_id: str) -> list[str]:
        """``step: message`` for every failed step of a run, for assertion messages."""
        run = self.graphql(RUN_FAILURES_QUERY, {"runId": run_id})["runOrError"]
        events = run.get("eventConnection", {}).get("events", [])
        return [f"{e['stepKey']}: {e['error']['message'].strip()}" for e in events if e.get("error")]

    def mark_welcome_seen(self) -> None:
        """Dismiss the UI's one-time community dialog for this instance, as a user's first click would."""
        self.graphql("mutation SetNuxSeen { setNuxSeen }")


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):  # already gone
        os.killpg(pgid, sig)


def start_dagster_dev(
    project_dir: Path, dagster_home: Path, log_path: Path, env: Mapping[str, str] | None = None
) -> DevServer:
    """Start ``dagster dev`` on the project's ``workspace.yaml`` on a free loopback port.

    The caller stops it with :meth:`DevServer.stop` (in a ``finally`` or a fixture teardown).
    """
    port = free_port()
    environment = {
        **os.environ,
        "DAGSTER_HOME": str(dagster_home),
        "DTE_PROJECT_DIR": str(project_dir),
        **(env or {}),
    }
    command = [str(DAGSTER_BIN), "dev", "-w", "workspace.yaml", "-h", "127.0.0.1", "-p", str(port)]
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command,
            cwd=project_dir,
            env=environment,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so stop() reaches every child
        )
    return DevServer(process=process, port=port, log_path=log_path)


WORKSPACE_QUERY = """
query Workspace {
  workspaceOrError {
    __typename
    ... on Workspace {
      locationEntries {
        name
        loadStatus
        locationOrLoadError {
          __typename
          ... on PythonError { message }
        }
      }
    }
    ... on PythonError { message }
  }
}
"""

LAUNCH_BACKFILL_MUTATION = """
mutation LaunchBackfill($params: LaunchBackfillParams!) {
  launchPartitionBackfill(backfillParams: $params) {
    __typename
    ... on LaunchBackfillSuccess { backfillId }
    ... on PythonError { message }
    ... on UnauthorizedError { message }
    ... on PartitionSetNotFoundError { message }
  }
}
"""

BACKFILL_QUERY = """
query Backfill($id: String!) {
  partitionBackfillOrError(backfillId: $id) {
    __typename
    ... on PartitionBackfill {
      id
      status
      runs(limit: 1000) {
        runId
        status
        tags { key value }
        assetSelection { path }
      }
    }
    ... on PythonError { message }
    ... on BackfillNotFoundError { message }
  }
}
"""

RUN_FAILURES_QUERY = """
query RunFailures($runId: ID!) {
  runOrError(runId: $runId) {
    __typename
    ... on Run {
      eventConnection(afterCursor: null) {
        events {
          __typename
          ... on ExecutionStepFailureEvent { stepKey error { message } }
        }
      }
    }
  }
}
"""

UNFINISHED_BACKFILL_STATUSES = frozenset({"REQUESTED", "CANCELING", "FAILING"})
FINISHED_RUN_STATUSES = frozenset({"SUCCESS", "FAILURE", "CANCELED"})

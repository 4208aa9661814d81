"""OpenLineage for the platform's runs: spec-shaped events and a delivery that never fails a run.

Place in the platform: core (no Dagster). :mod:`.events` builds OpenLineage 2-0-2 run events from plain
values; :mod:`.emitter` sends them (file or HTTP) and spools what it cannot send for later replay.
Orchestration decides when events are emitted.
"""

from __future__ import annotations

from dte_platform.lineage.emitter import LineageEmitter, Outcome
from dte_platform.lineage.events import (
    Assertion,
    Column,
    ColumnSource,
    Dataset,
    Run,
    check_event,
    complete_event,
    fail_event,
    new_run_id,
    start_event,
)

__all__ = [
    "Assertion",
    "Column",
    "ColumnSource",
    "Dataset",
    "LineageEmitter",
    "Outcome",
    "Run",
    "check_event",
    "complete_event",
    "fail_event",
    "new_run_id",
    "start_event",
]

"""OpenLineage for asset steps: START when a step begins, COMPLETE or FAIL when it ends, then the
step's check results as a child check run. Emission never fails or stalls a step: the emitter
spools what it cannot send (``dte lineage replay``) and the step logs a warning."""

# no `from __future__ import annotations`: Dagster inspects resource annotations at runtime
import dataclasses
import datetime as dt
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
from pydantic import Field

from dte_platform.lineage import (
    Dataset,
    LineageEmitter,
    Run,
    check_event,
    complete_event,
    fail_event,
    new_run_id,
    start_event,
)
from dte_platform.settings import LineageSettings, Settings

CHECKS_SUFFIX = ".checks"


class LineageResource(dg.ConfigurableResource):
    """Where lineage goes: ``file`` (``artifacts/lineage/events.jsonl``) or ``http`` (Marquez-style)."""

    transport: str = Field(default="file", description="file | http | none")
    url: str | None = Field(default=None, description="HTTP endpoint, e.g. http://127.0.0.1:5000")
    namespace: str = Field(default="dte", description="OpenLineage job namespace")
    lineage_dir: str = Field(description="folder of events.jsonl and the spool of unsent events")
    timeout_s: float = Field(default=5.0, description="bound on one emission; slower means spooled")

    def emitter(self) -> LineageEmitter:
        """A new emitter; its client is created on the first event, never before."""
        settings = LineageSettings(transport=self.transport, url=self.url, namespace=self.namespace)
        return LineageEmitter(settings, Path(self.lineage_dir), self.timeout_s)


def lineage_resource(settings: Settings) -> LineageResource:
    lineage = settings.lineage
    return LineageResource(
        transport=lineage.transport,
        url=lineage.url,
        namespace=lineage.namespace,
        lineage_dir=str(settings.artifacts_dir / "lineage"),
    )


@dataclasses.dataclass
class StepLineage:
    """What the step learned while running: final inputs/outputs and the datasets its checks read."""

    inputs: Sequence[Dataset]
    outputs: Sequence[Dataset]
    checked: Sequence[Dataset] = ()
    run_id: str = ""
    checks_run_id: str = ""
    statuses: list[str] = dataclasses.field(default_factory=list)

    def metadata(self) -> dict[str, str]:
        """How the step's lineage was recorded: ``emitted`` (every event delivered or written),
        ``spooled`` (kept for ``dte lineage replay``), ``lost`` or ``disabled``."""
        statuses = set(self.statuses)
        status = next((s for s in ("lost", "disabled", "spooled") if s in statuses), "emitted")
        out = {"dte/lineage_status": status, "dte/lineage_run_id": self.run_id}
        if self.checks_run_id:
            out["dte/lineage_checks_run_id"] = self.checks_run_id
        return out


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _run(context: dg.AssetExecutionContext, namespace: str, job_name: str) -> Run:
    start = end = None
    if context.has_partition_key:
        start = dt.datetime.combine(dt.date.fromisoformat(context.partition_key), dt.time(), dt.UTC)
        end = start + dt.timedelta(days=1)
    return Run(
        run_id=new_run_id(),
        job_namespace=namespace,
        job_name=job_name,
        event_time=_now(),
        parent_run_id=context.run.run_id,
        parent_job_namespace="dagster",
        parent_job_name=context.job_name,
        nominal_start=start,
        nominal_end=end,
    )


@contextmanager
def step_lineage(
    context: dg.AssetExecutionContext,
    lineage: LineageResource,
    job_name: str,
    inputs: Sequence[Dataset],
    outputs: Sequence[Dataset],
) -> Iterator[StepLineage]:
    emitter = lineage.emitter()
    run = _run(context, lineage.namespace, job_name)
    step = StepLineage(inputs, outputs, run_id=run.run_id)
    try:
        step.statuses.append(_emit(context, emitter, start_event(run, inputs, outputs)))
        try:
            yield step
        except Exception as exc:
            message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            _emit(
                context,
                emitter,
                fail_event(dataclasses.replace(run, event_time=_now()), inputs, outputs, message),
            )
            raise
        step.statuses.append(
            _emit(
                context,
                emitter,
                complete_event(dataclasses.replace(run, event_time=_now()), step.inputs, step.outputs),
            )
        )
        if step.checked:
            checks = Run(
                run_id=new_run_id(),
                job_namespace=lineage.namespace,
                job_name=job_name + CHECKS_SUFFIX,
                event_time=_now(),
                parent_run_id=run.run_id,
                parent_job_namespace=lineage.namespace,
                parent_job_name=job_name,
            )
            step.checks_run_id = checks.run_id
            step.statuses.append(_emit(context, emitter, check_event(checks, step.checked)))
    finally:
        emitter.close()


def _emit(context: dg.AssetExecutionContext, emitter: LineageEmitter, event: dict) -> str:
    outcome = emitter.emit(event)
    if outcome.status in {"spooled", "lost"}:
        context.log.warning(f"lineage event {event['eventType']} {outcome.status}: {outcome.error}")
    return "emitted" if outcome.status in {"sent", "written"} else outcome.status

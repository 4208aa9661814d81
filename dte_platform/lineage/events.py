"""OpenLineage 2-0-2 run events for the platform's runs, as plain JSON-able dicts.

Place in the platform: pure core, values in and dicts out. Orchestration (the only layer that knows
Dagster) describes a run and its datasets with the neutral dataclasses below, this module turns them
into spec-shaped events through the openlineage-python client's v2 classes and ``Serde``, and
:mod:`dte_platform.lineage.emitter` delivers them. Nothing here reads the clock or the environment:
event times and run ids are passed in (:func:`new_run_id` is called by the caller, at run time).

Where each piece of a :class:`Dataset` goes (as the 2-0-2 facet schemas type them):

- every dataset: ``facets.schema``, ``facets.dataSource``, ``facets.documentation``, ``facets.ownership``;
- outputs: ``facets.columnLineage``, ``facets.dataQualityMetrics`` (a ``DatasetFacet``) and
  ``outputFacets.outputStatistics``;
- inputs: ``inputFacets.dataQualityMetrics`` (the input variant) and ``inputFacets.dataQualityAssertions``.
  ``DataQualityAssertionsDatasetFacet`` extends ``InputDatasetFacet``: assertions describe a dataset that a
  run *read* to check it, so the results of checks on an asset's output are reported by the check's own
  run with that dataset as input (:func:`check_event`).

A :class:`Dataset` built for an output can be passed again as a downstream input: its column lineage
is then left out (it describes how the dataset was produced, which its producing run reported). Assertions
on an output have no place in the spec and would be lost, so they are rejected with ``ValueError``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from openlineage.client.event_v2 import InputDataset, Job, OutputDataset, RunEvent, RunState
from openlineage.client.event_v2 import Run as OLRun
from openlineage.client.facet_v2 import (
    DatasetFacet,
    InputDatasetFacet,
    JobFacet,
    OutputDatasetFacet,
    RunFacet,
    column_lineage_dataset,
    data_quality_assertions_dataset,
    data_quality_metrics_dataset,
    data_quality_metrics_input_dataset,
    datasource_dataset,
    documentation_dataset,
    documentation_job,
    error_message_run,
    job_type_job,
    nominal_time_run,
    output_statistics_output_dataset,
    ownership_dataset,
    parent_run,
    schema_dataset,
)
from openlineage.client.serde import Serde
from openlineage.client.uuid import generate_new_uuid

from dte_platform import __version__

_M = TypeVar("_M")

#: identifies this code as the producer of every event and facet
PRODUCER = f"https://github.com/dte-platform/dte-platform/tree/v{__version__}"

INTEGRATION = "DTE"
JOB_TYPE = "ASSET"
PROCESSING_TYPE = "BATCH"
PROGRAMMING_LANGUAGE = "python"
#: column metric names the dataQualityMetrics facets define, and whether the schema wants an integer
METRIC_KEYS: Mapping[str, bool] = {
    "nullCount": True,
    "distinctCount": True,
    "sum": False,
    "count": False,
    "min": False,
    "max": False,
}


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    description: str | None = None


@dataclass(frozen=True)
class Assertion:
    """One check result; ``name`` classifies the test (``not_null``, ``email__format``...)."""

    name: str
    success: bool
    column: str | None = None


@dataclass(frozen=True)
class ColumnSource:
    """An input column feeding an output column."""

    namespace: str
    name: str
    field: str


@dataclass(frozen=True)
class Dataset:
    namespace: str
    name: str
    columns: tuple[Column, ...] = ()
    description: str | None = None
    #: owner identifiers, e.g. ``team:shop_data`` or ``shop-data@example.com``
    owners: tuple[str, ...] = ()
    #: e.g. ``duckdb:///abs/path/warehouse.duckdb``
    data_source: str | None = None
    row_count: int | None = None
    #: column -> {"nullCount": .., "distinctCount": .., "min": .., "max": ..}
    column_metrics: Mapping[str, Mapping[str, int | float]] = field(default_factory=dict, hash=False)
    assertions: tuple[Assertion, ...] = ()
    #: output column -> the input columns it is computed from
    column_lineage: Mapping[str, tuple[ColumnSource, ...]] = field(default_factory=dict, hash=False)


@dataclass(frozen=True)
class Run:
    #: a UUID string (``new_run_id()``, or the orchestrator's own run id when it is a UUID)
    run_id: str
    job_namespace: str
    job_name: str
    #: timezone-aware; passed in, never read here
    event_time: datetime
    job_description: str | None = None
    parent_run_id: str | None = None
    parent_job_namespace: str | None = None
    parent_job_name: str | None = None
    #: e.g. the span of a daily partition (start included, end excluded)
    nominal_start: datetime | None = None
    nominal_end: datetime | None = None


def new_run_id() -> str:
    """A fresh run id: a UUIDv7 from the OpenLineage client (time-ordered, reads the clock when called)."""
    return str(generate_new_uuid())


def start_event(run: Run, inputs: Sequence[Dataset], outputs: Sequence[Dataset]) -> dict[str, Any]:
    return _event(RunState.START, run, inputs, outputs, {})


def complete_event(run: Run, inputs: Sequence[Dataset], outputs: Sequence[Dataset]) -> dict[str, Any]:
    return _event(RunState.COMPLETE, run, inputs, outputs, {})


def fail_event(
    run: Run,
    inputs: Sequence[Dataset],
    outputs: Sequence[Dataset],
    message: str,
    stack_trace: str | None = None,
) -> dict[str, Any]:
    error = error_message_run.ErrorMessageRunFacet(
        message=message, programmingLanguage=PROGRAMMING_LANGUAGE, stackTrace=stack_trace, producer=PRODUCER
    )
    return _event(RunState.FAIL, run, inputs, outputs, {"errorMessage": error})


def check_event(run: Run, checked: Sequence[Dataset]) -> dict[str, Any]:
    """COMPLETE event of a check run that read ``checked`` (their assertions and metrics go on inputs).

    Give the check its own job name and the checked asset's run as parent, so the asset's lineage
    keeps no self-loop and the checks still hang off the run that produced the data.
    """
    return _event(RunState.COMPLETE, run, checked, (), {})


def _event(
    state: RunState,
    run: Run,
    inputs: Sequence[Dataset],
    outputs: Sequence[Dataset],
    extra_run_facets: Mapping[str, RunFacet],
) -> dict[str, Any]:
    event = RunEvent(
        eventType=state,
        eventTime=_iso(run.event_time, "event_time"),
        run=OLRun(runId=run.run_id, facets={**_run_facets(run), **extra_run_facets}),
        job=Job(namespace=run.job_namespace, name=run.job_name, facets=_job_facets(run)),
        inputs=[_input(ds) for ds in inputs],
        outputs=[_output(ds) for ds in outputs],
        producer=PRODUCER,
    )
    return Serde.to_dict(event)


def _iso(value: datetime, what: str) -> str:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware, got {value.isoformat()}")
    return value.isoformat()


# -- run and job ---------------------------------------------------------------------------------------


def _run_facets(run: Run) -> dict[str, RunFacet]:
    facets: dict[str, RunFacet] = {}
    parent = _parent_facet(run)
    if parent is not None:
        facets["parent"] = parent
    nominal = _nominal_time_facet(run)
    if nominal is not None:
        facets["nominalTime"] = nominal
    return facets


def _parent_facet(run: Run) -> parent_run.ParentRunFacet | None:
    given = (run.parent_run_id, run.parent_job_namespace, run.parent_job_name)
    if all(value is None for value in given):
        return None
    if run.parent_run_id is None or run.parent_job_namespace is None or run.parent_job_name is None:
        raise ValueError("a parent needs parent_run_id, parent_job_namespace and parent_job_name together")
    return parent_run.ParentRunFacet(
        run=parent_run.Run(runId=run.parent_run_id),
        job=parent_run.Job(namespace=run.parent_job_namespace, name=run.parent_job_name),
        producer=PRODUCER,
    )


def _nominal_time_facet(run: Run) -> nominal_time_run.NominalTimeRunFacet | None:
    if run.nominal_start is None:
        if run.nominal_end is not None:
            raise ValueError("nominal_end needs nominal_start")
        return None
    end = None if run.nominal_end is None else _iso(run.nominal_end, "nominal_end")
    return nominal_time_run.NominalTimeRunFacet(
        nominalStartTime=_iso(run.nominal_start, "nominal_start"), nominalEndTime=end, producer=PRODUCER
    )


def _job_facets(run: Run) -> dict[str, JobFacet]:
    facets: dict[str, JobFacet] = {
        "jobType": job_type_job.JobTypeJobFacet(
            processingType=PROCESSING_TYPE, integration=INTEGRATION, jobType=JOB_TYPE, producer=PRODUCER
        )
    }
    if run.job_description:
        facets["documentation"] = documentation_job.DocumentationJobFacet(
            description=run.job_description, producer=PRODUCER
        )
    return facets


# -- datasets ------------------------------------------------------------------------------------------


def _input(ds: Dataset) -> InputDataset:
    # column lineage says how a dataset was produced: the run that produced it reported it already
    input_facets: dict[str, InputDatasetFacet] = {}
    if ds.row_count is not None or ds.column_metrics:
        input_facets["dataQualityMetrics"] = _input_metrics_facet(ds)
    if ds.assertions:
        input_facets["dataQualityAssertions"] = _assertions_facet(ds.assertions)
    return InputDataset(
        namespace=ds.namespace, name=ds.name, facets=_common_facets(ds), inputFacets=input_facets
    )


def _output(ds: Dataset) -> OutputDataset:
    if ds.assertions:
        raise ValueError(
            f"output {ds.name}: dataQualityAssertions is an input facet in OpenLineage 2-0-2; "
            "report the checks with check_event()"
        )
    facets = _common_facets(ds)
    if ds.column_lineage:
        facets["columnLineage"] = _column_lineage_facet(ds.column_lineage)
    if ds.row_count is not None or ds.column_metrics:
        facets["dataQualityMetrics"] = _metrics_facet(ds)
    output_facets: dict[str, OutputDatasetFacet] = {}
    if ds.row_count is not None:
        output_facets["outputStatistics"] = (
            output_statistics_output_dataset.OutputStatisticsOutputDatasetFacet(
                rowCount=ds.row_count, producer=PRODUCER
            )
        )
    return OutputDataset(namespace=ds.namespace, name=ds.name, facets=facets, outputFacets=output_facets)


def _common_facets(ds: Dataset) -> dict[str, DatasetFacet]:
    facets: dict[str, DatasetFacet] = {}
    if ds.columns:
        facets["schema"] = _schema_facet(ds.columns)
    if ds.data_source:
        facets["dataSource"] = datasource_dataset.DatasourceDatasetFacet(
            name=ds.namespace, uri=ds.data_source, producer=PRODUCER
        )
    if ds.description:
        facets["documentation"] = documentation_dataset.DocumentationDatasetFacet(
            description=ds.description, producer=PRODUCER
        )
    if ds.owners:
        owners = [ownership_dataset.Owner(name=owner) for owner in ds.owners]
        facets["ownership"] = ownership_dataset.OwnershipDatasetFacet(owners=owners, producer=PRODUCER)
    return facets


def _schema_facet(columns: Sequence[Column]) -> schema_dataset.SchemaDatasetFacet:
    fields = [
        schema_dataset.SchemaDatasetFacetFields(
            name=col.name, type=col.type, description=col.description, ordinal_position=i, fields=None
        )
        for i, col in enumerate(columns, start=1)
    ]
    return schema_dataset.SchemaDatasetFacet(fields=fields, producer=PRODUCER)


def _column_lineage_facet(
    lineage: Mapping[str, Sequence[ColumnSource]],
) -> column_lineage_dataset.ColumnLineageDatasetFacet:
    fields = {
        column: column_lineage_dataset.Fields(inputFields=[_input_field(src) for src in sources])
        for column, sources in lineage.items()
    }
    return column_lineage_dataset.ColumnLineageDatasetFacet(fields=fields, dataset=None, producer=PRODUCER)


def _input_field(source: ColumnSource) -> column_lineage_dataset.InputField:
    return column_lineage_dataset.InputField(
        namespace=source.namespace, name=source.name, field=source.field, transformations=None
    )


def _assertions_facet(
    assertions: Sequence[Assertion],
) -> data_quality_assertions_dataset.DataQualityAssertionsDatasetFacet:
    items = [
        data_quality_assertions_dataset.Assertion(
            assertion=a.name, success=a.success, column=a.column, params=None
        )
        for a in assertions
    ]
    return data_quality_assertions_dataset.DataQualityAssertionsDatasetFacet(
        assertions=items, producer=PRODUCER
    )


# -- data quality metrics ------------------------------------------------------------------------------


def _metrics_facet(ds: Dataset) -> data_quality_metrics_dataset.DataQualityMetricsDatasetFacet:
    make = data_quality_metrics_dataset.ColumnMetrics
    columns = {col: _column_metrics(make, col, values) for col, values in ds.column_metrics.items()}
    return data_quality_metrics_dataset.DataQualityMetricsDatasetFacet(
        columnMetrics=columns, rowCount=ds.row_count, producer=PRODUCER
    )


def _input_metrics_facet(
    ds: Dataset,
) -> data_quality_metrics_input_dataset.DataQualityMetricsInputDatasetFacet:
    make = data_quality_metrics_input_dataset.ColumnMetrics
    columns = {col: _column_metrics(make, col, values) for col, values in ds.column_metrics.items()}
    return data_quality_metrics_input_dataset.DataQualityMetricsInputDatasetFacet(
        columnMetrics=columns, rowCount=ds.row_count, producer=PRODUCER
    )


def _column_metrics(make: Callable[..., _M], column: str, values: Mapping[str, int | float]) -> _M:
    """One column's metrics; the input and dataset facets have separate but identical classes."""
    unknown = sorted(set(values) - set(METRIC_KEYS))
    if unknown:
        raise ValueError(f"column {column}: unknown metrics {unknown}, expected some of {list(METRIC_KEYS)}")
    typed = {key: int(value) if METRIC_KEYS[key] else value for key, value in values.items()}
    return make(**typed, quantiles=None)

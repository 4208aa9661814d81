"""OpenLineage events for a source -> golden -> mart chain, checked against the official 2-0-2 schemas.

The schemas in tests/fixtures/openlineage are verbatim copies (see SOURCE.txt there); facet schemas
reference the core OpenLineage.json by absolute URL, so a ``referencing.Registry`` keyed by each file's
``$id`` resolves everything offline. No disk writes, no network.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource

from dte_platform.lineage.events import (
    PRODUCER,
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

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "openlineage"
CORE_ID = "https://openlineage.io/spec/2-0-2/OpenLineage.json"
#: facet schemas the installed client stamps with a newer version than the pinned 2-0-2 snapshot holds;
#: they are validated against the snapshot's version of the same facet (the newer one only adds fields)
NEWER_IN_CLIENT = {"DataQualityMetricsDatasetFacet": "1-0-1"}

NS = "duckdb://warehouse"
WAREHOUSE = "duckdb:///srv/dte/data/warehouse.duckdb"
T0 = dt.datetime(2026, 11, 2, 6, 0, tzinfo=dt.UTC)
DAY_START = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
DAY_END = dt.datetime(2026, 11, 2, tzinfo=dt.UTC)
PIPELINE_RUN = "0190a8f0-0000-7000-8000-000000000001"
INGEST_RUN = "0190a8f0-0000-7000-8000-000000000002"
GOLDEN_RUN = "0190a8f0-0000-7000-8000-000000000003"
MART_RUN = "0190a8f0-0000-7000-8000-000000000004"
CHECK_RUN = "0190a8f0-0000-7000-8000-000000000005"


# -- the chain -----------------------------------------------------------------------------------------

LANDING = Dataset(namespace="file", name="/srv/dte/data/landing/shop/orders/2026-11-01.csv")
RAW_ORDERS = Dataset(
    namespace=NS,
    name="shop.orders",
    columns=(
        Column("order_id", "BIGINT", "order key"),
        Column("email", "VARCHAR"),
        Column("amount", "DOUBLE"),
    ),
    description="Orders as landed, typed and checked against the shop contract.",
    owners=("team:shop_data", "shop-data@example.com"),
    data_source=WAREHOUSE,
    row_count=3,
)
GOLDEN = Dataset(
    namespace=NS,
    name="golden.customers",
    columns=(Column("customer_id", "VARCHAR"), Column("email", "VARCHAR")),
    owners=("team:mdm",),
    data_source=WAREHOUSE,
    row_count=2,
    column_metrics={"email": {"nullCount": 0, "distinctCount": 2}},
    column_lineage={"email": (ColumnSource(NS, "shop.orders", "email"),)},
)
MART = Dataset(
    namespace=NS,
    name="mart.customer_revenue",
    columns=(Column("customer_id", "VARCHAR"), Column("revenue", "DOUBLE")),
    description="Revenue per golden customer.",
    owners=("team:finance",),
    data_source=WAREHOUSE,
    row_count=2,
    column_metrics={"revenue": {"nullCount": 0, "distinctCount": 2, "min": 10.5, "max": 50}},
    column_lineage={
        "customer_id": (ColumnSource(NS, "golden.customers", "customer_id"),),
        "revenue": (ColumnSource(NS, "shop.orders", "amount"), ColumnSource(NS, "shop.orders", "email")),
    },
)
MART_CHECKED = Dataset(
    namespace=NS,
    name="mart.customer_revenue",
    row_count=2,
    column_metrics={"revenue": {"nullCount": 0}},
    assertions=(
        Assertion("not_null", True, "customer_id"),
        Assertion("revenue__min", False, "revenue"),
        Assertion("row_count", True),
    ),
)


def _run(run_id: str, job: str, minutes: int, **extra: Any) -> Run:
    return Run(
        run_id=run_id,
        job_namespace="dte",
        job_name=job,
        event_time=T0 + dt.timedelta(minutes=minutes),
        parent_run_id=PIPELINE_RUN,
        parent_job_namespace="dte",
        parent_job_name="daily_pipeline",
        nominal_start=DAY_START,
        nominal_end=DAY_END,
        **extra,
    )


def chain_events() -> dict[str, dict[str, Any]]:
    ingest = _run(INGEST_RUN, "shop.orders", 0, job_description="Land and check shop orders.")
    golden = _run(GOLDEN_RUN, "golden.customers", 5)
    mart = _run(MART_RUN, "mart.customer_revenue", 10, job_description="Build the revenue mart.")
    check = Run(
        run_id=CHECK_RUN,
        job_namespace="dte",
        job_name="mart.customer_revenue.checks",
        event_time=T0 + dt.timedelta(minutes=12),
        parent_run_id=MART_RUN,
        parent_job_namespace="dte",
        parent_job_name="mart.customer_revenue",
    )
    schema_only = Dataset(NS, "mart.customer_revenue", columns=MART.columns, data_source=WAREHOUSE)
    return {
        "ingest START": start_event(
            ingest, [LANDING], [Dataset(NS, "shop.orders", columns=RAW_ORDERS.columns)]
        ),
        "ingest COMPLETE": complete_event(ingest, [LANDING], [RAW_ORDERS]),
        "golden START": start_event(golden, [RAW_ORDERS], []),
        "golden COMPLETE": complete_event(golden, [RAW_ORDERS], [GOLDEN]),
        "mart START": start_event(mart, [GOLDEN, RAW_ORDERS], [schema_only]),
        "mart COMPLETE": complete_event(mart, [GOLDEN, RAW_ORDERS], [MART]),
        "mart FAIL": fail_event(
            mart, [GOLDEN], [schema_only], "Binder Error: column revenue not found", "Traceback ..."
        ),
        "mart checks": check_event(check, [MART_CHECKED]),
    }


EVENTS = chain_events()


# -- schema plumbing -----------------------------------------------------------------------------------


@cache
def schemas() -> dict[str, dict[str, Any]]:
    """Fixture schemas by file stem (which is also the facet's definition name)."""
    return {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in sorted(FIXTURES.glob("*.json"))}


@cache
def registry() -> Registry:
    resources = [(s["$id"], Resource.from_contents(s)) for s in schemas().values()]
    return Registry().with_resources(resources)


def validator(ref: str) -> Draft202012Validator:
    return Draft202012Validator(
        {"$ref": ref}, registry=registry(), format_checker=Draft202012Validator.FORMAT_CHECKER
    )


def assert_valid(instance: Any, ref: str) -> None:
    errors = sorted(validator(ref).iter_errors(instance), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors)


def facets_of(event: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(base facet type the slot requires, facet key, facet) for every facet in the event."""
    slots = [("RunFacet", event["run"].get("facets", {})), ("JobFacet", event["job"].get("facets", {}))]
    for ds in event.get("inputs", []):
        slots += [("DatasetFacet", ds.get("facets", {})), ("InputDatasetFacet", ds.get("inputFacets", {}))]
    for ds in event.get("outputs", []):
        slots += [("DatasetFacet", ds.get("facets", {})), ("OutputDatasetFacet", ds.get("outputFacets", {}))]
    for base, facets in slots:
        for key, facet in facets.items():
            yield base, key, facet


ALL_FACETS = [
    pytest.param(base, key, facet, id=f"{name}:{key}")
    for name, event in EVENTS.items()
    for base, key, facet in facets_of(event)
]


def facet_definition(facet: dict[str, Any]) -> tuple[str, str]:
    """(definition name, version) from the ``_schemaURL`` the library set."""
    url, _, fragment = facet["_schemaURL"].partition("#")
    name = fragment.rsplit("/", 1)[-1]
    assert url.endswith(f"/{name}.json") and fragment == f"/$defs/{name}", facet["_schemaURL"]
    return name, url.split("/")[-2]


def output(event: dict[str, Any], name: str) -> dict[str, Any]:
    return next(ds for ds in event["outputs"] if ds["name"] == name)


def single_input(event: dict[str, Any], name: str) -> dict[str, Any]:
    return next(ds for ds in event["inputs"] if ds["name"] == name)


# -- the events are spec-valid -------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(EVENTS))
def test_every_event_is_a_valid_run_event(name: str) -> None:
    event = EVENTS[name]
    assert_valid(event, f"{CORE_ID}#/$defs/RunEvent")
    assert_valid(event, CORE_ID)  # the document's own oneOf: exactly one event kind
    assert event["schemaURL"] == f"{CORE_ID}#/$defs/RunEvent"
    assert event["producer"] == PRODUCER
    assert dt.datetime.fromisoformat(event["eventTime"]).tzinfo is not None


@pytest.mark.parametrize(("base", "key", "facet"), ALL_FACETS)
def test_every_facet_matches_its_own_schema_and_slot(base: str, key: str, facet: dict[str, Any]) -> None:
    name, version = facet_definition(facet)
    schema = schemas()[name]
    definition = schema["$defs"][name]
    assert schema["properties"][key] == {"$ref": f"#/$defs/{name}"}, f"{key} is not the key of {name}"
    assert definition["allOf"][0] == {"$ref": f"{CORE_ID}#/$defs/{base}"}, f"{name} does not belong in {base}"
    assert_valid(facet, f"{schema['$id']}#/$defs/{name}")
    assert facet["_producer"] == PRODUCER
    pinned = schema["$id"].split("/")[-2]
    assert version == pinned or NEWER_IN_CLIENT.get(name) == version, f"{name} {version} vs fixture {pinned}"


def test_the_chain_uses_every_facet_of_the_brief() -> None:
    used = {(base, key) for event in EVENTS.values() for base, key, _ in facets_of(event)}
    assert used == {
        ("RunFacet", "parent"),
        ("RunFacet", "nominalTime"),
        ("RunFacet", "errorMessage"),
        ("JobFacet", "jobType"),
        ("JobFacet", "documentation"),
        ("DatasetFacet", "schema"),
        ("DatasetFacet", "dataSource"),
        ("DatasetFacet", "documentation"),
        ("DatasetFacet", "ownership"),
        ("DatasetFacet", "columnLineage"),
        ("DatasetFacet", "dataQualityMetrics"),
        ("OutputDatasetFacet", "outputStatistics"),
        ("InputDatasetFacet", "dataQualityMetrics"),
        ("InputDatasetFacet", "dataQualityAssertions"),
    }


def test_events_are_plain_json() -> None:
    for event in EVENTS.values():
        assert json.loads(json.dumps(event)) == event


def test_same_values_give_the_same_event() -> None:
    assert chain_events() == EVENTS


# -- the facets carry what was put in ------------------------------------------------------------------


def test_run_and_job_facets() -> None:
    event = EVENTS["mart COMPLETE"]
    assert event["eventType"] == "COMPLETE"
    assert event["run"]["runId"] == MART_RUN
    parent = event["run"]["facets"]["parent"]
    assert parent["run"]["runId"] == PIPELINE_RUN
    assert (parent["job"]["namespace"], parent["job"]["name"]) == ("dte", "daily_pipeline")
    nominal = event["run"]["facets"]["nominalTime"]
    assert dt.datetime.fromisoformat(nominal["nominalStartTime"]) == DAY_START
    assert dt.datetime.fromisoformat(nominal["nominalEndTime"]) == DAY_END
    job_type = event["job"]["facets"]["jobType"]
    assert job_type | {"_producer": None, "_schemaURL": None} == {
        "_producer": None,
        "_schemaURL": None,
        "processingType": "BATCH",
        "integration": "DTE",
        "jobType": "ASSET",
    }
    assert event["job"]["facets"]["documentation"]["description"] == "Build the revenue mart."
    assert "errorMessage" not in event["run"]["facets"]


def test_fail_event_carries_the_error() -> None:
    event = EVENTS["mart FAIL"]
    assert event["eventType"] == "FAIL"
    error = event["run"]["facets"]["errorMessage"]
    assert error["message"] == "Binder Error: column revenue not found"
    assert error["programmingLanguage"] == "python"
    assert error["stackTrace"] == "Traceback ..."


def test_output_statistics_metrics_and_lineage() -> None:
    mart = output(EVENTS["mart COMPLETE"], "mart.customer_revenue")
    assert mart["outputFacets"]["outputStatistics"]["rowCount"] == 2
    metrics = mart["facets"]["dataQualityMetrics"]
    assert metrics["rowCount"] == 2
    assert metrics["columnMetrics"] == {
        "revenue": {"nullCount": 0, "distinctCount": 2, "min": 10.5, "max": 50}
    }
    fields = mart["facets"]["columnLineage"]["fields"]
    assert fields["customer_id"]["inputFields"] == [
        {"namespace": NS, "name": "golden.customers", "field": "customer_id"}
    ]
    assert [f["field"] for f in fields["revenue"]["inputFields"]] == ["amount", "email"]
    assert {f["name"] for f in fields["revenue"]["inputFields"]} == {"shop.orders"}


def test_dataset_description_facets() -> None:
    raw = output(EVENTS["ingest COMPLETE"], "shop.orders")["facets"]
    assert [(f["name"], f["type"], f.get("ordinal_position")) for f in raw["schema"]["fields"]] == [
        ("order_id", "BIGINT", 1),
        ("email", "VARCHAR", 2),
        ("amount", "DOUBLE", 3),
    ]
    assert raw["schema"]["fields"][0]["description"] == "order key"
    assert raw["dataSource"]["uri"] == WAREHOUSE
    assert raw["documentation"]["description"].startswith("Orders as landed")
    assert [o["name"] for o in raw["ownership"]["owners"]] == ["team:shop_data", "shop-data@example.com"]


def test_checks_report_assertions_on_the_checked_dataset_as_input() -> None:
    event = EVENTS["mart checks"]
    assert event["eventType"] == "COMPLETE"
    assert event["outputs"] == []
    assert event["run"]["facets"]["parent"]["run"]["runId"] == MART_RUN
    checked = single_input(event, "mart.customer_revenue")["inputFacets"]
    assertions = checked["dataQualityAssertions"]["assertions"]
    assert [(a["assertion"], a["success"], a.get("column")) for a in assertions] == [
        ("not_null", True, "customer_id"),
        ("revenue__min", False, "revenue"),
        ("row_count", True, None),
    ]
    assert checked["dataQualityMetrics"]["rowCount"] == 2
    assert checked["dataQualityMetrics"]["columnMetrics"] == {"revenue": {"nullCount": 0}}


def test_inputs_carry_metrics_as_input_facets_only() -> None:
    raw_in = single_input(EVENTS["golden COMPLETE"], "shop.orders")
    assert raw_in["inputFacets"]["dataQualityMetrics"] == {
        "_producer": PRODUCER,
        "_schemaURL": raw_in["inputFacets"]["dataQualityMetrics"]["_schemaURL"],
        "columnMetrics": {},
        "rowCount": 3,
    }
    assert "outputStatistics" not in raw_in.get("inputFacets", {})
    assert "dataQualityMetrics" not in raw_in["facets"]


def test_an_output_reused_as_input_leaves_its_column_lineage_behind() -> None:
    golden_in = single_input(EVENTS["mart COMPLETE"], "golden.customers")
    assert "columnLineage" not in golden_in["facets"]
    assert golden_in["inputFacets"]["dataQualityMetrics"]["columnMetrics"]["email"]["distinctCount"] == 2


# -- absent data, bad data -----------------------------------------------------------------------------


def test_absent_data_gives_no_facets() -> None:
    run = Run(run_id=MART_RUN, job_namespace="dte", job_name="bare", event_time=T0)
    event = complete_event(run, [Dataset(NS, "a")], [Dataset(NS, "b")])
    assert_valid(event, f"{CORE_ID}#/$defs/RunEvent")
    assert set(event["run"].get("facets", {})) == set()
    assert set(event["job"]["facets"]) == {"jobType"}
    assert not event["inputs"][0].get("facets") and not event["inputs"][0].get("inputFacets")
    assert not event["outputs"][0].get("facets") and not event["outputs"][0].get("outputFacets")


@pytest.mark.parametrize(
    ("run_changes", "inputs", "outputs", "message"),
    [
        ({"event_time": dt.datetime(2026, 11, 2, 6)}, [], [], "timezone-aware"),
        ({"nominal_start": dt.datetime(2026, 11, 1)}, [], [], "timezone-aware"),
        ({"nominal_end": DAY_END}, [], [], "nominal_end needs nominal_start"),
        ({"parent_run_id": PIPELINE_RUN}, [], [], "parent"),
        ({}, [], [MART_CHECKED], "check_event"),
        ({}, [], [Dataset(NS, "x", column_metrics={"c": {"median": 1}})], "unknown metrics"),
        ({"run_id": "not-a-uuid"}, [], [], "hexadecimal UUID"),
    ],
)
def test_values_the_spec_cannot_carry_are_rejected(
    run_changes: dict[str, Any], inputs: list[Dataset], outputs: list[Dataset], message: str
) -> None:
    fields: dict[str, Any] = {
        "run_id": MART_RUN,
        "job_namespace": "dte",
        "job_name": "x",
        "event_time": T0,
    } | run_changes
    with pytest.raises(ValueError, match=message):
        complete_event(Run(**fields), inputs, outputs)


def test_new_run_ids_are_distinct_uuids() -> None:
    ids = {new_run_id() for _ in range(100)}
    assert len(ids) == 100
    assert {uuid.UUID(i).version for i in ids} == {7}

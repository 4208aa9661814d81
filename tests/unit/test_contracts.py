"""Contract validation: the official schema, our extension, readable field paths."""

from __future__ import annotations

from pathlib import Path

import pytest

from dte_platform.contracts import contract_from_document, readable_path
from dte_platform.errors import DefinitionError
from tests.helpers import contract, orders_contract, source_dte

FILE = Path("assets/sources/shop/orders.odcs.yaml")


def load(document: dict) -> object:
    return contract_from_document(document, FILE, layer="sources")


def error_of(document: dict) -> DefinitionError:
    with pytest.raises(DefinitionError) as caught:
        load(document)
    return caught.value


def test_valid_contract_builds_typed_model() -> None:
    loaded = load(orders_contract())
    dataset = loaded.datasets[0]
    assert dataset.name == "orders"
    assert dataset.primary_key == ("order_id",)
    assert dataset.column("order_id").required  # a primary key is required
    assert dataset.dte.source.path == "data/landing/shop/orders/{date}.csv"
    assert dataset.dte.risk == "medium"


def test_wrong_logical_type_names_file_and_readable_field() -> None:
    document = orders_contract()
    document["schema"][0]["properties"][0]["logicalType"] = "int"
    error = error_of(document)
    assert error.file.endswith("orders.odcs.yaml")
    assert error.field == "schema.orders.properties.order_id.logicalType"
    assert "'int' is not one of" in error.message


def test_missing_required_top_level_field() -> None:
    document = orders_contract()
    del document["status"]
    error = error_of(document)
    assert "'status' is a required property" in str(error)


def test_unknown_dte_key_is_rejected_with_its_path() -> None:
    document = orders_contract(dte={**source_dte("data/x/{date}.csv"), "riks": "high"})
    error = error_of(document)
    assert "customProperties.dte.value" in error.field
    assert "riks" in error.message


def test_bad_risk_value() -> None:
    error = error_of(orders_contract(dte={**source_dte("data/x/{date}.csv"), "risk": "extreme"}))
    assert error.field.endswith("dte.value.risk")


def test_landing_path_must_stay_in_project() -> None:
    error = error_of(orders_contract(dte=source_dte("../outside/{date}.csv")))
    assert error.field.endswith("dte.value.source.path")
    assert "inside the project" in error.message


def test_partitioned_path_needs_date_placeholder() -> None:
    error = error_of(orders_contract(dte=source_dte("data/orders.csv")))
    assert "{date}" in error.message


def test_domain_must_be_an_identifier_for_project_contracts() -> None:
    error = error_of(contract(domain="shop; DROP TABLE x", properties=[{"name": "a"}]))
    assert error.field == "domain"


def test_duplicate_property_names_are_rejected() -> None:
    error = error_of(contract(properties=[{"name": "a"}, {"name": "a"}]))
    assert error.field == "schema.orders.properties.a"


def test_readable_path_uses_names_and_falls_back_to_index() -> None:
    document = {"schema": [{"name": "orders", "properties": [{"name": "id"}, {}]}]}
    assert readable_path(document, ["schema", 0, "properties", 0, "logicalType"]) == (
        "schema.orders.properties.id.logicalType"
    )
    assert readable_path(document, ["schema", 0, "properties", 1]) == "schema.orders.properties[1]"

"""ODCS v3.0.x, v3.1.0 and v3.2.0 contracts: each validated against its own version's schema, and
the constructs that changed between versions executed in their own version's form."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from dte_platform.compiler import compile_dataset
from dte_platform.contracts import contract_from_document
from dte_platform.errors import DefinitionError
from tests.conftest import ODCS_EXAMPLES
from tests.helpers import contract, source_dte

FILE = Path("assets/sources/d/t.odcs.yaml")
PROPERTIES = [
    {"name": "id", "logicalType": "integer", "primaryKey": True},
    {"name": "unit", "logicalType": "string"},
]


def _v30(quality: list[dict], **top: object) -> dict:
    document = contract(name="t", domain="d", properties=PROPERTIES, dte=source_dte("data/t/{date}.csv"))
    document["apiVersion"] = "v3.0.2"
    document["schema"][0]["quality"] = quality
    document.update(top)
    return document


def _rules(document: dict) -> dict:
    loaded = contract_from_document(document, FILE, layer="sources")
    compiled = compile_dataset(loaded, loaded.datasets[0])
    return {r.id: r for r in compiled.rules if r.kind == "metric"}


def test_a_v30_contract_with_library_rules_and_a_team_list_loads_as_v30() -> None:
    document = _v30(
        [
            {"type": "library", "rule": "duplicateCount", "mustBeLessThan": 10},
            {"type": "library", "rule": "rowCount", "mustBeBetween": [1, 100]},
        ],
        team=[{"username": "owner@example.com", "role": "Data Owner"}],
    )
    loaded = contract_from_document(document, FILE, layer="sources")
    assert (loaded.api_version, loaded.read_as, loaded.notices) == ("v3.0.2", "v3.0.2", ())
    assert loaded.owners == ("owner@example.com",)
    rules = _rules(document)
    assert rules["duplicate_values"].params["metric"] == "duplicateValues"
    assert rules["duplicate_values"].threshold.describe() == "< 10"
    assert rules["row_count"].params["metric"] == "rowCount"


def test_v30_rules_without_an_operator_mean_none_allowed() -> None:
    document = _v30([])
    document["schema"][0]["properties"][1]["quality"] = [
        {"type": "library", "rule": "validValues", "validValues": ["kg", "lb"]},
        {"type": "library", "rule": "nullCheck"},
    ]
    rules = _rules(document)
    valid = rules["unit__invalid_values"]
    assert valid.params["metric"] == "invalidValues"
    assert valid.params["arguments"] == {"validValues": ["kg", "lb"]}
    assert valid.threshold.describe() == "= 0"
    assert rules["unit__null_values"].params["metric"] == "nullValues"


def test_a_v31_construct_in_a_v30_contract_is_read_as_v31_and_said_so() -> None:
    document = _v30([{"metric": "rowCount", "mustBeGreaterThan": 0}])
    loaded = contract_from_document(document, FILE, layer="sources")
    assert loaded.read_as == "v3.1.0"
    assert "apiVersion v3.0.2: read as v3.1.0" in loaded.notices[0]


def test_a_v31_contract_that_breaks_its_schema_is_refused_not_read_as_v32() -> None:
    document = contract(name="t", domain="d", properties=PROPERTIES, dte=source_dte("data/t/{date}.csv"))
    del document["status"]  # optional in v3.2.0, required in v3.1.0
    with pytest.raises(DefinitionError, match="status"):
        contract_from_document(document, FILE, layer="sources")


def test_a_v32_contract_with_an_enum_quarantines_values_outside_it() -> None:
    document = contract(name="t", domain="d", properties=PROPERTIES, dte=source_dte("data/t/{date}.csv"))
    document["apiVersion"] = "v3.2.0"
    del document["status"]
    document["schema"][0]["properties"][1]["enum"] = [{"value": "kg", "label": "kilograms"}, {"value": "lb"}]
    loaded = contract_from_document(document, FILE, layer="sources")
    assert loaded.read_as == "v3.2.0"
    compiled = compile_dataset(loaded, loaded.datasets[0])
    enum = compiled.rule("unit__enum")
    assert (enum.kind, enum.params["values"]) == ("enum", ["kg", "lb"])


def test_unsupported_versions_are_refused_naming_the_versions_read() -> None:
    document = contract(name="t", domain="d", properties=PROPERTIES)
    document["apiVersion"] = "v2.2.2"
    with pytest.raises(DefinitionError) as caught:
        contract_from_document(document, FILE)
    assert caught.value.field == "apiVersion"
    assert "v3.0.0" in caught.value.message and "v3.2.0" in caught.value.message


def test_the_contract_datacontract_init_writes_loads() -> None:
    text = (ODCS_EXAMPLES / "init-template-v3.2.0.odcs.yaml").read_text(encoding="utf-8")
    loaded = contract_from_document(yaml.safe_load(text), FILE)
    assert loaded.read_as == "v3.2.0"
    assert loaded.status == "draft"

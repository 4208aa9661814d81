"""Contract -> rule list: ids, scopes, severities, operators and units."""

from __future__ import annotations

from pathlib import Path

import pytest

from dte_platform.compiler import Scope, Severity, Threshold, compile_dataset
from dte_platform.compiler.types import storage_type
from dte_platform.contracts import contract_from_document
from dte_platform.errors import DefinitionError
from tests.helpers import contract, orders_contract, source_dte

FILE = Path("assets/sources/shop/orders.odcs.yaml")


def compiled(document: dict):
    loaded = contract_from_document(document, FILE, layer="sources")
    return compile_dataset(loaded, loaded.datasets[0])


def rules_by_id(document: dict) -> dict:
    return {r.id: r for r in compiled(document).rules}


def test_orders_contract_rule_ids_are_stable_and_scoped() -> None:
    rules = rules_by_id(orders_contract())
    assert list(rules) == [
        "order_id__required",
        "order_id__type",
        "email__format",
        "amount__required",
        "amount__type",
        "amount__minimum",
        "ordered_at__type",
        "primary_key",
        "primary_key_across_partitions",
        "freshness",
        "conservation",
        "unparseable_rows",
        "schema_drift",
        "volume",
        "drift",
        "confidence",
    ]
    assert rules["amount__minimum"].scope is Scope.ROW
    assert rules["primary_key_across_partitions"].scope is Scope.DATASET
    assert rules["amount__minimum"].check_name == "contract__amount__minimum"
    assert rules["conservation"].check_name == "conservation"
    assert rules["schema_drift"].severity is Severity.WARN
    assert compiled(orders_contract()).sensitive_columns == {"email"}


@pytest.mark.parametrize(
    ("options", "rule_id", "params"),
    [
        ({"minimum": 0}, "x__minimum", {"op": ">=", "value": 0}),
        ({"maximum": 10}, "x__maximum", {"op": "<=", "value": 10}),
        ({"exclusiveMinimum": 0}, "x__exclusive_minimum", {"op": ">", "value": 0}),
        ({"exclusiveMaximum": 10}, "x__exclusive_maximum", {"op": "<", "value": 10}),
    ],
)
def test_numeric_bounds(options: dict, rule_id: str, params: dict) -> None:
    rules = rules_by_id(
        contract(properties=[{"name": "x", "logicalType": "number", "logicalTypeOptions": options}])
    )
    assert rules[rule_id].kind == "bound"
    assert {k: rules[rule_id].params[k] for k in params} == params


def test_text_options_become_row_rules() -> None:
    options = {"pattern": "^[A-Z]{2}$", "minLength": 2, "maxLength": 2}
    rules = rules_by_id(
        contract(properties=[{"name": "cc", "logicalType": "string", "logicalTypeOptions": options}])
    )
    assert rules["cc__pattern"].params == {"pattern": "^[A-Z]{2}$"}
    assert rules["cc__min_length"].params == {"op": ">=", "value": 2}
    assert rules["cc__max_length"].params == {"op": "<=", "value": 2}


def test_varchar_length_becomes_max_length_rule() -> None:
    rules = rules_by_id(contract(properties=[{"name": "cc", "physicalType": "varchar(2)"}]))
    assert rules["cc__max_length"].params["value"] == 2


def test_unknown_format_is_reported_not_dropped() -> None:
    options = {"format": "password"}
    result = compiled(
        contract(properties=[{"name": "x", "logicalType": "string", "logicalTypeOptions": options}])
    )
    assert not result.rules
    assert any("format 'password' not enforced" in note for note in result.notes)


def test_integer_format_is_a_range_and_multiple_of_a_rule() -> None:
    options = {"format": "u8", "multipleOf": 5}
    rules = rules_by_id(
        contract(properties=[{"name": "x", "logicalType": "integer", "logicalTypeOptions": options}])
    )
    assert rules["x__format"].params == {"low": 0, "high": 255}
    assert rules["x__multiple_of"].params == {"value": 5}


def test_date_format_drives_the_parser() -> None:
    options = {"format": "dd/MM/yyyy", "minimum": "2020-01-01"}
    result = compiled(
        contract(properties=[{"name": "d", "logicalType": "date", "logicalTypeOptions": options}])
    )
    assert result.columns[0].strptime == "%d/%m/%Y"
    assert result.rule("d__minimum").params["value"] == "2020-01-01"


def test_invalid_regex_fails_at_load_with_field() -> None:
    options = {"pattern": "([a-z"}
    with pytest.raises(DefinitionError) as caught:
        compiled(contract(properties=[{"name": "x", "logicalType": "string", "logicalTypeOptions": options}]))
    assert caught.value.field.startswith("schema.orders.properties.x.logicalTypeOptions")
    assert "pattern" in str(caught.value)


def test_composite_primary_key() -> None:
    properties = [
        {"name": "a", "primaryKey": True, "primaryKeyPosition": 2},
        {"name": "b", "primaryKey": True, "primaryKeyPosition": 1},
    ]
    rules = rules_by_id(contract(properties=properties, dte=source_dte("data/x/{date}.csv")))
    assert rules["primary_key"].columns == ("b", "a")
    assert rules["primary_key"].scope is Scope.ROW
    assert rules["primary_key_across_partitions"].columns == ("b", "a")


def test_built_datasets_check_keys_table_wide_and_skip_type_rules() -> None:
    properties = [{"name": "id", "logicalType": "integer", "primaryKey": True}]
    rules = rules_by_id(contract(properties=properties))
    assert rules["primary_key"].scope is Scope.DATASET
    assert rules["primary_key"].kind == "unique_across"
    assert "id__type" not in rules


@pytest.mark.parametrize("metric", ["nullValues", "missingValues", "duplicateValues"])
@pytest.mark.parametrize("unit", ["rows", "percent"])
def test_library_metrics_are_dataset_rules_with_unit(metric: str, unit: str) -> None:
    quality = [{"metric": metric, "mustBeLessThan": 5, "unit": unit, "severity": "warning"}]
    rules = rules_by_id(contract(properties=[{"name": "x", "quality": quality}]))
    rule = rules[f"x__{metric[0].lower()}{metric[1:].replace('Values', '_values')}"]
    assert rule.scope is Scope.DATASET
    assert rule.severity is Severity.WARN
    assert rule.params["unit"] == unit
    assert rule.threshold == Threshold("mustBeLessThan", 5)


def test_quality_rule_id_and_name_win_over_generated_ids() -> None:
    quality = [
        {"id": "no_nulls", "metric": "nullValues", "mustBe": 0},
        {"name": "Few missing", "metric": "missingValues", "mustBeLessThan": 2},
    ]
    rules = rules_by_id(contract(properties=[{"name": "x", "quality": quality}]))
    assert {"no_nulls", "few_missing"} <= set(rules)


def test_colliding_ids_get_suffixes() -> None:
    quality = [{"metric": "rowCount", "mustBeGreaterThan": 0}, {"metric": "rowCount", "mustBeLessThan": 9}]
    rules = rules_by_id(contract(properties=[{"name": "x"}], quality=quality))
    assert {"row_count", "row_count_2"} <= set(rules)


def test_invalid_values_needs_valid_values_or_pattern() -> None:
    quality = [{"metric": "invalidValues", "mustBe": 0}]
    with pytest.raises(DefinitionError) as caught:
        compiled(contract(properties=[{"name": "x", "quality": quality}]))
    assert caught.value.field.endswith("quality[0].arguments")


def test_text_and_custom_quality_are_not_enforced_notes() -> None:
    quality = [
        {"type": "text", "description": "looks fine"},
        {"type": "custom", "engine": "soda", "implementation": "x"},
    ]
    result = compiled(contract(properties=[{"name": "x"}], quality=quality))
    assert not result.rules
    assert sum("not enforced" in n for n in result.notes) == 2


def test_sla_freshness_rule_and_unknown_sla_notes() -> None:
    sla = [
        {"property": "latency", "value": 4, "unit": "h", "element": "orders.ordered_at"},
        {"property": "retention", "value": 3, "unit": "y"},
    ]
    result = compiled(orders_contract(sla=sla))
    freshness = next(r for r in result.rules if r.kind == "freshness")
    assert freshness.params["max_age_seconds"] == 4 * 3600
    assert freshness.columns == ("ordered_at",)
    assert any("retention" in n for n in result.notes)


@pytest.mark.parametrize(
    ("operator", "operand", "passing", "failing"),
    [
        ("mustBe", 0, 0, 1),
        ("mustNotBe", 0, 1, 0),
        ("mustBeGreaterThan", 5, 6, 5),
        ("mustBeGreaterOrEqualTo", 5, 5, 4.9),
        ("mustBeLessThan", 5, 4, 5),
        ("mustBeLessOrEqualTo", 5, 5, 5.1),
        ("mustBeBetween", [1, 3], 3, 3.5),
        ("mustNotBeBetween", [1, 3], 0, 2),
    ],
)
def test_every_operator(operator: str, operand: object, passing: float, failing: float) -> None:
    threshold = Threshold(operator, operand)
    assert threshold.holds(passing)
    assert not threshold.holds(failing)
    assert not threshold.holds(None)


def test_operator_needs_a_number() -> None:
    quality = [{"metric": "rowCount", "mustBeGreaterThan": 0}]
    document = contract(properties=[{"name": "x"}], quality=quality)
    document["schema"][0]["quality"][0]["mustBeGreaterThan"] = 0  # valid
    assert compiled(document).rules


@pytest.mark.parametrize(
    ("logical", "physical", "duckdb_type"),
    [
        ("integer", None, "BIGINT"),
        ("number", None, "DOUBLE"),
        ("number", "decimal(12,2)", "DECIMAL(12,2)"),
        ("string", "varchar(18)", "VARCHAR"),
        ("timestamp", None, "TIMESTAMPTZ"),
        ("date", "date", "DATE"),
        ("boolean", None, "BOOLEAN"),
        (None, "int", "INTEGER"),
        ("string", "weird type", "VARCHAR"),
    ],
)
def test_storage_types(logical: str | None, physical: str | None, duckdb_type: str) -> None:
    assert storage_type(logical, physical).duckdb_type == duckdb_type

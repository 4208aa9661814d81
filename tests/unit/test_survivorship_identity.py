"""Golden ids stay stable across runs; survivorship picks values by rule with tie-breaks."""

from __future__ import annotations

import datetime as dt

import polars as pl

from dte_platform.canonical.identity import assign, derive_id
from dte_platform.canonical.survivorship import survive
from dte_platform.contracts.model import CanonicalSpec, SurvivorshipRule

EMPTY = pl.DataFrame(schema={"source_system": pl.String, "source_key": pl.String, "golden_id": pl.String})


def clusters(*groups: list[str]) -> pl.DataFrame:
    rows = [(key.split(":")[0], key.split(":")[1], i) for i, group in enumerate(groups) for key in group]
    return pl.DataFrame(
        rows,
        schema={"source_system": pl.String, "source_key": pl.String, "cluster_id": pl.Int64},
        orient="row",
    )


def ids(result) -> dict[str, str]:
    return {f"{s}:{k}": g for s, k, g in result.records.iter_rows()}


def age(previous: pl.DataFrame, order: list[str]) -> dict:
    return {g: (i, g) for i, g in enumerate(order)}


def test_same_input_from_scratch_gives_the_same_ids() -> None:
    first = assign(clusters(["crm:1", "shop:9"], ["crm:2"]), EMPTY, {})
    second = assign(clusters(["shop:9", "crm:1"], ["crm:2"]), EMPTY, {})
    assert ids(first) == ids(second)
    assert ids(first)["crm:1"] == ids(first)["shop:9"] == derive_id("crm", "1")
    assert set(first.events.get_column("event")) == {"new"}


def test_new_record_joining_an_entity_keeps_its_id_even_with_a_smaller_key() -> None:
    before = assign(clusters(["crm:5", "shop:9"]), EMPTY, {})
    after = assign(clusters(["crm:0", "crm:5", "shop:9"]), before.records, {})
    assert ids(after)["crm:0"] == ids(before)["crm:5"]
    assert after.created == []


def test_merge_keeps_the_older_id_and_records_the_merge() -> None:
    before = assign(clusters(["crm:1"], ["crm:2"]), EMPTY, {})
    old, young = ids(before)["crm:2"], ids(before)["crm:1"]
    after = assign(clusters(["crm:1", "crm:2"]), before.records, {old: (0, old), young: (1, young)})
    assert set(ids(after).values()) == {old}
    assert after.events.filter(pl.col("event") == "merge").rows() == [("merge", old, young, 1)]


def test_split_keeps_the_id_with_the_larger_part_and_records_the_split() -> None:
    before = assign(clusters(["crm:1", "crm:2", "crm:3"]), EMPTY, {})
    gid = ids(before)["crm:1"]
    after = assign(clusters(["crm:2", "crm:3"], ["crm:1"]), before.records, {gid: (0, gid)})
    assert ids(after)["crm:2"] == ids(after)["crm:3"] == gid
    assert ids(after)["crm:1"] != gid
    assert after.events.filter(pl.col("event") == "split").rows() == [("split", ids(after)["crm:1"], gid, 1)]


def spec(
    default: str, priority: tuple[str, ...] = ("crm", "shop"), **fields: SurvivorshipRule
) -> CanonicalSpec:
    return CanonicalSpec(
        inputs=(),
        normalize={},
        blocking=(),
        comparisons={},
        survivorship_default=SurvivorshipRule(default, ("most_recent",)),
        survivorship_fields=fields,
        source_priority=priority,
        path="x",
    )


def records() -> pl.DataFrame:
    t = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    return pl.DataFrame(
        {
            "golden_id": ["G1", "G1", "G1", "G2"],
            "source_system": ["shop", "crm", "shop", "crm"],
            "source_key": ["s1", "c1", "s2", "c2"],
            "__recency": [t + dt.timedelta(days=2), t, t + dt.timedelta(days=1), t],
            "email": ["new@x.org", "old@x.org", "new@x.org", None],
            "phone": [None, "+4930", "+4931", None],
            "city": ["Berlin", None, None, "Paris"],
        }
    )


def test_source_priority_then_recency() -> None:
    golden = survive(records(), spec("source_priority"), ["email", "phone", "city"]).rows_by_key(
        "golden_id", named=True
    )
    g1 = golden["G1"][0]
    assert g1["email"] == "old@x.org"  # crm first
    assert g1["phone"] == "+4930"
    assert g1["city"] == "Berlin"  # the only non-null value survives whatever the rule
    assert {p["key"]: p["value"] for p in g1["_provenance"]}["email"] == "crm:c1"
    assert g1["_source_records"] == 3
    assert golden["G2"][0]["email"] is None


def test_most_recent_most_frequent_most_complete() -> None:
    fields = {"phone": SurvivorshipRule("most_complete", ("source_priority",))}
    golden = survive(records(), spec("most_recent", **fields), ["email", "phone", "city"])
    g1 = golden.filter(pl.col("golden_id") == "G1").row(0, named=True)
    assert g1["email"] == "new@x.org"  # shop:s1 is the most recent
    assert g1["phone"] == "+4930"  # crm:c1 and shop:s2 both fill 2 fields; crm has priority
    frequent = survive(records(), spec("most_frequent"), ["email"]).filter(pl.col("golden_id") == "G1")
    assert frequent.get_column("email").to_list() == ["new@x.org"]

"""Survivorship: which source value each golden attribute takes, and from which record.

Rules (named, per attribute, with tie-breaks): ``source_priority`` (order of systems),
``most_recent`` (the record's recency column), ``most_complete`` (records with more filled
fields), ``most_frequent`` (the value most records in the entity agree on). Only non-null values
compete; the last tie-break is always the smallest ``system:key``, so results are deterministic.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import polars as pl

from dte_platform.contracts.model import CanonicalSpec

PROVENANCE = "_provenance"
RECORD_REF = "__record"


def _source_priority(order: Sequence[str]) -> Callable[[str], pl.Expr]:
    ranks = {system: i for i, system in enumerate(order)}
    return lambda field: pl.col("source_system").replace_strict(
        ranks, default=len(ranks), return_dtype=pl.Int64
    )


def _most_recent(field: str) -> pl.Expr:
    return -pl.col("__recency").dt.epoch("us").fill_null(-(2**62))


def _most_complete(field: str) -> pl.Expr:
    return -pl.col("__completeness").cast(pl.Int64)


def _most_frequent(field: str) -> pl.Expr:
    return -pl.len().over("golden_id", field).cast(pl.Int64)


def sort_key(rule: str, spec: CanonicalSpec) -> Callable[[str], pl.Expr]:
    rules: dict[str, Callable[[str], pl.Expr]] = {
        "source_priority": _source_priority(spec.source_priority),
        "most_recent": _most_recent,
        "most_complete": _most_complete,
        "most_frequent": _most_frequent,
    }
    return rules[rule]


#: every rule name survivorship understands (the contract schema lists the same)
RULES = ("source_priority", "most_recent", "most_complete", "most_frequent")


def survive(records: pl.DataFrame, spec: CanonicalSpec, fields: Sequence[str]) -> pl.DataFrame:
    """``records``: golden_id, source_system, source_key, __recency and the display ``fields``.

    Returns one row per golden id with the surviving value of each field, ``_source_records``
    and ``_provenance`` (field -> ``system:key`` of the record it came from).
    """
    base = records.with_columns(
        pl.sum_horizontal([pl.col(f).is_not_null() for f in fields]).alias("__completeness"),
        pl.concat_str([pl.col("source_system"), pl.col("source_key")], separator=":").alias(RECORD_REF),
    )
    golden = base.group_by("golden_id").agg(pl.len().alias("_source_records")).sort("golden_id")
    provenance = []
    for field in fields:
        picked = _pick(base, spec, field)
        golden = golden.join(picked, on="golden_id", how="left")
        provenance.append(pl.struct(pl.lit(field).alias("key"), pl.col(f"__from_{field}").alias("value")))
    golden = golden.with_columns(pl.concat_list(provenance).alias(PROVENANCE) if provenance else pl.lit(None))
    return golden.select("golden_id", *fields, "_source_records", PROVENANCE)


def _pick(base: pl.DataFrame, spec: CanonicalSpec, field: str) -> pl.DataFrame:
    rule = spec.rule_for(field)
    keys = [sort_key(name, spec)(field) for name in (rule.rule, *rule.tie_break)]
    candidates = base.filter(pl.col(field).is_not_null()).with_columns(
        *[key.alias(f"__k{i}") for i, key in enumerate(keys)]
    )
    order = ["golden_id", *[f"__k{i}" for i in range(len(keys))], RECORD_REF]
    return (
        candidates.sort(order)
        .group_by("golden_id", maintain_order=True)
        .first()
        .select("golden_id", field, pl.col(RECORD_REF).alias(f"__from_{field}"))
    )

"""Stable golden ids: clusters of this run meet the identity map of the previous runs.

- A cluster whose records were never seen gets an id derived from its smallest record key, so a
  run from scratch on the same input gives the same ids.
- A cluster keeps the id its records already had; new records joining it take that id.
- A cluster whose records carried several ids is a **merge**: it keeps the oldest id, the others
  are retired into it.
- An id whose records now fall into several clusters is a **split**: the cluster holding most of
  its records keeps it (ties: the smallest record key), the others get new ids.

Pure: frames in, frames out.
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from dataclasses import dataclass

import polars as pl

RECORD = ("source_system", "source_key")
EVENT_SCHEMA = {"event": pl.String, "golden_id": pl.String, "related_id": pl.String, "records": pl.Int64}


@dataclass(frozen=True)
class Assignment:
    records: pl.DataFrame  # source_system, source_key, golden_id
    events: pl.DataFrame  # event (new | merge | split), golden_id, related_id, records
    created: list[str]  # ids first used in this run


def derive_id(system: str, key: str, attempt: int = 0) -> str:
    text = f"{system}\x1f{key}" + (f"\x1f{attempt}" if attempt else "")
    return "G" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:15].upper()


def assign(
    clusters: pl.DataFrame, previous: pl.DataFrame, id_age: dict[str, tuple[object, str]]
) -> Assignment:
    """``clusters``: source_system, source_key, cluster_id; ``previous``: source_system, source_key,
    golden_id (the identity map); ``id_age``: golden_id -> sortable age key (older sorts first)."""
    joined = clusters.join(
        previous.select(*RECORD, pl.col("golden_id").alias("previous_id")), on=list(RECORD), how="left"
    )
    members: dict[object, list[tuple[str, str, str | None]]] = defaultdict(list)
    for system, key, cluster, prev in joined.select(*RECORD, "cluster_id", "previous_id").iter_rows():
        members[cluster].append((system, key, prev))
    claims = _claims(members, id_age)
    chosen, events = _resolve(members, claims, previous, id_age)
    rows = [(s, k, chosen[c]) for c, recs in members.items() for s, k, _ in recs]
    records = pl.DataFrame(
        rows,
        schema={"source_system": pl.String, "source_key": pl.String, "golden_id": pl.String},
        orient="row",
    ).sort(list(RECORD))
    known = set(previous.get_column("golden_id").to_list()) if previous.height else set()
    created = sorted({g for g in chosen.values() if g not in known})
    return Assignment(records, pl.DataFrame(events, schema=EVENT_SCHEMA, orient="row"), created)


def _claims(members: dict, id_age: dict) -> dict[object, list[str]]:
    """Per cluster, the previous ids of its records, oldest first."""
    claims = {}
    for cluster, recs in members.items():
        ids = {prev for _, _, prev in recs if prev is not None}
        claims[cluster] = sorted(
            ids, key=lambda g: (id_age.get(g, (None, g))[0] is None, id_age.get(g, (None, g)), g)
        )
    return claims


def _resolve(members: dict, claims: dict, previous: pl.DataFrame, id_age: dict) -> tuple[dict, list[tuple]]:
    holders: dict[str, list[object]] = defaultdict(list)
    for cluster, ids in claims.items():
        for golden_id in ids:
            holders[golden_id].append(cluster)
    owner = {g: _owner(g, clusters, members) for g, clusters in holders.items()}
    chosen: dict[object, str] = {}
    events: list[tuple] = []
    taken = set(previous.get_column("golden_id").to_list()) if previous.height else set()
    for cluster in sorted(members, key=lambda c: min((s, k) for s, k, _ in members[c])):
        mine = [g for g in claims[cluster] if owner[g] == cluster]
        if mine:
            chosen[cluster] = mine[0]
            events.extend(("merge", mine[0], g, _count(members[cluster], g)) for g in mine[1:])
        else:
            chosen[cluster] = _new_id(members[cluster], taken)
            events.extend(("split", chosen[cluster], g, _count(members[cluster], g)) for g in claims[cluster])
            if not claims[cluster]:
                events.append(("new", chosen[cluster], None, len(members[cluster])))
        taken.add(chosen[cluster])
    return chosen, events


def _owner(golden_id: str, clusters: list[object], members: dict) -> object:
    """The cluster holding most of the id's records keeps it; ties go to the smallest record key."""

    def rank(cluster: object) -> tuple[int, tuple[str, str]]:
        held = [(s, k) for s, k, prev in members[cluster] if prev == golden_id]
        return (-len(held), min(held))

    return min(clusters, key=rank)


def _count(records: list[tuple[str, str, str | None]], golden_id: str) -> int:
    return Counter(prev for _, _, prev in records)[golden_id]


def _new_id(records: list[tuple[str, str, str | None]], taken: set[str]) -> str:
    system, key = min((s, k) for s, k, _ in records)
    attempt = 0
    while (candidate := derive_id(system, key, attempt)) in taken:
        attempt += 1
    return candidate

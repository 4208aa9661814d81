"""Probabilistic matching with Splink on DuckDB: train, predict pairs, cluster.

Runs on its own in-memory DuckDB connection (Splink's work tables never touch the warehouse).
Training is reproducible: u is estimated from pairs chosen by a seeded hash, EM samples pairs by
a deterministic hash, and training runs on one thread because DuckDB's parallel partial sums
change the last digits of the estimates from one run to the next.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import duckdb
import polars as pl
import pyarrow as pa

from dte_platform.canonical.comparisons import COMPARISONS
from dte_platform.contracts.model import CanonicalSpec

_INPUT = "__dte_match_records"


@dataclass(frozen=True)
class MatchResult:
    clusters: pl.DataFrame  # source_system, source_key, cluster_id, match_probability (best edge)
    pairs: pl.DataFrame  # pairs at or above the threshold, with their comparison levels (gamma_*)
    model: dict[str, Any]  # the trained Splink model, as Splink saves it
    candidate_pairs: int
    skipped_training: list[str]  # EM blocking rules that found no pairs in this data


def _settings(spec: CanonicalSpec, name: str, systems: int) -> Any:
    from splink import SettingsCreator, block_on

    return SettingsCreator(
        link_type="link_and_dedupe" if systems > 1 else "dedupe_only",
        unique_id_column_name="source_key",
        source_dataset_column_name="source_system",
        comparisons=[
            COMPARISONS[params["type"]](field, params) for field, params in spec.comparisons.items()
        ],
        blocking_rules_to_generate_predictions=[block_on(*rule) for rule in spec.blocking],
        retain_matching_columns=False,
        retain_intermediate_calculation_columns=False,
        max_iterations=25,
        em_convergence=1e-4,
        linker_uid=name,  # Splink would otherwise put a random id in the model
    )


def _train(linker: Any, spec: CanonicalSpec) -> list[str]:
    """Train the model; EM rules that find no pairs in this data are skipped and reported."""
    from splink import block_on
    from splink.internals.exceptions import EMTrainingException

    skipped = []
    training = linker.training
    deterministic = spec.deterministic or spec.blocking
    training.estimate_probability_two_random_records_match(
        [block_on(*r) for r in deterministic], recall=spec.recall
    )
    training.estimate_u_using_random_sampling(max_pairs=spec.max_pairs, seed=spec.seed)
    for rule in spec.em_blocking or spec.blocking:
        try:
            training.estimate_parameters_using_expectation_maximisation(
                block_on(*rule), max_pairs=spec.max_pairs, estimate_without_term_frequencies=True
            )
        except EMTrainingException:
            skipped.append("+".join(rule))
    return skipped


def match(records: pa.Table, spec: CanonicalSpec, name: str, threads: int = 2) -> MatchResult:
    """``records``: source_system, source_key and one match column per compared field."""
    from splink import DuckDBAPI, Linker

    con = duckdb.connect()
    try:
        con.register("__arrow_input", records)
        con.sql(f"CREATE TABLE {_INPUT} AS SELECT * FROM __arrow_input ORDER BY source_system, source_key")
        con.unregister("__arrow_input")
        systems = len(set(records.column("source_system").to_pylist()))
        linker = Linker(
            DuckDBAPI(connection=con).register(_INPUT),
            _settings(spec, name, systems),
            log_level=logging.WARNING,
        )
        con.sql("SET threads = 1")
        skipped = _train(linker, spec)
        con.sql(f"SET threads = {threads}")
        model = linker.misc.save_model_to_json()
        predictions = linker.inference.predict()
        clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
            predictions, threshold_match_probability=spec.threshold
        )
        return _result(con, predictions.physical_name, clusters.physical_name, spec, model, skipped)
    finally:
        con.close()


def _result(
    con: duckdb.DuckDBPyConnection,
    predictions: str,
    clusters: str,
    spec: CanonicalSpec,
    model: dict[str, Any],
    skipped: list[str],
) -> MatchResult:
    threshold = spec.threshold
    gammas = [c for c in con.sql(f"SELECT * FROM {predictions} LIMIT 0").columns if c.startswith("gamma_")]
    pairs = con.sql(
        f"SELECT source_system_l, source_key_l, source_system_r, source_key_r, match_probability, "
        f"{', '.join(gammas)} FROM {predictions} WHERE match_probability >= {threshold} ORDER BY ALL"
    ).pl()
    best = con.sql(
        f"SELECT s, k, max(p) AS match_probability FROM ("
        f"SELECT source_system_l AS s, source_key_l AS k, match_probability AS p FROM {predictions} "
        f"WHERE match_probability >= {threshold} UNION ALL "
        f"SELECT source_system_r, source_key_r, match_probability FROM {predictions} "
        f"WHERE match_probability >= {threshold}) GROUP BY s, k"
    ).pl()
    assigned = con.sql(f"SELECT source_system, source_key, cluster_id FROM {clusters} ORDER BY ALL").pl()
    assigned = assigned.join(best, left_on=["source_system", "source_key"], right_on=["s", "k"], how="left")
    candidates = con.sql(f"SELECT count(*) FROM {predictions}").fetchall()[0][0]
    return MatchResult(assigned, pairs, model, int(candidates), skipped)

"""Contract -> Dagster attributes, one small method per attribute, in one class.

Subclass :class:`ContractTranslator` to change how contracts appear in Dagster (key scheme, groups,
tags) without touching the factories.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping
from typing import Any

import dagster as dg

from dte_platform.compiler.rules import CompiledDataset, Rule, Severity
from dte_platform.contracts.model import Contract, Dataset
from dte_platform.ingest.writer import data_table, quarantine_table
from dte_platform.orchestration.notices import PARTITIONED_CHECK, quiet_dagster_notice

_KINDS = {"csv": "csv", "jsonl": "json", "parquet": "parquet"}


#: contract risk -> required certification level, as the default policy sets it
DEFAULT_REQUIRED_LEVELS = {"low": "bronze", "medium": "silver", "high": "gold"}


class ContractTranslator:
    def __init__(
        self, required_levels: Mapping[str, str] | None = None, as_of: dt.datetime | None = None
    ) -> None:
        """``required_levels``: contract risk -> the level the certification policy requires;
        ``as_of``: the platform's clock when it is not the wall clock (``DTE_AS_OF``)."""
        self.required_levels = dict(required_levels or DEFAULT_REQUIRED_LEVELS)
        self.as_of = as_of

    def asset_key(self, compiled: CompiledDataset) -> dg.AssetKey:
        return dg.AssetKey(list(compiled.key_path))

    def group_name(self, compiled: CompiledDataset) -> str:
        return f"{compiled.layer or 'sources'}_{compiled.domain or 'default'}"

    def description(self, contract: Contract, dataset: Dataset) -> str:
        parts = [dataset.description or contract.description or f"{dataset.name} ({contract.id})"]
        parts.append(f"\n\nContract: `{contract.file.name}` v{contract.version} ({contract.status})")
        return "".join(parts)

    def owners(self, contract: Contract) -> list[str]:
        return list(contract.owners)

    def tags(self, contract: Contract, dataset: Dataset) -> dict[str, str]:
        tags = {
            "dte/risk": dataset.dte.risk,
            "dte/required_tier": self.required_levels[dataset.dte.risk],
            "dte/layer": contract.layer or "sources",
        }
        tags.update(
            {f"dte_tag/{t}": "" for t in contract.tags if t.replace("_", "").replace("-", "").isalnum()}
        )
        return tags

    def kinds(self, dataset: Dataset) -> set[str]:
        kinds = {"duckdb", "pandera"}
        if dataset.dte.source is not None:
            kinds.add(_KINDS[dataset.dte.source.format])
        return kinds

    def partitions_def(self, dataset: Dataset) -> dg.PartitionsDefinition | None:
        """Daily for landed sources; built datasets (golden) are rebuilt whole. The days run up to
        today (a day's data may land during the day); with ``DTE_AS_OF`` they end on the day before
        that instant, where the data of a fixed sample ends, so "latest" is a day with data."""
        source = dataset.dte.source
        start = source.partition_start if source is not None else dataset.dte.partition_start
        if not start:
            return None
        if self.as_of is not None:
            end = max(
                self.as_of.astimezone(dt.UTC).date(), dt.date.fromisoformat(start) + dt.timedelta(days=1)
            )
            return dg.DailyPartitionsDefinition(start_date=start, end_date=end.isoformat())
        return dg.DailyPartitionsDefinition(start_date=start, end_offset=1)

    def freshness_policy(self, compiled: CompiledDataset) -> dg.FreshnessPolicy | None:
        rule = next((r for r in compiled.rules if r.kind == "freshness"), None)
        if rule is None:
            return None
        return dg.FreshnessPolicy.time_window(
            fail_window=dt.timedelta(seconds=rule.params["max_age_seconds"])
        )

    def code_version(self, contract: Contract, dataset: Dataset | None = None) -> str:
        """Changes when anything that decides the asset's content changes: the contract (its golden
        spec included) and a mart's SQL file."""
        digest = hashlib.sha256(contract.sha256.encode())
        sql = dataset.dte.sql if dataset is not None else None
        if sql is not None:
            digest.update(b"\0" + sql.read_bytes())
        return digest.hexdigest()[:16]

    def metadata(self, contract: Contract, dataset: Dataset, compiled: CompiledDataset) -> dict[str, Any]:
        return {
            "dagster/column_schema": self.column_schema(dataset, compiled),
            "dagster/table_name": data_table(compiled).replace('"', ""),
            "dte/quarantine_table": quarantine_table(compiled).replace('"', ""),
            "dte/contract": dg.MetadataValue.path(str(contract.file)),
            "dte/contract_id": contract.id,
            "dte/contract_version": contract.version,
            "dte/contract_sha256": contract.sha256,
            "dte/rules": len(compiled.rules),
            "dte/not_enforced": dg.MetadataValue.md(
                _bullets(compiled.notes) or "everything declared is enforced"
            ),
        }

    def column_schema(self, dataset: Dataset, compiled: CompiledDataset) -> dg.TableSchema:
        types = {c.name: c for c in compiled.columns}
        return dg.TableSchema(
            columns=[
                dg.TableColumn(
                    name=c.name,
                    type=types[c.name].duckdb_type,
                    description=_column_description(c.description, types[c.name].sensitive, c.classification),
                    constraints=dg.TableColumnConstraints(
                        nullable=not c.required, unique=c.unique or c.primary_key_position is not None
                    ),
                    tags={"dte/classification": c.classification} if c.classification else {},
                )
                for c in dataset.columns
            ]
        )

    def check_spec(
        self, key: dg.AssetKey, rule: Rule, partitions_def: dg.PartitionsDefinition | None
    ) -> dg.AssetCheckSpec:
        with quiet_dagster_notice(*PARTITIONED_CHECK):
            return dg.AssetCheckSpec(
                name=rule.check_name,
                asset=key,
                description=f"{rule.description} [{rule.severity.value}; {rule.source}]",
                blocking=rule.severity is Severity.ERROR,
                metadata={
                    "dte/rule_id": rule.id,
                    "dte/scope": rule.scope.value,
                    "dte/declared_at": rule.source,
                },
                partitions_def=partitions_def if rule.per_partition else None,
            )


def _column_description(text: str | None, sensitive: bool, classification: str | None) -> str:
    note = f" [{classification}: values never leave the warehouse]" if sensitive else ""
    return (text or "") + note


def _bullets(lines: tuple[str, ...]) -> str:
    return "\n".join(f"- {line}" for line in lines)

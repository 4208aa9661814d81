"""Certification in Dagster, wired from the pure decision (``dte_platform.certification``):

- :mod:`.catalog`: what certification knows of each asset once the definitions load;
- :mod:`.evidence`: the evidence of each asset, read from the instance (finished work only), and
  its assessment (decision + the content of its evidence pack);
- :mod:`.sensor`: the sensor that judges every asset on each tick, and the ``certification`` check;
- :mod:`.promotion`: the job that writes evidence packs, records certificates and publishes
  certified versions to ``certified.*``.

``dte run`` calls :func:`certify` at the end, so a pipeline without a daemon certifies the same way.
"""

# no `from __future__ import annotations`: Dagster inspects annotations at runtime in the modules
import dataclasses
from collections.abc import Sequence

import dagster as dg

from dte_platform.certification.policy import Policy, project_policy
from dte_platform.compiler.rules import CompiledDataset
from dte_platform.contracts import Contract, Dataset
from dte_platform.orchestration.certification.catalog import CHECK_NAME, AssetEntry, Catalog, build_catalog
from dte_platform.orchestration.certification.evidence import (
    Assessment,
    InstanceReader,
    assess_all,
    decision_from_json,
)
from dte_platform.orchestration.certification.promotion import (
    JOB_NAME,
    PROMOTION_OP,
    build_promotion_job,
    promote,
    promotion_run_config,
)
from dte_platform.orchestration.certification.sensor import (
    SENSOR_NAME,
    asset_events,
    build_certification_check,
    build_certification_sensor,
)
from dte_platform.settings import Settings

__all__ = [
    "CHECK_NAME",
    "JOB_NAME",
    "PROMOTION_OP",
    "SENSOR_NAME",
    "Assessment",
    "AssetEntry",
    "Catalog",
    "Certification",
    "build_certification",
    "certify",
    "promote",
]


@dataclasses.dataclass(frozen=True)
class Certification:
    catalog: Catalog
    policy: Policy
    checks: list[dg.AssetChecksDefinition]
    job: dg.JobDefinition
    sensor: dg.SensorDefinition


def build_certification(
    settings: Settings,
    datasets: Sequence[tuple[Contract, Dataset, CompiledDataset]],
    assets: Sequence[dg.AssetsDefinition],
    checks: Sequence[dg.AssetChecksDefinition],
    pool: str,
) -> Certification:
    policy = project_policy(settings.checks_dir)
    catalog = build_catalog(datasets, assets, checks)
    job = build_promotion_job(settings, pool)
    return Certification(
        catalog=catalog,
        policy=policy,
        checks=[build_certification_check(policy, e) for e in catalog.entries],
        job=job,
        sensor=build_certification_sensor(settings, catalog, policy, job),
    )


def certify(
    settings: Settings,
    certification: Certification,
    instance: dg.DagsterInstance,
    job: dg.JobDefinition,
) -> list[Assessment]:
    """What the sensor would do, now, in this process: report changed certificates as run-less
    events and run the promotion job for them. Returns every asset's assessment."""
    assessments = assess_all(certification.catalog, instance, certification.policy, settings.now())
    reader = InstanceReader(instance)
    updates = [
        a for a in assessments if a.decision.version is not None and _last_signature(reader, a) != a.signature
    ]
    for assessment in updates:
        for event in asset_events(assessment):
            instance.report_runless_asset_event(event)
    if updates:
        job.execute_in_process(
            run_config=promotion_run_config(
                updates, loggers={"console": {"config": {"log_level": "WARNING"}}}
            ),
            instance=instance,
            tags={"dte/kind": "certification", "dte/launched_by": "dte run"},
            raise_on_error=True,
        )
    return assessments


def _last_signature(reader: InstanceReader, assessment: Assessment) -> str | None:
    """The signature of the decision last reported for the asset (from its observation)."""
    last = reader.latest_certification(assessment.entry.key)
    if last is None:
        return None
    return dataclasses.replace(assessment, decision=decision_from_json(last)).signature

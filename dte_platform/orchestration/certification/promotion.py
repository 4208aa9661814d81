"""The promotion job (write-audit-publish): for each certificate the sensor (or ``dte run``) hands it,
write the evidence pack, record the certificate in ``trust.certificates`` and, only for a
certified version that the table still holds, replace ``certified.<layer>__<name>``."""

# no `from __future__ import annotations`: Dagster inspects the op's annotations at runtime
import datetime as dt
import json
from collections.abc import Mapping, Sequence
from typing import Any

import dagster as dg

from dte_platform.certification.publish import CertificateRow, certified_table, record
from dte_platform.evidence.store import EvidenceStore
from dte_platform.ingest.writer import table_name
from dte_platform.orchestration.certification.evidence import Assessment
from dte_platform.orchestration.resources import WarehouseResource
from dte_platform.settings import Settings

PROMOTION_OP = "record_and_publish_certificates"
JOB_NAME = "dte_certification"


class PromotionConfig(dg.Config):
    """One entry per certificate to record: the decision and its evidence as canonical JSON."""

    certificates: list[str]


def promote(
    settings: Settings, warehouse: WarehouseResource, items: Sequence[Mapping[str, Any]], run_id: str | None
) -> list[str]:
    """Write each certificate's evidence pack, record it, publish certified versions. Returns notes."""
    store = EvidenceStore(settings.artifacts_dir / "certification")
    notes = []
    for item in items:
        content = item["content"]
        decision = content["decision"]
        written = store.append(item["asset"], content)
        row = CertificateRow(
            asset=item["asset"],
            version=decision["version"],
            level=decision["level"],
            required=decision["required"],
            certified=decision["certified"],
            status=decision["status"],
            issued=dt.datetime.fromisoformat(decision["issued"]),
            expires=dt.datetime.fromisoformat(decision["expires"]) if decision["expires"] else None,
            evidence_hash=written.hash,
            evidence_sequence=written.sequence,
            fingerprint=content["data"].get("fingerprint"),
            reasons=decision["reasons"],
            run_id=run_id,
        )
        layer, slug = item["table"]
        with warehouse.get_connection() as conn:
            outcome = record(
                conn,
                row,
                source_table=content["data"].get("table") if decision["certified"] else None,
                target_table=certified_table(layer, slug),
            )
        notes.append(f"{item['asset']}: {decision['verdict']}, {outcome.note}")
    return notes


def promotion_item(assessment: Assessment) -> str:
    layer, slug = table_name(assessment.entry.compiled)
    return json.dumps(
        {"asset": assessment.entry.name, "table": [layer, slug], "content": assessment.pack_content()},
        sort_keys=True,
    )


def promotion_run_config(assessments: Sequence[Assessment], **extra: Any) -> dg.RunConfig:
    """The promotion job's run config recording ``assessments`` (the sensor's and ``dte run``'s)."""
    items = [promotion_item(a) for a in assessments]
    return dg.RunConfig(ops={PROMOTION_OP: PromotionConfig(certificates=items)}, **extra)


def build_promotion_job(settings: Settings, pool: str) -> dg.JobDefinition:
    @dg.op(
        name=PROMOTION_OP,
        description="Evidence packs, trust.certificates and certified.* for the requested certificates.",
        pool=pool,
    )
    def _promote(
        context: dg.OpExecutionContext, config: PromotionConfig, warehouse: WarehouseResource
    ) -> None:
        items = [json.loads(c) for c in config.certificates]
        for note in promote(settings, warehouse, items, context.run.run_id):
            context.log.info(note)

    @dg.job(
        name=JOB_NAME,
        description="Records certificates (evidence pack + trust.certificates) and publishes certified "
        "versions to certified.*; launched by the certification sensor and by `dte run`.",
        tags={"dte/kind": "certification"},
    )
    def _job() -> None:
        _promote()

    return _job

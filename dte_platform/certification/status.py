"""Where every asset stands: its newest recorded certificate, judged again for expiry at ``now``.

``dte certify --check`` uses this so that a pipeline can gate on certification without a Dagster
instance: the warehouse's ``trust.certificates`` is the record.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from dte_platform.certification.policy import Level, project_policy
from dte_platform.certification.publish import latest_certificates
from dte_platform.compiler.project import compile_project
from dte_platform.settings import Settings
from dte_platform.warehouse import connect


@dataclass(frozen=True)
class Standing:
    asset: str
    required: Level
    level: Level
    certified: bool
    expires: dt.datetime | None
    reasons: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return self.certified


def standings(settings: Settings) -> list[Standing]:
    """One entry per dataset of the project, in contract order."""
    policy = project_policy(settings.checks_dir)
    certificates = {}
    if settings.warehouse_path.exists():
        with connect(settings.warehouse_path) as conn:
            certificates = latest_certificates(conn)
    now = settings.now()
    out = []
    for _, dataset, compiled in compile_project(settings):
        asset = "/".join(compiled.key_path)
        required = policy.required_level(dataset.dte.risk)
        row = certificates.get(asset)
        if row is None:
            out.append(Standing(asset, required, Level.NONE, False, None, ("no certificate recorded",)))
            continue
        expires = row["expires"]
        reasons = tuple(row["reasons"])
        certified, level = bool(row["certified"]), Level.parse(row["level"])
        if expires is not None and now >= expires:  # whatever it held, it holds nothing now
            certified, level = False, Level.NONE
            reasons = (f"the certificate expired at {expires.isoformat()}", *reasons)
        out.append(Standing(asset, required, level, certified, expires, reasons))
    return out

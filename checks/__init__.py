"""Checks that belong to no single contract: reconciliations across assets, declared in
``reconciliations.yaml`` next to this file (or in the project's own ``checks/`` folder)."""

from dte_platform.orchestration import build_reconciliation_checks
from dte_platform.settings import Settings


def build(settings: Settings) -> list:
    return build_reconciliation_checks(settings)

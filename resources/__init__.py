"""Resources per environment: the DuckDB warehouse (with its single-writer lock) for the settings'
warehouse file, and the OpenLineage emitter. Point ``DTE_WAREHOUSE`` elsewhere to use another file,
``OPENLINEAGE_URL`` at a Marquez-compatible endpoint to send lineage over HTTP."""

from dte_platform.orchestration import build_resources
from dte_platform.settings import Settings


def build(settings: Settings) -> dict:
    return build_resources(settings)

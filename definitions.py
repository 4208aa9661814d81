"""The Dagster code location: this project's contracts (assets/), cross-asset checks (checks/) and
resources (resources/), for the project folder in ``DTE_PROJECT_DIR`` or this repository."""

from pathlib import Path

import assets
import checks
import resources
from dte_platform.orchestration import assemble_definitions, build_operations
from dte_platform.settings import Settings

settings = Settings.from_env(default_project_dir=Path(__file__).resolve().parent)

defs = assemble_definitions(
    assets=assets.build(settings),
    checks=checks.build(settings),
    resources=resources.build(settings),
    operations=build_operations(settings),
)

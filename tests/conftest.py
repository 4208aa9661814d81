from __future__ import annotations

import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
ODCS_EXAMPLES = REPO / "tests" / "fixtures" / "odcs_examples"


@pytest.fixture
def repo() -> Path:
    return REPO


@pytest.fixture
def sample_project(tmp_path: Path) -> Path:
    """A copy of this repository's contracts, checks and sample landing data in a temp folder."""
    project = tmp_path / "project"
    shutil.copytree(REPO / "assets", project / "assets", ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    shutil.copytree(REPO / "checks", project / "checks", ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    shutil.copytree(REPO / "data" / "landing", project / "data" / "landing")
    return project

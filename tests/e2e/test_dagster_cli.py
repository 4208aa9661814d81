"""Dagster's own command line on this project: ``dg check defs`` and ``dg list defs`` find the code
location through ``[tool.dg]`` in pyproject.toml, and loading it changes nothing process-wide."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.e2e.test_code_location import EXPECTED_ASSETS

DG = Path(sys.executable).with_name("dg")


def _dg(*args: str, project: Path, home: Path) -> subprocess.CompletedProcess[str]:
    home.mkdir(exist_ok=True)
    env = {**os.environ, "DTE_PROJECT_DIR": str(project), "DAGSTER_HOME": str(home)}
    return subprocess.run(
        [str(DG), *args], cwd=REPO, env=env, capture_output=True, text=True, check=False, timeout=300
    )


@pytest.mark.skipif(not DG.exists(), reason="dg is installed with the project's dependencies")
def test_dg_check_defs_and_list_defs_load_the_code_location(sample_project: Path, tmp_path: Path) -> None:
    checked = _dg("check", "defs", project=sample_project, home=tmp_path / "home")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    listed = _dg("list", "defs", "--json", project=sample_project, home=tmp_path / "home")
    assert listed.returncode == 0, listed.stdout + listed.stderr
    payload = json.loads(listed.stdout[listed.stdout.index("{") :])
    keys = {asset["asset_key"] for asset in payload["assets"]}
    assert keys >= EXPECTED_ASSETS
    checks = {check["key"] for check in payload["asset_checks"]}
    assert "sources/shop/orders:contract__amount__minimum" in checks


def test_dg_check_defs_fails_on_a_broken_contract(sample_project: Path, tmp_path: Path) -> None:
    contract = sample_project / "assets/sources/shop/orders.odcs.yaml"
    contract.write_text(contract.read_text().replace("logicalType: integer", "logicalType: int", 1))
    checked = _dg("check", "defs", project=sample_project, home=tmp_path / "home")
    assert checked.returncode != 0
    assert "orders.odcs.yaml" in checked.stdout + checked.stderr


_PROBE = """
import json, sys, warnings
before = list(warnings.filters)
with warnings.catch_warnings(record=True) as seen:
    warnings.simplefilter("always")
    import definitions
after = list(warnings.filters)
print(json.dumps({
    "filters_changed": before != after,
    "notices": sorted({type(w.message).__name__ for w in seen if "dagster" in type(w.message).__module__}),
}))
"""


def test_loading_the_code_location_installs_no_warnings_filter(sample_project: Path) -> None:
    """Dagster's preview notice is hidden where we raise it; the importer's filters stay its own."""
    env = {**os.environ, "DTE_PROJECT_DIR": str(sample_project), "PYTHONPATH": str(REPO)}
    probe = subprocess.run(
        [sys.executable, "-c", _PROBE], cwd=REPO, env=env, capture_output=True, text=True, check=True
    )
    report = json.loads(probe.stdout.strip().splitlines()[-1])
    assert report == {"filters_changed": False, "notices": []}

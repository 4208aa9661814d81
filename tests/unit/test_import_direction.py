"""Imports go one way: definitions.py -> assets/ checks/ resources/ -> orchestration -> core."""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
WIRING = ("assets", "checks", "resources")


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def top(name: str) -> str:
    return name.split(".")[0]


def core_modules() -> list[Path]:
    package = REPO / "dte_platform"
    return [p for p in package.rglob("*.py") if "orchestration" not in p.relative_to(package).parts]


def test_only_orchestration_imports_dagster() -> None:
    offenders = [
        str(p.relative_to(REPO))
        for p in core_modules()
        if any(top(m).startswith("dagster") for m in imported_modules(p))
    ]
    assert offenders == []


def test_core_never_imports_the_wiring_packages() -> None:
    package = REPO / "dte_platform"
    offenders = [
        str(p.relative_to(REPO))
        for p in package.rglob("*.py")
        if any(top(m) in WIRING for m in imported_modules(p))
    ]
    assert offenders == []


def test_wiring_packages_do_not_import_dagster_directly() -> None:
    files = [p for name in WIRING for p in (REPO / name).rglob("*.py")] + [REPO / "definitions.py"]
    offenders = [
        str(p.relative_to(REPO))
        for p in files
        if any(top(m).startswith("dagster") for m in imported_modules(p))
    ]
    assert offenders == []


def test_the_scan_sees_the_orchestration_imports() -> None:
    # guards the guard: if the AST scan broke, the tests above would pass vacuously
    factories = REPO / "dte_platform" / "orchestration" / "factories.py"
    assert "dagster" in imported_modules(factories)

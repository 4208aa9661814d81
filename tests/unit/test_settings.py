"""One settings object: every path from the project folder, nothing from the current directory."""

from __future__ import annotations

from pathlib import Path

from dte_platform.settings import Settings


def test_paths_derive_from_the_project_folder() -> None:
    settings = Settings.from_env(Path("/repo"), env={})
    assert settings.project_dir == Path("/repo")
    assert settings.contracts_dir == Path("/repo/assets")
    assert settings.checks_dir == Path("/repo/checks")
    assert settings.warehouse_path == Path("/repo/data/warehouse.duckdb")
    assert settings.artifacts_dir == Path("/repo/artifacts")


def test_environment_selects_another_project_and_overrides_paths() -> None:
    env = {
        "DTE_PROJECT_DIR": "/projects/a",
        "DTE_WAREHOUSE": "/fast/wh.duckdb",
        "DTE_LINEAGE_TRANSPORT": "http",
        "DTE_LINEAGE_URL": "http://127.0.0.1:5000",
    }
    settings = Settings.from_env(Path("/repo"), env=env)
    assert settings.contracts_dir == Path("/projects/a/assets")
    assert settings.warehouse_path == Path("/fast/wh.duckdb")
    assert settings.artifacts_dir == Path("/projects/a/artifacts")
    assert (settings.lineage.transport, settings.lineage.url) == ("http", "http://127.0.0.1:5000")


def test_relative_project_dir_is_resolved_once() -> None:
    settings = Settings.for_project("some/relative/dir")
    assert settings.project_dir.is_absolute()


def test_the_warehouse_lineage_namespace_is_relocatable_unless_configured(tmp_path: Path) -> None:
    default = Settings.from_env(tmp_path, {})
    assert default.warehouse_lineage_namespace == "duckdb://data/warehouse.duckdb"
    moved = Settings.from_env(tmp_path / "elsewhere", {})
    assert moved.warehouse_lineage_namespace == default.warehouse_lineage_namespace
    configured = Settings.from_env(tmp_path, {"DTE_LINEAGE_WAREHOUSE_NAMESPACE": "duckdb://analytics"})
    assert configured.warehouse_lineage_namespace == "duckdb://analytics"
    outside = Settings.from_env(tmp_path, {"DTE_WAREHOUSE": "/srv/wh.duckdb"})
    assert outside.warehouse_lineage_namespace == "duckdb:///srv/wh.duckdb"

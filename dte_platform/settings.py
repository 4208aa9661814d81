"""One typed settings object, built once at the edge and passed explicitly.

Every path the platform touches is derived from ``project_dir``; nothing is relative to the current
directory and nothing reads the environment at import time (:meth:`Settings.from_env` is called by
``definitions.py`` and the CLI).
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

#: classification values that make a column sensitive (compared case-insensitively)
DEFAULT_SENSITIVE_CLASSES = frozenset({"confidential", "restricted", "sensitive", "secret", "pii", "private"})


@dataclass(frozen=True)
class LineageSettings:
    """Where OpenLineage events go. ``transport`` is ``file`` (default) or ``http``."""

    transport: str = "file"
    url: str | None = None
    namespace: str = "dte"
    #: the OpenLineage namespace of warehouse datasets (``DTE_LINEAGE_WAREHOUSE_NAMESPACE``); by
    #: default ``duckdb://`` + the warehouse file's path within the project, so that the names stay
    #: the same wherever the project is checked out
    warehouse_namespace: str | None = None


@dataclass(frozen=True)
class Settings:
    project_dir: Path
    warehouse_path: Path
    artifacts_dir: Path
    lineage: LineageSettings = field(default_factory=LineageSettings)
    sensitive_classes: frozenset[str] = DEFAULT_SENSITIVE_CLASSES
    #: evaluate time-dependent trust (data freshness, certificate expiry) as of this instant instead
    #: of the wall clock: replays, and the fixed demo sample (``DTE_AS_OF``). Timezone-aware.
    as_of: dt.datetime | None = None

    def now(self) -> dt.datetime:
        """The instant freshness and certificate expiry are judged at."""
        return self.as_of if self.as_of is not None else dt.datetime.now(dt.UTC)

    @classmethod
    def for_project(cls, project_dir: Path | str, **overrides: object) -> Settings:
        root = Path(project_dir).resolve()
        values: dict[str, object] = {
            "project_dir": root,
            "warehouse_path": root / "data" / "warehouse.duckdb",
            "artifacts_dir": root / "artifacts",
        }
        values.update(overrides)
        return cls(**values)  # type: ignore[arg-type]

    @classmethod
    def from_env(cls, default_project_dir: Path, env: Mapping[str, str] | None = None) -> Settings:
        """Settings for ``DTE_PROJECT_DIR`` (or ``default_project_dir``), with path overrides."""
        env = os.environ if env is None else env
        root = Path(env.get("DTE_PROJECT_DIR") or default_project_dir).resolve()
        overrides: dict[str, object] = {}
        if env.get("DTE_WAREHOUSE"):
            overrides["warehouse_path"] = Path(env["DTE_WAREHOUSE"]).resolve()
        if env.get("DTE_ARTIFACTS_DIR"):
            overrides["artifacts_dir"] = Path(env["DTE_ARTIFACTS_DIR"]).resolve()
        if env.get("DTE_AS_OF"):
            overrides["as_of"] = parse_instant(env["DTE_AS_OF"], "DTE_AS_OF")
        # OPENLINEAGE_URL (the client's own variable) selects HTTP unless DTE_LINEAGE_TRANSPORT says otherwise
        url = env.get("DTE_LINEAGE_URL") or env.get("OPENLINEAGE_URL")
        overrides["lineage"] = LineageSettings(
            transport=env.get("DTE_LINEAGE_TRANSPORT", "http" if url else "file"),
            url=url,
            namespace=env.get("DTE_LINEAGE_NAMESPACE") or env.get("OPENLINEAGE_NAMESPACE", "dte"),
            warehouse_namespace=env.get("DTE_LINEAGE_WAREHOUSE_NAMESPACE") or None,
        )
        return cls.for_project(root, **overrides)

    @property
    def contracts_dir(self) -> Path:
        return self.project_dir / "assets"

    @property
    def checks_dir(self) -> Path:
        return self.project_dir / "checks"

    @property
    def warehouse_lineage_namespace(self) -> str:
        """``duckdb://<the warehouse file's path in the project>`` unless configured (an absolute path
        when the file lies outside the project)."""
        if self.lineage.warehouse_namespace:
            return self.lineage.warehouse_namespace
        path = self.warehouse_path
        inside = path.is_relative_to(self.project_dir)
        return "duckdb://" + (path.relative_to(self.project_dir).as_posix() if inside else path.as_posix())


def parse_instant(text: str, name: str) -> dt.datetime:
    """An ISO 8601 instant; a value without an offset is UTC."""
    try:
        value = dt.datetime.fromisoformat(text.strip())
    except ValueError as exc:
        raise ValueError(f"{name}={text!r} is not an ISO 8601 instant such as 2026-11-15T06:00:00Z") from exc
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)

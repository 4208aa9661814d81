"""The profiling job: reports per materialized dataset, linked from the asset, no sensitive values."""

from __future__ import annotations

import json
from pathlib import Path

import dagster as dg

from dte_platform.orchestration import build_definitions
from dte_platform.orchestration.headless import plan, run_all
from dte_platform.settings import Settings


def test_profile_job_reports_each_materialized_dataset_without_sensitive_values(sample_project: Path) -> None:
    settings = Settings.for_project(sample_project)
    run_all(settings, dg.DagsterInstance.ephemeral(), plan(settings, ["sources/crm/*"], ["2026-11-01"]))
    defs = build_definitions(settings)
    result = defs.resolve_job_def("profile_reports").execute_in_process(resources=defs.resources)
    observations = [
        e.asset_observation_data.asset_observation
        for e in result.all_events
        if e.event_type_value == "ASSET_OBSERVATION"
    ]
    assert [o.asset_key.to_user_string() for o in observations] == ["sources/crm/customers"]
    report = Path(observations[0].metadata["dte/profile_report"].value)
    assert report.is_file() and report.is_relative_to(settings.artifacts_dir / "reports")
    html = report.read_text(encoding="utf-8")
    landing = (sample_project / "data/landing/crm/customers/2026-11-01.jsonl").read_text().splitlines()
    records = [json.loads(line) for line in landing[:50] if line.startswith("{") and line.endswith("}")]
    for record in records:
        for column in ("email", "phone", "last_name"):
            value = record.get(column)
            if isinstance(value, str) and len(value) > 5:
                assert value not in html, column
    assert set(observations[0].metadata["dte/profile_columns_dropped"].value) >= {
        "email",
        "phone",
        "birth_date",
    }
    assert "city" in html  # the non-sensitive columns are profiled

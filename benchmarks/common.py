"""What every benchmark needs: its own process per measurement, so each peak RSS is its own."""

from __future__ import annotations

import json
import resource
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_child(module: str, *args: str) -> dict[str, Any]:
    """Run ``python -m <module> --child <args>`` and return the JSON it prints last."""
    out = subprocess.run(
        [sys.executable, "-m", module, "--child", *args], check=True, capture_output=True, text=True, cwd=REPO
    )
    return json.loads(out.stdout.strip().splitlines()[-1])

"""Dagster notices about APIs this code location uses knowingly, hidden where they are raised.

Partition-scoped asset checks are a preview API in Dagster 1.13: every check spec with a
``partitions_def`` says so, which no user of the code location can act on. The notice is hidden for
the one call that raises it; no warnings filter is installed for the rest of the process.
"""

from __future__ import annotations

import contextlib
import re
import warnings
from collections.abc import Iterator

import dagster as dg

PARTITIONED_CHECK = (dg.PreviewWarning, "partitions_def on an AssetCheckSpec")


@contextlib.contextmanager
def quiet_dagster_notice(category: type[Warning], message: str) -> Iterator[None]:
    """Hide the notice ``category`` whose text contains ``message`` inside this block only."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=f".*{re.escape(message)}", category=category)
        yield

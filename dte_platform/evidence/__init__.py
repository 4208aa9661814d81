"""Evidence packs: the auditable record behind each certification decision.

Place in the platform: the "recorded" stage after certification. :mod:`.pack` seals a decision's
content into a hash-chained canonical-JSON pack (pure), :mod:`.html` renders it for people (pure),
:mod:`.store` writes packs per asset and verifies the chains (``dte evidence verify``).
"""

from __future__ import annotations

from dte_platform.evidence.html import render_html
from dte_platform.evidence.pack import SCHEMA, canonical_json, content_hash, seal, verify_pack
from dte_platform.evidence.store import (
    CERTIFICATES_TABLE,
    EvidenceError,
    EvidenceReadError,
    EvidenceStore,
    EvidenceWriteError,
    HeadsUnavailable,
    InvalidAssetKey,
    Problem,
    WrittenPack,
    asset_dir_name,
    warehouse_heads,
)

__all__ = [
    "CERTIFICATES_TABLE",
    "SCHEMA",
    "EvidenceError",
    "EvidenceReadError",
    "EvidenceStore",
    "EvidenceWriteError",
    "HeadsUnavailable",
    "InvalidAssetKey",
    "Problem",
    "WrittenPack",
    "asset_dir_name",
    "canonical_json",
    "content_hash",
    "render_html",
    "seal",
    "verify_pack",
    "warehouse_heads",
]

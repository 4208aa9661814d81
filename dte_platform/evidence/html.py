"""The evidence pack as a page a non-engineer can read: one renderer per pack schema.

Place in the platform: core and pure. :func:`render_html` turns a sealed pack into one self-contained
HTML page (inline CSS, no scripts, no external resources, so it opens offline from an archive). The
page is a rendering, not the record: the JSON file next to it is. The output depends on the pack
only, so :meth:`EvidenceStore.verify` can re-render a pack and compare the page byte for byte; that is
why each pack schema keeps the renderer its pages were written with (:mod:`.page_v1` for v1 packs).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dte_platform.evidence import page_v1, page_v2
from dte_platform.evidence.pack import SCHEMA_V1


def render_html(pack: Mapping[str, Any]) -> str:
    """The page for one pack, by the renderer of the pack's schema; deterministic, values escaped."""
    renderer = page_v1 if pack.get("schema") == SCHEMA_V1 else page_v2
    return renderer.render_html(pack)

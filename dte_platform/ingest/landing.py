"""Where a source's landing files are: the contract's path template resolved inside the project.

``data/landing/shop/orders/{date}.csv`` names the files of one day; shell globs are allowed. A path
that leaves the project directory (``..``, an absolute path, a symlink pointing outside) is refused.

Every entry the pattern matches is accounted for: a regular file is used, a directory is skipped,
and anything else (a symlink whose target is gone, a FIFO, a socket) fails the partition instead of
being dropped silently, because a partition loaded without one of its files looks complete.
"""

from __future__ import annotations

import datetime as dt
import re
import stat
from pathlib import Path

from dte_platform.contracts.model import SourceSpec
from dte_platform.errors import LandingError

DATE_TOKEN = "{date}"


def partition_files(project_dir: Path, source: SourceSpec, day: str) -> list[Path]:
    """The files of one partition, sorted, each verified to live inside the project."""
    pattern = source.path.replace(DATE_TOKEN, day)
    matches = sorted(project_dir.glob(pattern))
    return [file for file in (landing_file(project_dir, p) for p in matches) if file is not None]


def landing_file(project_dir: Path, path: Path) -> Path | None:
    """``path`` resolved and checked, or None for a directory.

    Called when the partition's files are listed and again right before each one is read: a file
    swapped for a symlink in between is refused rather than followed outside the project.
    """
    resolved = _inside(project_dir, path)
    try:
        mode = resolved.stat().st_mode
    except FileNotFoundError:
        detail = "a symlink whose target does not exist" if path.is_symlink() else "no longer there"
        raise LandingError(path, f"landing file vanished: {detail}") from None
    if stat.S_ISDIR(mode):
        return None
    if not stat.S_ISREG(mode):
        raise LandingError(path, "landing path is not a regular file (a FIFO, socket or device); refused")
    return resolved


def available_partitions(project_dir: Path, source: SourceSpec) -> list[str]:
    """Days that have at least one landing file, oldest first."""
    if DATE_TOKEN not in source.path:
        return []
    before, after = source.path.split(DATE_TOKEN, 1)
    regex = re.compile(re.escape(before) + r"(\d{4}-\d{2}-\d{2})" + _glob_to_regex(after) + "$")
    days: set[str] = set()
    for hit in project_dir.glob(source.path.replace(DATE_TOKEN, "*")):
        relative = hit.relative_to(project_dir).as_posix()
        match = regex.match(relative)
        if match and _is_date(match.group(1)):
            days.add(match.group(1))
    return sorted(days)


def _glob_to_regex(text: str) -> str:
    return "".join(".*" if ch == "*" else "." if ch == "?" else re.escape(ch) for ch in text)


def _is_date(text: str) -> bool:
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        return False
    return True


def _inside(project_dir: Path, path: Path) -> Path:
    # resolve() without strict also follows a dangling symlink as far as it can: an escape is
    # reported as an escape even when the outside target is missing
    resolved = path.resolve()
    if not resolved.is_relative_to(project_dir.resolve()):
        raise LandingError(path, "landing file resolves outside the project directory; refused")
    return resolved


def relative_name(project_dir: Path, path: Path) -> str:
    try:
        return path.resolve().relative_to(project_dir.resolve()).as_posix()
    except ValueError:
        return path.name

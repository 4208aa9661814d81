"""The two error families.

A bad *definition* (contract, SQL, policy) raises :class:`DefinitionError` while loading, naming the
file and the field. A bad *partition input* (a landing file that cannot be read at all, a missing
required column) raises :class:`LandingError`: the partition fails and nothing is written. Bad
*rows* never raise: they become quarantine rows and failed checks.
"""

from __future__ import annotations

from pathlib import Path


class DteError(Exception):
    """Base class for every error the platform raises on purpose."""


class DefinitionError(DteError):
    """A contract or another declaration is invalid. Raised at load time."""

    def __init__(self, file: Path | str, field: str, message: str) -> None:
        self.file = str(file)
        self.field = field
        self.message = message
        where = f"{self.file}: {field}" if field else self.file
        super().__init__(f"{where}: {message}")


class LandingError(DteError):
    """A landing file cannot be used for a partition; nothing is written for that partition."""

    def __init__(self, file: Path | str, message: str) -> None:
        self.file = str(file)
        self.message = message
        super().__init__(f"{self.file}: {message}")

"""ODCS versions: which official JSON schema validates a contract, by its ``apiVersion``.

The platform reads ODCS v3.0.0 to v3.2.0. Each contract is validated against the schema of the
version it declares (v3.0.1 has no schema of its own and uses v3.0.2's, which lists it). A contract
that fails its own version's schema but passes a later one whose ``apiVersion`` list includes the
declared version is read as that later version, with a note saying so: a v3.0.x contract that
passes the v3.1.0 schema (which lists v3.0.x as versions it accepts) is read as v3.1.0, as the
official v3.0.2 example ``column-completeness`` needs (it uses the v3.1.0 ``metric`` key).

Constructs that changed between versions are read in their own version's form by the compiler:
v3.0 quality ``rule`` names (``duplicateCount``, ``validValues``, ``nullCheck``) and the v3.0 team
array.
"""

from __future__ import annotations

from dataclasses import dataclass

#: apiVersion -> bundled schema file, oldest first
SCHEMAS = {
    "v3.0.0": "odcs-json-schema-v3.0.0.json",
    "v3.0.1": "odcs-json-schema-v3.0.2.json",
    "v3.0.2": "odcs-json-schema-v3.0.2.json",
    "v3.1.0": "odcs-json-schema-v3.1.0.json",
    "v3.2.0": "odcs-json-schema-v3.2.0.json",
}
SUPPORTED = tuple(SCHEMAS)


@dataclass(frozen=True)
class SchemaChoice:
    """The schema a contract was validated with, and why it is not its own version's (if not)."""

    declared: str
    schema: str
    note: str | None = None


def schema_for(api_version: object) -> str | None:
    """The schema file of ``api_version``; None when the platform does not read that version."""
    return SCHEMAS.get(api_version) if isinstance(api_version, str) else None


def fallback(api_version: str) -> tuple[str, str] | None:
    """``(version, schema)`` a contract declaring ``api_version`` may be read as when it fails its own
    schema: v3.0.x contracts as v3.1.0, whose schema lists the v3.0 versions as its own."""
    return ("v3.1.0", SCHEMAS["v3.1.0"]) if api_version.startswith("v3.0.") else None

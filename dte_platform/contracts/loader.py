"""Load ODCS v3.0-v3.2 contract files: parse YAML, validate against the bundled official JSON schema
of the contract's ``apiVersion`` (:mod:`dte_platform.contracts.versions`) and our ``dte`` extension
schema, and build the typed :class:`~dte_platform.contracts.model.Contract`.

Every failure is a :class:`~dte_platform.errors.DefinitionError` naming the file and the field in
readable form (``schema.orders.properties.order_id.logicalType``).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from dte_platform.contracts import versions
from dte_platform.contracts.model import (
    CanonicalInput,
    CanonicalSpec,
    Column,
    ConfidenceSpec,
    Contract,
    Dataset,
    DteSpec,
    FieldSource,
    QualitySpec,
    SlaProperty,
    SourceSpec,
    SurvivorshipRule,
)
from dte_platform.errors import DefinitionError

CONTRACT_SUFFIX = ".odcs.yaml"
MAX_CONTRACT_BYTES = 1_000_000
#: bounds on a parsed document, aliases expanded: every later stage (schema validation, hashing,
#: compiling) walks the expanded tree. The largest bundled ODCS example has under 1,000 nodes; one
#: object costs about half a millisecond of schema validation, so 5,000 keep loading within seconds.
MAX_YAML_NODES = 100_000
MAX_YAML_MAPPINGS = 5_000
MAX_YAML_DEPTH = 64
IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
LAYERS = ("sources", "golden", "marts")
#: columns the platform adds to the tables it writes (DuckDB compares names case-insensitively)
RESERVED_COLUMNS = frozenset(
    {"_partition_date", "_source_file", "_source_line", "_rule_ids", "_reason", "_raw_record"}
    | {"_source_records", "_provenance"}
)
#: prefix of the platform's working columns and tables (``__raw__<name>``, ``__row``, ``__dte_*``)
INTERNAL_PREFIX = "__"
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_YamlBase: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml: much faster


@cache
def _schema(name: str) -> Any:
    text = resources.files("dte_platform.contracts").joinpath("schemas", name).read_text("utf-8")
    return json.loads(text)


@cache
def _validator(name: str) -> jsonschema.protocols.Validator:
    schema = _schema(name)
    cls = jsonschema.validators.validator_for(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


class _UniqueKeyLoader(_YamlBase):  # type: ignore[misc,valid-type]
    """A safe loader that refuses duplicate mapping keys instead of keeping the last one."""


def _construct_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        if key in seen:
            raise yaml.MarkedYAMLError(problem=f"duplicate key {key!r}", problem_mark=key_node.start_mark)
        seen.add(key)
    return loader.construct_mapping(node)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def readable_path(document: Any, parts: Iterable[str | int]) -> str:
    """``['schema', 0, 'properties', 2, 'logicalType']`` -> ``schema.orders.properties.id.logicalType``.

    List items are named by their ``name`` (schema objects, properties) or ``property`` (custom and
    SLA properties) when they have one, else by ``[index]``.
    """
    out: list[str] = []
    node = document
    for part in parts:
        if isinstance(part, int) and isinstance(node, list):
            item = node[part] if part < len(node) else None
            label = _item_label(item)
            out.append(label if label else f"[{part}]")
            node = item
        else:
            out.append(str(part))
            node = node.get(part) if isinstance(node, Mapping) else None
    return ".".join(out).replace(".[", "[")


def _item_label(item: Any) -> str | None:
    if isinstance(item, Mapping):
        for key in ("name", "property"):
            if isinstance(item.get(key), str) and item[key]:
                return str(item[key])
    return None


def parse_yaml(file: Path) -> Any:
    """Parse one YAML definition file, refusing anything whose cost is not bounded by its size.

    At most :data:`MAX_CONTRACT_BYTES` are read (the file's reported size is not trusted), and the
    event stream is measured before any object is built (:func:`_check_shape`)."""
    return parse_text(file, _read_text(file))


def parse_text(file: Path, text: str) -> Any:
    """Parse YAML text read from ``file`` (which names it in errors); see :func:`parse_yaml`."""
    try:
        _check_shape(file, text)
        return yaml.load(text, Loader=_UniqueKeyLoader)
    except yaml.YAMLError as exc:
        # the YAML library may refuse deep nesting itself, before our event walk sees it: the
        # refusal is ours either way, and so is its wording
        line = _deeply_nested_line(text)
        if line is not None:
            raise DefinitionError(
                file, f"line {line}", f"invalid YAML: nested deeper than {MAX_YAML_DEPTH} levels"
            ) from exc
        if isinstance(exc, yaml.MarkedYAMLError):
            mark = exc.problem_mark
            where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
            raise DefinitionError(file, where, f"invalid YAML: {exc.problem}") from exc
        raise DefinitionError(file, "", f"invalid YAML: {exc}") from exc
    except RecursionError as exc:  # pragma: no cover - _check_shape bounds the depth first
        raise DefinitionError(file, "", "invalid YAML: nested too deeply") from exc


def _read_text(file: Path) -> str:
    return read_definition_text(file, "contract")


def read_definition_text(file: Path, what: str) -> str:
    """A definition file's UTF-8 text, reading at most the size limit (``stat`` is not trusted)."""
    try:
        with file.open("rb") as handle:
            data = handle.read(MAX_CONTRACT_BYTES + 1)
    except OSError as exc:
        raise DefinitionError(file, "", f"cannot read the {what}: {exc.strerror}") from exc
    if len(data) > MAX_CONTRACT_BYTES:
        raise DefinitionError(file, "", f"the {what} is over the limit of {MAX_CONTRACT_BYTES} bytes")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        where = f"{exc.reason} at byte {exc.start}"
        raise DefinitionError(file, "", f"the {what} is not UTF-8 text: {where}") from exc


def _check_shape(file: Path, text: str) -> None:
    """Refuse alias bombs, deep nesting and oversized documents before anything is built.

    PyYAML shares an aliased node rather than copying it, but every later stage walks the expanded
    tree: nine anchors of nine aliases each are a billion nodes ("billion laughs"). One pass over the
    event stream gives each anchored node's expanded size, without recursion and without building it.
    """
    sizes: dict[str, tuple[int, int]] = {}  # anchor -> (nodes, mappings), expanded
    stack: list[list[Any]] = [[None, 0, 0]]  # open collections: [anchor, nodes, mappings]
    for event in yaml.parse(text, Loader=_YamlBase):
        if isinstance(event, yaml.CollectionStartEvent):
            mapping = int(isinstance(event, yaml.MappingStartEvent))
            stack.append([event.anchor, 1, mapping])
            if len(stack) > MAX_YAML_DEPTH:
                raise _shape_error(file, event, f"nested deeper than {MAX_YAML_DEPTH} levels")
            continue
        if isinstance(event, yaml.CollectionEndEvent):
            anchor, nodes, mappings = stack.pop()
        elif isinstance(event, yaml.AliasEvent):
            anchor, (nodes, mappings) = None, sizes.get(event.anchor or "", (1, 0))
        elif isinstance(event, yaml.ScalarEvent):
            anchor, nodes, mappings = event.anchor, 1, 0
        else:
            continue
        if anchor:
            sizes[anchor] = (nodes, mappings)
        parent = stack[-1]
        parent[1] += nodes
        parent[2] += mappings
        if parent[1] > MAX_YAML_NODES:
            raise _shape_error(file, event, f"more than {MAX_YAML_NODES} values, aliases expanded")
        if parent[2] > MAX_YAML_MAPPINGS:
            raise _shape_error(
                file, event, f"more than {MAX_YAML_MAPPINGS} objects, aliases expanded; split the contract"
            )


def _deeply_nested_line(text: str) -> int | None:
    """The line where flow collections (``[`` / ``{``) first nest deeper than MAX_YAML_DEPTH, in one
    linear pass that skips quoted text and comments; None when they never do."""
    depth, line, quote, comment, previous = 0, 1, "", False, "\n"
    escaped = False
    for char in text:
        if char == "\n":
            line, comment = line + 1, False
        elif comment:
            pass
        elif quote:
            if escaped:
                escaped = False
            elif quote == '"' and char == "\\":
                escaped = True
            elif char == quote:
                quote = ""
        elif char in "'\"":
            quote = char
        elif char == "#" and previous in " \t\n":
            comment = True
        elif char in "[{":
            depth += 1
            if depth > MAX_YAML_DEPTH:
                return line
        elif char in "]}":
            depth = max(depth - 1, 0)
        previous = char
    return None


def _shape_error(file: Path, event: yaml.Event, message: str) -> DefinitionError:
    mark = event.start_mark
    return DefinitionError(file, f"line {mark.line + 1}" if mark else "", f"invalid YAML: {message}")


def validate_against(schema_name: str, document: Any, file: Path, prefix: Sequence[str | int] = ()) -> None:
    """Raise one DefinitionError listing every schema violation, the most relevant first."""
    errors = sorted(
        _validator(schema_name).iter_errors(document),
        key=lambda e: (jsonschema.exceptions.relevance(e), list(map(str, e.absolute_path))),
    )
    if not errors:
        return
    first = errors[0]
    path = readable_path(document, first.absolute_path)
    field = ".".join(p for p in (readable_path({}, prefix), path) if p) if prefix else path
    others = [f"{readable_path(document, e.absolute_path) or '<root>'}: {e.message}" for e in errors[1:6]]
    more = ("; also " + "; ".join(others)) if others else ""
    raise DefinitionError(file, field or "<root>", f"{_shorten(first.message)}{more}")


def _shorten(message: str, limit: int = 300) -> str:
    return message if len(message) <= limit else message[: limit - 3] + "..."


def load_contract(file: Path | str, contracts_dir: Path | None = None) -> Contract:
    """Load and validate one contract file. ``contracts_dir`` gives its layer (first sub-folder)."""
    file = Path(file).resolve()
    if contracts_dir is not None and not file.is_relative_to(contracts_dir.resolve()):
        raise DefinitionError(file, "", f"the contract resolves outside {contracts_dir}; refused")
    text = _read_text(file)
    document = parse_text(file, text)
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return contract_from_document(document, file, _layer(file, contracts_dir), digest)


def contract_from_document(document: Any, file: Path, layer: str | None = None, digest: str = "") -> Contract:
    """Validate an already parsed contract and build the model; ``file`` names it in errors."""
    if not isinstance(document, dict):
        raise DefinitionError(file, "<root>", "a contract must be a YAML mapping")
    read_as, notices = _validate_odcs(document, file)
    digest = digest or hashlib.sha256(json.dumps(document, sort_keys=True, default=str).encode()).hexdigest()
    contract = _build_contract(file, document, digest, layer)
    return dataclasses.replace(contract, read_as=read_as, notices=notices)


def _validate_odcs(document: dict[str, Any], file: Path) -> tuple[str, tuple[str, ...]]:
    """Validate against the schema of the contract's own apiVersion; see :mod:`versions`."""
    declared = document.get("apiVersion")
    schema = versions.schema_for(declared)
    if schema is None:
        if isinstance(declared, str):
            raise DefinitionError(
                file,
                "apiVersion",
                f"{declared!r} is not an ODCS version this platform reads ({', '.join(versions.SUPPORTED)})",
            )
        # missing or not text: the newest schema says what is wrong in its own words
        validate_against(versions.SCHEMAS[versions.SUPPORTED[-1]], document, file)
    assert isinstance(declared, str) and schema is not None
    try:
        validate_against(schema, document, file)
    except DefinitionError as own:
        later = versions.fallback(declared)
        if later is None or any(True for _ in _validator(later[1]).iter_errors(document)):
            raise
        note = (
            f"apiVersion {declared}: read as {later[0]}, whose schema accepts it: the contract does "
            f"not validate against the {declared} schema ({own.field}: {own.message})"
        )
        return later[0], (note,)
    return declared, ()


def _layer(file: Path, contracts_dir: Path | None) -> str | None:
    if contracts_dir is None:
        return None
    try:
        first = file.relative_to(contracts_dir.resolve()).parts[0]
    except (ValueError, IndexError):
        return None
    return first if first in LAYERS else None


def _build_contract(file: Path, doc: dict[str, Any], digest: str, layer: str | None) -> Contract:
    contract_dte = _dte_value(file, doc.get("customProperties"), "customProperties")
    domain = doc.get("domain")
    if layer is not None:
        _require_identifier(file, "domain", domain)
    datasets = tuple(
        _build_dataset(file, doc, i, obj, contract_dte) for i, obj in enumerate(doc.get("schema") or [])
    )
    ignored = [f"{key}: informational, not enforced" for key in ("servers", "price", "roles") if key in doc]
    return Contract(
        file=file,
        id=str(doc["id"]),
        version=str(doc["version"]),
        api_version=str(doc["apiVersion"]),
        status=str(doc.get("status") or ""),  # optional since ODCS v3.2.0
        datasets=datasets,
        sla=_build_sla(doc),
        sha256=digest,
        layer=layer,
        domain=domain,
        name=doc.get("name"),
        description=_description(doc.get("description")),
        owners=_owners(doc.get("team")),
        tags=tuple(str(t) for t in doc.get("tags") or ()),
        ignored=tuple(ignored),
        raw=doc,
    )


def _description(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        parts = [f"{k}: {v}" for k, v in value.items() if isinstance(v, str)]
        return "\n".join(parts) or None
    return None


def _owners(team: Any) -> tuple[str, ...]:
    """Team members with an owner role; Dagster wants emails or ``team:<name>``. ODCS v3.1 has a team
    object with ``members``; v3.0 a plain list of members (still accepted, deprecated)."""
    members = (team.get("members") or []) if isinstance(team, Mapping) else team
    if not isinstance(members, list):
        return ()
    owners = [
        str(m["username"])
        for m in members
        if isinstance(m, Mapping)
        and "owner" in str(m.get("role", "")).lower()
        and "@" in str(m.get("username", ""))
    ]
    if isinstance(team, Mapping) and team.get("name"):
        owners.append(f"team:{re.sub(r'[^A-Za-z0-9_-]', '_', str(team['name']))}")
    return tuple(owners)


def _build_sla(doc: Mapping[str, Any]) -> tuple[SlaProperty, ...]:
    return tuple(
        SlaProperty(
            property=str(item["property"]),
            value=item["value"],
            unit=item.get("unit"),
            element=item.get("element") or doc.get("slaDefaultElement"),
            path=readable_path(doc, ["slaProperties", i]),
        )
        for i, item in enumerate(doc.get("slaProperties") or [])
    )


def _build_dataset(
    file: Path, doc: dict[str, Any], index: int, obj: dict[str, Any], contract_dte: dict[str, Any]
) -> Dataset:
    path = readable_path(doc, ["schema", index])
    name = obj.get("name")
    _require_identifier(file, f"{path}.name", name)
    object_dte = _dte_value(file, obj.get("customProperties"), f"{path}.customProperties")
    dte_value = {**contract_dte, **object_dte}
    # where each dte key was declared, so that errors name the right place
    origins = {
        k: f"{path}.customProperties.dte.value" if k in object_dte else "customProperties.dte.value"
        for k in dte_value
    }
    columns = tuple(
        _build_column(file, doc, ["schema", index, "properties", j], prop)
        for j, prop in enumerate(obj.get("properties") or [])
    )
    _check_unique_names(file, path, columns)
    ignored = [f"{path}.relationships: not enforced"] if obj.get("relationships") else []
    return Dataset(
        name=str(name),
        path=path,
        columns=columns,
        quality=_quality(doc, ["schema", index, "quality"], obj.get("quality")),
        dte=_build_dte(file, origins, dte_value),
        physical_name=obj.get("physicalName"),
        description=obj.get("description") or obj.get("businessName"),
        ignored=tuple(ignored),
    )


def _check_unique_names(file: Path, path: str, columns: Sequence[Column]) -> None:
    """Names are compared as DuckDB compares identifiers: ignoring case."""
    seen: dict[str, str] = {}
    for column in columns:
        folded = column.name.lower()
        if folded in seen:
            same = "" if seen[folded] == column.name else f" (the warehouse ignores case: {seen[folded]!r})"
            raise DefinitionError(file, column.path, f"duplicate property name {column.name!r}{same}")
        seen[folded] = column.name


def _build_column(file: Path, doc: dict[str, Any], parts: list[str | int], prop: dict[str, Any]) -> Column:
    path = readable_path(doc, parts)
    name = prop.get("name")
    if not isinstance(name, str) or not name.strip():
        raise DefinitionError(file, f"{path}.name", "every property needs a non-empty name")
    _check_column_name(file, f"{path}.name", name)
    if prop.get("physicalName") is not None:
        _check_column_name(file, f"{path}.physicalName", str(prop["physicalName"]), reserved=False)
    position = prop.get("primaryKeyPosition", -1) if prop.get("primaryKey") else None
    options = prop.get("logicalTypeOptions") or {}
    if not isinstance(options, Mapping):
        raise DefinitionError(file, f"{path}.logicalTypeOptions", "must be a mapping")
    ignored = [f"{path}.relationships: not enforced"] if prop.get("relationships") else []
    if prop.get("items") or prop.get("properties"):
        ignored.append(f"{path}: nested structure stored as JSON text, not validated")
    if prop.get("semanticType") not in (None, "column"):
        role = prop["semanticType"]
        ignored.append(f"{path}.semanticType: {role!r} is a semantic-layer role, not enforced")
    enum = prop.get("enum")
    return Column(
        name=name,
        physical_name=prop.get("physicalName") or name,
        path=path,
        logical_type=prop.get("logicalType"),
        physical_type=prop.get("physicalType"),
        required=bool(prop.get("required")) or position is not None,
        unique=bool(prop.get("unique")),
        primary_key_position=(position if position and position > 0 else 1) if position is not None else None,
        classification=prop.get("classification"),
        options=dict(options),
        quality=_quality(doc, [*parts, "quality"], prop.get("quality")),
        description=prop.get("description") or prop.get("businessName"),
        ignored=tuple(ignored),
        enum=tuple(item["value"] for item in enum) if isinstance(enum, list) else None,
    )


def _check_column_name(file: Path, field: str, name: str, reserved: bool = True) -> None:
    """Any text is a column name (it is always quoted), except control characters, which no landing
    header can carry, and the names of the columns the platform adds to its own tables."""
    if _CONTROL.search(name):
        raise DefinitionError(file, field, f"{name!r} contains a control character")
    if reserved and (name.lower() in RESERVED_COLUMNS or name.startswith(INTERNAL_PREFIX)):
        raise DefinitionError(
            file,
            field,
            f"{name!r} is reserved: the platform adds columns named {sorted(RESERVED_COLUMNS)} "
            f"and uses the prefix {INTERNAL_PREFIX!r} for its own",
        )


def _quality(doc: dict[str, Any], parts: list[str | int], items: Any) -> tuple[QualitySpec, ...]:
    return tuple(
        QualitySpec(spec=item, path=readable_path(doc, [*parts, i])) for i, item in enumerate(items or [])
    )


def _dte_value(file: Path, custom: Any, path: str) -> dict[str, Any]:
    for i, item in enumerate(custom or []):
        if item.get("property") == "dte":
            value = item.get("value")
            where = f"{path}[{i}].value" if path else "value"
            validate_against("dte-extension.schema.json", value, file, prefix=[f"{path}.dte.value"])
            if not isinstance(value, dict):  # pragma: no cover - the schema requires an object
                raise DefinitionError(file, where, "the dte custom property must be an object")
            return value
    return {}


def _build_dte(file: Path, origins: Mapping[str, str], value: Mapping[str, Any]) -> DteSpec:
    source = value.get("source")
    quarantine = value.get("quarantine") or {}
    freshness = value.get("freshness") or {}
    canonical = value.get("canonical")
    return DteSpec(
        canonical=_build_canonical(f"{origins['canonical']}.canonical", canonical) if canonical else None,
        risk=value.get("risk", "low"),
        source=_build_source(file, f"{origins['source']}.source", source) if source else None,
        quarantine_max_percent=float(quarantine.get("maxPercent", 5.0)),
        freshness_severity=freshness.get("severity", "warning"),
        sql=_sql_file(file, f"{origins.get('sql')}.sql", value["sql"]) if "sql" in value else None,
        sql_path=f"{origins.get('sql')}.sql",
        partition_start=(value.get("partitioning") or {}).get("start"),
        confidence=_confidence(value.get("confidence") or {}),
        rule_scope=value.get("ruleScope", "table"),
    )


def _confidence(value: Mapping[str, Any]) -> ConfidenceSpec:
    volume, drift = value.get("volume") or {}, value.get("drift") or {}
    defaults = ConfidenceSpec()
    return ConfidenceSpec(
        min_score=float(value.get("minScore", defaults.min_score)),
        severity=value.get("severity", defaults.severity),
        weights={**defaults.weights, **(value.get("weights") or {})},
        volume_min_history=int(volume.get("minHistory", defaults.volume_min_history)),
        volume_threshold=float(volume.get("threshold", defaults.volume_threshold)),
        volume_severity=volume.get("severity", defaults.volume_severity),
        drift_threshold=float(drift.get("threshold", defaults.drift_threshold)),
        drift_severity=drift.get("severity", defaults.drift_severity),
    )


def _sql_file(file: Path, where: str, relative: str) -> Path:
    path = (file.parent / relative).resolve()
    if not path.is_relative_to(file.parent.resolve()):
        raise DefinitionError(file, where, "the SQL file must sit next to the contract (or below it)")
    if not path.is_file():
        raise DefinitionError(file, where, f"SQL file {relative} not found next to the contract")
    return path


def _build_canonical(path: str, spec: Mapping[str, Any]) -> CanonicalSpec:
    training = spec.get("training") or {}
    survivorship = spec["survivorship"]
    return CanonicalSpec(
        inputs=tuple(_build_input(f"{path}.inputs[{i}]", item) for i, item in enumerate(spec["inputs"])),
        normalize={k: tuple(v) for k, v in (spec.get("normalize") or {}).items()},
        blocking=tuple(tuple(rule) for rule in spec["blocking"]),
        comparisons={k: dict(v) for k, v in spec["comparisons"].items()},
        survivorship_default=_survivorship(survivorship["default"]),
        survivorship_fields={k: _survivorship(v) for k, v in (survivorship.get("fields") or {}).items()},
        source_priority=tuple(survivorship.get("sourcePriority") or ()),
        path=path,
        threshold=float(spec.get("threshold", 0.9)),
        seed=int(training.get("seed", 42)),
        max_pairs=int(training.get("maxPairs", 1_000_000)),
        em_blocking=tuple(tuple(rule) for rule in training.get("em") or ()),
        deterministic=tuple(tuple(rule) for rule in training.get("deterministic") or ()),
        recall=float(training.get("recall", 0.8)),
        max_cluster_size=int(spec.get("maxClusterSize", 10)),
    )


def _build_input(path: str, item: Mapping[str, Any]) -> CanonicalInput:
    fields = {
        name: FieldSource(value)
        if isinstance(value, str)
        else FieldSource(value["column"], tuple(value.get("normalize") or ()))
        for name, value in item["fields"].items()
    }
    return CanonicalInput(
        asset=item["asset"],
        system=item["system"],
        key=item["key"],
        fields=fields,
        path=path,
        recency=item.get("recency"),
    )


def _survivorship(value: Mapping[str, Any]) -> SurvivorshipRule:
    return SurvivorshipRule(rule=value["rule"], tie_break=tuple(value.get("tieBreak") or ()))


def _build_source(file: Path, path: str, source: Mapping[str, Any]) -> SourceSpec:
    landing = str(source["path"])
    where = f"{path}.path"
    if (
        Path(landing).is_absolute()
        or ".." in Path(landing).parts
        or landing.startswith("~")
        or _CONTROL.search(landing)
    ):
        raise DefinitionError(file, where, "landing path must stay inside the project directory")
    if "{date}" not in landing and source.get("partitioning"):
        raise DefinitionError(file, where, "a daily-partitioned source path needs a {date} placeholder")
    csv = source.get("csv") or {}
    partitioning = source.get("partitioning") or {}
    return SourceSpec(
        path=landing,
        format=source["format"],
        partition_start=partitioning.get("start"),
        delimiter=csv.get("delimiter", ","),
        quote=csv.get("quote", '"'),
        escape=csv.get("escape", csv.get("quote", '"')),
        null_values=tuple(source.get("nullValues", ("", "NULL", "null"))),
    )


def _require_identifier(file: Path, field: str, value: Any) -> None:
    if not isinstance(value, str) or not IDENTIFIER.match(value):
        raise DefinitionError(
            file, field, f"{value!r} must be an identifier (letters, digits, underscore; max 63)"
        )


def discover_contracts(contracts_dir: Path) -> list[Path]:
    """Every ``*.odcs.yaml`` below ``contracts_dir``, in a stable order."""
    return sorted(p for p in contracts_dir.rglob(f"*{CONTRACT_SUFFIX}") if p.is_file())


def load_project_contracts(contracts_dir: Path) -> list[Contract]:
    """Load every contract of a project; the first bad one stops loading with its file and field."""
    return [load_contract(path, contracts_dir) for path in discover_contracts(contracts_dir)]

"""The one contract loader: ODCS v3.1 YAML -> typed contracts -> Great Expectations suites -> reports.

Every dataset steward reads or writes has a contract in data_contracts/ (see its README). This module
reads them strictly (a key, metric, operator, logical type or classification it does not understand is
a ContractError naming the file and the rule's path, never silently dropped), turns each rule into GX
expectations tagged with a stable rule id and a severity, validates a pandas frame or a database
table, and reports counts only: no row value ever reaches a report, an exception message or a GX
result (result format BASIC with unexpected values excluded).

    report = validate_table("accounts")          # the configured database
    report = validate_frame("bounce_import", df)  # a frame a stage built
    report.raise_for_blocking()                   # ContractViolation when an `error` rule failed
"""

from __future__ import annotations

import math
import re
import threading
import uuid
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal, cast, get_args

import yaml

from steward import PROJECT_ROOT
from steward.errors import ConfigurationError, StewardError

if TYPE_CHECKING:
    import pandas as pd
    from sqlalchemy import Engine

CONTRACTS_DIR = PROJECT_ROOT / "data_contracts"
TABLES_DIR = CONTRACTS_DIR / "tables"
DATASETS_DIR = CONTRACTS_DIR / "datasets"

LogicalType = Literal["integer", "number", "string", "boolean", "date", "timestamp"]
Classification = Literal[
    "not_personal",
    "identifier",
    "contact",
    "identity",
    "professional",
    "demographic",
    "special_category",
    "financial",
    "content",
    "activity",
    "preference",
    "technical",
]
Severity = Literal["error", "warning"]
Operator = Literal[
    "mustBe",
    "mustNotBe",
    "mustBeGreaterThan",
    "mustBeGreaterOrEqualTo",
    "mustBeLessThan",
    "mustBeLessOrEqualTo",
    "mustBeBetween",
    "mustNotBeBetween",
]
Metric = Literal["nullValues", "duplicateValues", "invalidValues", "rowCount"]
Unit = Literal["rows", "percent"]
CheckKind = Literal[
    "column_exists",
    "column_set",
    "type",
    "not_null",
    "unique",
    "compound_unique",
    "in_set",
    "regex",
    "length",
    "between",
    "row_count",
]
Status = Literal["passed", "failed", "error", "skipped"]
Backend = Literal["pandas", "sqlite", "postgresql", "sql"]

LOGICAL_TYPES: frozenset[str] = frozenset(get_args(LogicalType))
CLASSIFICATIONS: frozenset[str] = frozenset(get_args(Classification))
OPERATORS: tuple[str, ...] = get_args(Operator)
COLUMN_METRICS: frozenset[str] = frozenset({"nullValues", "duplicateValues", "invalidValues"})
TABLE_METRICS: frozenset[str] = frozenset({"rowCount", "duplicateValues"})
MAP_PROPERTIES: tuple[str, ...] = (
    "subject",
    "purpose",
    "legalBasis",
    "recipients",
    "retentionRule",
    "erasure",
)
"""The personal-data map's keys in a schema object's customProperties (read by tasks.personal_data)."""

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_RULE_ID = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")

# Keys this loader understands, per object. Informational keys are kept out of the checks but are
# accepted; anything else is refused so that a typo never silently disables a rule.
_TOP_KEYS = frozenset(
    {
        "apiVersion",
        "kind",
        "id",
        "name",
        "version",
        "status",
        "domain",
        "dataProduct",
        "tenant",
        "description",
        "tags",
        "schema",
        "contractCreatedTs",
        "team",
        "support",
    }
)
_SCHEMA_KEYS = frozenset(
    {
        "id",
        "name",
        "physicalName",
        "physicalType",
        "logicalType",
        "businessName",
        "description",
        "tags",
        "customProperties",
        "quality",
        "properties",
    }
)
_PROPERTY_KEYS = frozenset(
    {
        "id",
        "name",
        "physicalName",
        "logicalType",
        "physicalType",
        "businessName",
        "description",
        "tags",
        "examples",
        "required",
        "unique",
        "primaryKey",
        "primaryKeyPosition",
        "classification",
        "logicalTypeOptions",
        "quality",
    }
)
_QUALITY_KEYS = frozenset(
    {
        "id",
        "name",
        "description",
        "type",
        "metric",
        "arguments",
        "unit",
        "severity",
        "dimension",
        "businessImpact",
        "tags",
        *OPERATORS,
    }
)
_TYPE_OPTIONS: Mapping[str, frozenset[str]] = {
    "string": frozenset({"pattern", "minLength", "maxLength"}),
    "integer": frozenset({"minimum", "maximum"}),
    "number": frozenset({"minimum", "maximum"}),
    "boolean": frozenset(),
    "date": frozenset(),
    "timestamp": frozenset(),
}

# How a logical type is checked. pandas: one dtype name for ExpectColumnValuesToBeOfType (it matches
# the numpy scalar type, so "int64" accepts int64 and Int64, "bool" accepts bool and boolean, and an
# object column is checked value by value; ExpectColumnValuesToBeInTypeList is unreliable on pandas
# extension dtypes). SQL: type names for ExpectColumnValuesToBeInTypeList, resolved as SQLAlchemy
# type classes on SQLite and compared as reflected names on PostgreSQL ("VARCHAR(n)" is added from
# maxLength).
PANDAS_TYPES: Mapping[str, str] = {
    "integer": "int64",
    "number": "float64",
    "string": "str",
    "boolean": "bool",
    "date": "date",
    "timestamp": "datetime64",
}
SQL_TYPES: Mapping[str, tuple[str, ...]] = {
    "integer": ("INTEGER", "BIGINT", "SMALLINT"),
    "number": ("FLOAT", "REAL", "DOUBLE", "DOUBLE_PRECISION", "DOUBLE PRECISION", "NUMERIC", "DECIMAL"),
    "string": ("VARCHAR", "TEXT", "CHAR", "NVARCHAR", "CLOB"),
    "boolean": ("BOOLEAN",),
    "date": ("DATE",),
    "timestamp": ("DATETIME", "TIMESTAMP", "TIMESTAMP WITHOUT TIME ZONE"),
}

# SQLite stores dates and timestamps as text and GX cannot check their declared type there (the
# reflected sqltypes.DATETIME is not the dialect module's DATETIME, so the type check always fails).
# What matters on SQLite is that every value is text SQLAlchemy can read back, so the check is the
# format SQLAlchemy writes.
SQLITE_TEXT_FORMATS: Mapping[str, str] = {
    "date": r"^\d{4}-\d{2}-\d{2}$",
    "timestamp": r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{1,6})?$",
}

RESULT_FORMAT: Mapping[str, Any] = MappingProxyType(
    {
        "result_format": "BASIC",
        "partial_unexpected_count": 0,
        "exclude_unexpected_values": True,
        "include_unexpected_rows": False,
        "return_unexpected_index_query": False,
    }
)
"""GX result format: counts and percentages, never the failing values, rows or a query naming them."""


# ------------------------------------------------------------------------------------------- errors


class ContractError(ConfigurationError):
    """A contract file is missing, malformed, or holds a rule this loader does not understand."""

    def __init__(self, path: Path | str, where: str, problem: str) -> None:
        self.path = _display_path(path)
        self.where = where
        self.problem = problem
        location = f"{self.path}: {where}: " if where else f"{self.path}: "
        super().__init__(f"{location}{problem}")


class ContractViolation(StewardError):
    """Data broke a blocking rule of its contract. The message names rules and counts, never values."""

    exit_code = 1

    def __init__(self, report: ValidationReport) -> None:
        self.report = report
        failures = "; ".join(result.describe() for result in report.blocking_failures)
        super().__init__(
            f"contract {report.contract!r}: {len(report.blocking_failures)} blocking rule(s) failed: "
            f"{failures}"
        )


def _display_path(path: Path | str) -> str:
    path = Path(path)
    try:
        return str(path.resolve().relative_to(PROJECT_ROOT))
    except ValueError:
        return str(path)


# -------------------------------------------------------------------------------------- the model


@dataclass(frozen=True)
class Condition:
    """One ODCS operator and its operand, e.g. mustBeLessThan 5."""

    operator: Operator
    value: float | tuple[float, float]

    def holds(self, measured: float) -> bool:
        op, value = self.operator, self.value
        if op in ("mustBeBetween", "mustNotBeBetween"):
            low, high = cast(tuple[float, float], value)
            inside = low <= measured <= high
            return inside if op == "mustBeBetween" else not inside
        bound = cast(float, value)
        if op == "mustBe":
            return measured == bound
        if op == "mustNotBe":
            return measured != bound
        if op == "mustBeGreaterThan":
            return measured > bound
        if op == "mustBeGreaterOrEqualTo":
            return measured >= bound
        if op == "mustBeLessThan":
            return measured < bound
        return measured <= bound  # mustBeLessOrEqualTo

    def __str__(self) -> str:
        symbols = {
            "mustBe": "=",
            "mustNotBe": "≠",
            "mustBeGreaterThan": ">",
            "mustBeGreaterOrEqualTo": "≥",
            "mustBeLessThan": "<",
            "mustBeLessOrEqualTo": "≤",
        }
        if self.operator in symbols:
            return f"{symbols[self.operator]} {_number(cast(float, self.value))}"
        low, high = cast(tuple[float, float], self.value)
        word = "in" if self.operator == "mustBeBetween" else "not in"
        return f"{word} [{_number(low)}, {_number(high)}]"


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


@dataclass(frozen=True)
class QualityRule:
    """An ODCS library quality rule (`quality[]` of a property or of the schema object)."""

    rule_id: str
    path: str
    metric: Metric
    conditions: tuple[Condition, ...]
    unit: Unit = "rows"
    severity: Severity = "error"
    column: str | None = None
    valid_values: tuple[Any, ...] | None = None
    pattern: str | None = None
    properties: tuple[str, ...] = ()
    description: str | None = None


@dataclass(frozen=True)
class Property:
    """A column (`schema[0].properties[]`)."""

    name: str
    logical_type: LogicalType
    classification: Classification
    path: str
    physical_type: str | None = None
    required: bool = False
    unique: bool = False
    primary_key: bool = False
    pattern: str | None = None
    min_length: int | None = None
    max_length: int | None = None
    minimum: float | None = None
    maximum: float | None = None
    quality: tuple[QualityRule, ...] = ()
    description: str | None = None

    @property
    def personal(self) -> bool:
        """True when the column holds personal data (any classification but `not_personal`)."""
        return self.classification != "not_personal"


@dataclass(frozen=True)
class Check:
    """One GX expectation derived from a contract, tagged with its rule id and severity."""

    rule_id: str
    kind: CheckKind
    severity: Severity
    label: str
    column: str | None = None
    columns: tuple[str, ...] = ()
    params: Mapping[str, Any] = field(default_factory=dict)
    conditions: tuple[Condition, ...] = ()
    unit: Unit = "rows"

    @property
    def needs_columns(self) -> tuple[str, ...]:
        """Columns that must exist for this check to run (the existence checks themselves need none)."""
        if self.kind in ("column_exists", "column_set", "row_count"):
            return ()
        return self.columns or ((self.column,) if self.column else ())


@dataclass(frozen=True)
class Contract:
    """A parsed ODCS contract: one dataset (a table, or a dataset a stage reads or writes)."""

    name: str
    path: Path
    kind: Literal["table", "dataset"]
    physical_name: str
    properties: tuple[Property, ...]
    quality: tuple[QualityRule, ...]
    custom_properties: Mapping[str, Any]
    id: str | None = None
    version: str | None = None
    status: str | None = None
    domain: str | None = None
    description: str | None = None
    _checks: tuple[Check, ...] = field(init=False, repr=False, compare=False, default=())

    def __post_init__(self) -> None:
        object.__setattr__(self, "_checks", _derive_checks(self))

    @property
    def display_path(self) -> str:
        return _display_path(self.path)

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(prop.name for prop in self.properties)

    @property
    def primary_key(self) -> tuple[str, ...]:
        return tuple(prop.name for prop in self.properties if prop.primary_key)

    def column(self, name: str) -> Property:
        """The property (column) `name`; KeyError when the contract has none."""
        for prop in self.properties:
            if prop.name == name:
                return prop
        raise KeyError(f"contract {self.name!r} has no column {name!r}")

    def has_column(self, name: str) -> bool:
        return any(prop.name == name for prop in self.properties)

    @property
    def rules(self) -> tuple[QualityRule, ...]:
        """Every quality rule: the table's, then each column's."""
        return self.quality + tuple(rule for prop in self.properties for rule in prop.quality)

    @property
    def checks(self) -> tuple[Check, ...]:
        """Every GX expectation this contract asks for, in a stable order, each with its rule id."""
        return self._checks

    def rule_ids(self) -> tuple[str, ...]:
        return tuple(check.rule_id for check in self.checks)


# ----------------------------------------------------------------------------------------- loading


class _StrictLoader(yaml.SafeLoader):
    """A safe loader that refuses duplicate keys (PyYAML would silently keep the last one)."""


def _mapping_without_duplicates(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False) -> Any:
    seen: set[Any] = set()
    for key_node, _value_node in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            mark = key_node.start_mark
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r} (line {mark.line + 1})", mark
            )
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_StrictLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
    _mapping_without_duplicates,
)


def contract_path(name: str) -> Path:
    """The file of contract `name`: data_contracts/tables/<name>.yaml, else datasets/<name>.yaml."""
    if not _NAME.match(name):
        raise ContractError(CONTRACTS_DIR, "", f"{name!r} is not a contract name (lowercase, digits, _)")
    for folder in (TABLES_DIR, DATASETS_DIR):
        path = folder / f"{name}.yaml"
        if path.is_file():
            return path
    raise ContractError(
        CONTRACTS_DIR, "", f"no contract {name!r} (looked for tables/{name}.yaml and datasets/{name}.yaml)"
    )


@cache
def load_contract(name: str) -> Contract:
    """The contract `name` (tables first, then datasets), parsed once per process."""
    return parse_contract_file(contract_path(name))


def table_contracts() -> dict[str, Contract]:
    """Every table contract (data_contracts/tables/*.yaml), by table name."""
    return {path.stem: load_contract(path.stem) for path in sorted(TABLES_DIR.glob("*.yaml"))}


def dataset_contracts() -> dict[str, Contract]:
    """Every dataset contract (data_contracts/datasets/*.yaml), by name."""
    names = [path.stem for path in sorted(DATASETS_DIR.glob("*.yaml"))]
    return {name: load_contract(name) for name in names if not (TABLES_DIR / f"{name}.yaml").exists()}


def clear_contract_cache() -> None:
    """Forget parsed contracts (after editing a file in a long-lived process, or in tests)."""
    load_contract.cache_clear()


def parse_contract_file(path: Path) -> Contract:
    """Parse and check one contract file; raises ContractError on anything it does not understand."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ContractError(path, "", f"cannot read the file ({type(exc).__name__})") from None
    try:
        document = yaml.load(text, Loader=_StrictLoader)  # a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = f"line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "not valid YAML"
        raise ContractError(path, line, f"malformed YAML: {problem}") from None
    kind: Literal["table", "dataset"] = "table" if path.parent.name == "tables" else "dataset"
    return _Parser(path, kind).contract(document)


class _Parser:
    def __init__(self, path: Path, kind: Literal["table", "dataset"]) -> None:
        self.path = path
        self.kind = kind
        self.name = path.stem

    def fail(self, where: str, problem: str) -> ContractError:
        return ContractError(self.path, where, problem)

    # -- helpers

    def mapping(self, value: Any, where: str) -> Mapping[str, Any]:
        if not isinstance(value, Mapping):
            raise self.fail(where, f"expected a mapping, found {_kind_of(value)}")
        for key in value:
            if not isinstance(key, str):
                raise self.fail(where, f"keys must be strings, found {_kind_of(key)}")
        return value

    def sequence(self, value: Any, where: str) -> Sequence[Any]:
        if not isinstance(value, list):
            raise self.fail(where, f"expected a list, found {_kind_of(value)}")
        return value

    def only_keys(self, value: Mapping[str, Any], allowed: Collection[str], where: str) -> None:
        for key in value:
            if key not in allowed:
                raise self.fail(where, f"unknown key {key!r} (this loader understands: {_sorted(allowed)})")

    def string(self, value: Mapping[str, Any], key: str, where: str, required: bool = False) -> str | None:
        if key not in value or value[key] is None:
            if required:
                raise self.fail(where, f"missing {key!r}")
            return None
        if not isinstance(value[key], str) or not value[key].strip():
            raise self.fail(f"{where}.{key}", f"expected a non-empty string, found {_kind_of(value[key])}")
        return cast(str, value[key])

    def boolean(self, value: Mapping[str, Any], key: str, where: str) -> bool:
        if key not in value:
            return False
        if not isinstance(value[key], bool):
            raise self.fail(f"{where}.{key}", f"expected true or false, found {_kind_of(value[key])}")
        return cast(bool, value[key])

    def number(self, value: Any, where: str, integer: bool = False) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise self.fail(where, f"expected a number, found {_kind_of(value)}")
        if integer and (not float(value).is_integer() or value < 0):
            raise self.fail(where, "expected a whole number ≥ 0")
        return value

    def regex(self, value: Any, where: str) -> str:
        if not isinstance(value, str) or not value:
            raise self.fail(where, f"expected a regular expression, found {_kind_of(value)}")
        try:
            re.compile(value)
        except re.error as exc:
            raise self.fail(where, f"invalid regular expression ({exc})") from None
        return value

    # -- the document

    def contract(self, document: Any) -> Contract:
        top = self.mapping(document, "(top level)")
        self.only_keys(top, _TOP_KEYS, "(top level)")
        if top.get("apiVersion") != "v3.1.0":
            raise self.fail("apiVersion", f"expected 'v3.1.0', found {top.get('apiVersion')!r}")
        if top.get("kind") != "DataContract":
            raise self.fail("kind", f"expected 'DataContract', found {top.get('kind')!r}")
        name = self.string(top, "name", "(top level)", required=True)
        if name != self.name:
            raise self.fail("name", f"the contract in {self.name}.yaml must be named {self.name!r}")
        description = top.get("description")
        purpose = None
        if isinstance(description, Mapping):
            purpose = description.get("purpose")
        elif description is not None:
            purpose = description
        schema = self.sequence(top.get("schema"), "schema")
        if len(schema) != 1:
            raise self.fail("schema", f"expected exactly one schema object, found {len(schema)}")
        obj = self.mapping(schema[0], "schema[0]")
        self.only_keys(obj, _SCHEMA_KEYS, "schema[0]")
        if self.string(obj, "name", "schema[0]", required=True) != self.name:
            raise self.fail("schema[0].name", f"must be {self.name!r}, like the file")
        physical_name = self.string(obj, "physicalName", "schema[0]") or self.name
        properties = self.properties(obj.get("properties"))
        columns = {prop.name for prop in properties}
        quality = tuple(
            self.rule(rule, f"schema[0].quality[{i}]", column=None, columns=columns)
            for i, rule in enumerate(self.sequence(obj.get("quality", []), "schema[0].quality"))
        )
        custom = self.custom_properties(obj.get("customProperties"))
        contract = Contract(
            name=self.name,
            path=self.path,
            kind=self.kind,
            physical_name=physical_name,
            properties=properties,
            quality=quality,
            custom_properties=MappingProxyType(custom),
            id=_optional_str(top.get("id")),
            version=_optional_str(top.get("version")),
            status=_optional_str(top.get("status")),
            domain=_optional_str(top.get("domain")),
            description=_optional_str(purpose),
        )
        self.unique_rule_ids(contract)
        return contract

    def custom_properties(self, value: Any) -> dict[str, Any]:
        if value is None:
            if self.kind == "table":
                raise self.fail("schema[0]", "missing 'customProperties' (the personal-data map)")
            return {}
        result: dict[str, Any] = {}
        for i, item in enumerate(self.sequence(value, "schema[0].customProperties")):
            where = f"schema[0].customProperties[{i}]"
            entry = self.mapping(item, where)
            self.only_keys(entry, ("property", "value", "description"), where)
            key = self.string(entry, "property", where, required=True)
            assert key is not None
            if key not in MAP_PROPERTIES:
                raise self.fail(where, f"unknown custom property {key!r} (known: {_sorted(MAP_PROPERTIES)})")
            if key in result:
                raise self.fail(where, f"custom property {key!r} is given twice")
            if "value" not in entry:
                raise self.fail(where, "missing 'value'")
            result[key] = entry["value"]
        if self.kind == "table":
            missing = [key for key in MAP_PROPERTIES if key not in result]
            if missing:
                raise self.fail("schema[0].customProperties", f"missing map entries {missing}")
        return result

    def properties(self, value: Any) -> tuple[Property, ...]:
        items = self.sequence(value, "schema[0].properties")
        if not items:
            raise self.fail("schema[0].properties", "a contract needs at least one property")
        seen: set[str] = set()
        result = []
        for i, item in enumerate(items):
            prop = self.property(item, f"schema[0].properties[{i}]")
            if prop.name in seen:
                raise self.fail(prop.path, f"column {prop.name!r} is described twice")
            seen.add(prop.name)
            result.append(prop)
        return tuple(result)

    def property(self, item: Any, where: str) -> Property:
        obj = self.mapping(item, where)
        self.only_keys(obj, _PROPERTY_KEYS, where)
        name = self.string(obj, "name", where, required=True)
        assert name is not None
        logical = obj.get("logicalType")
        if logical not in LOGICAL_TYPES:
            raise self.fail(
                f"{where}.logicalType", f"unknown logicalType {logical!r} (known: {_sorted(LOGICAL_TYPES)})"
            )
        classification = obj.get("classification")
        if classification not in CLASSIFICATIONS:
            raise self.fail(
                f"{where}.classification",
                f"unknown classification {classification!r} (known: {_sorted(CLASSIFICATIONS)})",
            )
        options = self.mapping(obj.get("logicalTypeOptions", {}), f"{where}.logicalTypeOptions")
        allowed = _TYPE_OPTIONS[logical]
        for key in options:
            if key not in allowed:
                raise self.fail(
                    f"{where}.logicalTypeOptions",
                    f"unknown option {key!r} for logicalType {logical!r} (known: {_sorted(allowed) or 'none'})",
                )
        opt = f"{where}.logicalTypeOptions"
        pattern = self.regex(options["pattern"], f"{opt}.pattern") if "pattern" in options else None
        min_length = (
            int(self.number(options["minLength"], f"{opt}.minLength", integer=True))
            if "minLength" in options
            else None
        )
        max_length = (
            int(self.number(options["maxLength"], f"{opt}.maxLength", integer=True))
            if "maxLength" in options
            else None
        )
        minimum = self.number(options["minimum"], f"{opt}.minimum") if "minimum" in options else None
        maximum = self.number(options["maximum"], f"{opt}.maximum") if "maximum" in options else None
        if min_length is not None and max_length is not None and min_length > max_length:
            raise self.fail(opt, "minLength is greater than maxLength")
        if minimum is not None and maximum is not None and minimum > maximum:
            raise self.fail(opt, "minimum is greater than maximum")
        quality = tuple(
            self.rule(rule, f"{where}.quality[{i}]", column=name, columns={name})
            for i, rule in enumerate(self.sequence(obj.get("quality", []), f"{where}.quality"))
        )
        return Property(
            name=name,
            logical_type=cast(LogicalType, logical),
            classification=cast(Classification, classification),
            path=where,
            physical_type=_optional_str(obj.get("physicalType")),
            required=self.boolean(obj, "required", where),
            unique=self.boolean(obj, "unique", where),
            primary_key=self.boolean(obj, "primaryKey", where),
            pattern=pattern,
            min_length=min_length,
            max_length=max_length,
            minimum=minimum,
            maximum=maximum,
            quality=quality,
            description=_optional_str(obj.get("description")),
        )

    def rule(self, item: Any, where: str, column: str | None, columns: Collection[str]) -> QualityRule:
        obj = self.mapping(item, where)
        self.only_keys(obj, _QUALITY_KEYS, where)
        if obj.get("type", "library") != "library":
            raise self.fail(
                where, f"unsupported rule type {obj.get('type')!r}: only library metrics run here"
            )
        metric = obj.get("metric")
        allowed = COLUMN_METRICS if column is not None else TABLE_METRICS
        if metric not in allowed:
            level = "column" if column is not None else "table"
            raise self.fail(
                where, f"unknown metric {metric!r} for a {level} rule (known: {_sorted(allowed)})"
            )
        severity = obj.get("severity", "error")
        if severity not in ("error", "warning"):
            raise self.fail(f"{where}.severity", f"unknown severity {severity!r} (known: error, warning)")
        unit = obj.get("unit", "rows")
        if unit not in ("rows", "percent") or (unit == "percent" and metric == "rowCount"):
            raise self.fail(f"{where}.unit", f"unknown unit {unit!r} for {metric}")
        conditions = self.conditions(obj, where)
        arguments = self.mapping(obj.get("arguments", {}), f"{where}.arguments")
        valid_values: tuple[Any, ...] | None = None
        pattern: str | None = None
        properties: tuple[str, ...] = ()
        if metric == "invalidValues":
            self.only_keys(arguments, ("validValues", "pattern"), f"{where}.arguments")
            if ("validValues" in arguments) == ("pattern" in arguments):
                raise self.fail(
                    f"{where}.arguments", "give exactly one of validValues or pattern (one rule each)"
                )
            if "pattern" in arguments:
                pattern = self.regex(arguments["pattern"], f"{where}.arguments.pattern")
            else:
                values = self.sequence(arguments["validValues"], f"{where}.arguments.validValues")
                if not values:
                    raise self.fail(f"{where}.arguments.validValues", "the list of valid values is empty")
                for j, value in enumerate(values):
                    if isinstance(value, bool) or not isinstance(value, str | int | float):
                        raise self.fail(
                            f"{where}.arguments.validValues[{j}]",
                            f"expected a string or number, found {_kind_of(value)} (quote yes/no/on/off)",
                        )
                valid_values = tuple(values)
        elif metric == "duplicateValues" and column is None:
            self.only_keys(arguments, ("properties",), f"{where}.arguments")
            names = self.sequence(arguments.get("properties"), f"{where}.arguments.properties")
            if len(names) < 2 or not all(isinstance(n, str) for n in names):
                raise self.fail(
                    f"{where}.arguments.properties", "expected a list of two or more column names"
                )
            for n in names:
                if n not in columns:
                    raise self.fail(f"{where}.arguments.properties", f"no column {n!r} in this contract")
            properties = tuple(names)
        elif arguments:
            raise self.fail(f"{where}.arguments", f"{metric} takes no arguments here")
        rule_name = obj.get("id")
        if rule_name is not None and (not isinstance(rule_name, str) or not _RULE_ID.match(rule_name)):
            raise self.fail(f"{where}.id", "expected an identifier (letters, digits, _)")
        suffix = rule_name or metric
        rule_id = f"{self.name}.{column}.{suffix}" if column else f"{self.name}.{suffix}"
        return QualityRule(
            rule_id=rule_id,
            path=where,
            metric=cast(Metric, metric),
            conditions=conditions,
            unit=cast(Unit, unit),
            severity=cast(Severity, severity),
            column=column,
            valid_values=valid_values,
            pattern=pattern,
            properties=properties,
            description=_optional_str(obj.get("description")),
        )

    def conditions(self, obj: Mapping[str, Any], where: str) -> tuple[Condition, ...]:
        result = []
        for op in OPERATORS:
            if op not in obj:
                continue
            if op in ("mustBeBetween", "mustNotBeBetween"):
                pair = self.sequence(obj[op], f"{where}.{op}")
                if len(pair) != 2:
                    raise self.fail(f"{where}.{op}", "expected [low, high]")
                low = self.number(pair[0], f"{where}.{op}[0]")
                high = self.number(pair[1], f"{where}.{op}[1]")
                if low > high:
                    raise self.fail(f"{where}.{op}", "low is greater than high")
                result.append(Condition(cast(Operator, op), (low, high)))
            else:
                result.append(Condition(cast(Operator, op), self.number(obj[op], f"{where}.{op}")))
        if not result:
            raise self.fail(where, f"no operator (one of {', '.join(OPERATORS)})")
        return tuple(result)

    def unique_rule_ids(self, contract: Contract) -> None:
        seen: dict[str, str] = {}
        for prop in contract.properties:
            for check_id in _property_check_ids(contract.name, prop):
                seen[check_id] = prop.path
        for rule in contract.rules:
            if rule.rule_id in seen:
                raise self.fail(
                    rule.path,
                    f"rule id {rule.rule_id!r} is already used by {seen[rule.rule_id]}: give this rule an `id`",
                )
            seen[rule.rule_id] = rule.path


def _optional_str(value: Any) -> str | None:
    return None if value is None else str(value)


def _kind_of(value: Any) -> str:
    # Names the YAML kind of a value without echoing the value (a contract is not personal data, but
    # the habit keeps messages short and safe).
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return f"the string {value!r}" if len(value) <= 40 else "a long string"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return type(value).__name__


def _sorted(values: Iterable[str]) -> str:
    return ", ".join(sorted(values))


# ------------------------------------------------------------------------------------------ checks


def _property_check_ids(contract: str, prop: Property) -> list[str]:
    base = f"{contract}.{prop.name}"
    ids = [f"{base}.exists", f"{base}.type"]
    for flag, suffix in (
        (prop.required, "required"),
        (prop.unique, "unique"),
        (prop.pattern is not None, "pattern"),
        (prop.min_length is not None, "minLength"),
        (prop.max_length is not None, "maxLength"),
        (prop.minimum is not None, "minimum"),
        (prop.maximum is not None, "maximum"),
    ):
        if flag:
            ids.append(f"{base}.{suffix}")
    return ids


def _derive_checks(contract: Contract) -> tuple[Check, ...]:
    name = contract.name
    checks: list[Check] = [
        Check(
            f"{name}.columns",
            "column_set",
            "error",
            "no columns outside the contract",
            params={"column_set": list(contract.column_names)},
        )
    ]
    checks.extend(_rule_check(rule) for rule in contract.quality)
    for prop in contract.properties:
        base, col = f"{name}.{prop.name}", prop.name
        checks.append(Check(f"{base}.exists", "column_exists", "error", "column exists", column=col))
        checks.append(
            Check(
                f"{base}.type",
                "type",
                "error",
                f"type is {prop.logical_type}",
                column=col,
                params={"logical_type": prop.logical_type, "max_length": prop.max_length},
            )
        )
        if prop.required:
            checks.append(Check(f"{base}.required", "not_null", "error", "no nulls", column=col))
        if prop.unique:
            checks.append(Check(f"{base}.unique", "unique", "error", "no duplicates", column=col))
        if prop.pattern is not None:
            checks.append(
                Check(
                    f"{base}.pattern",
                    "regex",
                    "error",
                    "matches the pattern",
                    col,
                    params={"regex": prop.pattern},
                )
            )
        if prop.min_length is not None:
            checks.append(
                Check(
                    f"{base}.minLength",
                    "length",
                    "error",
                    f"length ≥ {prop.min_length}",
                    col,
                    params={"min_value": prop.min_length},
                )
            )
        if prop.max_length is not None:
            checks.append(
                Check(
                    f"{base}.maxLength",
                    "length",
                    "error",
                    f"length ≤ {prop.max_length}",
                    col,
                    params={"max_value": prop.max_length},
                )
            )
        if prop.minimum is not None:
            checks.append(
                Check(
                    f"{base}.minimum",
                    "between",
                    "error",
                    f"value ≥ {_number(prop.minimum)}",
                    col,
                    params={"min_value": prop.minimum},
                )
            )
        if prop.maximum is not None:
            checks.append(
                Check(
                    f"{base}.maximum",
                    "between",
                    "error",
                    f"value ≤ {_number(prop.maximum)}",
                    col,
                    params={"max_value": prop.maximum},
                )
            )
        checks.extend(_rule_check(rule) for rule in prop.quality)
    return tuple(checks)


def _rule_check(rule: QualityRule) -> Check:
    unit = " %" if rule.unit == "percent" else (" rows" if rule.metric != "rowCount" else "")
    bound = " and ".join(str(c) for c in rule.conditions) + unit
    common: dict[str, Any] = {"severity": rule.severity, "conditions": rule.conditions, "unit": rule.unit}
    if rule.metric == "rowCount":
        return Check(rule.rule_id, "row_count", label=f"row count {bound}", **common)
    if rule.metric == "nullValues":
        return Check(rule.rule_id, "not_null", label=f"null values {bound}", column=rule.column, **common)
    if rule.metric == "duplicateValues" and rule.column is None:
        return Check(
            rule.rule_id,
            "compound_unique",
            label=f"duplicate ({', '.join(rule.properties)}) {bound}",
            columns=rule.properties,
            **common,
        )
    if rule.metric == "duplicateValues":
        return Check(rule.rule_id, "unique", label=f"duplicate values {bound}", column=rule.column, **common)
    if rule.pattern is not None:
        return Check(
            rule.rule_id,
            "regex",
            label=f"values not matching the pattern {bound}",
            column=rule.column,
            params={"regex": rule.pattern},
            **common,
        )
    values = rule.valid_values or ()
    return Check(
        rule.rule_id,
        "in_set",
        label=f"values outside the {len(values)} valid values {bound}",
        column=rule.column,
        params={"value_set": list(values)},
        **common,
    )


def _mostly(check: Check) -> float | None:
    """GX's `mostly` where the rule is exactly a share of good rows; None means every row must pass.

    The report judges every rule from the counts GX returns (see _judge), so `mostly` only keeps GX's
    own success flag in step where it can express the rule.
    """
    if check.unit != "percent" or len(check.conditions) != 1:
        return None
    condition = check.conditions[0]
    if condition.operator in ("mustBeLessThan", "mustBeLessOrEqualTo", "mustBe"):
        share = max(0.0, min(1.0, 1 - cast(float, condition.value) / 100))
        return share if share < 1 else None
    return None


# --------------------------------------------------------------------------------- GX, lazily, once

_GX_LOCK = threading.RLock()


@cache
def _gx() -> Any:
    import great_expectations as gx

    return gx


@cache
def _context() -> Any:
    """The process's ephemeral GX context, progress bars off."""
    import logging

    from great_expectations.data_context.types.base import ProgressBarsConfig

    gx = _gx()
    # GX logs its set-up (a temporary docs folder, data sources) at INFO; steward's logs stay quiet.
    for name in ("great_expectations", *logging.root.manager.loggerDict):
        if name.startswith("great_expectations"):
            logging.getLogger(name).setLevel(logging.WARNING)
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    return context


def _expectation(check: Check, backend: Backend) -> Any:
    import great_expectations.expectations as gxe

    meta = {"rule_id": check.rule_id, "severity": check.severity}
    common: dict[str, Any] = {
        "meta": meta,
        "severity": "critical" if check.severity == "error" else "warning",
    }
    mostly = _mostly(check)
    common_map = {**common, "mostly": mostly} if mostly is not None else common
    p = check.params
    kind = check.kind
    column = cast(str, check.column)  # set for every column-level kind
    if kind == "column_set":
        return gxe.ExpectTableColumnsToMatchSet(column_set=p["column_set"], exact_match=True, **common)
    if kind == "column_exists":
        return gxe.ExpectColumnToExist(column=column, **common)
    if kind == "type":
        logical = p["logical_type"]
        if backend == "pandas":
            return gxe.ExpectColumnValuesToBeOfType(column=column, type_=PANDAS_TYPES[logical], **common)
        if backend == "sqlite" and logical in SQLITE_TEXT_FORMATS:
            return gxe.ExpectColumnValuesToMatchRegex(
                column=column, regex=SQLITE_TEXT_FORMATS[logical], **common
            )
        names = list(SQL_TYPES[logical])
        if logical == "string" and p.get("max_length"):
            names.append(f"VARCHAR({p['max_length']})")
        return gxe.ExpectColumnValuesToBeInTypeList(column=column, type_list=names, **common)
    if kind == "not_null":
        return gxe.ExpectColumnValuesToNotBeNull(column=column, **common_map)
    if kind == "unique":
        return gxe.ExpectColumnValuesToBeUnique(column=column, **common_map)
    if kind == "compound_unique":
        return gxe.ExpectCompoundColumnsToBeUnique(column_list=list(check.columns), **common_map)
    if kind == "in_set":
        return gxe.ExpectColumnValuesToBeInSet(column=column, value_set=p["value_set"], **common_map)
    if kind == "regex":
        return gxe.ExpectColumnValuesToMatchRegex(column=column, regex=p["regex"], **common_map)
    if kind == "length":
        return gxe.ExpectColumnValueLengthsToBeBetween(
            column=column, min_value=p.get("min_value"), max_value=p.get("max_value"), **common
        )
    if kind == "between":
        return gxe.ExpectColumnValuesToBeBetween(
            column=column, min_value=p.get("min_value"), max_value=p.get("max_value"), **common
        )
    low, high = _row_count_bounds(check.conditions)
    return gxe.ExpectTableRowCountToBeBetween(min_value=low, max_value=high, **common)


def _row_count_bounds(conditions: Sequence[Condition]) -> tuple[int | None, int | None]:
    """Integer bounds for ExpectTableRowCountToBeBetween; mustNotBe(Between) is judged by the report."""
    low: float | None = None
    high: float | None = None

    def raise_low(value: float) -> None:
        nonlocal low
        low = value if low is None else max(low, value)

    def lower_high(value: float) -> None:
        nonlocal high
        high = value if high is None else min(high, value)

    for c in conditions:
        if c.operator == "mustBe":
            raise_low(cast(float, c.value))
            lower_high(cast(float, c.value))
        elif c.operator == "mustBeGreaterThan":
            raise_low(math.floor(cast(float, c.value)) + 1)
        elif c.operator == "mustBeGreaterOrEqualTo":
            raise_low(math.ceil(cast(float, c.value)))
        elif c.operator == "mustBeLessThan":
            lower_high(math.ceil(cast(float, c.value)) - 1)
        elif c.operator == "mustBeLessOrEqualTo":
            lower_high(math.floor(cast(float, c.value)))
        elif c.operator == "mustBeBetween":
            a, b = cast(tuple[float, float], c.value)
            raise_low(math.ceil(a))
            lower_high(math.floor(b))
    return (None if low is None else int(low)), (None if high is None else int(high))


def build_suite(contract: Contract, backend: Backend, columns: Collection[str] | None = None) -> Any:
    """The GX ExpectationSuite for `contract` on `backend`.

    With `columns` (the columns the data has), checks that need a missing column are left out: the
    column's `.exists` check reports it, and the report marks the others `skipped`.
    """
    present = None if columns is None else set(columns)
    expectations = [
        _expectation(check, backend)
        for check in contract.checks
        if present is None or all(col in present for col in check.needs_columns)
    ]
    return _gx().ExpectationSuite(name=f"steward.{contract.name}", expectations=expectations)


# ------------------------------------------------------------------------------------------ reports


@dataclass(frozen=True)
class RuleResult:
    """The outcome of one rule: counts only, never a value from the data."""

    rule_id: str
    check: str
    column: str | None
    severity: Severity
    status: Status
    unexpected_count: int | None = None
    unexpected_percent: float | None = None
    observed: int | str | None = None

    @property
    def success(self) -> bool:
        return self.status in ("passed", "skipped")

    @property
    def blocking(self) -> bool:
        return self.severity == "error" and not self.success

    def describe(self) -> str:
        """`rule id (what failed, with counts)`: safe for logs and exception messages."""
        if self.status == "error":
            detail = "could not be evaluated"
        elif self.unexpected_count is not None:
            percent = f", {self.unexpected_percent:.2f}%" if self.unexpected_percent is not None else ""
            detail = f"{self.unexpected_count} row(s) failed{percent}: {self.check}"
        elif self.observed is not None:
            detail = f"{self.check}, observed {self.observed}"
        else:
            detail = f"failed: {self.check}"
        return f"{self.rule_id} ({detail})"


@dataclass(frozen=True)
class ValidationReport:
    """The result of validating one dataset against its contract: counts only."""

    contract: str
    row_count: int
    results: tuple[RuleResult, ...]
    source: str = "frame"

    @property
    def passed(self) -> bool:
        """True when no blocking (`error`) rule failed; warnings do not count."""
        return not self.blocking_failures

    @property
    def blocking_failures(self) -> tuple[RuleResult, ...]:
        return tuple(r for r in self.results if r.blocking)

    @property
    def warnings(self) -> tuple[RuleResult, ...]:
        return tuple(r for r in self.results if r.severity == "warning" and not r.success)

    @property
    def rules_passed(self) -> int:
        return sum(1 for r in self.results if r.status == "passed")

    @property
    def skipped(self) -> tuple[RuleResult, ...]:
        return tuple(r for r in self.results if r.status == "skipped")

    def result(self, rule_id: str) -> RuleResult:
        for r in self.results:
            if r.rule_id == rule_id:
                return r
        raise KeyError(rule_id)

    def summary(self) -> dict[str, Any]:
        """Counts for logs, task results and tables."""
        return {
            "contract": self.contract,
            "rows": self.row_count,
            "rules": len(self.results),
            "rules_passed": self.rules_passed,
            "blocking_failures": len(self.blocking_failures),
            "warnings": len(self.warnings),
            "passed": self.passed,
        }

    def to_markdown(self) -> str:
        """A readable report: the verdict, then every rule that did not pass (with counts)."""
        verdict = "passed" if self.passed else "**FAILED**"
        lines = [
            f"### `{self.contract}` ({self.source}): {verdict}",
            "",
            f"{self.row_count:,} rows; {self.rules_passed} of {len(self.results)} rules passed; "
            f"{len(self.blocking_failures)} blocking failure(s); {len(self.warnings)} warning(s).",
        ]
        problems = [r for r in self.results if r.status != "passed"]
        if problems:
            lines += [
                "",
                "| rule | check | severity | status | rows failing | % of rows |",
                "| --- | --- | --- | --- | --- | --- |",
            ]
            for r in problems:
                count = "" if r.unexpected_count is None else f"{r.unexpected_count:,}"
                percent = "" if r.unexpected_percent is None else f"{r.unexpected_percent:.2f}"
                check = r.check if r.observed is None else f"{r.check} (observed {r.observed})"
                lines.append(f"| `{r.rule_id}` | {check} | {r.severity} | {r.status} | {count} | {percent} |")
        return "\n".join(lines)

    def raise_for_blocking(self) -> None:
        """Raise ContractViolation when a blocking rule failed."""
        if not self.passed:
            raise ContractViolation(self)


def _judge(check: Check, result: Any | None, row_count: int) -> RuleResult:
    """A RuleResult from one GX result, reading only counts and observed sizes or type names."""
    base: dict[str, Any] = {
        "rule_id": check.rule_id,
        "check": check.label,
        "column": check.column,
        "severity": check.severity,
    }
    if result is None:
        return RuleResult(status="skipped", **base)
    info = result.exception_info or {}
    raised = (
        bool(info.get("raised_exception"))
        if "raised_exception" in info
        else any(isinstance(v, Mapping) and v.get("raised_exception") for v in info.values())
    )
    if raised:
        return RuleResult(status="error", **base)
    values = result.result or {}
    if check.kind == "row_count":
        observed = int(values.get("observed_value") or 0)
        ok = all(c.holds(observed) for c in check.conditions)
        return RuleResult(status="passed" if ok else "failed", observed=observed, **base)
    if check.kind == "column_set":
        # GX's exact match also fails on a missing column; that is the column's `.exists` rule, so
        # this rule fails only for columns the contract does not describe (unclassified data).
        details = (values.get("details") or {}).get("mismatched") or {}
        extra = len(details.get("unexpected") or []) if not result.success else 0
        return RuleResult(
            status="failed" if extra else "passed",
            observed=f"{extra} column(s) not in the contract" if extra else None,
            **base,
        )
    if check.kind == "column_exists":
        return RuleResult(status="passed" if result.success else "failed", **base)
    if check.kind == "type":
        observed_type = values.get("observed_value")
        return RuleResult(
            status="passed" if result.success else "failed",
            observed=None if result.success or not isinstance(observed_type, str) else str(observed_type),
            unexpected_count=values.get("unexpected_count") if values.get("unexpected_count") else None,
            **base,
        )
    count = values.get("unexpected_count")
    if count is None:
        return RuleResult(status="passed" if result.success else "failed", **base)
    count = int(count)
    percent = (count / row_count * 100) if row_count else 0.0
    if check.conditions:
        measured = percent if check.unit == "percent" else count
        ok = all(c.holds(measured) for c in check.conditions)
    else:
        ok = count == 0
    return RuleResult(
        status="passed" if ok else "failed",
        unexpected_count=count,
        unexpected_percent=round(percent, 4),
        **base,
    )


def _report(contract: Contract, gx_result: Any | None, row_count: int, source: str) -> ValidationReport:
    by_rule: dict[str, Any] = {}
    if gx_result is not None:
        for result in gx_result.results:
            meta = result.expectation_config.meta or {}
            by_rule[meta.get("rule_id", "")] = result
    results = tuple(_judge(check, by_rule.get(check.rule_id), row_count) for check in contract.checks)
    return ValidationReport(contract=contract.name, row_count=row_count, results=results, source=source)


# ------------------------------------------------------------------------------------- validation


@cache
def _frame_source() -> Any:
    return _context().data_sources.add_pandas("steward-frames")


@cache
def _frame_batch_definition(name: str) -> Any:
    asset = _frame_source().add_dataframe_asset(name)
    return asset.add_batch_definition_whole_dataframe("whole")


def run_suite_on_frame(contract: Contract, df: pd.DataFrame) -> Any:
    """Validate `df` with GX and return GX's own suite result (BASIC, values excluded)."""
    with _GX_LOCK:
        batch = _frame_batch_definition(contract.name).get_batch(batch_parameters={"dataframe": df})
        suite = build_suite(contract, "pandas", columns=[str(c) for c in df.columns])
        return batch.validate(suite, result_format=dict(RESULT_FORMAT))


def _contract(contract: str | Contract) -> Contract:
    return contract if isinstance(contract, Contract) else load_contract(contract)


def validate_frame(contract_name: str | Contract, df: pd.DataFrame) -> ValidationReport:
    """Validate a pandas frame against contract `contract_name` (a name, or a parsed Contract).

    Columns must carry their logical type's dtype: integer int64 (Int64 where there are nulls), number
    float64, string str, boolean bool, timestamp datetime64 (naive UTC), date Python dates.
    """
    contract = _contract(contract_name)
    gx_result = run_suite_on_frame(contract, df)
    return _report(contract, gx_result, len(df), "frame")


def _engine(engine_or_url: Engine | str | None) -> Engine:
    from tasks.db import get_engine

    if engine_or_url is None or isinstance(engine_or_url, str):
        return get_engine(engine_or_url)
    return engine_or_url


@dataclass(frozen=True)
class _TableFacts:
    schema: str | None
    columns: tuple[str, ...] | None  # None: the table does not exist
    row_count: int


def _table_facts(engine: Engine, table: str) -> _TableFacts:
    import sqlalchemy as sa

    with engine.connect() as conn:
        schema = None
        if engine.dialect.name == "postgresql":
            # The test fixtures (and some deployments) choose the schema with search_path; GX needs it.
            schema = conn.execute(sa.select(sa.func.current_schema())).scalar_one()
        inspector = sa.inspect(conn)
        if not inspector.has_table(table, schema=schema):
            return _TableFacts(schema, None, 0)
        columns = tuple(col["name"] for col in inspector.get_columns(table, schema=schema))
        count = conn.execute(
            sa.select(sa.func.count()).select_from(sa.table(table, schema=schema))
        ).scalar_one()
    return _TableFacts(schema, columns, int(count))


def run_suite_on_table(contract: Contract, engine: Engine, facts: _TableFacts | None = None) -> Any:
    """Validate the database table of `contract` with a GX SQL data source; returns GX's suite result.

    The work happens in the database (counts and aggregates), so a large table is not loaded into
    memory. The data source lives only for this call, and its connections are closed afterwards.
    """
    facts = facts or _table_facts(engine, contract.physical_name)
    url = engine.url.render_as_string(hide_password=False)
    with _GX_LOCK:
        context = _context()
        name = f"steward-sql-{uuid.uuid4().hex[:12]}"
        dialect = engine.dialect.name
        if dialect == "sqlite":
            source = context.data_sources.add_sqlite(name, connection_string=url)
        elif dialect == "postgresql":
            source = context.data_sources.add_postgres(name, connection_string=url)
        else:
            source = context.data_sources.add_sql(name, connection_string=url)
        try:
            asset = source.add_table_asset(
                contract.name, table_name=contract.physical_name, schema_name=facts.schema
            )
            batch = asset.add_batch_definition_whole_table("whole").get_batch()
            backend: Backend = dialect if dialect in ("sqlite", "postgresql") else "sql"  # type: ignore[assignment]
            suite = build_suite(contract, backend, columns=facts.columns)
            return batch.validate(suite, result_format=dict(RESULT_FORMAT))
        finally:
            try:
                source.get_engine().dispose()
            finally:
                context.data_sources.delete(name)


def validate_table(
    contract_name: str | Contract, engine_or_url: Engine | str | None = None
) -> ValidationReport:
    """Validate the database table of contract `contract_name` (default: the configured database)."""
    contract = _contract(contract_name)
    engine = _engine(engine_or_url)
    facts = _table_facts(engine, contract.physical_name)
    if facts.columns is None:
        missing = RuleResult(
            rule_id=f"{contract.name}.table",
            check="table exists",
            column=None,
            severity="error",
            status="failed",
        )
        skipped = tuple(_judge(check, None, 0) for check in contract.checks)
        return ValidationReport(contract.name, 0, (missing, *skipped), source="table")
    gx_result = run_suite_on_table(contract, engine, facts)
    return _report(contract, gx_result, facts.row_count, "table")

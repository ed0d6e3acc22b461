"""The personal-data map: where personal data lives, read from the table contracts' customProperties.

One TableMap per table of data_contracts/tables/ (through the one loader, tasks.contracts): its key,
its links to data subjects (with their roles), every column's classification, the purpose, legal basis
and recipients, the retention rule, and the erasure strategy. Subject access, erasure, retention and the
funder statistics are all driven from here, so adapting steward to another schema means editing the
contracts, not the code. The map is checked when it is loaded: a link, parent or erasure column that
does not exist, an unknown strategy or legal basis, or a column that cannot be cleared the way the map
says is a ContractError naming the file and the entry.

    from tasks.personal_data import personal_data_map
    for name, table in personal_data_map().items():
        table.subject_links, table.personal_columns, table.erasure.strategy, table.retention_rule

How the entries are meant (data_contracts/README.md has the format):
- a link with role `subject` makes the row part of that person's data (their SAR extract; the table's
  erasure strategy applies to it when they are erased);
- a link with any other role (`reporter`, `moderator`...) points at a third party: the row belongs to
  somebody else, the column is redacted from the subject's extract, and erasing that third party
  clears only this column (`third_party_erasure`), never the row;
- `staff` links name a staff member (not an account): always a third party, never resolved.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from types import MappingProxyType
from typing import Any, Literal, cast, get_args

import yaml

from tasks.contracts import (
    CONTRACTS_DIR,
    Classification,
    Contract,
    ContractError,
    table_contracts,
)

LinkKind = Literal["self", "account", "email", "parent", "staff"]
Strategy = Literal["delete_row", "anonymise", "retain", "none"]
ColumnAction = Literal["nullify", "pseudonymise"]
LegalBasis = Literal[
    "consent",
    "contract",
    "legal_obligation",
    "vital_interests",
    "public_task",
    "legitimate_interests",
]

LINK_KINDS: tuple[str, ...] = get_args(LinkKind)
RESOLVABLE_KINDS: tuple[str, ...] = ("self", "account", "email", "parent")
"""Link kinds steward can follow to a person; `staff` names someone outside the accounts."""
STRATEGIES: tuple[str, ...] = get_args(Strategy)
COLUMN_ACTIONS: tuple[str, ...] = get_args(ColumnAction)
LEGAL_BASES: tuple[str, ...] = get_args(LegalBasis)
"""The lawful bases of UK GDPR art. 6(1)."""
SUBJECT_ROLE = "subject"
RETENTION_RULES_FILE = CONTRACTS_DIR / "retention_rules.yaml"

_IDENT = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class SubjectLink:
    """How a row leads to a person: `kind` self | account | email | parent | staff, through `column`."""

    kind: LinkKind
    column: str
    role: str = SUBJECT_ROLE
    parent: str | None = None
    """For kind `parent`: the table whose row (by its key) the column points at."""

    @property
    def third_party(self) -> bool:
        """True when the link names somebody other than the row's data subject (redacted, not erased)."""
        return self.role != SUBJECT_ROLE

    @property
    def resolvable(self) -> bool:
        """True when steward can follow the link to a person (every kind but `staff`)."""
        return self.kind in RESOLVABLE_KINDS


@dataclass(frozen=True)
class ErasureSpec:
    """What erasing a data subject does to this table's rows about them.

    - delete_row: the row goes (rows of tables linked to it through `parent` go with it);
    - anonymise: the row stays, `columns` are nullified or replaced by a keyed pseudonym;
    - retain: the row stays for the regulatory `rule`, reduced by `columns` to what that rule needs;
    - none: the table is about nobody.
    """

    strategy: Strategy
    columns: Mapping[str, ColumnAction] = field(default_factory=lambda: MappingProxyType({}))
    rule: str | None = None


@dataclass(frozen=True)
class TableMap:
    """The personal-data map's entry for one table."""

    table: str
    key: tuple[str, ...]
    """The key column(s): the primary key."""
    links: tuple[SubjectLink, ...]
    classifications: Mapping[str, Classification]
    """Every column of the table, with its classification (`not_personal` or a personal-data category)."""
    purpose: str
    legal_basis: LegalBasis | None
    recipients: tuple[str, ...]
    retention_rule: str | None
    erasure: ErasureSpec
    contract_path: str
    nullable_columns: frozenset[str] = frozenset()
    """Columns that may be null (so can be nullified)."""

    @property
    def about_people(self) -> bool:
        """True when a row of this table is some person's data (a link with role `subject`)."""
        return bool(self.subject_links)

    @property
    def subject_links(self) -> tuple[SubjectLink, ...]:
        """Links to the row's own data subject(s)."""
        return tuple(link for link in self.links if not link.third_party)

    @property
    def third_party_links(self) -> tuple[SubjectLink, ...]:
        """Links to other people (reporters, moderators, approvers): redacted from a subject's extract."""
        return tuple(link for link in self.links if link.third_party)

    @property
    def parents(self) -> tuple[str, ...]:
        """Tables this one reaches its subject through (`parent` links)."""
        return tuple(link.parent for link in self.links if link.kind == "parent" and link.parent)

    @property
    def personal_columns(self) -> tuple[str, ...]:
        """Columns holding personal data, in table order."""
        return tuple(col for col, kind in self.classifications.items() if kind != "not_personal")

    @property
    def categories(self) -> tuple[str, ...]:
        """The personal-data categories held, sorted (for a SAR's description of the data)."""
        return tuple(sorted({kind for kind in self.classifications.values() if kind != "not_personal"}))

    def columns_of(self, category: str) -> tuple[str, ...]:
        """Columns of one category, e.g. `special_category` or `contact`."""
        return tuple(col for col, kind in self.classifications.items() if kind == category)

    def third_party_erasure(self, link: SubjectLink) -> ColumnAction:
        """How erasing the third party named by `link` clears its column (the row stays)."""
        return "nullify" if link.column in self.nullable_columns else "pseudonymise"


def personal_data_map() -> dict[str, TableMap]:
    """The map: one TableMap per table contract, checked (links, parents, erasure columns) on load."""
    return dict(_load_map())


def table_map(table: str) -> TableMap:
    """The map's entry for `table`; ContractError when the table has no contract."""
    entries = _load_map()
    if table not in entries:
        raise ContractError(
            CONTRACTS_DIR / "tables", "", f"no table contract {table!r} in the personal-data map"
        )
    return entries[table]


def clear_map_cache() -> None:
    """Forget the loaded map (tests that edit contracts; tasks.contracts.clear_contract_cache too)."""
    _load_map.cache_clear()
    _known_retention_rules.cache_clear()


@cache
def _load_map() -> Mapping[str, TableMap]:
    contracts = table_contracts()
    entries = {name: map_entry(contract) for name, contract in contracts.items()}
    _check_parents(entries, contracts)
    return MappingProxyType(entries)


@cache
def _known_retention_rules() -> frozenset[str] | None:
    """The map rule ids declared in retention_rules.yaml (`mapRules`), or None before it exists."""
    if not RETENTION_RULES_FILE.is_file():
        return None
    document = yaml.safe_load(RETENTION_RULES_FILE.read_text(encoding="utf-8")) or {}
    rules = document.get("mapRules") if isinstance(document, Mapping) else None
    return frozenset(rules) if isinstance(rules, Mapping) else None


class _MapParser:
    def __init__(self, contract: Contract) -> None:
        self.contract = contract
        self.props = {prop.name: prop for prop in contract.properties}

    def fail(self, where: str, problem: str) -> ContractError:
        return ContractError(self.contract.path, f"schema[0].customProperties.{where}", problem)

    def column(self, value: Any, where: str) -> str:
        if not isinstance(value, str) or value not in self.props:
            raise self.fail(where, f"no column {value!r} in this contract")
        return value

    def rule_id(self, value: Any, where: str) -> str | None:
        if value is None:
            return None
        if not isinstance(value, str) or not _IDENT.match(value):
            raise self.fail(where, "expected a retention rule id (lowercase letters, digits, _) or null")
        known = _known_retention_rules()
        if known is not None and value not in known:
            raise self.fail(
                where, f"unknown retention rule {value!r} (mapRules in retention_rules.yaml: {sorted(known)})"
            )
        return value

    def links(self, value: Any) -> tuple[SubjectLink, ...]:
        if not isinstance(value, list):
            raise self.fail("subject", "expected a list of links (empty when the table is about nobody)")
        links = []
        for i, item in enumerate(value):
            where = f"subject[{i}]"
            if not isinstance(item, Mapping):
                raise self.fail(where, "expected a mapping {link, column, role?, parent?}")
            unknown = set(item) - {"link", "column", "role", "parent"}
            if unknown:
                raise self.fail(
                    where, f"unknown key(s) {sorted(unknown)} (known: column, link, parent, role)"
                )
            kind = item.get("link")
            if kind not in LINK_KINDS:
                raise self.fail(f"{where}.link", f"unknown link {kind!r} (known: {', '.join(LINK_KINDS)})")
            column = self.column(item.get("column"), f"{where}.column")
            role = item.get("role", SUBJECT_ROLE)
            if not isinstance(role, str) or not _IDENT.match(role):
                raise self.fail(f"{where}.role", "expected a role name (lowercase letters, digits, _)")
            parent = item.get("parent")
            if (kind == "parent") != (parent is not None):
                raise self.fail(where, "`parent` is required for link: parent, and only there")
            if parent is not None and (not isinstance(parent, str) or not _IDENT.match(parent)):
                raise self.fail(f"{where}.parent", "expected a table name")
            if kind == "self" and self.contract.primary_key != (column,):
                raise self.fail(where, f"a self link must name the table's key {self.contract.primary_key}")
            if kind == "staff" and role == SUBJECT_ROLE:
                raise self.fail(
                    f"{where}.role", "a staff link names a third party: give it a role (e.g. moderator)"
                )
            prop = self.props[column]
            if not prop.personal:
                raise self.fail(
                    f"{where}.column", f"column {column!r} links to a person but is classified not_personal"
                )
            if role != SUBJECT_ROLE and prop.required and prop.logical_type != "string":
                raise self.fail(
                    f"{where}.column",
                    f"third-party column {column!r} can be neither nulled (required) nor pseudonymised (not a string)",
                )
            links.append(SubjectLink(cast(LinkKind, kind), column, role, parent))
        return tuple(links)

    def erasure(self, value: Any, links: tuple[SubjectLink, ...]) -> ErasureSpec:
        if not isinstance(value, Mapping):
            raise self.fail("erasure", "expected a mapping {strategy, columns?, rule?}")
        unknown = set(value) - {"strategy", "columns", "rule"}
        if unknown:
            raise self.fail("erasure", f"unknown key(s) {sorted(unknown)} (known: columns, rule, strategy)")
        strategy = value.get("strategy")
        if strategy not in STRATEGIES:
            raise self.fail(
                "erasure.strategy", f"unknown strategy {strategy!r} (known: {', '.join(STRATEGIES)})"
            )
        raw_columns = value.get("columns", {})
        if not isinstance(raw_columns, Mapping):
            raise self.fail("erasure.columns", "expected a mapping {column: nullify | pseudonymise}")
        columns: dict[str, ColumnAction] = {}
        for col, action in raw_columns.items():
            where = f"erasure.columns.{col}"
            self.column(col, where)
            if action not in COLUMN_ACTIONS:
                raise self.fail(where, f"unknown action {action!r} (known: {', '.join(COLUMN_ACTIONS)})")
            prop = self.props[col]
            if not prop.personal:
                raise self.fail(where, f"column {col!r} is classified not_personal: nothing to erase")
            if action == "nullify" and prop.required:
                raise self.fail(
                    where, f"column {col!r} is required (not null): pseudonymise it or delete the row"
                )
            if action == "pseudonymise" and prop.logical_type != "string":
                raise self.fail(
                    where, f"only string columns can hold a pseudonym; {col!r} is {prop.logical_type}"
                )
            columns[col] = cast(ColumnAction, action)
        rule = value.get("rule")
        about_people = any(not link.third_party for link in links)
        if strategy in ("delete_row", "none") and (columns or rule is not None):
            raise self.fail("erasure", f"strategy {strategy} takes no columns and no rule")
        if strategy == "anonymise" and (not columns or rule is not None):
            raise self.fail("erasure", "strategy anonymise needs columns (and no rule)")
        if strategy == "retain":
            if rule is None:
                raise self.fail(
                    "erasure.rule", "strategy retain needs the regulatory rule it keeps the row for"
                )
            self.rule_id(rule, "erasure.rule")
        if strategy == "none" and about_people:
            raise self.fail(
                "erasure.strategy",
                "strategy none is for tables about nobody, and this one links to a subject",
            )
        if strategy != "none" and not about_people:
            raise self.fail("erasure.strategy", f"strategy {strategy} needs a subject link (role subject)")
        return ErasureSpec(cast(Strategy, strategy), MappingProxyType(columns), rule)

    def table_map(self) -> TableMap:
        contract = self.contract
        custom = contract.custom_properties
        if not contract.primary_key:
            raise ContractError(
                contract.path, "schema[0].properties", "a table in the map needs a primaryKey column"
            )
        links = self.links(custom.get("subject"))
        purpose = custom.get("purpose")
        if not isinstance(purpose, str) or not purpose.strip():
            raise self.fail("purpose", "expected why the table is held, in words")
        legal_basis = custom.get("legalBasis")
        personal = [prop.name for prop in contract.properties if prop.personal]
        if legal_basis is None:
            if personal:
                raise self.fail(
                    "legalBasis", f"the table holds personal data ({', '.join(personal)}): give its basis"
                )
        elif legal_basis not in LEGAL_BASES:
            raise self.fail(
                "legalBasis", f"unknown legal basis {legal_basis!r} (known: {', '.join(LEGAL_BASES)})"
            )
        recipients = custom.get("recipients")
        if not isinstance(recipients, list) or not all(isinstance(r, str) and r.strip() for r in recipients):
            raise self.fail("recipients", "expected a list of recipients (empty when it goes to nobody)")
        retention_rule = self.rule_id(custom.get("retentionRule"), "retentionRule")
        erasure = self.erasure(custom.get("erasure"), links)
        return TableMap(
            table=contract.name,
            key=contract.primary_key,
            links=links,
            classifications=MappingProxyType(
                {prop.name: prop.classification for prop in contract.properties}
            ),
            purpose=purpose,
            legal_basis=cast(LegalBasis | None, legal_basis),
            recipients=tuple(recipients),
            retention_rule=retention_rule,
            erasure=erasure,
            contract_path=contract.display_path,
            nullable_columns=frozenset(prop.name for prop in contract.properties if not prop.required),
        )


def map_entry(contract: Contract) -> TableMap:
    """The map entry of one table contract, checked (parent tables are checked by personal_data_map)."""
    return _MapParser(contract).table_map()


class ParentCycle(ValueError):
    """The map's parent links loop back on themselves."""

    def __init__(self, trail: tuple[str, ...]) -> None:
        self.table = trail[-1]
        super().__init__(f"cycle: {' -> '.join(trail)}")


def parents_first(parents_of: Mapping[str, Sequence[str]], start: Iterable[str]) -> list[str]:
    """The tables of `start`, in that order except that each comes after every table its parent links
    name (depth first). The one ordering of the map that checking, erasure and subject access all use."""
    order: list[str] = []
    state: dict[str, str] = {}

    def visit(name: str, trail: tuple[str, ...]) -> None:
        if state.get(name) == "done":
            return
        if state.get(name) == "visiting":
            raise ParentCycle((*trail, name))
        state[name] = "visiting"
        for parent in parents_of.get(name, ()):
            visit(parent, (*trail, name))
        state[name] = "done"
        order.append(name)

    for name in start:
        visit(name, ())
    return order


def _check_parents(entries: Mapping[str, TableMap], contracts: Mapping[str, Contract]) -> None:
    """Every parent link names a table in the map, with a one-column key, and the links form no cycle."""
    for name, entry in entries.items():
        for i, link in enumerate(entry.links):
            if link.parent is None:
                continue
            where = f"schema[0].customProperties.subject[{i}].parent"
            parent = entries.get(link.parent)
            if parent is None:
                raise ContractError(contracts[name].path, where, f"no table contract {link.parent!r}")
            if len(parent.key) != 1:
                raise ContractError(contracts[name].path, where, f"{link.parent!r} has a composite key")
            if not parent.about_people:
                raise ContractError(contracts[name].path, where, f"{link.parent!r} links to nobody")

    try:
        parents_first({name: entry.parents for name, entry in entries.items()}, entries)
    except ParentCycle as cycle:
        raise ContractError(
            contracts[cycle.table].path, "schema[0].customProperties.subject", f"parent links form a {cycle}"
        ) from None

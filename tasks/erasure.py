"""The erasure engine: erase subjects and rows as the personal-data map says, in set-based batches.

Nothing here names a table or a column. For every table the map gives the links from a row to a data
subject (`self`, `account`, `email`, `parent`, with a role) and the erasure spec: `delete_row`,
`anonymise` (named columns nulled or replaced by a keyed pseudonym, the row stays), `retain` (kept for a
regulatory rule, reduced to the columns it needs) or `none`. The schema's foreign keys say what else
must give way when a row goes: a dependent row is unlinked when its reference may be null, deleted when
it may not (and refused when it belongs to somebody else).

How a batch is erased (`erase_items`, inside the caller's transaction):
1. the rows of every subject are found table by table, parents first: by account id, by address
   (lower-cased, through the `lower(email)` indexes), or through a parent row already found. A row
   reached only through a parent but with its own subject link naming somebody else is theirs, not the
   subject's, and is left alone. A link with another role (the reporter of a post) names a third party:
   that link is cleared, the row is not the third party's to erase.
2. then, children before parents, one statement per table and action for the whole batch (the keys
   travel as one parameter: see _select_in), pseudonyms with one executemany. Row items that nothing
   depends on skip the walk: see `scan_rows` and `erase_rows_set_based` below.
3. one audit record per item: keyed hashes, rule, plan, request, tables and row counts, a record id.

The same records are appended, after the commit, to the erasure journal: an append-only JSON-lines file
outside the database (keyed hashes only). After a database restore, `replay` finds every subject and row
the journal says was erased by recomputing the keyed hashes of the identifiers now in the database, and
erases them again through a plan.
"""

from __future__ import annotations

import json
import os
import random
from collections import defaultdict
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Engine,
    String,
    Table,
    Text,
    any_,
    bindparam,
    delete,
    func,
    select,
    update,
)

from steward.errors import ConfigurationError, StewardError
from steward.settings import get_settings
from tasks.audit import (
    audit_row,
    keyed_hash,
    normalise_email,
    subject_hash,
    write_audit_rows,
    write_audit_values,
)
from tasks.calendar import utc_now
from tasks.db import get_engine
from tasks.schema import metadata

if TYPE_CHECKING:
    from tasks.plans import ItemRow

IN_CHUNK = 500
"""Values per IN (...) list: far below SQLite's bound-parameter limit; one index probe each."""
VALUES_PER_STATEMENT = 20_000
"""Values per statement where they travel as one parameter (a JSON array, a PostgreSQL array)."""

REQUEST_TABLE = "request_register"
ERASURE_EVENTS = ("subject_erased", "row_deleted", "row_anonymised")


class ErasureMapError(ConfigurationError):
    """The personal-data map cannot be applied to the schema as it stands (names the table and column)."""


class ErasureConflict(StewardError):
    """Erasing would delete rows that belong to somebody else."""

    def __init__(self, message: str, table: str) -> None:
        super().__init__(message)
        self.table = table


# ------------------------------------------------------------------------------------------ the map


@dataclass(frozen=True)
class Link:
    kind: str
    column: str
    role: str = "subject"
    parent: str | None = None

    @property
    def resolvable(self) -> bool:
        return self.kind in ("self", "account", "email", "parent")


@dataclass(frozen=True)
class TableErasure:
    """What the map says about erasing one table's rows, checked against the schema."""

    name: str
    table: Table
    key: str
    links: tuple[Link, ...]
    strategy: str  # delete_row | anonymise | retain | none
    columns: Mapping[str, str]  # column -> nullify | pseudonymise
    rule: str | None = None

    @property
    def key_column(self) -> Column[Any]:
        return self.table.c[self.key]

    def subject_links(self, kinds: Collection[str] = ("self", "account", "email")) -> list[Link]:
        return [link for link in self.links if link.role == "subject" and link.kind in kinds]

    @property
    def direct_subject_links(self) -> list[Link]:
        return self.subject_links(("self", "account", "email"))

    @property
    def parent_links(self) -> list[Link]:
        return [link for link in self.links if link.kind == "parent" and link.parent]

    @property
    def third_party_links(self) -> list[Link]:
        return [link for link in self.links if link.role != "subject" and link.kind in ("account", "email")]


@dataclass(frozen=True)
class ForeignKeyRef:
    child: str
    column: str
    nullable: bool


@dataclass(frozen=True)
class ErasureMap:
    tables: Mapping[str, TableErasure]
    order: tuple[str, ...]  # parents before children (the schema's dependency order)
    references: Mapping[str, tuple[ForeignKeyRef, ...]]  # parent table -> foreign keys pointing at it

    @property
    def self_tables(self) -> list[str]:
        return [name for name in self.order if any(link.kind == "self" for link in self.tables[name].links)]

    def about_people(self) -> list[str]:
        return [name for name in self.order if any(link.resolvable for link in self.tables[name].links)]


def _map_entries() -> dict[str, tuple[list[dict[str, Any]], dict[str, Any]]]:
    """Per table: the map's subject links and erasure spec (tasks.personal_data, checked on load)."""
    from tasks.personal_data import personal_data_map

    entries: dict[str, tuple[list[dict[str, Any]], dict[str, Any]]] = {}
    for name, entry in personal_data_map().items():
        links = [
            {"link": link.kind, "column": link.column, "role": link.role, "parent": link.parent}
            for link in entry.links
        ]
        spec = {
            "strategy": entry.erasure.strategy,
            "columns": dict(entry.erasure.columns),
            "rule": entry.erasure.rule,
        }
        entries[entry.table or name] = (links, spec)
    return entries


@cache
def erasure_map() -> ErasureMap:
    """The map, checked against tasks.schema: every name exists, every spec can be carried out."""
    entries = _map_entries()
    tables: dict[str, TableErasure] = {}
    for name, (raw_links, spec) in entries.items():
        if name not in metadata.tables:
            raise ErasureMapError(f"the personal-data map names table {name!r}, which is not in the schema")
        table = metadata.tables[name]
        key_columns = list(table.primary_key.columns)
        links = tuple(
            Link(
                kind=str(raw["link"]),
                column=str(raw["column"]),
                role=str(raw.get("role") or "subject"),
                parent=raw.get("parent"),
            )
            for raw in raw_links
        )
        strategy = str(spec.get("strategy") or "none")
        columns = {str(k): str(v) for k, v in (spec.get("columns") or {}).items()}
        if strategy not in ("delete_row", "anonymise", "retain", "none"):
            raise ErasureMapError(f"{name}: unknown erasure strategy {strategy!r}")
        resolvable = [link for link in links if link.resolvable]
        if resolvable and len(key_columns) != 1:
            raise ErasureMapError(f"{name}: the erasure engine needs a single-column primary key")
        for link in links:
            if link.column not in table.c:
                raise ErasureMapError(f"{name}: subject link column {link.column!r} is not in the table")
            if link.kind == "parent" and link.parent not in entries:
                raise ErasureMapError(f"{name}.{link.column}: parent table {link.parent!r} is not in the map")
        for column, how in columns.items():
            if column not in table.c:
                raise ErasureMapError(f"{name}: erasure column {column!r} is not in the table")
            if how not in ("nullify", "pseudonymise"):
                raise ErasureMapError(
                    f"{name}.{column}: erasure must be nullify or pseudonymise, not {how!r}"
                )
            if how == "nullify" and not table.c[column].nullable:
                raise ErasureMapError(
                    f"{name}.{column}: cannot be nulled (NOT NULL); pseudonymise it instead"
                )
            if how == "pseudonymise" and not isinstance(table.c[column].type, String):
                raise ErasureMapError(f"{name}.{column}: only text columns can be pseudonymised")
        if resolvable and strategy == "none":
            raise ErasureMapError(f"{name}: rows link to a person, so the erasure strategy cannot be none")
        tables[name] = TableErasure(
            name=name,
            table=table,
            key=key_columns[0].name if key_columns else "",
            links=links,
            strategy=strategy,
            columns=columns,
            rule=spec.get("rule"),
        )
    references: dict[str, list[ForeignKeyRef]] = defaultdict(list)
    for table in metadata.sorted_tables:
        for fk in table.foreign_keys:
            references[fk.column.table.name].append(
                ForeignKeyRef(child=table.name, column=fk.parent.name, nullable=bool(fk.parent.nullable))
            )
    order = _parents_first(tables)
    emap = ErasureMap(tables=tables, order=order, references={k: tuple(v) for k, v in references.items()})
    _check_foreign_keys(emap)
    return emap


def _parents_first(tables: Mapping[str, TableErasure]) -> tuple[str, ...]:
    """The schema's dependency order, adjusted so every map parent comes before its children."""
    from tasks.personal_data import ParentCycle, parents_first

    schema_order = [table.name for table in metadata.sorted_tables if table.name in tables]
    parents_of = {
        name: [link.parent for link in table.parent_links if link.parent] for name, table in tables.items()
    }
    try:
        return tuple(parents_first(parents_of, schema_order))
    except ParentCycle as cycle:
        raise ErasureMapError(f"the map's parent links form a {cycle}") from None


def _check_foreign_keys(emap: ErasureMap) -> None:
    """A row deleted under the map must not take with it a row the map keeps or somebody else's row."""
    for parent_name, refs in emap.references.items():
        parent = emap.tables.get(parent_name)
        if parent is None or parent.strategy != "delete_row":
            continue
        for ref in refs:
            child = emap.tables.get(ref.child)
            if ref.nullable or child is None:
                continue
            if child.strategy in ("anonymise", "retain"):
                raise ErasureMapError(
                    f"{ref.child}.{ref.column} (NOT NULL) refers to {parent_name}, whose rows are deleted, "
                    f"but {ref.child} rows are kept ({child.strategy}): the reference cannot be cleared"
                )


def clear_map_cache() -> None:
    erasure_map.cache_clear()


def is_self_table(name: str) -> bool:
    """Whether `name` holds the subjects themselves (the accounts)."""
    emap = erasure_map()
    return name in emap.tables and any(link.kind == "self" for link in emap.tables[name].links)


def validate_item_targets(targets: Iterable[tuple[str, str]]) -> None:
    """Refuse plan items the engine could not carry out: unknown table, or an action its spec forbids."""
    from tasks.plans import PlanError

    emap = erasure_map()
    for table_name, action in targets:
        spec = emap.tables.get(table_name)
        if spec is None or not any(link.resolvable for link in spec.links):
            raise PlanError(f"plan item on {table_name!r}: not a table of the personal-data map about people")
        if action == "erase_subject" and not spec.direct_subject_links and table_name != REQUEST_TABLE:
            raise PlanError(f"erase_subject on {table_name!r}: its rows do not name a subject directly")
        if action == "anonymise_row" and spec.strategy not in ("anonymise", "retain"):
            raise PlanError(
                f"anonymise_row on {table_name!r}: the map erases its rows by {spec.strategy}, "
                "with no columns to reduce"
            )


# ------------------------------------------------------------------------------------- identities


@dataclass(frozen=True)
class Identity:
    """Who an item is about: account ids and normalised addresses (in memory only, never logged)."""

    account_ids: frozenset[int] = frozenset()
    emails: frozenset[str] = frozenset()
    primary_email: str | None = None
    request_hash: str | None = None

    def audit_hash(self, fallback: str) -> str:
        if self.request_hash:
            return self.request_hash
        if self.primary_email:
            return subject_hash(self.primary_email)
        return keyed_hash(fallback, "row")

    def other_hashes(self) -> list[str]:
        main = self.audit_hash("")
        return sorted({subject_hash(email) for email in self.emails} - {main})


def _chunks(values: Sequence[Any], size: int = IN_CHUNK) -> Iterator[list[Any]]:
    for start in range(0, len(values), size):
        yield list(values[start : start + size])


_STATEMENTS: dict[Any, Any] = {}


def _select_in(
    conn: Connection, columns: Sequence[Any], where_column: Any, values: Iterable[Any]
) -> Iterator[Any]:
    """SELECT `columns` WHERE `where_column` is one of `values` (ids or addresses).

    The values travel as one bound parameter: a JSON array read by json_each on SQLite, an array
    compared with ANY on PostgreSQL (an IN list of bound values elsewhere). A batch of thousands of
    subjects then costs one statement per link, compiled once, instead of one per 500 values."""
    distinct = set(values)
    if not distinct:
        return
    try:
        # ids (or addresses) in their own order: each statement reads one stretch of the index
        ordered = sorted(distinct)
    except TypeError:  # a mix of types: any fixed order will do
        ordered = sorted(distinct, key=str)
    dialect = conn.dialect.name
    numbers = isinstance(ordered[0], int)
    # Keyed by the SQL text of the columns: `func.lower(column)` is a new object at every call, and a
    # cache keyed by objects would grow with every batch.
    key = (tuple(str(c) for c in columns), str(where_column), dialect, numbers)
    statement = _STATEMENTS.get(key)
    if statement is None:  # built once per shape: building a statement costs more than running it
        statement = select(*columns).where(_one_of(where_column, dialect, numbers))
        _STATEMENTS[key] = statement
    for params in _values_params(dialect, ordered):
        yield from conn.execute(statement, params)


def _values_params(dialect: str, ordered: Sequence[Any]) -> Iterator[dict[str, Any]]:
    """The parameters of a statement built with `_one_of`, for `ordered` values: one per
    VALUES_PER_STATEMENT values on SQLite (a JSON array) and PostgreSQL (an array), per IN_CHUNK
    elsewhere (an expanding IN list)."""
    if dialect == "sqlite":
        for chunk in _chunks(ordered, VALUES_PER_STATEMENT):
            yield {"values": json.dumps(chunk)}
    elif dialect == "postgresql":
        for chunk in _chunks(ordered, VALUES_PER_STATEMENT):
            yield {"values": chunk}
    else:
        for chunk in _chunks(ordered):
            yield {"values": chunk}


def _execute_for_keys(conn: Connection, statement: Any, keys: Sequence[int]) -> None:
    """Run an UPDATE or DELETE whose WHERE is `_one_of(key column, dialect, numbers=True)` for `keys`."""
    for params in _values_params(conn.dialect.name, keys):
        conn.execute(statement, params)


def _one_of(column: Any, dialect: str, numbers: bool) -> Any:
    if dialect == "sqlite":
        listed = func.json_each(bindparam("values", type_=String())).table_valued("value")
        return column.in_(select(listed.c.value))
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import ARRAY

        element: Any = BigInteger() if numbers else Text()
        return column == any_(bindparam("values", type_=ARRAY(element)))
    return column.in_(bindparam("values", expanding=True))


def _norm(value: Any) -> str | None:
    return normalise_email(value) if isinstance(value, str) and value.strip() else None


def resolve_identities(conn: Connection, items: Sequence[ItemRow]) -> dict[int, Identity]:
    """The subject behind every item: for erase_subject the person named by the row; for a row item the
    person the row is about. Account ids bring their addresses and addresses their accounts."""
    emap = erasure_map()
    accounts: dict[int, set[int]] = {item.id: set() for item in items}
    emails: dict[int, set[str]] = {item.id: set() for item in items}
    primary: dict[int, str] = {}
    request_hashes: dict[int, str] = {}
    by_table: dict[str, list[ItemRow]] = defaultdict(list)
    for item in items:
        by_table[item.subject_table].append(item)
    for table_name, table_items in by_table.items():
        spec = emap.tables[table_name]
        rows = _row_identities(conn, spec, [item.subject_row_id for item in table_items])
        for item in table_items:
            found = rows.get(item.subject_row_id)
            if item.account_id is not None and item.action == "erase_subject" and table_name != REQUEST_TABLE:
                accounts[item.id].add(int(item.account_id))
            if found is None:
                continue
            ids, addresses, first_email, request_hash = found
            accounts[item.id] |= ids
            emails[item.id] |= addresses
            if first_email:
                primary[item.id] = first_email
            if request_hash and table_name == REQUEST_TABLE:
                request_hashes[item.id] = request_hash
    subject_items = {item.id for item in items if item.action == "erase_subject"}
    _close_identities(conn, emap, accounts, emails, primary, subject_items)
    return {
        item.id: Identity(
            account_ids=frozenset(accounts[item.id]),
            emails=frozenset(emails[item.id]),
            primary_email=primary.get(item.id),
            request_hash=request_hashes.get(item.id),
        )
        for item in items
    }


def _row_identities(
    conn: Connection, spec: TableErasure, row_ids: Sequence[int], depth: int = 0
) -> dict[int, tuple[set[int], set[str], str | None, str | None]]:
    """Per row: the subject-role account ids and addresses it names (through parents when needed)."""
    if depth > 8:
        raise ErasureMapError(f"{spec.name}: parent links nest too deep")
    emap = erasure_map()
    table = spec.table
    links = [link for link in spec.links if link.role == "subject" and link.resolvable]
    columns = [spec.key_column] + [table.c[link.column] for link in links]
    has_hash = "subject_hash" in table.c and spec.name == REQUEST_TABLE
    if has_hash:
        columns.append(table.c["subject_hash"])
    result: dict[int, tuple[set[int], set[str], str | None, str | None]] = {}
    parents: dict[str, dict[int, list[int]]] = defaultdict(lambda: defaultdict(list))
    for row in _select_in(conn, columns, spec.key_column, row_ids):
        mapping = row._mapping
        row_id = int(mapping[spec.key])
        ids: set[int] = set()
        addresses: set[str] = set()
        first: str | None = None
        for link in links:
            value = mapping[link.column]
            if value is None:
                continue
            if link.kind == "self" or link.kind == "account":
                ids.add(int(value))
            elif link.kind == "email":
                address = _norm(value)
                if address:
                    addresses.add(address)
                    first = first or address
            elif link.kind == "parent" and link.parent:
                parents[link.parent][int(value)].append(row_id)
        result[row_id] = (ids, addresses, first, mapping["subject_hash"] if has_hash else None)
    for parent_name, children in parents.items():
        found = _row_identities(conn, emap.tables[parent_name], list(children), depth + 1)
        for parent_id, child_ids in children.items():
            if parent_id not in found:
                continue
            ids, addresses, first, _ = found[parent_id]
            for child_id in child_ids:
                own_ids, own_addresses, own_first, own_hash = result[child_id]
                result[child_id] = (own_ids | ids, own_addresses | addresses, own_first or first, own_hash)
    return result


def _close_identities(
    conn: Connection,
    emap: ErasureMap,
    accounts: dict[int, set[int]],
    emails: dict[int, set[str]],
    primary: dict[int, str],
    subject_items: set[int],
) -> None:
    """Account ids bring the accounts' addresses; for a subject erasure, addresses bring their accounts."""
    for self_name in emap.self_tables:
        spec = emap.tables[self_name]
        email_columns = [
            spec.table.c[link.column] for link in spec.direct_subject_links if link.kind == "email"
        ]
        if not email_columns:
            continue
        wanted = {address for item_id in subject_items for address in emails.get(item_id, ())}
        accounts_of: dict[str, set[int]] = defaultdict(set)
        for column in email_columns:
            for row_id, value in _select_in(conn, [spec.key_column, column], func.lower(column), wanted):
                address = _norm(value)
                if address:
                    accounts_of[address].add(int(row_id))
        for item_id in subject_items:
            for address in list(emails[item_id]):
                accounts[item_id] |= accounts_of.get(address, set())
        all_ids = {a for ids in accounts.values() for a in ids}
        address_of: dict[int, set[str]] = defaultdict(set)
        for column in email_columns:
            for row_id, value in _select_in(conn, [spec.key_column, column], spec.key_column, all_ids):
                address = _norm(value)
                if address:
                    address_of[int(row_id)].add(address)
        for item_id, ids in accounts.items():
            for account_id in sorted(ids):
                found = sorted(address_of.get(account_id, ()))
                emails[item_id].update(found)
                if found and item_id not in primary:
                    primary[item_id] = found[0]


# ------------------------------------------------------------------------------------------- erase


@dataclass
class RowSets:
    """The rows a batch touches, per table: which items own each row, and what happens to it.

    `own` rows follow their table's erasure strategy; `delete` rows are deleted whatever the strategy
    (a delete_row item, a cascade); `unlink` rows stay and have one reference cleared (a third party's
    link, or a nullable foreign key to a deleted row), attributed through `linked_by`.
    """

    own: dict[str, dict[int, set[int]]] = field(default_factory=lambda: defaultdict(dict))
    delete: dict[str, set[int]] = field(default_factory=lambda: defaultdict(set))
    reduce: dict[str, set[int]] = field(default_factory=lambda: defaultdict(set))
    unlink: dict[tuple[str, str], set[int]] = field(default_factory=lambda: defaultdict(set))
    owners: dict[tuple[str, int], set[int]] = field(default_factory=lambda: defaultdict(set))
    linked_by: dict[tuple[str, int], set[int]] = field(default_factory=lambda: defaultdict(set))
    searched_accounts: set[int] = field(default_factory=set)  # every account link was searched for these
    # anonymise_row on a row kept for a regulatory rule (strategy retain): the rule's time is over, so the
    # row keeps nothing personal, not only what the map clears at a subject's erasure (issue 5)
    expire: dict[str, set[int]] = field(default_factory=lambda: defaultdict(set))

    def add_own(self, table: str, row_id: int, items: Iterable[int]) -> None:
        self.own[table].setdefault(row_id, set()).update(items)
        self.owners[(table, row_id)].update(items)

    def add_unlink(self, table: str, column: str, row_id: int, items: Iterable[int]) -> None:
        self.unlink[(table, column)].add(row_id)
        self.linked_by[(table, row_id)].update(items)


@dataclass
class EraseOutcome:
    journal: list[str] = field(default_factory=list)  # the journal's lines for these records
    table_counts: dict[str, dict[str, int]] = field(default_factory=dict)
    item_counts: dict[int, dict[str, dict[str, int]]] = field(default_factory=dict)


def _find_subject_rows(
    conn: Connection, emap: ErasureMap, rows: RowSets, subjects: Mapping[int, Identity]
) -> None:
    """Every row of every subject (items of action erase_subject), table by table, parents first."""
    by_account: dict[int, set[int]] = defaultdict(set)
    by_email: dict[str, set[int]] = defaultdict(set)
    for item_id, identity in subjects.items():
        for account_id in identity.account_ids:
            by_account[account_id].add(item_id)
        for address in identity.emails:
            by_email[address].add(item_id)
    if not by_account and not by_email:
        return
    rows.searched_accounts.update(by_account)
    for name in emap.about_people():
        spec = emap.tables[name]
        table = spec.table
        direct = spec.direct_subject_links
        for link in spec.links:
            if not link.resolvable or link.kind == "parent":
                continue
            column = table.c[link.column]
            if link.kind in ("self", "account"):
                found = _select_in(conn, [spec.key_column, column], column, by_account)
                owners_of = lambda value: by_account.get(int(value), set())  # noqa: E731
            else:
                found = _select_in(conn, [spec.key_column, column], func.lower(column), by_email)
                owners_of = lambda value: by_email.get(_norm(value) or "", set())  # noqa: E731
            if link.role != "subject":
                for row_id, value in found:
                    if owners := owners_of(value):
                        rows.add_unlink(name, link.column, int(row_id), owners)
                continue
            # rows.add_own, inlined: a batch of subjects owns hundreds of thousands of rows
            own, owners_by_row = rows.own[name], rows.owners
            for row_id, value in found:
                if not (owners := owners_of(value)):
                    continue
                row_id = int(row_id)
                if (mine := own.get(row_id)) is None:
                    own[row_id] = set(owners)
                else:
                    mine |= owners
                if (theirs := owners_by_row.get((name, row_id))) is None:
                    owners_by_row[(name, row_id)] = set(owners)
                else:
                    theirs |= owners
        for link in spec.parent_links:
            assert link.parent is not None
            parent_rows = rows.own.get(link.parent, {})
            if not parent_rows:
                continue
            column = table.c[link.column]
            direct_columns = [table.c[d.column] for d in direct]
            found = _select_in(conn, [spec.key_column, column, *direct_columns], column, parent_rows)
            for record in found:
                row_id, parent_id = int(record[0]), int(record[1])
                owners = parent_rows.get(parent_id, set())
                if direct and _names_somebody_else(direct, record[2:], by_account, by_email, owners):
                    continue  # another person's row hanging off the subject's (left alone)
                rows.add_own(name, row_id, owners)


def _names_somebody_else(
    links: Sequence[Link],
    values: Sequence[Any],
    by_account: Mapping[int, set[int]],
    by_email: Mapping[str, set[int]],
    owners: set[int],
) -> bool:
    for link, value in zip(links, values, strict=True):
        if value is None:
            continue
        if link.kind in ("self", "account"):
            if not (by_account.get(int(value), set()) & owners):
                return True
        elif link.kind == "email" and not (by_email.get(_norm(value) or "", set()) & owners):
            return True
    return False


def _find_row_descendants(
    conn: Connection, emap: ErasureMap, rows: RowSets, seeds: dict[str, set[int]]
) -> None:
    """Rows that hang off deleted rows through the map's parent links (a post's attachments); they are
    deleted with it. A child row naming its own subject is left to the foreign keys."""
    for name in emap.order:
        spec = emap.tables[name]
        for link in spec.parent_links:
            assert link.parent is not None
            parent_ids = seeds.get(link.parent)
            if not parent_ids:
                continue
            column = spec.table.c[link.column]
            direct_columns = [spec.table.c[d.column] for d in spec.direct_subject_links]
            for record in _select_in(conn, [spec.key_column, column, *direct_columns], column, parent_ids):
                row_id, parent_id = int(record[0]), int(record[1])
                if any(value is not None for value in record[2:]):
                    continue  # somebody's own row (their post in a deleted thread): foreign keys decide
                owners = rows.owners.get((link.parent, parent_id), set())
                rows.owners[(name, row_id)].update(owners)
                rows.delete[name].add(row_id)
                seeds.setdefault(name, set()).add(row_id)


def _plan_actions(conn: Connection, emap: ErasureMap, rows: RowSets) -> None:
    """Decide per own row: delete or reduce (per its table's strategy); then what foreign keys require."""
    for name, owned in rows.own.items():
        spec = emap.tables[name]
        if spec.strategy == "delete_row":
            rows.delete[name] |= set(owned)
        elif spec.strategy in ("anonymise", "retain"):
            rows.reduce[name] |= set(owned) - rows.delete.get(name, set())
    # Foreign keys, parents first so a cascade reaches grandchildren.
    for name in [table.name for table in metadata.sorted_tables]:
        deleted = rows.delete.get(name)
        if not deleted:
            continue
        searched = name in emap.self_tables and deleted <= rows.searched_accounts
        for ref in emap.references.get(name, ()):
            child_spec = emap.tables.get(ref.child)
            # every row pointing at these accounts through an account link was found already
            if (
                searched
                and child_spec is not None
                and any(link.kind == "account" and link.column == ref.column for link in child_spec.links)
            ):
                continue
            child_table = metadata.tables[ref.child]
            child_key = list(child_table.primary_key.columns)
            if len(child_key) != 1:
                raise ErasureMapError(f"{ref.child}: the erasure engine needs a single-column primary key")
            key = child_key[0]
            column = child_table.c[ref.column]
            direct = child_spec.direct_subject_links if child_spec else []
            direct_columns = [child_table.c[d.column] for d in direct]
            for record in _select_in(conn, [key, column, *direct_columns], column, deleted):
                row_id, parent_id = int(record[0]), int(record[1])
                if row_id in rows.delete.get(ref.child, set()):
                    continue
                owners = rows.owners.get((name, parent_id), set())
                if ref.nullable:
                    rows.add_unlink(ref.child, ref.column, row_id, owners)
                    continue
                if any(value is not None for value in record[2:]):
                    raise ErasureConflict(
                        f"deleting rows of {name} would delete rows of {ref.child} that belong to somebody "
                        f"else ({ref.child}.{ref.column} cannot be null): the map must anonymise {name} instead",
                        table=ref.child,
                    )
                rows.delete[ref.child].add(row_id)
                rows.reduce.get(ref.child, set()).discard(row_id)
                rows.owners[(ref.child, row_id)] |= owners


def _pseudonym(seed: str, table: str, column: str, length: int | None) -> str:
    value = "pseudonym-" + keyed_hash(f"{seed}\x1f{table}.{column}", "pseudonym")[:16]
    return value[:length] if length else value


def _execute_actions(
    conn: Connection, emap: ErasureMap, rows: RowSets, seeds_of: Mapping[int, str]
) -> dict[str, dict[str, int]]:
    """Run the statements, children before parents; return rows affected per table and action."""
    counts: dict[str, dict[str, int]] = defaultdict(dict)
    dialect = conn.dialect.name
    for table in reversed(metadata.sorted_tables):
        name = table.name
        key_columns = list(table.primary_key.columns)
        if not key_columns:
            continue
        key = key_columns[0]
        deleted = rows.delete.get(name, set())
        # Third-party and foreign-key links first (rows that stay but must stop pointing at the subject).
        unlinked_rows: set[int] = set()
        for (unlink_table, column_name), row_ids in sorted(rows.unlink.items()):
            if unlink_table != name:
                continue
            targets = sorted(row_ids - deleted)
            if not targets:
                continue
            if table.c[column_name].nullable:
                statement = update(table).where(_one_of(key, dialect, True)).values({column_name: None})
                _execute_for_keys(conn, statement, targets)
            else:  # a third party's required text column: replaced by their keyed pseudonym
                length = getattr(table.c[column_name].type, "length", None)
                params = []
                for row_id in targets:
                    owners = sorted(rows.linked_by.get((name, row_id), set()))
                    seed = seeds_of.get(owners[0], f"{name}:{row_id}") if owners else f"{name}:{row_id}"
                    params.append(
                        {"row_key": row_id, "pseudonym": _pseudonym(seed, name, column_name, length)}
                    )
                conn.execute(
                    update(table)
                    .where(key == bindparam("row_key"))
                    .values({column_name: bindparam("pseudonym")}),
                    params,
                )
            unlinked_rows.update(targets)
        unlinked_only = unlinked_rows - rows.reduce.get(name, set())
        if unlinked_only:
            counts[name]["unlinked"] = len(unlinked_only)
        spec = emap.tables.get(name)
        reduced = sorted(rows.reduce.get(name, set()) - deleted)
        if reduced and spec is not None:
            nullify = {c: None for c, how in spec.columns.items() if how == "nullify"}
            if nullify:
                _execute_for_keys(
                    conn, update(table).where(_one_of(key, dialect, True)).values(nullify), reduced
                )
            pseudonymised = [c for c, how in spec.columns.items() if how == "pseudonymise"]
            if pseudonymised:
                params = []
                for row_id in reduced:
                    owners = sorted(rows.owners.get((name, row_id), set()))
                    seed = seeds_of.get(owners[0], f"{name}:{row_id}") if owners else f"{name}:{row_id}"
                    values = {
                        f"p_{c}": _pseudonym(seed, name, c, getattr(table.c[c].type, "length", None))
                        for c in pseudonymised
                    }
                    params.append({"row_key": row_id, **values})
                statement = (
                    update(table)
                    .where(key == bindparam("row_key"))
                    .values({c: bindparam(f"p_{c}") for c in pseudonymised})
                )
                conn.execute(statement, params)
            expired = sorted(rows.expire.get(name, set()) - deleted)
            expire_columns = _expiry_columns(name) if expired else {}
            if expire_columns:
                statement = update(table).where(_one_of(key, dialect, True)).values(expire_columns)
                _execute_for_keys(conn, statement, expired)
            label = "retained" if spec.strategy == "retain" else "anonymised"
            counts[name][label] = counts[name].get(label, 0) + len(reduced)
        if deleted:
            _execute_for_keys(conn, delete(table).where(_one_of(key, dialect, True)), sorted(deleted))
            counts[name]["deleted"] = counts[name].get("deleted", 0) + len(deleted)
    return {name: dict(value) for name, value in counts.items()}


def _expiry_columns(name: str) -> dict[str, None]:
    """Every nullable personal column of a table but its key: what a retained row loses when the
    regulatory rule that kept it ends (the accounting facts, required columns, stay)."""
    from tasks.personal_data import table_map

    entry = table_map(name)
    return {
        column: None
        for column in entry.personal_columns
        if column in entry.nullable_columns and column not in entry.key
    }


def _item_counts(
    rows: RowSets, item_ids: Iterable[int], emap: ErasureMap
) -> dict[int, dict[str, dict[str, int]]]:
    """Rows per item, table and action (a row owned by two items counts for both)."""
    result: dict[int, dict[str, dict[str, int]]] = {item_id: {} for item_id in item_ids}

    def bump(item_id: int, table: str, action: str) -> None:
        if item_id in result:
            per_table = result[item_id].setdefault(table, {})
            per_table[action] = per_table.get(action, 0) + 1

    for table, row_ids in rows.delete.items():
        for row_id in row_ids:
            for item_id in rows.owners.get((table, row_id), ()):
                bump(item_id, table, "deleted")
    for table, row_ids in rows.reduce.items():
        spec = emap.tables.get(table)
        label = "retained" if spec is not None and spec.strategy == "retain" else "anonymised"
        for row_id in row_ids - rows.delete.get(table, set()):
            for item_id in rows.owners.get((table, row_id), ()):
                bump(item_id, table, label)
    unlinked = {(table, row_id) for (table, _column), row_ids in rows.unlink.items() for row_id in row_ids}
    for table, row_id in unlinked:
        if row_id in rows.delete.get(table, set()):
            continue
        for item_id in rows.linked_by.get((table, row_id), set()) - rows.owners.get((table, row_id), set()):
            bump(item_id, table, "unlinked")
    return result


def erase_items(
    conn: Connection,
    items: Sequence[ItemRow],
    identities: Mapping[int, Identity],
    *,
    plan_id: int | None = None,
    run_id: str | None = None,
    request_ids: Mapping[int, int] | None = None,
) -> EraseOutcome:
    """Carry out a batch of plan items in the caller's transaction, and write one audit record per item.

    Returns the audit rows written (for the journal) and the rows affected per table and action.
    """
    emap = erasure_map()
    rows = RowSets()
    subjects = {item.id: identities[item.id] for item in items if item.action == "erase_subject"}
    _find_subject_rows(conn, emap, rows, subjects)
    existing = _existing_rows(conn, emap, [item for item in items if item.action != "erase_subject"])
    delete_seeds: dict[str, set[int]] = defaultdict(set)
    for item in items:
        if item.action == "erase_subject" or item.subject_row_id not in existing[item.subject_table]:
            continue  # a row item whose row is gone already has nothing left to do
        if item.action == "delete_row":
            rows.owners[(item.subject_table, item.subject_row_id)].add(item.id)
            rows.delete[item.subject_table].add(item.subject_row_id)
            delete_seeds[item.subject_table].add(item.subject_row_id)
        else:
            rows.owners[(item.subject_table, item.subject_row_id)].add(item.id)
            rows.reduce[item.subject_table].add(item.subject_row_id)
            if emap.tables[item.subject_table].strategy == "retain":
                rows.expire[item.subject_table].add(item.subject_row_id)
    if delete_seeds:
        _find_row_descendants(conn, emap, rows, delete_seeds)
    _plan_actions(conn, emap, rows)
    seeds_of = {
        item.id: identities[item.id].audit_hash(f"{item.subject_table}:{item.subject_row_id}")
        for item in items
    }
    # The audit records depend only on the rows found, not on the statements: they are built on a helper
    # thread while the database runs the statements (the driver releases the GIL for each).
    records = _record_builder().submit(
        _item_records, emap, rows, items, identities, plan_id, run_id, request_ids
    )
    try:
        table_counts = _execute_actions(conn, emap, rows, seeds_of)
    finally:
        per_item, audit_rows, journal = records.result()
    write_audit_rows(conn, audit_rows)
    return EraseOutcome(journal=journal, table_counts=table_counts, item_counts=per_item)


def _item_records(
    emap: ErasureMap,
    rows: RowSets,
    items: Sequence[ItemRow],
    identities: Mapping[int, Identity],
    plan_id: int | None,
    run_id: str | None,
    request_ids: Mapping[int, int] | None,
) -> tuple[dict[int, dict[str, dict[str, int]]], list[dict[str, Any]], list[str]]:
    """Per item: its rows per table and action, its audit row and its journal line (erase_items)."""
    per_item = _item_counts(rows, [item.id for item in items], emap)
    audit_rows = []
    details: list[dict[str, Any]] = []
    for item in items:
        identity = identities[item.id]
        record = new_record_id()
        detail: dict[str, Any] = {"record": record, "action": item.action, "tables": per_item[item.id]}
        if item.action == "erase_subject":
            event = "subject_erased"
            also = identity.other_hashes()
            if also:
                detail["also"] = also
        else:
            event = "row_deleted" if item.action == "delete_row" else "row_anonymised"
            detail["table"] = item.subject_table
            detail["row"] = row_hash(item.subject_table, item.subject_row_id)
        request_id = None
        if item.subject_table == REQUEST_TABLE:
            request_id = item.subject_row_id
        elif request_ids:
            request_id = request_ids.get(item.id)
        subject: str | None = identity.audit_hash(f"{item.subject_table}:{item.subject_row_id}")
        if item.action != "erase_subject" and not identity.emails and not identity.request_hash:
            subject = None
        row = audit_row(
            event,
            subject=subject,
            rule=item.rule,
            plan_id=plan_id,
            request_id=request_id,
            detail=detail,
            run_id="",  # looked up once by the caller: the lookup costs more than the row
        )
        row["run_id"] = run_id
        audit_rows.append(row)
        details.append(detail)
    return per_item, audit_rows, journal_lines(audit_rows, details)


# ------------------------------------------------------------------- row items, set-based (the fast path)
#
# Most items of a retention sweep are rows (a survey response, an email event, a booking) that nothing
# else depends on. For those the engine does not need to walk the map row by row: one query per batch
# reads every item's row with the links that name its subject (and its parent's, and the addresses of the
# accounts they name), one statement deletes or reduces all of them, and the audit records are built from
# that query. Rows something depends on, and tables whose shape this path does not cover, go through
# `erase_items` as before, in the same transaction.


@dataclass(frozen=True)
class Watchlist:
    """Every account and address some block names (holds, open subject access requests, restrictions),
    with the accounts of those addresses and the addresses of those accounts: a row that names none of
    them cannot be blocked, so only the rows that do are checked one by one (plans.blocked_reason)."""

    accounts: frozenset[int] = frozenset()
    emails: frozenset[str] = frozenset()
    hash_all: bool = False  # a block known by keyed hash only: every address must be hashed to match it


@dataclass(frozen=True, slots=True)
class ScannedRow:
    """A pending row item as `scan_rows` read it: ids, whether its row is still there, the address its
    audit record is keyed by (None when the row names no address), whether a block might concern it."""

    item_id: int
    account_id: int | None
    row_id: int
    rule: str
    present: bool
    primary_email: str | None
    watched: bool

    def item(self, table: str, action: str) -> ItemRow:
        from tasks.plans import ItemRow

        return ItemRow(self.item_id, self.account_id, table, self.row_id, action, self.rule)


def close_watchlist(
    conn: Connection, accounts: Iterable[int], emails: Iterable[str], *, hash_all: bool = False
) -> Watchlist:
    """The watchlist of the accounts and addresses that blocks name, closed as resolve_identities closes
    an identity: the accounts of those addresses, and the addresses of those accounts."""
    watched_accounts = {int(a) for a in accounts}
    watched_emails = {address for address in map(_norm, emails) if address}
    emap = erasure_map()
    for self_name in emap.self_tables:
        spec = emap.tables[self_name]
        for link in spec.direct_subject_links:
            if link.kind != "email":
                continue
            column = spec.table.c[link.column]
            for row_id, _value in _select_in(
                conn, [spec.key_column, column], func.lower(column), watched_emails
            ):
                watched_accounts.add(int(row_id))
        for link in spec.direct_subject_links:
            if link.kind != "email":
                continue
            column = spec.table.c[link.column]
            for _row_id, value in _select_in(
                conn, [spec.key_column, column], spec.key_column, watched_accounts
            ):
                address = _norm(value)
                if address:
                    watched_emails.add(address)
    return Watchlist(frozenset(watched_accounts), frozenset(watched_emails), hash_all)


def _self_spec() -> TableErasure | None:
    emap = erasure_map()
    return emap.tables[emap.self_tables[0]] if len(emap.self_tables) == 1 else None


def set_based_rows(table_name: str, action: str) -> bool:
    """Whether row items (`action` delete_row or anonymise_row) on `table_name` can go the set-based way:
    a table that does not hold the accounts themselves, whose subject is named by its own links and at
    most one parent with direct links only, with no pseudonymised column to compute row by row."""
    return _set_based_rows(table_name, action)


@cache
def _set_based_rows(table_name: str, action: str) -> bool:
    emap = erasure_map()
    spec = emap.tables.get(table_name)
    if spec is None or action not in ("delete_row", "anonymise_row") or table_name == REQUEST_TABLE:
        return False
    if is_self_table(table_name) or _self_spec() is None:
        return False
    parents = [link for link in spec.links if link.role == "subject" and link.kind == "parent"]
    if len(parents) > 1:
        return False
    for link in parents:
        assert link.parent is not None
        parent = emap.tables[link.parent]
        if link.parent == REQUEST_TABLE or is_self_table(link.parent) or parent.parent_links:
            return False
    return not (action == "anonymise_row" and "pseudonymise" in spec.columns.values())


def _items_in_range(plan_id: int, table_name: str, action: str) -> Any:
    """The pending items of one table and action with ids in [:lo, :hi] (bound by the caller)."""
    from tasks.schema import plan_items

    return (
        select(plan_items.c.subject_row_id)
        .where(plan_items.c.plan_id == plan_id)
        .where(plan_items.c.status == "pending")
        .where(plan_items.c.subject_table == table_name)
        .where(plan_items.c.action == action)
        .where(plan_items.c.id.between(bindparam("lo"), bindparam("hi")))
    )


@cache
def _row_scan_statement(
    table_name: str, with_addresses: bool = True
) -> tuple[Any, tuple[Link, ...], Link | None, tuple[Link, ...], int]:
    """SELECT item, row key, the row's subject link values, its parent's, and the addresses of every
    account they name; built once per table."""
    from tasks.schema import plan_items

    emap = erasure_map()
    spec = emap.tables[table_name]
    self_spec = _self_spec()
    assert self_spec is not None
    own = tuple(link for link in spec.direct_subject_links)
    parent_link = next(
        (link for link in spec.links if link.role == "subject" and link.kind == "parent"), None
    )
    row = spec.table.alias("row")
    columns: list[Any] = [
        plan_items.c.id,
        plan_items.c.account_id,
        plan_items.c.subject_row_id,
        plan_items.c.rule,
        row.c[spec.key].label("present"),
    ]
    columns += [row.c[link.column] for link in own]
    source = plan_items.outerjoin(row, row.c[spec.key] == plan_items.c.subject_row_id)
    account_values: list[Any] = [row.c[link.column] for link in own if link.kind in ("self", "account")]
    parent_own: tuple[Link, ...] = ()
    if parent_link is not None:
        assert parent_link.parent is not None
        parent_spec = emap.tables[parent_link.parent]
        parent = parent_spec.table.alias("parent")
        parent_own = tuple(parent_spec.direct_subject_links)
        source = source.outerjoin(parent, parent.c[parent_spec.key] == row.c[parent_link.column])
        columns.append(parent.c[parent_spec.key].label("parent_present"))
        columns += [parent.c[link.column] for link in parent_own]
        account_values += [parent.c[link.column] for link in parent_own if link.kind in ("self", "account")]
    email_columns = [link.column for link in self_spec.direct_subject_links if link.kind == "email"]
    if not with_addresses:  # a check needs no primary address: the watchlist names accounts and addresses
        account_values, email_columns = [], []
    for index, value in enumerate(account_values):
        account = self_spec.table.alias(f"account_{index}")
        source = source.outerjoin(account, account.c[self_spec.key] == value)
        columns += [account.c[name] for name in email_columns]
    statement = (
        select(*columns)
        .select_from(source)
        .where(plan_items.c.plan_id == bindparam("plan_id"))
        .where(plan_items.c.status == "pending")
        .where(plan_items.c.subject_table == table_name)
        .where(plan_items.c.action == bindparam("action"))
        .where(plan_items.c.id.between(bindparam("lo"), bindparam("hi")))
        .order_by(plan_items.c.id)
    )
    return statement, own, parent_link, parent_own, len(email_columns)


def scan_rows(
    conn: Connection,
    plan_id: int,
    table_name: str,
    action: str,
    lo: int,
    hi: int,
    watch: Watchlist,
    *,
    with_addresses: bool = True,
) -> list[ScannedRow]:
    """The pending items of `table_name`/`action` with ids in [lo, hi] (a set_based_rows table), read
    with one query: each row's subject links, its parent's, and the addresses of the accounts they name.

    Per row: the address `resolve_identities` would make primary (the first address link, the
    parent's, else the smallest address of the smallest account named; with `with_addresses` False the
    accounts are not read and a row with no address link has none), and whether it names anything
    on the watchlist (then the caller resolves it fully and checks the blocks)."""
    statement, own, parent_link, parent_own, per_account = _row_scan_statement(table_name, with_addresses)
    own_kinds = [link.kind in ("self", "account") for link in own]
    parent_kinds = [link.kind in ("self", "account") for link in parent_own]
    watched_accounts, watched_emails = watch.accounts, watch.emails
    scanned = []
    params = {"plan_id": plan_id, "action": action, "lo": lo, "hi": hi}
    for record in conn.execute(statement, params).tuples().fetchall():
        item_id, account_id, row_id, rule, present = record[:5]
        if present is None:
            scanned.append(ScannedRow(item_id, account_id, row_id, rule, False, None, False))
            continue
        slots: list[Any] = []  # every account-valued link, in the statement's order (None included)
        first: str | None = None
        watched = watch.hash_all
        position = 5
        for is_account in own_kinds:
            value = record[position]
            position += 1
            if is_account:
                slots.append(value)
            elif value is not None and (address := _norm(value)):
                first = first or address
                watched = watched or address in watched_emails
        if parent_link is not None:
            parent_present = record[position] is not None
            position += 1
            parent_first = None
            for is_account in parent_kinds:
                value = record[position] if parent_present else None
                position += 1
                if is_account:
                    slots.append(value)
                elif value is not None and (address := _norm(value)):
                    parent_first = parent_first or address
                    watched = watched or address in watched_emails
            first = first or parent_first
        if per_account and first is None and any(value is not None for value in slots):
            # no address link: the smallest address of the smallest account named is the primary one
            found: dict[int, list[str]] = {}
            for value in slots:
                addresses = [a for a in map(_norm, record[position : position + per_account]) if a]
                position += per_account
                if value is not None:
                    found.setdefault(int(value), []).extend(addresses)
            for account in sorted(found):
                if found[account]:
                    first = min(found[account])
                    break
        # an account's own address is watched through the account (the watchlist holds both)
        watched = watched or any(value in watched_accounts for value in slots if value is not None)
        scanned.append(ScannedRow(item_id, account_id, row_id, rule, True, first, watched))
    return scanned


def rows_with_dependents(
    conn: Connection, plan_id: int, table_name: str, action: str, lo: int, hi: int
) -> set[int]:
    """Rows of the pending delete_row items in [lo, hi] that other rows point at (through a foreign key or
    a map parent link): those go through `erase_items`, which decides per dependent row."""
    if action != "delete_row":
        return set()
    emap = erasure_map()
    children = {(ref.child, ref.column) for ref in emap.references.get(table_name, ())}
    for name, spec in emap.tables.items():
        children |= {(name, link.column) for link in spec.parent_links if link.parent == table_name}
    targets = _items_in_range(plan_id, table_name, action)
    found: set[int] = set()
    for child, column_name in sorted(children):
        column = metadata.tables[child].c[column_name]
        statement = select(column).distinct().where(column.in_(targets))
        found.update(int(value) for (value,) in conn.execute(statement, {"lo": lo, "hi": hi}))
    return found


def erase_rows_set_based(
    conn: Connection,
    plan_id: int,
    table_name: str,
    action: str,
    lo: int,
    hi: int,
    rows: Sequence[ScannedRow],
    *,
    run_id: str | None = None,
) -> EraseOutcome:
    """Delete or reduce the rows of every pending `table_name`/`action` item in [lo, hi] with one
    statement, and write one audit record per item, as `erase_items` would. `rows` are those items, read
    by `scan_rows` in this transaction; the caller has already deferred or set apart the others.

    The audit records are built on a helper thread while the database runs the statement (the driver
    releases the GIL for it); nothing but this function touches what that thread builds."""
    emap = erasure_map()
    spec = emap.tables[table_name]
    table = spec.table
    targets = _items_in_range(plan_id, table_name, action)
    key = spec.key_column
    bounds = {"lo": lo, "hi": hi}
    if "@" in table_name:
        raise ErasureMapError(f"{table_name}: a table name cannot hold '@'")
    label = (
        "deleted" if action == "delete_row" else ("retained" if spec.strategy == "retain" else "anonymised")
    )
    records = _record_builder().submit(_row_records, plan_id, table_name, action, label, rows, run_id)
    try:
        if action == "delete_row":
            conn.execute(delete(table).where(key.in_(targets)), bounds)
        else:
            values: dict[str, None] = {c: None for c, how in spec.columns.items() if how == "nullify"}
            if spec.strategy == "retain":
                values.update(_expiry_columns(table_name))
            if values:
                conn.execute(update(table).where(key.in_(targets)).values(values), bounds)
    finally:
        audit_values, lines, present = records.result()
    write_audit_values(conn, audit_values)
    del audit_values  # a window's records: free them before the journal is written
    counts = {table_name: {label: present}} if present else {}
    return EraseOutcome(journal=lines, table_counts=counts)


@cache
def _record_builder() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix="steward-audit-records")


def _row_records(
    plan_id: int, table_name: str, action: str, label: str, rows: Sequence[ScannedRow], run_id: str | None
) -> tuple[list[tuple[Any, ...]], list[str], int]:
    """The audit records (values in AUDIT_COLUMNS order) and journal lines of set-based row items, and
    how many of their rows were there."""
    event = "row_deleted" if action == "delete_row" else "row_anonymised"
    occurred = utc_now()
    # Every record here has the same shape: its detail and its journal line (JSON with sorted keys, as
    # audit_row and journal_lines write them) are filled in from templates rather than encoded a million
    # times. tests/test_plans.py checks both against the encoder.
    name_json = json.dumps(table_name)
    tables_json = {True: json.dumps({table_name: {label: 1}}), False: "{}"}
    detail_template = '{"action": "%s", "record": "%s", "row": "%s", "table": %s, "tables": %s}'
    line_template = (
        '{"also": [], "event": "%s", "occurred_at": %s, "plan_id": %d, "record": "%s", "request_id": null, '
        '"row": "%s", "rule": %s, "run_id": %s, "subject_hash": %s, "table": %s, "tables": %s}\n'
    )
    occurred_json = json.dumps(occurred.isoformat())
    run_json = json.dumps(run_id)
    rule_json: dict[str, str] = {}
    hashes: dict[str, str] = {}  # one subject often has many rows in a window (their email events)
    audit_values: list[tuple[Any, ...]] = []
    lines = []
    present = 0
    for row in rows:
        record = new_record_id()
        hashed_row = row_hash(table_name, row.row_id)
        address = row.primary_email
        subject = (
            (hashes.get(address) or hashes.setdefault(address, subject_hash(address))) if address else None
        )
        tables = tables_json[row.present]
        present += row.present
        audit_values.append(  # in AUDIT_COLUMNS order
            (
                occurred,
                run_id,
                event,
                subject,
                row.rule,
                plan_id,
                None,
                detail_template % (action, record, hashed_row, name_json, tables),
            )
        )
        rule = rule_json.get(row.rule) or rule_json.setdefault(row.rule, json.dumps(row.rule))
        subject_json = f'"{subject}"' if subject else "null"
        lines.append(
            line_template
            % (
                event,
                occurred_json,
                plan_id,
                record,
                hashed_row,
                rule,
                run_json,
                subject_json,
                name_json,
                tables,
            )
        )
    return audit_values, lines, present


def _existing_rows(conn: Connection, emap: ErasureMap, items: Sequence[ItemRow]) -> dict[str, set[int]]:
    by_table: dict[str, set[int]] = defaultdict(set)
    for item in items:
        by_table[item.subject_table].add(item.subject_row_id)
    existing: dict[str, set[int]] = defaultdict(set)
    for name, ids in by_table.items():
        spec = emap.tables[name]
        existing[name] = {int(row[0]) for row in _select_in(conn, [spec.key_column], spec.key_column, ids)}
    return existing


_RECORD_IDS = random.Random(os.urandom(32))


def new_record_id() -> str:
    """A random id for one audit record (32 hex digits) that the journal and the audit log share. Unique,
    not secret: drawn from a generator seeded by the system, not one system call per record."""
    return f"{_RECORD_IDS.getrandbits(128):032x}"


def row_hash(table: str, row_id: int) -> str:
    """The audit's name for one row: a keyed hash of table and key (row ids identify people too)."""
    return keyed_hash(f"{table}:{int(row_id)}", "row")


# ----------------------------------------------------------------------------------------- journal


def journal_path() -> Path:
    settings = get_settings()
    return settings.erasure_journal or settings.output_dir / "audit" / "erasure-journal.jsonl"


def _journal_entry(row: Mapping[str, Any], detail: Mapping[str, Any] | None = None) -> dict[str, Any]:
    if detail is None:
        detail = json.loads(row["detail"]) if isinstance(row["detail"], str) else dict(row["detail"] or {})
    occurred = row["occurred_at"]
    return {
        "record": detail.get("record"),
        "event": row["event"],
        "occurred_at": occurred.isoformat() if isinstance(occurred, datetime | date) else str(occurred),
        "run_id": row.get("run_id"),
        "subject_hash": row.get("subject_hash"),
        "also": detail.get("also", []),
        "table": detail.get("table"),
        "row": detail.get("row"),
        "rule": row.get("rule"),
        "plan_id": row.get("plan_id"),
        "request_id": row.get("request_id"),
        "tables": detail.get("tables", {}),
    }


def journal_lines(
    audit_rows: Sequence[Mapping[str, Any]], details: Sequence[Mapping[str, Any]] | None = None
) -> list[str]:
    """The journal's lines (JSON, keys sorted) for the erasure records among `audit_rows`. `details`: the
    records' details as dicts, in the same order (saves reading them back from JSON)."""
    pairs: Iterable[tuple[Mapping[str, Any], Mapping[str, Any] | None]] = (
        zip(audit_rows, details, strict=True) if details is not None else ((row, None) for row in audit_rows)
    )
    return [
        json.dumps(_journal_entry(row, detail), sort_keys=True) + "\n"
        for row, detail in pairs
        if row["event"] in ERASURE_EVENTS
    ]


def append_journal_lines(lines: Sequence[str]) -> int:
    """Append lines made by `journal_lines` (or `erase_rows_set_based`) to the journal, flushed."""
    if not lines:
        return 0
    path = journal_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(fd, "a", encoding="utf-8") as handle:
        handle.writelines(lines)  # not one joined string: a window's lines are tens of megabytes
        # Flushed, not fsynced: as durable as the database's own commits (WAL, synchronous=NORMAL);
        # records a crash loses here are copied from the audit log by sync_journal on the next run.
        handle.flush()
    return len(lines)


def read_journal(path: Path | None = None) -> list[dict[str, Any]]:
    """Every journal entry, the same record once (a line cut short by a crash is skipped)."""
    path = path or journal_path()
    if not path.exists():
        return []
    seen: set[str] = set()
    entries = []
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            try:
                entry = json.loads(line)
            except json.JSONDecodeError:
                continue
            record = entry.get("record")
            if record and record not in seen:
                seen.add(record)
                entries.append(entry)
    return entries


def journal_records(plan_id: int | None = None, path: Path | None = None) -> set[str]:
    """The record ids in the journal (of one plan), read line by line: the journal only grows, so it
    is never loaded whole for this."""
    path = path or journal_path()
    if not path.exists():
        return set()
    marker = f'"plan_id": {int(plan_id)},' if plan_id is not None else None
    found: set[str] = set()
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if marker is not None and marker not in line:
                continue
            try:
                record = json.loads(line).get("record")
            except json.JSONDecodeError:
                continue
            if record:
                found.add(str(record))
    return found


def sync_journal(engine: Engine, plan_id: int | None = None) -> int:
    """Append the erasure records the database holds and the journal lacks (a crash between a commit
    and its journal append leaves such records); returns how many were added."""
    from tasks.db import sql

    with engine.connect() as conn:
        statement = sql("erasure__audit_records", conn)
        rows = [dict(row) for row in conn.execute(statement, {"plan_id": plan_id}).mappings()]
    if not rows:
        return 0
    known = journal_records(plan_id)
    missing = []
    for row in rows:
        detail = json.loads(row["detail"] or "{}")
        if detail.get("record") and detail["record"] not in known:
            missing.append(row)
    return append_journal_lines(journal_lines(missing))


# ------------------------------------------------------------------------------------------ replay


@dataclass
class ReplayResult:
    """What a replay found and did: counts and ids only."""

    journal_entries: int = 0
    considered: int = 0
    subjects_found: int = 0
    rows_found: int = 0
    plan_id: int | None = None
    items_done: int = 0
    deferred: dict[str, int] = field(default_factory=dict)


def _when(entry: Mapping[str, Any]) -> datetime | None:
    try:
        return datetime.fromisoformat(str(entry.get("occurred_at")))
    except ValueError:
        return None


def replay_erasures(
    *, engine: Engine | None = None, since: datetime | None = None, journal: Path | None = None
) -> ReplayResult:
    """After a database restore: erase again every subject and row the journal says was erased.

    The journal holds keyed hashes only, so the subjects are found by hashing the identifiers now in
    the database (every address in the map's email links, every row key of the tables with row
    erasures) with the same secret key. The matches become one plan (kind `erasure_replay`), checked
    for holds and blocks but not held by the guard (the DPO asked for it), and applied. Run it right
    after the restore, before the system is opened again: a person who registers anew afterwards with
    the same address would match too. `since`: only erasures recorded from then on (the backup's time).
    """
    from tasks.plans import PlanItem, apply_plan, check_plan, create_plan, plan_summary, validate_plan

    engine = engine or get_engine()
    if journal is None:
        sync_journal(engine)
    entries = read_journal(journal)
    result = ReplayResult(journal_entries=len(entries))
    chosen = []
    for entry in entries:
        when = _when(entry)
        if since is not None and when is not None and when < since:
            continue
        chosen.append(entry)
    result.considered = len(chosen)
    subjects: dict[str, Mapping[str, Any]] = {}
    rows: dict[tuple[str, str], Mapping[str, Any]] = {}
    for entry in chosen:
        if entry.get("event") == "subject_erased":
            for value in [entry.get("subject_hash"), *(entry.get("also") or [])]:
                if value:
                    subjects.setdefault(str(value), entry)
        elif entry.get("table") and entry.get("row"):
            rows.setdefault((str(entry["table"]), str(entry["row"])), entry)
    emap = erasure_map()
    items: list[PlanItem] = []
    with engine.connect() as conn:
        found = _find_by_address_hash(conn, emap, subjects)
        for table, row_id, subject_entry in found.values():
            items.append(
                PlanItem(
                    subject_table=table,
                    subject_row_id=row_id,
                    action="erase_subject",
                    rule=str(subject_entry.get("rule") or "erasure_replay"),
                    reason=_replay_reason(subject_entry),
                    account_id=row_id if is_self_table(table) else None,
                )
            )
        result.subjects_found = len(items)
        for (table, row_id), row_entry in _find_by_row_hash(conn, emap, rows).items():
            action = "anonymise_row" if row_entry.get("event") == "row_anonymised" else "delete_row"
            items.append(
                PlanItem(
                    subject_table=table,
                    subject_row_id=row_id,
                    action=action,  # type: ignore[arg-type]
                    rule=str(row_entry.get("rule") or "erasure_replay"),
                    reason=_replay_reason(row_entry),
                )
            )
        result.rows_found = len(items) - result.subjects_found
    if not items:
        return result
    with engine.begin() as conn:
        plan_id = create_plan(conn, "erasure_replay", items, summary={"journal_entries": result.considered})
        check_plan(conn, plan_id, max_active_share=1.0, max_subjects=len(items) + 1)
        validate_plan(conn, plan_id)
    result.plan_id = plan_id
    applied = apply_plan(plan_id, engine=engine)
    result.items_done = applied.items_done
    with engine.connect() as conn:
        result.deferred = dict(plan_summary(conn, plan_id)["deferred_reasons"])
    return result


def _replay_reason(entry: Mapping[str, Any]) -> str:
    when = _when(entry)
    day = when.date().isoformat() if when else "an earlier date"
    plan = entry.get("plan_id")
    return (
        f"erased on {day}" + (f" (plan {plan})" if plan else "") + "; brought back by a restore from backup"
    )


def _find_by_address_hash(
    conn: Connection, emap: ErasureMap, subjects: Mapping[str, Mapping[str, Any]]
) -> dict[str, tuple[str, int, Mapping[str, Any]]]:
    """Per erased subject hash found again: the row to erase them by (their account when they have
    one, else a row of a table linked by address)."""
    found: dict[str, tuple[str, int, Mapping[str, Any]]] = {}
    if not subjects:
        return found
    ordered = emap.self_tables + [name for name in emap.about_people() if name not in emap.self_tables]
    for name in ordered:
        spec = emap.tables[name]
        for link in spec.direct_subject_links:
            if link.kind != "email":
                continue
            column = spec.table.c[link.column]
            statement = select(spec.key_column, column).where(column.is_not(None)).order_by(spec.key_column)
            for row_id, value in conn.execute(statement):
                address = _norm(value)
                if not address:
                    continue
                hashed = subject_hash(address)
                if hashed in subjects and hashed not in found:
                    found[hashed] = (name, int(row_id), subjects[hashed])
    return found


def _find_by_row_hash(
    conn: Connection, emap: ErasureMap, rows: Mapping[tuple[str, str], Mapping[str, Any]]
) -> dict[tuple[str, int], Mapping[str, Any]]:
    found: dict[tuple[str, int], Mapping[str, Any]] = {}
    tables = sorted({table for table, _ in rows})
    for name in tables:
        spec = emap.tables.get(name)
        if spec is None:
            continue
        for (row_id,) in conn.execute(select(spec.key_column)):
            entry = rows.get((name, row_hash(name, int(row_id))))
            if entry is not None:
                found[(name, int(row_id))] = entry
    return found

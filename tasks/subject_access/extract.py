"""Find every row about one person by following the personal-data map, and redact other people from it.

Nothing here names a table or a column: the tables, their keys, their links to a person, the columns'
classifications, purposes, legal bases, recipients and retention rules all come from the map
(tasks.personal_data, read from data_contracts/tables/*.yaml), and foreign keys from the schema.
Adapting steward to another schema means editing the contracts.

How rows are reached, from the requester's email address and account id:
1. tables with a `self` link (the accounts): rows whose key is one of the person's account ids, or whose
   `email` link column holds one of their addresses. The ids found there, and the addresses in the
   columns classified `contact` of those rows, are the person's too (the account found by address, the
   address on the account found by id); this repeats until nothing new appears.
2. then every other table, parents before children: rows whose `account` link column holds one of the
   person's account ids, whose `email` link column holds one of their addresses (trimmed and compared
   case-insensitively, so records keyed by email only are found), or whose `parent` link column points
   at a row of the parent table already found. Links of every role are followed: a report the person
   made is about them as its reporter.
3. a row reached only through a parent, whose own direct links with role `subject` name only other
   people, is another person's record hanging off the person's (another member's post in a thread the
   person started): it is left out, and so are its children.

Redaction (other people's data is protected, DPA 2018 Sch. 2 para. 16), in every row kept:
- every `account`, `self` or `email` link column (whatever its role) holding a value that is not the
  person's own, and every `staff` link column (a moderator's, an approver's name) is replaced by REDACTED;
- a row that names someone else in such a link is shared with that person: its other columns classified
  `identity` or `contact` (an invoice's billing name and address when the invoice is billed to another
  address) cannot be told apart from the other person's, and are redacted too.
Free text (classification `content`) is not redacted: the reasons given about a person's post are
theirs to see. `Extract.shared_free_text` counts such values for the DPO to review.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Column, Connection, MetaData, Table, func, select

from tasks.personal_data import ParentCycle, SubjectLink, TableMap, parents_first
from tasks.subject_access.model import REDACTED, SubjectIdentifiers

IN_CHUNK = 500
"""Values per IN (...) list: well under SQLite's bound-parameter limit, and one index probe each."""
DIRECT_KINDS = ("self", "account", "email")
SHARED_ROW_KINDS = ("identity", "contact")
"""Classifications redacted from a row shared with another person (besides the link columns)."""


class MapOrderError(ValueError):
    """The map's parent links form a cycle or name a table that links to nobody."""


def reaches_people(entry: TableMap) -> bool:
    """True when steward can follow one of the table's links to a person (a `staff` link alone cannot)."""
    return any(link.resolvable for link in entry.links)


@dataclass
class TableRows:
    """The rows of one table about the person, before redaction, and how each was reached."""

    entry: TableMap
    rows: dict[Any, dict[str, Any]] = field(default_factory=dict)
    reached_by: dict[Any, set[str]] = field(default_factory=dict)


def extraction_order(entries: Mapping[str, TableMap]) -> list[str]:
    """The tables steward can reach a person in: `self` tables first, then each parent before its children."""
    reachable = {name: entry for name, entry in entries.items() if reaches_people(entry)}
    for name, entry in reachable.items():
        for parent in entry.parents:
            if parent not in reachable:
                raise MapOrderError(f"table {name!r} has a parent link to {parent!r}, which links to nobody")
    self_tables = sorted(n for n, e in reachable.items() if any(lk.kind == "self" for lk in e.links))
    try:
        return parents_first({n: e.parents for n, e in reachable.items()}, self_tables + sorted(reachable))
    except ParentCycle as cycle:
        raise MapOrderError(f"the map's parent links form a {cycle}") from None


def _chunks(values: Sequence[Any], size: int = IN_CHUNK) -> Iterator[list[Any]]:
    for start in range(0, len(values), size):
        yield list(values[start : start + size])


def _row_key(entry: TableMap, row: Mapping[str, Any]) -> Any:
    if len(entry.key) == 1:
        return row[entry.key[0]]
    return tuple(row[column] for column in entry.key)


def _sort_key(value: Any) -> tuple[int, Any]:
    # Keys are integers in the reference schema; anything else sorts by its text after them.
    return (0, value) if isinstance(value, int) else (1, str(value))


def looks_like_email(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    local, at, domain = value.strip().partition("@")
    return bool(at and local and "." in domain and " " not in value.strip())


def owns(link: SubjectLink, value: Any, who: SubjectIdentifiers) -> bool:
    """Whether `value` in the link's column identifies the requester (a staff link never does)."""
    if link.kind == "email":
        return who.owns_email(value)
    if link.kind in ("self", "account"):
        return who.owns_account(value)
    return False


class Extractor:
    """Follows the map from one person's identifiers to every row about them."""

    def __init__(self, conn: Connection, entries: Mapping[str, TableMap], metadata: MetaData) -> None:
        self.conn = conn
        self.entries = entries
        self.metadata = metadata
        self.order = extraction_order(entries)
        self.queries = 0

    def table(self, name: str) -> Table:
        if name in self.metadata.tables:
            return self.metadata.tables[name]
        return Table(name, self.metadata, autoload_with=self.conn)

    def _select_in(self, table: Table, column: Any, values: set[Any]) -> Iterator[dict[str, Any]]:
        for chunk in _chunks(sorted(values, key=_sort_key)):
            self.queries += 1
            yield from (
                dict(row) for row in self.conn.execute(select(table).where(column.in_(chunk))).mappings()
            )

    def _parent_column(self, table: Table, column: str, parent: TableMap) -> Column[Any]:
        """The parent column a parent link points at: its foreign key's target, else the parent's key."""
        parent_table = self.table(parent.table)
        for fk in table.c[column].foreign_keys:
            if fk.column.table.name == parent.table:
                return fk.column
        return parent_table.c[parent.key[0]]

    def _rows_by_link(
        self, entry: TableMap, link: SubjectLink, who: SubjectIdentifiers, found: Mapping[str, TableRows]
    ) -> Iterator[dict[str, Any]]:
        table = self.table(entry.table)
        column = table.c[link.column]
        if link.kind in ("self", "account") and who.account_ids:
            yield from self._select_in(table, column, set(who.account_ids))
        elif link.kind == "email" and who.emails:
            yield from self._select_in(table, func.lower(column), set(who.emails))
        elif link.kind == "parent" and link.parent is not None and link.parent in found:
            parent = found[link.parent]
            if parent.rows:
                target = self._parent_column(table, link.column, parent.entry)
                values = {row[target.name] for row in parent.rows.values() if row[target.name] is not None}
                if values:
                    yield from self._select_in(table, column, values)

    @staticmethod
    def _someone_elses(entry: TableMap, row: Mapping[str, Any], who: SubjectIdentifiers) -> bool:
        """True when the row's own direct subject links name only other people (module docstring, 3)."""
        named = [
            (link, row[link.column])
            for link in entry.subject_links
            if link.kind in DIRECT_KINDS and row[link.column] is not None
        ]
        return bool(named) and not any(owns(link, value, who) for link, value in named)

    def reach(self, entry: TableMap, who: SubjectIdentifiers, found: Mapping[str, TableRows]) -> TableRows:
        result = TableRows(entry)
        for link in entry.links:
            if not link.resolvable:
                continue
            for row in self._rows_by_link(entry, link, who, found):
                if link.kind == "parent" and self._someone_elses(entry, row, who):
                    continue
                key = _row_key(entry, row)
                result.rows.setdefault(key, row)
                result.reached_by.setdefault(key, set()).add(f"{link.kind}:{link.column}")
        return result

    @staticmethod
    def _grow_identity(entry: TableMap, rows: TableRows, who: SubjectIdentifiers) -> bool:
        """Add the ids and addresses on the person's own account rows; True when something was new."""
        before = (len(who.account_ids), len(who.emails))
        for row in rows.rows.values():
            for link in entry.subject_links:
                if link.kind == "self" and row[link.column] is not None:
                    who.account_ids.add(int(row[link.column]))
            for column, kind in entry.classifications.items():
                if kind == "contact" and looks_like_email(row.get(column)):
                    who.emails.add(str(row[column]).strip().lower())
        return (len(who.account_ids), len(who.emails)) != before

    def find(self, who: SubjectIdentifiers) -> dict[str, TableRows]:
        """Every row about the person, per table in extraction order (tables with no row included)."""
        found: dict[str, TableRows] = {}
        self_tables = [n for n in self.order if any(lk.kind == "self" for lk in self.entries[n].links)]
        for _round in range(5):
            grew = False
            for name in self_tables:
                found[name] = self.reach(self.entries[name], who, found)
                grew = self._grow_identity(self.entries[name], found[name], who) or grew
            if not grew:
                break
        for name in self.order:
            if name not in found:
                found[name] = self.reach(self.entries[name], who, found)
        return {name: found[name] for name in self.order}

    def reference_rows(self, found: Mapping[str, TableRows]) -> dict[str, list[dict[str, Any]]]:
        """Rows of tables that reach nobody, pointed at by the person's rows through a foreign key (a
        booking's course, a response's survey): their columns classified not_personal only."""
        wanted: dict[tuple[str, str], set[Any]] = {}
        for name, rows in found.items():
            if not rows.rows:
                continue
            for column in self.table(name).columns:
                for fk in column.foreign_keys:
                    target = self.entries.get(fk.column.table.name)
                    if target is None or reaches_people(target):
                        continue
                    values = {row[column.name] for row in rows.rows.values() if row[column.name] is not None}
                    wanted.setdefault((target.table, fk.column.name), set()).update(values)
        reference: dict[str, list[dict[str, Any]]] = {}
        for (name, key), values in sorted(wanted.items()):
            if not values:
                continue
            entry = self.entries[name]
            table = self.table(name)
            keep = [c.name for c in table.columns if entry.classifications.get(c.name) == "not_personal"]
            if key not in keep:
                continue
            by_key = {
                row[key]: {c: json_ready(row[c]) for c in keep}
                for row in self._select_in(table, table.c[key], values)
            }
            reference.setdefault(name, []).extend(by_key[k] for k in sorted(by_key, key=_sort_key))
        return reference


def json_ready(value: Any) -> Any:
    """A value as data.json, the CSVs and the HTML carry it (dates stay dates until written)."""
    if value is None or isinstance(value, bool | int | float | str | datetime | date):
        return value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes | memoryview):
        return bytes(value).hex()
    return str(value)


@dataclass
class RedactedRows:
    keys: list[Any]
    records: list[dict[str, Any]]
    redactions: dict[str, int]
    """Per column, how many values were replaced by REDACTED."""
    shared_free_text: int
    """Free-text values kept in rows shared with another person (for the DPO to review)."""
    unowned_identifiers: list[int]
    """Per record, link values left that are neither the person's nor redacted: 0 unless redaction
    is broken (the extract's contract blocks the package then)."""


def redact_rows(rows: TableRows, who: SubjectIdentifiers) -> RedactedRows:
    """The rows with other people's identities replaced by REDACTED (module docstring)."""
    entry = rows.entry
    counts: dict[str, int] = {}
    shared_free_text = 0
    keys = sorted(rows.rows, key=_sort_key)
    records: list[dict[str, Any]] = []
    link_columns = {link.column for link in entry.links if link.kind != "parent"}

    def blank(row: dict[str, Any], column: str) -> None:
        if row.get(column) is not None and row[column] != REDACTED:
            row[column] = REDACTED
            counts[column] = counts.get(column, 0) + 1

    for key in keys:
        row = dict(rows.rows[key])
        shared = False
        for link in entry.links:
            value = row.get(link.column)
            if link.kind == "parent" or value is None:
                continue
            if not owns(link, value, who):
                blank(row, link.column)
                shared = shared or link.resolvable
        if shared:
            for column, kind in entry.classifications.items():
                if kind in SHARED_ROW_KINDS and column not in link_columns:
                    blank(row, column)
                elif kind == "content" and row.get(column) not in (None, ""):
                    shared_free_text += 1
        records.append({column: json_ready(value) for column, value in row.items()})
    unowned = [count_unowned(entry, record, who) for record in records]
    return RedactedRows(keys, records, counts, shared_free_text, unowned)


def count_unowned(entry: TableMap, record: Mapping[str, Any], who: SubjectIdentifiers) -> int:
    """Link values in a record that identify someone other than the person and were not redacted."""
    return sum(
        1
        for link in entry.links
        if link.kind != "parent"
        and record.get(link.column) not in (None, REDACTED)
        and not owns(link, record[link.column], who)
    )

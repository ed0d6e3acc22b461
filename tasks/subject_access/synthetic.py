"""Synthetic people with rows in every table of the personal-data map, and activity that overlaps.

For tests and benchmarks of subject access. Like the extraction, it is driven by the map and the schema
(no table is named here), so a table added to the map gets rows without a change. Every personal value
of a person carries that person's unique token (`tok0003x`), staff names carry a staff token
(`staff002x`): a package that contains another person's token has leaked their data.

What overlaps, for each person P:
- every row of a table with a link of another role (a report) names another person (a neighbour of P)
  in that link, and hangs off P's row through its parent link (a report on P's post), so P's
  neighbours are reporters of P's posts and P reports theirs;
- rows of tables with several direct links come in variants: all P's; P's account with another
  person's address (an invoice billed to somebody else: its identity and contact columns are theirs);
  no account and P's address in upper case (a record keyed by email only);
- foreign keys that are not links point at any row of the target (P's post in another person's thread);
- `staff` links name staff members.
Only the columns that identify a person (classifications `identity` and `contact`) carry tokens; other
personal columns and free text (`content`) are neutral: the package does not claim to redact names
written inside free text (docs/subject-access.md).
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    Boolean,
    Connection,
    Date,
    DateTime,
    Float,
    Integer,
    Numeric,
    String,
    Table,
    UniqueConstraint,
    insert,
)

from tasks.contracts import load_contract
from tasks.personal_data import TableMap, personal_data_map
from tasks.schema import metadata
from tasks.subject_access.extract import reaches_people

FREE_TEXT = (
    "Thanks, this was useful for my year 9 class.",
    "Inappropriate for a professional forum.",
    "Removed under section 4 of the code of conduct.",
    "Could you send the slides again?",
    "Great session on practical electronics.",
)


@dataclass
class Person:
    index: int
    token: str
    email: str
    account_id: int | None = None

    @property
    def full_name(self) -> str:
        return f"Ada{self.token} Lovelace{self.token}"


@dataclass
class Population:
    """Who was generated: the people, the staff names, and every row id per table and owner."""

    people: list[Person]
    staff: list[str]
    rows: dict[str, dict[int, list[Any]]] = field(default_factory=dict)
    """table -> person index -> keys of the rows generated for that person."""
    orphans: dict[str, list[Any]] = field(default_factory=dict)
    """table -> keys of rows about nobody (courses, surveys)."""

    def tokens_except(self, index: int) -> list[str]:
        others = [p.token for p in self.people if p.index != index]
        return others + [s.split()[-1] for s in self.staff]


def _property(entry: TableMap, column: str) -> Any:
    return next(prop for prop in load_contract(entry.table).properties if prop.name == column)


def _is_email_column(entry: TableMap, column: str) -> bool:
    if any(link.kind == "email" and link.column == column for link in entry.links):
        return True
    prop = _property(entry, column)
    return bool(prop.pattern and "@" in prop.pattern)


def _valid_values(entry: TableMap, column: str) -> tuple[Any, ...] | None:
    prop = _property(entry, column)
    for rule in prop.quality:
        if rule.metric == "invalidValues" and rule.valid_values:
            return rule.valid_values
    return None


class _Generator:
    def __init__(self, conn: Connection, entries: Mapping[str, TableMap], seed: int) -> None:
        self.conn = conn
        self.entries = entries
        self.rng = random.Random(seed)
        self.counter = 0

    def _next(self) -> int:
        self.counter += 1
        return self.counter

    def _text(self, column: Any, value: str) -> str:
        length = getattr(column.type, "length", None)
        return value[:length] if length else value

    def value(
        self,
        table: Table,
        entry: TableMap,
        column: Any,
        owner: Person | None,
        staff: str,
    ) -> Any:
        name = column.name
        kind = entry.classifications.get(name, "not_personal")
        col_type = column.type
        if isinstance(col_type, Boolean):
            return self.rng.random() < 0.5
        if isinstance(col_type, DateTime):
            return datetime(2019, 1, 1) + timedelta(minutes=self.rng.randrange(0, 3_000_000))
        if isinstance(col_type, Date):
            return date(2019, 1, 1) + timedelta(days=self.rng.randrange(0, 2_000))
        if isinstance(col_type, Float | Numeric):
            return round(self.rng.uniform(1, 10), 2)
        if isinstance(col_type, Integer):
            return self.rng.randrange(1, 100)
        if isinstance(col_type, String):  # String and Text
            valid = _valid_values(entry, name)
            if valid:
                return self.rng.choice(list(valid))
            if kind == "content":
                return self._text(column, self.rng.choice(FREE_TEXT))
            if kind not in ("identity", "contact") or owner is None:
                return self._text(column, f"{kind.replace('_', '-')}-{self._next()}")
            if _is_email_column(entry, name):
                return owner.email
            if kind == "identity":
                return self._text(column, owner.full_name)
            return self._text(column, f"{kind}-{owner.token}-{self._next()}")
        return None

    def insert(self, table: Table, rows: list[dict[str, Any]], key: str) -> list[Any]:
        if not rows:
            return []
        if all(key in row for row in rows):
            self.conn.execute(insert(table), rows)
            return [row[key] for row in rows]
        statement = insert(table).returning(table.c[key], sort_by_parameter_order=True)
        return [row[0] for row in self.conn.execute(statement, rows)]


def generate_people(
    conn: Connection, count: int = 4, *, seed: int = 7, rows_per_table: int = 2
) -> Population:
    """Insert `count` people with overlapping rows in every table the map can reach a person in."""
    if count < 3:
        raise ValueError("overlap needs at least three people")
    entries = personal_data_map()
    gen = _Generator(conn, entries, seed)
    people = [Person(i, f"tok{i:04d}x", f"tok{i:04d}x@example.org") for i in range(count)]
    staff = [f"Moderator staff{i:03d}x" for i in range(3)]
    population = Population(people, staff)
    reachable = {name for name, entry in entries.items() if reaches_people(entry)}
    needed: set[str] = set()
    pending = list(reachable)
    while pending:  # the reachable tables and every table their foreign keys lead to
        name = pending.pop()
        if name in needed:
            continue
        needed.add(name)
        for column in metadata.tables[name].columns:
            pending.extend(fk.column.table.name for fk in column.foreign_keys)
    for table in _generation_order(entries, needed):
        entry = entries[table.name]
        if table.name in reachable:
            _generate_table(gen, table, entry, population, rows_per_table)
        else:
            _generate_orphans(gen, table, entry, population)
    return population


def _generation_order(entries: Mapping[str, TableMap], needed: set[str]) -> list[Table]:
    """`self` tables first (their ids are the account links of the rest), then every table after the
    tables its foreign keys and parent links point at."""
    order: list[str] = []
    seen: set[str] = set()

    def visit(name: str) -> None:
        if name in seen or name not in needed or name not in entries:
            return
        seen.add(name)
        table = metadata.tables[name]
        for column in table.columns:
            for fk in column.foreign_keys:
                if fk.column.table.name != name:
                    visit(fk.column.table.name)
        for parent in entries[name].parents:
            visit(parent)
        order.append(name)

    selfs = sorted(n for n in needed if n in entries and any(lk.kind == "self" for lk in entries[n].links))
    for name in selfs + sorted(needed):
        visit(name)
    return [metadata.tables[name] for name in order]


def _pick_fk(gen: _Generator, population: Population, column: Any, owner: Person | None) -> Any:
    for fk in column.foreign_keys:
        target = fk.column.table.name
        mine = population.rows.get(target, {}).get(owner.index) if owner else None
        if mine and gen.rng.random() < 0.5:
            return gen.rng.choice(mine)
        anyone = [k for keys in population.rows.get(target, {}).values() for k in keys]
        anyone += population.orphans.get(target, [])
        if anyone:
            return gen.rng.choice(anyone)
    return None


def _unique_sets(table: Table, entry: TableMap) -> list[tuple[str, ...]]:
    """The column sets the database keeps unique: the key, unique columns, constraints and indexes."""
    sets = {tuple(entry.key)}
    sets.update((column.name,) for column in table.columns if column.unique)
    for constraint in table.constraints:
        if isinstance(constraint, UniqueConstraint):
            sets.add(tuple(column.name for column in constraint.columns))
    for index in table.indexes:
        if index.unique and len(index.columns):
            sets.add(tuple(column.name for column in index.columns))
    return sorted(sets)


def _assigned_by_database(column: Any, entry: TableMap) -> bool:
    return bool(column.primary_key and column.autoincrement is not False and len(entry.key) == 1)


def _generate_orphans(gen: _Generator, table: Table, entry: TableMap, population: Population) -> None:
    rows = []
    for _ in range(2):
        row: dict[str, Any] = {}
        for column in table.columns:
            if _assigned_by_database(column, entry):
                continue
            if column.foreign_keys:
                row[column.name] = _pick_fk(gen, population, column, None)
            elif column.primary_key:
                row[column.name] = gen._next()
            else:
                row[column.name] = gen.value(table, entry, column, None, population.staff[0])
        rows.append(row)
    population.orphans[table.name] = gen.insert(table, rows, entry.key[0])


def _variants(entry: TableMap, table: Table) -> list[str]:
    direct = [link for link in entry.subject_links if link.kind in ("account", "email")]
    kinds = {link.kind for link in direct}
    variants = ["mine"]
    if {"account", "email"} <= kinds:
        variants.append("billed_to_other")
        account_links = [link for link in direct if link.kind == "account"]
        if all(table.c[link.column].nullable for link in account_links):
            variants.append("email_only")
    elif kinds == {"email"}:
        variants.append("upper_case")
    return variants


def _generate_table(
    gen: _Generator, table: Table, entry: TableMap, population: Population, per_table: int
) -> None:
    people = population.people
    key = entry.key[0]
    key_is_link = any(link.column == key and link.kind in ("self", "account") for link in entry.links)
    population.rows.setdefault(table.name, {})
    unique_sets = _unique_sets(table, entry)
    used: dict[tuple[str, ...], set[tuple[Any, ...]]] = {columns: set() for columns in unique_sets}
    for person in people:
        variants = _variants(entry, table)
        count = 1 if key_is_link else max(per_table, len(variants))
        rows: list[dict[str, Any]] = []
        for n in range(count):
            variant = variants[n % len(variants)]
            other = people[(person.index + 1 + n) % len(people)]
            if other.index == person.index:
                other = people[(person.index + 1) % len(people)]
            staff = population.staff[(person.index + n) % len(population.staff)]
            shared = variant == "billed_to_other"
            row: dict[str, Any] = {}
            link_columns = set()
            for link in entry.links:
                link_columns.add(link.column)
                if link.kind == "self":
                    row[link.column] = None  # assigned by the database
                elif link.kind == "account":
                    if variant == "email_only" and link.role == "subject":
                        row[link.column] = None
                    else:
                        who = person if link.role == "subject" else other
                        row[link.column] = who.account_id
                elif link.kind == "email":
                    who = other if (shared or link.role != "subject") else person
                    address = who.email.upper() if variant in ("upper_case", "email_only") else who.email
                    row[link.column] = address
                elif link.kind == "parent":
                    parents = population.rows.get(link.parent or "", {}).get(person.index) or []
                    row[link.column] = parents[n % len(parents)] if parents else None
                elif link.kind == "staff":
                    row[link.column] = staff
            if any(row.get(link.column) is None for link in entry.links if link.kind == "parent"):
                continue
            owner = other if shared else person  # whose identity and contact columns these are
            for column in table.columns:
                if column.name in link_columns:
                    continue
                if _assigned_by_database(column, entry):
                    continue
                if column.foreign_keys:
                    row[column.name] = _pick_fk(gen, population, column, person)
                    continue
                if column.primary_key:
                    row[column.name] = gen._next()
                    continue
                if (
                    _is_email_column(entry, column.name)
                    and entry.classifications.get(column.name) == "contact"
                ):
                    row[column.name] = owner.email
                    continue
                row[column.name] = gen.value(table, entry, column, owner, staff)
            if key in row and row[key] is None:
                del row[key]
            combinations = {
                columns: tuple(row[column] for column in columns)
                for columns in unique_sets
                if all(row.get(column) is not None for column in columns)
            }
            if any(values in used[columns] for columns, values in combinations.items()):
                continue  # a unique key we set (a parent's id) is taken: one row fewer
            for columns, values in combinations.items():
                used[columns].add(values)
            rows.append(row)
        keys = gen.insert(table, rows, key)
        population.rows[table.name][person.index] = keys
        if any(link.kind == "self" for link in entry.links) and keys:
            person.account_id = int(keys[0])

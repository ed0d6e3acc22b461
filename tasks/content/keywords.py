"""Keyword lists: import from CSV (all-or-nothing, every bad line named), versions, differences.

A list file has the columns `term,category,match_mode,action` (match_mode defaults to `word`, action to
`hold`); an allow-list file has `term` and optionally `match_mode`. An import that changes anything
creates a new list version in `keyword_lists` and records, on each row of `keyword_terms`, the version
it was added in and the version it was removed in. The file given replaces the whole list; the
allow-list is replaced only when one is given. Terms are compared by their normal form
(tasks.content.normalise): "Scam" and "SC4M" are the same term.

Terms are the organisation's own words, not personal data: they may appear in messages and reports.
"""

from __future__ import annotations

import csv
import hashlib
import io
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from steward.errors import StewardError
from steward.settings import get_settings
from tasks.audit import write_audit
from tasks.calendar import utc_now
from tasks.content.matcher import ACTIONS, ALLOW, MATCH_MODES, Term
from tasks.content.normalise import canonical, term_forms
from tasks.schema import keyword_lists, keyword_terms

ALLOW_CATEGORY = "allow"
"""The category of allow-listed words in keyword_terms."""

TERM_COLUMNS = ("term", "category", "match_mode", "action")
ALLOW_COLUMNS = ("term", "match_mode")
IGNORED_COLUMNS = ("note", "notes", "comment")


class KeywordListError(StewardError):
    """A keyword list file that cannot be imported; names every bad line. Nothing was changed."""

    def __init__(self, source: str, problems: Sequence[LineProblem], current: int | None) -> None:
        self.source = source
        self.problems = list(problems)
        in_force = f"version {current} stays in force" if current else "no list is in force yet"
        lines = "\n".join(f"  {p}" for p in self.problems)
        count = len(self.problems)
        super().__init__(
            f"keyword list {source} rejected ({count} problem{'s' if count != 1 else ''}); "
            f"nothing was imported and {in_force}:\n{lines}"
        )


@dataclass(frozen=True)
class LineProblem:
    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file} line {self.line}: {self.message}"


@dataclass(frozen=True)
class Entry:
    """One valid line of a list: a term (or an allow-listed word) and how it is matched."""

    term: str
    category: str
    match_mode: str
    action: str
    normal: str  # the term's normal form with its repeated letters ("kill"), its identity
    line: int = 0
    file: str = ""

    @property
    def identity(self) -> tuple[str, str, str, str]:
        return (self.normal, self.category, self.match_mode, self.action)


@dataclass
class ParsedFile:
    name: str
    sha256: str
    entries: list[Entry] = field(default_factory=list)
    problems: list[LineProblem] = field(default_factory=list)


@dataclass(frozen=True)
class ImportResult:
    version: int | None
    changed: bool
    added: int
    removed: int
    terms: int
    allow_words: int


def _describe(term: str) -> str:
    shown = term if len(term) <= 40 else term[:37] + "..."
    return repr(shown)


def _decode_lines(raw: bytes, name: str) -> tuple[str | None, list[LineProblem]]:
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return None, [LineProblem(name, 1, "the file is UTF-16; save it as UTF-8 (CSV UTF-8)")]
    problems: list[LineProblem] = []
    for number, line in enumerate(raw.split(b"\n"), start=1):
        try:
            line.decode("utf-8")
        except UnicodeDecodeError as error:
            byte = line[error.start]
            problems.append(
                LineProblem(
                    name,
                    number,
                    f"not valid UTF-8 (byte 0x{byte:02X} at column {error.start + 1}); save the file as UTF-8",
                )
            )
    if problems:
        return None, problems
    return raw.decode("utf-8-sig"), []


def normal_identity(term: str) -> str | None:
    """The identity of a term: its normal form with repeated letters kept ("Sc4m" -> "scam"); None when
    the term has no letter or digit once normalised."""
    forms = term_forms(term)
    if not forms or not any(c.isalnum() for c in forms[0][0]):
        return None
    key, runs = forms[0]
    return canonical(key, runs)


def _check_term(term: str, max_length: int) -> str | None:
    if not term:
        return "term is empty"
    if len(term) > max_length:
        return f"term is {len(term)} characters long (at most {max_length})"
    for ch in term:
        category = unicodedata.category(ch)
        if category == "Cc":
            return f"term contains a control character (U+{ord(ch):04X})"
        if category == "Cf":
            return f"term contains an invisible format character (U+{ord(ch):04X})"
    return None


def parse_list_file(
    path: Path, *, allow_list: bool = False, categories: Sequence[str] | None = None
) -> ParsedFile:
    """Read and check a keyword list (or allow-list) file; every problem is collected, nothing raised."""
    settings = get_settings()
    categories = list(categories if categories is not None else settings.keyword_categories)
    name = path.name
    try:
        raw = path.read_bytes()
    except OSError as error:
        parsed = ParsedFile(name, "")
        parsed.problems.append(LineProblem(name, 0, f"cannot be read ({error.strerror})"))
        return parsed
    parsed = ParsedFile(name, hashlib.sha256(raw).hexdigest())
    text, problems = _decode_lines(raw, name)
    if text is None:
        parsed.problems.extend(problems)
        return parsed
    expected = ALLOW_COLUMNS if allow_list else TERM_COLUMNS
    required = ("term",) if allow_list else ("term", "category")
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        parsed.problems.append(LineProblem(name, 1, "the file is empty"))
        return parsed
    except csv.Error as error:
        parsed.problems.append(LineProblem(name, 1, f"not a CSV header ({error})"))
        return parsed
    columns = [column.strip().lower() for column in header]
    unknown = [c for c in columns if c not in expected and c not in IGNORED_COLUMNS]
    missing = [c for c in required if c not in columns]
    if unknown or missing or len(set(columns)) != len(columns):
        what = []
        if missing:
            what.append(f"missing column{'s' if len(missing) > 1 else ''} {', '.join(missing)}")
        if unknown:
            what.append(f"unknown column{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}")
        if len(set(columns)) != len(columns):
            what.append("a column appears twice")
        parsed.problems.append(
            LineProblem(name, 1, f"header: {'; '.join(what)} (expected {','.join(expected)})")
        )
        return parsed
    seen: dict[str, int] = {}
    line = 1
    while True:
        start = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as error:
            parsed.problems.append(LineProblem(name, start, f"not valid CSV ({error})"))
            break
        line = start
        if not row or all(not cell.strip() for cell in row):
            continue
        if len(row) != len(columns):
            parsed.problems.append(
                LineProblem(name, line, f"expected {len(columns)} fields, found {len(row)}")
            )
            continue
        values = dict(zip(columns, row, strict=True))
        problems_here: list[str] = []
        term = values["term"].strip()
        problem = _check_term(term, settings.keyword_max_length)
        if problem:
            problems_here.append(problem)
        mode = (values.get("match_mode") or "word").strip().lower()
        if mode not in MATCH_MODES:
            problems_here.append(f"unknown match mode {mode!r} (expected one of: {', '.join(MATCH_MODES)})")
        if allow_list:
            category, action = ALLOW_CATEGORY, ALLOW
        else:
            category = values["category"].strip().lower()
            if category not in categories:
                problems_here.append(
                    f"unknown category {category!r} (expected one of: {', '.join(categories)})"
                )
            action = (values.get("action") or "hold").strip().lower()
            if action not in ACTIONS:
                problems_here.append(f"unknown action {action!r} (expected one of: {', '.join(ACTIONS)})")
        normal = None
        if not problem:
            normal = normal_identity(term)
            if normal is None:
                problems_here.append(f"term {_describe(term)} has no letter or digit")
            elif len(normal) > 200:
                problems_here.append(f"term {_describe(term)} is longer than 200 characters once normalised")
            elif normal in seen:
                problems_here.append(
                    f"term {_describe(term)} duplicates line {seen[normal]} (both read as {normal!r})"
                )
        if problems_here:
            parsed.problems.extend(LineProblem(name, line, message) for message in problems_here)
            continue
        assert normal is not None
        seen[normal] = line
        parsed.entries.append(Entry(term, category, mode, action, normal, line, name))
    return parsed


def current_version(conn: Connection) -> int | None:
    """The list version in force (the newest), or None when no list was ever imported."""
    value = conn.execute(select(func.max(keyword_lists.c.version))).scalar()
    return int(value) if value is not None else None


def _active_condition(version: int) -> Any:
    return (keyword_terms.c.added_in_version <= version) & (
        keyword_terms.c.removed_in_version.is_(None) | (keyword_terms.c.removed_in_version > version)
    )


def terms_in_version(conn: Connection, version: int | None = None) -> list[Term]:
    """The terms and allow-listed words in force in `version` (default: the current one)."""
    version = version if version is not None else current_version(conn)
    if version is None:
        return []
    rows = conn.execute(
        select(
            keyword_terms.c.id,
            keyword_terms.c.term,
            keyword_terms.c.category,
            keyword_terms.c.match_mode,
            keyword_terms.c.action,
        )
        .where(_active_condition(version))
        .order_by(keyword_terms.c.id)
    ).all()
    # Unpacked rather than read by name: a list has tens of thousands of terms.
    return [Term(int(i), term, category, mode, action) for i, term, category, mode, action in rows]


def terms_by_ids(conn: Connection, ids: Sequence[int]) -> list[Term]:
    if not ids:
        return []
    rows = conn.execute(
        select(
            keyword_terms.c.id,
            keyword_terms.c.term,
            keyword_terms.c.category,
            keyword_terms.c.match_mode,
            keyword_terms.c.action,
        )
        .where(keyword_terms.c.id.in_(list(ids)))
        .order_by(keyword_terms.c.id)
    ).all()
    return [Term(int(r.id), r.term, r.category, r.match_mode, r.action) for r in rows]


def _entry_of(term: Term) -> Entry:
    normal = normal_identity(term.term) or term.term
    return Entry(term.term, term.category, term.match_mode, term.action, normal)


def check_files(
    terms_file: Path | None, allow_file: Path | None = None, in_force: Sequence[Term] = ()
) -> tuple[ParsedFile | None, ParsedFile | None]:
    """Parse the files and check them together: an allow-listed word may not also be a term (of the
    list given, or of the list in force when only an allow-list is given)."""
    parsed = parse_list_file(terms_file) if terms_file is not None else None
    allowed = parse_list_file(allow_file, allow_list=True) if allow_file is not None else None
    if parsed is not None and parsed.problems == [] and not parsed.entries:
        parsed.problems.append(LineProblem(parsed.name, 1, "the list has no terms"))
    if allowed is not None:
        if parsed is not None:
            terms = {entry.normal: f"a term of {parsed.name} (line {entry.line})" for entry in parsed.entries}
        else:
            terms = {_entry_of(t).normal: "a term of the list in force" for t in in_force if not t.is_allow}
        for entry in allowed.entries:
            if entry.normal in terms:
                allowed.problems.append(
                    LineProblem(
                        allowed.name, entry.line, f"{_describe(entry.term)} is also {terms[entry.normal]}"
                    )
                )
    return parsed, allowed


def import_keyword_list(
    conn: Connection,
    terms_file: Path | None,
    allow_file: Path | None = None,
    *,
    validate: bool = True,
    dry_run: bool = False,
) -> ImportResult:
    """Import a list and/or an allow-list: all or nothing, in the caller's transaction.

    The list given replaces the terms in force; the allow-list given replaces the allow-list in force
    (either one alone leaves the other as it is). Raises KeywordListError naming every bad line when a
    file is bad (nothing changes, the current version stays in force); with `validate`, the parsed files
    are also checked against the `keyword_import` contract (blocking) before anything is written.
    """
    if terms_file is None and allow_file is None:
        raise StewardError("nothing to import: give a keyword list, an allow-list, or both")
    current = current_version(conn)
    in_force = terms_in_version(conn, current) if current is not None else []
    if terms_file is None and current is None:
        raise StewardError("no keyword list is in force yet: import the list with its allow-list")
    parsed, allowed = check_files(terms_file, allow_file, in_force)
    files = [f for f in (parsed, allowed) if f is not None]
    problems = [problem for f in files for problem in f.problems]
    if problems:
        raise KeywordListError(" and ".join(f.name for f in files), problems, current)
    entries = [entry for f in files for entry in f.entries]
    if validate and entries:
        from tasks.contracts import validate_frame

        validate_frame("keyword_import", import_frame(entries)).raise_for_blocking()

    by_identity = {_entry_of(term).identity: term for term in in_force}
    wanted: dict[tuple[str, str, str, str], Entry | Term] = {entry.identity: entry for entry in entries}
    for identity, term in by_identity.items():
        if (term.is_allow and allowed is None) or (not term.is_allow and parsed is None):
            wanted[identity] = term  # the part not replaced stays as it is
    removed = [term for identity, term in by_identity.items() if identity not in wanted]
    added = [
        entry
        for identity, entry in wanted.items()
        if identity not in by_identity and isinstance(entry, Entry)
    ]
    after_terms = sum(1 for e in wanted.values() if e.action != ALLOW)
    after_allow = sum(1 for e in wanted.values() if e.action == ALLOW)
    if not added and not removed:
        return ImportResult(current, False, 0, 0, after_terms, after_allow)
    version = (current or 0) + 1
    if dry_run:
        return ImportResult(version, True, len(added), len(removed), after_terms, after_allow)
    source_name = " + ".join(f.name for f in files)
    digest = (
        hashlib.sha256("".join(f.sha256 for f in files).encode()).hexdigest()
        if len(files) > 1
        else files[0].sha256
    )
    conn.execute(
        insert(keyword_lists),
        [
            {
                "version": version,
                "created_at": utc_now(),
                "source_name": source_name[:255],
                "source_sha256": digest,
                "term_count": after_terms,
                "added_count": len(added),
                "removed_count": len(removed),
            }
        ],
    )
    if removed:
        conn.execute(
            update(keyword_terms)
            .where(keyword_terms.c.id.in_([term.id for term in removed]))
            .values(removed_in_version=version)
        )
    if added:
        conn.execute(
            insert(keyword_terms),
            [
                {
                    "term": entry.term,
                    "category": entry.category,
                    "match_mode": entry.match_mode,
                    "action": entry.action,
                    "added_in_version": version,
                    "removed_in_version": None,
                }
                for entry in added
            ],
        )
    write_audit(
        conn,
        "keyword_list_imported",
        rule="code_of_conduct",
        detail={"version": version, "added": len(added), "removed": len(removed), "terms": after_terms},
    )
    return ImportResult(version, True, len(added), len(removed), after_terms, after_allow)


def import_frame(entries: Sequence[Entry]) -> Any:
    """The parsed list as the `keyword_import` contract describes it."""
    import pandas as pd

    return pd.DataFrame(
        {
            "line": pd.array([e.line for e in entries], dtype="int64"),
            "term": pd.array([e.term for e in entries], dtype="str"),
            "category": pd.array([e.category for e in entries], dtype="str"),
            "match_mode": pd.array([e.match_mode for e in entries], dtype="str"),
            "action": pd.array([e.action for e in entries], dtype="str"),
            "normal_form": pd.array([e.normal for e in entries], dtype="str"),
        }
    )


@dataclass(frozen=True)
class VersionDiff:
    older: int
    newer: int
    added: list[Term]
    removed: list[Term]


def diff_versions(conn: Connection, older: int, newer: int) -> VersionDiff:
    """The terms (and allow-listed words) in force in `newer` but not `older`, and the other way round."""
    known = {int(v) for v in conn.execute(select(keyword_lists.c.version)).scalars()}
    for version in (older, newer):
        if version not in known:
            raise StewardError(
                f"no keyword list version {version} (versions: {', '.join(map(str, sorted(known))) or 'none'})"
            )
    before = {_entry_of(t).identity: t for t in terms_in_version(conn, older)}
    after = {_entry_of(t).identity: t for t in terms_in_version(conn, newer)}
    return VersionDiff(
        older,
        newer,
        added=[t for identity, t in after.items() if identity not in before],
        removed=[t for identity, t in before.items() if identity not in after],
    )


def list_versions(conn: Connection) -> list[Any]:
    return list(conn.execute(select(keyword_lists).order_by(keyword_lists.c.version)).all())


def added_and_withdrawn(conn: Connection, after: int | None, upto: int) -> tuple[list[Term], list[Term]]:
    """Terms added, and terms withdrawn, in the versions after `after` up to `upto` (a scan's catch-up).

    A term added and withdrawn again within those versions appears in neither.
    """
    start = after or 0
    rows = conn.execute(
        select(
            keyword_terms.c.id,
            keyword_terms.c.term,
            keyword_terms.c.category,
            keyword_terms.c.match_mode,
            keyword_terms.c.action,
            keyword_terms.c.added_in_version,
            keyword_terms.c.removed_in_version,
        ).where(
            ((keyword_terms.c.added_in_version > start) & (keyword_terms.c.added_in_version <= upto))
            | ((keyword_terms.c.removed_in_version > start) & (keyword_terms.c.removed_in_version <= upto))
        )
    ).all()
    added: list[Term] = []
    withdrawn: list[Term] = []
    for r in rows:
        term = Term(int(r.id), r.term, r.category, r.match_mode, r.action)
        was_in_force = r.added_in_version <= start
        in_force_now = r.removed_in_version is None or r.removed_in_version > upto
        if in_force_now and not was_in_force:
            added.append(term)
        elif was_in_force and not in_force_now:
            withdrawn.append(term)
    return added, withdrawn

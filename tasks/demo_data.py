"""Reproducible synthetic demo data: realistic CRM and community rows, streamed into the database.

`generate_demo_data` fills every source table of tasks.schema for N accounts, plants rows just inside
and just outside every retention limit (relative to `today`), plants keyword terms (some obfuscated) in
a small share of forum posts, and writes the email provider's demo bounce export.

How it stays fast and reproducible:
- Accounts are generated in chunks of ACCOUNTS_PER_CHUNK; each chunk is generated from its own numpy
  Generator, spawned from one SeedSequence(seed) by the chunk's index, and written in one transaction.
  The content depends only on (seed, today, accounts), never on settings, dict ordering or the clock.
- Ids are assigned here, sequentially per table, so children link to parents without reading back.
- Columns are built as numpy arrays (timestamps as int64 seconds of naive UTC, dates as int64 days,
  NULL as numpy's NaT value) and converted once per chunk: to SQLAlchemy's own SQLite storage strings for
  the DBAPI's executemany on SQLite, to Python objects for `insert(table)` on PostgreSQL.

Timestamps are naive UTC; nothing happens on or after the start of `today` (Europe/London), except CPD
courses that are scheduled in the future.
"""

from __future__ import annotations

import csv
import json
import logging
import os
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import (
    Boolean,
    Connection,
    Date,
    DateTime,
    Float,
    Integer,
    Table,
    exists,
    insert,
    inspect,
    select,
)

from steward import PROJECT_ROOT
from steward.errors import StewardError
from steward.progress import ProgressCallback, no_progress
from tasks import demo_vocabulary as vocab
from tasks.calendar import add_months, add_years, local_midnight_utc, today_local
from tasks.db import get_engine, run_sql
from tasks.schema import metadata

log = logging.getLogger(__name__)

ACCOUNTS_PER_CHUNK = 2_000
"""Accounts per generated chunk and per transaction (about 20,000 rows). Part of the data's identity:
changing it changes what a seed produces, which is why settings.chunk_size does not set it."""

MAX_ACCOUNTS = 10_000_000
YEARS_OF_HISTORY = 12
BOUNDARY_DAYS = (2, 5)
"""Planted boundary rows lie between 2 and 5 days (inclusive) either side of each retention limit."""

KEYWORDS_CSV = PROJECT_ROOT / "demo" / "keywords.csv"
EXPORT_FILE_NAME = "bounce-export.csv"
EXPORT_HEADER = ("email", "event", "smtp_status", "enhanced_status", "diagnostic", "occurred_at")

KEYWORD_SHARE = 0.015
"""Share of posts that carry a planted keyword term."""
OBFUSCATED_SHARE = 0.45
"""Share of planted terms that are disguised the way abusers evade filters."""
SCUNTHORPE_SHARE = 0.003
"""Share of clean posts that mention a place name (or topic) that contains a listed word."""

GENERATED_TABLES: tuple[str, ...] = (
    "accounts",
    "ambassador_profiles",
    "ambassador_activities",
    "cpd_courses",
    "cpd_bookings",
    "invoices",
    "payments",
    "job_applications",
    "information_requests",
    "surveys",
    "survey_responses",
    "impact_records",
    "community_threads",
    "posts",
    "post_attachments",
    "content_reports",
    "data_shares",
    "email_events",
    "legal_holds",
)

DAY = 86_400
NAT = np.iinfo(np.int64).min  # numpy's NaT: NULL in timestamp (seconds) and date (days) columns
NULL_ID = -1  # NULL in nullable integer columns


class DemoDataError(StewardError):
    """The demo data cannot be generated as asked."""


class DatabaseNotEmpty(DemoDataError):
    """The database already holds data and --replace was not given."""


class SchemaMissing(DemoDataError):
    """The database has no (or an outdated) schema."""


@dataclass(frozen=True)
class DemoDataSummary:
    """What was generated: counts only, no personal data."""

    accounts: int
    seed: int
    today: date
    rows: dict[str, int]
    export_path: Path | None = None
    export_rows: int = 0
    replaced: bool = False

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())


@dataclass(frozen=True)
class RetentionLimits:
    """The retention limits relative to `today`, as the demo data plants them.

    A row is outside its limit when its date is before the cutoff: decided or closed before
    `six_months`; last active (or registered, when never active) before `two_years`; activity ended
    before `eight_years`. Finance records are kept until six years after the end of their financial
    year (31 March): `finance_year_end` is the last year end whose records are past that, so records
    dated on or before it are outside and records dated after it are inside.
    """

    today: date
    six_months: date
    two_years: date
    eight_years: date
    finance_year_end: date

    @classmethod
    def for_today(cls, today: date) -> RetentionLimits:
        year_end = date(today.year, 3, 31)
        while add_years(year_end, 6) >= today:
            year_end = date(year_end.year - 1, 3, 31)
        return cls(
            today=today,
            six_months=add_months(today, -6),
            two_years=add_years(today, -2),
            eight_years=add_years(today, -8),
            finance_year_end=year_end,
        )


# ------------------------------------------------------------------------------------------ the API


def default_export_dir() -> Path:
    from steward.settings import get_settings

    return get_settings().output_dir / "demo"


def generate_demo_data(
    *,
    accounts: int,
    seed: int,
    today: date | None = None,
    replace: bool = False,
    export_dir: Path | None = None,
    progress: ProgressCallback = no_progress,
    url: str | None = None,
) -> DemoDataSummary:
    """Fill the (empty, or with `replace` emptied) database with synthetic data for `accounts` accounts.

    `export_dir`: where to write the email provider's demo export (bounce-export.csv); None writes none.
    `progress` is advanced by the number of accounts written, once per chunk.
    """
    if not 1 <= accounts <= MAX_ACCOUNTS:
        raise DemoDataError(f"--accounts must be between 1 and {MAX_ACCOUNTS:,} (got {accounts:,})")
    if seed < 0:
        raise DemoDataError(f"--seed must be zero or positive (got {seed})")
    today = today or today_local()
    rows = dict.fromkeys(GENERATED_TABLES, 0)
    with get_engine(url).connect() as conn:
        _require_schema(conn)
        _empty_or_refuse(conn, replace)
        context = _Context.build(today=today, seed=seed, accounts=accounts)
        counters = _Counters()
        counters.take("cpd_courses", context.course_count)
        counters.take("surveys", len(context.survey_frame["id"]))
        writer = _Writer(conn)
        export = _ExportFile.open(export_dir) if export_dir is not None else None
        try:
            with writer.bulk_load():
                with conn.begin():
                    rows["cpd_courses"] += writer.write("cpd_courses", context.courses_frame())
                    rows["surveys"] += writer.write("surveys", context.surveys_frame())
                for chunk_index, first_id, size in _chunks(accounts):
                    chunk = _generate_chunk(context, chunk_index, first_id, size, counters)
                    with conn.begin():
                        for name, frame in chunk.frames.items():
                            rows[name] += writer.write(name, frame)
                    if export is not None:
                        export.write_rows(chunk.export_rows)
                    progress(size)
                writer.finish(counters.last_ids())
            if export is not None:
                export.close()
        except BaseException:
            if export is not None:
                export.discard()
            raise
    summary = DemoDataSummary(
        accounts=accounts,
        seed=seed,
        today=today,
        rows=rows,
        export_path=export.path if export is not None else None,
        export_rows=export.rows if export is not None else 0,
        replaced=replace,
    )
    log.info("demo data: %s rows in %s tables", f"{summary.total_rows:,}", len(rows))
    return summary


def read_keywords(path: Path = KEYWORDS_CSV) -> list[dict[str, str]]:
    """The keyword list the demo plants terms from (demo/keywords.csv)."""
    with path.open(newline="", encoding="utf-8") as handle:
        return [dict(row) for row in csv.DictReader(handle)]


def _chunks(accounts: int) -> Iterator[tuple[int, int, int]]:
    """(chunk index, first account id, accounts in the chunk)."""
    for index, start in enumerate(range(0, accounts, ACCOUNTS_PER_CHUNK)):
        yield index, start + 1, min(ACCOUNTS_PER_CHUNK, accounts - start)


# ------------------------------------------------------------------------ database: checks and writes


def _require_schema(conn: Connection) -> None:
    present = set(inspect(conn).get_table_names())
    conn.rollback()
    missing = sorted(set(metadata.tables) - present)
    if missing:
        raise SchemaMissing(
            f"the database has no schema (or an outdated one: {len(missing)} tables missing, e.g. "
            f"{missing[0]}); run `steward db init` first"
        )


def _empty_or_refuse(conn: Connection, replace: bool) -> None:
    holding = [table.name for table in metadata.sorted_tables if _has_rows(conn, table)]
    conn.rollback()  # end the read's implicit transaction: each write below has its own
    if not holding:
        return
    if not replace:
        raise DatabaseNotEmpty(
            f"the database already holds data ({len(holding)} tables have rows, e.g. {holding[0]}); "
            "use --replace to empty every table and generate the demo data again"
        )
    with conn.begin():
        for table in reversed(metadata.sorted_tables):
            conn.execute(table.delete())
    log.info("demo data: emptied %d tables", len(metadata.sorted_tables))


def _has_rows(conn: Connection, table: Table) -> bool:
    return bool(conn.execute(select(exists().select_from(table))).scalar())


_SQLITE_BULK_PRAGMAS = (
    # Durability against an OS crash is not needed while loading demo data; each chunk's transaction
    # stays atomic (WAL journal), so an interrupted load leaves whole chunks only.
    "PRAGMA synchronous=OFF",
    "PRAGMA cache_size=-262144",  # 256 MiB of page cache: the indexes of a million accounts stay hot
    "PRAGMA temp_store=MEMORY",
    "PRAGMA wal_autocheckpoint=16384",  # fewer, larger checkpoints (64 MiB of WAL)
)
_SQLITE_RESTORE_PRAGMAS = (
    "PRAGMA synchronous=NORMAL",  # as tasks.db sets on connect
    "PRAGMA cache_size=-2000",
    "PRAGMA temp_store=DEFAULT",
    "PRAGMA wal_autocheckpoint=1000",
)
_SQLITE_FINISH = (
    "PRAGMA wal_checkpoint(TRUNCATE)",
    "PRAGMA analysis_limit=1000",  # approximate statistics: seconds, not minutes, on a large file
    "ANALYZE",
)


class _Writer:
    """Inserts column frames into tables: DBAPI executemany on SQLite, `insert(table)` elsewhere."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.sqlite = conn.dialect.name == "sqlite"
        self._statements: dict[str, tuple[str, list[str]]] = {}

    def bulk_load(self) -> _BulkLoad:
        return _BulkLoad(self)

    def _pragmas(self, statements: Sequence[str]) -> None:
        if self.sqlite:
            for statement in statements:
                self.conn.exec_driver_sql(statement)
            self.conn.commit()

    def write(self, name: str, frame: dict[str, Any]) -> int:
        table = metadata.tables[name]
        columns = _to_python(table, frame, self.sqlite)
        count = len(columns[0]) if columns else 0
        if count == 0:
            return 0
        names = [column.name for column in table.columns]
        if self.sqlite:
            statement, order = self._sqlite_statement(table)
            by_name = dict(zip(names, columns, strict=True))
            self.conn.exec_driver_sql(statement, list(zip(*(by_name[key] for key in order), strict=True)))
        else:
            self.conn.execute(
                insert(table), [dict(zip(names, row, strict=True)) for row in zip(*columns, strict=True)]
            )
        return count

    def _sqlite_statement(self, table: Table) -> tuple[str, list[str]]:
        cached = self._statements.get(table.name)
        if cached is None:
            names = [column.name for column in table.columns]
            compiled = insert(table).compile(dialect=self.conn.dialect, column_keys=names)
            cached = (str(compiled), list(compiled.positiontup or names))
            self._statements[table.name] = cached
        return cached

    def finish(self, last_ids: dict[str, int]) -> None:
        """Bring PostgreSQL's id sequences past the ids assigned here, so later inserts get fresh ids."""
        if self.sqlite:
            return
        with self.conn.begin():
            for name, last_id in sorted(last_ids.items()):
                run_sql(
                    self.conn,
                    "demo__set_id_sequence",
                    {"table_name": name, "last_id": max(last_id, 1), "is_called": last_id > 0},
                )


class _BulkLoad:
    def __init__(self, writer: _Writer) -> None:
        self.writer = writer

    def __enter__(self) -> _BulkLoad:
        self.writer._pragmas(_SQLITE_BULK_PRAGMAS)
        return self

    def __exit__(self, exc_type: Any, *_: Any) -> None:
        if self.writer.conn.in_transaction():
            self.writer.conn.rollback()
        self.writer._pragmas(_SQLITE_RESTORE_PRAGMAS)
        if exc_type is None:
            self.writer._pragmas(_SQLITE_FINISH)


def _to_python(table: Table, frame: dict[str, Any], sqlite: bool) -> list[list[Any]]:
    """The frame's columns, in table order, as lists of values the DBAPI takes for this dialect."""
    if set(frame) != set(table.columns.keys()):
        raise AssertionError(f"frame for {table.name} has columns {sorted(frame)}")
    out: list[list[Any]] = []
    for column in table.columns:
        values = frame[column.name]
        if isinstance(column.type, DateTime):
            out.append(_timestamps(np.asarray(values, dtype=np.int64), sqlite))
        elif isinstance(column.type, Date):
            out.append(_dates(np.asarray(values, dtype=np.int64), sqlite))
        elif isinstance(column.type, Boolean):
            flags = np.asarray(values, dtype=bool)
            out.append(flags.astype(np.int64).tolist() if sqlite else flags.tolist())
        elif isinstance(column.type, Integer):
            array = np.asarray(values, dtype=np.int64)
            items = array.tolist()
            if column.nullable:
                for index in np.flatnonzero(array < 0).tolist():
                    items[index] = None
            out.append(items)
        elif isinstance(column.type, Float):
            out.append(np.asarray(values, dtype=np.float64).tolist())
        else:
            out.append(list(values))
    return out


def _timestamps(seconds: np.ndarray, sqlite: bool) -> list[Any]:
    if sqlite:
        # SQLAlchemy's SQLite storage format for DateTime: "YYYY-MM-DD HH:MM:SS.ffffff".
        text = np.datetime_as_string(seconds.view("datetime64[s]"), unit="us")
        if len(text):
            codes = text.view(np.uint32).reshape(len(text), -1)
            codes[:, 10] = ord(" ")
        items: list[Any] = text.tolist()
    else:
        items = seconds.view("datetime64[s]").astype(object).tolist()
    for index in np.flatnonzero(seconds == NAT).tolist():
        items[index] = None
    return items


def _dates(days: np.ndarray, sqlite: bool) -> list[Any]:
    if sqlite:
        items: list[Any] = np.datetime_as_string(days.view("datetime64[D]")).tolist()
    else:
        items = days.view("datetime64[D]").astype(object).tolist()
    for index in np.flatnonzero(days == NAT).tolist():
        items[index] = None
    return items


# ------------------------------------------------------------------------------------- the export file


class _ExportFile:
    """The provider's demo export, written owner-only through a temporary file renamed at the end."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.temporary = path.with_name(f".{path.name}.partial")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(self.temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.fchmod(descriptor, 0o600)
        self.handle = os.fdopen(descriptor, "w", newline="", encoding="utf-8")
        self.writer = csv.writer(self.handle, lineterminator="\n")
        self.writer.writerow(EXPORT_HEADER)
        self.rows = 0

    @classmethod
    def open(cls, directory: Path) -> _ExportFile:
        return cls(directory / EXPORT_FILE_NAME)

    def write_rows(self, rows: list[tuple[str, ...]]) -> None:
        self.writer.writerows(rows)
        self.rows += len(rows)

    def close(self) -> None:
        self.handle.close()
        os.replace(self.temporary, self.path)
        os.chmod(self.path, 0o600)

    def discard(self) -> None:
        if not self.handle.closed:
            self.handle.close()
        self.temporary.unlink(missing_ok=True)


# --------------------------------------------------------------------------------- shared generation


def _day_number(day: date) -> int:
    return (day - date(1970, 1, 1)).days


def _epoch_seconds(moment: datetime) -> int:
    return int(moment.replace(tzinfo=UTC).timestamp())


def _ascii_slug(name: str) -> str:
    decomposed = unicodedata.normalize("NFKD", name)
    return "".join(ch for ch in decomposed if ch.isascii() and ch.isalnum()).lower()


def _objects(values: Sequence[Any]) -> np.ndarray:
    array = np.empty(len(values), dtype=object)
    array[:] = list(values)
    return array


def _weights(pairs: Sequence[tuple[str, float]]) -> tuple[np.ndarray, np.ndarray]:
    names = _objects([name for name, _ in pairs])
    weights = np.array([weight for _, weight in pairs], dtype=np.float64)
    return names, weights / weights.sum()


def _expand(templates: Sequence[str], per_template: int, seed: int) -> list[str]:
    """A fixed pool of sentences: each template filled `per_template` times from the slot lists."""
    rng = np.random.default_rng(seed)
    towns = [town for region, _ in vocab.REGIONS for town in vocab.TOWNS[region]]
    slots: dict[str, Sequence[str]] = {
        "topic": vocab.TOPICS,
        "year": vocab.YEAR_GROUPS,
        "kit": vocab.KIT,
        "town": towns,
    }
    pool: list[str] = []
    seen: set[str] = set()
    for template in templates:
        for _ in range(per_template):
            values = {name: options[int(rng.integers(len(options)))] for name, options in slots.items()}
            sentence = template.format(**values)
            if sentence not in seen:
                seen.add(sentence)
                pool.append(sentence)
    return pool


@dataclass(frozen=True)
class _Keyword:
    term: str
    category: str
    match_mode: str
    action: str


class _Vocabulary:
    """The word lists as numpy arrays, and the text pools, built once per process."""

    def __init__(self) -> None:
        self.first_names = _objects(vocab.FIRST_NAMES)
        self.first_slugs = _objects([_ascii_slug(name) for name in vocab.FIRST_NAMES])
        self.surnames = _objects(vocab.SURNAMES)
        self.surname_slugs = _objects([_ascii_slug(name) for name in vocab.SURNAMES])
        self.regions, self.region_weights = _weights(vocab.REGIONS)
        self.phases, self.phase_weights = _weights(vocab.SCHOOL_PHASES)
        self.genders, self.gender_weights = _weights(vocab.GENDERS)
        self.ethnicities, self.ethnicity_weights = _weights(vocab.ETHNICITIES)
        self.subjects = _objects(vocab.SUBJECTS)
        self.employers = _objects(vocab.EMPLOYERS)
        self.employer_domains = _objects([vocab.EMPLOYER_DOMAINS[name] for name in vocab.EMPLOYERS])
        self.sentences = _objects(_expand(vocab.POST_SENTENCE_TEMPLATES, 60, seed=1))
        self.sentence_lengths = np.array([len(s) for s in self.sentences], dtype=np.int64)
        self.thread_titles = _objects(_expand(vocab.THREAD_TITLE_TEMPLATES, 80, seed=2))
        self.survey_comments = [json.dumps(comment) for comment in vocab.SURVEY_COMMENTS]
        self.topic_slugs = [topic.replace(" ", "-").replace(":", "") for topic in vocab.TOPICS]


_VOCABULARY: _Vocabulary | None = None


def _vocabulary() -> _Vocabulary:
    global _VOCABULARY
    if _VOCABULARY is None:
        _VOCABULARY = _Vocabulary()
    return _VOCABULARY


@dataclass
class _Counters:
    """The next id of each table; chunks take ids in order, so the ids are deterministic too."""

    next_ids: dict[str, int] = field(default_factory=dict)

    def take(self, name: str, count: int) -> np.ndarray:
        first = self.next_ids.get(name, 1)
        self.next_ids[name] = first + count
        return np.arange(first, first + count, dtype=np.int64)

    def last_ids(self) -> dict[str, int]:
        ids = {name: 0 for name in GENERATED_TABLES if "id" in metadata.tables[name].columns}
        ids.update({name: value - 1 for name, value in self.next_ids.items()})
        return ids


@dataclass
class _Courses:
    ids: np.ndarray
    starts: np.ndarray  # days, sorted
    ends: np.ndarray
    online: np.ndarray
    paid: np.ndarray
    fees: np.ndarray
    boundary: np.ndarray  # positions of the courses planted at the 8-year limit
    frame: dict[str, Any]


@dataclass
class _Context:
    """Everything the chunks share: the dates, the courses and surveys, the keyword list."""

    today: date
    seed: int
    accounts: int
    limits: RetentionLimits
    now: int  # seconds: the start of `today` in the office's time zone, as naive UTC
    start: int  # seconds: YEARS_OF_HISTORY years earlier
    today_day: int
    courses: _Courses
    survey_first_year: int
    survey_kinds: int
    survey_frame: dict[str, Any]
    keywords: list[_Keyword]

    @property
    def course_count(self) -> int:
        return len(self.courses.ids)

    @classmethod
    def build(cls, *, today: date, seed: int, accounts: int) -> _Context:
        limits = RetentionLimits.for_today(today)
        now = _epoch_seconds(local_midnight_utc(today))
        start = _epoch_seconds(local_midnight_utc(add_years(today, -YEARS_OF_HISTORY)))
        keywords = [_Keyword(**row) for row in read_keywords()]
        if not keywords:
            raise DemoDataError(f"the keyword list {KEYWORDS_CSV.name} is empty")
        rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(0,)))
        courses = _make_courses(rng, accounts, limits, start // DAY, _day_number(today))
        first_year = today.year - YEARS_OF_HISTORY
        return cls(
            today=today,
            seed=seed,
            accounts=accounts,
            limits=limits,
            now=now,
            start=start,
            today_day=_day_number(today),
            courses=courses,
            survey_first_year=first_year,
            survey_kinds=len(vocab.SURVEY_KINDS),
            survey_frame=_make_surveys(first_year, today),
            keywords=keywords,
        )

    def courses_frame(self) -> dict[str, Any]:
        return self.courses.frame

    def surveys_frame(self) -> dict[str, Any]:
        return self.survey_frame


def _make_courses(
    rng: np.random.Generator, accounts: int, limits: RetentionLimits, first_day: int, today_day: int
) -> _Courses:
    v = _vocabulary()
    regular = max(60, round(accounts * 0.03))
    starts = rng.integers(first_day, today_day + 181, regular)
    kind = rng.random(regular)
    durations = np.where(
        kind < 0.7, 0, np.where(kind < 0.9, rng.integers(1, 3, regular), rng.integers(60, 301, regular))
    )
    ends = starts + durations
    # The 8-year limit: one-day courses that ended 2-5 days either side of it.
    offsets = np.array([-5, -4, -3, -2, 2, 3, 4, 5], dtype=np.int64)
    boundary_days = _day_number(limits.eight_years) + offsets
    starts = np.concatenate([starts, boundary_days])
    ends = np.concatenate([ends, boundary_days])
    count = len(starts)
    is_boundary = np.arange(count) >= regular
    subject = rng.integers(0, len(v.subjects), count)
    region = rng.choice(len(v.regions), count, p=v.region_weights)
    online = (rng.random(count) < 0.35) & ~is_boundary
    sponsored = (rng.random(count) < 0.2) & ~is_boundary
    sponsor = rng.integers(0, len(vocab.FUNDERS), count)
    paid = ~sponsored & ((rng.random(count) < 0.55) | is_boundary)
    fees = np.array(vocab.COURSE_FEES_PENCE, dtype=np.int64)[
        rng.integers(0, len(vocab.COURSE_FEES_PENCE), count)
    ]
    topic = rng.integers(0, 3, count)
    course_format = rng.integers(0, len(vocab.COURSE_FORMATS), count)
    venue_kind = rng.integers(0, len(vocab.VENUE_KINDS), count)
    town = rng.integers(0, 8, count)
    order = np.argsort(starts, kind="stable")
    starts, ends, is_boundary = starts[order], ends[order], is_boundary[order]
    subject, region, online, sponsored, sponsor = (
        subject[order],
        region[order],
        online[order],
        sponsored[order],
        sponsor[order],
    )
    paid, fees, topic, course_format, venue_kind, town = (
        paid[order],
        fees[order],
        topic[order],
        course_format[order],
        venue_kind[order],
        town[order],
    )
    ids = np.arange(1, count + 1, dtype=np.int64)
    start_years = starts.view("datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970
    codes, titles, subjects, regions, venues, modes, sponsors = [], [], [], [], [], [], []
    for i in range(count):
        subject_name = vocab.SUBJECTS[subject[i]]
        region_name = vocab.REGIONS[region[i]][0]
        codes.append(f"{vocab.SUBJECT_CODES[subject_name]}-{start_years[i] % 100:02d}-{ids[i]:06d}")
        title_format = vocab.ONLINE_COURSE_FORMATS if online[i] else vocab.COURSE_FORMATS
        titles.append(
            vocab.COURSE_TOPICS[subject_name][topic[i]] + title_format[course_format[i] % len(title_format)]
        )
        subjects.append(subject_name)
        regions.append(region_name)
        if online[i]:
            venues.append("Online (live sessions)")
            modes.append("online")
        else:
            venues.append(f"{vocab.VENUE_KINDS[venue_kind[i]]}, {vocab.TOWNS[region_name][town[i]]}")
            modes.append("in_person")
        sponsors.append(vocab.FUNDERS[sponsor[i]] if sponsored[i] else None)
    frame = {
        "id": ids,
        "code": codes,
        "title": titles,
        "subject": subjects,
        "region": regions,
        "venue": venues,
        "delivery_mode": modes,
        "sponsor": sponsors,
        "starts_on": starts,
        "ends_on": ends,
    }
    return _Courses(
        ids=ids,
        starts=starts,
        ends=ends,
        online=online,
        paid=paid,
        fees=np.where(paid, fees, 0),
        boundary=np.flatnonzero(is_boundary),
        frame=frame,
    )


def _make_surveys(first_year: int, today: date) -> dict[str, Any]:
    ids: list[int] = []
    titles: list[str] = []
    purposes: list[str] = []
    opened: list[int] = []
    closed: list[int] = []
    for year in range(first_year, today.year + 1):
        for title, purpose, _audience in vocab.SURVEY_KINDS:
            ids.append(len(ids) + 1)
            titles.append(f"{title} {year}")
            purposes.append(purpose)
            opened.append(_day_number(date(year, 1, 1)))
            end = date(year, 12, 31)
            closed.append(_day_number(end) if end < today else NAT)
    return {
        "id": np.array(ids, dtype=np.int64),
        "title": titles,
        "purpose": purposes,
        "opened_on": np.array(opened, dtype=np.int64),
        "closed_on": np.array(closed, dtype=np.int64),
    }


# ------------------------------------------------------------------------------ keyword obfuscation

OBFUSCATIONS: tuple[str, ...] = ("cyrillic", "greek", "fullwidth", "zero_width", "leet", "repeat", "split")
_CYRILLIC = {"a": "\u0430", "c": "\u0441", "e": "\u0435", "i": "\u0456", "o": "\u043e", "p": "\u0440", "s": "\u0455", "x": "\u0445", "y": "\u0443"}  # fmt: skip
_GREEK = {"a": "\u03b1", "i": "\u03b9", "k": "\u03ba", "o": "\u03bf", "t": "\u03c4", "u": "\u03c5", "v": "\u03bd"}  # fmt: skip
_LEET = {"a": "@", "e": "3", "i": "1", "o": "0", "s": "$", "t": "7"}
_ZERO_WIDTH = ("\u200b", "\u200c", "\u200d", "\u2060")
_VOWELS = "aeiou"


def obfuscate(term: str, method: str, pick: Callable[[int], int]) -> str:
    """`term` disguised by `method` (one of OBFUSCATIONS); `pick(n)` chooses an index below n."""
    words = term.split(" ")
    longest = max(range(len(words)), key=lambda i: (len(words[i]), -i))
    word = words[longest]
    if method in ("cyrillic", "greek"):
        table = _CYRILLIC if method == "cyrillic" else _GREEK
        places = [i for i, ch in enumerate(term) if ch in table]
        if not places:
            return obfuscate(term, "zero_width", pick)
        letters = list(term)
        for _ in range(2):
            place = places[pick(len(places))]
            letters[place] = table.get(letters[place], letters[place])
        return "".join(letters)
    if method == "fullwidth":
        return "".join(
            chr(ord(ch) + 0xFEE0) if "!" <= ch <= "~" else "\u3000" if ch == " " else ch for ch in term
        )
    if method == "zero_width":
        if len(word) < 2:
            return term
        place = 1 + pick(len(word) - 1)
        word = word[:place] + _ZERO_WIDTH[pick(len(_ZERO_WIDTH))] + word[place:]
    elif method == "leet":
        changed = "".join(_LEET.get(ch, ch) for ch in word)
        if changed == word:
            return obfuscate(term, "repeat", pick)
        word = changed
    elif method == "repeat":
        places = [i for i, ch in enumerate(word) if ch in _VOWELS] or list(range(len(word)))
        place = places[pick(len(places))]
        word = word[:place] + word[place] * (3 + pick(3)) + word[place + 1 :]
    elif method == "split":
        word = ("." if pick(2) == 0 else " ").join(word)
    else:
        raise ValueError(f"unknown obfuscation {method!r}")
    words[longest] = word
    return " ".join(words)


_PREFIX_ENDINGS = ("", "s", "ing", "er")
_ANYWHERE_WRAPS = (("#", "now"), ("", "zone"), ("free", ""))


def _as_written(entry: _Keyword, choice: int) -> str:
    """The term as someone would write it: prefix terms inflected, anywhere terms inside a longer word."""
    term = entry.term
    if entry.match_mode == "prefix":
        ending = _PREFIX_ENDINGS[choice % len(_PREFIX_ENDINGS)]
        doubled = (
            len(term) >= 3 and term[-1] not in _VOWELS and term[-2] in _VOWELS and term[-3] not in _VOWELS
        )
        return term + (term[-1] if ending[:1] in ("i", "e") and doubled else "") + ending
    if entry.match_mode == "anywhere":
        if term.endswith("/"):
            return f"https://{term}quickprofits{choice % 100}"
        before, after = _ANYWHERE_WRAPS[choice % len(_ANYWHERE_WRAPS)]
        return f"{before}{term.replace(' ', '')}{after}"
    return term


# ----------------------------------------------------------------------------------- one chunk of data

_REGULAR, _NEVER, _IDLE, _AMB_NONE, _AMB_LAST, _VET_EDU, _VET_AMB = range(7)
_SPECIAL_ROUND: tuple[tuple[int, int], ...] = (
    # (role, side of the limit: -1 just outside, +1 just inside, 0 not a boundary)
    (_NEVER, -1),
    (_NEVER, 1),
    (_IDLE, -1),
    (_IDLE, 1),
    (_AMB_NONE, -1),
    (_AMB_NONE, 1),
    (_AMB_LAST, -1),
    (_AMB_LAST, 1),
    (_VET_EDU, 0),
    (_VET_AMB, 0),
)
_SPECIAL_ROLES = _SPECIAL_ROUND * 3
"""Accounts each chunk plants at the 2-year limits, and veterans that carry the older boundary rows.
A chunk of at least 20 accounts holds every kind; at least 60 hold all of them."""

_BOOKING_STATUSES = _objects(["booked", "attended", "cancelled", "no_show"])
_BOOKED, _ATTENDED, _CANCELLED, _NO_SHOW = range(4)
_HOURS = np.array([0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 6.0, 7.5])
_HOURS_P = np.array([0.05, 0.25, 0.15, 0.2, 0.05, 0.12, 0.08, 0.05, 0.05])
_EVENT_DELIVERY, _EVENT_TRANSIENT, _EVENT_PERMANENT, _EVENT_COMPLAINT = range(4)
_YEAR = 365.25 * DAY


@dataclass
class _Chunk:
    frames: dict[str, dict[str, Any]]  # in insert order: parents first
    export_rows: list[tuple[str, ...]]


def _generate_chunk(ctx: _Context, index: int, first_id: int, size: int, counters: _Counters) -> _Chunk:
    return _ChunkBuilder(ctx, index, first_id, size, counters).build()


def _years(seconds: np.ndarray) -> np.ndarray:
    return seconds.view("datetime64[s]").astype("datetime64[Y]").astype(np.int64) + 1970


def _months(seconds: np.ndarray) -> np.ndarray:
    return seconds.view("datetime64[s]").astype("datetime64[M]").astype(np.int64) % 12 + 1


class _ChunkBuilder:
    """Generates the rows of one chunk of accounts and of everything that belongs to them."""

    def __init__(self, ctx: _Context, index: int, first_id: int, size: int, counters: _Counters) -> None:
        self.ctx = ctx
        self.v = _vocabulary()
        self.index = index
        self.first_id = first_id
        self.n = size
        self.counters = counters
        self.rng = np.random.default_rng(np.random.SeedSequence(ctx.seed, spawn_key=(1, index)))
        self.frames: dict[str, dict[str, Any]] = {}
        self.export_rows: list[tuple[str, ...]] = []

    def build(self) -> _Chunk:
        self._accounts()
        self._ambassador_activities()
        self._bookings()
        self._invoices()
        self._job_applications()
        self._information_requests()
        self._survey_responses()
        self._impact_records()
        self._community()
        self._data_shares()
        self._email_events()
        self._legal_holds()
        self._export()
        self._account_frames()
        order = [name for name in GENERATED_TABLES if name in self.frames]
        return _Chunk(frames={name: self.frames[name] for name in order}, export_rows=self.export_rows)

    # -------------------------------------------------------------------------------------- helpers

    def _between(self, low: np.ndarray | int, high: np.ndarray | int, size: int) -> np.ndarray:
        """Uniform int64 values in [low, high) (elementwise); low where high <= low."""
        span = np.maximum(np.asarray(high, dtype=np.int64) - np.asarray(low, dtype=np.int64), 0)
        return np.asarray(low, dtype=np.int64) + (self.rng.random(size) * span).astype(np.int64)

    def _times(self, accounts: np.ndarray) -> np.ndarray:
        """Moments within each account's active span (registration to last activity)."""
        return self._between(self.reg[accounts], self.last_act[accounts], len(accounts))

    def _boundary_day(self, cutoff: date, side: int) -> int:
        return _day_number(cutoff) + side * int(self.rng.integers(BOUNDARY_DAYS[0], BOUNDARY_DAYS[1] + 1))

    def _boundary_second(self, cutoff: date, side: int) -> int:
        # Around midday UTC, so the date is the same in Europe/London.
        return self._boundary_day(cutoff, side) * DAY + 11 * 3600 + int(self.rng.integers(0, 7200))

    def _choice(self, options: Sequence[Any], size: int) -> np.ndarray:
        return _objects(options)[self.rng.integers(0, len(options), size)]

    def _external_people(self, size: int) -> tuple[list[str], list[str]]:
        """Names and email addresses of people who are not account holders."""
        rng, v = self.rng, self.v
        first = rng.integers(0, len(v.first_names), size)
        last = rng.integers(0, len(v.surnames), size)
        number = rng.integers(1, 10_000, size)
        domain = rng.integers(0, len(vocab.EXTERNAL_EMAIL_DOMAINS), size)
        names = [f"{v.first_names[f]} {v.surnames[s]}" for f, s in zip(first, last, strict=True)]
        emails = [
            f"{v.first_slugs[f]}.{v.surname_slugs[s]}{k}@{vocab.EXTERNAL_EMAIL_DOMAINS[d]}"
            for f, s, k, d in zip(first, last, number, domain, strict=True)
        ]
        return names, emails

    def _people(self, size: int, holder_share: float) -> tuple[np.ndarray, list[str], list[str]]:
        """People keyed by email: some are account holders (index >= 0), with their address in any case."""
        rng = self.rng
        holder = rng.random(size) < holder_share
        who = np.where(holder, rng.integers(0, self.n, size), -1)
        recase = rng.random(size) < 0.25
        names, emails = self._external_people(size)
        for i in np.flatnonzero(holder).tolist():
            names[i] = self.full_names[who[i]]
            emails[i] = self.emails[who[i]].title() if recase[i] else self.emails[who[i]]
        return who, names, emails

    # ------------------------------------------------------------------------------------- accounts

    def _accounts(self) -> None:
        rng, n, ctx, v = self.rng, self.n, self.ctx, self.v
        self.ids = self.counters.take("accounts", n)
        if self.ids[0] != self.first_id:
            raise AssertionError("account ids out of step")
        is_amb = rng.random(n) < 0.2
        span = (YEARS_OF_HISTORY * _YEAR * rng.random(n) ** 1.35).astype(np.int64)
        reg = np.maximum(ctx.now - 3600 - span, ctx.start)
        never = rng.random(n) < 0.10
        last_act = reg + 60 + ((ctx.now - 120 - reg) * rng.beta(3.0, 1.2, n)).astype(np.int64)
        sign_in_gap = rng.integers(0, 1800, n)
        years_active = (last_act - reg) / _YEAR
        weight = rng.gamma(2.0, 0.5, n) * np.clip(0.3 + years_active / 4, 0.3, 1.6)
        role = np.zeros(n, dtype=np.int64)
        roles = _SPECIAL_ROLES[: n // 2]
        positions = rng.permutation(n)[: len(roles)]
        limits = ctx.limits
        for (kind, side), i in zip(roles, positions.tolist(), strict=False):
            role[i] = kind
            if kind == _NEVER:
                never[i], is_amb[i], weight[i] = True, False, 0.0
                reg[i] = self._boundary_second(limits.two_years, side)
            elif kind == _IDLE:
                never[i], is_amb[i] = False, False
                last_act[i] = self._boundary_second(limits.two_years, side)
                reg[i] = max(ctx.start, last_act[i] - int(self.rng.integers(30 * DAY, 5 * 365 * DAY)))
            elif kind == _AMB_NONE:
                never[i], is_amb[i], weight[i] = False, True, 0.0
                reg[i] = self._boundary_second(limits.two_years, side)
                last_act[i] = reg[i] + int(self.rng.integers(60, 1800))
                sign_in_gap[i] = 0
            elif kind == _AMB_LAST:
                never[i], is_amb[i] = False, True
                last_act[i] = self._boundary_second(limits.two_years, side)
                reg[i] = max(ctx.start, last_act[i] - int(self.rng.integers(365 * DAY, 6 * 365 * DAY)))
                weight[i] = max(weight[i], 0.5)
            else:  # veterans: registered 10-12 years ago and active until recently
                never[i], is_amb[i] = False, kind == _VET_AMB
                reg[i] = ctx.now - int(self.rng.integers(10 * 365 * DAY, int(11.8 * 365 * DAY)))
                last_act[i] = ctx.now - int(self.rng.integers(DAY, 60 * DAY))
                weight[i] = 1.5
        weight = np.where(never, 0.0, weight)
        self.last_sign_in = np.where(never, NAT, np.maximum(last_act - sign_in_gap, reg))
        self.last_act = np.where(never, NAT, last_act)
        self.reg, self.is_amb, self.never, self.weight, self.role = reg, is_amb, never, weight, role

        # Who they are.
        first = rng.integers(0, len(v.first_names), n)
        last = rng.integers(0, len(v.surnames), n)
        self.region = rng.choice(len(v.regions), n, p=v.region_weights)
        phase = rng.choice(len(v.phases), n, p=v.phase_weights)
        subject = rng.integers(0, len(v.subjects), n)
        employer = rng.integers(0, len(v.employers), n)
        town = rng.integers(0, 8, n)
        suffix = rng.integers(0, 6, n)
        title_pick = rng.integers(0, 20, n)
        email_format = rng.integers(0, 4, n)
        domain = rng.integers(0, len(vocab.ACCOUNT_EMAIL_DOMAINS), n)
        employer_domain = is_amb & (rng.random(n) < 0.5)
        mixed_case = rng.random(n) < 0.05
        interest_count = np.where(rng.random(n) < 0.7, rng.integers(1, 5, n), 0)
        interest_pick = rng.integers(0, len(vocab.INTERESTS), (n, 4))
        phone_kind = rng.choice(3, n, p=[0.6, 0.2, 0.2])
        phone_digits = rng.integers(0, 1000, n)
        area_pick = rng.integers(0, 1000, n)
        district = rng.integers(1, 21, n)
        inward_digit = rng.integers(0, 10, n)
        inward_letters = rng.integers(0, len(vocab.POSTCODE_INWARD_LETTERS), (n, 2))
        # Consents, restriction, and the ambassador profile.
        self.consent_marketing = rng.random(n) < 0.55
        self.consent_research = rng.random(n) < np.where(is_amb, 0.45, 0.35)
        self.consent_employer = rng.random(n) < np.where(is_amb, 0.4, 0.08)
        self.restricted = (rng.random(n) < 0.003) & (role == _REGULAR)
        if self.index == 0 and n >= 50:  # small runs still have a restricted account
            self.restricted[np.flatnonzero(role == _REGULAR)[0]] = True
        self.restricted_at = np.where(self.restricted, self._between(reg, ctx.now, n), NAT)
        age_days = rng.integers(18 * 365, 66 * 365, n)
        self.gender = v.genders[rng.choice(len(v.genders), n, p=v.gender_weights)]
        self.ethnicity = v.ethnicities[rng.choice(len(v.ethnicities), n, p=v.ethnicity_weights)]
        undisclosed = rng.random(n) < 0.05
        self.gender[undisclosed] = None
        self.ethnicity[undisclosed] = None
        self.dob = np.where(is_amb, reg // DAY - age_days, NAT)

        scrambled = (self.ids * 2654435761) % 10_000_000  # a bijection on ids below 10**7: unique emails
        emails: list[str] = []
        full_names: list[str] = []
        organisations: list[str] = []
        job_titles: list[str] = []
        interests: list[str | None] = []
        phones: list[str | None] = []
        postcodes: list[str] = []
        regions: list[str] = []
        phases: list[str | None] = []
        for i in range(n):
            f, s = v.first_slugs[first[i]], v.surname_slugs[last[i]]
            number = scrambled[i]
            fmt = email_format[i]
            if fmt == 0:
                local = f"{f}.{s}{number}"
            elif fmt == 1:
                local = f"{f[0]}{s}{number}"
            elif fmt == 2:
                local = f"{s}.{f}{number}"
            else:
                local = f"{f}{s}{number}"
            host = (
                v.employer_domains[employer[i]]
                if employer_domain[i]
                else vocab.ACCOUNT_EMAIL_DOMAINS[domain[i]]
            )
            email = f"{local}@{host}"
            emails.append(email.title() if mixed_case[i] else email)
            full_names.append(f"{v.first_names[first[i]]} {v.surnames[last[i]]}")
            region_name = vocab.REGIONS[self.region[i]][0]
            regions.append(region_name)
            phase_name = vocab.SCHOOL_PHASES[phase[i]][0]
            if is_amb[i]:
                organisations.append(vocab.EMPLOYERS[employer[i]])
                job_titles.append(
                    vocab.JOB_TITLES_AMBASSADOR[title_pick[i] % len(vocab.JOB_TITLES_AMBASSADOR)]
                )
                phases.append(None)
            else:
                suffixes = vocab.SCHOOL_SUFFIXES[phase_name]
                organisations.append(
                    f"{vocab.TOWNS[region_name][town[i]]} {suffixes[suffix[i] % len(suffixes)]}"
                )
                titles = vocab.JOB_TITLES_EDUCATOR[phase_name]
                job_titles.append(titles[title_pick[i] % len(titles)])
                phases.append(phase_name)
            count = interest_count[i]
            if count:
                chosen = dict.fromkeys(vocab.INTERESTS[j] for j in interest_pick[i, :count])
                interests.append(", ".join(chosen))
            else:
                interests.append(None)
            kind = phone_kind[i]
            if kind == 0:
                phones.append(f"07700 900{phone_digits[i]:03d}")
            elif kind == 1:
                phones.append(f"0113 496 0{phone_digits[i]:03d}")
            else:
                phones.append(None)
            areas = vocab.POSTCODE_AREAS[region_name]
            letters = vocab.POSTCODE_INWARD_LETTERS
            postcodes.append(
                f"{areas[area_pick[i] % len(areas)]}{district[i]} {inward_digit[i]}"
                f"{letters[inward_letters[i, 0]]}{letters[inward_letters[i, 1]]}"
            )
        self.emails, self.full_names, self.organisations = emails, full_names, organisations
        self.first_name_index, self.last_name_index = first, last
        self.employer = employer
        self.postcodes = postcodes
        self.town = town
        self._account_columns = {
            "job_title": job_titles,
            "organisation_name": organisations,
            "region": regions,
            "school_phase": phases,
            "subject": v.subjects[subject].tolist(),
            "interests": interests,
            "postcode": postcodes,
            "phone": phones,
        }
        self.email_status = np.zeros(n, dtype=np.int64)  # 0 ok, 1 bounced
        self.email_status_changed_at = np.full(n, NAT, dtype=np.int64)

    def _account_frames(self) -> None:
        v = self.v
        status = _objects(["ok", "bounced"])[self.email_status]
        updated = np.maximum.reduce(
            [self.reg, self.last_act, self.last_sign_in, self.email_status_changed_at, self.restricted_at]
        )
        self.frames["accounts"] = {
            "id": self.ids,
            "account_type": np.where(self.is_amb, "ambassador", "educator").tolist(),
            "email": self.emails,
            "first_name": v.first_names[self.first_name_index].tolist(),
            "last_name": v.surnames[self.last_name_index].tolist(),
            **self._account_columns,
            "registered_at": self.reg,
            "last_sign_in_at": self.last_sign_in,
            "last_activity_at": self.last_act,
            "email_status": status.tolist(),
            "email_status_changed_at": self.email_status_changed_at,
            "consent_marketing": self.consent_marketing,
            "consent_research": self.consent_research,
            "consent_employer_sharing": self.consent_employer,
            "restricted": self.restricted,
            "restricted_at": self.restricted_at,
            "updated_at": updated,
        }
        amb = np.flatnonzero(self.is_amb)
        self.frames["ambassador_profiles"] = {
            "account_id": self.ids[amb],
            "date_of_birth": self.dob[amb],
            "gender": self.gender[amb].tolist(),
            "ethnicity": self.ethnicity[amb].tolist(),
            "employer": v.employers[self.employer[amb]].tolist(),
            "joined_on": self.reg[amb] // DAY,
            "last_activity_on": self.last_activity_on[amb],
        }

    # -------------------------------------------------------------------------- ambassador activity

    def _ambassador_activities(self) -> None:
        rng, ctx, v = self.rng, self.ctx, self.v
        eligible = self.is_amb & (self.weight > 0)
        counts = np.where(eligible, rng.poisson(5.0 * self.weight), 0)
        acc = np.repeat(np.arange(self.n), counts)
        ended = self._times(acc) // DAY
        forced_acc: list[int] = []
        forced_end: list[int] = []
        for i in np.flatnonzero(self.role == _AMB_LAST).tolist():
            forced_acc.append(i)
            forced_end.append(int(self.last_act[i] // DAY))
        for i in np.flatnonzero(self.role == _VET_AMB).tolist():
            for side in (-1, 1):  # the 8-year limit
                forced_acc.append(i)
                forced_end.append(self._boundary_day(ctx.limits.eight_years, side))
        acc = np.concatenate([acc, np.array(forced_acc, dtype=np.int64)])
        ended = np.concatenate([ended, np.array(forced_end, dtype=np.int64)])
        m = len(acc)
        started = ended - np.where(rng.random(m) < 0.15, rng.integers(1, 4, m), 0)
        hours = _HOURS[rng.choice(len(_HOURS), m, p=_HOURS_P)]
        kind = rng.integers(0, len(vocab.ACTIVITY_TYPES), m)
        elsewhere = rng.random(m) < 0.15
        region = np.where(elsewhere, rng.choice(len(v.regions), m, p=v.region_weights), self.region[acc])
        phase = rng.choice(len(v.phases), m, p=v.phase_weights)
        town = rng.integers(0, 8, m)
        suffix = rng.integers(0, 6, m)
        note = np.where(rng.random(m) < 0.3, rng.integers(0, len(vocab.ACTIVITY_NOTES), m), -1)
        schools = []
        for i in range(m):
            region_name = vocab.REGIONS[region[i]][0]
            suffixes = vocab.SCHOOL_SUFFIXES[vocab.SCHOOL_PHASES[phase[i]][0]]
            schools.append(f"{vocab.TOWNS[region_name][town[i]]} {suffixes[suffix[i] % len(suffixes)]}")
        ids = self.counters.take("ambassador_activities", m)
        self.frames["ambassador_activities"] = {
            "id": ids,
            "account_id": self.ids[acc],
            "activity_type": _objects(vocab.ACTIVITY_TYPES)[kind].tolist(),
            "region": v.regions[region].tolist(),
            "school_name": schools,
            "started_on": started,
            "ended_on": ended,
            "hours": hours,
            "notes": [vocab.ACTIVITY_NOTES[j] if j >= 0 else None for j in note.tolist()],
        }
        self.last_activity_on = np.full(self.n, NAT, dtype=np.int64)
        np.maximum.at(self.last_activity_on, acc, ended)
        self.activity_acc, self.activity_ended = acc, ended

    # --------------------------------------------------------------------------- CPD and finance

    def _bookings(self) -> None:
        rng, ctx = self.rng, self.ctx
        courses = ctx.courses
        counts = rng.poisson(np.where(self.is_amb, 0.4, 2.2) * self.weight)
        acc = np.repeat(np.arange(self.n), counts)
        booked = self._times(acc)
        day = booked // DAY
        low = np.searchsorted(courses.starts, day + 1, "left")
        high = np.searchsorted(courses.starts, day + 121, "left")
        course = low + (rng.random(len(acc)) * (high - low)).astype(np.int64)
        keep = high > low
        acc, booked, course = acc[keep], booked[keep], course[keep]
        # The 8-year limit: veterans attended the one-day courses that ended either side of it.
        veterans = np.flatnonzero((self.role == _VET_EDU) | (self.role == _VET_AMB))
        planted_acc: list[int] = []
        planted_course: list[int] = []
        planted_booked: list[int] = []
        if len(veterans):
            for position in courses.boundary.tolist():
                planted_acc.append(int(veterans[rng.integers(len(veterans))]))
                planted_course.append(position)
                lead = int(rng.integers(10, 41))
                planted_booked.append(
                    (int(courses.starts[position]) - lead) * DAY + 10 * 3600 + int(rng.integers(0, 7200))
                )
        planted = np.concatenate([np.zeros(len(acc), dtype=bool), np.ones(len(planted_acc), dtype=bool)])
        acc = np.concatenate([acc, np.array(planted_acc, dtype=np.int64)])
        booked = np.concatenate([booked, np.array(planted_booked, dtype=np.int64)])
        course = np.concatenate([course, np.array(planted_course, dtype=np.int64)])
        m = len(acc)
        finished = courses.ends[course] < ctx.today_day
        u = rng.random(m)
        status = np.where(
            finished,
            np.where(u < 0.82, _ATTENDED, np.where(u < 0.88, _NO_SHOW, _CANCELLED)),
            np.where(u < 0.92, _BOOKED, _CANCELLED),
        )
        status[planted] = _ATTENDED
        cancel_before = np.minimum(courses.starts[course] * DAY, ctx.now)
        cancelled_at = np.where(status == _CANCELLED, self._between(booked, cancel_before, m), NAT)
        in_person = ~courses.online[course]
        dietary = np.where(
            in_person & (rng.random(m) < 0.15), rng.integers(0, len(vocab.DIETARY_REQUIREMENTS), m), -1
        )
        access = np.where(
            in_person & (rng.random(m) < 0.04), rng.integers(0, len(vocab.ACCESSIBILITY_NEEDS), m), -1
        )
        ids = self.counters.take("cpd_bookings", m)
        self.frames["cpd_bookings"] = {
            "id": ids,
            "course_id": courses.ids[course],
            "account_id": self.ids[acc],
            "booked_at": booked,
            "status": _BOOKING_STATUSES[status].tolist(),
            "dietary_requirements": [
                vocab.DIETARY_REQUIREMENTS[j] if j >= 0 else None for j in dietary.tolist()
            ],
            "accessibility_needs": [
                vocab.ACCESSIBILITY_NEEDS[j] if j >= 0 else None for j in access.tolist()
            ],
            "cancelled_at": cancelled_at,
        }
        self.booking_ids, self.booking_acc, self.booking_course = ids, acc, course
        self.booking_booked, self.booking_status, self.booking_planted = booked, status, planted

    def _billing_address(self, account: int, number: int) -> str:
        region_name = vocab.REGIONS[self.region[account]][0]
        street = vocab.STREETS[number % len(vocab.STREETS)]
        town = vocab.TOWNS[region_name][self.town[account]]
        return (
            f"{self.organisations[account]}\n{number % 180 + 1} {street}\n{town}\n{self.postcodes[account]}"
        )

    def _invoices(self) -> None:
        rng, ctx = self.rng, self.ctx
        courses = ctx.courses
        mb = len(self.booking_ids)
        chosen = courses.paid[self.booking_course] & (rng.random(mb) < 0.5)
        chosen &= (self.booking_status != _CANCELLED) | (rng.random(mb) < 0.3)
        chosen &= ~self.booking_planted
        selected = np.flatnonzero(chosen)
        acc = self.booking_acc[selected]
        booking = self.booking_ids[selected]
        issued = np.minimum(
            self.booking_booked[selected] // DAY + rng.integers(0, 4, len(selected)), ctx.today_day - 1
        )
        amount = courses.fees[self.booking_course[selected]]
        void = self.booking_status[selected] == _CANCELLED
        # Finance limit: either side of the 31 March that ends the last financial year past six years.
        veterans = np.flatnonzero((self.role == _VET_EDU) | (self.role == _VET_AMB))
        year_end = _day_number(ctx.limits.finance_year_end)
        planted_days = [year_end - int(rng.integers(0, 4)) for _ in range(3)]
        planted_days += [year_end + int(rng.integers(1, 5)) for _ in range(3)]
        if not len(veterans):
            planted_days = []
        k = len(planted_days)
        planted_acc = (
            veterans[rng.integers(0, max(len(veterans), 1), k)] if k else np.zeros(0, dtype=np.int64)
        )
        fee_list = np.array(vocab.COURSE_FEES_PENCE, dtype=np.int64)
        acc = np.concatenate([acc, planted_acc])
        booking = np.concatenate([booking, np.full(k, NULL_ID, dtype=np.int64)])
        issued = np.concatenate([issued, np.array(planted_days, dtype=np.int64)])
        amount = np.concatenate([amount, fee_list[rng.integers(0, len(fee_list), k)]])
        void = np.concatenate([void, np.zeros(k, dtype=bool)])
        planted = np.concatenate([np.zeros(len(selected), dtype=bool), np.ones(k, dtype=bool)])
        m = len(acc)
        recent = issued >= ctx.today_day - 45
        paid = ~void & (rng.random(m) < np.where(recent, 0.4, 0.92))
        paid |= planted
        status = np.where(void, "void", np.where(paid, "paid", "issued"))
        with_email = rng.random(m) < 0.85
        address_number = rng.integers(0, 10_000, m)
        ids = self.counters.take("invoices", m)
        self.frames["invoices"] = {
            "id": ids,
            "invoice_number": [f"INV-{i:08d}" for i in ids.tolist()],
            "account_id": self.ids[acc],
            "booking_id": booking,
            "issued_on": issued,
            "amount_pence": amount,
            "vat_pence": amount // 5,
            "status": status.tolist(),
            "billing_name": [self.full_names[a] for a in acc.tolist()],
            "billing_email": [
                self.emails[a] if e else None for a, e in zip(acc.tolist(), with_email.tolist(), strict=True)
            ],
            "billing_address": [
                self._billing_address(a, k)
                for a, k in zip(acc.tolist(), address_number.tolist(), strict=True)
            ],
        }
        # Payments: paid invoices, on the day for the planted ones, a few paid in two instalments.
        paid_idx = np.flatnonzero(paid)
        total = (amount + amount // 5)[paid_idx]
        paid_on = np.where(
            planted[paid_idx],
            issued[paid_idx],
            np.minimum(issued[paid_idx] + rng.integers(0, 46, len(paid_idx)), ctx.today_day - 1),
        )
        paid_on = np.maximum(paid_on, issued[paid_idx])
        split = (rng.random(len(paid_idx)) < 0.04) & ~planted[paid_idx]
        second = np.flatnonzero(split)
        invoice = np.concatenate([ids[paid_idx], ids[paid_idx][second]])
        first_amount = np.where(split, total // 2, total)
        amounts = np.concatenate([first_amount, total[second] - total[second] // 2])
        later = np.minimum(paid_on[second] + rng.integers(1, 31, len(second)), ctx.today_day - 1)
        dates = np.concatenate([paid_on, np.maximum(later, paid_on[second])])
        p = len(invoice)
        method = _objects(["card", "bacs", "cheque"])[rng.choice(3, p, p=[0.5, 0.45, 0.05])]
        reference = np.where(rng.random(p) < 0.6, rng.integers(100_000, 1_000_000, p), -1)
        self.frames["payments"] = {
            "id": self.counters.take("payments", p),
            "invoice_id": invoice,
            "paid_on": dates,
            "amount_pence": amounts,
            "method": method.tolist(),
            "payer_reference": [f"PO{r}" if r >= 0 else None for r in reference.tolist()],
        }

    # ------------------------------------------------------------------- short-term business records

    def _job_applications(self) -> None:
        rng, ctx = self.rng, self.ctx
        regular = int(rng.poisson(0.05 * self.n))
        sides = [-1, -1, -1, 1, 1, 1]  # the 6-month limit: unsuccessful, decided either side of it
        m = regular + len(sides)
        _who, names, emails = self._people(m, 0.3)
        applied = self._between(ctx.start, ctx.now - 3600, m)
        recent = applied >= ctx.now - 60 * DAY
        u = rng.random(m)
        outcome = np.where(
            recent,
            np.where(u < 0.75, "pending", "withdrawn"),
            np.where(u < 0.7, "unsuccessful", np.where(u < 0.82, "successful", "withdrawn")),
        ).astype(object)
        decided = self._between(applied + 10 * DAY, applied + 60 * DAY, m)
        decided = np.where(decided >= ctx.now, ctx.now - 60, decided)
        decided = np.where(outcome == "pending", NAT, decided)
        for j, side in enumerate(sides):
            i = regular + j
            outcome[i] = "unsuccessful"
            decided[i] = self._boundary_second(ctx.limits.six_months, side)
            applied[i] = decided[i] - int(rng.integers(14 * DAY, 60 * DAY))
        phone = np.where(rng.random(m) < 0.7, rng.integers(0, 1000, m), -1)
        position = rng.integers(0, len(vocab.JOB_POSITIONS), m)
        letter = rng.integers(0, len(vocab.COVER_LETTER_SENTENCES), (m, 3))
        has_letter = rng.random(m) < 0.8
        self.frames["job_applications"] = {
            "id": self.counters.take("job_applications", m),
            "email": emails,
            "full_name": names,
            "phone": [f"07700 900{p:03d}" if p >= 0 else None for p in phone.tolist()],
            "position": [vocab.JOB_POSITIONS[p] for p in position.tolist()],
            "applied_at": applied,
            "outcome": outcome.tolist(),
            "decided_at": decided,
            "cover_letter": [
                " ".join(dict.fromkeys(vocab.COVER_LETTER_SENTENCES[j] for j in row)) if has else None
                for row, has in zip(letter.tolist(), has_letter.tolist(), strict=True)
            ],
        }

    def _information_requests(self) -> None:
        rng, ctx = self.rng, self.ctx
        regular = int(rng.poisson(0.1 * self.n))
        sides = [-1, -1, -1, 1, 1, 1]  # the 6-month limit: closed either side of it
        m = regular + len(sides)
        _who, names, emails = self._people(m, 0.4)
        received = self._between(ctx.start, ctx.now - 3600, m)
        closed = received + rng.integers(DAY, 30 * DAY, m)
        closed = np.where((closed < ctx.now) & (rng.random(m) < 0.95), closed, NAT)
        for j, side in enumerate(sides):
            i = regular + j
            closed[i] = self._boundary_second(ctx.limits.six_months, side)
            received[i] = closed[i] - int(rng.integers(DAY, 20 * DAY))
        topic = rng.integers(0, len(vocab.INFO_TOPICS), m)
        anonymous = rng.random(m) < 0.1
        self.frames["information_requests"] = {
            "id": self.counters.take("information_requests", m),
            "email": emails,
            "full_name": [None if a else name for name, a in zip(names, anonymous.tolist(), strict=True)],
            "topic": [vocab.INFO_TOPICS[t][0] for t in topic.tolist()],
            "message": [vocab.INFO_TOPICS[t][1] for t in topic.tolist()],
            "received_at": received,
            "closed_at": closed,
        }

    # ------------------------------------------------------------------------ surveys and impact

    def _survey_responses(self) -> None:
        rng, ctx, v = self.rng, self.ctx, self.v
        counts = rng.poisson(1.0 * self.weight)
        acc = np.repeat(np.arange(self.n), counts)
        submitted = self._times(acc)
        # The idle accounts at the 2-year limit answered a survey as their last activity.
        idle = np.flatnonzero(self.role == _IDLE)
        acc = np.concatenate([acc, idle])
        submitted = np.concatenate([submitted, self.last_act[idle]])
        linked = len(acc)
        # Respondents without an account (or who did not sign in), some at the 2-year limit.
        sides = [-1, -1, -1, 1, 1, 1]
        anonymous = int(rng.poisson(0.03 * self.n)) + len(sides)
        anonymous_at = self._between(ctx.start, ctx.now - 3600, anonymous)
        for j, side in enumerate(sides):
            anonymous_at[anonymous - len(sides) + j] = self._boundary_second(ctx.limits.two_years, side)
        who, _names, external_emails = self._people(anonymous, 0.1)
        with_email = (rng.random(anonymous) < 0.5) | (who >= 0)
        submitted = np.concatenate([submitted, anonymous_at])
        m = len(submitted)
        is_amb = np.concatenate([self.is_amb[acc], np.zeros(anonymous, dtype=bool)])
        educator_kind = np.array([0, 1, 3])[rng.integers(0, 3, m)]
        ambassador_kind = np.array([2, 3])[rng.integers(0, 2, m)]
        kind = np.where(is_amb, ambassador_kind, educator_kind)
        year = np.clip(_years(submitted) - ctx.survey_first_year, 0, YEARS_OF_HISTORY)
        survey = year * ctx.survey_kinds + kind + 1
        share_email = rng.random(m) < 0.3
        overall = rng.choice(5, m, p=[0.03, 0.05, 0.15, 0.4, 0.37]) + 1
        recommend = np.clip(overall * 2 + rng.integers(-1, 2, m), 0, 10)
        again = rng.random(m) < 0.85
        comment = np.where(rng.random(m) < 0.3, rng.integers(0, len(v.survey_comments), m), -1)
        emails: list[str | None] = []
        for i in range(m):
            if i < linked:
                emails.append(self.emails[acc[i]] if share_email[i] else None)
            else:
                j = i - linked
                emails.append(external_emails[j] if with_email[j] else None)
        answers = []
        for o, r, a, c in zip(
            overall.tolist(), recommend.tolist(), again.tolist(), comment.tolist(), strict=True
        ):
            text = f'{{"overall": {o}, "recommend": {r}, "would_attend_again": "{"yes" if a else "no"}"'
            answers.append(f'{text}, "comment": {v.survey_comments[c]}}}' if c >= 0 else text + "}")
        self.frames["survey_responses"] = {
            "id": self.counters.take("survey_responses", m),
            "survey_id": survey,
            "account_id": np.concatenate([self.ids[acc], np.full(anonymous, NULL_ID, dtype=np.int64)]),
            "respondent_email": emails,
            "submitted_at": submitted,
            "answers": answers,
        }

    def _impact_records(self) -> None:
        rng, ctx = self.rng, self.ctx
        courses = ctx.courses
        mb = len(self.booking_ids)
        from_booking = ((self.booking_status == _ATTENDED) & (rng.random(mb) < 0.35)) | self.booking_planted
        b = np.flatnonzero(from_booking)
        b_ended = courses.ends[self.booking_course[b]]
        b_recorded = np.where(
            self.booking_planted[b],
            b_ended * DAY + 14 * DAY + 12 * 3600,
            b_ended * DAY + rng.integers(14 * DAY, 90 * DAY, len(b)),
        )
        ma = len(self.activity_acc)
        a = np.flatnonzero(rng.random(ma) < 0.15)
        a_ended = self.activity_ended[a]
        a_recorded = a_ended * DAY + rng.integers(3 * DAY, 30 * DAY, len(a))
        acc = np.concatenate([self.booking_acc[b], self.activity_acc[a]])
        course = np.concatenate(
            [courses.ids[self.booking_course[b]], np.full(len(a), NULL_ID, dtype=np.int64)]
        )
        ended = np.concatenate([b_ended, a_ended])
        recorded = np.concatenate([b_recorded, a_recorded])
        keep = recorded < ctx.now
        acc, course, ended, recorded = acc[keep], course[keep], ended[keep], recorded[keep]
        m = len(acc)
        measure = rng.integers(0, len(vocab.IMPACT_MEASURES), m)
        score = rng.choice(5, m, p=[0.04, 0.08, 0.25, 0.38, 0.25]) + 1.0
        comment = np.where(rng.random(m) < 0.3, rng.integers(0, len(vocab.IMPACT_COMMENTS), m), -1)
        self.frames["impact_records"] = {
            "id": self.counters.take("impact_records", m),
            "account_id": self.ids[acc],
            "course_id": course,
            "measure": [vocab.IMPACT_MEASURES[j] for j in measure.tolist()],
            "score": score,
            "comment": [vocab.IMPACT_COMMENTS[j] if j >= 0 else None for j in comment.tolist()],
            "activity_ended_on": ended,
            "recorded_at": recorded,
        }

    # ---------------------------------------------------------------------------------- community

    def _community(self) -> None:
        rng, ctx, v = self.rng, self.ctx, self.v
        member = (self.weight > 0) & (rng.random(self.n) < 0.45)
        counts = np.where(member, rng.poisson(4.0 * self.weight), 0)
        acc = np.repeat(np.arange(self.n), counts)
        created = self._times(acc)
        order = np.argsort(created, kind="stable")
        acc, created = acc[order], created[order]
        m = len(acc)
        starter = rng.random(m) < 0.22
        # A reply needs an earlier thread; the earliest posts of a chunk start threads.
        if m:
            first_thread = created[np.flatnonzero(starter)].min(initial=ctx.now)
            starter |= created < first_thread
        thread_posts = np.flatnonzero(starter)  # already in time order
        t = len(thread_posts)
        thread_ids = self.counters.take("community_threads", t)
        thread_title = v.thread_titles[rng.integers(0, len(v.thread_titles), t)]
        thread_category = self._choice(vocab.THREAD_CATEGORIES, t)
        thread_of = np.empty(m, dtype=np.int64)
        thread_of[thread_posts] = np.arange(t)
        replies = np.flatnonzero(~starter)
        latest = np.searchsorted(created[thread_posts], created[replies], "right")  # >= 1
        back = np.minimum(rng.geometric(0.15, len(replies)) - 1, latest - 1)
        thread_of[replies] = latest - 1 - back
        deleted_author = (rng.random(m) < 0.01) & ~starter
        author = np.where(deleted_author, NULL_ID, self.ids[acc])
        self.frames["community_threads"] = {
            "id": thread_ids,
            "author_account_id": self.ids[acc[thread_posts]],
            "title": thread_title.tolist(),
            "category": thread_category.tolist(),
            "created_at": created[thread_posts],
        }
        # Posts: bodies, planted keyword terms, edits.
        planted = rng.random(m) < KEYWORD_SHARE
        scunthorpe = ~planted & (rng.random(m) < SCUNTHORPE_SHARE)
        if self.index == 0 and m >= 100:
            planted[np.linspace(0, m - 1, 12).astype(np.int64)] = True
            clean = np.flatnonzero(~planted)
            scunthorpe[
                clean[np.linspace(0, len(clean) - 1, len(vocab.SCUNTHORPE_SENTENCES)).astype(np.int64)]
            ] = True
        bodies, categories = self._bodies(m, planted, scunthorpe)
        reply_title = rng.random(m) < 0.25
        titles: list[str | None] = []
        for i in range(m):
            title = thread_title[thread_of[i]]
            titles.append(title if starter[i] else f"Re: {title}" if reply_title[i] else None)
        edited = np.where(rng.random(m) < 0.08, created + rng.integers(120, 3 * DAY, m), NAT)
        edited = np.where(edited >= ctx.now, NAT, edited)
        ids = self.counters.take("posts", m)
        self.frames["posts"] = {
            "id": ids,
            "thread_id": thread_ids[thread_of],
            "author_account_id": author,
            "title": titles,
            "body": bodies,
            "created_at": created,
            "edited_at": edited,
            "updated_at": np.maximum(created, edited),
            "is_hidden": np.zeros(m, dtype=bool),
            "hidden_at": np.full(m, NAT, dtype=np.int64),
            "hidden_reason": [None] * m,
        }
        self._attachments(ids, created)
        self._content_reports(ids, created, acc, planted, categories)

    def _bodies(
        self, m: int, planted: np.ndarray, scunthorpe: np.ndarray
    ) -> tuple[list[str], list[str | None]]:
        """Forum posts of 200-1,000 characters; planted ones carry a keyword term, some disguised."""
        rng, ctx, v = self.rng, self.ctx, self.v
        width = 12
        chosen = rng.integers(0, len(v.sentences), (m, width))
        target = 200 + (800 * rng.beta(1.6, 2.6, m)).astype(np.int64)
        opener = rng.integers(0, len(vocab.POST_OPENERS), m)
        closer = rng.integers(0, len(vocab.POST_CLOSERS), m)
        keyword = rng.integers(0, len(ctx.keywords), m)
        disguise = rng.random(m) < OBFUSCATED_SHARE
        method = rng.integers(0, len(OBFUSCATIONS), m)
        letter_case = rng.integers(0, 4, m)
        category_carrier = rng.random(m) < 0.5
        carrier_pick = rng.integers(0, 1_000, m)
        position = rng.integers(0, 1_000, m)
        place = rng.integers(0, len(vocab.SCUNTHORPE_SENTENCES), m)
        picks = rng.integers(0, 1 << 30, (m, 6))
        if self.index == 0:  # the first chunk shows every disguise, and plain terms too
            for rank, i in enumerate(np.flatnonzero(planted)[: len(OBFUSCATIONS) + 3].tolist()):
                disguise[i] = rank < len(OBFUSCATIONS)
                method[i] = rank % len(OBFUSCATIONS)
            for rank, i in enumerate(np.flatnonzero(scunthorpe).tolist()):
                place[i] = rank % len(vocab.SCUNTHORPE_SENTENCES)
        extra_lengths = np.array([len(s) + 1 if s else 0 for s in vocab.POST_OPENERS])[opener]
        extra_lengths += np.array([len(s) + 1 if s else 0 for s in vocab.POST_CLOSERS])[closer]
        cumulative = np.cumsum(v.sentence_lengths[chosen] + 1, axis=1) + extra_lengths[:, None]
        enough = cumulative >= target[:, None]
        count = np.where(enough.any(axis=1), enough.argmax(axis=1) + 1, width)
        too_long = cumulative[np.arange(m), count - 1] > 1000
        count = np.maximum(count - too_long, 1)
        sentences = v.sentences
        bodies: list[str] = []
        categories: list[str | None] = []
        rows = chosen.tolist()
        for i in range(m):
            parts = [sentences[j] for j in rows[i][: count[i]]]
            extra = None
            category = None
            if planted[i]:
                entry = ctx.keywords[keyword[i]]
                category = entry.category
                choices = iter(picks[i].tolist())

                def pick(n: int, _choices: Iterator[int] = choices) -> int:
                    return next(_choices) % n

                term = _as_written(entry, picks[i, 5])
                term = obfuscate(term, OBFUSCATIONS[method[i]], pick) if disguise[i] else term
                if not disguise[i] and letter_case[i] == 1:
                    term = term.upper()
                elif not disguise[i] and letter_case[i] == 2:
                    term = term.title()
                carriers = vocab.CATEGORY_CARRIERS.get(category, ()) if category_carrier[i] else ()
                carriers = carriers or vocab.KEYWORD_CARRIERS
                extra = carriers[carrier_pick[i] % len(carriers)].format(t=term)
            elif scunthorpe[i]:
                extra = vocab.SCUNTHORPE_SENTENCES[place[i]]
            if extra is not None:
                parts.insert(position[i] % (len(parts) + 1), extra)
            head = vocab.POST_OPENERS[opener[i]]
            tail = vocab.POST_CLOSERS[closer[i]]
            body = " ".join(([head] if head else []) + parts + ([tail] if tail else []))
            while len(body) > 1000 and len(parts) > 1:
                drop = len(parts) - 1 if parts[-1] is not extra else len(parts) - 2
                del parts[drop]
                body = " ".join(([head] if head else []) + parts + ([tail] if tail else []))
            refill = rows[i][-1]
            while len(body) < 200:
                refill = (refill + 1) % len(sentences)
                body = f"{body} {sentences[refill]}"
            bodies.append(body)
            categories.append(category)
        return bodies, categories

    def _attachments(self, post_ids: np.ndarray, created: np.ndarray) -> None:
        rng = self.rng
        m = len(post_ids)
        counts = np.where(rng.random(m) < 0.08, rng.choice(3, m, p=[0.8, 0.15, 0.05]) + 1, 0)
        post = np.repeat(np.arange(m), counts)
        k = len(post)
        kind = rng.integers(0, len(vocab.ATTACHMENT_TYPES), k)
        topic = rng.integers(0, len(vocab.TOPICS), k)
        number = rng.integers(1000, 10_000, k)
        size = np.minimum(np.exp(rng.normal(11.5, 1.3, k)), 25_000_000).astype(np.int64) + 1_000
        names, types = [], []
        for j, t, num in zip(kind.tolist(), topic.tolist(), number.tolist(), strict=True):
            stem, extension, content_type = vocab.ATTACHMENT_TYPES[j]
            names.append(f"{stem.format(slug=self.v.topic_slugs[t], n=num)}.{extension}")
            types.append(content_type)
        self.frames["post_attachments"] = {
            "id": self.counters.take("post_attachments", k),
            "post_id": post_ids[post],
            "file_name": names,
            "content_type": types,
            "size_bytes": size,
            "uploaded_at": created[post],
        }

    def _content_reports(
        self,
        post_ids: np.ndarray,
        created: np.ndarray,
        author: np.ndarray,
        planted: np.ndarray,
        categories: list[str | None],
    ) -> None:
        rng, ctx = self.rng, self.ctx
        m = len(post_ids)
        reported = rng.random(m) < np.where(planted, 0.35, 0.012)
        post = np.flatnonzero(reported)
        r = len(post)
        at = np.minimum(created[post] + rng.integers(600, 7 * DAY, r), ctx.now - 1)
        at = np.maximum(at, created[post])
        trusted = rng.random(r) < np.where(planted[post], 0.4, 0.1)
        candidates = rng.integers(0, self.n, (r, 4))
        able = (self.last_act[candidates] >= at[:, None]) & (candidates != author[post][:, None])
        has_reporter = able.any(axis=1)
        reporter = candidates[np.arange(r), able.argmax(axis=1)] if r else np.zeros(0, dtype=np.int64)
        trusted |= ~has_reporter
        flagger = rng.integers(0, len(vocab.TRUSTED_FLAGGERS), r)
        member_reason = rng.integers(0, len(vocab.MEMBER_REPORT_REASONS), r)
        detail = np.where(rng.random(r) < 0.5, rng.integers(0, len(vocab.REPORT_DETAILS), r), -1)
        reasons, names = [], []
        for j in range(r):
            category = categories[post[j]]
            if category is not None:
                reasons.append(vocab.REPORT_REASON_BY_CATEGORY[category])
            else:
                reasons.append(vocab.MEMBER_REPORT_REASONS[member_reason[j]])
            names.append(vocab.TRUSTED_FLAGGERS[flagger[j]] if trusted[j] else None)
        self.frames["content_reports"] = {
            "id": self.counters.take("content_reports", r),
            "post_id": post_ids[post],
            "reporter_account_id": np.where(trusted, NULL_ID, self.ids[reporter]),
            "reporter_kind": np.where(trusted, "trusted_flagger", "member").tolist(),
            "trusted_flagger_name": names,
            "reason": reasons,
            "details": [vocab.REPORT_DETAILS[d] if d >= 0 else None for d in detail.tolist()],
            "created_at": at,
        }

    # ----------------------------------------------------------------------- sharing and email

    def _data_shares(self) -> None:
        rng, ctx = self.rng, self.ctx
        # Research partners and funders receive personal data only with consent to research sharing.
        counts = np.where(self.consent_research, rng.poisson(0.8, self.n), 0)
        research_acc = np.repeat(np.arange(self.n), counts)
        k = len(research_acc)
        to_partner = rng.random(k) < 0.6
        partner = rng.integers(0, len(vocab.RESEARCH_PARTNERS), k)
        funder = rng.integers(0, len(vocab.FUNDERS), k)
        research_purpose = rng.integers(0, len(vocab.RESEARCH_PURPOSES), k)
        funder_purpose = rng.integers(0, len(vocab.FUNDER_PURPOSES), k)
        dataset = rng.integers(0, len(vocab.SHARE_DATASETS), k)
        pseudonymised = rng.random(k) < np.where(to_partner, 0.7, 0.2)
        # Employers receive their ambassadors' volunteering hours with consent to employer sharing.
        employer_acc = np.flatnonzero(self.is_amb & self.consent_employer & (rng.random(self.n) < 0.6))
        acc = np.concatenate([research_acc, employer_acc])
        m = len(acc)
        shared = self._between(self.reg[acc], ctx.now - 60, m)
        recipients, datasets, purposes = [], [], []
        for j in range(k):
            if to_partner[j]:
                recipients.append(vocab.RESEARCH_PARTNERS[partner[j]])
                purposes.append(vocab.RESEARCH_PURPOSES[research_purpose[j]])
            else:
                recipients.append(vocab.FUNDERS[funder[j]])
                purposes.append(vocab.FUNDER_PURPOSES[funder_purpose[j]])
            datasets.append(vocab.SHARE_DATASETS[dataset[j]])
        for i in employer_acc.tolist():
            recipients.append(vocab.EMPLOYERS[self.employer[i]])
            datasets.append("ambassador_activity")
            purposes.append("Volunteering hours report to the ambassador's employer")
        self.frames["data_shares"] = {
            "id": self.counters.take("data_shares", m),
            "account_id": self.ids[acc],
            "recipient": recipients,
            "dataset": datasets,
            "purpose": purposes,
            "lawful_basis": ["consent"] * m,
            "pseudonymised": np.concatenate([pseudonymised, np.zeros(len(employer_acc), dtype=bool)]),
            "shared_at": shared,
        }

    def _email_events(self) -> None:
        """The provider's past events, staged as delivered; permanent bounces were mostly acted on."""
        rng, ctx = self.rng, self.ctx
        counts = np.where(rng.random(self.n) < 0.35, 1 + rng.poisson(1.8, self.n), 0)
        acc = np.repeat(np.arange(self.n), counts)
        m = len(acc)
        occurred = self._between(self.reg[acc], ctx.now - DAY, m)
        occurred = np.maximum(occurred, self.reg[acc])
        kind = rng.choice(4, m, p=[0.86, 0.07, 0.05, 0.02])
        permanent = rng.integers(0, len(vocab.SMTP_PERMANENT), m)
        transient = rng.integers(0, len(vocab.SMTP_TRANSIENT), m)
        recase = rng.random(m) < 0.05
        ingested = np.minimum(occurred + rng.integers(3600, DAY, m), ctx.now - 1)
        ids = self.counters.take("email_events", m)
        years, months = _years(occurred), _months(occurred)
        emails, events, smtp, enhanced, diagnostic, files = [], [], [], [], [], []
        kind_names = ("delivery", "bounce", "bounce", "complaint")
        for j in range(m):
            email = self.emails[acc[j]]
            emails.append(email.upper() if recase[j] else email)
            k = kind[j]
            events.append(kind_names[k])
            if k == _EVENT_DELIVERY:
                code = vocab.SMTP_DELIVERY
            elif k == _EVENT_TRANSIENT:
                code = vocab.SMTP_TRANSIENT[transient[j]]
            elif k == _EVENT_PERMANENT:
                code = vocab.SMTP_PERMANENT[permanent[j]]
            else:
                code = ("", "", vocab.COMPLAINT_DIAGNOSTIC)
            smtp.append(code[0] or None)
            enhanced.append(code[1] or None)
            diagnostic.append(code[2])
            files.append(f"esp-export-{years[j]}-{months[j]:02d}.csv")
        self.frames["email_events"] = {
            "id": ids,
            "email": emails,
            "event_type": events,
            "smtp_status": smtp,
            "enhanced_status": enhanced,
            "diagnostic": diagnostic,
            "occurred_at": occurred,
            "source_file": files,
            "source_line": ids + 1,
            "ingested_at": ingested,
        }
        # Most permanent bounces were already reconciled: the account is marked bounced.
        bounced = np.full(self.n, NAT, dtype=np.int64)
        hard = np.flatnonzero(kind == _EVENT_PERMANENT)
        if len(hard):
            bounced[:] = np.iinfo(np.int64).max
            np.minimum.at(bounced, acc[hard], occurred[hard])
            bounced[bounced == np.iinfo(np.int64).max] = NAT
        acted = (bounced != NAT) & (rng.random(self.n) < 0.7)
        self.email_status = np.where(acted, 1, 0)
        self.email_status_changed_at = np.where(acted, np.minimum(bounced + DAY, ctx.now - 1), NAT)
        complained = np.zeros(self.n, dtype=bool)
        complained[acc[kind == _EVENT_COMPLAINT]] = True
        self.consent_marketing &= ~complained

    def _legal_holds(self) -> None:
        rng, ctx = self.rng, self.ctx
        acc = np.flatnonzero((rng.random(self.n) < 0.0006) & (self.role == _REGULAR))
        accounts = acc.tolist()
        emails: list[str | None] = []
        if self.index == 0:
            # A hold on an account just outside the 2-year limit, and one on a job applicant's email.
            outside = [
                i
                for i in np.flatnonzero(self.role == _NEVER).tolist()
                if self.reg[i] // DAY < _day_number(ctx.limits.two_years)
            ]
            accounts = outside[:1] + accounts
        with_email = rng.random(len(accounts)) < 0.5
        for i, w in zip(accounts, with_email.tolist(), strict=True):
            emails.append(self.emails[i] if w else None)
        account_ids = [int(self.ids[i]) for i in accounts]
        if self.index == 0:
            applicant = self.frames["job_applications"]["email"][0]
            account_ids.append(NULL_ID)
            emails.append(applicant)
        m = len(account_ids)
        placed = ctx.now - rng.integers(10 * DAY, 400 * DAY, m)
        lifted = np.where(rng.random(m) < 0.25, placed + rng.integers(7 * DAY, 60 * DAY, m), NAT)
        lifted = np.where(lifted >= ctx.now, NAT, lifted)
        if self.index == 0 and m:
            lifted[: min(m, 1)] = NAT
            lifted[-1] = NAT
        reason = rng.integers(0, len(vocab.LEGAL_HOLD_REASONS), m)
        placer = rng.integers(0, len(vocab.LEGAL_HOLD_PLACERS), m)
        self.frames["legal_holds"] = {
            "id": self.counters.take("legal_holds", m),
            "account_id": np.array(account_ids, dtype=np.int64),
            "email": emails,
            "reason": [vocab.LEGAL_HOLD_REASONS[j] for j in reason.tolist()],
            "placed_at": placed,
            "placed_by": [vocab.LEGAL_HOLD_PLACERS[j] for j in placer.tolist()],
            "lifted_at": lifted,
        }

    def _export(self) -> None:
        """Rows of the provider's latest export: some accounts' events, messy addresses, broken rows."""
        rng, ctx = self.rng, self.ctx
        selected = rng.random(self.n) < 0.02
        if self.index == 0:  # small runs still get an export worth reconciling
            selected[rng.choice(self.n, min(self.n, 12), replace=False)] = True
        acc = np.flatnonzero(selected)
        unknown = int(rng.poisson(0.001 * self.n))
        m = len(acc) + unknown
        _names, strangers = self._external_people(unknown)
        emails = [self.emails[i] for i in acc.tolist()] + strangers
        kind = rng.choice(4, m, p=[0.3, 0.25, 0.35, 0.1])
        permanent = rng.integers(0, len(vocab.SMTP_PERMANENT), m)
        transient = rng.integers(0, len(vocab.SMTP_TRANSIENT), m)
        messy = rng.choice(4, m, p=[0.8, 0.07, 0.05, 0.08])
        if self.index == 0:
            messy[: min(m, 3)] = [1, 2, 3][: min(m, 3)]
        occurred = ctx.now - rng.integers(3600, 30 * DAY, m)
        stamps = np.datetime_as_string(occurred.view("datetime64[s]"), unit="s").tolist()
        rows: list[tuple[str, ...]] = []
        for j in range(m):
            email = emails[j]
            if messy[j] == 1:
                email = email.upper()
            elif messy[j] == 2:
                email = email.title()
            elif messy[j] == 3:
                email = f"  {email} "
            k = kind[j]
            if k == _EVENT_DELIVERY:
                code, event = vocab.SMTP_DELIVERY, "delivery"
            elif k == _EVENT_TRANSIENT:
                code, event = vocab.SMTP_TRANSIENT[transient[j]], "bounce"
            elif k == _EVENT_PERMANENT:
                code, event = vocab.SMTP_PERMANENT[permanent[j]], "bounce"
            else:
                code, event = ("", "", vocab.COMPLAINT_DIAGNOSTIC), "complaint"
            rows.append((email, event, code[0], code[1], code[2], f"{stamps[j]}Z"))
        # Rows a reconciliation job must quarantine: a bad date, an unknown event, no email.
        some_email = emails[0] if emails else "someone@post.example"
        some_stamp = f"{stamps[0]}Z" if stamps else "2020-01-01T00:00:00Z"
        bad_dates, bad_events, no_email = (
            rng.poisson(0.0005 * self.n, 3) + (1 if self.index == 0 else 0)
        ).tolist()
        for _ in range(bad_dates):
            bad = ("2024-02-30T10:00:00Z", "31/01/2025 10:00", "not-a-date", "")[int(rng.integers(4))]
            rows.append((some_email, "bounce", *vocab.SMTP_PERMANENT[0], bad))
        for _ in range(bad_events):
            event = ("opened", "clicked", "BOUNCED?", "unsubscribe")[int(rng.integers(4))]
            rows.append((some_email, event, "", "", "", some_stamp))
        for _ in range(no_email):
            rows.append(
                (
                    "",
                    "bounce",
                    *vocab.SMTP_PERMANENT[int(rng.integers(len(vocab.SMTP_PERMANENT)))],
                    some_stamp,
                )
            )
        order = rng.permutation(len(rows))
        self.export_rows = [rows[i] for i in order.tolist()]

"""Funder statistics: compile the tables per funder and period, protect them, deliver the release.

A release is, for one funder and one period (a quarter such as 2026-Q3 or a year such as 2026):
CPD participation by region and subject, by school phase, and on the courses that funder sponsored;
STEM Ambassador activities and hours by region and activity type; the diversity of active ambassadors
(gender, broad ethnic group, age band: counts only); impact measures (means and medians only where
enough people contribute). Aggregation runs in SQL (sql/stats__*.sql); restricted accounts are left out.

Every release goes through tasks.disclosure: primary suppression, secondary suppression against the
release's own tables, the other periods of the same year and everything released before (to any
funder), and the audit that proves each suppressed sensitive cell keeps its protection width. Then the
output contract (data_contracts/datasets/funder_table.yaml) checks every table, and only then are the
files written: a CSV per table, one self-contained HTML report and a manifest with SHA-256 checksums,
in <output_dir>/funders/<funder-slug>/<period>/. The release and its cells are kept in the database so
that the next release is audited against it.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import os
import re
import shutil
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from prefect import task
from sqlalchemy import Connection, Date, Engine, bindparam, insert, select, update

import steward
from steward.errors import ConfigurationError, StewardError
from steward.progress import ProgressCallback, no_progress
from steward.settings import get_settings
from tasks.audit import current_run_id, write_audit
from tasks.calendar import add_years, today_local, utc_now
from tasks.db import get_engine, sql, sqlite_page_cache
from tasks.disclosure import (
    TOTAL,
    VALUE,
    CellData,
    CellLabel,
    DisclosureAuditFailed,
    DisclosureProblem,
    DisclosureRules,
    PriorCell,
    ProtectionResult,
    Relation,
    StatKey,
    StatTable,
    Status,
    SystemStructure,
    UnprotectableRelease,
    audit_pattern,
    protect,
)
from tasks.schema import funder_release_cells, funder_releases

if TYPE_CHECKING:
    import pandas as pd

# ------------------------------------------------------------------------------------------ periods

_PERIOD = re.compile(r"^(\d{4})(?:-Q([1-4]))?$")
_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


@dataclass(frozen=True, order=True)
class Period:
    """A reporting period: a calendar quarter (2026-Q3) or a calendar year (2026), dates inclusive."""

    start: date
    end: date
    label: str

    @property
    def is_quarter(self) -> bool:
        return "-Q" in self.label

    @property
    def year(self) -> int:
        return self.start.year

    def family(self) -> list[Period]:
        """The year this period belongs to and its four quarters (differencing happens among them)."""
        year = str(self.year)
        return [parse_period(year), *(parse_period(f"{year}-Q{q}") for q in range(1, 5))]

    def describe(self) -> str:
        if self.is_quarter:
            return f"{_MONTHS[self.start.month - 1]} to {_MONTHS[self.end.month - 1]} {self.year}"
        return f"January to December {self.year}"


def parse_period(text: str, today: date | None = None) -> Period:
    """`2026-Q3`, `2026`, `previous-quarter` (the last quarter that has ended) or `previous-year`."""
    value = text.strip()
    if value in ("previous-quarter", "previous", "last-quarter", "previous-year", "last-year"):
        today = today or today_local()
        if value in ("previous-year", "last-year"):
            return parse_period(str(today.year - 1))
        quarter = (today.month - 1) // 3  # 0-based index of the current quarter
        year, previous = (today.year, quarter) if quarter > 0 else (today.year - 1, 4)
        return parse_period(f"{year}-Q{previous}")
    match = _PERIOD.match(value)
    if not match:
        raise ConfigurationError(
            f"period {text!r}: expected a quarter like 2026-Q3, a year like 2026, previous-quarter or "
            "previous-year"
        )
    year = int(match.group(1))
    if match.group(2):
        q = int(match.group(2))
        start = date(year, 3 * q - 2, 1)
        end = date(year + (q == 4), 1 if q == 4 else 3 * q + 1, 1)
        return Period(start, date.fromordinal(end.toordinal() - 1), f"{year}-Q{q}")
    return Period(date(year, 1, 1), date(year, 12, 31), str(year))


# ------------------------------------------------------------------------------------------ funders


def slugify(name: str) -> str:
    """A funder's folder and key name: lowercase letters and digits joined by dashes."""
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    if not slug:
        raise ConfigurationError(f"funder name {name!r} has no letters or digits")
    return slug[:80]


@dataclass(frozen=True)
class Funder:
    name: str
    slug: str

    @classmethod
    def named(cls, name: str) -> Funder:
        return cls(name.strip(), slugify(name))


@dataclass(frozen=True)
class FunderInfo:
    """A funder as `steward funders list` shows it."""

    funder: Funder
    sponsored_courses: int
    releases: tuple[str, ...]
    last_delivered_at: datetime | None


class UnknownFunder(ConfigurationError):
    """No sponsor of a course and no earlier release has this name."""


def list_funders(conn: Connection) -> list[FunderInfo]:
    """Every funder steward knows: sponsors of CPD courses, and anyone released to before."""
    courses = {row.name: int(row.sponsored_courses) for row in conn.execute(sql("stats__funders", conn))}
    releases: dict[str, list[tuple[str, str, datetime | None]]] = defaultdict(list)
    names: dict[str, str] = {}
    query = select(
        funder_releases.c.funder_slug,
        funder_releases.c.funder_name,
        funder_releases.c.period,
        funder_releases.c.delivered_at,
    ).order_by(funder_releases.c.period)
    for row in conn.execute(query):
        releases[row.funder_slug].append((row.funder_name, row.period, row.delivered_at))
        names.setdefault(row.funder_slug, row.funder_name)
    for name in courses:
        names.setdefault(slugify(name), name)
    infos = []
    for slug, name in sorted(names.items(), key=lambda item: item[1].lower()):
        sponsored = sum(count for sponsor, count in courses.items() if slugify(sponsor) == slug)
        delivered = [at for _n, _p, at in releases.get(slug, []) if at is not None]
        infos.append(
            FunderInfo(
                Funder(name, slug),
                sponsored,
                tuple(period for _n, period, _a in releases.get(slug, [])),
                max(delivered) if delivered else None,
            )
        )
    return infos


def resolve_funder(conn: Connection, text: str) -> Funder:
    """The known funder whose name or slug is `text` (case does not matter)."""
    wanted = text.strip()
    known = list_funders(conn)
    for info in known:
        if wanted.lower() in (info.funder.name.lower(), info.funder.slug):
            return info.funder
    if wanted and slugify(wanted) in {info.funder.slug for info in known}:
        return next(info.funder for info in known if info.funder.slug == slugify(wanted))
    names = ", ".join(info.funder.name for info in known) or "none (no course has a sponsor)"
    raise UnknownFunder(f"no funder named {text!r}; known funders: {names}")


# ------------------------------------------------------------------------------------------- tables

T_REGION_SUBJECT = "cpd_by_region_and_subject"
T_PHASE = "cpd_by_school_phase"
T_SPONSORED = "cpd_sponsored_courses"
T_ACTIVITIES = "ambassador_activities_by_region_and_type"
T_HOURS = "ambassador_hours_by_region_and_type"
T_GENDER = "ambassadors_by_gender"
T_ETHNIC = "ambassadors_by_ethnic_group"
T_AGE = "ambassadors_by_age_band"
T_IMPACT = "impact_measures"
GENERAL_TABLES = (T_REGION_SUBJECT, T_PHASE, T_ACTIVITIES, T_HOURS, T_GENDER, T_ETHNIC, T_AGE, T_IMPACT)
"""The tables every funder receives for a period (the same statistics whoever receives them)."""

COUNT_MEASURES = frozenset(
    {"cpd_participations", "ambassador_activities", "active_ambassadors", "impact_responses"}
)
MEAN_COLUMN = "Mean score"
MEDIAN_COLUMN = "Median score"
RESPONSES_COLUMN = "Responses"

# Where each dimension comes from, so that its classification in the personal-data map (the table
# contracts) decides whether it may be published, and how.
DIMENSION_SOURCES: Mapping[str, tuple[str, str]] = {
    "region": ("accounts", "region"),
    "subject": ("cpd_courses", "subject"),
    "school_phase": ("accounts", "school_phase"),
    "course": ("cpd_courses", "code"),
    "sponsor": ("cpd_courses", "sponsor"),
    "activity_region": ("ambassador_activities", "region"),
    "activity_type": ("ambassador_activities", "activity_type"),
    "gender": ("ambassador_profiles", "gender"),
    "ethnic_group": ("ambassador_profiles", "ethnicity"),
    "age_band": ("ambassador_profiles", "date_of_birth"),
    "impact_measure": ("impact_records", "measure"),
}
PUBLISHABLE = frozenset({"not_personal", "professional", "demographic", "activity"})
"""Classifications a dimension of any table may have."""
PROTECTED_COUNTS_ONLY = frozenset({"special_category", "identity"})
"""Classifications that may only be the single dimension of a protected count table (ethnicity, and
date of birth as an age band): never crossed with another dimension, never averaged."""


class UnpublishableDimension(StewardError):
    """A table would publish a column its classification keeps out of funder statistics."""


def check_dimensions(tables: Iterable[StatTable]) -> None:
    """Refuse any table whose dimensions the personal-data map does not allow in it."""
    from tasks.contracts import load_contract

    for table in tables:
        dims = [table.row_dim, *([table.col_dim] if table.col_dim else [])]
        for dim in dims:
            source = DIMENSION_SOURCES.get(dim)
            if source is None:
                raise UnpublishableDimension(f"table {table.name!r}: dimension {dim!r} has no known source")
            classification = load_contract(source[0]).column(source[1]).classification
            if classification in PROTECTED_COUNTS_ONLY:
                if table.kind != "count" or table.two_way:
                    raise UnpublishableDimension(
                        f"table {table.name!r}: {source[0]}.{source[1]} is {classification} data and may "
                        "only appear as a one-way protected count"
                    )
            elif classification not in PUBLISHABLE:
                raise UnpublishableDimension(
                    f"table {table.name!r}: {source[0]}.{source[1]} is classified {classification} and is "
                    "never published"
                )


def rules_from_settings() -> DisclosureRules:
    settings = get_settings()
    return DisclosureRules(
        threshold=settings.funders_threshold,
        zero_cells=settings.funders_zero_cells,
        dominance_n=settings.funders_dominance_n,
        dominance_k=settings.funders_dominance_k,
        protection_width=settings.funders_protection_width,
        magnitude_protection_percent=settings.funders_magnitude_protection_percent,
        rounding_base=settings.funders_rounding_base,
        min_contributors_for_mean=settings.funders_min_contributors_for_mean,
    )


def _run_stats(conn: Connection, name: str, params: Mapping[str, Any]) -> Any:
    statement = sql(name, conn)
    types = {key: Date() if isinstance(value, date) else None for key, value in params.items()}
    statement = statement.bindparams(
        *(bindparam(key, type_=kind) for key, kind in types.items() if kind is not None)
    )
    return conn.execute(statement, dict(params))


def _period_params(period: Period) -> dict[str, Any]:
    return {"period_start": period.start, "period_end": period.end}


def _sorted_labels(labels: Iterable[str]) -> list[str]:
    special = {"Not recorded": 2, "Prefer not to say": 1}
    return sorted(set(labels), key=lambda label: (special.get(label, 0), label.lower()))


def _count(value: Any) -> float:
    return float(value or 0)


def _two_way(
    name: str,
    title: str,
    description: str,
    measure: str,
    unit: str,
    period: Period,
    dims: tuple[tuple[str, str], tuple[str, str]],
    cells: dict[tuple[str, str], CellData],
    kind: str = "count",
    pattern_group: str | None = None,
    decimals: int = 0,
) -> StatTable:
    (row_dim, row_title), (col_dim, col_title) = dims
    rows = _sorted_labels(r for r, _c in cells if r != TOTAL)
    cols = _sorted_labels(c for _r, c in cells if c != TOTAL)
    return StatTable(
        name=name,
        title=title,
        description=description,
        measure=measure,
        period=period.label,
        unit=unit,
        row_dim=row_dim,
        row_title=row_title,
        rows=rows,
        col_dim=col_dim,
        col_title=col_title,
        cols=cols,
        cells=cells,
        kind="magnitude" if kind == "magnitude" else "count",
        pattern_group=pattern_group,
        decimals=decimals,
    )


def _one_way(
    name: str,
    title: str,
    description: str,
    measure: str,
    unit: str,
    period: Period,
    dim: tuple[str, str],
    cells: dict[tuple[str, str], CellData],
    time_relation: str = "additive",
    has_totals: bool = True,
    order: Sequence[str] | None = None,
) -> StatTable:
    rows = (
        [r for r in order if (r, VALUE) in cells]
        if order
        else _sorted_labels(r for r, _ in cells if r != TOTAL)
    )
    return StatTable(
        name=name,
        title=title,
        description=description,
        measure=measure,
        period=period.label,
        unit=unit,
        row_dim=dim[0],
        row_title=dim[1],
        rows=rows,
        cells=cells,
        time_relation="distinct" if time_relation == "distinct" else "additive",
        has_totals=has_totals,
    )


@dataclass
class ImpactFigures:
    """Means and medians of one impact measure (published only where enough people contribute)."""

    contributors: int
    mean: float | None
    median: float | None


@dataclass
class CompiledTables:
    """The tables of one period, as computed from the CRM now."""

    period: Period
    tables: list[StatTable]
    impact: dict[str, ImpactFigures] = field(default_factory=dict)

    def get(self, name: str) -> StatTable | None:
        return next((t for t in self.tables if t.name == name), None)


GENERAL_QUERIES = (
    ("stats__cpd_participation",),
    ("stats__ambassador_activities", "stats__ambassador_diversity", "stats__impact_measures"),
)
"""The statements behind the general tables, in two groups that read different tables (CPD bookings;
ambassador activities and impact records), so that they can run side by side on two connections."""


def _query_params(name: str, period: Period, rules: DisclosureRules) -> dict[str, Any]:
    params = _period_params(period)
    if name == "stats__ambassador_activities":
        params["top_n"] = rules.dominance_n
    if name == "stats__ambassador_diversity":
        params.update({f"born_after_{age}": add_years(period.end, -age) for age in (25, 35, 45, 55, 65)})
    return params


@contextmanager
def _bulk_reading(conn: Connection) -> Iterator[None]:
    """On SQLite, a large page cache and in-memory sorting while the statistics are aggregated."""
    if conn.dialect.name != "sqlite":
        yield
        return
    conn.exec_driver_sql("pragma temp_store = memory")
    conn.exec_driver_sql("pragma mmap_size = 4294967296")  # read the file mapped: fewer copies
    try:
        with sqlite_page_cache(conn):
            yield
    finally:
        conn.exec_driver_sql("pragma temp_store = default")
        conn.exec_driver_sql("pragma mmap_size = 0")


def fetch_general_rows(
    conn: Connection, period: Period, rules: DisclosureRules, names: Iterable[str]
) -> dict[str, list[Any]]:
    """The aggregated rows of the named statements for `period` (aggregates only, no person)."""
    with _bulk_reading(conn):
        return {name: list(_run_stats(conn, name, _query_params(name, period, rules))) for name in names}


def fetch_general_rows_in_parallel(
    engine: Engine, period: Period, rules: DisclosureRules
) -> dict[str, list[Any]]:
    """fetch_general_rows for every statement, the two groups side by side on two connections."""
    from concurrent.futures import ThreadPoolExecutor

    def run(names: tuple[str, ...]) -> dict[str, list[Any]]:
        with engine.connect() as conn:
            return fetch_general_rows(conn, period, rules, names)

    rows: dict[str, list[Any]] = {}
    with ThreadPoolExecutor(max_workers=len(GENERAL_QUERIES)) as pool:
        for result in pool.map(run, GENERAL_QUERIES):
            rows.update(result)
    return rows


def compile_general_tables(
    conn: Connection | None,
    period: Period,
    rules: DisclosureRules,
    rows: Mapping[str, list[Any]] | None = None,
) -> CompiledTables:
    """The tables every funder receives for `period`, aggregated in SQL (on `conn`, or from `rows`
    fetched already; with neither, the tables' empty layouts)."""
    if rows is None:
        names = [name for group in GENERAL_QUERIES for name in group]
        rows = fetch_general_rows(conn, period, rules, names) if conn is not None else {}
    tables: list[StatTable] = []

    # CPD participation by region x subject, and by school phase (one pass over the bookings).
    region_subject: dict[tuple[str, str], CellData] = {}
    phase: dict[tuple[str, str], CellData] = {}
    for row in rows.get("stats__cpd_participation", []):
        cell = CellData(_count(row.participations), int(row.contributors or 0))
        if row.level == "cell":
            region_subject[(row.region, row.subject)] = cell
        elif row.level == "region":
            region_subject[(row.region, TOTAL)] = cell
        elif row.level == "subject":
            region_subject[(TOTAL, row.subject)] = cell
        elif row.level == "phase":
            phase[(row.school_phase, VALUE)] = cell
        else:
            region_subject[(TOTAL, TOTAL)] = cell
            phase[(TOTAL, VALUE)] = cell
    region_subject.setdefault((TOTAL, TOTAL), CellData(0.0, 0))
    phase.setdefault((TOTAL, VALUE), CellData(0.0, 0))
    tables.append(
        _two_way(
            T_REGION_SUBJECT,
            "CPD participation by region and subject",
            "Attended places on CPD courses that ended in the period, by the participant's region and "
            "the course's subject.",
            "cpd_participations",
            "participations",
            period,
            (("region", "Region"), ("subject", "Subject")),
            region_subject,
        )
    )
    tables.append(
        _one_way(
            T_PHASE,
            "CPD participation by school phase",
            "Attended places on CPD courses that ended in the period, by the participant's school phase.",
            "cpd_participations",
            "participations",
            period,
            ("school_phase", "School phase"),
            phase,
        )
    )

    # Ambassador activities and hours by region x activity type: one suppression pattern for both.
    activities: dict[tuple[str, str], CellData] = {}
    hours: dict[tuple[str, str], CellData] = {}
    for row in rows.get("stats__ambassador_activities", []):
        position = {
            "cell": (row.region, row.activity_type),
            "region": (row.region, TOTAL),
            "type": (TOTAL, row.activity_type),
        }.get(row.level, (TOTAL, TOTAL))
        contributors = int(row.contributors or 0)
        activities[position] = CellData(_count(row.activities), contributors)
        hours[position] = CellData(_count(row.hours), contributors, _count(row.top_hours))
    activities.setdefault((TOTAL, TOTAL), CellData(0.0, 0))
    hours.setdefault((TOTAL, TOTAL), CellData(0.0, 0, 0.0))
    dims = (("activity_region", "Region"), ("activity_type", "Activity type"))
    tables.append(
        _two_way(
            T_ACTIVITIES,
            "STEM Ambassador activities by region and activity type",
            "Activities that ended in the period, by where they took place and their type.",
            "ambassador_activities",
            "activities",
            period,
            dims,
            activities,
            pattern_group="ambassador_activities",
        )
    )
    tables.append(
        _two_way(
            T_HOURS,
            "STEM Ambassador hours by region and activity type",
            "Hours volunteered on activities that ended in the period.",
            "ambassador_hours",
            "hours",
            period,
            dims,
            hours,
            kind="magnitude",
            pattern_group="ambassador_activities",
            decimals=1,
        )
    )

    # Diversity of the ambassadors active in the period: counts of people, one dimension at a time.
    by_dimension: dict[str, dict[tuple[str, str], CellData]] = defaultdict(dict)
    total = CellData(0.0, 0)
    for row in rows.get("stats__ambassador_diversity", []):
        cell = CellData(_count(row.people), int(row.people or 0))
        if row.dimension == "total":
            total = cell
        else:
            by_dimension[row.dimension][(row.category, VALUE)] = cell
    age_order = ["Under 25", "25 to 34", "35 to 44", "45 to 54", "55 to 64", "65 and over", "Not recorded"]
    for name, dim, title, dim_title, order in (
        (T_GENDER, "gender", "STEM Ambassadors by gender", "Gender", None),
        (T_ETHNIC, "ethnic_group", "STEM Ambassadors by ethnic group", "Ethnic group", None),
        (T_AGE, "age_band", "STEM Ambassadors by age band", "Age at the end of the period", age_order),
    ):
        cells = dict(by_dimension.get(dim, {}))
        cells[(TOTAL, VALUE)] = total
        tables.append(
            _one_way(
                name,
                title,
                "STEM Ambassadors with at least one activity that ended in the period (people, counted "
                "once). Diversity data is published only as these protected counts.",
                "active_ambassadors",
                "people",
                period,
                (dim, dim_title),
                cells,
                time_relation="distinct",
                order=order,
            )
        )

    # Impact measures: responses per measure (a protected count), means and medians beside them.
    responses: dict[tuple[str, str], CellData] = {}
    impact: dict[str, ImpactFigures] = {}
    for row in rows.get("stats__impact_measures", []):
        responses[(row.measure, VALUE)] = CellData(_count(row.responses), int(row.contributors or 0))
        impact[row.measure] = ImpactFigures(
            int(row.contributors or 0),
            None if row.mean_score is None else float(row.mean_score),
            None if row.median_score is None else float(row.median_score),
        )
    tables.append(
        _one_way(
            T_IMPACT,
            "Impact measures",
            "Impact scores recorded for activities that ended in the period: responses, mean and median "
            "score per measure. A mean or median is shown only where enough people contributed.",
            "impact_responses",
            "responses",
            period,
            ("impact_measure", "Measure"),
            responses,
            has_totals=False,
        )
    )
    check_dimensions(tables)
    return CompiledTables(period, tables, impact)


def compile_sponsored_table(conn: Connection, funder: Funder, period: Period) -> StatTable | None:
    """Participation in the courses `funder` sponsored that ended in `period` (None when none did)."""
    cells: dict[tuple[str, str], CellData] = {}
    row_dims: dict[str, dict[str, str]] = {}
    names: dict[str, str] = {}
    total = CellData(0.0, 0)
    for row in _run_stats(
        conn, "stats__cpd_sponsored_courses", {**_period_params(period), "sponsor": funder.name}
    ):
        cell = CellData(_count(row.participations), int(row.contributors or 0))
        if row.level == "total":
            total = cell
            continue
        cells[(row.code, VALUE)] = cell
        row_dims[row.code] = {"subject": row.subject}
        names[row.code] = f"{row.code}: {row.title}"
    if not cells:
        return None
    cells[(TOTAL, VALUE)] = total
    table = _one_way(
        T_SPONSORED,
        "CPD participation on the courses you sponsored",
        "Attended places on each course you sponsored that ended in the period.",
        "cpd_participations",
        "participations",
        period,
        ("course", "Course"),
        cells,
    )
    table.fixed_dims = {"sponsor": funder.slug}
    table.row_dims = row_dims
    table.row_names = names
    check_dimensions([table])
    return table


# ------------------------------------------------------------------------------ earlier releases


@dataclass
class StoredCell:
    table: str
    position: int
    row: str
    column: str
    key: StatKey
    is_total: bool
    status: str
    suppression: str | None
    value: float | None
    shown: float | None
    required_width: float


@dataclass
class StoredRelease:
    id: int
    funder: Funder
    period: str
    status: str
    created_at: datetime
    parameters: dict[str, Any]
    layouts: list[dict[str, Any]]
    summary: dict[str, Any]
    cells: list[StoredCell]
    output_path: str | None
    manifest_sha256: str | None

    def table_cells(self, name: str) -> list[StoredCell]:
        return [c for c in self.cells if c.table == name]

    def layout(self, name: str) -> dict[str, Any] | None:
        return next((layout for layout in self.layouts if layout["name"] == name), None)


def load_releases(conn: Connection, periods: Iterable[str]) -> list[StoredRelease]:
    """The releases (prepared or delivered) of the given periods, oldest first, with their cells."""
    wanted = sorted(set(periods))
    if not wanted:
        return []
    rows = conn.execute(
        select(funder_releases)
        .where(funder_releases.c.period.in_(wanted))
        .order_by(funder_releases.c.created_at, funder_releases.c.id)
    ).all()
    releases: dict[int, StoredRelease] = {}
    for row in rows:
        releases[row.id] = StoredRelease(
            id=row.id,
            funder=Funder(row.funder_name, row.funder_slug),
            period=row.period,
            status=row.status,
            created_at=row.created_at,
            parameters=json.loads(row.parameters),
            layouts=json.loads(row.tables),
            summary=json.loads(row.summary) if row.summary else {},
            cells=[],
            output_path=row.output_path,
            manifest_sha256=row.manifest_sha256,
        )
    if releases:
        cells = conn.execute(
            select(funder_release_cells)
            .where(funder_release_cells.c.release_id.in_(list(releases)))
            .order_by(funder_release_cells.c.release_id, funder_release_cells.c.id)
        )
        for cell in cells:
            releases[cell.release_id].cells.append(
                StoredCell(
                    cell.table_name,
                    cell.position,
                    cell.row_label,
                    cell.column_label,
                    StatKey.parse(cell.stat_key),
                    bool(cell.is_total),
                    cell.status,
                    cell.suppression,
                    cell.value,
                    cell.shown,
                    float(cell.required_width or 0.0),
                )
            )
    return list(releases.values())


def _is_lp_cell(cell: StoredCell) -> bool:
    return cell.key.measure not in ("impact_mean", "impact_median")


def prior_cells(releases: Iterable[StoredRelease]) -> list[PriorCell]:
    """What earlier releases published (exactly) and what they suppressed, one entry per statistic."""
    merged: dict[StatKey, PriorCell] = {}
    for release in releases:
        for cell in release.cells:
            if not _is_lp_cell(cell):
                continue
            label = CellLabel(cell.table, cell.row, cell.column, release.period)
            published = cell.value if cell.status == "published" else None
            known = merged.get(cell.key)
            if known is None:
                merged[cell.key] = PriorCell(cell.key, label, published, cell.required_width)
            elif known.published is None:
                if published is not None:
                    merged[cell.key] = PriorCell(cell.key, known.label, published, 0.0)
                else:
                    width = max(known.required_width, cell.required_width)
                    merged[cell.key] = PriorCell(cell.key, known.label, None, width)
    return list(merged.values())


def prior_relations(releases: Iterable[StoredRelease]) -> list[Relation]:
    """The additivity of every table released before: what a reader of those tables also knows."""
    relations: dict[tuple[Any, ...], Relation] = {}
    for release in releases:
        for layout in release.layouts:
            if not layout.get("has_totals", True):
                continue
            keys = {(c.row, c.column): c.key for c in release.table_cells(layout["name"]) if _is_lp_cell(c)}
            rows = [r for r in layout["rows"] if r != TOTAL]
            if layout["two_way"]:
                cols = [c for c in layout["columns"] if c != TOTAL]
                lines = [((r, TOTAL), [(r, c) for c in cols]) for r in [*rows, TOTAL]]
                lines += [((TOTAL, c), [(r, c) for r in rows]) for c in cols]
            else:
                lines = [((TOTAL, VALUE), [(r, VALUE) for r in rows])]
            for total, parts in lines:
                if total not in keys or any(p not in keys for p in parts):
                    continue
                relation = Relation.total_of(keys[total], [keys[p] for p in parts], layout["name"])
                relations.setdefault((relation.coefs, relation.sense), relation)
    return list(relations.values())


def carried_table(fresh: StatTable, release: StoredRelease) -> StatTable | None:
    """`fresh` as `release` first published it: the same statistics, figures and suppressions.

    A table already released for a period is released again exactly as it was, so that two releases
    of one period never differ (their difference would disclose late changes to the data). None when
    `release` does not hold this table in the same form.
    """
    layout = release.layout(fresh.name)
    cells = [c for c in release.table_cells(fresh.name) if _is_lp_cell(c)]
    if layout is None or not cells:
        return None
    table = StatTable(
        name=fresh.name,
        title=fresh.title,
        description=fresh.description,
        measure=fresh.measure,
        period=fresh.period,
        unit=fresh.unit,
        row_dim=fresh.row_dim,
        row_title=fresh.row_title,
        rows=[r for r in layout["rows"] if r != TOTAL],
        cells={},
        col_dim=fresh.col_dim,
        col_title=fresh.col_title,
        cols=[c for c in layout["columns"] if c != TOTAL] if fresh.two_way else [],
        kind=fresh.kind,
        time_relation=fresh.time_relation,
        has_totals=fresh.has_totals,
        fixed_dims=dict(fresh.fixed_dims),
        row_dims=dict(fresh.row_dims),
        pattern_group=fresh.pattern_group,
        carried={},
        decimals=fresh.decimals,
        row_names=dict(layout.get("row_names") or {}),
    )
    assert table.carried is not None
    for cell in cells:
        if table.key(cell.row, cell.column) != cell.key:
            return None
        published = cell.status == "published"
        value = cell.value if published and cell.value is not None else math.nan
        table.cells[(cell.row, cell.column)] = CellData(value)
        status: Status = (
            "published" if published else ("primary" if cell.suppression == "primary" else "secondary")
        )
        table.carried[(cell.row, cell.column)] = status
    if len(table.cells) != sum(1 for _ in table.positions()):
        return None
    return table


def containment_relations(tables: Iterable[StatTable], prior: Iterable[PriorCell]) -> list[Relation]:
    """Courses (any sponsor's) of a subject are part of all CPD participation in that subject."""
    courses: dict[tuple[str, str], set[StatKey]] = defaultdict(set)
    keys: list[StatKey] = []
    for table in tables:
        if table.name == T_SPONSORED:
            keys.extend(table.key(row, VALUE) for row in table.rows)
    keys.extend(cell.key for cell in prior)
    for key in keys:
        subject = key.dim("subject")
        if key.measure == "cpd_participations" and key.dim("course") and subject:
            courses[(key.period, subject)].add(key)
    return [
        Relation.at_most(
            sorted(parts),
            StatKey.of("cpd_participations", period, {"subject": subject}),
            f"courses of {subject} within all {subject} participation",
        )
        for (period, subject), parts in sorted(courses.items())
    ]


# ------------------------------------------------------------------------------------------ release


@dataclass
class PublishedCell:
    """One cell as delivered. `value` (exact) and `suppression` stay in steward; files show `shown`."""

    row: str
    column: str
    key: str
    is_total: bool
    status: str  # published | suppressed
    suppression: str | None = None  # primary | secondary
    value: float | None = None
    shown: float | None = None
    required_width: float = 0.0

    @property
    def measure(self) -> str:
        return self.key.split("|", 1)[0]


@dataclass
class PublishedTable:
    """A delivered table: its layout and its cells (margins included)."""

    name: str
    title: str
    description: str
    measure: str
    unit: str
    kind: str
    row_dimension: str
    row_title: str
    column_dimension: str
    column_title: str | None
    two_way: bool
    has_totals: bool
    rows: list[str]
    columns: list[str]
    cells: dict[tuple[str, str], PublishedCell]
    row_names: dict[str, str] = field(default_factory=dict)
    decimals: int = 0
    carried_from: str | None = None

    def layout(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": self.title,
            "description": self.description,
            "measure": self.measure,
            "unit": self.unit,
            "kind": self.kind,
            "row_dimension": self.row_dimension,
            "row_title": self.row_title,
            "column_dimension": self.column_dimension,
            "column_title": self.column_title,
            "two_way": self.two_way,
            "has_totals": self.has_totals,
            "rows": self.rows,
            "columns": self.columns,
            "row_names": self.row_names,
            "decimals": self.decimals,
            "carried_from": self.carried_from,
        }

    @classmethod
    def from_layout(cls, layout: Mapping[str, Any], cells: Iterable[StoredCell]) -> PublishedTable:
        table = cls(
            name=layout["name"],
            title=layout["title"],
            description=layout["description"],
            measure=layout["measure"],
            unit=layout["unit"],
            kind=layout["kind"],
            row_dimension=layout["row_dimension"],
            row_title=layout["row_title"],
            column_dimension=layout["column_dimension"],
            column_title=layout["column_title"],
            two_way=layout["two_way"],
            has_totals=layout["has_totals"],
            rows=list(layout["rows"]),
            columns=list(layout["columns"]),
            cells={},
            row_names=dict(layout.get("row_names") or {}),
            decimals=int(layout.get("decimals") or 0),
            carried_from=layout.get("carried_from"),
        )
        for cell in cells:
            table.cells[(cell.row, cell.column)] = PublishedCell(
                cell.row,
                cell.column,
                cell.key.text(),
                cell.is_total,
                cell.status,
                cell.suppression,
                cell.value,
                cell.shown,
                cell.required_width,
            )
        return table

    def ordered_cells(self) -> list[PublishedCell]:
        return [self.cells[(r, c)] for r in self.rows for c in self.columns if (r, c) in self.cells]

    def display_row(self, row: str) -> str:
        return self.row_names.get(row, row)

    def display_column(self, column: str) -> str:
        if column == VALUE:
            return RESPONSES_COLUMN if self.name == T_IMPACT else self.unit.capitalize()
        return column


@dataclass
class FunderRelease:
    """Everything one release delivers, and the figures that prove it safe."""

    funder: Funder
    period: Period
    rules: DisclosureRules
    tables: list[PublishedTable]
    summary: dict[str, Any]
    created_at: datetime
    notes: list[str] = field(default_factory=list)

    def table(self, name: str) -> PublishedTable:
        return next(t for t in self.tables if t.name == name)


class FunderReleaseFailed(StewardError):
    """One or more releases of a run were not delivered (each reason is named)."""


class OutputContractViolation(StewardError):
    """A table broke its output contract; nothing was delivered. Names the table, rule and count."""


def _published_cells(
    table: StatTable, result: ProtectionResult, rules: DisclosureRules, prior: Mapping[StatKey, PriorCell]
) -> dict[tuple[str, str], PublishedCell]:
    cells: dict[tuple[str, str], PublishedCell] = {}
    for row, col in table.positions():
        key = table.key(row, col)
        status = result.status(key)
        data = table.cell(row, col)
        is_total = table.is_total(row, col) and table.has_totals
        if status == "published":
            shown = rules.publish_value(data.value, table.kind, table.decimals)
            cells[(row, col)] = PublishedCell(
                row, col, key.text(), is_total, "published", None, data.value, shown
            )
            continue
        if table.carried is not None:
            stored = prior.get(key)
            required = stored.required_width if stored is not None else 0.0
        else:
            required = rules.required_width(data, table.kind) if status == "primary" else 0.0
        cells[(row, col)] = PublishedCell(
            row, col, key.text(), is_total, "suppressed", status, None, None, required
        )
    return cells


def _impact_columns(
    table: PublishedTable,
    period: Period,
    rules: DisclosureRules,
    figures: Mapping[str, ImpactFigures],
    carried: StoredRelease | None,
) -> None:
    stored = {(c.row, c.column): c for c in carried.table_cells(T_IMPACT)} if carried else {}
    table.columns = [VALUE, MEAN_COLUMN, MEDIAN_COLUMN]
    for row in table.rows:
        responses = table.cells[(row, VALUE)]
        for column, measure in ((MEAN_COLUMN, "impact_mean"), (MEDIAN_COLUMN, "impact_median")):
            key = StatKey.of(measure, period.label, {"impact_measure": row}).text()
            if carried is not None:
                old = stored.get((row, column))
                value = old.value if old is not None and old.status == "published" else None
            else:
                figure = figures.get(row)
                enough = figure is not None and figure.contributors >= rules.min_contributors_for_mean
                raw = None if figure is None else (figure.mean if measure == "impact_mean" else figure.median)
                value = raw if enough and responses.status == "published" else None
            if value is None:
                table.cells[(row, column)] = PublishedCell(row, column, key, False, "suppressed", "primary")
            else:
                shown = round(value, 2)
                table.cells[(row, column)] = PublishedCell(
                    row, column, key, False, "published", None, value, shown
                )


def publish_tables(
    tables: Sequence[StatTable],
    result: ProtectionResult,
    rules: DisclosureRules,
    period: Period,
    impact: Mapping[str, ImpactFigures],
    prior: Iterable[PriorCell],
    carried_from: StoredRelease | None,
) -> list[PublishedTable]:
    """The delivered form of each protected table."""
    by_key = {cell.key: cell for cell in prior}
    published: list[PublishedTable] = []
    for table in tables:
        out = PublishedTable(
            name=table.name,
            title=table.title,
            description=table.description,
            measure=table.measure,
            unit=table.unit,
            kind=table.kind,
            row_dimension=table.row_dim,
            row_title=table.row_title,
            column_dimension=table.col_dim or "value",
            column_title=table.col_title,
            two_way=table.two_way,
            has_totals=table.has_totals,
            rows=table.grid_rows,
            columns=table.grid_cols,
            cells=_published_cells(table, result, rules, by_key),
            row_names=dict(table.row_names),
            decimals=table.decimals,
            carried_from=(
                carried_from.created_at.date().isoformat()
                if table.carried is not None and carried_from is not None
                else None
            ),
        )
        if table.name == T_IMPACT:
            _impact_columns(out, period, rules, impact, carried_from if table.carried is not None else None)
        published.append(out)
    return published


# ------------------------------------------------------------------------------- output contract

FRAME_COLUMNS = (
    "table",
    "period",
    "row_dimension",
    "row",
    "column_dimension",
    "column",
    "measure",
    "unit",
    "value",
    "status",
    "is_total",
)


def table_rows(table: PublishedTable, period: str) -> list[dict[str, Any]]:
    """The tidy rows of a delivered table, exactly as its CSV holds them."""
    rows = []
    for cell in table.ordered_cells():
        measure = cell.measure
        unit = "score" if measure in ("impact_mean", "impact_median") else table.unit
        rows.append(
            {
                "table": table.name,
                "period": period,
                "row_dimension": table.row_dimension,
                "row": table.display_row(cell.row),
                "column_dimension": table.column_dimension,
                "column": table.display_column(cell.column),
                "measure": measure,
                "unit": unit,
                "value": cell.shown,  # None when suppressed (the contract checks it is)
                "status": cell.status,
                "is_total": cell.is_total,
            }
        )
    return rows


def table_frame(table: PublishedTable, period: str) -> pd.DataFrame:
    import pandas as pd

    rows = table_rows(table, period)
    frame = pd.DataFrame(rows, columns=list(FRAME_COLUMNS))
    frame["value"] = pd.to_numeric(frame["value"], errors="coerce").astype("float64")
    frame["is_total"] = frame["is_total"].astype(bool)
    for column in FRAME_COLUMNS:
        if column not in ("value", "is_total"):
            frame[column] = frame[column].astype("str")
    return frame


def _line_tolerance(rules: DisclosureRules, table: PublishedTable, parts: int) -> float:
    if table.kind == "count" and rules.rounding_base > 1:
        return (parts + 1) * rules.rounding_base / 2.0
    step = 0.5 * 10 ** (-table.decimals) if table.kind == "magnitude" else 0.5
    return (parts + 1) * step + 1e-9


def check_published_table(
    table: PublishedTable, period: str, rules: DisclosureRules, frame: pd.DataFrame | None = None
) -> list[str]:
    """Every rule of the funder_table contract this table breaks, as 'rule: n cells' (never values)."""
    frame = table_frame(table, period) if frame is None else frame
    problems = _contract_problems(frame) + _disclosure_problems(table, frame, rules)
    return [f"table {table.name!r}: {problem}" for problem in problems]


def _contract_problems(frame: pd.DataFrame) -> list[str]:
    """The contract's own rules (Great Expectations) and its columns, on one or many tables' rows."""
    from tasks.contracts import load_contract, validate_frame

    problems: list[str] = []
    contract = load_contract("funder_table")
    extra = [c for c in frame.columns if not contract.has_column(str(c))]
    personal = [p.name for p in contract.properties if p.personal]
    if extra or personal:
        problems.append(f"funder_table.no_identifying_columns: {len(extra) + len(personal)} column(s)")
    report = validate_frame(contract, frame)
    problems += [result.describe() for result in report.blocking_failures]
    return problems


def _disclosure_problems(table: PublishedTable, frame: pd.DataFrame, rules: DisclosureRules) -> list[str]:
    """The rules that depend on the release's parameters: threshold, empty suppressed cells, totals."""
    problems: list[str] = []
    below = 0
    mismatched = 0
    for _index, row in frame.iterrows():
        value, status = row["value"], row["status"]
        has_value = value is not None and not (isinstance(value, float) and math.isnan(value))
        if (status == "suppressed") == has_value:
            mismatched += 1
        counted = status == "published" and row["measure"] in COUNT_MEASURES and has_value
        if counted and (
            0 < float(value) < rules.threshold or (float(value) == 0 and rules.zero_cells == "suppress")
        ):
            below += 1
    if below:
        problems.append(f"funder_table.count_threshold: {below} published count(s) below {rules.threshold}")
    if mismatched:
        problems.append(f"funder_table.suppressed_means_empty: {mismatched} cell(s)")

    inconsistent = 0
    if table.has_totals:
        shown = {pos: cell.shown for pos, cell in table.cells.items() if cell.status == "published"}
        inner_rows = [r for r in table.rows if r != TOTAL]
        if table.two_way:
            inner_cols = [c for c in table.columns if c != TOTAL]
            lines = [((r, TOTAL), [(r, c) for c in inner_cols]) for r in table.rows]
            lines += [((TOTAL, c), [(r, c) for r in inner_rows]) for c in inner_cols]
        else:
            lines = [((TOTAL, VALUE), [(r, VALUE) for r in inner_rows])]
        for total, parts in lines:
            if total not in shown or shown[total] is None:
                continue
            known = [shown[p] or 0.0 for p in parts if p in shown]
            tolerance = _line_tolerance(rules, table, len(parts))
            total_value = float(shown[total] or 0.0)
            if len(known) == len(parts):
                if abs(total_value - sum(known)) > tolerance:
                    inconsistent += 1
            elif sum(known) - total_value > tolerance:
                inconsistent += 1
    if inconsistent:
        problems.append(f"funder_table.totals_consistent: {inconsistent} total(s) disagree with their cells")
    return problems


def check_release(release: FunderRelease) -> None:
    """The output contract on every table of the release; raises before anything is delivered.

    The contract's own rules run once over the rows of all tables together (one validation instead
    of one per table); the disclosure rules run table by table.
    """
    import pandas as pd

    frames = [table_frame(table, release.period.label) for table in release.tables]
    problems = [f"release: {problem}" for problem in _contract_problems(pd.concat(frames, ignore_index=True))]
    for table, frame in zip(release.tables, frames, strict=True):
        problems += [f"table {table.name!r}: {p}" for p in _disclosure_problems(table, frame, release.rules)]
    if problems:
        raise OutputContractViolation(
            f"funder statistics for {release.funder.name} {release.period.label} broke their output "
            f"contract (nothing was delivered): {'; '.join(problems)}"
        )


# ------------------------------------------------------------------------------------ preparation


def prepare_release(
    conn: Connection,
    funder: Funder,
    period: Period,
    rules: DisclosureRules | None = None,
    progress: ProgressCallback = no_progress,
) -> FunderRelease:
    """Compile, protect and check one release (nothing is written)."""
    rules = rules or rules_from_settings()
    stored = [
        release
        for release in load_releases(conn, [p.label for p in period.family()])
        if not (release.funder.slug == funder.slug and release.period == period.label)
    ]
    same_period = [release for release in stored if release.period == period.label]
    carried_from = same_period[0] if same_period else None
    # Tables already released for this period are repeated as first published; only the others are
    # aggregated (all of them when none was released yet).
    current = compile_general_tables(None, period, rules)  # the layouts
    carried = {t.name: carried_table(t, carried_from) for t in current.tables} if carried_from else {}
    if any(carried.get(t.name) is None for t in current.tables):
        rows = fetch_general_rows_in_parallel(conn.engine, period, rules)
        current = compile_general_tables(None, period, rules, rows)
    sponsored = compile_sponsored_table(conn, funder, period)
    progress(1)
    tables: list[StatTable] = []
    carried_names: list[str] = []
    for table in current.tables:
        kept = carried.get(table.name)
        tables.append(kept or table)
        if kept is not None:
            carried_names.append(table.name)
    if sponsored is not None:
        tables.append(sponsored)

    context: list[StatTable] = []
    context_periods: list[str] = []
    if any(release.period != period.label for release in stored):
        for other in period.family():
            if other.label == period.label:
                continue
            rows = fetch_general_rows_in_parallel(conn.engine, other, rules)
            context.extend(compile_general_tables(None, other, rules, rows).tables)
            other_sponsored = compile_sponsored_table(conn, funder, other)
            if other_sponsored is not None:
                context.append(other_sponsored)
            context_periods.append(other.label)
            progress(1)

    prior = prior_cells(stored)
    relations = prior_relations(stored) + containment_relations([*tables, *context], prior)
    problem = DisclosureProblem(tables, rules, context=context, prior=prior, relations=relations)
    result = protect(problem, progress)
    # The gate: an audit of the final pattern on a system built afresh from the problem, independent
    # of the heuristic's own bookkeeping. Nothing is delivered unless it passes.
    proof = audit_pattern(SystemStructure(problem), result.pattern, exact=False)
    proof.raise_if_exposed()
    result.audit = proof
    published = publish_tables(tables, result, rules, period, current.impact, prior, carried_from)
    primary = sum(1 for s in result.pattern.values() if s == "primary")
    secondary = sum(1 for s in result.pattern.values() if s == "secondary")
    audit = result.audit
    narrowest = audit.narrowest
    summary = {
        "tables": len(published),
        "cells": sum(len(t.cells) for t in published),
        "suppressed_cells": sum(1 for t in published for c in t.cells.values() if c.status == "suppressed"),
        "primary_suppressions": primary,
        "secondary_suppressions": secondary,
        "sensitive_statistics_audited": len(audit.intervals),
        "linear_programmes": audit.linear_programs,
        "narrowest_protection_ratio": (
            None
            if narrowest is None
            else (None if math.isinf(narrowest.width) else round(narrowest.width / narrowest.required, 3))
        ),
        "suppression_rounds": result.rounds,
        "protection_seconds": round(result.seconds, 3),
        "carried_tables": carried_names,
        "carried_from": carried_from.created_at.isoformat() if carried_from is not None else None,
        "context_periods": context_periods,
        "earlier_releases_considered": len(stored),
    }
    notes = []
    if carried_names:
        notes.append(
            f"The tables every funder receives were first published for {period.label} on "
            f"{carried_from.created_at.date().isoformat() if carried_from else ''}; they are repeated "
            "exactly as first published, so that releases of one period always agree."
        )
    release = FunderRelease(funder, period, rules, published, summary, utc_now(), notes)
    check_release(release)
    return release


# -------------------------------------------------------------------------------------- delivery


def release_directory(funder: Funder, period: Period, output_dir: Path | None = None) -> Path:
    return (output_dir or get_settings().output_dir) / "funders" / funder.slug / period.label


def _csv_text(rows: list[dict[str, Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(FRAME_COLUMNS), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        value = row["value"]
        out = dict(row)
        if value is None:
            out["value"] = ""
        elif float(value).is_integer():
            out["value"] = str(int(value))
        else:
            out["value"] = f"{value:g}"
        out["is_total"] = "true" if row["is_total"] else "false"
        writer.writerow(out)
    return buffer.getvalue()


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def render_files(release: FunderRelease) -> dict[str, bytes]:
    """Every file of the release, by name: a CSV per table, the HTML report, the manifest."""
    from tasks.funder_report import render_report

    files: dict[str, bytes] = {}
    for table in release.tables:
        files[f"{table.name}.csv"] = _csv_text(table_rows(table, release.period.label)).encode("utf-8")
    files["report.html"] = render_report(release).encode("utf-8")
    manifest = {
        "funder": release.funder.name,
        "funder_slug": release.funder.slug,
        "period": release.period.label,
        "period_start": release.period.start.isoformat(),
        "period_end": release.period.end.isoformat(),
        "created_at": release.created_at.replace(microsecond=0).isoformat() + "Z",
        "produced_by": f"steward {steward.__version__}",
        "disclosure_control": {
            "parameters": release.rules.as_dict(),
            "method": (
                "primary suppression (frequency rule on distinct people, dominance rule on hours); "
                "secondary suppression against row and column totals, linked tables, the other periods "
                "of the year and every earlier release; an audit by linear programming proving each "
                "suppressed sensitive cell keeps its protection width"
            ),
            "audit": {
                key: release.summary.get(key)
                for key in (
                    "sensitive_statistics_audited",
                    "linear_programmes",
                    "narrowest_protection_ratio",
                    "suppressed_cells",
                    "cells",
                    "earlier_releases_considered",
                )
            },
        },
        "tables": [{"name": t.name, "title": t.title, "file": f"{t.name}.csv"} for t in release.tables],
        "files": [
            {"name": name, "sha256": _sha256(data), "bytes": len(data)}
            for name, data in sorted(files.items())
        ],
    }
    files["manifest.json"] = (json.dumps(manifest, indent=2, sort_keys=False) + "\n").encode("utf-8")
    return files


def write_files(files: Mapping[str, bytes], directory: Path) -> None:
    """Write the release's files so the folder is complete or absent, never half-written."""
    directory.parent.mkdir(parents=True, exist_ok=True)
    staging = directory.with_name(f".{directory.name}.incoming-{os.getpid()}")
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir()
    for name, data in files.items():
        path = staging / name
        with open(path, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
    old = directory.with_name(f".{directory.name}.replaced-{os.getpid()}")
    if directory.exists():
        directory.rename(old)
    staging.rename(directory)
    if old.exists():
        shutil.rmtree(old)


def files_intact(directory: Path, manifest_sha256: str | None) -> bool:
    """The delivered folder still holds every file with the checksum its manifest records."""
    manifest_path = directory / "manifest.json"
    if not manifest_path.is_file():
        return False
    data = manifest_path.read_bytes()
    if manifest_sha256 is not None and _sha256(data) != manifest_sha256:
        return False
    manifest = json.loads(data)
    for entry in manifest.get("files", []):
        path = directory / entry["name"]
        if not path.is_file() or _sha256(path.read_bytes()) != entry["sha256"]:
            return False
    return True


def store_release(conn: Connection, release: FunderRelease) -> int:
    """Keep the release and its cells (status `prepared`) for the audits of later releases."""
    release_id = conn.execute(
        insert(funder_releases).returning(funder_releases.c.id),
        {
            "funder_slug": release.funder.slug,
            "funder_name": release.funder.name,
            "period": release.period.label,
            "period_start": release.period.start,
            "period_end": release.period.end,
            "status": "prepared",
            "parameters": json.dumps(release.rules.as_dict(), sort_keys=True),
            "tables": json.dumps([t.layout() for t in release.tables]),
            "summary": json.dumps(release.summary, sort_keys=True, default=str),
            "created_at": release.created_at,
            "run_id": current_run_id(),
        },
    ).scalar_one()
    rows = []
    for table in release.tables:
        for position, cell in enumerate(table.ordered_cells()):
            rows.append(
                {
                    "release_id": release_id,
                    "table_name": table.name,
                    "position": position,
                    "row_label": cell.row,
                    "column_label": cell.column,
                    "stat_key": cell.key,
                    "is_total": cell.is_total,
                    "status": cell.status,
                    "suppression": cell.suppression,
                    "value": cell.value,
                    "shown": cell.shown,
                    "required_width": cell.required_width,
                }
            )
    if rows:
        conn.execute(insert(funder_release_cells), rows)
    return int(release_id)


def load_release(conn: Connection, stored: StoredRelease) -> FunderRelease:
    """A stored release in the form its files are rendered from (to deliver it again)."""
    tables = [
        PublishedTable.from_layout(layout, stored.table_cells(layout["name"])) for layout in stored.layouts
    ]
    parameters = dict(stored.parameters)
    notes = list(stored.summary.get("notes", []))
    return FunderRelease(
        stored.funder,
        parse_period(stored.period),
        DisclosureRules(**parameters),
        tables,
        stored.summary,
        stored.created_at,
        notes,
    )


@dataclass(frozen=True)
class ReleaseOutcome:
    """What a release run did; counts and paths only."""

    funder: str
    funder_slug: str
    period: str
    outcome: str  # delivered | already_delivered | redelivered
    directory: str
    tables: int
    cells: int
    suppressed_cells: int
    sensitive_statistics_audited: int

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _outcome(release: FunderRelease, outcome: str, directory: Path) -> ReleaseOutcome:
    return ReleaseOutcome(
        release.funder.name,
        release.funder.slug,
        release.period.label,
        outcome,
        str(directory),
        len(release.tables),
        int(release.summary.get("cells", 0)),
        int(release.summary.get("suppressed_cells", 0)),
        int(release.summary.get("sensitive_statistics_audited", 0)),
    )


def _mark_delivered(engine: Engine, release_id: int, directory: Path, files: Mapping[str, bytes]) -> str:
    """Record that the release's files are written; returns the manifest's SHA-256."""
    manifest_sha = _sha256(files["manifest.json"])
    with engine.begin() as conn:
        conn.execute(
            update(funder_releases)
            .where(funder_releases.c.id == release_id)
            .values(
                status="delivered",
                delivered_at=utc_now(),
                output_path=str(directory),
                manifest_sha256=manifest_sha,
            )
        )
    return manifest_sha


def _deliver_stored(engine: Engine, stored: StoredRelease, directory: Path) -> FunderRelease:
    """Write a stored release's files again, exactly as first rendered, and mark it delivered."""
    with engine.connect() as conn:
        release = load_release(conn, stored)
    files = render_files(release)
    write_files(files, directory)
    _mark_delivered(engine, stored.id, directory, files)
    return release


def release_statistics(
    funder_name: str,
    period_text: str,
    *,
    url: str | None = None,
    today: date | None = None,
    rules: DisclosureRules | None = None,
    progress: ProgressCallback = no_progress,
) -> ReleaseOutcome:
    """Release one funder's statistics for one period: compile, protect, audit, check, deliver.

    Safe to run again: a release already delivered is checked (its files against its manifest) and
    left alone, or written again from the stored cells if its files are missing; a release stored but
    not yet written (a crash) is written. A release whose audit or output contract fails is not
    delivered; the error names the exposed cells or the broken rules.
    """
    engine = get_engine(url)
    period = parse_period(period_text, today)
    if period.end >= (today or today_local()):
        raise ConfigurationError(
            f"period {period.label} has not ended yet (it ends on {period.end.isoformat()}); release it "
            "once it is over"
        )
    with engine.connect() as conn:
        funder = resolve_funder(conn, funder_name)
        existing = next(
            (r for r in load_releases(conn, [period.label]) if r.funder.slug == funder.slug), None
        )
    directory = release_directory(funder, period)
    if existing is not None:
        if existing.status == "delivered" and files_intact(directory, existing.manifest_sha256):
            with engine.connect() as conn:
                release = load_release(conn, existing)
            return _outcome(release, "already_delivered", directory)
        release = _deliver_stored(engine, existing, directory)
        return _outcome(release, "redelivered", directory)

    with engine.connect() as conn:
        try:
            release = prepare_release(conn, funder, period, rules, progress)
        except (DisclosureAuditFailed, UnprotectableRelease) as error:
            with engine.begin() as audit_conn:
                write_audit(
                    audit_conn,
                    "funder_release_refused",
                    rule="disclosure_audit",
                    detail={"funder": funder.slug, "period": period.label, "reason": str(error)[:2000]},
                )
            raise
    release.summary["notes"] = release.notes
    with engine.begin() as conn:
        release_id = store_release(conn, release)
    files = render_files(release)
    write_files(files, directory)
    manifest_sha = _mark_delivered(engine, release_id, directory, files)
    with engine.begin() as conn:
        write_audit(
            conn,
            "funder_release_delivered",
            rule="funder_statistics",
            detail={
                "funder": funder.slug,
                "period": period.label,
                "release_id": release_id,
                "tables": len(release.tables),
                "suppressed_cells": release.summary["suppressed_cells"],
                "manifest_sha256": manifest_sha,
            },
        )
    publish_release_artifact(release, directory)
    return _outcome(release, "delivered", directory)


def publish_release_artifact(release: FunderRelease, directory: Path) -> None:
    """The keyed Prefect artifact of a release: counts, parameters and the files, no cell values."""
    from tasks.artifacts import markdown_table, publish_markdown

    summary = release.summary
    rows = [
        (
            t.title,
            sum(1 for c in t.cells.values()),
            sum(1 for c in t.cells.values() if c.status == "suppressed"),
            "carried" if t.carried_from else "new",
        )
        for t in release.tables
    ]
    rules = release.rules
    markdown = "\n".join(
        [
            f"Release of **{release.funder.name}**, {release.period.label} ({release.period.describe()}).",
            "",
            f"- threshold {rules.threshold} people; zero cells: {rules.zero_cells}; dominance "
            f"({rules.dominance_n}, {rules.dominance_k:g}%); protection width {rules.protection_width:g} "
            f"(hours: at least {rules.magnitude_protection_percent:g}% of the cell); rounding: "
            f"{'nearest ' + str(rules.rounding_base) if rules.rounding_base > 1 else 'none'}",
            f"- {summary['suppressed_cells']} of {summary['cells']} cells suppressed; the audit proved "
            f"{summary['sensitive_statistics_audited']} sensitive statistics protected "
            f"({summary['linear_programmes']} linear programmes)",
            f"- earlier releases considered: {summary['earlier_releases_considered']}; other periods "
            f"checked for differencing: {', '.join(summary['context_periods']) or 'none'}",
            f"- files: `{directory}`",
            "",
            markdown_table(["table", "cells", "suppressed", "figures"], rows),
        ]
    )
    publish_markdown(
        f"funder-statistics-{release.funder.slug}",
        markdown,
        f"Funder statistics: {release.funder.name} {release.period.label}",
    )


# ----------------------------------------------------------------------------------- Prefect tasks


@task(name="funders-to-release", persist_result=False)
def funders_to_release_task(funder: str | None = None) -> list[str]:
    """The funders a run releases: the one named, or every known funder."""
    with get_engine().connect() as conn:
        if funder:
            return [resolve_funder(conn, funder).name]
        return [info.funder.name for info in list_funders(conn)]


@task(name="release-funder-statistics", persist_result=False)
def release_statistics_task(funder: str, period: str) -> dict[str, Any]:
    """One funder's release (counts and paths only in the result)."""
    return release_statistics(funder, period).as_dict()

"""`steward demo-data`: reproducible, complete, referentially sound synthetic data on both engines."""

from __future__ import annotations

import csv
import hashlib
import stat
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from steward.cli import _register_commands, app
from tasks.calendar import add_months, add_years
from tasks.db import get_engine, upgrade_database
from tasks.demo_data import (
    GENERATED_TABLES,
    KEYWORDS_CSV,
    DatabaseNotEmpty,
    DemoDataSummary,
    SchemaMissing,
    generate_demo_data,
)
from tasks.demo_vocabulary import EMPLOYERS, FUNDERS, RESEARCH_PARTNERS
from tasks.schema import metadata

_register_commands()
runner = CliRunner()

TODAY = date(2026, 1, 15)
ACCOUNTS = 400
REGIONS = {
    "North East", "North West", "Yorkshire and The Humber", "East Midlands", "West Midlands", "East of England",
    "London", "South East", "South West", "Wales", "Scotland", "Northern Ireland",
}  # fmt: skip
OBFUSCATION_MARKS = ("\u200b", "\u200c", "\u200d", "\u2060")


def _generate(url: str | None = None, **options: Any) -> DemoDataSummary:
    arguments: dict[str, Any] = {"accounts": ACCOUNTS, "seed": 7, "today": TODAY, "export_dir": None}
    arguments.update(options)
    return generate_demo_data(url=url, **arguments)


def _fresh_sqlite(path: Path) -> str:
    url = f"sqlite:///{path}"
    upgrade_database(url)
    return url


def _canonical(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, float):
        return repr(value)
    return value


def _digests(url: str | None = None) -> dict[str, str]:
    """One hash per table over every row in primary-key order, with engine-neutral values."""
    digests = {}
    with get_engine(url).connect() as conn:
        for name in GENERATED_TABLES:
            table = metadata.tables[name]
            digest = hashlib.sha256()
            for row in conn.execute(sa.select(table).order_by(*table.primary_key.columns)):
                digest.update(repr(tuple(_canonical(value) for value in row)).encode())
            digests[name] = digest.hexdigest()
    return digests


def _rows(conn: sa.Connection, statement: sa.Select[Any]) -> list[sa.Row[Any]]:
    return list(conn.execute(statement))


def _straddles(
    values: Iterable[date | datetime | None], cutoff: date, outside: tuple[int, int] = (-5, -2)
) -> bool:
    """Some value lies 2-5 days before the cutoff (outside the limit), and some 2-5 days after it (inside)."""
    days = {(v.date() if isinstance(v, datetime) else v) for v in values if v is not None}
    before = any(cutoff + timedelta(outside[0]) <= d <= cutoff + timedelta(outside[1]) for d in days)
    after = any(cutoff + timedelta(2) <= d <= cutoff + timedelta(5) for d in days)
    return before and after


# ----------------------------------------------------------------------------------- reproducibility


def test_same_seed_and_today_give_identical_rows_and_another_seed_differs(tmp_path: Path) -> None:
    first = _fresh_sqlite(tmp_path / "first.db")
    second = _fresh_sqlite(tmp_path / "second.db")
    other = _fresh_sqlite(tmp_path / "other.db")
    summary = _generate(first, export_dir=tmp_path / "export-1")
    assert _generate(second, export_dir=tmp_path / "export-2").rows == summary.rows
    _generate(other, seed=8)

    assert _digests(first) == _digests(second)
    assert (tmp_path / "export-1" / "bounce-export.csv").read_bytes() == (
        tmp_path / "export-2" / "bounce-export.csv"
    ).read_bytes()
    differing = {name for name, digest in _digests(other).items() if digest != _digests(first)[name]}
    assert {"accounts", "posts", "cpd_bookings"} <= differing


def test_the_summary_counts_what_is_in_the_database_and_progress_covers_every_account(
    sqlite_url: str,
) -> None:
    advanced: list[int] = []
    summary = _generate(progress=advanced.append)
    assert sum(advanced) == ACCOUNTS
    with get_engine().connect() as conn:
        for name, count in summary.rows.items():
            assert (
                conn.execute(sa.select(sa.func.count()).select_from(metadata.tables[name])).scalar() == count
            )
    assert summary.rows["accounts"] == ACCOUNTS
    assert summary.total_rows >= 8 * ACCOUNTS  # about 10 rows per account across the tables
    assert all(summary.rows[name] > 0 for name in GENERATED_TABLES)


# ------------------------------------------------------------------------------- refusal and replace


def test_refuses_a_database_with_data_unless_replace(db_url: str) -> None:
    first = _generate()
    with pytest.raises(DatabaseNotEmpty, match="--replace"):
        _generate(seed=99)
    before = _digests()
    again = _generate(replace=True)
    assert again.rows == first.rows and again.replaced
    assert _digests() == before  # emptied first, then the same data again


def test_replace_empties_tables_the_generator_does_not_fill(sqlite_url: str) -> None:
    plans = metadata.tables["plans"]
    with get_engine().begin() as conn:
        conn.execute(
            sa.insert(plans).values(kind="retention", status="draft", created_at=datetime(2025, 1, 1))
        )
    with pytest.raises(DatabaseNotEmpty):
        _generate()
    _generate(replace=True)
    with get_engine().connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(plans)).scalar() == 0


def test_requires_the_schema(tmp_path: Path) -> None:
    with pytest.raises(SchemaMissing, match="steward db init"):
        _generate(f"sqlite:///{tmp_path / 'empty.db'}")


# ------------------------------------------------------------------------------------- the content


@pytest.fixture
def demo(sqlite_url: str) -> DemoDataSummary:
    return _generate()


def test_every_retention_limit_has_rows_just_inside_and_just_outside(demo: DemoDataSummary) -> None:
    t = metadata.tables
    six_months, two_years, eight_years = add_months(TODAY, -6), add_years(TODAY, -2), add_years(TODAY, -8)
    year_end = date(TODAY.year, 3, 31)
    while add_years(year_end, 6) >= TODAY:
        year_end = date(year_end.year - 1, 3, 31)
    with get_engine().connect() as conn:

        def column(table: str, name: str, *where: Any) -> list[Any]:
            return [row[0] for row in conn.execute(sa.select(t[table].c[name]).where(*where))]

        jobs = t["job_applications"]
        assert _straddles(
            column("job_applications", "decided_at", jobs.c.outcome == "unsuccessful"), six_months
        )
        assert _straddles(column("information_requests", "closed_at"), six_months)
        assert _straddles(column("survey_responses", "submitted_at"), two_years)
        accounts = t["accounts"]
        never = column("accounts", "registered_at", accounts.c.last_sign_in_at.is_(None))
        assert _straddles(never, two_years)
        assert _straddles(column("accounts", "last_activity_at"), two_years)
        profiles = t["ambassador_profiles"]
        idle_ambassadors = column("ambassador_profiles", "joined_on", profiles.c.last_activity_on.is_(None))
        assert _straddles(idle_ambassadors, two_years)
        assert _straddles(column("ambassador_profiles", "last_activity_on"), two_years)
        bookings, courses = t["cpd_bookings"], t["cpd_courses"]
        booked_course_ends = conn.execute(sa.select(courses.c.ends_on).join(bookings)).scalars()
        assert _straddles(booked_course_ends, eight_years)
        assert _straddles(column("ambassador_activities", "ended_on"), eight_years)
        assert _straddles(column("impact_records", "activity_ended_on"), eight_years)
        # Finance: records dated on or before the last expired year end are outside, after it inside.
        assert _straddles(column("invoices", "issued_on"), year_end, outside=(-3, 0))
        assert _straddles(column("payments", "paid_on"), year_end, outside=(-3, 0))
        assert any(year_end < d <= year_end + timedelta(4) for d in column("invoices", "issued_on"))


def test_nothing_happens_on_or_after_today_except_scheduled_courses(demo: DemoDataSummary) -> None:
    t = metadata.tables
    checks = [
        ("accounts", "registered_at"),
        ("accounts", "last_activity_at"),
        ("accounts", "updated_at"),
        ("posts", "created_at"),
        ("posts", "updated_at"),
        ("email_events", "occurred_at"),
        ("cpd_bookings", "booked_at"),
        ("impact_records", "recorded_at"),
        ("legal_holds", "placed_at"),
    ]
    with get_engine().connect() as conn:
        for table, name in checks:
            latest = conn.execute(sa.select(sa.func.max(t[table].c[name]))).scalar_one()
            assert latest < datetime.combine(TODAY, datetime.min.time()), (table, name)
        for table, name in [
            ("payments", "paid_on"),
            ("invoices", "issued_on"),
            ("ambassador_activities", "ended_on"),
        ]:
            assert conn.execute(sa.select(sa.func.max(t[table].c[name]))).scalar_one() < TODAY
        assert conn.execute(sa.select(sa.func.max(t["cpd_courses"].c.ends_on))).scalar_one() > TODAY
        statuses = set(conn.execute(sa.select(t["cpd_bookings"].c.status).distinct()).scalars())
    assert {"booked", "attended", "cancelled"} <= statuses  # finished and future (active) bookings


def test_every_value_fits_its_column(demo: DemoDataSummary) -> None:
    """PostgreSQL enforces varchar lengths where SQLite does not."""
    with get_engine().connect() as conn:
        for name in GENERATED_TABLES:
            for column in metadata.tables[name].columns:
                length = getattr(column.type, "length", None)
                if length is not None:
                    longest = conn.execute(sa.select(sa.func.max(sa.func.length(column)))).scalar() or 0
                    assert longest <= length, f"{name}.{column.name}: {longest} > {length}"


def test_only_ambassadors_have_profiles_and_every_ambassador_has_one(demo: DemoDataSummary) -> None:
    accounts, profiles = metadata.tables["accounts"], metadata.tables["ambassador_profiles"]
    with get_engine().connect() as conn:
        joined = _rows(conn, sa.select(accounts.c.account_type, profiles.c.account_id).outerjoin(profiles))
        ethnicities = set(conn.execute(sa.select(profiles.c.ethnicity)).scalars()) - {None}
    assert all((kind == "ambassador") == (profile is not None) for kind, profile in joined)
    assert {kind for kind, _ in joined} == {"educator", "ambassador"}
    assert any(":" in e for e in ethnicities)  # ONS-style "Group: category"


def test_accounts_look_real_and_their_emails_are_unique(demo: DemoDataSummary) -> None:
    accounts = metadata.tables["accounts"]
    with get_engine().connect() as conn:
        rows = _rows(conn, sa.select(accounts))
    emails = [row.email for row in rows]
    assert len({email.lower() for email in emails}) == len(emails)
    assert all(email.count("@") == 1 and "." in email.split("@")[1] for email in emails)
    assert {row.region for row in rows} <= REGIONS and len({row.region for row in rows}) >= 10
    assert {row.school_phase for row in rows} - {None} == {
        "primary",
        "secondary",
        "post-16",
        "special",
        "all-through",
    }
    assert any(row.restricted for row in rows)
    assert {row.email_status for row in rows} <= {"ok", "bounced"}


def test_request_records_are_keyed_by_email_and_some_belong_to_account_holders(demo: DemoDataSummary) -> None:
    t = metadata.tables
    with get_engine().connect() as conn:
        holders = {email.lower() for email in conn.execute(sa.select(t["accounts"].c.email)).scalars()}
        for table in ("job_applications", "information_requests"):
            emails = [e.lower() for e in conn.execute(sa.select(t[table].c.email)).scalars()]
            assert any(e in holders for e in emails), table
            assert any(e not in holders for e in emails), table


def test_keyword_list_is_well_formed(demo: DemoDataSummary) -> None:
    with KEYWORDS_CSV.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        assert reader.fieldnames == ["term", "category", "match_mode", "action"]
        rows = list(reader)
    assert len(rows) >= 40
    assert {r["category"] for r in rows} == {"terrorism", "csea", "hate", "violence", "fraud", "organisation"}
    assert {r["match_mode"] for r in rows} == {"word", "phrase", "prefix", "anywhere"}
    assert {r["action"] for r in rows} == {"hold", "alert"}
    assert len({r["term"] for r in rows}) == len(rows)


def test_keyword_terms_are_planted_in_a_small_share_of_posts_some_disguised(demo: DemoDataSummary) -> None:
    with KEYWORDS_CSV.open(newline="", encoding="utf-8") as handle:
        terms = [row["term"] for row in csv.DictReader(handle)]
    posts = metadata.tables["posts"]
    with get_engine().connect() as conn:
        bodies = list(conn.execute(sa.select(posts.c.body)).scalars())
    assert all(200 <= len(body) <= 1000 for body in bodies)

    def plain(body: str) -> bool:
        return any(term in body.lower() for term in terms)

    def disguised(body: str) -> bool:
        return any(
            ch in OBFUSCATION_MARKS or "\u0370" <= ch <= "\u04ff" or "\uff01" <= ch <= "\uff5e" for ch in body
        )

    places = ("Scamblesby", "Killamarsh", "Gunnislake", "River Isis")
    marked = [
        body for body in bodies if disguised(body) or (plain(body) and not any(p in body for p in places))
    ]
    assert any(plain(body) and not disguised(body) for body in marked)
    assert sum(disguised(body) for body in bodies) >= 5
    assert 0.005 <= len(marked) / len(bodies) <= 0.06
    # The "Scunthorpe problem": clean posts naming a place that contains a listed word.
    assert sum(any(place in body for place in places) for body in bodies) >= 3


def test_referential_integrity_holds(demo: DemoDataSummary) -> None:
    with get_engine().connect() as conn:
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall() == []


def test_personal_data_goes_to_research_partners_and_funders_only_with_consent(demo: DemoDataSummary) -> None:
    accounts, shares = metadata.tables["accounts"], metadata.tables["data_shares"]
    with get_engine().connect() as conn:
        rows = _rows(
            conn,
            sa.select(
                shares.c.recipient, accounts.c.consent_research, accounts.c.consent_employer_sharing
            ).join(accounts),
        )
    research = [r for r in rows if r.recipient in RESEARCH_PARTNERS]
    funders = [r for r in rows if r.recipient in FUNDERS]
    employers = [r for r in rows if r.recipient in EMPLOYERS]
    assert research and funders and employers
    assert len(research) + len(funders) + len(employers) == len(rows)
    assert all(r.consent_research for r in research + funders)
    assert all(r.consent_employer_sharing for r in employers)


def test_staged_email_events_carry_smtp_and_enhanced_status_codes(demo: DemoDataSummary) -> None:
    events = metadata.tables["email_events"]
    with get_engine().connect() as conn:
        rows = _rows(conn, sa.select(events.c.event_type, events.c.enhanced_status))
    kinds = {r.event_type for r in rows}
    codes = {r.enhanced_status for r in rows if r.event_type == "bounce"}
    assert {"bounce", "delivery"} <= kinds
    assert any(code.startswith("5.") for code in codes) and any(code.startswith("4.") for code in codes)


def test_the_provider_export_is_owner_only_and_holds_messy_and_broken_rows(
    sqlite_url: str, tmp_path: Path
) -> None:
    summary = _generate(export_dir=tmp_path / "demo", accounts=600)
    path = tmp_path / "demo" / "bounce-export.csv"
    assert summary.export_path == path and summary.export_rows > 0
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        assert reader.fieldnames == [
            "email",
            "event",
            "smtp_status",
            "enhanced_status",
            "diagnostic",
            "occurred_at",
        ]
        rows = list(reader)
    assert len(rows) == summary.export_rows
    assert any(r["email"] == "" for r in rows)
    assert any(r["event"] not in {"bounce", "complaint", "delivery"} for r in rows)

    def well_formed(stamp: str) -> bool:
        try:
            datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ")
        except ValueError:
            return False
        return True

    assert any(not well_formed(r["occurred_at"]) for r in rows)
    assert any(r["email"] != r["email"].strip() for r in rows)
    assert any(r["email"] != r["email"].lower() for r in rows)
    assert {"5.1.1", "5.1.2", "5.1.10"} & {r["enhanced_status"] for r in rows}
    with get_engine().connect() as conn:
        holders = {e.lower() for e in conn.execute(sa.select(metadata.tables["accounts"].c.email)).scalars()}
    assert any(r["email"].strip().lower() in holders for r in rows)


# ------------------------------------------------------------------------------------------- engines


def test_postgresql_and_sqlite_hold_the_same_data(db_url: str, tmp_path: Path) -> None:
    summary = _generate(accounts=150)
    reference = _fresh_sqlite(tmp_path / "reference.db")
    assert _generate(reference, accounts=150).rows == summary.rows
    assert _digests() == _digests(reference)
    # Later inserts that let the database pick the id do not collide with the generated ids.
    holds = metadata.tables["legal_holds"]
    with get_engine().begin() as conn:
        new_id = conn.execute(
            sa.insert(holds)
            .values(reason="test", placed_at=datetime(2025, 1, 1), placed_by="test")
            .returning(holds.c.id)
        ).scalar_one()
    assert new_id == summary.rows["legal_holds"] + 1
    if get_engine().dialect.name == "postgresql":
        with get_engine().begin() as conn:
            for name in GENERATED_TABLES:
                table = metadata.tables[name]
                if "id" in table.columns and name != "legal_holds":
                    next_id = conn.execute(
                        sa.text("select nextval(pg_get_serial_sequence(:name, 'id'))"), {"name": name}
                    ).scalar()
                    assert next_id == summary.rows[name] + 1, name


# ----------------------------------------------------------------------------------------------- CLI


def test_cli_generates_refuses_and_replaces(sqlite_url: str, tmp_path: Path) -> None:
    arguments = ["demo-data", "--accounts", "120", "--seed", "3", "--today", "2026-01-15"]
    first = runner.invoke(app, [*arguments, "--export-dir", str(tmp_path / "x")])
    assert first.exit_code == 0, first.output
    assert "accounts" in first.output and "total" in first.output
    assert (tmp_path / "x" / "bounce-export.csv").exists()
    refused = runner.invoke(app, arguments)
    assert refused.exit_code != 0
    assert "--replace" in str(refused.exception) + refused.output
    replaced = runner.invoke(app, [*arguments, "--replace", "--export-dir", ""])
    assert replaced.exit_code == 0, replaced.output
    assert "provider export" not in replaced.output


def test_cli_default_export_goes_to_the_output_dir(sqlite_url: str) -> None:
    from steward.settings import get_settings

    result = runner.invoke(app, ["demo-data", "--accounts", "60", "--today", "2026-01-15"])
    assert result.exit_code == 0, result.output
    assert (get_settings().output_dir / "demo" / "bounce-export.csv").exists()


def test_cli_rejects_a_bad_date(sqlite_url: str) -> None:
    result = runner.invoke(app, ["demo-data", "--accounts", "60", "--today", "15/01/2026"])
    assert result.exit_code != 0
    assert "YYYY-MM-DD" in str(result.exception) + result.output

"""Funder statistics on hand-made CRM rows: what is counted (and what is not), the release as delivered,
its report without network, the output contract, reruns, other funders and differencing against
earlier releases, and a weak suppression caught before anything is delivered."""

from __future__ import annotations

import csv
import hashlib
import json
from datetime import date
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from funders_rows import (
    FUNDER,
    OTHER_FUNDER,
    PARTICIPATION,
    SENTINEL,
    build_quarter,
    build_year_with_small_q4,
)

from steward.settings import get_settings
from tasks.db import get_engine
from tasks.disclosure import TOTAL, VALUE, DisclosureAuditFailed, DisclosureRules, StatTable
from tasks.funders import (
    DIMENSION_SOURCES,
    T_ACTIVITIES,
    T_GENDER,
    T_HOURS,
    T_IMPACT,
    T_PHASE,
    T_REGION_SUBJECT,
    T_SPONSORED,
    OutputContractViolation,
    UnknownFunder,
    UnpublishableDimension,
    check_dimensions,
    check_published_table,
    check_release,
    compile_general_tables,
    compile_sponsored_table,
    list_funders,
    parse_period,
    prepare_release,
    release_statistics,
    resolve_funder,
    table_frame,
)

TODAY = date(2026, 11, 20)


def _csv(path: Path) -> dict[tuple[str, str], dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return {(row["row"], row["column"]): row for row in csv.DictReader(handle)}


def _everything_written(root: Path) -> str:
    return "\n".join(p.read_text(encoding="utf-8", errors="replace") for p in root.rglob("*") if p.is_file())


# ----------------------------------------------------------------------------------------- periods


def test_periods() -> None:
    q3 = parse_period("2026-Q3")
    assert (q3.start, q3.end, q3.is_quarter) == (date(2026, 7, 1), date(2026, 9, 30), True)
    assert parse_period("2026").end == date(2026, 12, 31)
    assert parse_period("2024-Q1").end == date(2024, 3, 31)
    assert parse_period("previous-quarter", date(2026, 11, 20)).label == "2026-Q3"
    assert parse_period("previous-quarter", date(2026, 2, 1)).label == "2025-Q4"
    assert parse_period("previous-year", date(2026, 2, 1)).label == "2025"
    assert [p.label for p in q3.family()] == ["2026", "2026-Q1", "2026-Q2", "2026-Q3", "2026-Q4"]
    with pytest.raises(Exception, match="expected a quarter like 2026-Q3"):
        parse_period("2026-Q5")


# ------------------------------------------------------------------------------------ compilation


def test_compiled_tables_count_people_and_leave_restricted_accounts_out(db_url: str) -> None:
    engine = get_engine(db_url)
    with engine.begin() as conn:
        build_quarter(conn)
    with engine.connect() as conn:
        compiled = compile_general_tables(conn, parse_period("2026-Q2"), DisclosureRules())
        sponsored = compile_sponsored_table(conn, resolve_funder(conn, FUNDER), parse_period("2026-Q2"))
        funders = [info.funder.name for info in list_funders(conn)]
    grid = compiled.get(T_REGION_SUBJECT)
    assert grid is not None
    # The restricted educator, the cancelled booking and the course of another quarter are not counted.
    assert {pos: cell.value for pos, cell in grid.cells.items() if TOTAL not in pos} == PARTICIPATION
    assert {pos: cell.contributors for pos, cell in grid.cells.items() if TOTAL not in pos} == PARTICIPATION
    assert (
        grid.cell("North", TOTAL).value,
        grid.cell(TOTAL, "Biology").value,
        grid.cell(TOTAL, TOTAL).value,
    ) == (
        30,
        17,
        75,
    )
    phases = compiled.get(T_PHASE)
    assert phases is not None
    assert {row: phases.cell(row, VALUE).value for row in phases.grid_rows} == {
        "primary": 30,
        "secondary": 45,
        TOTAL: 75,
    }
    activities, hours = compiled.get(T_ACTIVITIES), compiled.get(T_HOURS)
    assert activities is not None and hours is not None
    assert activities.cell("North", "talk").value == 12  # the restricted ambassador's activity is left out
    assert hours.cell("North", "talk").value == pytest.approx(24.0)
    south_talk = hours.cell("South", "talk")
    assert (south_talk.value, south_talk.contributors, south_talk.top_n) == pytest.approx((50.0, 11, 41.0))
    gender = compiled.get(T_GENDER)
    assert gender is not None
    assert gender.cell(TOTAL, VALUE).value == 35 and gender.cell("Non-binary", VALUE).value == 5
    impact = compiled.impact
    assert (impact["teacher_confidence"].mean, impact["teacher_confidence"].median) == pytest.approx(
        (3.5, 3.5)
    )
    assert impact["pupil_engagement"].contributors == 4
    assert sponsored is not None
    assert [(row, sponsored.cell(row, VALUE).value) for row in sponsored.grid_rows][-1] == (TOTAL, 11)
    assert sorted(funders) == sorted([FUNDER, OTHER_FUNDER])


def test_special_category_data_appears_only_as_one_way_counts(monkeypatch: pytest.MonkeyPatch) -> None:
    def table(row_dim: str, col_dim: str | None = None, kind: str = "count") -> StatTable:
        return StatTable(
            name="x",
            title="x",
            measure="m",
            period="2026",
            unit="people",
            row_dim=row_dim,
            row_title=row_dim,
            rows=[],
            cells={},
            col_dim=col_dim,
            col_title=col_dim,
            kind="magnitude" if kind == "magnitude" else "count",
        )

    check_dimensions([table("ethnic_group"), table("region", "subject")])
    with pytest.raises(
        UnpublishableDimension, match="special_category data and may only appear as a one-way"
    ):
        check_dimensions([table("ethnic_group", "region")])
    with pytest.raises(UnpublishableDimension, match="date_of_birth is identity"):
        check_dimensions([table("age_band", kind="magnitude")])
    monkeypatch.setitem(DIMENSION_SOURCES, "email", ("accounts", "email"))  # type: ignore[index]
    with pytest.raises(UnpublishableDimension, match="accounts.email is classified contact"):
        check_dimensions([table("email")])


# ---------------------------------------------------------------------------------------- release


@pytest.fixture
def quarter_db(sqlite_url: str) -> str:
    with get_engine(sqlite_url).begin() as conn:
        build_quarter(conn)
    return sqlite_url


def test_release_delivers_protected_tables_a_report_and_a_manifest(quarter_db: str) -> None:
    outcome = release_statistics(FUNDER, "2026-Q2", today=TODAY)
    directory = Path(outcome.directory)
    assert outcome.outcome == "delivered"
    assert directory == get_settings().output_dir / "funders" / "test-funder-trust" / "2026-Q2"
    names = sorted(p.name for p in directory.iterdir())
    assert "report.html" in names and "manifest.json" in names and f"{T_SPONSORED}.csv" in names
    assert len([n for n in names if n.endswith(".csv")]) == 9

    manifest = json.loads((directory / "manifest.json").read_text())
    assert manifest["disclosure_control"]["parameters"]["threshold"] == 10
    for entry in manifest["files"]:
        assert hashlib.sha256((directory / entry["name"]).read_bytes()).hexdigest() == entry["sha256"]
    assert {entry["name"] for entry in manifest["files"]} == set(names) - {"manifest.json"}

    grid = _csv(directory / f"{T_REGION_SUBJECT}.csv")
    hidden = {("North", "Biology"), ("North", "Physics"), ("South", "Biology"), ("South", "Physics")}
    for (region, subject), people in PARTICIPATION.items():
        row = grid[(region, subject)]
        if (region, subject) in hidden:
            assert (row["status"], row["value"]) == ("suppressed", "")
        else:
            assert (row["status"], row["value"]) == ("published", str(people))
    assert grid[("Total", "Total")]["value"] == "75" and grid[("North", "Total")]["is_total"] == "true"
    statuses = {row["status"] for path in directory.glob("*.csv") for row in _csv(path).values()}
    assert statuses == {"published", "suppressed"}  # never why a cell is suppressed

    for name in (T_ACTIVITIES, T_HOURS):  # one pattern for activities and hours
        table = _csv(directory / f"{name}.csv")
        assert table[("South", "fair")]["status"] == table[("South", "talk")]["status"] == "suppressed"
    impact = _csv(directory / f"{T_IMPACT}.csv")
    assert impact[("teacher_confidence", "Mean score")]["value"] == "3.5"
    assert impact[("pupil_engagement", "Mean score")]["status"] == "suppressed"
    assert impact[("pupil_engagement", "Responses")]["status"] == "suppressed"

    engine = get_engine(quarter_db)
    with engine.connect() as conn:
        release = conn.execute(sa.text("select status, manifest_sha256 from funder_releases")).one()
        cell = conn.execute(
            sa.text(
                "select status, suppression, value, required_width from funder_release_cells "
                "where table_name = :t and row_label = 'North' and column_label = 'Biology'"
            ),
            {"t": T_REGION_SUBJECT},
        ).one()
        stored = conn.execute(sa.text("select * from funder_release_cells")).all()
        events = conn.execute(sa.text("select event, detail from audit_log")).all()
    assert release.status == "delivered"
    assert release.manifest_sha256 == hashlib.sha256((directory / "manifest.json").read_bytes()).hexdigest()
    assert tuple(cell) == ("suppressed", "primary", None, 10.0)
    assert [e.event for e in events] == ["funder_release_delivered"]

    # No personal data anywhere: files, the artifact report, the stored release, the audit trail.
    written = _everything_written(get_settings().output_dir)
    stored_text = repr(stored) + repr(events)
    for text in (written, stored_text):
        assert SENTINEL.lower() not in text.lower() and "example.org" not in text and "YO1" not in text
    assert (get_settings().output_dir / "reports" / "funder-statistics-test-funder-trust.md").is_file()


class _Refs(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.refs: list[tuple[str, str, str]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        for name, value in attrs:
            if name in ("src", "href", "xlink:href", "action", "srcset", "data", "poster", "background"):
                self.refs.append((tag, name, value or ""))
            if name == "style" or name == "fill":
                self.refs.append((tag, name, value or ""))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def test_the_report_opens_with_no_network(quarter_db: str) -> None:
    outcome = release_statistics(FUNDER, "2026-Q2", today=TODAY)
    html = (Path(outcome.directory) / "report.html").read_text(encoding="utf-8")
    parser = _Refs()
    parser.feed(html)
    assert not {"script", "link", "img", "iframe", "object", "embed", "base"} & set(parser.tags)
    for tag, name, value in parser.refs:
        if name in ("style", "fill"):
            assert "url(" not in value or value.startswith("url(#"), (tag, name)
        else:
            assert value.startswith("#"), (tag, name, value)  # only links within the page
    assert "http:" not in html and "https:" not in html and "//" not in html.replace("<!--", "")
    assert "@import" not in html and "@font-face" not in html
    assert "svg" in parser.tags and "table" in parser.tags
    text = " ".join(parser.text)
    assert "Statistics for Test Funder Trust" in text and "April to June 2026 (2026-Q2)" in text
    assert text.count("[c]") >= 4 and "How these figures protect people" in text
    assert 'class="total suppressed"' in html or 'class="suppressed"' in html


def test_a_rerun_does_nothing_and_restores_missing_files(quarter_db: str) -> None:
    first = release_statistics(FUNDER, "2026-Q2", today=TODAY)
    directory = Path(first.directory)
    before = {p.name: p.read_bytes() for p in directory.iterdir()}
    assert release_statistics(FUNDER, "2026-Q2", today=TODAY).outcome == "already_delivered"
    (directory / "report.html").unlink()
    (directory / f"{T_PHASE}.csv").write_text("tampered")
    again = release_statistics(FUNDER, "2026-Q2", today=TODAY)
    assert again.outcome == "redelivered"
    assert {p.name: p.read_bytes() for p in directory.iterdir()} == before  # byte for byte
    with get_engine(quarter_db).connect() as conn:
        assert conn.execute(sa.text("select count(*) from funder_releases")).scalar_one() == 1


def test_another_funder_gets_the_same_general_tables_for_the_same_quarter(quarter_db: str) -> None:
    first = Path(release_statistics(FUNDER, "2026-Q2", today=TODAY).directory)
    second = Path(release_statistics(OTHER_FUNDER, "2026-Q2", today=TODAY).directory)
    for name in (T_REGION_SUBJECT, T_PHASE, T_ACTIVITIES, T_HOURS, T_GENDER, T_IMPACT):
        assert (first / f"{name}.csv").read_bytes() == (second / f"{name}.csv").read_bytes()
    assert _csv(second / f"{T_SPONSORED}.csv")[("Total", "Participations")]["value"] == "0"
    assert "As first published on" in (second / "report.html").read_text()


def test_unknown_funder_and_unfinished_period_are_refused(quarter_db: str) -> None:
    with pytest.raises(UnknownFunder, match="known funders: Other Funder Fund, Test Funder Trust"):
        release_statistics("Nobody", "2026-Q2", today=TODAY)
    with pytest.raises(Exception, match="has not ended yet"):
        release_statistics(FUNDER, "2026-Q4", today=TODAY)


def test_a_weak_suppression_is_caught_by_the_audit_and_nothing_is_delivered(
    quarter_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tasks.funders as funders
    from tasks.disclosure.secondary import ProtectionResult, SecondarySuppression

    def primary_only(problem: Any, progress: Any = None) -> ProtectionResult:
        heuristic = SecondarySuppression(problem)
        pattern, reasons = heuristic.primary_pattern()
        return ProtectionResult(
            pattern, reasons, funders.audit_pattern(heuristic.structure, {}), heuristic.structure, 1, 0.0
        )

    monkeypatch.setattr(funders, "protect", primary_only)
    with pytest.raises(DisclosureAuditFailed) as caught:
        release_statistics(FUNDER, "2026-Q2", today=TODAY)
    message = str(caught.value)
    assert "table 'cpd_by_region_and_subject', cell North × Biology, period 2026-Q2" in message
    assert "[3, 3]" in message and SENTINEL.lower() not in message.lower()
    assert not (get_settings().output_dir / "funders").exists()
    with get_engine(quarter_db).connect() as conn:
        assert conn.execute(sa.text("select count(*) from funder_releases")).scalar_one() == 0
        [(event, detail)] = conn.execute(sa.text("select event, detail from audit_log")).all()
    assert event == "funder_release_refused" and "North × Biology" in json.loads(detail)["reason"]


def test_the_output_contract_fails_on_a_bad_table(quarter_db: str) -> None:
    with get_engine(quarter_db).connect() as conn:
        release = prepare_release(conn, resolve_funder(conn, FUNDER), parse_period("2026-Q2"))
    check_release(release)  # the real release passes
    grid = release.table(T_REGION_SUBJECT)
    rules = release.rules

    small = grid.cells[("North", "Biology")]
    small.status, small.shown = "published", 3.0  # a small count published
    problems = check_published_table(grid, "2026-Q2", rules)
    assert any("count_threshold: 1 published count(s) below 10" in p for p in problems)

    small.status, small.shown = "suppressed", 3.0  # a suppressed cell that still carries its value
    assert any(
        "suppressed_means_empty: 1 cell(s)" in p for p in check_published_table(grid, "2026-Q2", rules)
    )

    small.shown = None
    grid.cells[("Total", "Maths")].shown = 99.0  # a total that disagrees with its cells (12 + 20)
    assert any("totals_consistent" in p for p in check_published_table(grid, "2026-Q2", rules))
    with pytest.raises(OutputContractViolation, match="nothing was delivered") as caught:
        check_release(release)
    assert "99" not in str(caught.value)

    grid.cells[("Total", "Maths")].shown = 32.0
    frame = table_frame(grid, "2026-Q2")
    frame["email"] = "someone"  # an identifying column
    problems = check_published_table(grid, "2026-Q2", rules, frame)
    assert any("no_identifying_columns" in p for p in problems)
    assert any("funder_table.columns" in p for p in problems)


def test_differencing_against_earlier_releases_of_the_year_is_prevented(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with get_engine(db_url).begin() as conn:
        build_year_with_small_q4(conn)
    today = date(2027, 2, 1)
    for quarter in ("2026-Q1", "2026-Q2", "2026-Q3"):
        directory = Path(release_statistics(FUNDER, quarter, today=today).directory)
        assert _csv(directory / f"{T_REGION_SUBJECT}.csv")[("North", "Biology")]["status"] == "published"
    # Blind to the earlier releases, the year's North x Biology (35 people) would simply be published.
    import tasks.funders as funders

    with monkeypatch.context() as blind, get_engine(db_url).connect() as conn:
        blind.setattr(funders, "load_releases", lambda conn, periods: [])
        naive = prepare_release(conn, resolve_funder(conn, OTHER_FUNDER), parse_period("2026"))
    assert naive.table(T_REGION_SUBJECT).cells[("North", "Biology")].status == "published"
    year = Path(release_statistics(OTHER_FUNDER, "2026", today=today).directory)
    grid = _csv(year / f"{T_REGION_SUBJECT}.csv")
    # Published, the year's North x Biology (35) minus the three quarters (10 + 11 + 12) would give
    # Q4's 2 people away. It is suppressed, with partners; every Q4 cell stays unrecoverable.
    assert grid[("North", "Biology")]["status"] == "suppressed"
    assert sum(row["status"] == "suppressed" for row in grid.values()) >= 4
    manifest = json.loads((year / "manifest.json").read_text())
    assert manifest["disclosure_control"]["audit"]["earlier_releases_considered"] == 3
    with get_engine(db_url).connect() as conn:
        summary = json.loads(
            conn.execute(sa.text("select summary from funder_releases where period = '2026'")).scalar_one()
        )
    assert summary["context_periods"] == ["2026-Q1", "2026-Q2", "2026-Q3", "2026-Q4"]
    assert summary["sensitive_statistics_audited"] >= 1


def test_rounding_to_five_rounds_every_count_and_each_total_on_its_own(
    quarter_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from steward.settings import reset_settings_cache

    monkeypatch.setenv("STEWARD_FUNDERS_ROUNDING_BASE", "5")
    reset_settings_cache()
    directory = Path(release_statistics(FUNDER, "2026-Q2", today=TODAY).directory)
    grid = _csv(directory / f"{T_REGION_SUBJECT}.csv")
    published = {pos: float(row["value"]) for pos, row in grid.items() if row["status"] == "published"}
    assert all(value % 5 == 0 for value in published.values())
    # Rounded on their own: North x Maths 12 -> 10, South x Maths 20 -> 20, Maths total 32 -> 30.
    assert (published[("North", "Maths")], published[("South", "Maths")], published[("Total", "Maths")]) == (
        10,
        20,
        30,
    )
    assert published[("Total", "Total")] == 75 and published[("North", "Total")] == 30
    manifest = json.loads((directory / "manifest.json").read_text())
    assert manifest["disclosure_control"]["parameters"]["rounding_base"] == 5
    assert "rounded to the nearest 5" in (directory / "report.html").read_text()

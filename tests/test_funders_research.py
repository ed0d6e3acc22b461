"""Research extracts (consent only, pseudonyms per recipient, every share logged, owner-only encrypted
file), the funder_statistics flow under Prefect, and the `steward funders` commands."""

from __future__ import annotations

import csv
import io
import json
import stat
from datetime import date
from pathlib import Path

import pytest
import pyzipper
import sqlalchemy as sa
from funders_rows import FUNDER, SENTINEL, Crm, build_quarter
from typer.testing import CliRunner

from steward.settings import get_settings
from tasks.audit import keyed_hash
from tasks.db import get_engine
from tasks.research_extract import create_research_extract, pseudonym


def _people(db_url: str) -> dict[str, int]:
    with get_engine(db_url).begin() as conn:
        crm = Crm(conn)
        people = {
            "consents": crm.person("North", consent_research=True),
            "consents_too": crm.ambassador(consent_research=True, region="South"),
            "no_consent": crm.person("North"),
            "consents_but_restricted": crm.person("South", consent_research=True, restricted=True),
        }
        crm.booking(people["consents"], crm.course("Maths", date(2026, 5, 1)))
        crm.activity(people["consents_too"], "South", "talk", 2.5, date(2026, 5, 1))
        crm.impact(people["consents"], "teacher_confidence", 4.0, date(2026, 5, 1))
    return people


def _open(path: Path, password: str) -> tuple[list[dict[str, str]], str]:
    with pyzipper.AESZipFile(path) as archive:
        archive.setpassword(password.encode())
        rows = list(csv.DictReader(io.StringIO(archive.read("research-extract.csv").decode())))
        readme = archive.read("README.txt").decode()
    return rows, readme


def test_research_extract_only_with_consent_and_pseudonyms_differ_by_recipient(db_url: str) -> None:
    people = _people(db_url)
    york = create_research_extract("University of York", "pw-york-11111", today=date(2026, 11, 20))
    leeds = create_research_extract("Leeds STEM Lab", "pw-leeds-22222", today=date(2026, 11, 20))
    assert (york.people, leeds.people) == (2, 2)

    york_rows, readme = _open(york.path, "pw-york-11111")
    leeds_rows, _ = _open(leeds.path, "pw-leeds-22222")
    consenting = [people["consents"], people["consents_too"]]
    assert {r["pseudonym"] for r in york_rows} == {pseudonym(i, "University of York") for i in consenting}
    assert {r["pseudonym"] for r in leeds_rows} == {pseudonym(i, "Leeds STEM Lab") for i in consenting}
    assert not {r["pseudonym"] for r in york_rows} & {r["pseudonym"] for r in leeds_rows}
    assert pseudonym(people["consents"], "university of york ") == pseudonym(
        people["consents"], "University of York"
    )
    assert pseudonym(people["consents"], "University of York") == keyed_hash(
        str(people["consents"]), purpose="research:university of york"
    )
    by_type = {r["account_type"]: r for r in york_rows}
    assert by_type["educator"]["cpd_courses_attended"] == "1"
    assert by_type["ambassador"]["ambassador_hours"] == "2.5"
    assert set(york_rows[0]) == {
        "pseudonym", "account_type", "region", "school_phase", "subject", "registration_year",
        "cpd_courses_attended", "ambassador_activities", "ambassador_hours", "impact_responses",
        "mean_impact_score",
    }  # fmt: skip
    content = json.dumps(york_rows) + readme
    assert SENTINEL.lower() not in content.lower() and "example.org" not in content
    assert str(people["consents"]) not in {r["pseudonym"] for r in york_rows}

    # Encrypted and owner-only: no password, no data.
    assert stat.S_IMODE(york.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(york.path.parent.stat().st_mode) == 0o700
    with pyzipper.AESZipFile(york.path) as archive, pytest.raises(RuntimeError):
        archive.read("research-extract.csv")

    with get_engine(db_url).connect() as conn:
        shares = conn.execute(
            sa.text("select account_id, recipient, dataset, lawful_basis, pseudonymised from data_shares")
        ).all()
        audit = conn.execute(sa.text("select event, detail from audit_log")).all()
    assert sorted((s.account_id, s.recipient) for s in shares) == sorted(
        [(i, "University of York") for i in consenting] + [(i, "Leeds STEM Lab") for i in consenting]
    )
    assert {(s.dataset, s.lawful_basis, bool(s.pseudonymised)) for s in shares} == {
        ("research_extract", "consent", True)
    }
    assert [a.event for a in audit] == ["research_extract_shared"] * 2
    assert json.loads(audit[0].detail)["people"] == 2


@pytest.mark.flow
def test_the_funder_statistics_flow_releases_and_publishes_its_artifacts(
    sqlite_url: str, prefect_harness: None
) -> None:
    from flows.funder_statistics import funder_statistics

    with get_engine(sqlite_url).begin() as conn:
        build_quarter(conn)
    result = funder_statistics(funder=FUNDER, period="2026-Q2")
    assert result == {"releases": 1, "delivered": 1}
    assert funder_statistics(funder=FUNDER, period="2026-Q2") == {"releases": 1, "delivered": 0}
    reports = get_settings().output_dir / "reports"
    summary = (reports / "funder-statistics.md").read_text()
    assert "Test Funder Trust" in summary and "already_delivered" in summary
    release_report = (reports / "funder-statistics-test-funder-trust.md").read_text()
    assert "cells suppressed" in release_report
    assert SENTINEL.lower() not in (summary + release_report).lower()


def test_the_cli_lists_releases_and_extracts(quarter_cli_db: str) -> None:
    from steward.cli import _register_commands, app

    if not any(group.name == "funders" for group in app.registered_groups):
        _register_commands()
    runner = CliRunner()
    released = runner.invoke(
        app, ["funders", "release", "--funder", "test-funder-trust", "--period", "2026-Q2"]
    )
    assert released.exit_code == 0, released.output
    assert "Test Funder Trust 2026-Q2: delivered" in released.output
    listed = runner.invoke(app, ["funders", "list"])
    assert listed.exit_code == 0 and "2026-Q2" in listed.output
    extract = runner.invoke(app, ["funders", "research-extract", "--recipient", "University of York"])
    assert extract.exit_code == 0, extract.output
    assert "Password of the extract" in extract.output and "people" in extract.output


@pytest.fixture
def quarter_cli_db(sqlite_url: str) -> str:
    with get_engine(sqlite_url).begin() as conn:
        build_quarter(conn)
    return sqlite_url

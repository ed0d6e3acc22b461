"""`steward sar`: the register with its legal deadlines, and a package produced from the command line."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from steward.cli import _register_commands, app
from steward.errors import ConfigurationError
from tasks.db import begin
from tasks.subject_access.package import verify_package
from tasks.subject_access.service import NotReady
from tasks.subject_access.synthetic import generate_people

_register_commands()
runner = CliRunner()

PASSWORD = re.compile(r"^\s+([A-Za-z0-9]{5}(?:-[A-Za-z0-9]{5}){4})$", re.MULTILINE)


def _id(output: str) -> int:
    match = re.search(r"registered subject access request (\d+)", output)
    assert match, output
    return int(match.group(1))


@pytest.mark.parametrize(
    ("received", "verified_on", "extend", "due"),
    [
        ("2026-01-31", None, False, "2026-03-02"),  # 28 February 2026 is a Saturday
        ("2028-01-31", None, False, "2028-02-29"),  # leap year: the corresponding date exists
        ("2028-02-29", None, False, "2028-03-29"),  # received on a leap day
        ("2027-12-31", None, False, "2028-01-31"),  # across the year end
        ("2027-02-26", None, False, "2027-03-30"),  # 26 March 2027 is Good Friday, then Easter Monday
        ("2026-11-25", None, False, "2026-12-29"),  # Christmas, the weekend, the substitute Boxing Day
        ("2026-11-30", "2026-12-03", False, "2027-01-04"),  # later identity check; 3 January is a Sunday
        ("2026-11-30", "2026-12-03", True, "2027-03-03"),  # extended from the later identity check
        ("2026-11-30", None, True, "2027-03-01"),  # 30 November + 3 months: 28 February (a Sunday)
    ],
)
def test_the_register_sets_the_legal_deadline(
    sqlite_url: str, received: str, verified_on: str | None, extend: bool, due: str
) -> None:
    registered = runner.invoke(app, ["sar", "request", "--email", "a@post.example", "--received", received])
    assert registered.exit_code == 0, registered.output
    request_id = _id(registered.output)
    if verified_on:
        verified = runner.invoke(app, ["sar", "verify", str(request_id), "--on", verified_on])
        assert verified.exit_code == 0, verified.output
    if extend:
        extended = runner.invoke(app, ["sar", "extend", str(request_id), "--reason", "several systems"])
        assert extended.exit_code == 0, extended.output
    shown = runner.invoke(app, ["sar", "show", str(request_id)])
    assert re.search(rf"^due\s+{due}$", shown.output, re.MULTILINE), shown.output


def test_list_puts_overdue_first_and_prints_emails_only_when_asked(sqlite_url: str) -> None:
    runner.invoke(app, ["sar", "request", "--email", "later@post.example", "--verified"])
    runner.invoke(
        app, ["sar", "request", "--email", "Late@Post.example", "--received", "2020-01-06", "--verified"]
    )
    runner.invoke(app, ["sar", "request", "--email", "waiting@post.example"])
    listing = runner.invoke(app, ["sar", "list"], env={"COLUMNS": "200"})
    assert listing.exit_code == 0, listing.output
    assert "@" not in listing.output
    rows = [line for line in listing.output.splitlines() if re.match(r"^│\s+\d+", line)]
    assert len(rows) == 3
    assert "overdue" in rows[0] and "2020-02-06" in rows[0]
    assert "awaiting identity check" in listing.output and "1 request(s) overdue" in listing.output
    with_emails = runner.invoke(app, ["sar", "list", "--emails"], env={"COLUMNS": "200"})
    assert "late@post.example" in with_emails.output


def test_run_prints_the_password_once_and_the_package_opens_with_it(sqlite_url: str) -> None:
    with begin() as conn:
        population = generate_people(conn, 3)
    person = population.people[0]
    registered = runner.invoke(app, ["sar", "request", "--account-id", str(person.account_id)])
    request_id = _id(registered.output)
    assert "steward sar verify" in registered.output
    refused = runner.invoke(app, ["sar", "run", str(request_id)])
    assert refused.exit_code != 0 and isinstance(refused.exception, NotReady)
    assert "awaits its identity check" in str(refused.exception)
    runner.invoke(app, ["sar", "verify", str(request_id)])
    produced = runner.invoke(app, ["sar", "run", str(request_id)])
    assert produced.exit_code == 0, produced.output
    passwords = PASSWORD.findall(produced.output)
    assert len(passwords) == 1
    assert "values identifying other people were redacted" in produced.output
    assert person.token not in produced.output  # counts, paths and checksums only
    zip_path = re.search(r"package: (\S+)", produced.output)
    assert zip_path
    from pathlib import Path

    files = verify_package(Path(zip_path.group(1)), passwords[0])
    assert "data.json" in files
    shown = runner.invoke(app, ["sar", "show", str(request_id)])
    assert "completed" in shown.output and "matches the register" in shown.output
    assert "@" not in shown.output
    again = runner.invoke(app, ["sar", "run", str(request_id)])
    assert again.exit_code != 0 and "already completed" in str(again.exception)


def test_bad_input_is_a_clear_error(sqlite_url: str) -> None:
    bad_date = runner.invoke(app, ["sar", "request", "--email", "a@post.example", "--received", "31/01/2026"])
    assert isinstance(bad_date.exception, ConfigurationError)
    assert "--received '31/01/2026': expected a date as YYYY-MM-DD" in str(bad_date.exception)
    nothing = runner.invoke(app, ["sar", "request"])
    assert "needs an email address or an account id" in str(nothing.exception)
    missing = runner.invoke(app, ["sar", "verify", "404"])
    assert "no request with id 404" in str(missing.exception)
    no_account = runner.invoke(app, ["sar", "request", "--account-id", "999"])
    assert "no account 999" in str(no_account.exception)

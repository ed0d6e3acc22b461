"""Subject access: every table of the map reached, other people redacted, the package complete and
protected, the 'no data held' answer, and the contract that stops a leaking package."""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
import zipfile
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, insert, select

from steward.settings import get_settings
from tasks.calendar import utc_now
from tasks.contracts import ContractViolation
from tasks.personal_data import personal_data_map
from tasks.requests import get_request, view_request
from tasks.schema import audit_log, job_applications
from tasks.subject_access import service
from tasks.subject_access.extract import extraction_order, reaches_people
from tasks.subject_access.model import REDACTED
from tasks.subject_access.package import (
    PASSWORD_ALPHABET,
    PackageError,
    generate_password,
    read_package,
    verify_package,
)
from tasks.subject_access.synthetic import Population, generate_people


class Passwords:
    """Collects the password a run announces (the DPO's terminal, in the tests)."""

    def __init__(self) -> None:
        self.by_request: dict[int, str] = {}

    def __call__(self, request_id: int, password: str) -> None:
        self.by_request[request_id] = password


def _request(engine: Engine, email: str, **options: Any) -> int:
    with engine.begin() as conn:
        return service.register_from_parameters(conn, email, identity_verified=True, **options)


def _produce(engine: Engine, request_id: int, **options: Any) -> tuple[service.RunResult, dict[str, bytes]]:
    passwords = Passwords()
    result = service.produce_package(request_id, announce_password=passwords, **options)
    return result, read_package(result.zip_path, passwords.by_request[request_id])


def _population(engine: Engine, count: int = 5) -> Population:
    with engine.begin() as conn:
        return generate_people(conn, count)


def _reachable_tables() -> set[str]:
    return {name for name, entry in personal_data_map().items() if reaches_people(entry)}


def _link_columns(kinds: tuple[str, ...]) -> dict[str, set[str]]:
    columns: dict[str, set[str]] = {}
    for name, entry in personal_data_map().items():
        for link in entry.links:
            if link.kind in kinds:
                columns.setdefault(name, set()).add(link.column)
    return columns


# ---------------------------------------------------------------------------------------- the extract


def test_every_table_the_map_links_to_a_person_is_reached(engine: Engine) -> None:
    population = _population(engine)
    person = population.people[0]
    request_id = _request(engine, person.email)
    with engine.begin() as conn:
        extract = service.build_extract(conn, request_id)
    counts = extract.counts()
    # Every table of the map with a link steward can follow, and nothing else, in the map's order.
    assert set(counts) == _reachable_tables()
    assert all(count > 0 for count in counts.values()), counts
    assert list(counts) == [name for name in extraction_order(personal_data_map()) if name in counts]
    # The account found from the address; both identifiers searched.
    assert extract.identifiers.account_ids == {person.account_id}
    assert extract.identifiers.emails == {person.email}
    # Tables about nobody that the person's rows point at come as context (a booking's course).
    referenced = {name for name, entry in personal_data_map().items() if not reaches_people(entry)}
    assert extract.reference and set(extract.reference) <= referenced


def test_a_request_by_account_id_finds_the_address_and_the_records_keyed_by_it(engine: Engine) -> None:
    population = _population(engine, 3)
    person = population.people[1]
    with engine.begin() as conn:
        request_id = service.register_from_parameters(conn, None, account_id=person.account_id)
        assert get_request(conn, request_id)["email"] == person.email
        extract = service.build_extract(conn, request_id)
    email_only = [
        record
        for category in extract.categories
        for record in category.records
        if any(isinstance(value, str) and value == person.email.upper() for value in record.values())
    ]
    assert email_only, "records keyed by the address in another case were not found"


def test_records_keyed_by_email_only_are_found_for_someone_without_an_account(engine: Engine) -> None:
    now = utc_now()
    with engine.begin() as conn:
        conn.execute(
            insert(job_applications),
            [
                {
                    "email": "Applicant.Only@Post.example",
                    "full_name": "Applicant Only",
                    "position": "Education officer",
                    "applied_at": now,
                    "outcome": "pending",
                },
                {
                    "email": "someone.else@post.example",
                    "full_name": "Someone Else",
                    "position": "Education officer",
                    "applied_at": now,
                    "outcome": "pending",
                },
            ],
        )
    request_id = _request(engine, "applicant.only@post.example")
    with engine.begin() as conn:
        extract = service.build_extract(conn, request_id)
    assert extract.counts() == {"job_applications": 1}
    (record,) = extract.categories[0].records
    assert record["full_name"] == "Applicant Only"
    assert extract.identifiers.account_ids == set()


def test_no_package_contains_another_persons_identifiers(engine: Engine) -> None:
    population = _population(engine, 5)
    account_columns = _link_columns(("self", "account"))
    staff_columns = _link_columns(("staff",))
    redacted_somewhere = 0
    for person in population.people:
        request_id = _request(engine, person.email)
        result, files = _produce(engine, request_id)
        text = b"\n".join(files.values()).decode("utf-8").lower()
        assert person.token in text
        for token in population.tokens_except(person.index):
            assert token not in text, f"person {person.index}'s package holds {token}"
        document = json.loads(files["data.json"])
        for category in document["categories"]:
            for record in category["records"]:
                for column in account_columns.get(category["table"], ()):
                    assert record[column] in (None, REDACTED, person.account_id), (category["table"], column)
                for column in staff_columns.get(category["table"], ()):
                    assert record[column] in (None, REDACTED)
        redacted_somewhere += sum(result.redacted.values())
        # what the person did to others is theirs: the reports they made are in their package
        reports = [c for c in document["categories"] if c["table"] == "content_reports"]
        assert any(r["reporter_account_id"] == person.account_id for c in reports for r in c["records"])
    assert redacted_somewhere > 0


def test_a_shared_record_keeps_the_persons_data_and_hides_the_other_persons(engine: Engine) -> None:
    population = _population(engine, 3)
    person = population.people[0]
    request_id = _request(engine, person.email)
    _result, files = _produce(engine, request_id)
    document = json.loads(files["data.json"])
    invoices = next(c for c in document["categories"] if c["table"] == "invoices")
    billed_to_other = [
        r
        for r in invoices["records"]
        if r["account_id"] == person.account_id and r["billing_email"] == REDACTED
    ]
    assert billed_to_other
    for record in billed_to_other:
        assert record["billing_name"] == REDACTED and record["billing_address"] == REDACTED
        assert record["invoice_number"] and record["amount_pence"] is not None  # the person's invoice stays
    assert invoices["redacted_values"]["billing_email"] >= len(billed_to_other)
    reports = next(c for c in document["categories"] if c["table"] == "content_reports")
    on_my_posts = [r for r in reports["records"] if r["reporter_account_id"] == REDACTED]
    assert on_my_posts and all(r["reason"] for r in on_my_posts)  # why it was reported is given
    cases = next(c for c in document["categories"] if c["table"] == "moderation_cases")
    assert cases["records"] and all(r["decided_by"] == REDACTED for r in cases["records"])
    assert all(r["decision_reason"] for r in cases["records"])  # the reason for a decision is given


def test_demo_data_packages_hold_nobody_elses_address_or_name(demo_engine: Engine) -> None:
    engine = demo_engine
    with engine.connect() as conn:
        people = conn.exec_driver_sql("select id, email, first_name, last_name from accounts").all()
        holds = conn.exec_driver_sql("select placed_by from legal_holds").scalars().all()
        reporters = (
            conn.exec_driver_sql(
                "select distinct p.author_account_id from content_reports r join posts p on p.id = r.post_id "
                "where r.reporter_account_id is not null"
            )
            .scalars()
            .all()
        )
        billed = (
            conn.exec_driver_sql(
                "select distinct i.account_id from invoices i join accounts a on a.id = i.account_id "
                "where lower(i.billing_email) <> lower(a.email)"
            )
            .scalars()
            .all()
        )
        held = (
            conn.exec_driver_sql("select account_id from legal_holds where account_id is not null")
            .scalars()
            .all()
        )
    names = {
        row.id: re.compile(rf"\b{re.escape(f'{row.first_name} {row.last_name}'.lower())}\b") for row in people
    }
    emails = {row.id: row.email.lower() for row in people}
    sample = sorted({*reporters[:8], *billed[:4], *held[:2], people[0].id, people[-1].id} - {None})
    assert len(sample) >= 5
    for account_id in sample:
        request_id = _request(engine, emails[account_id])
        _result, files = _produce(engine, request_id)
        text = b"\n".join(files.values()).decode("utf-8").lower()
        assert emails[account_id] in text
        for other, address in emails.items():
            if other != account_id:
                assert address not in text, f"account {account_id}'s package holds another address"
        mine = names[account_id].pattern
        for other, name in names.items():
            if other != account_id and name.pattern != mine:
                assert not name.search(text), f"account {account_id}'s package names another person"
        for staff in holds:
            assert staff.lower() not in text


@pytest.fixture
def sqlite_engine(sqlite_url: str) -> Engine:
    """For tests whose subject is the package, not the database engine."""
    from tasks.db import get_engine

    return get_engine(sqlite_url)


@pytest.fixture
def demo_engine(sqlite_url: str) -> Engine:
    from tasks.db import get_engine
    from tasks.demo_data import generate_demo_data

    generate_demo_data(accounts=300, seed=11, today=date(2026, 11, 2), export_dir=None, url=sqlite_url)
    return get_engine(sqlite_url)


# ---------------------------------------------------------------------------------- unknown person


def test_an_unknown_person_gets_a_valid_no_data_held_package(engine: Engine) -> None:
    _population(engine, 3)
    request_id = _request(engine, "Stranger@Unknown.example")
    result, files = _produce(engine, request_id)
    assert result.data_held is False and result.records == {}
    document = json.loads(files["data.json"])
    assert document["data_held"] is False and document["categories"] == []
    assert document["request"]["identifiers_searched"] == {
        "emails": ["stranger@unknown.example"],
        "account_ids": [],
    }
    summary = files["summary.html"].decode()
    assert "<strong>No.</strong>" in summary and "ico.org.uk" in summary
    assert not [name for name in files if name.startswith("csv/")]
    with engine.begin() as conn:
        assert view_request(conn, request_id).status == "completed"


# ---------------------------------------------------------------------------------------- the package


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_package_contents_permissions_and_register(sqlite_engine: Engine) -> None:
    engine = sqlite_engine
    population = _population(engine, 3)
    request_id = _request(engine, population.people[2].email)
    result, files = _produce(engine, request_id)
    directory = result.zip_path.parent
    assert directory == get_settings().output_dir / "sar" / str(request_id)
    assert _mode(directory) == 0o700 and _mode(directory.parent) == 0o700
    on_disk = sorted(path.name for path in directory.iterdir())
    assert on_disk == ["package.json", f"sar-{request_id}.zip"]  # nothing readable beside the ZIP
    assert all(_mode(path) == 0o600 for path in directory.iterdir())

    document = json.loads(files["data.json"])
    csvs = sorted(name for name in files if name.startswith("csv/"))
    assert len(csvs) == len(document["categories"]) == len(result.records)
    assert sorted(c["csv_file"] for c in document["categories"]) == csvs
    for category in document["categories"]:
        lines = files[category["csv_file"]].decode("utf-8-sig").strip().splitlines()
        assert len(lines) >= category["record_count"] + 1
        assert category["purpose"] and category["legal_basis"] and category["retention"]
    summary = files["summary.html"].decode()
    for needle in (
        "Why we hold it",
        "Legal basis",
        "Where it comes from",
        "Who it may be disclosed to",
        "How long we keep it",
        "Information Commissioner",
        "0303 123 1113",
        "https://ico.org.uk/make-a-complaint/",
        "Who has received your data",
    ):
        assert needle in summary
    entries = personal_data_map()
    for category in document["categories"]:
        assert category["purpose"] == entries[category["table"]].purpose
        for recipient in entries[category["table"]].recipients:
            assert recipient.replace("'", "&#x27;") in summary
    assert document["disclosures"], "the data-share log rows are listed as actual recipients"

    manifest = json.loads(files["manifest.json"])
    listed = {entry["name"]: entry["sha256"] for entry in manifest["files"]}
    assert listed == {n: hashlib.sha256(c).hexdigest() for n, c in files.items() if n != "manifest.json"}
    beside = json.loads((directory / "package.json").read_text())
    zip_sha = hashlib.sha256(result.zip_path.read_bytes()).hexdigest()
    assert beside["sha256"] == zip_sha == result.sha256
    assert beside["manifest_inside_sha256"] == hashlib.sha256(files["manifest.json"]).hexdigest()
    with engine.begin() as conn:
        row = get_request(conn, request_id)
    assert row["status"] == "completed" and row["package_sha256"] == zip_sha and row["completed_at"]


def test_keep_plain_leaves_owner_only_copies_for_review(sqlite_engine: Engine) -> None:
    engine = sqlite_engine
    population = _population(engine, 3)
    request_id = _request(engine, population.people[0].email)
    result, files = _produce(engine, request_id, keep_plain=True)
    plain = result.plain_directory
    assert plain is not None and _mode(plain) == 0o700
    written = {str(p.relative_to(plain)): p for p in plain.rglob("*") if p.is_file()}
    assert set(written) == set(files)
    assert all(_mode(path) == 0o600 and path.read_bytes() == files[name] for name, path in written.items())


def test_encryption_round_trip_and_wrong_password(sqlite_engine: Engine) -> None:
    engine = sqlite_engine
    population = _population(engine, 3)
    request_id = _request(engine, population.people[1].email)
    passwords = Passwords()
    result = service.produce_package(request_id, announce_password=passwords)
    password = passwords.by_request[request_id]
    checked = verify_package(result.zip_path, password)
    assert "data.json" in checked and "summary.html" in checked
    with pytest.raises(PackageError, match="password does not open"):
        read_package(result.zip_path, password[:-1] + ("A" if password[-1] != "A" else "B"))
    with zipfile.ZipFile(result.zip_path) as plain_zip:
        infos = plain_zip.infolist()
        assert infos and all(info.flag_bits & 0x1 for info in infos)  # every entry encrypted
        assert all(info.compress_type == 99 for info in infos)  # WinZip AES (AE-x)
        with pytest.raises(RuntimeError):
            plain_zip.read(infos[0].filename)
    raw = result.zip_path.read_bytes()
    assert population.people[1].token.encode() not in raw and b"Lovelace" not in raw
    # the password is nowhere on disk, nor in the database
    for path in get_settings().output_dir.rglob("*"):
        if path.is_file():
            assert password.encode() not in path.read_bytes()
    with engine.begin() as conn:
        assert password not in json.dumps(
            [dict(r) for r in conn.execute(select(audit_log)).mappings()], default=str
        )
        assert password not in json.dumps(get_request(conn, request_id), default=str)


def test_passwords_are_strong_and_never_repeat() -> None:
    passwords = {generate_password() for _ in range(200)}
    assert len(passwords) == 200
    for password in passwords:
        groups = password.split("-")
        assert len(groups) == 5 and all(len(g) == 5 for g in groups)
        assert set(password.replace("-", "")) <= set(PASSWORD_ALPHABET)


# ------------------------------------------------------------------ safety: contract, state, leaks


def test_the_contract_stops_a_package_that_still_names_someone_else(sqlite_engine: Engine) -> None:
    engine = sqlite_engine
    population = _population(engine, 3)
    request_id = _request(engine, population.people[0].email)
    with engine.begin() as conn:
        extract = service.build_extract(conn, request_id)
    assert service.check_extract(extract).passed
    broken = [
        replace(category, unowned_identifiers=[1] * category.count)
        if category.table == "content_reports"
        else category
        for category in extract.categories
    ]
    with pytest.raises(ContractViolation, match="no_third_party_identifier"):
        service.check_extract(replace(extract, categories=broken))


def test_a_crash_before_completion_leaves_a_request_a_rerun_completes(
    sqlite_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = sqlite_engine
    population = _population(engine, 3)
    request_id = _request(engine, population.people[0].email)

    def crash(*_args: Any, **_kwargs: Any) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(service, "write_package", crash)
    with pytest.raises(OSError):
        service.produce_package(request_id, announce_password=Passwords())
    with engine.begin() as conn:
        assert view_request(conn, request_id).status == "in_progress"
    monkeypatch.undo()
    result, files = _produce(engine, request_id)
    assert result.status == "completed" and "data.json" in files
    with engine.begin() as conn:
        events = (
            conn.execute(select(audit_log.c.event).where(audit_log.c.request_id == request_id))
            .scalars()
            .all()
        )
    assert events.count("request_completed") == 1 and events.count("sar_package_written") == 1
    with pytest.raises(service.NotReady, match="already completed"):
        service.produce_package(request_id, announce_password=Passwords())


def test_unverified_and_other_kinds_are_refused(sqlite_engine: Engine) -> None:
    engine = sqlite_engine
    with engine.begin() as conn:
        waiting = service.register_access_request(conn, "wait@post.example")
        erasure = service.register_request(conn, "erasure", "gone@post.example", identity_verified=True)
    with pytest.raises(service.NotReady, match="awaits its identity check"):
        service.produce_package(waiting, announce_password=Passwords())
    with pytest.raises(service.NotReady, match="erasure request"):
        service.produce_package(erasure, announce_password=Passwords())


def test_artifact_audit_and_results_carry_no_personal_data(sqlite_engine: Engine) -> None:
    engine = sqlite_engine
    population = _population(engine, 3)
    person = population.people[0]
    request_id = _request(engine, person.email)
    result, _files = _produce(engine, request_id)
    report = (get_settings().output_dir / "reports" / f"subject-access-request-{request_id}.md").read_text()
    assert "completed" in report and str(request_id) in report and result.sha256 in report
    with engine.begin() as conn:
        audit = json.dumps([dict(r) for r in conn.execute(select(audit_log)).mappings()], default=str)
    shown = json.dumps(result.as_dict(), default=str) + report + audit
    for person_ in population.people:
        assert person_.token not in shown.lower()
    assert "@" not in report and "@" not in audit


def test_the_extract_contract_accepts_an_empty_extract(sqlite_engine: Engine) -> None:
    engine = sqlite_engine
    request_id = _request(engine, "nobody@nowhere.example")
    with engine.begin() as conn:
        extract = service.build_extract(conn, request_id)
    assert not extract.data_held
    report = service.check_extract(extract)
    assert report.passed and report.row_count == 0


def test_files_are_never_group_or_world_readable_even_with_a_loose_umask(sqlite_engine: Engine) -> None:
    engine = sqlite_engine
    population = _population(engine, 3)
    request_id = _request(engine, population.people[0].email)
    old = os.umask(0)
    try:
        result, _files = _produce(engine, request_id)
    finally:
        os.umask(old)
    assert _mode(result.zip_path) == 0o600 and _mode(result.zip_path.parent) == 0o700

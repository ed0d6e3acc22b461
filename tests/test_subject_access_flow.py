"""The `subject_access` flow under the Prefect test harness: from the deployment of prefect.yaml, a
request waiting for its identity check, the contract gate, and the nightly demo sample."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert

from steward.settings import get_settings
from tasks.calendar import utc_now
from tasks.contracts import ContractViolation
from tasks.db import begin
from tasks.deployments import load_deployments
from tasks.requests import verify_identity, view_request
from tasks.schema import accounts
from tasks.subject_access import extract as extract_module
from tasks.subject_access import service
from tasks.subject_access.package import verify_package
from tasks.subject_access.synthetic import generate_people

pytestmark = pytest.mark.flow

PASSWORD = re.compile(r"^\s+([A-Za-z0-9]{5}(?:-[A-Za-z0-9]{5}){4})$", re.MULTILINE)


def _deployment_run(**overrides: Any) -> dict[str, Any]:
    deployment = load_deployments()["subject-access"]
    flow = deployment.load_flow()
    return flow(**{**deployment.parameters, **overrides})  # type: ignore[no-any-return]


def test_the_deployment_registers_and_answers_a_request(
    sqlite_url: str,
    prefect_harness: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    with begin() as conn:
        population = generate_people(conn, 3)
    person = population.people[0]
    result = _deployment_run(email=person.email.upper(), received="2026-11-02", identity_verified=True)
    assert result["status"] == "completed" and result["data_held"] is True and result["records"] > 0
    assert person.token not in repr(result).lower()
    printed = capsys.readouterr().out
    (password,) = PASSWORD.findall(printed)
    files = verify_package(Path(result["package"]), password)
    assert "summary.html" in files
    report = get_settings().output_dir / "reports" / f"subject-access-request-{result['request_id']}.md"
    assert "completed" in report.read_text() and "@" not in report.read_text()
    with begin() as conn:
        view = view_request(conn, result["request_id"])
    assert (view.status, str(view.received_on)) == ("completed", "2026-11-02")


def test_an_unverified_request_waits_without_a_package_then_runs_by_id(
    sqlite_url: str, prefect_harness: None, capsys: pytest.CaptureFixture[str]
) -> None:
    waiting = _deployment_run(email="stranger@post.example")
    assert (waiting["status"], waiting["package"]) == ("awaiting_identity_check", None)
    assert not (get_settings().output_dir / "sar").exists()
    assert "@" not in capsys.readouterr().out
    with begin() as conn:
        verify_identity(conn, waiting["request_id"])
    done = _deployment_run(request_id=waiting["request_id"])
    assert done["status"] == "completed" and done["data_held"] is False
    assert len(PASSWORD.findall(capsys.readouterr().out)) == 1


def test_a_redaction_failure_stops_the_flow_before_any_package(
    sqlite_url: str, prefect_harness: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    with begin() as conn:
        population = generate_people(conn, 3)
        request_id = service.register_access_request(conn, population.people[0].email, identity_verified=True)

    def without_redaction(rows: extract_module.TableRows, who: Any) -> extract_module.RedactedRows:
        done = extract_module.redact_rows(rows, who)
        records = [{k: extract_module.json_ready(v) for k, v in rows.rows[key].items()} for key in done.keys]
        unowned = [extract_module.count_unowned(rows.entry, record, who) for record in records]
        return extract_module.RedactedRows(done.keys, records, {}, 0, unowned)

    monkeypatch.setattr(service, "redact_rows", without_redaction)
    with pytest.raises(ContractViolation, match="no_third_party_identifier"):
        _deployment_run(request_id=request_id)
    assert not (get_settings().output_dir / "sar" / str(request_id)).exists()
    with begin() as conn:
        assert view_request(conn, request_id).status == "in_progress"


def test_the_nightly_sample_runs_on_demo_data_only(
    sqlite_url: str, prefect_harness: None, capsys: pytest.CaptureFixture[str]
) -> None:
    from flows.subject_access import subject_access_demo_sample

    now = utc_now()
    real = {"account_type": "educator", "first_name": "R", "last_name": "P", "region": "London"}
    with begin() as conn:
        conn.execute(
            insert(accounts),
            [{**real, "email": "real.person@gmail.com", "registered_at": now, "updated_at": now}],
        )
        assert service.demo_sample_account(conn) is None
    assert subject_access_demo_sample() is None
    with begin() as conn:
        conn.execute(accounts.delete())
        population = generate_people(conn, 3)
    result = subject_access_demo_sample()
    assert result is not None and result["status"] == "completed"
    with begin() as conn:
        assert view_request(conn, result["request_id"]).account_id == population.people[0].account_id
    assert len(PASSWORD.findall(capsys.readouterr().out)) == 1

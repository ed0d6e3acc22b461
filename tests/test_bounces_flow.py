"""The bounce-reconciliation and erasure-requests flows under the Prefect test harness, including the
pause for the DPO's approval (the harness is a real Prefect server, so a paused run waits for input)."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from bounces_erasure_people import NOW, add_members, add_person
from sqlalchemy import select

from steward.settings import get_settings
from tasks import schema as s
from tasks.db import get_engine

SENTINEL = "flow.sentinel@example.org"
HEADER = "email,event,smtp_status,enhanced_status,diagnostic,occurred_at\n"


def _export(folder: Path, rows: list[tuple[str, str, str]]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "export.csv"
    lines = [
        f"{email},bounce,550,{code},smtp; 550 {code},{(NOW - timedelta(days=days)).isoformat()}Z"
        for email, code, days in rows
    ]
    path.write_text(HEADER + "\n".join(lines) + "\nbroken line without fields\n")
    return path


@pytest.mark.flow
def test_the_flow_reconciles_removes_and_reports(
    sqlite_url: str, prefect_harness: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flows.bounce_reconciliation import bounce_reconciliation
    from steward.settings import reset_settings_cache

    monkeypatch.setenv("STEWARD_BOUNCE_GRACE_PERIOD_DAYS", "0")
    reset_settings_cache()

    engine = get_engine(sqlite_url)
    with engine.begin() as conn:
        person = add_person(conn, SENTINEL)
        add_members(conn, 120)
    # after the delivery add_person staged 5 days ago; no grace period in this test
    _export(tmp_path / "inbox", [(SENTINEL, "5.1.1", 1)])
    result = bounce_reconciliation(paths=[str(tmp_path / "inbox")])
    assert result["files_ingested"] == 1 and result["quarantined"] == 1 and result["newly_undeliverable"] == 1
    assert result["removed"] == 1 and result["approval"] == "not_needed"
    again = bounce_reconciliation(paths=[str(tmp_path / "inbox")])
    assert again["files_already_seen"] == 1 and again["removed"] == 0
    report = (get_settings().output_dir / "reports" / "bounce-reconciliation.md").read_text()
    assert "already ingested" in report and "sentinel" not in report.lower()
    with engine.connect() as conn:
        assert (
            conn.execute(
                select(sa.func.count()).select_from(s.accounts).where(s.accounts.c.id == person.account_id)
            ).scalar_one()
            == 0
        )


def _paused_run_id(flow_name: str, timeout: float = 90) -> Any:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        FlowFilter,
        FlowFilterName,
        FlowRunFilter,
        FlowRunFilterState,
        FlowRunFilterStateType,
    )
    from prefect.client.schemas.objects import StateType

    deadline = time.monotonic() + timeout
    with get_client(sync_client=True) as client:
        while time.monotonic() < deadline:
            runs = client.read_flow_runs(
                flow_filter=FlowFilter(name=FlowFilterName(any_=[flow_name])),
                flow_run_filter=FlowRunFilter(
                    state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.PAUSED]))
                ),
            )
            if runs:
                return runs[0].id
            time.sleep(0.5)
    raise AssertionError(f"no paused {flow_name} run within {timeout} s")


@pytest.mark.flow
def test_a_plan_past_the_guard_pauses_the_flow_until_the_dpo_approves(
    sqlite_url: str, prefect_harness: None
) -> None:
    from prefect.flow_runs import resume_flow_run

    from flows.erasure_requests import erasure_requests
    from tasks.rights import request_erasure

    engine = get_engine(sqlite_url)
    with engine.begin() as conn:
        add_members(conn, 20)
        for i in range(3):  # 3 of 20 accounts: past the 2% guard
            request_erasure(conn, f"member{i}@example.org", identity_verified=True)
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["result"] = erasure_requests(approval_timeout_hours=0.05)
        except BaseException as error:
            outcome["error"] = error

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    flow_run_id = _paused_run_id("erasure_requests")
    with engine.connect() as conn:
        assert conn.execute(select(sa.func.count()).select_from(s.accounts)).scalar_one() == 20  # nothing yet
        assert conn.execute(select(s.plans.c.status)).scalar_one() == "awaiting_approval"
    resume_flow_run(flow_run_id, run_input={"approve": True, "approver": "Dee P. O."})
    thread.join(timeout=120)
    assert not thread.is_alive() and "error" not in outcome, outcome.get("error")
    result = outcome["result"]
    assert result["approval"] == "approved" and result["subjects_erased"] == 3
    with engine.connect() as conn:
        plan = conn.execute(select(s.plans.c.status, s.plans.c.approved_by)).one()
        assert tuple(plan) == ("applied", "Dee P. O.")
        assert conn.execute(select(sa.func.count()).select_from(s.accounts)).scalar_one() == 17


@pytest.mark.flow
def test_the_erasure_flow_registers_and_completes_a_request(sqlite_url: str, prefect_harness: None) -> None:
    from flows.erasure_requests import erasure_requests

    engine = get_engine(sqlite_url)
    with engine.begin() as conn:
        add_members(conn, 60)
    result = erasure_requests(email="member7@example.org", identity_verified=True)
    assert result["completed"] == [result["registered_request"]] and result["subjects_erased"] == 1
    report = (get_settings().output_dir / "reports" / "erasure-requests.md").read_text()
    assert f"requests {result['registered_request']}" in report and "member7" not in report

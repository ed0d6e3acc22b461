"""The moderation queue: due times over Christmas, New Year and Easter and across the BST midnight,
reports opening and joining cases, decisions, appeals, filter complaints, and the SLA report."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from content_rows import SENTINEL, Community, write_list
from sqlalchemy import Engine, select
from typer.testing import CliRunner

from steward.cli import _register_commands, app
from tasks.calendar import utc_now
from tasks.content.moderation import (
    ModerationError,
    decide_appeal,
    decide_case,
    decide_complaint,
    due_time,
    file_report,
    open_appeal,
    open_complaint,
)
from tasks.content.pipeline import content_rescan_once
from tasks.content.sla import sla_markdown, sla_report
from tasks.schema import moderation_cases, moderation_decisions

_register_commands()
runner = CliRunner()

LIST = ["crypto giveaway,fraud,phrase,hold", "subhuman,hate,word,hold", "scam,fraud,prefix,alert"]


@pytest.mark.parametrize(
    ("opened_utc", "due_utc", "why"),
    [
        (datetime(2026, 3, 2, 10), datetime(2026, 3, 6, 0), "Mon: Tue, Wed, Thu"),
        (datetime(2026, 3, 6, 10), datetime(2026, 3, 12, 0), "Fri: the weekend skipped"),
        (datetime(2026, 12, 23, 10), datetime(2026, 12, 31, 0), "Christmas, Boxing Day observed on Mon 28"),
        (datetime(2026, 12, 31, 10), datetime(2027, 1, 7, 0), "New Year's Day on a Friday"),
        (datetime(2027, 12, 24, 10), datetime(2028, 1, 1, 0), "Christmas and Boxing Day both observed"),
        (datetime(2027, 3, 25, 10), datetime(2027, 4, 1, 23), "Good Friday, Easter Monday, then BST"),
        (datetime(2026, 4, 2, 10), datetime(2026, 4, 9, 23), "Easter 2026"),
        (datetime(2026, 6, 4, 23, 30), datetime(2026, 6, 10, 23), "00:30 BST on Fri 5 June is Friday"),
        (datetime(2026, 6, 4, 22, 59), datetime(2026, 6, 9, 23), "23:59 BST on Thu 4 June is Thursday"),
        (datetime(2026, 1, 8, 0, 30), datetime(2026, 1, 14, 0), "00:30 GMT on Thu 8 January"),
    ],
)
def test_due_at_the_end_of_the_third_business_day(opened_utc: datetime, due_utc: datetime, why: str) -> None:
    assert due_time(opened_utc, 3) == due_utc, why


def test_a_report_just_after_midnight_in_summer_time_counts_on_the_right_day(engine: Engine) -> None:
    community = Community(engine)
    post = community.post("nothing listed here")
    just_after_midnight_bst = datetime(2026, 6, 4, 23, 30)  # Friday 5 June, 00:30 in London
    with engine.begin() as conn:
        filed = file_report(
            conn,
            post,
            reason="hate",
            reporter_account_id=community.account_id,
            created_at=just_after_midnight_bst,
        )
    (case,) = community.cases(post)
    assert case.opened_at == just_after_midnight_bst
    assert filed.due_at == case.due_at == datetime(2026, 6, 10, 23, 0)  # end of Wednesday 10 June, London
    assert (case.source, case.categories) == ("member_report", "hate")
    assert community.hidden(post) == (True, "moderation") and filed.post_hidden


def test_reports_open_and_join_cases_counted_from_the_earliest(engine: Engine, tmp_path: Path) -> None:
    community = Community(engine)
    filtered = community.post("a crypto giveaway")
    reported = community.post("nothing listed")
    earlier = utc_now() - timedelta(days=2)
    community.report(filtered, "spam", created_at=earlier)  # made before the scan found the post
    community.report(reported, "child_safety", trusted=True)
    content_rescan_once(keyword_list=str(write_list(tmp_path / "l.csv", LIST)), workers=1)
    (case,) = community.cases(filtered)
    assert case.opened_at == earlier and case.due_at == due_time(earlier)
    assert case.categories == "fraud,spam"
    (flagged,) = community.cases(reported)
    assert (flagged.source, flagged.categories) == ("trusted_flagger", "csea")
    assert community.hidden(reported) == (True, "moderation")
    # a second report on a post with an open case joins it
    with engine.begin() as conn:
        second = file_report(conn, reported, reason="terrorism", trusted_flagger="Counter Extremism Unit")
    assert second.case_id == flagged.id and not second.post_hidden
    assert community.cases(reported)[0].categories == "csea,terrorism"


def test_decisions_appeals_and_their_history(engine: Engine, tmp_path: Path) -> None:
    community = Community(engine)
    removed = community.post("subhuman nonsense")
    restored = community.post("a crypto giveaway")
    content_rescan_once(keyword_list=str(write_list(tmp_path / "l.csv", LIST)), workers=1)
    (case_removed,) = community.cases(removed)
    (case_restored,) = community.cases(restored)
    with engine.begin() as conn:
        decide_case(conn, case_removed.id, "remove", "Dehumanising language breaks rule 2.", "mod-17")
        decide_case(conn, case_restored.id, "restore", "A school fundraiser, not a scam.", "mod-17")
        with pytest.raises(ModerationError, match="is removed, not open"):
            decide_case(conn, case_removed.id, "restore", "again", "mod-17")
        with pytest.raises(ModerationError, match="only a removal can be appealed"):
            open_appeal(conn, case_restored.id, community.account_id, "why?")
    assert community.hidden(removed) == (True, "removed")
    assert community.hidden(restored) == (False, None)

    with engine.begin() as conn:
        appeal = open_appeal(conn, case_removed.id, community.account_id, "It was a quote from a book.")
        with pytest.raises(ModerationError, match="already has an open appeal"):
            open_appeal(conn, case_removed.id, community.account_id, "again")
        decide_appeal(conn, appeal, True, "On review, a quotation used in a history lesson.", "mod-03")
        with pytest.raises(ModerationError, match=f"appeal {appeal} was already upheld"):
            decide_appeal(conn, appeal, False, "changed my mind", "mod-03")
        with pytest.raises(ModerationError, match="no appeal 999999"):
            decide_appeal(conn, 999999, True, "reason", "mod-03")
    assert community.hidden(removed) == (False, None)
    with engine.connect() as conn:
        case = conn.execute(select(moderation_cases).where(moderation_cases.c.id == case_removed.id)).one()
        history = conn.execute(
            select(moderation_decisions.c.action, moderation_decisions.c.origin)
            .where(moderation_decisions.c.case_id == case_removed.id)
            .order_by(moderation_decisions.c.id)
        ).all()
    assert (case.status, case.decision_reason) == (
        "restored",
        "On review, a quotation used in a history lesson.",
    )
    assert [tuple(h) for h in history] == [("remove", "moderator"), ("restore", "appeal")]


def test_filter_complaints_show_the_reason_and_can_restore(engine: Engine, tmp_path: Path) -> None:
    community = Community(engine)
    post = community.post("our crypto giveaway for the PTA raffle")
    unfiltered = community.post("nothing listed")
    content_rescan_once(keyword_list=str(write_list(tmp_path / "l.csv", LIST)), workers=1)
    (case,) = community.cases(post)
    with engine.begin() as conn:
        decide_case(conn, case.id, "remove", "Looks like a cryptocurrency scam (rule 5).", "mod-02")
        shown = open_complaint(conn, post, community.account_id, "It is a raffle, not crypto.")
        with pytest.raises(ModerationError, match="the filter has not matched"):
            open_complaint(conn, unfiltered, community.account_id, None)
    assert (shown.case_id, shown.case_status, shown.categories) == (case.id, "removed", "fraud")
    assert shown.removal_reason == "Looks like a cryptocurrency scam (rule 5)."
    with engine.begin() as conn:
        decide_complaint(conn, shown.complaint_id, True, "The filter misread a raffle.", "mod-05")
        with pytest.raises(
            ModerationError, match=f"filter complaint {shown.complaint_id} was already upheld"
        ):
            decide_complaint(conn, shown.complaint_id, False, "again", "mod-05")
        with pytest.raises(ModerationError, match="no filter complaint 999999"):
            decide_complaint(conn, 999999, True, "reason", "mod-05")
    assert community.hidden(post) == (False, None)
    assert community.cases(post)[0].status == "restored"


def test_the_sla_report(engine: Engine) -> None:
    community = Community(engine)
    now = datetime(2026, 3, 4, 12, 0)  # Wednesday, GMT
    posts_ = [community.post(f"post {i} by {SENTINEL}") for i in range(5)]
    rows = [
        # (post, categories, opened, decided after hours or None)
        (posts_[0], "fraud", datetime(2026, 2, 23, 9), None),  # due end of Thu 26 Feb: overdue
        (posts_[1], "hate,fraud", datetime(2026, 2, 27, 9), None),  # due end of Wed 4 Mar: due today
        (posts_[2], "hate", datetime(2026, 3, 3, 9), None),  # due end of Fri 6 Mar
        (posts_[3], "fraud", datetime(2026, 2, 20, 9), 10.0),
        (posts_[4], "fraud", datetime(2026, 2, 25, 9), 30.0),
    ]
    with engine.begin() as conn:
        for post, categories, opened, hours in rows:
            decided = opened + timedelta(hours=hours) if hours is not None else None
            conn.execute(
                moderation_cases.insert(),
                [
                    {
                        "post_id": post,
                        "status": "open" if decided is None else "removed",
                        "source": "filter",
                        "categories": categories,
                        "opened_at": opened,
                        "due_at": due_time(opened),
                        "decision": None if decided is None else "remove",
                        "decision_reason": None if decided is None else f"reason about {SENTINEL}",
                        "decided_at": decided,
                        "decided_by": None if decided is None else "Moderator Mo",
                    }
                ],
            )
        report = sla_report(conn, now)
    assert (report.open, report.due_today, len(report.overdue)) == (3, 1, 1)
    assert report.overdue[0].post_id == posts_[0] and report.overdue[0].days_overdue == 6
    assert (report.decided_30_days, report.median_hours_to_decision) == (2, 20.0)
    per = {c.category: c for c in report.categories}
    assert (per["fraud"].open, per["fraud"].due_today, per["fraud"].overdue) == (2, 1, 1)
    assert (per["hate"].open, per["hate"].due_today, per["hate"].overdue) == (2, 1, 0)
    assert per["fraud"].median_hours_to_decision == 20.0 and per["hate"].decided_30_days == 0
    markdown = sla_markdown(report)
    assert SENTINEL not in markdown and "Moderator Mo" not in markdown
    assert "| fraud | 2 | 1 | 1 | 2 | 20.0 |" in markdown


def test_the_moderation_commands(sqlite_url: str, tmp_path: Path) -> None:
    from tasks.db import get_engine

    community = Community(get_engine(sqlite_url))
    post = community.post("subhuman remarks")
    other = community.post("nothing listed")
    content_rescan_once(keyword_list=str(write_list(tmp_path / "l.csv", LIST)), workers=1)
    (case,) = community.cases(post)
    queue = runner.invoke(app, ["moderation", "queue"])
    assert queue.exit_code == 0 and "1 open case" in queue.output
    reported = runner.invoke(
        app, ["moderation", "report", str(other), "--member", str(community.account_id), "--reason", "spam"]
    )
    assert reported.exit_code == 0 and f"post {other} hidden" in reported.output
    both = runner.invoke(
        app,
        ["moderation", "decide", str(case.id), "--remove", "--restore", "--reason", "x", "--moderator", "m"],
    )
    assert both.exit_code != 0
    decided = runner.invoke(
        app, ["moderation", "decide", str(case.id), "--remove", "--reason", "Rule 2.", "--moderator", "mod-1"]
    )
    assert decided.exit_code == 0 and "removed" in decided.output
    appeal = runner.invoke(app, ["moderation", "appeal", "open", str(case.id), "--grounds", "context"])
    assert appeal.exit_code == 0 and "appeal 1 opened" in appeal.output
    listed = runner.invoke(app, ["moderation", "appeal", "list"])
    assert listed.exit_code == 0 and "open appeals" in listed.output
    complaint = runner.invoke(app, ["moderation", "complaint", "open", str(post)])
    assert complaint.exit_code == 0 and "reason for the removal: Rule 2." in complaint.output
    sla = runner.invoke(app, ["moderation", "sla"])
    assert sla.exit_code == 0 and "1 open" in sla.output and "moderation-sla.md" in sla.output
    missing = runner.invoke(app, ["moderation", "report", "999", "--member", "1", "--reason", "spam"])
    assert missing.exit_code != 0 and "no post 999" in missing.output + str(missing.exception)


def test_erasing_an_author_removes_their_hits_cases_and_queues(engine: Engine, tmp_path: Path) -> None:
    """The personal-data map reaches every table of the queue: the erasure engine removes them all."""
    from tasks.db import table_counts
    from tasks.erasure import erase_items, resolve_identities
    from tasks.plans import ItemRow

    community = Community(engine)
    filtered = community.post("crypto giveaway now")
    reported = community.post("subhuman stuff")
    community.report(reported, "hate")
    community.attach(filtered, "bomb making.pdf")
    content_rescan_once(keyword_list=str(write_list(tmp_path / "l.csv", LIST)), workers=1)
    (case, _) = community.cases()
    with engine.begin() as conn:
        decide_case(conn, case.id, "remove", "Rule 5.", "mod-1")
        open_appeal(conn, case.id, community.account_id, "context")
        open_complaint(conn, filtered, community.account_id, "wrong")
    with engine.begin() as conn:
        items = [ItemRow(1, community.account_id, "accounts", community.account_id, "erase_subject", "test")]
        erase_items(conn, items, resolve_identities(conn, items))
    tables = ["posts", "scan_hits", "moderation_cases", "moderation_decisions", "moderation_appeals",
              "filter_complaints", "moderation_case_reports", "content_reports"]  # fmt: skip
    with engine.connect() as conn:
        assert set(table_counts(conn, tables).values()) == {0}

"""The content scan on both databases: hits with offsets into the original text, a re-run that changes
nothing, rescans for added terms, withdrawn terms closing their cases, allow-listing, edits, parallel
workers, and blocking contracts that stop before any post is hidden."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from content_rows import SENTINEL, Community, write_list
from sqlalchemy import Engine, func, insert, select, update

from steward.settings import get_settings, reset_settings_cache
from tasks.content.matcher import Prefilter
from tasks.content.pipeline import content_rescan_once
from tasks.content.scanner import _documents, _Work
from tasks.contracts import ContractViolation
from tasks.schema import (
    audit_log,
    content_scans,
    moderation_case_reports,
    moderation_cases,
    moderation_decisions,
    posts,
    scan_hits,
    scan_state,
)

LIST = [
    "scam,fraud,prefix,alert",
    "crypto giveaway,fraud,phrase,hold",
    "subhuman,hate,word,hold",
    "bomb making,terrorism,phrase,hold",
    "t.me/,fraud,anywhere,alert",
]


def _rescan(tmp_path: Path, lines: list[str] | None = None, allow: list[str] | None = None, **kw: Any) -> Any:
    keyword_list = (
        str(write_list(tmp_path / f"list{len(list(tmp_path.glob('list*')))}.csv", lines)) if lines else None
    )
    allow_list = (
        str(
            write_list(
                tmp_path / f"allow{len(list(tmp_path.glob('allow*')))}.csv", allow, header="term,match_mode\n"
            )
        )
        if allow is not None
        else None
    )
    return content_rescan_once(keyword_list=keyword_list, allow_list=allow_list, workers=1, **kw)


def _snapshot(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    tables = [
        scan_hits,
        moderation_cases,
        moderation_case_reports,
        moderation_decisions,
        content_scans,
        scan_state,
    ]
    with engine.connect() as conn:
        out = {
            t.name: [tuple(r) for r in conn.execute(select(t).order_by(*t.primary_key.columns))]
            for t in tables
        }
        out["posts"] = [tuple(r) for r in conn.execute(select(posts).order_by(posts.c.id))]
        out["audit"] = [(r.event,) for r in conn.execute(select(audit_log).order_by(audit_log.c.id))]
    return out


def test_hits_record_where_the_match_is_in_the_original_text(engine: Engine, tmp_path: Path) -> None:
    community = Community(engine)
    body = f"Hi {SENTINEL}! Our Stra\u00dfe club: join https://t.me/quickprofits for a CRYPTO  g1veaway."
    first = community.post(body, title="\u0455ubhum\u0430n remarks")
    clean = community.post("A lovely lesson on magnets, nothing to see.")
    attachment = community.attach(clean, "b.o.m.b making guide.pdf")
    _rescan(tmp_path, LIST)

    found = {(h.field, h.category, h.action) for h in community.hits(first)}
    assert found == {("title", "hate", "hold"), ("link_domain", "fraud", "alert"), ("body", "fraud", "hold")}
    for hit in community.hits(first):
        text = "\u0455ubhum\u0430n remarks" if hit.field == "title" else body
        written = text[hit.start_offset : hit.end_offset]
        assert written in ("\u0455ubhum\u0430n", "t.me/", "CRYPTO  g1veaway"), written
    (file_hit,) = community.hits(clean)
    assert (file_hit.field, file_hit.source_id, file_hit.start_offset, file_hit.end_offset) == (
        "attachment",
        attachment,
        0,
        len("b.o.m.b making"),
    )
    # hold hits opened a case each and hid the posts; alert hits alone open nothing
    assert [c.source for c in community.cases(first)] == ["filter"]
    assert community.hidden(first) == (True, "moderation")
    assert community.hidden(clean) == (True, "moderation")


def test_a_rerun_finds_nothing_new_and_changes_nothing(engine: Engine, tmp_path: Path) -> None:
    community = Community(engine)
    community.post("crypto giveaway for staff")
    community.post("scammers everywhere")
    reported = community.post("nothing listed here")
    community.report(reported, "harassment")
    _rescan(tmp_path, LIST)
    before = _snapshot(engine)
    again = _rescan(tmp_path)
    assert again.steps == [] and again.queue["cases_opened"] == 0
    assert _snapshot(engine) == before


def test_a_list_update_rescans_earlier_posts_with_the_added_terms_only(
    engine: Engine, tmp_path: Path
) -> None:
    community = Community(engine)
    old = community.post("Please wire the fee before Friday")
    _rescan(tmp_path, LIST)
    assert community.hits(old) == []
    result = _rescan(tmp_path, [*LIST, "wire the fee,fraud,phrase,hold"])
    assert [(s.kind, s.terms, s.posts, s.new_hits) for s in result.steps] == [("added_terms", 1, 1, 1)]
    (hit,) = community.hits(old)
    assert (hit.list_version, hit.category) == (2, "fraud")
    assert community.body(old)[hit.start_offset : hit.end_offset] == "wire the fee"
    assert community.hidden(old) == (True, "moderation")
    new = community.post("another wire the fee message")
    result = _rescan(tmp_path)
    assert [(s.kind, s.posts) for s in result.steps] == [("incremental", 1)]
    assert len(community.hits(new)) == 1


def test_only_a_rescan_for_added_terms_sets_texts_aside_and_it_finds_the_same_hits(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[int, int]] = []
    passing = Prefilter.passing

    def recorded(self: Prefilter, texts: Any) -> list[int]:
        found = passing(self, texts)
        calls.append((len(texts), len(found)))
        return found

    monkeypatch.setattr(Prefilter, "passing", recorded)
    community = Community(engine)
    clean = [community.post(f"Thanks for lesson {n}, the fee is on the form") for n in range(5)]
    old = community.post("Please w.i.r.e the f e e before Friday")
    listed = LIST[:4]  # long enough keys for a prefilter ("t.me/" has the skeleton "tme")
    _rescan(tmp_path, listed)
    assert calls == []  # a full scan: every text matched as before
    result = _rescan(tmp_path, [*listed, "wire the fee,fraud,phrase,hold"])
    assert [(s.kind, s.posts, s.new_hits) for s in result.steps] == [("added_terms", 6, 1)]
    assert calls == [(6, 1)]
    (hit,) = community.hits(old)
    assert community.body(old)[hit.start_offset : hit.end_offset] == "w.i.r.e the f e e"
    assert all(community.hits(post) == [] for post in clean)


def test_withdrawn_terms_close_the_cases_resting_only_on_them(engine: Engine, tmp_path: Path) -> None:
    community = Community(engine)
    only_withdrawn = community.post("This is subhuman behaviour")
    also_other = community.post("subhuman crypto giveaway")
    also_reported = community.post("subhuman again")
    community.report(also_reported, "hate")
    _rescan(tmp_path, LIST)
    assert all(community.hidden(p)[0] for p in (only_withdrawn, also_other, also_reported))

    result = _rescan(tmp_path, [line for line in LIST if not line.startswith("subhuman")])
    assert result.withdrawn_hits_cleared == 3
    (closed,) = community.cases(only_withdrawn)
    assert closed.status == "closed" and closed.decided_by == "steward"
    assert "withdrawn" in closed.decision_reason and "list version 2" in closed.decision_reason
    assert community.hidden(only_withdrawn) == (False, None)
    assert [c.status for c in community.cases(also_other)] == ["open"]
    assert [c.status for c in community.cases(also_reported)] == ["open"]
    assert community.hidden(also_other)[0] and community.hidden(also_reported)[0]
    assert all(h.cleared_reason == "withdrawn" for h in community.hits(only_withdrawn, active=False))
    with engine.connect() as conn:
        (decision,) = conn.execute(select(moderation_decisions)).all()
    assert (decision.case_id, decision.action, decision.origin) == (closed.id, "close", "list_change")


def test_allow_listing_a_word_later_clears_the_hits_it_covers(engine: Engine, tmp_path: Path) -> None:
    community = Community(engine)
    place = community.post("Pond dipping near Subhumanby was great")  # a made-up place name
    prefix_list = [line for line in LIST if not line.startswith("subhuman")] + ["subhuman,hate,prefix,hold"]
    _rescan(tmp_path, prefix_list)
    assert community.hidden(place) == (True, "moderation")
    result = _rescan(tmp_path, allow=["Subhumanby,word"])
    assert [s.kind for s in result.steps] == ["recheck"]
    assert community.hits(place) == []
    assert [h.cleared_reason for h in community.hits(place, active=False)] == ["allow_listed"]
    assert [c.status for c in community.cases(place)] == ["closed"]
    assert community.hidden(place) == (False, None)


def test_an_edited_post_is_scanned_again(engine: Engine, tmp_path: Path) -> None:
    community = Community(engine)
    post = community.post("a crypto giveaway")
    _rescan(tmp_path, LIST)
    community.edit(post, "edited: now about bomb making kits")
    result = _rescan(tmp_path)
    assert [(s.kind, s.posts, s.new_hits, s.cleared) for s in result.steps] == [("incremental", 1, 1, 1)]
    (hit,) = community.hits(post)
    assert community.body(post)[hit.start_offset : hit.end_offset] == "bomb making"
    # the case stays open for a moderator, and now rests on the new hit as well
    (case,) = community.cases(post)
    assert case.status == "open" and case.categories == "terrorism"


def test_a_file_attached_to_an_old_post_is_scanned(engine: Engine, tmp_path: Path) -> None:
    from tasks.calendar import utc_now

    community = Community(engine)
    post = community.post("our lesson plan")
    _rescan(tmp_path, LIST)
    attachment = community.attach(post, "Bomb-Making_guide.pdf", uploaded_at=utc_now())
    result = _rescan(tmp_path)
    assert [(s.kind, s.posts, s.new_hits) for s in result.steps] == [("incremental", 1, 1)]
    (hit,) = community.hits(post)
    assert (hit.field, hit.source_id, hit.start_offset, hit.end_offset) == ("attachment", attachment, 0, 11)
    assert community.hidden(post) == (True, "moderation")


def test_parallel_workers_find_exactly_what_one_finds(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Chunks of 100 posts: the workers share many spans of the 450 posts, handed out as they ask.
    monkeypatch.setenv("STEWARD_CHUNK_SIZE", "100")
    reset_settings_cache()
    community = Community(engine)
    post_ids = [
        community.post(
            f"post {i}: " + ("crypto giveaway " if i % 7 == 0 else "") + ("t.me/x " if i % 5 == 0 else "ok")
        )
        for i in range(450)
    ]
    list_file = str(write_list(tmp_path / "list.csv", LIST))
    parallel = content_rescan_once(keyword_list=list_file, workers=2, min_parallel=1)
    assert [(s.workers, s.posts) for s in parallel.steps] == [(2, 450)]
    found = {(h.post_id, h.term_id, h.start_offset) for h in community.hits()}
    assert len(found) == 65 + 90
    # Edited posts (an id list, not a range) shared between two workers too: the hits of the edits.
    for post_id in post_ids[::2]:
        community.edit(post_id, "crypto giveaway again")
    edited = content_rescan_once(workers=2, min_parallel=1)
    assert [(s.kind, s.workers, s.posts) for s in edited.steps] == [("incremental", 2, 225)]
    after_edits = {(h.post_id, h.term_id, h.start_offset) for h in community.hits()}

    with engine.begin() as conn:
        for table in (moderation_decisions, scan_hits, moderation_cases, content_scans, scan_state):
            conn.execute(sa.delete(table))
        conn.execute(update(posts).values(is_hidden=False, hidden_at=None, hidden_reason=None))
    single = content_rescan_once(workers=1)
    assert [s.workers for s in single.steps] == [1]
    assert {(h.post_id, h.term_id, h.start_offset) for h in community.hits()} == after_edits
    assert len({post for post, _term, _start in after_edits}) == 225 + 71  # odd i divisible by 5 or 7


def test_work_is_handed_out_once_in_shrinking_spans() -> None:
    work = _Work("range", 11, 100_010, workers=2, min_span=1_000)
    spans = []
    while (span := work.take()) is not None:
        spans.append(span)
    assert spans[0] == (11, 11 + 25_000 - 1)
    assert [first for first, _last in spans[1:]] == [last + 1 for _first, last in spans[:-1]]
    assert spans[-1][1] == 100_010
    sizes = [last - first + 1 for first, last in spans]
    assert sizes == sorted(sizes, reverse=True)
    assert min(sizes[:-1]) == 1_000
    assert work.take() is None


def test_each_text_of_a_chunk_knows_its_place() -> None:
    rows = [(1, "A title", "a body"), (2, None, "second body"), (3, "only a title", ""), (4, "", "fourth")]
    attachments = [(70, 2, "plan.pdf"), (71, 4, ""), (72, 4, "notes.docx")]
    documents = _documents(rows, attachments)
    placed = {documents.place(i): text for i, text in enumerate(documents.texts)}
    assert placed == {
        (1, "title", 1): "A title",
        (3, "title", 3): "only a title",
        (1, "body", 1): "a body",
        (2, "body", 2): "second body",
        (4, "body", 4): "fourth",
        (2, "attachment", 70): "plan.pdf",
        (4, "attachment", 72): "notes.docx",
    }
    assert len(documents) == 7


def test_a_post_has_at_most_one_open_case(engine: Engine, tmp_path: Path) -> None:
    community = Community(engine)
    post = community.post("crypto giveaway")
    _rescan(tmp_path, LIST)
    (case,) = community.cases(post)
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
        conn.execute(
            insert(moderation_cases),
            [
                {
                    "post_id": post,
                    "status": "open",
                    "source": "member_report",
                    "opened_at": case.opened_at,
                    "due_at": case.due_at,
                }
            ],
        )


def test_a_bad_hit_set_stops_the_job_before_any_post_is_hidden(engine: Engine, tmp_path: Path) -> None:
    community = Community(engine)
    post = community.post("crypto giveaway")
    _rescan(tmp_path, LIST)
    later = community.post("another crypto giveaway")
    with engine.begin() as conn:  # a hit the scanner never writes: an unknown action
        hit = community.hits(post)[0]
        row = {c.name: getattr(hit, c.name) for c in scan_hits.columns if c.name != "id"}
        conn.execute(
            insert(scan_hits), [{**row, "start_offset": 99, "action": "quarantine", "applied_at": None}]
        )
    with pytest.raises(ContractViolation) as stopped:
        _rescan(tmp_path)
    assert "scan_hits.action" in str(stopped.value)
    assert community.hidden(later) == (False, None)
    assert community.cases(later) == []


def test_a_bad_case_stops_the_queue_before_any_post_is_hidden(engine: Engine, tmp_path: Path) -> None:
    community = Community(engine)
    broken = community.post("nothing listed")
    with engine.begin() as conn:  # an open case in a state the contract refuses
        now = community.start
        conn.execute(
            insert(moderation_cases),
            [{"post_id": broken, "status": "open", "source": "rumour", "opened_at": now, "due_at": now}],
        )
    community.edit(broken, "crypto giveaway")
    fresh = community.post("a second crypto giveaway")
    with pytest.raises(ContractViolation) as stopped:
        _rescan(tmp_path, LIST)
    assert "moderation_cases.source" in str(stopped.value)
    assert community.hidden(broken) == (False, None) and community.hidden(fresh) == (False, None)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(moderation_cases)).scalar_one() == 1


def test_no_post_text_reaches_logs_reports_audit_or_scan_records(
    engine: Engine, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    community = Community(engine)
    post = community.post(f"{SENTINEL} says: crypto giveaway", title=f"About {SENTINEL}")
    community.report(post, "fraud")
    with caplog.at_level(logging.DEBUG):
        _rescan(tmp_path, LIST)
    assert SENTINEL not in caplog.text
    reports = list((get_settings().output_dir / "reports").glob("*"))
    assert reports and all(SENTINEL not in p.read_text() for p in reports)
    snapshot = _snapshot(engine)
    for name in ("scan_hits", "moderation_cases", "content_scans", "audit"):
        assert SENTINEL not in repr(snapshot[name]), name

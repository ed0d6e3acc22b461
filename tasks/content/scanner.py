"""The content scanner: which posts to read with which terms, reading them in chunks (in parallel worker
processes for big scans), and writing the hits.

A scan catches up with two things, kept in `scan_state`: the posts (a watermark on posts.updated_at, id)
and the keyword list (the version last scanned with). `plan_scan` turns them into steps:

- `full`: every post with the whole list (the first scan; or after allow-listed words were withdrawn,
  when matches they used to suppress become hits);
- `added_terms`: every post with only the terms the new list versions added (and the allow-list); when
  they are few, a prefilter sets aside the texts that cannot match them before they are normalised
  (`matcher.Prefilter`);
- `recheck`: the posts with hits in force, with the whole list, after allow-listed words were added: a
  hit an allow-listed word now covers is cleared;
- `incremental`: the posts new or edited since the watermark (or given an attachment), with the whole
  list: hits no longer in an edited post are cleared.

Terms withdrawn by the new versions clear their hits first (`clear_withdrawn_hits`). Hits are written
once per place (post, field, source, term, start offset): a re-run finds them already there and changes
nothing. The watermark moves only when the whole run has finished (`finish_scan`), so a crash at any
point leaves a state the next run completes.

Only ids, offsets and counts leave this module: never a post's text.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import queue
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, DateTime, Integer, bindparam, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from steward.errors import StewardError
from steward.memory import without_cyclic_gc
from steward.progress import ProgressCallback, no_progress
from steward.settings import get_settings
from tasks.calendar import utc_now
from tasks.content.keywords import added_and_withdrawn, current_version, terms_in_version
from tasks.content.matcher import Documents, Hit, Matcher, Prefilter, Term, scan_documents
from tasks.db import (
    BULK_WAL_AUTOCHECKPOINT_PAGES,
    background_checkpoints,
    dispose_engines,
    get_engine,
    sql,
    sqlite_page_cache,
)
from tasks.schema import content_scans, scan_hits, scan_state

SCANNER = "content"
"""This scanner's row in scan_state."""

_EARLIEST = datetime(1900, 1, 1)


class ScanError(StewardError):
    """A scan could not complete (a worker failed); nothing after its last written chunk was lost."""


@dataclass(frozen=True)
class ScanStep:
    kind: str  # full | added_terms | recheck | incremental
    term_ids: tuple[int, ...]
    clear_missing: str | None = None
    """Reason to clear hits in force that the step no longer finds (steps with the whole list only)."""


@dataclass
class ScanPlan:
    version: int | None
    previous_version: int | None
    watermark: tuple[datetime | None, int | None]
    through: tuple[datetime, int] | None
    added: list[Term] = field(default_factory=list)
    withdrawn: list[Term] = field(default_factory=list)
    steps: list[ScanStep] = field(default_factory=list)
    terms: list[Term] = field(default_factory=list, repr=False)
    """The terms and allow-listed words in force in `version` (read once; the steps pick theirs)."""

    @property
    def nothing_to_do(self) -> bool:
        return not self.steps and not self.withdrawn and self.version == self.previous_version


@dataclass
class StepResult:
    kind: str
    scan_id: int | None
    terms: int
    workers: int = 1
    posts: int = 0
    documents: int = 0
    characters: int = 0
    new_hits: int = 0
    reactivated: int = 0
    cleared: int = 0
    seconds: float = 0.0
    worker_cpu_seconds: float = 0.0
    """CPU time of the busiest worker (its wall time on an otherwise idle machine)."""

    def add(self, counts: dict[str, int]) -> None:
        self.posts += counts["posts"]
        self.documents += counts["documents"]
        self.characters += counts["characters"]
        self.new_hits += counts["new_hits"]
        self.reactivated += counts["reactivated"]
        self.cleared += counts["cleared"]
        self.worker_cpu_seconds = max(self.worker_cpu_seconds, counts.get("cpu_ms", 0) / 1000)


# ------------------------------------------------------------------------------------------ the plan


def _typed(name: str, conn: Connection, **types: Any) -> Any:
    """sql/<name>.sql with typed bound parameters (datetimes are stored as text on SQLite)."""
    statement = sql(name, conn)
    params = [
        bindparam(key, expanding=True) if value == "expanding" else bindparam(key, type_=value)
        for key, value in types.items()
    ]
    return statement.bindparams(*params)


def _as_datetime(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))


def read_state(conn: Connection) -> Any:
    return conn.execute(select(scan_state).where(scan_state.c.scanner == SCANNER)).first()


_ANY_ID = 2**62
"""The snapshot's id when its moment is an attachment's: every post up to that moment is included."""


def _snapshot(conn: Connection) -> tuple[datetime, int] | None:
    """The (moment, post id) a scan runs up to: the newest post, or the newest attachment if later."""
    newest = conn.execute(sql("content__newest_post", conn).columns(updated_at=DateTime, id=Integer)).first()
    attached = conn.execute(sql("content__newest_attachment", conn).columns(uploaded_at=DateTime)).scalar()
    post_at = _as_datetime(newest.updated_at) if newest is not None else None
    attachment_at = _as_datetime(attached)
    if post_at is None:
        return None
    if attachment_at is not None and attachment_at > post_at:
        return attachment_at, _ANY_ID
    assert newest is not None
    return post_at, int(newest.id)


@without_cyclic_gc
def plan_scan(conn: Connection) -> ScanPlan:
    """What this run must scan, with which terms, to catch up with the posts and the keyword list (with
    the cyclic GC paused: reading tens of thousands of terms must not set off a walk of the heap)."""
    version = current_version(conn)
    state = read_state(conn)
    previous = state.list_version if state is not None else None
    watermark = (state.watermark_at, state.watermark_id) if state is not None else (None, None)
    through = _snapshot(conn)
    plan = ScanPlan(version, previous, watermark, through)
    if version is None:
        return plan
    plan.terms = terms_in_version(conn, version)
    everything = tuple(term.id for term in plan.terms)
    if watermark[0] is None:
        if through is not None:
            plan.steps.append(ScanStep("full", everything))
        return plan
    if previous != version:
        added, withdrawn = added_and_withdrawn(conn, previous, version)
        plan.added, plan.withdrawn = added, withdrawn
        allow_added = any(t.is_allow for t in added)
        if any(t.is_allow for t in withdrawn):
            # Matches that withdrawn allow-listed words suppressed become hits: everything again.
            plan.steps.append(ScanStep("full", everything, "allow_listed" if allow_added else None))
        else:
            blocking_added = [t.id for t in added if not t.is_allow]
            if blocking_added:
                allow_words = [t.id for t in plan.terms if t.is_allow]
                plan.steps.append(ScanStep("added_terms", tuple(blocking_added + allow_words)))
            if allow_added:
                plan.steps.append(ScanStep("recheck", everything, "allow_listed"))
    if through is not None and (watermark[0], watermark[1]) != through:
        plan.steps.append(ScanStep("incremental", everything, "edited"))
    return plan


def clear_withdrawn_hits(conn: Connection, plan: ScanPlan) -> int:
    """Clear the hits in force of the terms the new list versions withdrew (reason `withdrawn`)."""
    withdrawn = [t.id for t in plan.withdrawn if not t.is_allow]
    if not withdrawn or plan.version is None:
        return 0
    result = conn.execute(
        update(scan_hits)
        .where(scan_hits.c.term_id.in_(withdrawn), scan_hits.c.cleared_at.is_(None))
        .values(cleared_at=utc_now(), cleared_reason="withdrawn", cleared_in_version=plan.version)
    )
    return int(result.rowcount or 0)


def finish_scan(conn: Connection, plan: ScanPlan) -> None:
    """Move the watermark and the list version scanned with: the run is complete."""
    if plan.version is None:
        return
    watermark_at, watermark_id = plan.watermark
    if plan.through is not None:
        watermark_at, watermark_id = plan.through
    values = {
        "watermark_at": watermark_at,
        "watermark_id": watermark_id,
        "list_version": plan.version,
        "updated_at": utc_now(),
    }
    state = read_state(conn)
    if state is None:
        conn.execute(insert(scan_state), [{"scanner": SCANNER, **values}])
    elif (state.watermark_at, state.watermark_id, state.list_version) != (
        watermark_at,
        watermark_id,
        plan.version,
    ):
        conn.execute(update(scan_state).where(scan_state.c.scanner == SCANNER).values(**values))


# ------------------------------------------------------------------------------------- the workers


@dataclass
class _Context:
    """What a worker needs; set before forking, so each worker inherits it (the automaton is not copied
    until a page is written to)."""

    url: str
    matcher: Matcher
    scan_id: int
    version: int
    clear_missing: str | None
    chunk_rows: int
    dialect: str
    prefilter: Prefilter | None = None
    """Sets aside the texts that cannot match (steps with a few added terms only)."""


_CONTEXT: _Context | None = None
_WORK: _Work | None = None


def _zero() -> dict[str, int]:
    return {"posts": 0, "documents": 0, "characters": 0, "new_hits": 0, "reactivated": 0, "cleared": 0}


class _ChunkDocuments(Documents):
    """The texts of a chunk of posts: the titles, then the bodies, then the attachments' file names. Where
    a text comes from is worked out only for the texts asked about (the few that may match): building a
    place for each of a chunk's texts cost a worker a third as much as reading them."""

    def __init__(self, titled: list[Any], bodies: list[Any], files: list[Any]) -> None:
        super().__init__([row[1] for row in titled] + [row[2] for row in bodies] + [row[2] for row in files])
        self._rows = (titled, bodies, files)
        self._first_body = len(titled)
        self._first_file = len(titled) + len(bodies)

    def place(self, index: int) -> tuple[int, str, int]:
        titled, bodies, files = self._rows
        if index < self._first_body:
            return titled[index][0], "title", titled[index][0]
        if index < self._first_file:
            return bodies[index - self._first_body][0], "body", bodies[index - self._first_body][0]
        attachment_id, post_id, _name = files[index - self._first_file]
        return post_id, "attachment", attachment_id


def _documents(rows: Sequence[Any], attachments: Sequence[Any]) -> Documents:
    """The texts of a chunk: each post's title and body (rows of id, title, body) and its attachments'
    file names (rows of id, post_id, file_name)."""
    return _ChunkDocuments(
        [row for row in rows if row[1]],
        [row for row in rows if row[2]],
        [row for row in attachments if row[2]],
    )


def _rows(conn: Connection, statement: Any, params: dict[str, Any]) -> list[Any]:
    """All rows as the driver's plain tuples: for the texts a scan reads, SQLAlchemy's Row objects cost
    about as much as the reading itself, and these columns need no result processing."""
    result = conn.execute(statement, params)
    try:
        return list(result.cursor.fetchall()) if result.cursor is not None else []
    finally:
        result.close()


def _insert_hits(conn: Connection, dialect: str, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    statement: Any
    if dialect == "postgresql":
        statement = postgresql.insert(scan_hits).on_conflict_do_nothing(constraint="uq_scan_hits_place")
    elif dialect == "sqlite":
        statement = sqlite.insert(scan_hits).on_conflict_do_nothing()
    else:  # pragma: no cover - the two dialects steward supports
        statement = insert(scan_hits)
    conn.execute(statement, rows)


def write_chunk_hits(
    conn: Connection,
    ctx: _Context,
    post_ids: Sequence[int],
    hits: Sequence[Hit],
    *,
    first_id: int | None = None,
    last_id: int | None = None,
) -> dict[str, int]:
    """Write the hits found in a chunk of posts, in one transaction: new places inserted in one
    statement, places found again after being cleared brought back, and (for whole-list steps) places
    no longer found cleared."""
    counts = {"new_hits": 0, "reactivated": 0, "cleared": 0}
    if not hits and ctx.clear_missing is None:
        return counts
    query = select(scan_hits.c.id, scan_hits.c.post_id, scan_hits.c.field, scan_hits.c.source_id,
                   scan_hits.c.term_id, scan_hits.c.start_offset, scan_hits.c.cleared_at)  # fmt: skip
    if first_id is not None and last_id is not None:
        query = query.where(scan_hits.c.post_id >= first_id, scan_hits.c.post_id <= last_id)
    else:
        query = query.where(scan_hits.c.post_id.in_(list(post_ids)))
    existing = {
        (int(r.post_id), r.field, int(r.source_id), int(r.term_id), int(r.start_offset)): (
            int(r.id),
            r.cleared_at,
        )
        for r in conn.execute(query)
    }
    found_at = utc_now()
    new_rows: list[dict[str, Any]] = []
    reactivate: list[int] = []
    found_keys: set[tuple[int, str, int, int, int]] = set()
    for hit in hits:
        key = hit.key
        if key in found_keys:
            continue
        found_keys.add(key)
        known = existing.get(key)
        if known is None:
            new_rows.append(
                {
                    "scan_id": ctx.scan_id,
                    "post_id": hit.post_id,
                    "field": hit.field,
                    "source_id": hit.source_id,
                    "term_id": hit.term_id,
                    "list_version": ctx.version,
                    "category": hit.category,
                    "action": hit.action,
                    "start_offset": hit.start_offset,
                    "end_offset": hit.end_offset,
                    "found_at": found_at,
                    "applied_at": None,
                    "case_id": None,
                    "cleared_at": None,
                    "cleared_reason": None,
                    "cleared_in_version": None,
                }
            )
        elif known[1] is not None:
            reactivate.append(known[0])
    _insert_hits(conn, ctx.dialect, new_rows)
    counts["new_hits"] = len(new_rows)
    if reactivate:
        conn.execute(
            update(scan_hits)
            .where(scan_hits.c.id.in_(reactivate))
            .values(
                cleared_at=None,
                cleared_reason=None,
                cleared_in_version=None,
                applied_at=None,
                case_id=None,
                scan_id=ctx.scan_id,
                list_version=ctx.version,
                found_at=found_at,
            )
        )
        counts["reactivated"] = len(reactivate)
    if ctx.clear_missing is not None:
        scanned = set(post_ids)
        gone = [
            hit_id
            for key, (hit_id, cleared_at) in existing.items()
            if cleared_at is None and key[0] in scanned and key not in found_keys
        ]
        if gone:
            conn.execute(
                update(scan_hits)
                .where(scan_hits.c.id.in_(gone))
                .values(cleared_at=found_at, cleared_reason=ctx.clear_missing, cleared_in_version=ctx.version)
            )
        counts["cleared"] = len(gone)
    return counts


def _scan_chunk(
    ctx: _Context, rows: Sequence[Any], attachments: Sequence[Any]
) -> tuple[dict[str, int], list[Hit]]:
    """The counts and hits of a chunk of posts (nothing written yet)."""
    documents = _documents(rows, attachments)
    hits = scan_documents(ctx.matcher, documents, ctx.prefilter)
    counts = _zero()
    counts["posts"] = len(rows)
    counts["documents"] = len(documents)
    counts["characters"] = sum(map(len, documents.texts))
    return counts, hits


_CHUNKS_PER_WRITE = 5
"""Chunks whose hits a worker writes in one transaction: each transaction costs a query of the hits
already there and a commit (with 15,000 hits in 1,000,000 posts, a write per chunk cost a worker about as
much as reading a tenth of its posts)."""


_IN_WORKER = False
"""True in a forked worker: its parent checkpoints the WAL meanwhile (`tasks.db.background_checkpoints`)."""


def _write_hits(ctx: _Context, post_ids: list[int], hits: list[Hit], by_range: bool) -> dict[str, int]:
    """Write the hits of consecutive chunks of posts in one transaction (see write_chunk_hits)."""
    with get_engine(ctx.url).begin() as conn:
        if _IN_WORKER and ctx.dialect == "sqlite":
            # the parent's checkpointer copies the WAL; this commit does not stop to do it
            conn.exec_driver_sql(f"pragma wal_autocheckpoint = {BULK_WAL_AUTOCHECKPOINT_PAGES}")
        if by_range:
            return write_chunk_hits(conn, ctx, post_ids, hits, first_id=post_ids[0], last_id=post_ids[-1])
        return write_chunk_hits(conn, ctx, post_ids, hits)


_STREAM_CACHE_KIB = 2048
"""SQLite page cache of a connection that streams posts: each page is read once, and a large cache only
allocates (and faults in) a new buffer for every page read, which made reading twice as slow."""


def _chunks_of_range(
    ctx: _Context, first_id: int, last_id: int
) -> Iterator[tuple[Sequence[Any], Sequence[Any]]]:
    """The posts of an id range, a chunk at a time, on one connection (each chunk its own short read)."""
    engine = get_engine(ctx.url)
    after = first_id - 1
    with engine.connect() as conn, sqlite_page_cache(conn, _STREAM_CACHE_KIB):
        posts_query = sql("content__posts_by_id_range", conn)
        attachments_query = sql("content__attachments_by_post_range", conn)
        while after < last_id:
            rows = _rows(
                conn, posts_query, {"after_id": after, "last_id": last_id, "chunk_rows": ctx.chunk_rows}
            )
            if not rows:
                return
            attachments = _rows(conn, attachments_query, {"first_id": rows[0][0], "last_id": rows[-1][0]})
            conn.rollback()  # end the read: no snapshot is held while the chunk is matched and written
            yield rows, attachments
            after = int(rows[-1][0])


def _chunks_of_ids(ctx: _Context, post_ids: Sequence[int]) -> Iterator[tuple[Sequence[Any], Sequence[Any]]]:
    engine = get_engine(ctx.url)
    with engine.connect() as conn, sqlite_page_cache(conn, _STREAM_CACHE_KIB):
        posts_query = _typed("content__posts_by_ids", conn, post_ids="expanding")
        attachments_query = _typed("content__attachments_by_post_ids", conn, post_ids="expanding")
        for start in range(0, len(post_ids), ctx.chunk_rows):
            chunk = list(post_ids[start : start + ctx.chunk_rows])
            rows = conn.execute(posts_query, {"post_ids": chunk}).all()
            attachments = conn.execute(attachments_query, {"post_ids": chunk}).all()
            conn.rollback()
            if rows:
                yield rows, attachments


_TAIL_SPAN_SHARE = 4
"""The last spans handed out are a quarter of a chunk: the worker that finishes first then waits for the
other at most that long (a whole chunk of 10,000 posts is about 0.2 s of matching)."""


def _min_span(chunk_rows: int) -> int:
    return max(1, chunk_rows // _TAIL_SPAN_SHARE)


@dataclass
class _Work:
    """A step's posts, handed out a span at a time to whichever worker asks next: the spans shrink as the
    work runs out (a share of what remains, at least a quarter of a chunk: `_min_span`), so the workers
    finish together however unevenly the machine's other load slows them.

    `kind` "range": spans of post ids from `first` to `last`; "ids": spans of positions in `ids`."""

    kind: str
    first: int
    last: int
    workers: int
    min_span: int
    ids: Sequence[int] = ()
    _next: Any = None

    def __post_init__(self) -> None:
        # Shared by the forked workers (a lock and an integer in shared memory).
        self._next = multiprocessing.get_context("fork").Value("q", self.first)

    def take(self) -> tuple[int, int] | None:
        """The next span (first, last), or None when everything has been handed out."""
        with self._next.get_lock():
            start = int(self._next.value)
            if start > self.last:
                return None
            size = max(self.min_span, (self.last - start + 1) // (2 * self.workers))
            stop = min(self.last, start + size - 1)
            self._next.value = stop + 1
        return start, stop

    def spans(self, ctx: _Context) -> Iterator[Iterator[tuple[Sequence[Any], Sequence[Any]]]]:
        """The chunks of each span this worker takes, span by span."""
        while (span := self.take()) is not None:
            if self.kind == "range":
                yield _chunks_of_range(ctx, *span)
            else:
                yield _chunks_of_ids(ctx, self.ids[span[0] : span[1] + 1])


def _scan_work(ctx: _Context, work: _Work, progress: ProgressCallback) -> dict[str, int]:
    """Scan the spans this worker takes; the hits of up to _CHUNKS_PER_WRITE chunks of a span of ids are
    written together (a crash loses at most those: a re-run finds them again)."""
    total = _zero()
    by_range = work.kind == "range"
    # Steps over lists of ids write chunk by chunk: their writes name every post id in one statement.
    write_rows = ctx.chunk_rows * (_CHUNKS_PER_WRITE if by_range else 1)

    def write(post_ids: list[int], hits: list[Hit]) -> None:
        if post_ids:
            for key, number in _write_hits(ctx, post_ids, hits, by_range).items():
                total[key] += number

    for chunks in work.spans(ctx):
        post_ids: list[int] = []
        hits: list[Hit] = []
        for rows, attachments in chunks:
            counts, found = _scan_chunk(ctx, rows, attachments)
            for key, number in counts.items():
                total[key] += number
            post_ids.extend(int(row[0]) for row in rows)
            hits.extend(found)
            if len(post_ids) >= write_rows:
                write(post_ids, hits)
                post_ids, hits = [], []
            progress(len(rows))
        write(post_ids, hits)
    return total


def _worker_main(number: int, results: Any) -> None:
    """A forked worker: fresh database connections, spans of the step's posts until none is left, counts
    (never text) back."""
    global _IN_WORKER
    try:
        assert _CONTEXT is not None and _WORK is not None
        dispose_engines()
        _IN_WORKER = True
        # The parent's objects were frozen before the fork: collections here leave them (and the pages
        # they live on) alone.
        gc.enable()

        def report(n: int) -> None:
            results.put(("progress", number, n))

        counts = _scan_work(_CONTEXT, _WORK, report)
        counts["cpu_ms"] = int(time.process_time() * 1000)  # a forked process starts at zero
        results.put(("done", number, counts))
    except BaseException as error:  # reported to the parent, which raises ScanError
        results.put(("error", number, f"{type(error).__name__} in worker {number}"))
    finally:
        dispose_engines()


def _collect(
    workers: list[Any], results: Any, progress: ProgressCallback
) -> tuple[dict[str, int], list[str]]:
    """The workers' reports until each has finished or stopped: their counts added up, and their errors."""
    total = _zero()
    pending = set(range(len(workers)))
    errors: list[str] = []
    while pending:
        try:
            kind, number, payload = results.get(timeout=1.0)
        except queue.Empty:
            for n in list(pending):
                if not workers[n].is_alive() and workers[n].exitcode not in (None, 0):
                    errors.append(f"worker {n} stopped (exit code {workers[n].exitcode})")
                    pending.discard(n)
            continue
        if kind == "progress":
            progress(payload)
        elif kind == "done":
            for key, value in payload.items():
                total[key] = max(total.get(key, 0), value) if key == "cpu_ms" else total[key] + value
            pending.discard(number)
        else:
            errors.append(payload)
            pending.discard(number)
    return total, errors


def _run_work(ctx: _Context, work: _Work, progress: ProgressCallback) -> dict[str, int]:
    global _CONTEXT, _WORK
    if work.workers == 1:
        cpu = time.process_time()
        counts = _scan_work(ctx, work, progress)
        counts["cpu_ms"] = int((time.process_time() - cpu) * 1000)
        return counts
    # Fork after the automaton is built: each worker inherits it and opens its own connections. Freezing
    # the parent's objects first keeps the workers' garbage collections off them (no copy-on-write of
    # every page for the collector's bookkeeping).
    dispose_engines()
    _CONTEXT, _WORK = ctx, work
    gc.freeze()
    mp = multiprocessing.get_context("fork")
    results = mp.Queue()
    workers = [mp.Process(target=_worker_main, args=(n, results), daemon=True) for n in range(work.workers)]
    try:
        for worker in workers:
            worker.start()
        # The workers commit without stopping to checkpoint the WAL; a thread of this (idle) process does it.
        with background_checkpoints(get_engine(ctx.url)):
            total, errors = _collect(workers, results, progress)
        for worker in workers:
            worker.join()
        if errors:
            raise ScanError("the scan did not complete: " + "; ".join(errors) + " (a re-run completes it)")
        return total
    finally:
        _CONTEXT, _WORK = None, None
        gc.unfreeze()
        for worker in workers:
            if worker.is_alive():
                worker.terminate()


_ALLOCATOR_TUNED = False


def tune_allocator() -> None:
    """Keep freed memory for reuse (glibc): each chunk allocates and frees the same large arrays, and
    handing them back to the system and faulting them in again costs a tenth of the scan. Peak memory
    is unchanged. A no-op where the C library is not glibc."""
    global _ALLOCATOR_TUNED
    if _ALLOCATOR_TUNED:
        return
    _ALLOCATOR_TUNED = True
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
        m_trim_threshold, m_mmap_threshold = -1, -3
        libc.mallopt(m_mmap_threshold, 256 * 1024 * 1024)
        libc.mallopt(m_trim_threshold, 512 * 1024 * 1024)
    except (OSError, AttributeError):
        pass


def _worker_count(requested: int | None) -> int:
    settings = get_settings()
    count = requested if requested else settings.content_scan_workers
    return max(1, count or (os.cpu_count() or 1))


def _work(
    conn: Connection, step: ScanStep, plan: ScanPlan, workers: int, min_parallel: int, chunk_rows: int
) -> _Work | None:
    """A step's posts, and how many workers share them."""
    if step.kind in ("full", "added_terms"):
        bounds = conn.execute(sql("content__post_id_bounds", conn)).first()
        if bounds is None or bounds.first_id is None:
            return None
        # The id span stands for the count (counting a big table costs a scan of it).
        first, last = int(bounds.first_id), int(bounds.last_id)
        parts = workers if last - first + 1 >= min_parallel else 1
        return _Work("range", first, last, parts, _min_span(chunk_rows))
    if step.kind == "recheck":
        ids = [int(r.id) for r in conn.execute(sql("content__posts_with_active_hits", conn))]
    else:
        after_at, after_id = plan.watermark
        assert plan.through is not None
        ids = [
            int(r.id)
            for r in conn.execute(
                _typed(
                    "content__changed_post_ids",
                    conn,
                    after_at=DateTime,
                    through_at=DateTime,
                ),
                {
                    "after_at": after_at or _EARLIEST,
                    "after_id": after_id or 0,
                    "through_at": plan.through[0],
                    "through_id": plan.through[1],
                },
            )
        ]
    if not ids:
        return None
    parts = workers if len(ids) >= min_parallel else 1
    return _Work("ids", 0, len(ids) - 1, parts, _min_span(chunk_rows), ids)


def run_step(
    url: str,
    plan: ScanPlan,
    step: ScanStep,
    *,
    workers: int | None = None,
    min_parallel: int | None = None,
    progress: ProgressCallback | None = None,
    run_id: str | None = None,
) -> StepResult:
    """Run one step of a plan: read its posts in chunks (in parallel when there are enough), write hits."""
    settings = get_settings()
    progress = progress or no_progress
    assert plan.version is not None
    engine = get_engine(url)
    wanted = set(step.term_ids)
    with engine.begin() as conn:
        in_force = plan.terms or terms_in_version(conn, plan.version)
        terms = [t for t in in_force if t.id in wanted]
        matcher = Matcher(terms)
        result = StepResult(step.kind, None, sum(1 for t in terms if not t.is_allow))
        if matcher.empty:
            return result
        work = _work(
            conn,
            step,
            plan,
            _worker_count(workers),
            min_parallel if min_parallel is not None else settings.content_parallel_min_posts,
            settings.chunk_size,
        )
        if work is None:
            return result
        result.workers = work.workers
        scan_id = conn.execute(
            insert(content_scans).returning(content_scans.c.id),
            [
                {
                    "kind": step.kind,
                    "list_version": plan.version,
                    "status": "running",
                    "terms": result.terms,
                    "workers": result.workers,
                    "started_at": utc_now(),
                    "run_id": run_id,
                }
            ],
        ).scalar_one()
        dialect = conn.dialect.name
    result.scan_id = int(scan_id)
    tune_allocator()
    started = time.perf_counter()
    # Only the added terms' step: with the whole list, nearly every text would pass.
    prefilter = Prefilter.build(matcher) if step.kind == "added_terms" else None
    ctx = _Context(
        url,
        matcher,
        result.scan_id,
        plan.version,
        step.clear_missing,
        settings.chunk_size,
        dialect,
        prefilter,
    )
    result.add(_run_work(ctx, work, progress))
    result.seconds = time.perf_counter() - started
    with engine.begin() as conn:
        conn.execute(
            update(content_scans)
            .where(content_scans.c.id == result.scan_id)
            .values(
                status="completed",
                finished_at=utc_now(),
                posts_scanned=result.posts,
                characters_scanned=result.characters,
                hits_found=result.new_hits + result.reactivated,
            )
        )
    return result

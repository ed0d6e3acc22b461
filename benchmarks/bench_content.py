"""The content scan at scale, on SQLite: a full scan against the bare matcher, a list update, memory.

Targets (issue 3), at 1,000,000 posts and 10,000 terms:
- a full scan (read, normalise, match, write hits and cases) uses both cores and reaches at least 1.5 times
  the throughput of the bare matcher (the same automaton and normalisation over the same texts already in
  memory, in one process), measured in the same run;
- a list update that adds 100 terms rescans the 1,000,000 posts in at most half the time of a full scan
  (the rescan sets aside, through `matcher.Prefilter`, the texts that cannot match the added terms);
- peak memory under 1 GB (posts are streamed in chunks).

The posts and terms are synthetic and generated here (English-like words from syllables; about 1.5% of posts
carry a term, 40% of those disguised: digits and symbols, repeated letters, split letters, Cyrillic
lookalikes, zero-width characters, fullwidth letters; 2% of clean posts hold accents or emoji; a fifth of
posts have a title and one in twenty an attachment). They are written once to var/bench/content-<N>.db and
reused; each run resets steward's own tables first. Size: STEWARD_BENCH_POSTS (default 1,000,000) and
STEWARD_BENCH_TERMS (default 10,000); STEWARD_CONTENT_SCAN_WORKERS (default: one per CPU).

Each round (STEWARD_BENCH_ROUNDS, default 5) measures the bare matcher, a full scan and the rescan one
right after the other, from a fresh list; the verdicts go by the median of the rounds' ratios. This VM's
speed drifts by 10 to 20% from one minute to the next: single runs of the same code gave ratios from 1.35x
to 1.56x.
"""

from __future__ import annotations

import os
import resource
import statistics
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from steward import PROJECT_ROOT

BENCH_DIR = PROJECT_ROOT / "var" / "bench"
RATIO_TARGET = 1.5
RESCAN_TARGET = 0.5
MEMORY_TARGET_BYTES = 1_000_000_000
ADDED_TERMS = 100
CHUNK = 20_000
CATEGORIES = ("terrorism", "csea", "hate", "violence", "fraud", "organisation")

_ONSETS = ["b", "c", "d", "f", "g", "h", "j", "k", "l", "m", "n", "p", "r", "s", "t", "v", "w", "y", "bl", "br", "ch", "cl", "cr", "dr", "fl", "fr", "gl", "gr", "pl", "pr", "sc", "sh", "sk", "sl", "sm", "sn", "sp", "st", "str", "sw", "th", "tr", "tw", "wh"] + [""]  # fmt: skip
_NUCLEI = ["a", "e", "i", "o", "u", "ai", "ea", "ee", "oo", "ou", "ie", "oa", "y"]
_CODAS = ["", "", "", "b", "ck", "d", "ft", "g", "l", "ll", "lt", "m", "mp", "n", "nd", "ng", "nk", "nt", "p", "r", "rd", "rk", "rn", "s", "sh", "sk", "st", "t", "th", "x", "ss"]  # fmt: skip
_SUFFIXES = ["", "", "", "", "s", "ing", "ed", "er", "ly", "tion", "ment", "ness", "able"]
_COMMON = [
    "the",
    "of",
    "and",
    "to",
    "a",
    "in",
    "is",
    "it",
    "you",
    "that",
    "he",
    "was",
    "for",
    "on",
    "are",
    "with",
    "as",
    "i",
    "his",
    "they",
    "be",
    "at",
    "one",
    "have",
    "this",
    "from",
    "or",
    "had",
    "by",
    "but",
    "not",
    "what",
    "all",
    "were",
    "we",
    "when",
    "your",
    "can",
    "said",
    "there",
    "use",
    "an",
    "each",
    "which",
    "she",
    "do",
    "how",
    "their",
    "if",
    "will",
    "up",
    "other",
    "about",
    "out",
    "many",
    "then",
    "them",
    "these",
    "so",
    "some",
    "her",
    "would",
    "make",
    "like",
    "him",
    "into",
    "time",
    "has",
    "look",
    "two",
    "more",
    "write",
    "go",
    "see",
    "number",
    "no",
    "way",
    "could",
    "people",
    "my",
    "than",
    "first",
    "water",
    "been",
    "call",
    "who",
    "now",
    "find",
    "long",
    "down",
    "day",
    "did",
    "get",
    "come",
    "made",
    "may",
    "part",
    "school",
    "pupils",
    "lesson",
    "science",
    "maths",
    "physics",
    "chemistry",
    "biology",
    "teacher",
    "class",
    "students",
    "experiment",
    "resources",
    "workshop",
    "ambassador",
    "event",
    "careers",
    "engineering",
    "coding",
    "robot",
    "week",
    "term",
    "year",
    "group",
    "activity",
    "idea",
    "thanks",
    "really",
    "great",
    "question",
    "help",
    "please",
    "share",
    "worksheet",
    "curriculum",
    "assessment",
    "exam",
    "practical",
    "safety",
    "lab",
    "kit",
    "funding",
]
_NON_ASCII = ["café", "naïve", "Straße", "👍", "🙂 thanks", "résumé", "Zoë", "Siân", "crème brûlée", "—"]
_CYRILLIC = {
    "a": "\u0430",
    "c": "\u0441",
    "e": "\u0435",
    "o": "\u043e",
    "p": "\u0440",
    "x": "\u0445",
    "y": "\u0443",
}
_LEET = {"a": "4", "e": "3", "i": "1", "o": "0", "s": "$", "t": "7"}


def _peak_rss_bytes(who: int = resource.RUSAGE_SELF) -> int:
    return resource.getrusage(who).ru_maxrss * 1024  # KiB on Linux


def _verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"


def _word(rng: np.random.Generator) -> str:
    syllables = int(rng.choice([1, 1, 2, 2, 2, 3]))
    parts = [
        _ONSETS[rng.integers(len(_ONSETS))]
        + _NUCLEI[rng.integers(len(_NUCLEI))]
        + _CODAS[rng.integers(len(_CODAS))]
        for _ in range(syllables)
    ]
    return "".join(parts) + _SUFFIXES[rng.integers(len(_SUFFIXES))]


def _disguise(term: str, method: int, rng: np.random.Generator) -> str:
    if method == 0:
        return "".join(_LEET.get(c, c) for c in term)
    if method == 1:
        vowels = [i for i, c in enumerate(term) if c in "aeiou"] or [0]
        i = vowels[rng.integers(len(vowels))]
        return term[:i] + term[i] * 4 + term[i + 1 :]
    if method == 2:
        words = term.split(" ")
        words[0] = ".".join(words[0])
        return " ".join(words)
    if method == 3:
        return "".join(_CYRILLIC.get(c, c) for c in term)
    if method == 4:
        return term[:2] + "\u200b" + term[2:]
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else "\u3000" for c in term)


class Corpus:
    """Deterministic synthetic posts and terms: chunk k is the same every time."""

    def __init__(self, posts: int, terms: int, seed: int = 42) -> None:
        from tasks.content.keywords import normal_identity

        self.posts = posts
        rng = np.random.default_rng(seed)
        vocabulary = list(dict.fromkeys(_word(rng) for _ in range(40_000)))[:20_000]
        weights = 1 / np.arange(1, len(vocabulary) + 1)
        picks = rng.choice(len(vocabulary), size=(60_000, 12), p=weights / weights.sum())
        common = rng.random((60_000, 12)) < 0.45
        common_words = rng.integers(len(_COMMON), size=(60_000, 12))
        self.sentences = [
            " ".join(
                _COMMON[c] if is_common else vocabulary[v]
                for v, is_common, c in zip(row, crow, cw, strict=True)
            )
            for row, crow, cw in zip(picks.tolist(), common.tolist(), common_words.tolist(), strict=True)
        ]
        known = {normal_identity(w) for w in vocabulary} | {normal_identity(w) for w in _COMMON}
        made: dict[str, tuple[str, str, str, str]] = {}
        while len(made) < terms + ADDED_TERMS:
            if rng.random() < 0.7:
                term = _word(rng) + _word(rng)[:3]
                mode = "prefix" if rng.random() < 0.15 else ("anywhere" if rng.random() < 0.06 else "word")
            else:
                term = f"{vocabulary[rng.integers(200, 20_000)]} {vocabulary[rng.integers(200, 20_000)]}"
                mode = "phrase"
            identity = normal_identity(term)
            if len(term) < 6 or identity is None or identity in known or identity in made:
                continue
            action = "hold" if rng.random() < 0.3 else "alert"
            made[identity] = (term, CATEGORIES[len(made) % len(CATEGORIES)], mode, action)
        listed = list(made.values())
        self.terms = listed[:terms]
        self.added = listed[terms:]

    def chunk(self, index: int) -> list[tuple[str | None, str, str | None]]:
        """(title, body, attachment file name) of posts index*CHUNK ... (index+1)*CHUNK-1."""
        rng = np.random.default_rng(1_000 + index)
        first = index * CHUNK
        count = min(CHUNK, self.posts - first)
        sentence_ids = rng.integers(len(self.sentences), size=(count, 5)).tolist()
        planted = rng.random(count) < 0.015
        planted_added = rng.random(count) < 0.003
        which = rng.integers(len(self.terms), size=count)
        which_added = rng.integers(max(1, len(self.added)), size=count)
        disguise = rng.random(count) < 0.4
        method = rng.integers(6, size=count)
        accents = rng.random(count) < 0.02
        titled = rng.random(count) < 0.2
        attached = rng.random(count) < 0.05
        out: list[tuple[str | None, str, str | None]] = []
        for i in range(count):
            parts = [self.sentences[j] for j in sentence_ids[i]]
            if planted[i]:
                term = self.terms[which[i]][0]
                parts.insert(2, _disguise(term, int(method[i]), rng) if disguise[i] else term)
            if planted_added[i] and self.added:
                parts.insert(1, self.added[which_added[i]][0])
            if accents[i]:
                parts.append(_NON_ASCII[i % len(_NON_ASCII)])
            body = ". ".join(parts).capitalize() + "."
            title = self.sentences[sentence_ids[i][0]][:60].capitalize() if titled[i] else None
            attachment = (
                f"{self.sentences[sentence_ids[i][1]][:24].replace(' ', '_')}.pdf" if attached[i] else None
            )
            out.append((title, body, attachment))
        return out

    def chunks(self) -> int:
        return (self.posts + CHUNK - 1) // CHUNK


def _write_list(path: Path, terms: list[tuple[str, str, str, str]]) -> Path:
    import csv

    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["term", "category", "match_mode", "action"])
        writer.writerows(terms)
    return path


def _database(corpus: Corpus) -> str:
    """The bench database with the corpus's posts, built on first use (then reused)."""
    from sqlalchemy import insert

    from tasks.db import dispose_engines, get_engine, upgrade_database
    from tasks.schema import accounts, community_threads, post_attachments, posts

    name = "content-1m.db" if corpus.posts == 1_000_000 else f"content-{corpus.posts}.db"
    path = BENCH_DIR / name
    marker = path.with_name(path.name + ".building")
    url = f"sqlite:///{path}"
    if path.exists() and not marker.exists():
        upgrade_database(url)
        return url
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    marker.touch()
    for leftover in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        leftover.unlink(missing_ok=True)
    upgrade_database(url)
    print(f"generating {corpus.posts:,} posts into {path} (once; reused by later runs)", flush=True)
    started = time.perf_counter()
    base = datetime(2026, 1, 1)
    engine = get_engine(url)
    with engine.begin() as conn:
        conn.execute(
            insert(accounts),
            [{"id": 1, "account_type": "educator", "email": "bench@school.example", "first_name": "B",
              "last_name": "Ench", "region": "London", "registered_at": base, "updated_at": base}],
        )  # fmt: skip
        conn.execute(
            insert(community_threads),
            [{"id": t, "author_account_id": 1, "title": "t", "category": "general", "created_at": base} for t in range(1, 101)],
        )  # fmt: skip
    post_id = 0
    for index in range(corpus.chunks()):
        rows, files = [], []
        for title, body, attachment in corpus.chunk(index):
            post_id += 1
            moment = base + timedelta(seconds=post_id)
            rows.append(
                {"id": post_id, "thread_id": 1 + post_id % 100, "author_account_id": 1, "title": title, "body": body,
                 "created_at": moment, "updated_at": moment}
            )  # fmt: skip
            if attachment:
                files.append(
                    {"post_id": post_id, "file_name": attachment, "content_type": "application/pdf", "size_bytes": 1,
                     "uploaded_at": moment}
                )  # fmt: skip
        with engine.begin() as conn:
            conn.execute(insert(posts), rows)
            if files:
                conn.execute(insert(post_attachments), files)
    dispose_engines()
    marker.unlink()
    print(f"  generated in {time.perf_counter() - started:.1f} s", flush=True)
    return url


def _reset(url: str) -> None:
    """Forget every scan, hit, case and list: each run starts from the same state."""
    from sqlalchemy import delete, update

    from tasks.db import get_engine
    from tasks.schema import (
        content_scans,
        filter_complaints,
        keyword_lists,
        keyword_terms,
        moderation_appeals,
        moderation_case_reports,
        moderation_cases,
        moderation_decisions,
        posts,
        scan_hits,
        scan_state,
    )

    with get_engine(url).begin() as conn:
        for table in (scan_hits, moderation_case_reports, moderation_decisions, moderation_appeals, filter_complaints,
                      moderation_cases, content_scans, scan_state, keyword_terms, keyword_lists):  # fmt: skip
            conn.execute(delete(table))
        conn.execute(
            update(posts)
            .where(posts.c.is_hidden.is_(True))
            .values(is_hidden=False, hidden_at=None, hidden_reason=None)
        )


def _bare_matcher(url: str) -> tuple[float, float, int, int]:
    """The same automaton and normalisation over the same documents, held in memory, one process: only
    the matching is timed (reading each chunk into memory is not)."""
    from steward.settings import get_settings
    from tasks.content.keywords import terms_in_version
    from tasks.content.matcher import Matcher, scan_documents
    from tasks.content.scanner import _chunks_of_range, _Context, _documents
    from tasks.db import get_engine, sql

    engine = get_engine(url)
    with engine.connect() as conn:
        terms = terms_in_version(conn)
        bounds = conn.execute(sql("content__post_id_bounds", conn)).one()
    matcher = Matcher(terms)
    ctx = _Context(url, matcher, 0, 1, None, get_settings().chunk_size, "sqlite")
    seconds, cpu, characters, hits = 0.0, 0.0, 0, 0
    for rows, attachments in _chunks_of_range(ctx, int(bounds.first_id), int(bounds.last_id)):
        documents = _documents(rows, attachments)
        characters += sum(map(len, documents.texts))
        started, cpu_started = time.perf_counter(), time.process_time()
        hits += len(scan_documents(matcher, documents))
        seconds += time.perf_counter() - started
        cpu += time.process_time() - cpu_started
    return seconds, cpu, characters, hits


def _timed_run(url: str, workers: int) -> tuple[dict[str, Any], float, float, float]:
    """The job's stages as the flow runs them; the blocking contract checks are timed apart (the targets
    are about reading, normalising, matching and writing hits and cases)."""
    from tasks.content import pipeline
    from tasks.content.moderation import check_cases, update_queue
    from tasks.db import begin

    started, cpu_started = time.perf_counter(), time.process_time()
    plan = pipeline.plan(url)
    pipeline.clear_withdrawn(plan, url)
    steps = pipeline.scan(plan, url, workers=workers)
    checking, cpu_checking = time.perf_counter(), time.process_time()
    pipeline.check_pending_hits(url)
    contracts = time.perf_counter() - checking
    contracts_cpu = time.process_time() - cpu_checking
    with begin(url) as conn:
        queue = update_queue(conn, version=plan.version, check_contract=False)
        checking, cpu_checking = time.perf_counter(), time.process_time()
        check_cases(conn, queue.touched)
        contracts += time.perf_counter() - checking
        contracts_cpu += time.process_time() - cpu_checking
    pipeline.finish(plan, url)
    elapsed = time.perf_counter() - started - contracts
    # On an idle machine the run takes this process's own CPU time plus, for each step split between
    # workers, its busiest worker's (one-worker steps run in this process and are already counted).
    own_cpu = time.process_time() - cpu_started - contracts_cpu
    critical_cpu = own_cpu + sum(s.worker_cpu_seconds for s in steps if s.workers > 1)
    return {"steps": steps, "queue": queue.as_dict()}, elapsed, contracts, critical_cpu


def _figures(runs: list[dict[str, Any]], key: str) -> str:
    return ", ".join(f"{run[key]:.2f}" for run in runs)


def main() -> None:
    os.environ.setdefault("STEWARD_SECRET_KEY", "benchmark-only-key")
    posts = int(os.environ.get("STEWARD_BENCH_POSTS", "1000000"))
    term_count = int(os.environ.get("STEWARD_BENCH_TERMS", "10000"))
    rounds = max(1, int(os.environ.get("STEWARD_BENCH_ROUNDS", "5")))
    from steward.settings import get_settings, reset_settings_cache
    from tasks.content.keywords import import_keyword_list
    from tasks.db import dispose_engines, get_engine

    started = time.perf_counter()
    corpus = Corpus(posts, term_count)
    print(f"corpus: {len(corpus.terms):,} terms and {len(corpus.added)} more to add, built in "
          f"{time.perf_counter() - started:.1f} s", flush=True)  # fmt: skip
    url = _database(corpus)
    os.environ["STEWARD_DATABASE_URL"] = url
    os.environ.setdefault("STEWARD_OUTPUT_DIR", str(BENCH_DIR / "out"))
    reset_settings_cache()
    workers = get_settings().content_scan_workers or os.cpu_count() or 1
    full_list = _write_list(BENCH_DIR / f"terms-{term_count}.csv", corpus.terms)
    updated_list = _write_list(
        BENCH_DIR / f"terms-{term_count}-plus-{ADDED_TERMS}.csv", corpus.terms + corpus.added
    )

    from tasks.content import pipeline  # noqa: F401 - imported before any timing, as the flow has it
    from tasks.content.scanner import tune_allocator

    tune_allocator()  # as the scan does: the bare matcher runs under the same allocator settings
    # This VM's speed drifts by 10 to 20% from one minute to the next, so each round measures the three
    # figures one right after the other (bare matcher, full scan, rescan) and the verdicts go by the
    # median of the rounds' ratios; every round is printed.
    load_before = os.getloadavg()[0]
    runs: list[dict[str, Any]] = []
    for number in range(1, rounds + 1):
        _reset(url)
        started = time.perf_counter()
        with get_engine(url).begin() as conn:
            imported = import_keyword_list(conn, full_list)
        if number == 1:
            print(f"import of {imported.added:,} terms (checks and contract): "
                  f"{time.perf_counter() - started:.2f} s", flush=True)  # fmt: skip
        bare_seconds, bare_cpu, characters, bare_hits = _bare_matcher(url)
        dispose_engines()
        full, full_seconds, contract_seconds, full_cpu = _timed_run(url, workers)
        with get_engine(url).begin() as conn:
            updated = import_keyword_list(conn, updated_list)
        rescan, rescan_seconds, _, rescan_cpu = _timed_run(url, workers)
        run = {
            "bare": bare_seconds, "bare_cpu": bare_cpu, "full": full_seconds, "full_cpu": full_cpu,
            "contracts": contract_seconds, "rescan": rescan_seconds, "rescan_cpu": rescan_cpu,
            "ratio": bare_seconds / full_seconds, "share": rescan_seconds / full_seconds,
            "cpu_ratio": bare_cpu / full_cpu, "cpu_share": rescan_cpu / full_cpu,
        }  # fmt: skip
        runs.append(run)
        print(f"round {number} of {rounds}: bare matcher {bare_seconds:.1f} s, full scan {full_seconds:.1f} s "
              f"({run['ratio']:.2f}x), rescan {rescan_seconds:.1f} s ({run['share']:.2f} of the full scan); "
              f"CPU time {run['cpu_ratio']:.2f}x and {run['cpu_share']:.2f}", flush=True)  # fmt: skip

    def median(key: str) -> float:
        return statistics.median(run[key] for run in runs)

    megabytes = characters / 1e6
    scanned = sum(s.characters for s in full["steps"]) / 1e6
    hits = sum(s.new_hits for s in full["steps"])
    ratio, share = median("ratio"), median("share")
    print(f"bare matcher, one process, in memory: {median('bare'):.1f} s (median), "
          f"{megabytes / median('bare'):.1f} MB/s ({characters:,} characters, {bare_hits:,} hits)")  # fmt: skip
    print(f"full scan, {workers} workers (read, normalise, match, write {hits:,} hits, open "
          f"{full['queue']['cases_opened']:,} cases, hide posts): {median('full'):.1f} s (median), "
          f"{scanned / median('full'):.1f} MB/s")  # fmt: skip
    print(
        f"  throughput against the bare matcher, median of {rounds} rounds: {ratio:.2f}x (rounds "
        f"{_figures(runs, 'ratio')}; target >= {RATIO_TARGET}x: {_verdict(ratio >= RATIO_TARGET)})"
    )
    print(
        f"  the blocking contract checks of the run (hits, then cases), not in the figure above: "
        f"{median('contracts'):.1f} s"
    )
    kinds = ", ".join(
        f"{s.kind} ({s.posts:,} posts, {s.terms} terms, {s.new_hits:,} hits)" for s in rescan["steps"]
    )
    print(f"list update adding {updated.added} terms, rescan: {median('rescan'):.1f} s (median): {kinds}")
    print(
        f"  against the full scan of its round, median of {rounds}: {share:.2f} (rounds "
        f"{_figures(runs, 'share')}; target <= {RESCAN_TARGET}: {_verdict(share <= RESCAN_TARGET)})"
    )
    cpu_ratio, cpu_share = median("cpu_ratio"), median("cpu_share")
    print(
        f"CPU-time figures (what an otherwise idle machine gives; load average was {load_before:.1f} before the "
        f"first round, {os.getloadavg()[0]:.1f} after the last): bare matcher {median('bare_cpu'):.1f} s, full scan "
        f"{median('full_cpu'):.1f} s on its critical path, ratio {cpu_ratio:.2f}x "
        f"({_verdict(cpu_ratio >= RATIO_TARGET)}); rescan {median('rescan_cpu'):.1f} s, {cpu_share:.2f} of the "
        f"full scan ({_verdict(cpu_share <= RESCAN_TARGET)}) (medians)"
    )
    peak = max(_peak_rss_bytes(), _peak_rss_bytes(resource.RUSAGE_CHILDREN))
    print(f"peak memory: this process {_peak_rss_bytes() / 1e6:.0f} MB, largest worker "
          f"{_peak_rss_bytes(resource.RUSAGE_CHILDREN) / 1e6:.0f} MB "
          f"(target < {MEMORY_TARGET_BYTES / 1e9:.0f} GB: {_verdict(peak < MEMORY_TARGET_BYTES)})")  # fmt: skip
    summary: dict[str, Any] = {
        "posts": posts,
        "terms": term_count,
        "rounds": rounds,
        "bare_mb_s": round(megabytes / median("bare"), 1),
        "scan_mb_s": round(scanned / median("full"), 1),
        "ratio": round(ratio, 2),
        "rescan_share": round(share, 2),
        "cpu_ratio": round(cpu_ratio, 2),
        "cpu_rescan_share": round(cpu_share, 2),
    }
    print(f"summary: {summary}")

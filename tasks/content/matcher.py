"""The keyword matcher: one Aho-Corasick automaton over normalised terms, match modes checked on the
normalised text's word boundaries, allow-listed words suppressing the hits they overlap.

Matching runs in two passes. `candidates()` normalises a whole chunk of texts at once (numpy, no offsets),
runs the automaton over it and keeps the texts where a term could match (its boundaries checked where
the text has no hidden boundaries). `match()` then normalises only those texts again with offsets,
checks every rule (match mode, repeated letters, allow-list) and reports each hit with its offsets in
the original text. Both passes see exactly the same normalised text (tests/test_content_normalise.py).
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

import ahocorasick
import numpy as np

from steward.memory import cyclic_gc_paused
from tasks.content.normalise import Normalised, marked_key, normalise, normalise_batch, term_forms

MATCH_MODES = ("word", "phrase", "prefix", "anywhere")
ACTIONS = ("hold", "alert")
ALLOW = "allow"
"""The action of allow-listed words (kept in keyword_terms beside the terms, category "allow")."""

_URL_HOST = re.compile(r"(?i)(?:\b[a-z][a-z0-9+.\-]*://|\bwww\.)([^\s/?#:<>\"'()\[\]{}|\\^`]+)")


@dataclass(frozen=True)
class Term:
    """A term of a keyword list (or an allow-listed word, with action "allow")."""

    id: int
    term: str
    category: str
    match_mode: str
    action: str

    @property
    def is_allow(self) -> bool:
        return self.action == ALLOW


@dataclass(frozen=True)
class Match:
    """A hit in one text: the term (its position in the matcher's list) and the original offsets."""

    term_index: int
    start: int
    end: int


@dataclass
class Documents:
    """The texts of a chunk and where each comes from: parallel lists, as hundreds of thousands of small
    objects would cost more than the matching."""

    texts: list[str] = field(default_factory=list)
    places: list[tuple[int, str, int]] = field(default_factory=list)
    """(post id, field: title | body | attachment, source id: the post's or the attachment's)."""

    def add(self, post_id: int, field_name: str, source_id: int, text: str) -> None:
        self.texts.append(text)
        self.places.append((post_id, field_name, source_id))

    def __len__(self) -> int:
        return len(self.texts)


def link_domain_spans(text: str) -> list[tuple[int, int]]:
    """Where the host names of the links in a text are (start, end offsets)."""
    return [match.span(1) for match in _URL_HOST.finditer(text)]


_BOTH, _START, _NONE = 0, 1, 2
"""Which word boundaries a match mode needs: both ends (word, phrase), the start (prefix), none."""
_MODE_BOUNDARIES = {"word": _BOTH, "phrase": _BOTH, "prefix": _START, "anywhere": _NONE}


class Matcher:
    """Finds terms in texts. Build it once per scan; it is read-only afterwards (safe to fork)."""

    def __init__(self, terms: Iterable[Term]) -> None:
        # Building makes hundreds of thousands of small tuples, none in a reference cycle: the cyclic
        # garbage collector would only walk the process's heap over and over (half the build time).
        with cyclic_gc_paused():
            self._build(terms)

    def _build(self, terms: Iterable[Term]) -> None:
        self.terms: list[Term] = list(terms)
        self._keys: list[str] = []
        # For each key, per boundary class, the terms (position in self.terms) and their run lengths.
        self._key_terms: list[dict[int, list[tuple[int, tuple[int, ...]]]]] = []
        key_index: dict[str, int] = {}
        for position, term in enumerate(self.terms):
            boundaries = _MODE_BOUNDARIES[term.match_mode]
            for key, runs in term_forms(term.term):
                index = key_index.get(key)
                if index is None:
                    index = key_index[key] = len(self._keys)
                    self._keys.append(key)
                    self._key_terms.append({})
                self._key_terms[index].setdefault(boundaries, []).append((position, runs))

        # Two automata. `_plain` finds every key in a normalised text. `_marked` finds keys in a marked
        # view (MARK for everything but letters and digits), written with MARK where their match mode
        # needs a word boundary: it reports only matches at word boundaries, so neither pass does
        # per-match work in Python for the many places where a term is only part of a longer word.
        plain = ahocorasick.Automaton()
        marked = ahocorasick.Automaton()
        views: dict[str, list[tuple[int, int, int, bool]]] = {}
        blocking_keys = 0
        for index, key in enumerate(self._keys):
            by_class = self._key_terms[index]
            blocks_any = False
            for boundaries, entries in by_class.items():
                blocks = any(not self.terms[p].is_allow for p, _ in entries)
                blocks_any |= blocks
                view = marked_key(key, boundaries != _NONE, boundaries == _BOTH)
                lead = 1 if boundaries != _NONE and key[:1].isalnum() else 0
                views.setdefault(view, []).append((index, boundaries, lead, blocks))
            blocking_keys += blocks_any
            plain.add_word(key, (len(key), blocks_any, index))
        for view, items in views.items():
            marked.add_word(view, (len(view), tuple(items)))
        if self._keys:
            plain.make_automaton()
            marked.make_automaton()
        self._plain = plain
        self._marked = marked
        self.blocking_keys = blocking_keys

    def __len__(self) -> int:
        return len(self.terms)

    @property
    def empty(self) -> bool:
        """True when no term (other than allow-listed words) can match anything."""
        return self.blocking_keys == 0

    def candidates(self, texts: Sequence[str]) -> list[int]:
        """Indexes of the texts where a (non-allow) term may match; cheap, over a whole chunk at once."""
        if self.empty:
            return []
        found: set[int] = set()
        for group in normalise_batch(texts):
            starts = group.starts.tolist()
            docs = group.docs.tolist()
            for end, (view_length, items) in self._marked.iter(group.marked):
                view_start = end - view_length + 1
                for _index, _boundaries, lead, blocks in items:
                    if blocks:
                        found.add(docs[bisect.bisect_right(starts, view_start + lead) - 1])
            # Joined letters are word boundaries the marked view cannot show: look for the bare keys.
            for position in np.flatnonzero(group.joined).tolist():
                if docs[position] not in found:
                    text = group.doc_text(position)
                    if any(blocks for _end, (_length, blocks, _i) in self._plain.iter(text)):
                        found.add(docs[position])
        return sorted(found)

    def _places(self, normalised: Normalised) -> Iterator[tuple[int, int, int, int]]:
        """(key index, boundary class, start, stop) of every key found in `normalised` at the word
        boundaries its class needs (run lengths and allow-list not checked yet)."""
        text = normalised.text
        if not text:
            return
        if normalised.joins:
            for end, (length, _blocks, index) in self._plain.iter(text):
                start, stop = end - length + 1, end + 1
                for boundaries in self._key_terms[index]:
                    if boundaries != _NONE and not normalised.is_boundary(start):
                        continue
                    if boundaries == _BOTH and not normalised.is_boundary(stop):
                        continue
                    yield index, boundaries, start, stop
            return
        for end, (view_length, items) in self._marked.iter(normalised.marked):
            view_start = end - view_length + 1
            for index, boundaries, lead, _blocks in items:
                start = view_start - 1 + lead
                stop = start + len(self._keys[index])
                if text[start:stop] == self._keys[index]:
                    yield index, boundaries, start, stop

    def match_normalised(self, normalised: Normalised) -> list[Match]:
        """Every hit in a normalised text, allow-listed overlaps removed (offsets in the original)."""
        hits: dict[tuple[int, int], tuple[int, int]] = {}
        allowed: list[tuple[int, int]] = []
        runs_of_text = normalised.runs
        for index, boundaries, start, stop in self._places(normalised):
            for position, runs in self._key_terms[index][boundaries]:
                if any(runs_of_text[start + k] < need for k, need in enumerate(runs)):
                    continue
                if self.terms[position].is_allow:
                    allowed.append((start, stop))
                    continue
                previous = hits.get((position, start))
                if previous is None or previous[1] < stop:
                    hits[(position, start)] = (start, stop)
        out: list[Match] = []
        for (position, _), (start, stop) in sorted(hits.items(), key=lambda item: (item[1], item[0])):
            if any(a_start < stop and start < a_stop for a_start, a_stop in allowed):
                continue
            original_start, original_end = normalised.original_span(start, stop)
            out.append(Match(position, original_start, original_end))
        return out

    def match(self, text: str) -> list[Match]:
        """Every hit in one text (see match_normalised)."""
        if self.empty or not text:
            return []
        return self.match_normalised(normalise(text))


@dataclass(frozen=True)
class Hit:
    """A hit in a post, ready to be written to scan_hits (ids and offsets only, never text)."""

    post_id: int
    field: str  # title | body | link_domain | attachment
    source_id: int
    term_id: int
    category: str
    action: str
    start_offset: int
    end_offset: int

    @property
    def key(self) -> tuple[int, str, int, int, int]:
        return (self.post_id, self.field, self.source_id, self.term_id, self.start_offset)


def scan_documents(matcher: Matcher, documents: Documents) -> list[Hit]:
    """The hits in a chunk of documents: candidates over the whole chunk, then exact matches."""
    hits: list[Hit] = []
    for index in matcher.candidates(documents.texts):
        text = documents.texts[index]
        post_id, field_name, source_id = documents.places[index]
        matches = matcher.match(text)
        if not matches:
            continue
        domains = link_domain_spans(text) if field_name == "body" else []
        for found in matches:
            term = matcher.terms[found.term_index]
            field = field_name
            if domains and any(d_start <= found.start < d_end for d_start, d_end in domains):
                field = "link_domain"
            hits.append(
                Hit(
                    post_id=post_id,
                    field=field,
                    source_id=source_id,
                    term_id=term.id,
                    category=term.category,
                    action=term.action,
                    start_offset=found.start,
                    end_offset=found.end,
                )
            )
    return hits

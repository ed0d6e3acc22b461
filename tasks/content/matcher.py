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
from tasks.content.normalise import (
    Normalised,
    marked_key,
    normalise,
    normalise_batch,
    skeleton_batch,
    skeleton_of_normal,
    term_forms,
)

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
    """(post id, field: title | body | attachment, source id: the post's or the attachment's). Read it
    through `place()`: the scanner's chunks work a place out only when asked."""

    def add(self, post_id: int, field_name: str, source_id: int, text: str) -> None:
        self.texts.append(text)
        self.places.append((post_id, field_name, source_id))

    def place(self, index: int) -> tuple[int, str, int]:
        """Where the text at `index` comes from."""
        return self.places[index]

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
        self.blocking_key_texts: list[str] = []
        """The keys that can make a hit (those of allow-listed words only suppress hits)."""
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
        allowed = [term.is_allow for term in self.terms]
        blocking_keys = 0
        for index, key in enumerate(self._keys):
            by_class = self._key_terms[index]
            blocks_any = False
            for boundaries, entries in by_class.items():
                blocks = not all(allowed[p] for p, _ in entries)
                blocks_any |= blocks
                view = marked_key(key, boundaries != _NONE, boundaries == _BOTH)
                lead = 1 if boundaries != _NONE and key[:1].isalnum() else 0
                views.setdefault(view, []).append((index, boundaries, lead, blocks))
            blocking_keys += blocks_any
            if blocks_any:
                self.blocking_key_texts.append(key)
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


class Prefilter:
    """Texts that cannot match a few terms, set aside cheaply before they are normalised and matched.

    Each key has an anchor: the stretch of (up to) 8 characters of its skeleton (see `normalise.skeleton`)
    with the rarest letters, and in it a probe, its rarest 4 characters. A key found in a text's normal
    form has its skeleton, hence its anchor, in the text's skeleton; a text whose skeleton holds no anchor
    cannot match. The skeletons of a chunk are built at once (numpy); every 4 bytes of them are looked up
    in a small hash table of the probes (four 32-bit views of the bytes, one per alignment), and only
    where a probe is found are the anchors around it compared. On the benchmark's posts that costs 60% of
    normalising a chunk and running the automaton over it (0.41 s against 0.67 s for 55 MB, 233 keys),
    and 1.4% of the texts pass; it pays only when few texts pass: with few terms, and keys that are not
    too short (`build` returns None otherwise).
    """

    PROBE = 4
    """Characters in a probe; keys with shorter skeletons ("kill", matched as "ki11", has the skeleton
    "ki") would leave too many texts passing: no prefilter."""
    MAX_KEYS = 1_000
    """Keys (spellings of the terms) beyond which too many texts pass for the prefilter to pay. Measured on
    the benchmark's posts (prefilter and matching, against matching alone): 0.30 s against 0.46 s at 1,068
    keys (5% of texts passing), 0.48 s against 0.51 s at 1,749 (9%), 0.60 s against 0.53 s at 2,311 (13%)."""

    def __init__(self, anchors: Iterable[tuple[str, int]]) -> None:
        """`anchors`: each anchor with the offset of its probe in it."""
        by_probe: dict[int, set[tuple[int, int, int]]] = {}
        for anchor, offset in anchors:
            raw = anchor.encode("ascii")
            probe = int.from_bytes(raw[offset : offset + self.PROBE], "little")
            mask = (1 << (8 * len(raw))) - 1
            by_probe.setdefault(probe, set()).add((offset, mask, int.from_bytes(raw, "little")))
        probes = np.asarray(sorted(by_probe), dtype=np.uint32)
        self._bits, self._multiplier, slots = _perfect_hash(probes)
        # Each slot holds its probe and the probe's number. An empty slot holds the first probe, which a
        # word hashed to that slot cannot equal (it has its own slot).
        self._slot_probe = np.full(1 << self._bits, probes[0], dtype=np.uint32)
        self._slot_probe[slots] = probes
        self._slot_number = np.zeros(1 << self._bits, dtype=np.int64)
        self._slot_number[slots] = np.arange(probes.size)
        # Round r compares each probe's r-th anchor (most probes have one): its offset, mask and value.
        anchors_of = [sorted(by_probe[int(probe)]) for probe in probes.tolist()]
        self._rounds = []
        for r in range(max(map(len, anchors_of))):
            has = np.asarray([len(a) > r for a in anchors_of])
            pick = [a[r] if len(a) > r else (0, 0, 1) for a in anchors_of]
            self._rounds.append(
                (
                    has,
                    np.asarray([p[0] for p in pick], dtype=np.int64),
                    np.asarray([p[1] for p in pick], dtype=np.uint64),
                    np.asarray([p[2] for p in pick], dtype=np.uint64),
                )
            )

    def _hash(self, values: np.ndarray) -> np.ndarray:
        # Wraps: a multiplicative hash.
        return ((values * self._multiplier) >> np.uint32(32 - self._bits)).astype(np.intp)

    @classmethod
    def build(cls, matcher: Matcher) -> Prefilter | None:
        """The prefilter of a matcher's keys, or None where it cannot pay (or work): too many keys, a key
        with a short skeleton or with letters beyond ASCII."""
        keys = matcher.blocking_key_texts
        if not keys or len(keys) > cls.MAX_KEYS:
            return None
        skeletons = {skeleton_of_normal(key) for key in keys}
        if not all(s.isascii() and len(s) >= cls.PROBE for s in skeletons):
            return None
        try:
            return cls(map(_anchor, skeletons))
        except NoPerfectHash:  # every text then goes the normal way, as without a prefilter
            return None

    def passing(self, texts: Sequence[str]) -> list[int]:
        """Indexes of the texts that may match a key (the others cannot), in order."""
        data, docs = skeleton_batch(texts)
        # Padded so that every position starts a full 8-byte window (no anchor holds a 0).
        padded = data + bytes(8)
        found: list[np.ndarray] = []
        numbers: list[np.ndarray] = []
        for offset in range(4):
            words = np.frombuffer(padded, dtype="<u4", count=(len(padded) - offset) // 4, offset=offset)
            slots = self._hash(words)
            at = np.flatnonzero(self._slot_probe[slots] == words)
            found.append(at * 4 + offset)
            numbers.append(self._slot_number[slots[at]])
        probes = np.concatenate(found)
        if probes.size == 0:
            return []
        number = np.concatenate(numbers)
        windows = np.ndarray((len(data),), dtype="<u8", buffer=padded, strides=(1,))
        matched = np.zeros(probes.size, dtype=bool)
        for has, offsets, masks, values in self._rounds:
            start = probes - offsets[number]
            check = has[number] & (start >= 0)
            hit = windows[np.where(check, start, 0)] & masks[number] == values[number]
            matched |= check & hit
        if not matched.any():
            return []
        separators = np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == 0)
        which = np.searchsorted(separators, probes[matched], side="right") - 1
        return sorted(set(docs[which].tolist()))


class NoPerfectHash(ValueError):
    """No table size and multiplier tried give every probe its own slot (not seen with 1,000 keys)."""


def _perfect_hash(values: np.ndarray) -> tuple[int, np.uint32, np.ndarray]:
    """Table bits and an odd multiplier that give every value its own slot, and the slots."""
    for bits in range(16, 25):
        for multiplier in (0x9E3779B1, 0x85EBCA6B, 0xC2B2AE35, 0x27D4EB2F, 0x165667B1, 0xD3A2646C | 1):
            slots = (values * np.uint32(multiplier)) >> np.uint32(32 - bits)
            if np.unique(slots).size == values.size:
                return bits, np.uint32(multiplier), slots.astype(np.intp)
    raise NoPerfectHash("no collision-free table for the probes")


_RARITY = {char: rank for rank, char in enumerate("etaoinsrhldcumfpgwybvkxjqz")}
"""Letters from the most to the least frequent in English (digits count as rarer still)."""


def _rarest(text: str, length: int) -> int:
    """Where the stretch of `length` characters of `text` with the rarest letters starts."""
    return max(
        range(len(text) - length + 1),
        key=lambda i: sum(_RARITY.get(c, len(_RARITY)) for c in text[i : i + length]),
    )


def _anchor(skeleton: str) -> tuple[str, int]:
    """A key's anchor (see Prefilter) and the offset of its probe in it."""
    length = min(8, len(skeleton))
    start = _rarest(skeleton, length)
    anchor = skeleton[start : start + length]
    return anchor, _rarest(anchor, Prefilter.PROBE)


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


def scan_documents(matcher: Matcher, documents: Documents, prefilter: Prefilter | None = None) -> list[Hit]:
    """The hits in a chunk of documents: candidates over the whole chunk (or over the texts that pass the
    prefilter: the others cannot match), then exact matches."""
    hits: list[Hit] = []
    if prefilter is None:
        candidates = matcher.candidates(documents.texts)
    else:
        passing = prefilter.passing(documents.texts)
        candidates = [passing[i] for i in matcher.candidates([documents.texts[i] for i in passing])]
    for index in candidates:
        text = documents.texts[index]
        post_id, field_name, source_id = documents.place(index)
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

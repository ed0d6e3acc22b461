"""Normalisation and matching: every evasion kind is caught, offsets point into the original text, the
match modes and the allow-list hold, and the fast batch forms agree with the reference exactly."""

from __future__ import annotations

import random
import re

import pytest

from tasks.content.matcher import Matcher, Term, link_domain_spans
from tasks.content.normalise import (
    NON_ASCII,
    normalise,
    normalise_batch,
    normalise_reference,
    skeleton,
    skeleton_batch,
    skeleton_of_normal,
    term_forms,
)


def _matcher(*specs: tuple[str, str]) -> Matcher:
    """Terms as (term, match_mode); action hold unless the mode is given as 'allow:<mode>'."""
    terms = []
    for index, (term, mode) in enumerate(specs):
        action = "hold"
        if mode.startswith("allow:"):
            action, mode = "allow", mode.split(":", 1)[1]
        terms.append(Term(index + 1, term, "allow" if action == "allow" else "fraud", mode, action))
    return Matcher(terms)


def _found(matcher: Matcher, text: str) -> list[tuple[str, str]]:
    """(term, the original text it was found in) for every hit."""
    return [(matcher.terms[h.term_index].term, text[h.start : h.end]) for h in matcher.match(text)]


EVASIONS = [
    ("as written", "this is a scam, honestly", "scam"),
    ("upper case", "THIS IS A SCAM", "SCAM"),
    ("cyrillic lookalikes", "this is a \u0455\u0441\u0430m", "\u0455\u0441\u0430m"),
    ("greek lookalikes", "this is a sc\u03b1m", "sc\u03b1m"),
    ("fullwidth", "this is a \uff53\uff43\uff41\uff4d", "\uff53\uff43\uff41\uff4d"),
    (
        "mathematical bold",
        "this is a \U0001d42c\U0001d41c\U0001d41a\U0001d426",
        "\U0001d42c\U0001d41c\U0001d41a\U0001d426",
    ),
    (
        "mathematical script",
        "this is a \U0001d4c8\U0001d4b8\U0001d4b6\U0001d4c2",
        "\U0001d4c8\U0001d4b8\U0001d4b6\U0001d4c2",
    ),
    ("zero-width space", "this is a sc\u200bam", "sc\u200bam"),
    ("zero-width joiner and soft hyphen", "this is a s\u200dc\u00ada\u2060m", "s\u200dc\u00ada\u2060m"),
    ("accents", "this is a sc\u00e0m", "sc\u00e0m"),
    ("combining marks", "this is a sca\u0301m", "sca\u0301m"),
    ("digits", "this is a 5c4m", "5c4m"),
    ("symbols", "this is a $c@m", "$c@m"),
    ("symbol at the end", "what a sca$", None),
    ("repeated letters", "this is a scaaaaaam!!!", "scaaaaaam"),
    ("split by spaces", "this is a s c a m", "s c a m"),
    ("split by dots", "this is a s.c.a.m.", "s.c.a.m"),
    ("split by dashes and spaces", "this is a s - c - a - m", "s - c - a - m"),
    ("everything at once", "this is a \u0405 . C . 4 . \u041c", "\u0405 . C . 4 . \u041c"),
]


@pytest.mark.parametrize(("kind", "text", "expected"), EVASIONS, ids=[e[0] for e in EVASIONS])
def test_each_evasion_kind_is_caught(kind: str, text: str, expected: str | None) -> None:
    matcher = _matcher(("scam", "word"), ("scas", "word"))
    found = _found(matcher, text)
    if expected is None:  # "sca$": the dollar sign after letters reads as "s"
        assert [term for term, _ in found] == ["scas"]
    else:
        assert found == [("scam", expected)]


def test_phrases_survive_line_breaks_repeated_spaces_and_split_words() -> None:
    matcher = _matcher(
        ("crypto giveaway", "phrase"), ("bring a knife", "phrase"), ("i will hurt you", "phrase")
    )
    assert _found(matcher, "a CRYPTO\n\n  giveaway today") == [("crypto giveaway", "CRYPTO\n\n  giveaway")]
    assert _found(matcher, "b r i n g a knife") == [("bring a knife", "b r i n g a knife")]
    assert _found(matcher, "I  w i l l  hurt y0u") == [("i will hurt you", "I  w i l l  hurt y0u")]


def test_a_one_standing_for_l_or_i() -> None:
    matcher = _matcher(("kill", "prefix"))
    for text in ("k1ll", "ki11", "k1l1", "KILLLL", "k!ll"):
        assert _found(matcher, f"we {text} it") == [("kill", text)], text


def test_apostrophes_match_with_and_without() -> None:
    matcher = _matcher(("don't tell your parents", "phrase"))
    for text in ("don't tell your parents", "dont tell your parents", "DON\u2019T tell your parents"):
        assert _found(matcher, f"and {text}.") == [("don't tell your parents", text)]


def test_match_modes_on_word_boundaries() -> None:
    matcher = _matcher(
        ("scam", "word"), ("gun", "prefix"), ("t.me/", "anywhere"), ("exam board password", "phrase")
    )
    assert _found(matcher, "scampi and scams") == []
    assert _found(matcher, "a scam-like offer") == [("scam", "scam")]
    assert _found(matcher, "gunpowder, begun, guns") == [("gun", "gun"), ("gun", "gun")]
    assert _found(matcher, "join https://t.me/deals") == [("t.me/", "t.me/")]
    assert _found(matcher, "the exam board password list") == [("exam board password", "exam board password")]
    assert _found(matcher, "the exam board passwords") == []


def test_repeated_letters_of_a_term_are_needed_in_the_text() -> None:
    """Collapsing repeats must not turn "kill" into "kil": a kilogram is not a kill."""
    matcher = _matcher(("kill", "prefix"))
    assert _found(matcher, "a kilogram of kiln clay") == []
    assert _found(matcher, "killer app") == [("kill", "kill")]


def test_allow_listed_words_suppress_the_hits_they_overlap() -> None:
    matcher = _matcher(
        ("scam", "prefix"),
        ("isis", "word"),
        ("kill", "prefix"),
        ("Scamblesby", "allow:word"),
        ("River Isis", "allow:phrase"),
    )
    assert _found(matcher, "Our trip to Scamblesby was lovely") == []
    assert _found(matcher, "Flow rates on the River Isis in Oxford") == []
    # only where it overlaps: the same text elsewhere is still a hit
    assert _found(matcher, "Scamblesby is not a scam") == [("scam", "scam")]
    assert _found(matcher, "isis recruits near the River Isis") == [("isis", "isis")]
    assert _found(matcher, "Killamarsh") == [("kill", "Kill")]


@pytest.mark.parametrize(
    ("before", "hit"),
    [
        ("Stra\u00dfe und \ufb01sh: ", "scam"),  # expansions before the hit (ss, fi)
        ("\U0001f600\U0001f600 emoji then ", "SCAM"),  # astral characters count as one
        ("\u0130stanbul caf\u00e9 ", "s\u200bcam"),  # lower-casing that changes length; a zero-width space
        ("a\u0301b\u0301c\u0301 ", "s c a m"),  # combining marks removed
        ("\u3000\u3000fullwidth spaces ", "\uff53\uff43\uff41\uff4d"),
    ],
)
def test_offsets_point_into_the_original_text(before: str, hit: str) -> None:
    matcher = _matcher(("scam", "word"))
    text = f"{before}{hit} after"
    (match,) = matcher.match(text)
    assert (match.start, match.end) == (len(before), len(before) + len(hit))
    assert text[match.start : match.end] == hit


def test_link_domains_are_found() -> None:
    text = "see https://t.me/x and www.quick-profits.example/path or mailto later"
    spans = [text[a:b] for a, b in link_domain_spans(text)]
    assert spans == ["t.me", "quick-profits.example"]


# ---------------------------------------------------------------------------- the fast forms agree

_ALPHABET = list(
    "abcdeilmsSCAM0123456789 .-_!|@$\u20ac'\u2019`\u200b\u00ad\t\n\u00df\u0130\ufb01\U0001d42c\u0455\u0441\u0430\u03bf\u03a3\u03c2\u0301\u00e9"
) + ["\x00", "\x01", "\x07", "a b c", "s.c.a.m", "  ", "!!", "ll", "11", "scam", "kill", "sc@m", "\U0001f600"]


def _random_text(rng: random.Random, longest: int) -> str:
    return "".join(rng.choice(_ALPHABET) for _ in range(rng.randint(0, longest)))


def test_batch_and_numpy_forms_equal_the_reference() -> None:
    rng = random.Random(20261121)
    for _ in range(400):
        texts = [_random_text(rng, 40) for _ in range(rng.randint(1, 8))]
        seen = {}
        for group in normalise_batch(texts):
            assert len(group.marked) == len(group.text)
            for position, doc in enumerate(group.docs.tolist()):
                seen[doc] = (group.doc_text(position), bool(group.joined[position]))
        for index, text in enumerate(texts):
            reference = normalise_reference(text)
            assert seen[index][0] == reference.text, repr(text)
            assert seen[index][1] or not reference.joins, repr(text)
            fast = normalise(text)
            assert (fast.text, list(fast.starts), list(fast.ends), list(fast.runs), fast.joins) == (
                reference.text,
                list(reference.starts),
                list(reference.ends),
                list(reference.runs),
                reference.joins,
            ), repr(text)


# Split letters whose separator is a symbol that step 2 leaves alone: joining deletes it. Reading every
# symbol as its letter, as step 2 does only in places, would give "siciaim" and lose "scam".
_SKELETON_CASES = [
    ("s ! c ! a ! m", "scam", "scam"),
    ("s @ c @ a @ m", "scam", "scam"),
    ("s | c | a | m", "scam", "scam"),
    ("s \u20ac c \u20ac a \u20ac m", "scam", "scam"),
    ("sc@m!", "scam!", "scam"),
    ("b.r.i.n.g a knife", "bring a knife", "bringaknife"),
    ("ki11 k i l l", "ki kil", "kikil"),
    ("don\u2019t", "don't", "dont"),
    ("\u0405 . C . 4 . \u041c sc\u200baaam", "scam scam", "scamscam"),
]


@pytest.mark.parametrize(("text", "normal", "expected"), _SKELETON_CASES)
def test_the_skeleton_keeps_the_letters_and_digits_of_the_normal_form(
    text: str, normal: str, expected: str
) -> None:
    assert normalise(text).text == normal
    assert skeleton(text) == skeleton_of_normal(normal) == expected


def _skeleton_bytes(text: str) -> bytes:
    return bytes(ord(c) if c.isascii() else NON_ASCII for c in skeleton(text))


def test_skeletons_equal_the_normal_forms_letters_and_digits_and_the_batch_form_agrees() -> None:
    rng = random.Random(314)
    for _ in range(400):
        texts = [_random_text(rng, 40) for _ in range(rng.randint(1, 8))]
        for text in texts:
            assert skeleton(text) == skeleton_of_normal(normalise_reference(text).text), repr(text)
        data, docs = skeleton_batch(texts)
        assert data[:1] == data[-1:] == b"\x00"
        pieces = data[1:-1].split(b"\x00")
        assert sorted(docs.tolist()) == list(range(len(texts)))
        assert {doc: piece for doc, piece in zip(docs.tolist(), pieces, strict=True)} == {
            index: _skeleton_bytes(text) for index, text in enumerate(texts)
        }


def _oracle(terms: list[Term], text: str) -> set[tuple[int, int, int]]:
    """Every hit by brute force: each spelling of each term searched with str.find."""
    normal = normalise_reference(text)
    hits: dict[tuple[int, int], tuple[int, int]] = {}
    allowed = []
    for position, term in enumerate(terms):
        for key, runs in term_forms(term.term):
            start = normal.text.find(key)
            while start >= 0:
                stop = start + len(key)
                ok = (term.match_mode == "anywhere" or normal.is_boundary(start)) and (
                    term.match_mode not in ("word", "phrase") or normal.is_boundary(stop)
                )
                if ok and all(normal.runs[start + k] >= r for k, r in enumerate(runs)):
                    if term.is_allow:
                        allowed.append((start, stop))
                    elif (position, start) not in hits or hits[(position, start)][1] < stop:
                        hits[(position, start)] = (start, stop)
                start = normal.text.find(key, start + 1)
    return {
        (position, *normal.original_span(a, b))
        for (position, _), (a, b) in hits.items()
        if not any(x < b and a < y for x, y in allowed)
    }


def test_matcher_equals_brute_force_and_candidates_never_miss() -> None:
    rng = random.Random(7)
    modes = ["word", "phrase", "prefix", "anywhere"]
    for _ in range(400):
        terms = [
            Term(
                k,
                _random_text(rng, 8).strip() or "scam",
                "fraud",
                rng.choice(modes),
                rng.choice(["hold", "alert", "allow"]),
            )
            for k in range(rng.randint(1, 6))
        ]
        matcher = Matcher(terms)
        texts = [_random_text(rng, 50) for _ in range(rng.randint(1, 6))]
        candidates = set(matcher.candidates(texts))
        for index, text in enumerate(texts):
            got = {(h.term_index, h.start, h.end) for h in matcher.match(text)}
            assert got == (_oracle(terms, text) if not matcher.empty else set()), (text, terms)
            if got:
                assert index in candidates, (text, terms)


def test_the_demo_disguises_are_caught() -> None:
    """Every disguise the demo data uses, on every term of the demo list (a spaced-out URL excepted)."""
    from tasks.demo_data import OBFUSCATIONS, _as_written, _Keyword, obfuscate, read_keywords

    keywords = read_keywords()
    matcher = Matcher(
        Term(i, k["term"], k["category"], k["match_mode"], k["action"]) for i, k in enumerate(keywords)
    )
    missed = []
    for index, keyword in enumerate(keywords):
        for method in OBFUSCATIONS:
            for seed in range(4):
                rng = random.Random(seed * 100 + index)
                disguised = obfuscate(_as_written(_Keyword(**keyword), seed), method, rng.randrange)
                if not any(h.term_index == index for h in matcher.match(f"Honestly, {disguised}. Thanks")):
                    missed.append((keyword["term"], method, disguised))
    assert all(term == "t.me/" and method == "split" for term, method, _ in missed), missed[:5]


def test_terms_normalise_like_text() -> None:
    assert (
        term_forms("SC4M")[0] == term_forms("scam")[0] == term_forms("s.c.a.m")[0] == ("scam", (1, 1, 1, 1))
    )
    assert term_forms("kill")[0] == ("kil", (1, 1, 2))
    assert re.fullmatch(r"[a-z ]+", term_forms("Ethnic  Cleansing")[0][0])

"""Text normalisation for keyword matching: resists evasion, and maps every normalised character back to
its place in the original text.

The normal form of a text is built in five steps. Terms go through exactly the same steps, so a term
matches the text however either was written.

1. Fold, character by character: every kind of apostrophe becomes "'" (a term written with one also
   matches without it: "don't" matches "dont"); white space, hyphens, dashes, underscores and control
   characters become a space ("bomb-making" is the phrase "bomb making"); every other character is
   decomposed (Unicode NFKD, which also maps fullwidth, circled and mathematical alphanumeric letters to
   plain ones), case-folded, stripped of combining marks and of invisible format characters (zero-width
   spaces and joiners, soft hyphens, Unicode category Cf), then lookalike letters (Cyrillic, Greek,
   Armenian, enclosed) are mapped to the Latin letter they imitate and digits to the letter they stand
   for (0 o, 1 i, 3 e, 4 a, 5 s, 7 t, 8 b).
2. Symbols that stand for letters (@ a, $ s, ! i, | i, € e) are replaced when the next character that is
   not such a symbol is a letter or digit, and "@" and "$" also when the previous one is: "sc@m", "$cam"
   and "scam$" are read as "scam", but "scam!" keeps its exclamation mark.
3. Repeated characters are collapsed ("scaaaam" -> "scam"); each normalised character remembers how many
   characters it stands for, so a term with a double letter ("kill") needs at least a double letter in
   the text, and "kilogram" is not a "kill".
4. Letters split by spaces or punctuation are joined: three or more single letters or digits, each
   separated from the next by the same one to three other characters ("s c a m", "s.c.a.m",
   "s - c - a - m"), become one word; a word boundary is remembered between each of them. (The same
   separator throughout: in "b.r.i.n.g a knife" the article stays a word.)
5. Step 3 again, where joining brought equal letters together.

`normalise()` is the reference implementation: it keeps, for every normalised character, the start and end
offsets (Python string indices, end exclusive) of the original characters it stands for. `normalise_batch()`
computes the same normal form for a whole chunk of texts at once with numpy, without the offsets; the
scanner uses it to find candidate texts quickly and then calls `normalise()` only on those. A test checks
that both produce the same text for random and adversarial input.

A text's skeleton (`skeleton()`, `skeleton_batch()`) is what the normal form keeps of its letters and
digits, repeats collapsed; built without steps 3 to 5, it is cheaper than the normal form, and a text
whose skeleton lacks a key's skeleton cannot match that key (the prefilter of a rescan for a few added
terms, `matcher.Prefilter`).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache, lru_cache

import numpy as np

APOSTROPHES = "'`\u00b4\u2018\u2019\u201b\u02b9\u02bb\u02bc\u02bd\u2032\uff07"
"""Every one of them folds to "'"."""

DASHES = frozenset("-_\u2010\u2011\u2012\u2013\u2014\u2015\u2212")
"""Hyphens, dashes and underscores read as a space: "bomb-making" and "bomb_making" are the phrase."""

INVISIBLE = frozenset("\u115f\u1160\u3164\uffa0\u2800\u034f\u17b4\u17b5\u180e")
"""Invisible characters that are not in Unicode category Cf (fillers, blank braille); removed."""

HOMOGLYPHS: dict[str, str] = {
    # Cyrillic (lower case: folding comes first)
    "а": "a", "в": "b", "г": "r", "д": "d", "е": "e", "ё": "e", "з": "3", "и": "u", "і": "i", "ї": "i",
    "й": "u", "к": "k", "л": "n", "м": "m", "н": "h", "о": "o", "п": "n", "р": "p", "с": "c", "т": "t",
    "у": "y", "ф": "f", "х": "x", "ц": "u", "ч": "4", "ш": "w", "щ": "w", "ъ": "b", "ь": "b", "ѕ": "s",
    "ј": "j", "ԁ": "d", "ԛ": "q", "ԝ": "w", "һ": "h", "ӏ": "l", "ү": "y", "ҫ": "c", "ѡ": "w", "ѵ": "v",
    # Greek
    "α": "a", "β": "b", "γ": "y", "δ": "d", "ε": "e", "ζ": "z", "η": "n", "θ": "o", "ι": "i", "κ": "k",
    "λ": "a", "μ": "u", "ν": "v", "ξ": "e", "ο": "o", "π": "n", "ρ": "p", "σ": "o", "ς": "c", "τ": "t",
    "υ": "u", "φ": "f", "χ": "x", "ψ": "w", "ω": "w", "ϲ": "c", "ϳ": "j", "ϐ": "b", "ϱ": "p", "ϑ": "o",
    # Armenian
    "ա": "w", "հ": "h", "ո": "n", "ս": "u", "ց": "g", "զ": "q", "օ": "o",
    # Latin letters without a decomposition
    "ı": "i", "ȷ": "j", "ɑ": "a", "ɡ": "g", "ɩ": "i", "ɪ": "i", "ʀ": "r", "ʏ": "y", "ø": "o", "đ": "d",
    "ħ": "h", "ł": "l", "ŧ": "t", "ƀ": "b", "ɓ": "b", "ƈ": "c", "ɗ": "d", "ƒ": "f", "ɠ": "g", "ɦ": "h",
    "ƙ": "k", "ɱ": "m", "ɲ": "n", "ƥ": "p", "ʠ": "q", "ɽ": "r", "ʂ": "s", "ƭ": "t", "ʋ": "v", "ⱳ": "w",
    "ƴ": "y", "ȥ": "z", "æ": "ae", "œ": "oe", "ß": "ss", "þ": "p", "ð": "d",
}  # fmt: skip
"""Lookalike letters and the Latin letter they imitate (applied after case folding)."""

# Negative circled and squared capital letters have no decomposition; map them by arithmetic.
for _block_start in (0x1F150, 0x1F170):
    for _offset in range(26):
        HOMOGLYPHS[chr(_block_start + _offset)] = chr(ord("a") + _offset)

DIGITS: dict[str, str] = {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b"}
"""Digits that stand for letters, replaced everywhere (terms are normalised the same way)."""

SYMBOLS: dict[str, str] = {"@": "a", "$": "s", "!": "i", "|": "i", "€": "e"}
"""Symbols that stand for letters, replaced only when a letter or digit follows (step 2)..."""
SYMBOLS_AFTER_LETTERS = frozenset("@$")
"""...or, for these, when one comes before ("p@r3n7$")."""

MARK = "\x01"
"""In a marked view, every character that is not a letter or digit (and every separator)."""

SEPARATOR = "\x00"
"""Between texts in a batch. No text's normal form contains it (control characters fold to a space)."""

_MAX_JOIN_GAP = 4  # single letters at most 4 apart: 1 to 3 characters between them


def _fold_char_uncached(ch: str) -> str:
    if ch in APOSTROPHES:
        return "'"
    if ch.isspace() or ch in DASHES or unicodedata.category(ch) == "Cc":
        return " "
    if ch in INVISIBLE:
        return ""
    decomposed = unicodedata.normalize("NFKD", unicodedata.normalize("NFKD", ch).casefold()).casefold()
    out: list[str] = []
    for c in decomposed:
        if c in INVISIBLE:
            continue
        if c in APOSTROPHES:
            out.append("'")
            continue
        if unicodedata.combining(c) or unicodedata.category(c) in ("Mn", "Me", "Cf"):
            continue
        if c.isspace() or c in DASHES or unicodedata.category(c) == "Cc":
            out.append(" ")
            continue
        mapped = HOMOGLYPHS.get(c, c)
        out.append("".join(DIGITS.get(m, m) for m in mapped))
    return "".join(out)


class _FoldTable(dict[int, str]):
    """Code point -> folded text, computed on first use; usable directly by `str.translate`."""

    def __init__(self, keep_separator: bool = False) -> None:
        super().__init__()
        self._keep_separator = keep_separator

    def __missing__(self, code: int) -> str:
        value = SEPARATOR if self._keep_separator and code == 0 else _fold_char_uncached(chr(code))
        self[code] = value
        return value


FOLD = _FoldTable()
"""Step 1 as a `str.translate` table."""

_BATCH_FOLD = _FoldTable(keep_separator=True)


class _MarkTable(dict[int, str]):
    """Letters and digits as they are, everything else MARK; for `str.translate`."""

    def __missing__(self, code: int) -> str:
        value = chr(code) if chr(code).isalnum() else MARK
        self[code] = value
        return value


_MARKED = _MarkTable()


def fold(text: str) -> str:
    """Step 1 only: the text folded character by character."""
    return text.translate(FOLD)


# ------------------------------------------------------------------------------------ the reference


@dataclass(frozen=True)
class Normalised:
    """A text's normal form, with the way back to the original text."""

    text: str
    starts: Sequence[int]
    """For each normalised character, the offset of the first original character it stands for."""
    ends: Sequence[int]
    """For each normalised character, the offset just after the last original character it stands for."""
    runs: Sequence[int]
    """For each normalised character, how many folded characters it stands for (repeats collapsed)."""
    joins: frozenset[int] = field(default_factory=frozenset)
    """Positions between joined letters: word boundaries that the normalised text does not show."""

    @property
    def marked(self) -> str:
        """The text as in a batch's marked view (see BatchGroup.marked)."""
        return MARK + self.text.translate(_MARKED) + MARK

    def is_boundary(self, position: int) -> bool:
        """Whether a word may start or end at `position` (between text[position-1] and text[position])."""
        text = self.text
        if position <= 0 or position >= len(text):
            return True
        if not (text[position - 1].isalnum() and text[position].isalnum()):
            return True
        return position in self.joins

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """The original offsets (start, end exclusive) of normalised characters start..end-1."""
        return self.starts[start], self.ends[end - 1]


def _symbols_in_place(chars: list[str]) -> None:
    original = list(chars)
    count = len(original)
    for index, char in enumerate(original):
        if char not in SYMBOLS:
            continue
        after = index + 1
        while after < count and original[after] in SYMBOLS:
            after += 1
        replace = after < count and original[after].isalnum()
        if not replace and char in SYMBOLS_AFTER_LETTERS:
            before = index - 1
            while before >= 0 and original[before] in SYMBOLS:
                before -= 1
            replace = before >= 0 and original[before].isalnum()
        if replace:
            chars[index] = SYMBOLS[char]


def _collapse_and_join(
    chars: Sequence[str], origins: Sequence[int]
) -> tuple[list[str], list[int], list[int], list[int], set[int]]:
    """Steps 3 to 5 on folded characters with their original offsets.

    Returns the normalised characters, their original starts, ends and run lengths, and the positions
    between joined letters.
    """
    out: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    runs: list[int] = []
    previous = None
    for index, char in enumerate(chars):
        origin = origins[index]
        if char == previous:
            runs[-1] += 1
            ends[-1] = max(ends[-1], origin + 1)
            continue
        out.append(char)
        starts.append(origin)
        ends.append(origin + 1)
        runs.append(1)
        previous = char

    # Step 4: chains of three or more single letters, each 2 to 4 positions after the previous one.
    count = len(out)
    alnum = [c.isalnum() for c in out]
    singles = [
        i
        for i in range(count)
        if alnum[i] and (i == 0 or not alnum[i - 1]) and (i == count - 1 or not alnum[i + 1])
    ]
    delete: set[int] = set()
    joined: list[int] = []

    def close(chain: list[int]) -> None:
        if len(chain) >= 3:
            for left, right in zip(chain, chain[1:], strict=False):
                delete.update(range(left + 1, right))
                joined.append(right)

    chain: list[int] = singles[:1]
    for position in [*singles[1:], None]:
        if position is not None and 2 <= position - chain[-1] <= _MAX_JOIN_GAP:
            separator = out[chain[-1] + 1 : position]
            if len(chain) == 1 or separator == out[chain[-2] + 1 : chain[-1]]:
                chain.append(position)
                continue
            # Another separator: the chain so far ends, and a new one starts at its last letter.
            close(chain)
            chain = [chain[-1], position]
            continue
        close(chain)
        chain = [position] if position is not None else []
    if not delete:
        return out, starts, ends, runs, set()

    # Step 5: equal letters brought together by joining collapse into the letter before them.
    joined_set = set(joined)
    kept: list[int] = []
    for index in range(count):
        if index in delete:
            continue
        if index in joined_set and kept and out[kept[-1]] == out[index]:
            last = kept[-1]
            runs[last] += runs[index]
            ends[last] = max(ends[last], ends[index])
            continue
        kept.append(index)
    new_index = {old: new for new, old in enumerate(kept)}
    return (
        [out[i] for i in kept],
        [starts[i] for i in kept],
        [ends[i] for i in kept],
        [runs[i] for i in kept],
        {new_index[p] for p in joined_set if p in new_index},
    )


def _fold_with_origins(text: str) -> tuple[list[str], list[int]]:
    folded = text.translate(FOLD)
    if len(folded) == len(text) and text.isascii():
        # ASCII: exactly one folded character per original character.
        return list(folded), list(range(len(text)))
    chars: list[str] = []
    origins: list[int] = []
    for index, ch in enumerate(text):
        for c in FOLD[ord(ch)]:
            chars.append(c)
            origins.append(index)
    return chars, origins


def normalise_reference(text: str) -> Normalised:
    """The normal form of `text`, with offsets back into it: the plain reference implementation, one
    character at a time (`normalise` computes the same with numpy)."""
    chars, origins = _fold_with_origins(text)
    _symbols_in_place(chars)
    out, starts, ends, runs, joins = _collapse_and_join(chars, origins)
    return Normalised("".join(out), tuple(starts), tuple(ends), tuple(runs), frozenset(joins))


def term_forms(term: str, max_l_variants: int = 3) -> list[tuple[str, tuple[int, ...]]]:
    """The normalised keys and run lengths under which a term is matched (see _term_forms)."""
    return list(_term_forms(term, max_l_variants))


@lru_cache(maxsize=200_000)
def _term_forms(term: str, max_l_variants: int) -> tuple[tuple[str, tuple[int, ...]], ...]:
    """The normalised keys and run lengths under which a term is matched, one per spelling variant.

    The first form is the term itself. A "1" in a text may stand for an "l" as well as an "i" ("ki11");
    the text side reads it as "i", so a term with an "l" is also matched with that "l" read as "i" (every
    combination for up to `max_l_variants` letters "l", otherwise none or all of them). A term written
    with an apostrophe also matches without it ("don't" matches "dont"). A phrase with a one-letter word
    also matches with that word run into its neighbour, as joining split letters does in the text
    ("b r i n g a knife" reads "bringa knife").
    """
    chars, origins = _fold_with_origins(term)
    _symbols_in_place(chars)
    spellings = [(chars, origins)]
    if "'" in chars:
        kept = [i for i, c in enumerate(chars) if c != "'"]
        spellings.append(([chars[i] for i in kept], [origins[i] for i in kept]))
    for spelling, spelling_origins in list(spellings):
        for drop in _spaces_beside_single_letters(spelling):
            kept = [i for i in range(len(spelling)) if i not in drop]
            spellings.append(([spelling[i] for i in kept], [spelling_origins[i] for i in kept]))
    forms: list[tuple[str, tuple[int, ...]]] = []
    seen: set[tuple[str, tuple[int, ...]]] = set()
    for spelling, spelling_origins in spellings:
        l_positions = [i for i, c in enumerate(spelling) if c == "l"]
        if len(l_positions) <= max_l_variants:
            subsets = [
                [p for bit, p in enumerate(l_positions) if mask >> bit & 1]
                for mask in range(1 << len(l_positions))
            ]
        else:
            subsets = [[], l_positions]
        for subset in subsets:
            variant = list(spelling)
            for position in subset:
                variant[position] = "i"
            out, _starts, _ends, runs, _joins = _collapse_and_join(variant, spelling_origins)
            form = ("".join(out), tuple(runs))
            if form[0] and form not in seen:
                seen.add(form)
                forms.append(form)
    return tuple(forms)


def _spaces_beside_single_letters(chars: Sequence[str]) -> list[set[int]]:
    """Sets of spaces to drop so that a phrase's one-letter words run into a neighbour: each space on its
    own, and all of them together."""
    count = len(chars)
    spaces: list[int] = []
    for i, c in enumerate(chars):
        single = (
            c.isalnum()
            and (i == 0 or not chars[i - 1].isalnum())
            and (i == count - 1 or not chars[i + 1].isalnum())
        )
        if not single:
            continue
        if i >= 2 and chars[i - 1] == " " and chars[i - 2].isalnum():
            spaces.append(i - 1)
        if i + 2 < count and chars[i + 1] == " " and chars[i + 2].isalnum():
            spaces.append(i + 1)
    if not spaces:
        return []
    found = [{space} for space in spaces[:6]]
    if len(spaces) > 1:
        found.append(set(spaces))
    return found


def canonical(key: str, runs: Sequence[int]) -> str:
    """A readable form of a normalised key with its run lengths ("kil", (1, 1, 2)) -> "kill"."""
    return "".join(char * run for char, run in zip(key, runs, strict=True))


# ------------------------------------------------------------------------------------- the batch form


@dataclass(frozen=True)
class BatchGroup:
    """Normalised texts of a batch, joined by SEPARATOR, with the index of each text in the batch."""

    text: str
    """The normalised texts, each between two SEPARATORs."""
    marked: str
    """The text with every character but letters and digits (separators too) replaced by MARK, position
    for position: a term whose key is written the same way, with MARK before and after where it needs a
    word boundary, matches there only at word boundaries (texts with joined letters excepted: see
    `joined`)."""
    docs: np.ndarray
    """Index in the batch of each text of the group, in order."""
    starts: np.ndarray
    """Start of each text in `text`, plus len(text) at the end (text i is starts[i]:starts[i+1]-1)."""
    joined: np.ndarray
    """True for texts with joined letters (word boundaries the marked view does not show)."""

    def doc_text(self, position: int) -> str:
        """The normalised text of the group's `position`-th text."""
        return self.text[self.starts[position] : self.starts[position + 1] - 1]


_ASCII_TABLE = bytes(0 if b == 0 else ord(FOLD[b]) for b in range(128)) + bytes(range(128, 256))
_ASCII_FOLD32 = np.frombuffer(_ASCII_TABLE[:128], dtype=np.uint8).astype(np.uint32)


def _fold_codes(text: str) -> np.ndarray:
    """Step 1 on a text that is not all ASCII (SEPARATOR kept), as code points: ASCII characters through a
    table, the others (few) one distinct character at a time; equal to `text.translate` with FOLD."""
    raw = np.frombuffer(text.encode("utf-32-le"), dtype="<u4")
    wide = raw >= 128
    out = raw.astype(np.uint32)
    out[~wide] = _ASCII_FOLD32[raw[~wide]]
    positions = np.flatnonzero(wide)
    if positions.size == 0:
        return out
    distinct, which = np.unique(raw[positions], return_inverse=True)
    folds = [_BATCH_FOLD[int(code)] for code in distinct.tolist()]
    lengths = np.fromiter(map(len, folds), dtype=np.int64, count=len(folds))
    if (lengths == 1).all():
        out[positions] = np.fromiter((ord(f) for f in folds), dtype=np.uint32, count=len(folds))[which]
        return out
    # Some fold to nothing (invisible characters) or to several characters ("ß" -> "ss"): repeat each
    # code as many times as its fold is long, then write the folds' characters in place.
    single = np.fromiter((ord(f) if len(f) == 1 else 0 for f in folds), dtype=np.uint32, count=len(folds))
    out[positions] = single[which]
    repeat = np.ones(raw.size, dtype=np.int64)
    repeat[positions] = lengths[which]
    result = np.repeat(out, repeat)
    multi = np.flatnonzero(lengths[which] > 1)
    if multi.size:
        starts = np.cumsum(repeat) - repeat
        for index in multi.tolist():
            at = int(starts[positions[index]])
            fold = folds[int(which[index])]
            result[at : at + len(fold)] = [ord(c) for c in fold]
    return result


# 256-byte tables for bytes.translate, several times faster than indexing a numpy lookup table.
_ASCII_ALNUM = bytes(1 if b < 128 and chr(b).isalnum() else 0 for b in range(256))
_ASCII_SYMBOL = bytes(1 if b < 128 and chr(b) in SYMBOLS else 0 for b in range(256))
_ASCII_ALNUM_FLAGS = np.array([chr(b).isalnum() for b in range(128)], dtype=bool)
_ASCII_MARKED = bytes(b if b < 128 and chr(b).isalnum() else 1 for b in range(256))
_ASCII_SYMBOL_TARGET = np.array(
    [ord(SYMBOLS[chr(b)]) if b < 128 and chr(b) in SYMBOLS else b for b in range(256)], dtype=np.uint8
)
_SYMBOL_CODES = np.array(sorted(ord(s) for s in SYMBOLS), dtype=np.uint32)
_SYMBOL_TARGETS = np.array([ord(SYMBOLS[chr(c)]) for c in _SYMBOL_CODES], dtype=np.uint32)
_ASCII_SYMBOL_BYTES = tuple(s.encode() for s in SYMBOLS if s.isascii())
_EITHER_SIDE_CODES = np.array(sorted(ord(s) for s in SYMBOLS_AFTER_LETTERS), dtype=np.uint32)


@cache
def _is_alnum_code(code: int) -> bool:
    return chr(code).isalnum()


def _alnum_mask(codes: np.ndarray) -> np.ndarray:
    if codes.dtype == np.uint8:
        return np.frombuffer(codes.tobytes().translate(_ASCII_ALNUM), dtype=bool)
    narrow = codes < 128
    mask = np.zeros(codes.size, dtype=bool)
    mask[narrow] = _ASCII_ALNUM_FLAGS[codes[narrow]]
    wide = np.flatnonzero(~narrow)
    if wide.size:
        unique, inverse = np.unique(codes[wide], return_inverse=True)
        flags = np.fromiter((_is_alnum_code(c) for c in unique.tolist()), dtype=bool, count=unique.size)
        mask[wide] = flags[inverse]
    return mask


def _symbol_mask(codes: np.ndarray) -> np.ndarray:
    if codes.dtype == np.uint8:
        return np.frombuffer(codes.tobytes().translate(_ASCII_SYMBOL), dtype=bool)
    return np.isin(codes, _SYMBOL_CODES)


def _next_non_symbol(codes: np.ndarray, positions: np.ndarray, step: int) -> np.ndarray:
    """For each symbol position, the nearest position in direction `step` that holds no symbol (may be
    -1 or the array's size: outside)."""
    size = codes.size
    found = positions + step
    while True:
        inside = (found >= 0) & (found < size)
        more = np.zeros(found.size, dtype=bool)
        more[inside] = np.isin(codes[found[inside]], _SYMBOL_CODES)
        if not more.any():
            return found
        found[more] += step


def _symbol_positions(codes: np.ndarray) -> np.ndarray:
    if codes.dtype != np.uint8:
        return np.flatnonzero(_symbol_mask(codes))
    # Symbols are rare: finding each is cheaper than a mask over the whole chunk.
    raw = codes.tobytes()
    found: list[int] = []
    for symbol in _ASCII_SYMBOL_BYTES:
        at = raw.find(symbol)
        while at != -1:
            found.append(at)
            at = raw.find(symbol, at + 1)
    found.sort()
    return np.asarray(found, dtype=np.int64)


def _replace_symbols(codes: np.ndarray) -> np.ndarray:
    """Step 2 on an array of folded code points (SEPARATOR is neither a symbol nor a letter)."""
    positions = _symbol_positions(codes)
    if positions.size == 0:
        return codes
    size = codes.size
    after = _next_non_symbol(codes, positions, 1)
    replace = after < size
    replace[replace] = _alnum_mask(codes[after[replace]])
    either = ~replace & np.isin(codes[positions], _EITHER_SIDE_CODES)
    if either.any():
        before = _next_non_symbol(codes, positions[either], -1)
        found = before >= 0
        found[found] = _alnum_mask(codes[before[found]])
        replace[np.flatnonzero(either)[found]] = True
    targets = positions[replace]
    if targets.size == 0:
        return codes
    codes = codes.copy()
    if codes.dtype == np.uint8:
        codes[targets] = _ASCII_SYMBOL_TARGET[codes[targets]]
    else:
        codes[targets] = _SYMBOL_TARGETS[np.searchsorted(_SYMBOL_CODES, codes[targets])]
    return codes


def _collapse(codes: np.ndarray, adjacent_separators: bool = True) -> np.ndarray:
    """Step 3 without run lengths. Separators are never collapsed (needed only where two can be adjacent:
    a text whose fold is empty)."""
    keep = np.empty(codes.size, dtype=bool)
    if codes.size:
        keep[0] = True
        np.not_equal(codes[1:], codes[:-1], out=keep[1:])
        if adjacent_separators:
            keep |= codes == 0
    return codes[keep]


def _chains(codes: np.ndarray, alnum: np.ndarray) -> list[tuple[int, int]]:
    """Step 4's chains as (left, right) pairs of joined single letters: three or more single letters,
    each 2 to 4 positions after the previous one, with the same separator between each, never across a
    text boundary (a 0)."""
    size = alnum.size
    if size < 5:
        singles = np.asarray(
            [
                i
                for i in range(size)
                if alnum[i] and (i == 0 or not alnum[i - 1]) and (i == size - 1 or not alnum[i + 1])
            ],
            dtype=np.int64,
        )
    else:
        singles = np.flatnonzero(alnum[1:-1] & ~(alnum[:-2] | alnum[2:])) + 1
        edges = [i for i in (0, size - 1) if alnum[i] and not alnum[1 if i == 0 else size - 2]]
        if edges:
            singles = np.sort(np.concatenate((singles, np.asarray(edges, dtype=np.int64))))
    if singles.size < 3:
        return []
    gaps = np.diff(singles)
    linked = (gaps >= 2) & (gaps <= _MAX_JOIN_GAP)
    if linked.sum() < 2:
        return []
    starts = singles.tolist()
    pairs: list[tuple[int, int]] = []
    chain: list[int] = []  # consecutive links with the same separator
    separator = b""

    def close() -> None:
        if len(chain) >= 2:
            pairs.extend((starts[k], starts[k + 1]) for k in chain)

    for k in np.flatnonzero(linked).tolist():
        between = codes[starts[k] + 1 : starts[k + 1]]
        if (between == 0).any():
            close()
            chain, separator = [], b""
            continue
        key = between.tobytes()
        if chain and chain[-1] == k - 1 and key == separator:
            chain.append(k)
            continue
        close()
        chain, separator = [k], key
    close()
    return pairs


def _join(codes: np.ndarray, alnum: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Steps 4 and 5 on collapsed codes (texts separated by 0). Returns the codes, their alnum mask and
    the numbers of the separators before the texts in which letters were joined."""
    pairs = _chains(codes, alnum)
    if not pairs:
        return codes, alnum, np.zeros(0, dtype=np.int64)
    # Deleted stretches are few: copy the kept segments rather than index with a mask of the whole chunk.
    cut: list[tuple[int, int]] = []
    for left, right in pairs:
        stop = right + 1 if codes[right] == codes[left] else right
        if cut and cut[-1][1] >= left + 1:
            cut[-1] = (cut[-1][0], max(cut[-1][1], stop))
        else:
            cut.append((left + 1, stop))
    bounds = [0, *(edge for span in cut for edge in span), codes.size]
    segments = list(zip(bounds[0::2], bounds[1::2], strict=True))
    separators = np.flatnonzero(codes == 0)
    rights = np.asarray([right for _left, right in pairs], dtype=np.int64)
    docs_with_joins = np.unique(np.searchsorted(separators, rights))
    kept_codes = np.concatenate([codes[a:b] for a, b in segments])
    kept_alnum = np.concatenate([alnum[a:b] for a, b in segments])
    return kept_codes, kept_alnum, docs_with_joins


def _decode(codes: np.ndarray) -> str:
    if codes.dtype == np.uint8:
        return codes.tobytes().decode("ascii")
    return codes.astype("<u4").tobytes().decode("utf-32-le")


def _group(folded: np.ndarray, docs: list[int]) -> BatchGroup:
    """Normalise a group's folded codes: its texts joined by 0, with a 0 before the first and after the
    last (so that the marked view has a mark at each end and lines up with the text)."""
    is_ascii = folded.dtype == np.uint8
    # ASCII texts fold one to one and none is empty, so no two separators are adjacent.
    codes = _collapse(_replace_symbols(folded), adjacent_separators=not is_ascii)
    if is_ascii:
        marked_raw = codes.tobytes().translate(_ASCII_MARKED)
        alnum = np.frombuffer(marked_raw, dtype=np.uint8) != 1
        codes, alnum, docs_with_joins = _join(codes, alnum)
        raw = codes.tobytes()
        if docs_with_joins.size:
            marked_raw = raw.translate(_ASCII_MARKED)
        text, marked = raw.decode("ascii"), marked_raw.decode("ascii")
    else:
        codes, alnum, docs_with_joins = _join(codes, _alnum_mask(codes))
        text = _decode(codes)
        marked = _decode(np.where(alnum, codes, np.asarray(1, dtype=codes.dtype)))
    starts = (np.flatnonzero(codes == 0) + 1).astype(np.int64)
    joined = np.zeros(len(docs), dtype=bool)
    joined[docs_with_joins - 1] = True
    return BatchGroup(
        text=text,
        marked=marked,
        docs=np.asarray(docs, dtype=np.int64),
        starts=starts,
        joined=joined,
    )


def _sorted_by_kind(texts: Sequence[str], *, empty_is_odd: bool) -> tuple[list[int], list[int], list[int]]:
    """Indexes of the ASCII texts, the other texts, and those done one by one (holding the batch
    SEPARATOR; or empty, where `empty_is_odd`)."""
    ascii_docs: list[int] = []
    other_docs: list[int] = []
    odd_docs: list[int] = []
    for index, text in enumerate(texts):
        if (empty_is_odd and not text) or SEPARATOR in text:
            odd_docs.append(index)
        elif text.isascii():
            ascii_docs.append(index)
        else:
            other_docs.append(index)
    return ascii_docs, other_docs, odd_docs


def normalise_batch(texts: Sequence[str]) -> list[BatchGroup]:
    """The normal form of many texts at once (no offsets): ASCII texts in one group, the others in another.

    Equal, text for text, to `normalise(t).text`. A text holding SEPARATOR is normalised on its own.
    """
    ascii_docs, other_docs, odd_docs = _sorted_by_kind(texts, empty_is_odd=True)
    groups: list[BatchGroup] = []
    if ascii_docs:
        joined = SEPARATOR.join(["", *(texts[i] for i in ascii_docs), ""]).encode("ascii")
        groups.append(_group(np.frombuffer(joined.translate(_ASCII_TABLE), dtype=np.uint8), ascii_docs))
    if other_docs:
        joined_text = SEPARATOR.join(["", *(texts[i] for i in other_docs), ""])
        groups.append(_group(_fold_codes(joined_text), other_docs))
    for index in odd_docs:
        reference = normalise(texts[index])
        groups.append(
            BatchGroup(
                text=SEPARATOR + reference.text + SEPARATOR,
                marked=reference.marked,
                docs=np.asarray([index], dtype=np.int64),
                starts=np.asarray([1, len(reference.text) + 2], dtype=np.int64),
                joined=np.asarray([bool(reference.joins)], dtype=bool),
            )
        )
    return groups


_NOT_ALNUM = re.compile(r"[\W_]")
r"""What str.isalnum() rejects: for str patterns, \w is exactly isalnum() or "_"."""


def marked_key(key: str, needs_start: bool, needs_end: bool) -> str:
    """A normalised key written as in a group's marked view, with the word boundaries it needs."""
    # Most keys are one word: no character to replace (the build makes tens of thousands of these).
    marked = key if key.isalnum() else _NOT_ALNUM.sub(MARK, key)
    if needs_start and key[:1].isalnum():
        marked = MARK + marked
    if needs_end and key[-1:].isalnum():
        marked = marked + MARK
    return marked


_SINGLE_ASCII_TABLE = bytes(ord(FOLD[b]) for b in range(128)) + bytes(range(128, 256))


def normalise(text: str) -> Normalised:
    """The normal form of `text`, with offsets back into it (numpy; equal to normalise_reference)."""
    if not text:
        return Normalised("", (), (), (), frozenset())
    if text.isascii():
        codes = np.frombuffer(text.encode("ascii").translate(_SINGLE_ASCII_TABLE), dtype=np.uint8)
        origins = np.arange(codes.size, dtype=np.int64)
    else:
        pieces = [FOLD[ord(ch)] for ch in text]
        lengths = np.fromiter(map(len, pieces), dtype=np.int64, count=len(pieces))
        origins = np.repeat(np.arange(len(pieces), dtype=np.int64), lengths)
        codes = np.frombuffer("".join(pieces).encode("utf-32-le"), dtype="<u4").astype(np.uint32)
        if codes.size == 0:
            return Normalised("", (), (), (), frozenset())
    codes = _replace_symbols(codes)
    size = codes.size
    first = np.empty(size, dtype=bool)
    first[0] = True
    np.not_equal(codes[1:], codes[:-1], out=first[1:])
    run_starts = np.flatnonzero(first)
    run_ends = np.append(run_starts[1:], size)
    collapsed = codes[run_starts]
    starts = origins[run_starts]
    ends = origins[run_ends - 1] + 1
    runs = run_ends - run_starts
    alnum = _alnum_mask(collapsed)
    joins: frozenset[int] = frozenset()
    deleted, joined = _join_plan(collapsed, alnum)
    if joined:
        runs = runs.copy()
        ends = ends.copy()
        for left, right in joined:
            if collapsed[right] == collapsed[left]:
                # Merge into the kept letter before it (a chain "a.a.a" merges into the first "a").
                target = left
                while deleted[target]:
                    target = _previous_kept(deleted, target)
                runs[target] += runs[right]
                ends[target] = max(ends[target], ends[right])
                deleted[right] = True
        keep = ~deleted
        new_index = np.cumsum(keep) - 1
        joins = frozenset(int(new_index[right]) for _left, right in joined if keep[right])
        collapsed, starts, ends, runs = collapsed[keep], starts[keep], ends[keep], runs[keep]
    return Normalised(_decode(collapsed), starts.tolist(), ends.tolist(), runs.tolist(), joins)


def _previous_kept(deleted: np.ndarray, position: int) -> int:
    position -= 1
    while position > 0 and deleted[position]:
        position -= 1
    return position


def _join_plan(codes: np.ndarray, alnum: np.ndarray) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """Step 4 for one text: which characters joining deletes, and the joined (left, right) letters."""
    deleted = np.zeros(codes.size, dtype=bool)
    pairs = _chains(codes, alnum)
    for left, right in pairs:
        deleted[left + 1 : right] = True
    return deleted, pairs


# ------------------------------------------------------------------------------------- the skeleton

NON_ASCII = 0x80
"""A letter or digit beyond ASCII, in a skeleton batch (no anchor holds it: an ASCII key cannot match
across one)."""

# Every ASCII byte that is not a letter or digit, the separator (0) excepted: `bytes.translate` deletes
# them from a folded ASCII batch.
_SKELETON_DELETE = bytes(b for b in range(1, 128) if not chr(b).isalnum())


def skeleton_of_normal(normal: str) -> str:
    """The skeleton of a text already in normal form (a normalised key): its letters and digits, repeats
    collapsed."""
    out: list[str] = []
    for char in normal:
        if char.isalnum() and (not out or out[-1] != char):
            out.append(char)
    return "".join(out)


def skeleton(text: str) -> str:
    """The skeleton of a text: steps 1 and 2, then only its letters and digits, repeats collapsed.

    It is what is left of the normal form when everything but letters and digits is dropped and repeats
    are collapsed: `skeleton(t) == skeleton_of_normal(normalise(t).text)`. Steps 3 to 5 only collapse
    repeats, delete characters that are not letters or digits (the separators of split letters, which may
    be symbols step 2 left alone: "s ! c ! a ! m") and merge a joined letter into an equal one before it;
    none of this changes the letters and digits left once repeats are collapsed. Step 2 must run first: a
    symbol is a letter only where step 2 made it one. Hence a key found in a text's normal form has its
    `skeleton_of_normal` in the text's skeleton (collapsing a substring gives a substring of the
    collapsed whole): a text whose skeleton holds none of a set of keys' skeletons cannot match any of
    them.
    """
    chars = list(fold(text))
    _symbols_in_place(chars)
    return skeleton_of_normal("".join(chars))


def skeleton_batch(texts: Sequence[str]) -> tuple[bytes, np.ndarray]:
    """The skeletons of many texts at once (numpy), as bytes: each text's skeleton after a 0, and a 0 at
    the end; letters and digits beyond ASCII written as NON_ASCII. Returns the bytes and, in order, the
    index in `texts` of each skeleton.

    Text for text equal to `skeleton(t)` with every character beyond ASCII written as NON_ASCII (runs of
    them may be collapsed to one).
    """
    ascii_docs, other_docs, odd_docs = _sorted_by_kind(texts, empty_is_odd=False)
    parts: list[bytes] = []
    if ascii_docs:
        joined = SEPARATOR.join(["", *(texts[i] for i in ascii_docs)]).encode("ascii")
        folded = np.frombuffer(joined.translate(_ASCII_TABLE), dtype=np.uint8)
        replaced = _replace_symbols(folded)
        kept = replaced.tobytes().translate(None, _SKELETON_DELETE)
        parts.append(_collapse(np.frombuffer(kept, dtype=np.uint8)).tobytes())
    if other_docs:
        codes = _replace_symbols(_fold_codes(SEPARATOR.join(["", *(texts[i] for i in other_docs)])))
        codes = _collapse(codes[_alnum_mask(codes) | (codes == 0)])
        parts.append(np.where(codes < 128, codes, NON_ASCII).astype(np.uint8).tobytes())
    for index in odd_docs:
        text = skeleton(texts[index])
        parts.append(b"\x00" + bytes(ord(c) if c.isascii() else NON_ASCII for c in text))
    parts.append(b"\x00")
    return b"".join(parts), np.asarray(ascii_docs + other_docs + odd_docs, dtype=np.int64)

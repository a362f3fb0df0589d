"""De-obfuscation on code points, one vectorised numpy pass over a batch of texts (step 1 of the package
docstring)."""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from classifiers.text import (
    _INVISIBLE,
)

F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
U64 = npt.NDArray[np.uint64]
Bools = npt.NDArray[np.bool_]

# ------------------------------------------------------------------------------------------------------------
# De-obfuscation on code points
# ------------------------------------------------------------------------------------------------------------


def _words(text: str) -> tuple[str, ...]:
    """A word list written as one string."""
    return tuple(text.split())


# Letters of other scripts that look like Latin ones (lower case: applied after case folding).
_HOMOGLYPHS = str.maketrans(
    "авеёкмнорстухѕіїјԁԛԝɡոսıɩʟɪɴʀᴅαβεικνορτυχγωηø", "abeekmhopctyxsiijdqwgnuiilinrdabeikvoptuxywno"
)
# Digits and symbols that stand for letters inside a word.
_LEET = {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b", "9": "g", "@": "a", "$": "s",
         "!": "i", "|": "l"}  # fmt: skip
_TABLE_SIZE = 0x20000
MENTION = 0xE000  # placeholder code point for an @-mention (a word character)
LINK = 0xE001  # placeholder code point for a link
NEWLINE, SPACE = 10, 32
_SEPARATOR_CHARS = " .-_*"


@dataclass(frozen=True, slots=True)
class _Tables:
    fold: npt.NDArray[np.int32]  # code point -> folded code point, -1 = drop
    word: Bools  # folded code point -> is a word character
    leet: npt.NDArray[np.int32]  # code point -> letter it stands for (or itself)
    letter: Bools  # ASCII letter a-z
    leet_strong: Bools  # digit or symbol read as a letter wherever it stands in a word
    leet_weak: Bools  # "!" and "|": read as a letter only between two letters
    leet_any: Bools
    separator: Bools
    built: Bools  # which blocks of `fold` and `word` are filled (see `_cover`)


_BLOCK_BITS = 8  # the folding and word tables are built 256 code points at a time, when a text needs them


def _fold_code(cp: int) -> int:
    """The folded code point of `cp` (-1: dropped)."""
    ch = chr(cp)
    if cp == NEWLINE:
        return cp
    if cp in _INVISIBLE_SET:
        return -1
    if ch.isspace():
        return SPACE
    if 0xD800 <= cp < 0xF900:
        return cp  # surrogates and private use (our placeholders) stay as they are
    if unicodedata.category(ch) == "Cc":
        return -1
    folded = unicodedata.normalize("NFKC", ch).casefold().translate(_HOMOGLYPHS)
    if len(folded) == 1:
        return ord(folded)
    if not folded:
        return -1
    lower = ch.lower()
    return ord(lower) if len(lower) == 1 else cp


def _build_block(t: _Tables, block: int) -> None:
    """Fill one block of `t.fold` and `t.word` (what every code point folds to, and which are word
    characters)."""
    first = block << _BLOCK_BITS
    cps = range(first, first + (1 << _BLOCK_BITS))
    t.fold[first : first + len(cps)] = [_fold_code(cp) for cp in cps]
    t.word[first : first + len(cps)] = [chr(cp).isalnum() or chr(cp) in "_'" for cp in cps]
    t.word[MENTION] = t.word[LINK] = True


def _cover(t: _Tables, codes: I64) -> None:
    """Make sure the folding and word tables hold every code point of `codes` (inside the table).

    Building all 131,072 entries takes most of a second of start-up; a text in one script needs two or
    three blocks. The result is the same either way: each entry is a function of its code point alone.
    """
    # A mark per block seen (no sort: this runs on every batch, twice).
    present = np.zeros(t.built.shape[0], dtype=bool)
    present[codes[codes < _TABLE_SIZE] >> _BLOCK_BITS] = True
    missing = np.flatnonzero(present & ~t.built)
    if missing.shape[0]:
        with _build_lock:
            for block in missing.tolist():
                if not t.built[block]:
                    _build_block(t, block)
                    t.built[block] = True


def _build_tables() -> _Tables:
    fold = np.arange(_TABLE_SIZE, dtype=np.int32)
    word = np.zeros(_TABLE_SIZE, dtype=bool)
    leet = np.arange(_TABLE_SIZE, dtype=np.int32)
    for src, dst in _LEET.items():
        leet[ord(src)] = ord(dst)
    letter = np.zeros(_TABLE_SIZE, dtype=bool)
    letter[ord("a") : ord("z") + 1] = True
    strong = np.zeros(_TABLE_SIZE, dtype=bool)
    strong[[ord(c) for c in _LEET if c not in "!|"]] = True
    weak = np.zeros(_TABLE_SIZE, dtype=bool)
    weak[[ord("!"), ord("|")]] = True
    separator = np.zeros(_TABLE_SIZE, dtype=bool)
    separator[[ord(c) for c in _SEPARATOR_CHARS]] = True
    built = np.zeros(_TABLE_SIZE >> _BLOCK_BITS, dtype=bool)
    tables = _Tables(fold, word, leet, letter, strong, weak, strong | weak, separator, built)
    _cover(tables, np.arange(128, dtype=np.int64))  # ASCII (and the rest of its block) now
    _cover(tables, np.array([MENTION], dtype=np.int64))
    return tables


_tables_cache: list[_Tables] = []
_build_lock = threading.RLock()  # `_tables` holds it while `_build_tables` covers ASCII
_INVISIBLE_SET = frozenset(_INVISIBLE)


def _tables() -> _Tables:
    if not _tables_cache:
        with _build_lock:
            if not _tables_cache:
                _tables_cache.append(_build_tables())
    return _tables_cache[0]


def _lookup(table: npt.NDArray[Any], codes: I64, default: Any) -> npt.NDArray[Any]:
    """table[codes] for code points inside the table, `default` (or the code itself) beyond it."""
    inside = codes < _TABLE_SIZE
    if inside.all():
        return table[codes]
    out = np.empty(codes.shape[0], dtype=table.dtype)
    out[inside] = table[codes[inside]]
    out[~inside] = codes[~inside] if default is None else default
    return out


def _ranges_mask(n: int, starts: I64, ends: I64) -> Bools:
    """Boolean mask of positions inside any [start, end)."""
    delta = np.zeros(n + 1, dtype=np.int64)
    np.add.at(delta, starts, 1)
    np.add.at(delta, ends, -1)
    return np.cumsum(delta[:n]) > 0


def _next_true(mask: Bools, positions: I64) -> I64:
    """For each position, the first index >= position where `mask` holds (len(mask) if none)."""
    hits = np.flatnonzero(mask)
    idx = np.searchsorted(hits, positions)
    return np.where(
        idx < hits.shape[0], hits[np.minimum(idx, max(hits.shape[0] - 1, 0))], mask.shape[0]
    ).astype(np.int64)


@dataclass(frozen=True, slots=True)
class _Normalised:
    codes: I64  # folded, de-obfuscated code points; texts separated by NEWLINE, with a SPACE at both ends
    n_docs: int
    raw_stats: F64  # per text: upper-case letters, letters, "!", "?", mentions
    # With `positions=True`: per code, the offset in its own text of the code point it was read from (the
    # first one of a squeezed run, a link or a mention); -1 for the spaces and line breaks between texts.
    source: I64 | None = None


def _normalise(texts: Sequence[str], *, positions: bool = False) -> _Normalised:
    """The batch's texts folded and de-obfuscated, in the order of the steps below, with its style counts
    (and, with `positions`, where each code comes from in its text)."""
    t = _tables()
    n_docs = len(texts)
    raw = "\n".join(texts_one_line(texts))
    codes = np.frombuffer(raw.encode("utf-32-le", "surrogatepass"), dtype=np.uint32).astype(np.int64)
    raw_stats = _raw_stats(texts)
    _cover(t, codes)
    source = _text_offsets(texts) if positions else None
    codes, kept = _fold(codes, t)
    _cover(t, codes)  # the later steps only add ASCII letters, spaces and placeholders: all covered
    if source is not None:
        source = np.concatenate(([-1], source if kept is None else source[kept], [-1]))
    word = _lookup(t.word, codes, False)
    codes, word, kept = _placeholders(codes, word)
    source = _follow(source, kept)
    codes, word, kept = _join_spaced_letters(codes, word, t)
    source = _follow(source, kept)
    _read_leet(codes, word, t)
    codes, kept = _squeeze_runs(codes)
    return _Normalised(codes=codes, n_docs=n_docs, raw_stats=raw_stats, source=_follow(source, kept))


def _text_offsets(texts: Sequence[str]) -> I64:
    """Per code point of the joined batch, its offset in its own text (-1 for the line breaks between)."""
    lengths = np.array([len(t) for t in texts], dtype=np.int64)
    total = int(lengths.sum()) + max(len(texts) - 1, 0)
    offsets = np.arange(total, dtype=np.int64)
    if len(texts) > 1:
        starts = np.concatenate(([0], np.cumsum(lengths[:-1] + 1)))
        offsets -= np.repeat(starts, lengths + 1)[:total]
        offsets[starts[1:] - 1] = -1
    return offsets


def _follow(source: I64 | None, kept: Bools | None) -> I64 | None:
    return source if source is None or kept is None else source[kept]


# Bytes other than ASCII upper-case letters, and other than ASCII letters: deleted to count the others. In
# UTF-8 every byte of a non-ASCII character is 0x80 or above, so counting bytes counts ASCII characters.
_NOT_UPPER = bytes(c for c in range(256) if not 65 <= c <= 90)
_NOT_LETTER = bytes(c for c in range(256) if not (65 <= c <= 90 or 97 <= c <= 122))


def _raw_stats(texts: Sequence[str]) -> F64:
    """Style counts per text on the raw code points: upper-case letters, letters, "!", "?", "@" (ASCII).

    Counted on each text's UTF-8 bytes by C-level byte methods: five passes over a batch's codes in numpy
    cost five times as much."""
    raw_stats = np.zeros((len(texts), 5), dtype=np.float64)
    rows = []
    for text in texts:
        raw = text.encode("utf-8", "surrogatepass")
        upper, letters = len(raw.translate(None, _NOT_UPPER)), len(raw.translate(None, _NOT_LETTER))
        rows.append((upper, letters, raw.count(b"!"), raw.count(b"?"), raw.count(b"@")))
    if rows:
        raw_stats[:] = rows
    return raw_stats


def _fold(codes: I64, t: _Tables) -> tuple[I64, Bools | None]:
    """Fold (NFKC, case, look-alikes), drop invisible characters, and put a space at both ends; the codes
    kept (None: all)."""
    codes = _lookup(t.fold, codes, None).astype(np.int64)
    kept = codes >= 0
    if kept.all():
        return np.concatenate(([SPACE], codes, [SPACE])), None
    return np.concatenate(([SPACE], codes[kept], [SPACE])), kept


def _placeholders(codes: I64, word: Bools) -> tuple[I64, Bools, Bools | None]:
    """Links and @-mentions, each turned into one placeholder code point (the rest of it dropped)."""
    boundary = (codes == SPACE) | (codes == NEWLINE)
    drop = _mark_links(codes, word, boundary)
    _mark_mentions(codes, word, drop)
    if drop.any():
        keep = ~drop
        return codes[keep], word[keep], keep
    return codes, word, None


def _mark_links(codes: I64, word: Bools, boundary: Bools) -> Bools:
    """Links ("http://", "https://" or "www." up to the next space): the first code of each becomes `LINK`
    (in place), the rest is marked in the returned drop mask."""
    n = codes.shape[0]
    drop = np.zeros(n, dtype=bool)
    if n >= 8:
        m = n - 7
        # Only where an "h" or a "w" stands (a few percent of the codes) is the rest of the head read.
        at = np.flatnonzero((codes[:m] == 104) | (codes[:m] == 119))

        def c(offset: int) -> I64:
            found: I64 = codes[at + offset]
            return found

        http = (c(0) == 104) & (c(1) == 116) & (c(2) == 116) & (c(3) == 112)
        plain = (c(4) == 58) & (c(5) == 47) & (c(6) == 47)
        secure = (c(4) == 115) & (c(5) == 58) & (c(6) == 47) & (c(7) == 47)
        www = (c(0) == 119) & (c(1) == 119) & (c(2) == 119) & (c(3) == 46)
        starts = at[((http & (plain | secure)) | www) & ~word[np.maximum(at - 1, 0)]]
        if starts.shape[0]:
            ends = _next_true(boundary, starts)
            drop |= _ranges_mask(n, starts + 1, ends)
            codes[starts] = LINK
            word[starts] = True
    return drop


def _mark_mentions(codes: I64, word: Bools, drop: Bools) -> None:
    """Mentions ("@name" after a non-word character, outside links): the "@" becomes `MENTION` and the name
    is added to `drop` (all in place)."""
    n = codes.shape[0]
    at = np.flatnonzero((codes[1:-1] == 64) & ~word[:-2] & word[2:] & ~drop[1:-1]) + 1
    if at.shape[0]:
        ends = _next_true(~word, at + 1)
        drop |= _ranges_mask(n, at + 1, ends)
        codes[at] = MENTION
        word[at] = True


def _join_spaced_letters(codes: I64, word: Bools, t: _Tables) -> tuple[I64, Bools, Bools | None]:
    """Spaced-out letters: three or more one-character words split by one separator are joined."""
    n = codes.shape[0]
    single = np.zeros(n, dtype=bool)
    single[1:-1] = word[1:-1] & ~word[:-2] & ~word[2:]
    sep = _lookup(t.separator, codes, False)
    link = np.zeros(n, dtype=bool)
    link[1:-1] = sep[1:-1] & single[:-2] & single[2:]
    chained = np.zeros(n, dtype=bool)
    chained[2:] |= link[2:] & link[:-2]
    chained[:-2] |= link[:-2] & link[2:]
    if chained.any():
        keep = ~chained
        return codes[keep], word[keep], keep
    return codes, word, None


def _read_leet(codes: I64, word: Bools, t: _Tables) -> None:
    """Digits and symbols inside words ("1d10t", "l0ser", "sh!t") read as the letters they stand for, in
    place: a digit or @/$ next to a letter, and a "!" or "|" between two letters."""
    candidates = np.flatnonzero(_lookup(t.leet_any, codes, False)[1:-1]) + 1
    if candidates.shape[0]:
        letter = t.letter
        before = _lookup(letter, codes[candidates - 1], False)
        after = _lookup(letter, codes[candidates + 1], False)
        weak = _lookup(t.leet_weak, codes[candidates], False)
        change = candidates[np.where(weak, before & after, before | after)]
        if change.shape[0]:
            codes[change] = t.leet[codes[change]]
            word[change] = True


def _squeeze_runs(codes: I64) -> tuple[I64, Bools | None]:
    """Runs of three or more of one character become one; runs of spaces become one space (line breaks,
    which separate texts, stay)."""
    n = codes.shape[0]
    same = np.zeros(n, dtype=bool)
    same[1:] = codes[1:] == codes[:-1]
    neighbour = np.zeros(n, dtype=bool)
    neighbour[1:] = same[:-1]
    neighbour[:-1] |= same[1:]
    # Line breaks separate the texts of a batch: never squeezed (two empty texts in a row are "\n\n\n").
    drop_run = same & (neighbour | (codes == SPACE)) & (codes != NEWLINE)
    if drop_run.any():
        keep = ~drop_run
        return codes[keep], keep
    return codes, None


def texts_one_line(texts: Sequence[str]) -> list[str]:
    """Each text with its line breaks turned into spaces (texts are joined by line breaks in a batch)."""
    return [t.replace("\n", " ") if "\n" in t else t for t in texts]


def deobfuscate(text: str) -> str:
    """The text as the model reads it: folded and de-obfuscated (mentions shown as "@user", links as
    "<link>")."""
    codes = _normalise([text]).codes
    out = "".join(chr(c) for c in codes.tolist())
    return _SPACES.sub(" ", out.replace(chr(MENTION), "@user").replace(chr(LINK), "<link>")).strip()


_SPACES = re.compile(r" +")

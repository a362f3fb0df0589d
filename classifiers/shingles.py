"""Shingle hashes for the duplicated-quote detector: every run of `size` words of a text hashed at once, in
numpy or in the optional C extension `classifiers._shingles` (same results; tests run both).

The words are `classifiers.text.word_keys`: one definition of "a word" for the whole product.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from itertools import groupby, repeat
from types import ModuleType
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from classifiers.text import (
    _ASCII_SEPARATORS,
    _BOILERPLATE_KEYS,
    _ascii_boilerplate_spans,
    _blank,
    boilerplate_spans,
    word_keys,
)

# -- shingle hashes in C (numpy) -------------------------------------------------------------------------
# `shingle_hashes` makes a bytes object per word and hashes a tuple per shingle: some 150 ns a word. The
# duplicated-quote detector hashes every word of every post, so it hashes them with numpy instead: a
# polynomial hash of each word's bytes, then of each run of word hashes, modulo 2**64. The bases are
# odd and drawn from the interpreter's own hash secret (random per process unless PYTHONHASHSEED is set,
# like `hash` itself), so nobody can prepare colliding texts; a base of 5 modulo 8 has the largest
# multiplicative order, so powers never cycle. Equal word runs get equal hashes; different ones collide
# with a chance of about 2**-64, as with `hash`.

_MASK64 = (1 << 64) - 1
_WORD_BASE = (hash(b"modassist word shingles: letters") & _MASK64 & ~7) | 5
_RUN_BASE = (hash(b"modassist word shingles: words") & _MASK64 & ~7) | 5
# Separators become 0 (a word byte never is), ASCII letters lower case; other bytes stay as they are.
_ZERO_TABLE = bytes.maketrans(
    _ASCII_SEPARATORS + bytes(range(65, 91)), b"\0" * len(_ASCII_SEPARATORS) + bytes(range(97, 123))
)
# Words longer than this are hashed with `hash` instead: polynomial hashes modulo 2**64 of very long
# strings can be made to collide whatever the base (Thue-Morse strings), shorter ones cannot.
_LONGEST_POLYNOMIAL_WORD = 255
_POWERS_PRECOMPUTED = 1 << 16
_POWERS_KEPT = 1 << 18
_U64 = np.uint64


def _powers(base: int, count: int) -> npt.NDArray[np.uint64]:
    """base**0 .. base**(count - 1) modulo 2**64."""
    out = np.empty(max(count, 1), dtype=_U64)
    out[0] = 1
    done = 1
    while done < count:  # doubling: out[done:2 * done] = out[:done] * base**done
        step = min(done, count - done)
        np.multiply(out[:step], _U64(pow(base, done, 1 << 64)), out=out[done : done + step])
        done += step
    return out[:count]


class _Powers:
    """Powers of a base and of its inverse modulo 2**64, made on first use and kept for texts of up to
    `_POWERS_KEPT` characters (4 MiB); a longer text gets its own, dropped after it."""

    def __init__(self, base: int) -> None:
        self.base = base
        self.inverse = pow(base, -1, 1 << 64)
        # One attribute for both, so that a thread never sees one grown and not the other.
        self.kept = (np.empty(0, dtype=_U64), np.empty(0, dtype=_U64))

    def get(self, count: int) -> tuple[npt.NDArray[np.uint64], npt.NDArray[np.uint64]]:
        """At least `count` powers of the base and of its inverse."""
        kept = self.kept
        if len(kept[0]) >= count:
            return kept
        if count > _POWERS_KEPT:
            return _powers(self.base, count), _powers(self.inverse, count)
        size = min(max(count, _POWERS_PRECOMPUTED, 2 * len(kept[0])), _POWERS_KEPT)
        self.kept = kept = (_powers(self.base, size), _powers(self.inverse, size))
        return kept


_LETTER_POWERS = _Powers(_WORD_BASE)
_WORD_POWERS = _Powers(_RUN_BASE)
# Low bits of a hash modulo 2**64 depend only on low bits of its input: fold the high bits in.
_FOLD = _U64(29)


class Shingles(NamedTuple):
    """A text's words as the duplicated-quote detector sees them (the keys of `word_keys`).

    `hashes` has one hash per run of `size` consecutive words (none for a text shorter than that), also
    as `hash_array`.
    `joined` holds the words' UTF-8 bytes separated by runs of zero bytes, `starts` and `ends` bound each
    word in it; when `aligned` (plain ASCII text) `joined` is as long as the text and the bounds are
    character spans of the text. `letters_before[k]` counts the letters of words [0, k), k up to the
    number of words (so that `letters` costs the same for any run).
    """

    hashes: list[int]
    hash_array: npt.NDArray[np.int64]
    joined: bytes
    starts: npt.NDArray[np.intp]
    ends: npt.NDArray[np.intp]
    letters_before: npt.NDArray[np.intp]
    aligned: bool

    @property
    def words(self) -> int:
        """How many words."""
        return len(self.starts)

    def letters(self, first: int = 0, last: int | None = None) -> int:
        """Letters (UTF-8 bytes) of words [first, last) (all by default)."""
        before = self.letters_before
        if last is None:
            return before.item(-1)
        if first >= last:
            return 0
        return before.item(last) - before.item(first)


def shingles(text: str, size: int) -> Shingles:
    """The word shingles of `text` (boilerplate lines skipped), hashed."""
    return shingles_and_boilerplate(text, size)[0]


def shingles_and_boilerplate(text: str, size: int) -> tuple[Shingles, list[tuple[int, int]]]:
    """`shingles(text, size)` and `classifiers.text.boilerplate_spans(text)`, the second found on the way
    for plain ASCII text (only lines that hold a boilerplate word are read)."""
    if not text.isascii():
        return key_shingles(word_keys(text), size), boilerplate_spans(text)
    hashed = _hashed_shingles
    found, present = hashed(text.encode("ascii").translate(_ZERO_TABLE), size, True, look_for=True)
    if not present:
        return found, []
    # Some word may be a boilerplate word: the exact check, on the lines where those words stand.
    spans = _ascii_boilerplate_spans(text, text.lower(), present)
    if not spans:
        return found, spans
    return hashed(_blank(text, spans).encode("ascii").translate(_ZERO_TABLE), size, True)[0], spans


def key_shingles(keys: list[bytes], size: int) -> Shingles:
    """`shingles` of a text whose `word_keys` are `keys` (same hashes; bounds in the joined keys)."""
    return _hashed_shingles(b"\0".join(keys), size, False)[0]


def _polynomial_hash(word: bytes) -> int:
    """The hash `_shingles_of` gives `word` (a short one)."""
    return sum(byte * pow(_WORD_BASE, i, 1 << 64) for i, byte in enumerate(word)) & _MASK64


_BOILERPLATE_BY_HASH = {_polynomial_hash(key): key for key in _BOILERPLATE_KEYS}
# A first sieve on the top 16 bits of a word hash (the best mixed ones).
_BOILERPLATE_SIEVE = np.zeros(1 << 16, dtype=bool)
_BOILERPLATE_SIEVE[[h >> 48 for h in _BOILERPLATE_BY_HASH]] = True
_TOP_16 = _U64(48)
_accumulate = np.add.accumulate  # the ufunc method: less overhead than np.cumsum
_EMPTY = np.empty(0, dtype=np.intp)
_NO_HASHES = np.empty(0, dtype=np.int64)
_NO_LETTERS = np.zeros(1, dtype=np.intp)  # letters_before of no words


def _shingles_of(
    joined: bytes, size: int, aligned: bool, *, look_for: bool = False
) -> tuple[Shingles, list[bytes]]:
    """Shingles of word bytes separated by runs of zero bytes, and (if `look_for`) which
    `_BOILERPLATE_KEYS` stand among the words (maybe a few more: they are only candidates)."""
    if not joined:
        return Shingles([], _NO_HASHES, joined, _EMPTY, _EMPTY, _NO_LETTERS, aligned), []
    padded = np.frombuffer(b"\0" + joined + b"\0", dtype=np.uint8)
    count = len(padded)
    is_word = padded != 0
    edges = (is_word[1:] != is_word[:-1]).nonzero()[0]
    # Word k is padded[starts[k] + 1 : ends[k] + 1], that is joined[starts[k] : ends[k]].
    starts, ends = edges[0::2], edges[1::2]
    words = len(starts)
    if not words:
        return Shingles([], _NO_HASHES, joined, starts, ends, _NO_LETTERS, aligned), []
    up, down = _LETTER_POWERS.get(count)
    prefix = _accumulate(padded * up[:count])
    # sum of byte * base**(its place in the word): the same for the same word wherever it stands
    word_hashes = (prefix[ends] - prefix[starts]) * down[1:][starts]
    lengths = ends - starts
    letters_before = np.empty(words + 1, dtype=np.intp)
    letters_before[0] = 0
    _accumulate(lengths, out=letters_before[1:])
    if lengths.max() > _LONGEST_POLYNOMIAL_WORD:
        for k in (lengths > _LONGEST_POLYNOMIAL_WORD).nonzero()[0].tolist():
            word_hashes[k] = hash(joined[starts[k] : ends[k]]) & _MASK64
    present: list[bytes] = []
    if look_for:
        sieved = _BOILERPLATE_SIEVE[word_hashes >> _TOP_16].nonzero()[0]
        if len(sieved):
            found = {_BOILERPLATE_BY_HASH.get(h) for h in word_hashes[sieved].tolist()}
            present = [key for key in found if key is not None]
    if words < size:
        return Shingles([], _NO_HASHES, joined, starts, ends, letters_before, aligned), present
    up, down = _WORD_POWERS.get(words)
    run_prefix = _accumulate(word_hashes * up[:words])
    count_runs = words - size + 1
    hashes = run_prefix[size - 1 :].copy()  # minus the prefix before each run:
    hashes[1:] -= run_prefix[: count_runs - 1]
    hashes *= down[:count_runs]
    hashes ^= hashes >> _FOLD
    signed = hashes.view(np.int64)
    return Shingles(signed.tolist(), signed, joined, starts, ends, letters_before, aligned), present


def _native_shingles_of(
    joined: bytes, size: int, aligned: bool, *, look_for: bool = False
) -> tuple[Shingles, list[bytes]]:
    """`_shingles_of` done by the C extension: the same hashes, bounds and boilerplate candidates."""
    assert native is not None
    hashes, hash_bytes, starts, ends, letters_before, candidates = native.hash_shingles(
        joined, size, _WORD_BASE, _RUN_BASE, _BOILERPLATE_SIEVE_BYTES
    )
    present: list[bytes] = []
    if look_for and candidates:
        found = {_BOILERPLATE_BY_HASH.get(h) for h in candidates}
        present = [key for key in found if key is not None]
    found_shingles = Shingles(
        hashes,
        np.frombuffer(hash_bytes, dtype=np.int64),
        joined,
        np.frombuffer(starts, dtype=np.intp),
        np.frombuffer(ends, dtype=np.intp),
        np.frombuffer(letters_before, dtype=np.intp),
        aligned,
    )
    return found_shingles, present


# Every function the code expects of the extension. A build older than `_shingles.c` (a checkout updated
# without reinstalling) lacks the newer ones: it is not used then, rather than failing at the first call.
NATIVE_FUNCTIONS = (
    "hash_shingles",
    "lookup_runs",
    "self_runs",
    "ascii_words",
    "content_terms",
    "add_weights",
    "term_overlap",
    "tuple_hashes",
    "term_weights",
)


def load_native(name: str, functions: tuple[str, ...]) -> ModuleType | None:
    """The optional C extension `name`, or None when it is not built, when its build is older than its
    source (it lacks one of `functions`; reinstall to rebuild it) or when the environment sets
    MODASSIST_PURE_PYTHON (to test the fallback)."""
    if os.environ.get("MODASSIST_PURE_PYTHON", "") not in ("", "0"):
        return None
    try:
        module = importlib.import_module(name)
    except ImportError:
        return None
    return module if all(hasattr(module, function) for function in functions) else None


def _load_native() -> ModuleType | None:
    """`classifiers._shingles` (see `load_native`)."""
    return load_native("classifiers._shingles", NATIVE_FUNCTIONS)


_BOILERPLATE_SIEVE_BYTES = _BOILERPLATE_SIEVE.tobytes()
# The C extension when it is built, else numpy: same results (tests run both).
native = _load_native()
_hashed_shingles = _native_shingles_of if native is not None else _shingles_of


# -- looking shingles up in a thread's table -----------------------------------------------------------


def _value_runs(values: list[int], none: int) -> list[tuple[int, int, int]]:
    """Runs (first, last + 1, value) of equal values other than `none` in a per-shingle list."""
    found = []
    pos = 0
    for value, group in groupby(values):
        end = pos + len(list(group))
        if value != none:
            found.append((pos, end, value))
        pos = end
    return found


def python_lookup_runs(
    table: dict[int, int], keys: list[int], start: int, stop: int, default: int, store: bool
) -> tuple[list[tuple[int, int, int]], int, int]:
    """Look keys[start:stop] up (`table.setdefault(key, default)` if `store`, else `table.get`): the
    runs (first, last + 1, value) of looked-up values other than `default`, with positions in `keys`;
    how many keys were added; how many lookups gave `default`. (The C extension does the same.)"""
    before = len(table)
    lookup = table.setdefault if store else table.get
    values = list(map(lookup, keys[start:stop], repeat(default)))
    found = [(first + start, end + start, value) for first, end, value in _value_runs(values, default)]
    return found, len(table) - before, values.count(default)


# In C when the extension is built (the duplicated-quote and inflammatory detectors' thread memories).
lookup_runs: Callable[
    [dict[int, int], list[int], int, int, int, bool], tuple[list[tuple[int, int, int]], int, int]
] = native.lookup_runs if native is not None else python_lookup_runs

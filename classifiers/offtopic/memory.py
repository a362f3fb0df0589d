"""What a thread state remembers and measures per post: vectors, the decaying term profile, observations."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from itertools import repeat
from operator import itemgetter
from typing import Final

import numpy as np

from classifiers.offtopic.model import Float64Array, FloatArray
from classifiers.offtopic.semantic import (
    SEMANTIC_FEATURE_NAMES,
    SemanticPost,
)
from classifiers.offtopic.words import _NAME
from classifiers.shingles import native
from classifiers.text import shingle_hashes as python_tuple_hashes
from classifiers.thread import Post

# ---------------------------------------------------------------------------------------------------
# Thread state


@dataclass(slots=True)
class _Vector:
    """A post or passage as distinctive-term weights and an LSA direction (unit length or zero)."""

    weights: dict[str, float]
    norm: float
    lsa: FloatArray
    unknown: int = 0  # terms the background never saw

    def cosine(self, other: dict[str, float], other_norm: float) -> float:
        if not self.norm or not other_norm:
            return 0.0
        if len(other) < len(self.weights):
            mine = self.weights
            dot = sum(w * mine.get(t, 0.0) for t, w in other.items())
        else:
            dot = sum(w * other.get(t, 0.0) for t, w in self.weights.items())
        return dot / (self.norm * other_norm)


class _DecayingProfile:
    """Term weights of the posts seen so far, each post's weight decaying by `decay` per later post.

    Values are stored multiplied by `scale`, which grows by 1/decay per post, so decaying costs nothing
    per term; the profile is pruned to its `max_terms` heaviest terms when it grows past twice that.
    """

    __slots__ = ("decay", "max_terms", "scale", "sq", "weights")

    def __init__(self, decay: float, max_terms: int) -> None:
        self.decay = decay
        self.max_terms = max_terms
        self.weights: dict[str, float] = {}
        self.sq = 0.0
        self.scale = 1.0

    def advance(self) -> None:
        """Age everything by one post (before adding the next post's terms)."""
        self.scale /= self.decay
        if self.scale > 1e12:
            factor = 1.0 / self.scale
            self.weights = {t: w * factor for t, w in self.weights.items()}
            self.sq = sum(w * w for w in self.weights.values())
            self.scale = 1.0

    def prune(self) -> None:
        """Keep the heaviest `max_terms` terms once there are twice as many."""
        if len(self.weights) > 2 * self.max_terms:
            keep = sorted(self.weights.items(), key=itemgetter(1), reverse=True)[: self.max_terms]
            self.weights = dict(keep)
            self.sq = sum(w * w for _, w in keep)

    @property
    def norm(self) -> float:
        return math.sqrt(max(self.sq, 0.0))


@dataclass(slots=True, eq=False)
class _Remembered:
    post_id: str
    author: str | None
    vector: _Vector
    score: float


@dataclass(slots=True)
class _Observation:
    """What the state measured about one post, before it is scored."""

    features: Float64Array
    vector: _Vector
    words: list[str]
    shingles: frozenset[int]
    n_terms: int
    answered: list[_Remembered]
    known_share: float  # share of the post's distinctive weight on terms the thread already uses
    new_names: list[str]  # names (capitalised words, acronyms) the thread has not used
    semantic: SemanticPost | None  # None when the combiner does not weigh the word-vector measurements
    anchor_sim: float  # the post's cosine to the anchor in word-vector space


def _unit(v: FloatArray) -> FloatArray:
    # math.sqrt of the float32 dot product, rounded to float32 by the division, is numpy's float32 sqrt
    # exactly (a float64 square root rounded to float32 is the correctly rounded float32 one), and cheaper.
    n = math.sqrt(float(v @ v))
    return v / n if n > 0 else v


# Inline quotes are found by shingles of topic words (stop words left out): cheaper than shingles of
# all words, and a run of five topic words shared with an earlier post is a quote, not a coincidence.
_SHINGLE: Final = 4  # topic words per shingle
_SHINGLE_ONES: Final = np.ones(_SHINGLE, dtype=np.float32)
_MIN_SHINGLES: Final = 2  # shingles (5+ topic words in a row) that make an inline quote of a post
_SPELLING_CHARS: Final = 5000  # how much of the opening post is searched for a term's spelling
# Fewest content tokens (word vectors' weight above 0.3) for a confident judgement.
_MIN_ANCHOR_CONTENT: Final = 2
_MIN_POST_CONTENT: Final = 1
_NO_SEMANTIC: Final = (0.0,) * len(SEMANTIC_FEATURE_NAMES)


def _name_phrases(text: str, names: Collection[str]) -> list[str]:
    """`names` as the text writes them, neighbours joined ("Ada Lovelace"), in order of appearance."""
    wanted = set(names)
    phrases: list[str] = []
    current: list[str] = []
    last_end = -1
    for m in _NAME.finditer(text):
        if m.group() not in wanted:
            continue
        if current and text[last_end : m.start()] == " ":
            current.append(m.group())
        else:
            if current:
                phrases.append(" ".join(current))
            current = [m.group()]
        last_end = m.end()
    if current:
        phrases.append(" ".join(current))
    seen: list[str] = []
    for phrase in phrases:  # "Ada" after "Ada Lovelace" adds nothing
        if not any(phrase in other for other in seen):
            seen.append(phrase)
    # The names the post keeps coming back to first.
    mentions = Counter(m.group() for m in _NAME.finditer(text))
    return sorted(seen, key=lambda phrase: -max(mentions[name] for name in phrase.split()))


def find_quotes(
    post: Post,
    terms: list[str],
    sources: Sequence[tuple[_Remembered, frozenset[int]]],
    by_id: Mapping[str, _Remembered],
) -> tuple[list[bool] | None, list[_Remembered], frozenset[int]]:
    """Which of the post's topic words repeat one of `sources` (earlier posts and their shingles: inline
    quotes), which earlier posts the post answers (inline or by a marked quote naming a post of `by_id`),
    and the post's own shingles."""
    mask: list[bool] | None = None
    hits: list[tuple[int, int, _Remembered]] = []
    unique: frozenset[int] = frozenset()
    if len(terms) >= _SHINGLE:
        # Shingles as hashes: int sets intersect much faster than sets of tuples (which rehash).
        mine = tuple_hashes(terms, _SHINGLE)
        unique = frozenset(mine)
        quoted: set[int] = set()
        for order, (source, theirs) in enumerate(sources):
            common = unique & theirs if len(unique) < len(theirs) else theirs & unique
            if len(common) >= _MIN_SHINGLES:
                hits.append((len(common), -order, source))
                quoted |= common
        if quoted:
            # A word is quoted when one of the shingles covering it is.
            hit = np.fromiter(map(quoted.__contains__, mine), dtype=np.float32, count=len(mine))
            mask = (np.convolve(hit, _SHINGLE_ONES) > 0).tolist()
    for quote in post.quotes:  # a marked quote answers the post it names
        if quote.post_id is not None and quote.post_id in by_id:
            hits.append((len(quote.text), 1, by_id[quote.post_id]))
    hits.sort(key=lambda h: (h[0], h[1]), reverse=True)
    answered: list[_Remembered] = []
    for _, _, source in hits:
        if all(source is not seen for seen in answered):
            answered.append(source)
    return mask, answered[:2], unique


def python_add_weights(
    profile: dict[str, float], weights: Mapping[str, float], scale: float, sq: float
) -> float:
    """Add `weights` times `scale` to `profile`; returns `sq` plus what that adds to the profile's sum of
    squares (term by term, in `weights`' order)."""
    for term, w in weights.items():
        add = w * scale
        old = profile.get(term, 0.0)
        profile[term] = old + add
        sq += (2.0 * old + add) * add
    return sq


def python_term_overlap(
    weights: Mapping[str, float], anchor: Mapping[str, float], thread: Mapping[str, float]
) -> tuple[float, float, float, float]:
    """In one pass over a post's term weights: its dot products with the anchor's and the thread's, its
    weight on terms either already uses (`shared`), and its total weight."""
    a_dot = t_dot = shared = total = 0.0
    for term, w in weights.items():
        total += w
        t = thread.get(term)
        if t is not None:
            t_dot += w * t
        a = anchor.get(term)
        if a is not None:
            a_dot += w * a
        if a is not None or t is not None:
            shared += w
    return a_dot, t_dot, shared, total


# 1 + log(n) for a term counted n times in a post (numpy's logarithms, looked up rather than taken per post).
LOG_TABLE: Final = 1.0 + np.log(np.arange(1, 4097, dtype=np.float64))


def python_term_weights(
    terms: list[str],
    mask: list[bool] | None,
    index: Mapping[str, int],
    idf: Float64Array,
    log_table: Float64Array | None,
) -> tuple[dict[str, float], bytes, bytes, int, int] | None:
    """A post's own terms (`terms` but those `mask` marks quoted) as sublinear TF-IDF weights: a term counted
    n times weighs (1 + log n) x idf[index.get(term, -1)], 1 + log n read from `log_table` (taken here when
    it is None). Returns the dict term -> weight, the idf rows and the weights as bytes (intp and float64),
    the number of terms `index` lacks and the number of own term occurrences; None when a count is past the
    end of `log_table`."""
    own = Counter(terms if mask is None else [t for t, quoted in zip(terms, mask, strict=True) if not quoted])
    keys = list(own)
    size = len(keys)
    counts = np.fromiter(own.values(), dtype=np.intp, count=size)
    if log_table is not None and size and int(counts.max()) > log_table.shape[0]:
        return None
    # -1 (a word the background never saw) picks the unknown-word idf.
    rows = np.fromiter(map(index.get, keys, repeat(-1, size)), dtype=np.intp, count=size)
    logs = 1.0 + np.log(counts.astype(np.float64)) if log_table is None else log_table[counts - 1]
    w = logs * idf[rows]
    weights = dict(zip(keys, w.tolist(), strict=True))
    return weights, rows.tobytes(), w.tobytes(), int(np.count_nonzero(rows < 0)), int(counts.sum())


# The C extension's copies when it is built (the same doubles, in the same order; tests run both).
term_weights: Callable[
    [list[str], list[bool] | None, Mapping[str, int], Float64Array, Float64Array],
    tuple[dict[str, float], bytes, bytes, int, int] | None,
] = native.term_weights if native is not None else python_term_weights
tuple_hashes: Callable[[list[str], int], list[int]] = (
    native.tuple_hashes if native is not None else python_tuple_hashes
)  # (the pure-Python one is `classifiers.text.shingle_hashes`)
add_weights: Callable[[dict[str, float], Mapping[str, float], float, float], float] = (
    native.add_weights if native is not None else python_add_weights
)
term_overlap: Callable[
    [Mapping[str, float], Mapping[str, float], Mapping[str, float]], tuple[float, float, float, float]
] = native.term_overlap if native is not None else python_term_overlap

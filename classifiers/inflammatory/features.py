"""Hashed features (step 2): word uni- and bigrams and character n-grams as seeded 64-bit hash buckets,
the dense style features, and the word lists they read."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from classifiers.inflammatory.lexicons import (
    DEHUMANISING_WORDS,
    INSULT_WORDS,
    SECOND_PERSON,
    TARGETING,
    VIOLENCE_WORDS,
)
from classifiers.inflammatory.normalise import (
    NEWLINE,
    SPACE,
    _lookup,
    _normalise,
    _Normalised,
    _tables,
)

F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
U64 = npt.NDArray[np.uint64]
Bools = npt.NDArray[np.bool_]

# ------------------------------------------------------------------------------------------------------------
# Hashed features
# ------------------------------------------------------------------------------------------------------------

_MASK64 = (1 << 64) - 1
# Odd 64-bit multipliers, one per character position of an n-gram or a word (fixed: they define the features).
_MULTIPLIERS = np.array(
    [((0x9E3779B97F4A7C15 * (2 * i + 1) + 0x632BE59BD9B4E019 * i * i) & _MASK64) | 1 for i in range(32)],
    dtype=np.uint64,
)
_WORD_MAX = 24  # characters of a word that its hash reads
_PAIR = np.uint64(0x2545F4914F6CDD1D)

DENSE_NAMES = (
    "log_words",
    "caps_share",
    "exclamations",
    "questions",
    "second_person",
    "mentions",
    "insult_words",
    "targeted_insults",
    "dehumanising_words",
    "violence_words",
)
# The dense features that count words of a lexicon, in the order of `FeatureOccurrences.counted`.
COUNTED_NAMES = ("insult_words", "targeted_insults", "dehumanising_words", "violence_words")
# What the second stage reads: the linear score of the text and of its worst sentence, the style features, and
# the two scores times the (standardised) length, so long posts can weigh their worst sentence differently.
SECOND_STAGE_NAMES = ("text", "worst_sentence", *DENSE_NAMES, "text_x_length", "worst_sentence_x_length")
# A model trained with the peer's profanity score (`classifiers.profanity`, `modassist-lab train inflammatory
# --with-peer`) also reads it, alone and times the worst sentence's score. The shipped model does not: see
# MODEL_CARD.md.
PEER_INPUTS = ("peer_profanity", "peer_profanity_x_worst_sentence")


_SCORE_BOUND = 8.0


def standardise(dense: F64, mean: F64, scale: F64) -> F64:
    """Dense features in standard units, clipped to +-4 so that freak texts (a word repeated 200,000 times)
    cannot push the second stage outside what it was trained on."""
    clipped: F64 = np.clip((dense - mean) / scale, -4.0, 4.0)
    return clipped


def second_stage_inputs(doc: F64, best: F64, dense: F64, peer: F64 | None = None) -> F64:
    """The second stage's input matrix, from linear scores, standardised dense features and, when the model
    has one, the peer's profanity probability (read as bounded log-odds)."""
    length = dense[:, 0]
    # Linear scores grow with the square root of a phrase's repeats (norms are counted per occurrence): bound
    # them, so a post that repeats one phrase thousands of times stays within the trained range.
    doc = np.clip(doc, -_SCORE_BOUND, _SCORE_BOUND)
    best = np.clip(best, -_SCORE_BOUND, _SCORE_BOUND)
    columns = [doc, best, dense, doc * length, best * length]
    if peer is not None:
        p = np.clip(peer, 1e-3, 1 - 1e-3)
        log_odds = np.log(p / (1 - p))
        columns.extend([log_odds, log_odds * best])
    stacked: F64 = np.column_stack(columns)
    return stacked


_PERIOD, _EXCLAMATION, _QUESTION = ord("."), ord("!"), ord("?")


def _mix(h: U64, seed: int) -> U64:
    """Finalise 64-bit hashes (a splitmix-style avalanche) with a seed."""
    h = h + np.uint64(seed & _MASK64)
    h ^= h >> np.uint64(30)
    h *= np.uint64(0xBF58476D1CE4E5B9)
    h ^= h >> np.uint64(27)
    h *= np.uint64(0x94D049BB133111EB)
    h ^= h >> np.uint64(31)
    return h


def _word_hash_of(word: str) -> int:
    """The hash `TextFeatures` gives a folded word (for the second-person list)."""
    h = len(word)
    for j, ch in enumerate(word[:_WORD_MAX]):
        h = (h + ord(ch) * int(_MULTIPLIERS[j])) & _MASK64
    return h


@dataclass(frozen=True, slots=True)
class FeatureOccurrences:
    """Every feature occurrence of a batch (its column, text and sentence) and the dense features per text.

    Sentences ("chunks") are numbered across the batch in order; `chunk_doc` gives each one's text, and
    every text has at least one.
    """

    n_docs: int
    column: I64
    chunk: I64
    chunk_doc: I64
    dense: F64
    n_word_occurrences: int  # the first ones are words; the rest character n-grams
    # With `spans=True`: the offsets in its own text of the first and last code point each occurrence reads,
    # and per word (the first occurrences) which of the counted lexicons it hits (`COUNTED_NAMES`).
    first: I64 | None = None
    last: I64 | None = None
    counted: Bools | None = None

    @property
    def doc(self) -> I64:
        """The text of each occurrence."""
        return self.chunk_doc[self.chunk]

    @property
    def n_chunks(self) -> int:
        """Sentences in the batch."""
        return int(self.chunk_doc.shape[0])


@dataclass(frozen=True, slots=True)
class TextFeatures:
    """Turns a batch of texts into hashed feature occurrences. Its settings define the feature space."""

    word_bits: int = 19
    char_bits: int = 20
    char_sizes: tuple[int, ...] = (3, 4, 5)
    seed: int = 0x5EED1A77

    @property
    def n_word_columns(self) -> int:
        """Columns of the word block (they come first)."""
        return 1 << self.word_bits

    @property
    def n_columns(self) -> int:
        """Columns of the whole feature space: words, then character n-grams."""
        return (1 << self.word_bits) + (1 << self.char_bits)

    def settings(self) -> dict[str, Any]:
        """JSON-serialisable settings (stored in the model file)."""
        return {
            "word_bits": self.word_bits,
            "char_bits": self.char_bits,
            "char_sizes": list(self.char_sizes),
            "seed": self.seed,
        }

    @classmethod
    def from_settings(cls, settings: dict[str, Any]) -> TextFeatures:
        """Rebuild from `settings()` output."""
        return cls(
            word_bits=int(settings["word_bits"]),
            char_bits=int(settings["char_bits"]),
            char_sizes=tuple(int(n) for n in settings["char_sizes"]),
            seed=int(settings["seed"]),
        )

    def _members(self, word_hash: U64, word_column: I64, words: tuple[str, ...]) -> Bools:
        """Which words are in `words`: a bucket table first, exact hashes for the few candidates."""
        key = (words, self.word_bits, self.seed)
        table = _bucket_cache.get(key)
        if table is None:
            hashes = _hashes(words)
            table = np.zeros(1 << self.word_bits, dtype=bool)
            table[(_mix(hashes.copy(), self.seed + 1) >> np.uint64(64 - self.word_bits)).astype(np.int64)] = (
                True
            )
            _bucket_cache[key] = table
        found = table[word_column]
        candidates = np.flatnonzero(found)
        if candidates.shape[0]:
            # `np.isin` by binary search in the sorted hashes: isin sorts the candidates (thousands, for
            # "you") at every call.
            exact = _hashes(words)
            wanted = word_hash[candidates]
            at = np.minimum(np.searchsorted(exact, wanted), exact.shape[0] - 1)
            found[candidates] = exact[at] == wanted
        return found

    def occurrences(self, texts: Sequence[str], *, spans: bool = False) -> FeatureOccurrences:
        """All feature occurrences of `texts`, in one vectorised pass over the batch (with `spans`, also
        where in its text each one was read)."""
        norm = _normalise(texts, positions=spans)
        codes = norm.codes
        is_newline = codes == NEWLINE
        doc_of = np.cumsum(is_newline)
        chunk_of, chunk_doc = _sentences(codes, is_newline, doc_of)
        w_start, w_end, word_hash = _word_hashes(codes)
        word_doc = doc_of[w_start]
        columns, positions = self._word_columns(word_hash, w_start, word_doc)
        n_word_occurrences = columns[0].shape[0] + columns[1].shape[0]
        char_columns, char_positions = self._char_columns(codes, is_newline)
        column = np.concatenate(columns + char_columns)
        position = np.concatenate(positions + char_positions)
        second, counted = self._lexicon_hits(word_hash, columns[0], word_doc)
        dense = _dense_features(norm, word_doc, second, counted)
        first = last = hits = None
        if norm.source is not None:
            ends = self._last_codes(codes, is_newline, w_start, w_end, word_doc, char_positions)
            first, last = norm.source[_first_codes(codes, is_newline, position)], norm.source[ends]
            hits = np.column_stack(counted) if counted else None
        return FeatureOccurrences(
            n_docs=norm.n_docs,
            column=column,
            chunk=chunk_of[position],
            chunk_doc=chunk_doc,
            dense=dense,
            n_word_occurrences=n_word_occurrences,
            first=first,
            last=last,
            counted=hits,
        )

    def _last_codes(
        self, codes: I64, is_newline: Bools, w_start: I64, w_end: I64, word_doc: I64, char_starts: list[I64]
    ) -> I64:
        """The position of the last code each occurrence reads, in the order of `occurrences` (a character
        n-gram's spaces at its ends are not read as part of a word)."""
        pair = np.flatnonzero(word_doc[1:] == word_doc[:-1])
        lasts = [w_end - 1, w_end[pair + 1] - 1]
        boundary = (codes == SPACE) | is_newline
        for start, size in zip(char_starts, sorted(self.char_sizes), strict=False):
            end = start + size - 1
            lasts.append(end - boundary[end])
        return np.concatenate(lasts)

    def _word_columns(self, word_hash: U64, w_start: I64, word_doc: I64) -> tuple[list[I64], list[I64]]:
        """Columns and start positions of the words, then of the word pairs within a text."""
        shift = np.uint64(64 - self.word_bits)
        pair = np.flatnonzero(word_doc[1:] == word_doc[:-1])
        columns = [
            (_mix(word_hash, self.seed + 1) >> shift).astype(np.int64),
            (_mix(word_hash[pair] * _PAIR + word_hash[pair + 1], self.seed + 2) >> shift).astype(np.int64),
        ]
        return columns, [w_start, w_start[pair]]

    def _char_columns(self, codes: I64, is_newline: Bools) -> tuple[list[I64], list[I64]]:
        """Columns and start positions of the character n-grams of each size, inside space-delimited chunks
        (spaces only at a window's two ends)."""
        n = codes.shape[0]
        hashed = np.where(is_newline, SPACE, codes).astype(np.uint64)
        boundary = (codes == SPACE) | is_newline
        bound_cum = np.concatenate(([0], np.cumsum(boundary)))
        rolling = np.zeros(n, dtype=np.uint64)
        char_shift = np.uint64(64 - self.char_bits)
        columns: list[I64] = []
        positions: list[I64] = []
        for size in range(1, max(self.char_sizes) + 1):
            count = n - size + 1
            if count <= 0:
                break
            rolling = rolling[:count] + hashed[size - 1 : size - 1 + count] * _MULTIPLIERS[size - 1]
            if size not in self.char_sizes:
                continue
            idx = np.flatnonzero(bound_cum[size - 1 : size - 1 + count] == bound_cum[1 : 1 + count])
            columns.append(
                (_mix(rolling[idx], self.seed + 16 * size + 7) >> char_shift).astype(np.int64)
                + self.n_word_columns
            )
            positions.append(idx)
        return columns, positions

    def _lexicon_hits(self, word_hash: U64, word_column: I64, word_doc: I64) -> tuple[Bools, list[Bools]]:
        """Which words are second person, and the counted lexicons: insults, insults aimed at someone (up to
        three words after a targeting word of the same text), dehumanising and violent words."""
        second = self._members(word_hash, word_column, SECOND_PERSON)
        insult = self._members(word_hash, word_column, INSULT_WORDS)
        targeted = np.zeros(insult.shape[0], dtype=bool)
        hits = np.flatnonzero(insult)
        if hits.shape[0]:
            pointing = self._members(word_hash, word_column, TARGETING)
            for back in (1, 2, 3):
                prev = hits - back
                ok = prev >= 0
                prev_ok = np.where(ok, prev, 0)
                targeted[hits] |= ok & pointing[prev_ok] & (word_doc[prev_ok] == word_doc[hits])
        lexicons = [
            self._members(word_hash, word_column, words) for words in (DEHUMANISING_WORDS, VIOLENCE_WORDS)
        ]
        return second, [insult, targeted, *lexicons]


def _sentences(codes: I64, is_newline: Bools, doc_of: I64) -> tuple[I64, I64]:
    """The sentence ("chunk") of each code point and the text of each sentence. A sentence starts after
    ". ", "! " or "? ", and at every text."""
    n = codes.shape[0]
    starts = is_newline.copy()
    starts[0] = True
    if n > 2:
        # The three ends are looked for only before a space (a sixth of the codes), not with `np.isin`.
        after = np.flatnonzero(codes[1:-1] == SPACE)
        end = codes[after]
        starts[after[(end == _PERIOD) | (end == _EXCLAMATION) | (end == _QUESTION)] + 2] = True
    return np.cumsum(starts) - 1, doc_of[np.flatnonzero(starts)]


def _first_codes(codes: I64, is_newline: Bools, starts: I64) -> I64:
    """The first code each occurrence reads: its start, or the one after an n-gram's leading space."""
    boundary = (codes == SPACE) | is_newline
    first: I64 = starts + boundary[starts]
    return first


def _word_hashes(codes: I64) -> tuple[I64, I64, U64]:
    """The words (maximal runs of word characters): their start and end positions and hashes (of their
    length and first `_WORD_MAX` characters, as `_word_hash_of`)."""
    word = _lookup(_tables().word, codes, False)
    edges = np.flatnonzero(np.diff(word.astype(np.int8)))
    w_start, w_end = edges[0::2] + 1, edges[1::2] + 1
    lengths = w_end - w_start
    wide = codes.astype(np.uint64)
    word_hash = lengths.astype(np.uint64)
    for j in range(_WORD_MAX):
        live = np.flatnonzero(lengths > j)
        if not live.shape[0]:
            break
        word_hash[live] += wide[w_start[live] + j] * _MULTIPLIERS[j]
    return w_start, w_end, word_hash


_hash_cache: dict[tuple[str, ...], U64] = {}
_bucket_cache: dict[tuple[tuple[str, ...], int, int], Bools] = {}


def _hashes(words: tuple[str, ...]) -> U64:
    found = _hash_cache.get(words)
    if found is None:
        found = _hash_cache[words] = np.array(sorted({_word_hash_of(w) for w in words}), dtype=np.uint64)
    return found


def _dense_features(norm: _Normalised, word_doc: I64, second: Bools, counted: list[Bools]) -> F64:
    n_docs = norm.n_docs
    upper, letters, excl, quest, at = norm.raw_stats.T
    n_words = np.bincount(word_doc, minlength=n_docs).astype(np.float64)
    n_second = np.bincount(word_doc, weights=second, minlength=n_docs)
    return np.column_stack(
        [
            np.log1p(n_words),
            np.where(letters >= 12, upper / np.maximum(letters, 1), 0.0),
            np.log1p(excl),
            np.log1p(quest),
            n_second / np.maximum(n_words, 1),
            np.log1p(at),
            *(np.log1p(np.bincount(word_doc, weights=hits, minlength=n_docs)) for hits in counted),
        ]
    )

"""The linear stage's sums over feature occurrences: a text's score and its worst sentence's (step 3)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from classifiers.inflammatory.features import FeatureOccurrences

F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
U64 = npt.NDArray[np.uint64]
Bools = npt.NDArray[np.bool_]


@dataclass(frozen=True, slots=True)
class ColumnTable:
    """Per feature column (weight x idf, idf squared), stored for the columns in use only.

    The feature space has 1.5 million columns and the model weighs about a hundred thousand: a dense
    float64 table would take 25 MB, this one 8 (an int32 slot per column, a row per weighed column, row 0
    the zeros of the unweighed ones). A lookup returns the same float64 values as the dense table.
    """

    slot: npt.NDArray[np.int32]
    values: F64

    @classmethod
    def build(cls, n_columns: int, columns: I64, weight_idf: F64, idf_squared: F64) -> ColumnTable:
        """The table of `columns` (distinct, within `n_columns`) and their two values."""
        slot = np.zeros(n_columns, dtype=np.int32)
        slot[columns] = np.arange(1, columns.shape[0] + 1, dtype=np.int32)
        values = np.zeros((columns.shape[0] + 1, 2), dtype=np.float64)
        values[1:, 0] = weight_idf
        values[1:, 1] = idf_squared
        return cls(slot, values)

    @property
    def n_columns(self) -> int:
        """The size of the feature space."""
        return int(self.slot.shape[0])

    def rows(self, columns: I64) -> F64:
        """(weight x idf, idf squared) of each column, [n, 2]."""
        # `take` along the first axis: a third of the time of fancy indexing (`values[slot[columns]]`).
        found: F64 = np.take(self.values, self.slot[columns], axis=0)
        return found


def block_sums(occ: FeatureOccurrences, table: ColumnTable, *, by_chunk: bool) -> tuple[F64, F64]:
    """Per text (or sentence) and block: the sum of `values[column]` over its occurrences and its IDF norm.

    A linear score is the sum over the two blocks of (sum of weight x idf) / norm: the dot product of the
    weights with IDF-weighted term counts, L2-normalised per block (the norm counted per occurrence).
    `table` holds per feature column (weight x idf, idf squared).
    """
    rows = occ.chunk if by_chunk else occ.doc
    n_rows = occ.n_chunks if by_chunk else occ.n_docs
    key = rows * 2
    key[occ.n_word_occurrences :] += 1
    gathered = table.rows(occ.column)
    num: F64 = np.bincount(key, weights=gathered[:, 0], minlength=n_rows * 2).astype(np.float64, copy=False)
    den: F64 = np.bincount(key, weights=gathered[:, 1], minlength=n_rows * 2).astype(np.float64, copy=False)
    return num.reshape(n_rows, 2), np.sqrt(den).reshape(n_rows, 2)


def _ratio(num: F64, norm: F64) -> F64:
    out = np.zeros(num.shape, dtype=np.float64)
    np.divide(num, norm, out=out, where=norm > 0)
    return out


DEDUP_ABOVE = 20_000  # occurrences in one text or sentence, above which terms are counted (`linear_sums`)


def _counted_sums(occ: FeatureOccurrences, table: ColumnTable, rows: I64, chosen: I64) -> tuple[F64, F64]:
    """`block_sums` for the `chosen` rows with term counts: sum of tf x weight x idf, L2 norm of tf x idf."""
    n_columns = table.n_columns
    where = np.flatnonzero(np.isin(rows, chosen))
    block = (where >= occ.n_word_occurrences).astype(np.int64)
    slot = np.searchsorted(chosen, rows[where]) * 2 + block
    pairs, counts = np.unique(slot * n_columns + occ.column[where], return_counts=True)
    slots, columns = pairs // n_columns, pairs % n_columns
    tf = counts.astype(np.float64)
    values = table.rows(columns)
    num: F64 = np.bincount(slots, weights=tf * values[:, 0], minlength=chosen.shape[0] * 2).astype(np.float64)
    den: F64 = np.bincount(slots, weights=tf * tf * values[:, 1], minlength=chosen.shape[0] * 2).astype(
        np.float64
    )
    return num.reshape(-1, 2), np.sqrt(den).reshape(-1, 2)


@dataclass(frozen=True, slots=True)
class LinearSums:
    """The linear stage's sums of a batch: per sentence ("chunk") and per text, and block (words, character
    n-grams), the sum of weight x idf (`*_num`) and the norm it is divided by (`*_norm`)."""

    chunk_num: F64
    chunk_norm: F64
    doc_num: F64
    doc_norm: F64

    def doc_scores(self) -> F64:
        """Each text's linear score."""
        scores: F64 = _ratio(self.doc_num, self.doc_norm).sum(axis=1)
        return scores

    def sentence_scores(self) -> F64:
        """Each sentence's linear score (-inf for a sentence with no weighed feature)."""
        sentence: F64 = _ratio(self.chunk_num, self.chunk_norm).sum(axis=1)
        sentence[(self.chunk_norm == 0).all(axis=1)] = -np.inf
        return sentence


def linear_sums(occ: FeatureOccurrences, table: ColumnTable) -> LinearSums:
    """The sums of `text_and_sentence_scores`, per sentence and per text."""
    num, norm = block_sums(occ, table, by_chunk=True)
    sums = chunk_linear_sums(num, norm, occ.chunk_doc, occ.n_docs)
    if occ.n_docs == 0:
        return sums
    # Norms are counted per occurrence, so a phrase repeated n times weighs sqrt(n) times more. Texts far
    # longer than any training text (spam, a word pasted 100,000 times) get true L2 norms of their counts.
    per_chunk = np.bincount(occ.chunk, minlength=occ.n_chunks)
    huge_chunks = np.flatnonzero(per_chunk > DEDUP_ABOVE)
    per_doc = np.bincount(occ.chunk_doc, weights=per_chunk, minlength=occ.n_docs)
    huge_docs = np.flatnonzero(per_doc > DEDUP_ABOVE)
    if huge_chunks.shape[0]:
        num[huge_chunks], norm[huge_chunks] = _counted_sums(occ, table, occ.chunk, huge_chunks)
    if huge_docs.shape[0]:
        sums.doc_num[huge_docs], sums.doc_norm[huge_docs] = _counted_sums(occ, table, occ.doc, huge_docs)
    return sums


def chunk_linear_sums(num: F64, norm: F64, chunk_doc: I64, n_docs: int) -> LinearSums:
    """The sums per sentence (`block_sums(by_chunk=True)`) and, from them, per text (`chunk_doc`: the text of
    each sentence)."""
    doc_num = np.zeros((n_docs, 2), dtype=np.float64)
    doc_norm = np.zeros((n_docs, 2), dtype=np.float64)
    if n_docs == 0:
        return LinearSums(num, norm, doc_num, doc_norm)
    # A text with no chunk (empty, or only quotes taken out) has no segment of its own: `reduceat` must only
    # see the texts that have one, or it reads past the end (or the next text's first chunk).
    has_chunks, firsts = _chunk_segments(chunk_doc, n_docs)
    if firsts.shape[0]:
        doc_num[has_chunks] = np.add.reduceat(num, firsts, axis=0)
        doc_norm[has_chunks] = np.sqrt(np.add.reduceat(norm * norm, firsts, axis=0))
    return LinearSums(num, norm, doc_num, doc_norm)


def _chunk_segments(chunk_doc: I64, n_docs: int) -> tuple[Bools, I64]:
    """Which texts have sentences, and the index of the first sentence of each of those."""
    has_chunks = np.bincount(chunk_doc, minlength=n_docs) > 0
    return has_chunks, np.searchsorted(chunk_doc, np.flatnonzero(has_chunks))


def _worst_sentences(chunk_doc: I64, n_docs: int, sentence: F64) -> tuple[F64, I64]:
    """Per text, the highest sentence score (-inf if none) and the first sentence that has it (-1 if none)."""
    best = np.full(n_docs, -np.inf)
    worst = np.full(n_docs, -1, dtype=np.int64)
    has_chunks, firsts = _chunk_segments(chunk_doc, n_docs)
    if firsts.shape[0]:
        best[has_chunks] = np.maximum.reduceat(sentence, firsts)
        top = np.flatnonzero(np.isfinite(sentence) & (sentence == best[chunk_doc]))
        docs, first_top = np.unique(chunk_doc[top], return_index=True)
        worst[docs] = top[first_top]
    return best, worst


def text_and_sentence_scores(occ: FeatureOccurrences, table: ColumnTable) -> tuple[F64, F64]:
    """Each text's linear score and the highest score of its sentences (its own score if it has none)."""
    if occ.n_docs == 0:
        return np.zeros(0, dtype=np.float64), np.zeros(0, dtype=np.float64)
    return scores_of(linear_sums(occ, table), occ.chunk_doc, occ.n_docs)


def scores_of(sums: LinearSums, chunk_doc: I64, n_docs: int) -> tuple[F64, F64]:
    """`text_and_sentence_scores` from the batch's sums (`chunk_doc`: the text of each sentence)."""
    doc_score = sums.doc_scores()
    best, _ = _worst_sentences(chunk_doc, n_docs, sums.sentence_scores())
    return doc_score, np.where(np.isfinite(best), best, doc_score)


@dataclass(frozen=True, slots=True)
class Shares:
    """Per feature occurrence, its exact share of its text's linear score (`text`) and of the score of its
    text's worst sentence (`sentence`, 0 outside that sentence); `sentence_scores` per sentence."""

    text: F64
    sentence: F64
    sentence_scores: F64
    worst: I64  # per text, its worst sentence (-1 if it has none: its score is then the text's)


def occurrence_shares(occ: FeatureOccurrences, table: ColumnTable) -> Shares:
    """Each occurrence's weight x idf over its block's norm: summed per text they give the text's linear
    score, summed over the worst sentence that sentence's score (as `text_and_sentence_scores`)."""
    sums = linear_sums(occ, table)
    sentence = sums.sentence_scores()
    _, worst = _worst_sentences(occ.chunk_doc, occ.n_docs, sentence)
    block = np.zeros(occ.column.shape[0], dtype=np.int64)
    block[occ.n_word_occurrences :] = 1
    weight = table.rows(occ.column)[:, 0]
    text_share = _ratio(weight, sums.doc_norm[occ.doc, block])
    in_worst = occ.chunk == worst[occ.doc]
    sentence_share = np.where(in_worst, _ratio(weight, sums.chunk_norm[occ.chunk, block]), 0.0)
    # A text with no weighed sentence reads its own score as its worst sentence's.
    fallback = worst[occ.doc] < 0
    sentence_share[fallback] = text_share[fallback]
    return Shares(text_share, sentence_share, sentence, worst)

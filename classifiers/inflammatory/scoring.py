"""The linear stage's sums over feature occurrences: a text's score and its worst sentence's (step 3)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from classifiers.inflammatory.features import FeatureOccurrences

F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
U64 = npt.NDArray[np.uint64]
Bools = npt.NDArray[np.bool_]


def block_sums(occ: FeatureOccurrences, table: F64, *, by_chunk: bool) -> tuple[F64, F64]:
    """Per text (or sentence) and block: the sum of `values[column]` over its occurrences and its IDF norm.

    A linear score is the sum over the two blocks of (sum of weight x idf) / norm: the dot product of the
    weights with IDF-weighted term counts, L2-normalised per block (the norm counted per occurrence).
    `table` holds per feature column (weight x idf, idf squared).
    """
    rows = occ.chunk if by_chunk else occ.doc
    n_rows = occ.n_chunks if by_chunk else occ.n_docs
    key = rows * 2
    key[occ.n_word_occurrences :] += 1
    gathered = table[occ.column]
    num: F64 = np.bincount(key, weights=gathered[:, 0], minlength=n_rows * 2).astype(np.float64, copy=False)
    den: F64 = np.bincount(key, weights=gathered[:, 1], minlength=n_rows * 2).astype(np.float64, copy=False)
    return num.reshape(n_rows, 2), np.sqrt(den).reshape(n_rows, 2)


def _ratio(num: F64, norm: F64) -> F64:
    out = np.zeros(num.shape, dtype=np.float64)
    np.divide(num, norm, out=out, where=norm > 0)
    return out


_DEDUP_ABOVE = 20_000  # feature occurrences in one text or sentence


def _counted_sums(occ: FeatureOccurrences, table: F64, rows: I64, chosen: I64) -> tuple[F64, F64]:
    """`block_sums` for the `chosen` rows with term counts: sum of tf x weight x idf, L2 norm of tf x idf."""
    n_columns = table.shape[0]
    where = np.flatnonzero(np.isin(rows, chosen))
    block = (where >= occ.n_word_occurrences).astype(np.int64)
    slot = np.searchsorted(chosen, rows[where]) * 2 + block
    pairs, counts = np.unique(slot * n_columns + occ.column[where], return_counts=True)
    slots, columns = pairs // n_columns, pairs % n_columns
    tf = counts.astype(np.float64)
    num: F64 = np.bincount(slots, weights=tf * table[columns, 0], minlength=chosen.shape[0] * 2).astype(
        np.float64
    )
    den: F64 = np.bincount(slots, weights=tf * tf * table[columns, 1], minlength=chosen.shape[0] * 2).astype(
        np.float64
    )
    return num.reshape(-1, 2), np.sqrt(den).reshape(-1, 2)


def text_and_sentence_scores(occ: FeatureOccurrences, table: F64) -> tuple[F64, F64]:
    """Each text's linear score and the highest score of its sentences (its own score if it has none)."""
    num, norm = block_sums(occ, table, by_chunk=True)
    if occ.n_docs == 0:
        return np.zeros(0, dtype=np.float64), np.zeros(0, dtype=np.float64)
    # A text with no chunk (empty, or only quotes taken out) has no segment of its own: `reduceat` must only
    # see the texts that have one, or it reads past the end (or the next text's first chunk).
    has_chunks = np.bincount(occ.chunk_doc, minlength=occ.n_docs) > 0
    firsts = np.searchsorted(occ.chunk_doc, np.flatnonzero(has_chunks))
    doc_num = np.zeros((occ.n_docs, 2), dtype=np.float64)
    doc_norm = np.zeros((occ.n_docs, 2), dtype=np.float64)
    if firsts.shape[0]:
        doc_num[has_chunks] = np.add.reduceat(num, firsts, axis=0)
        doc_norm[has_chunks] = np.sqrt(np.add.reduceat(norm * norm, firsts, axis=0))
    # Norms are counted per occurrence, so a phrase repeated n times weighs sqrt(n) times more. Texts far
    # longer than any training text (spam, a word pasted 100,000 times) get true L2 norms of their counts.
    per_chunk = np.bincount(occ.chunk, minlength=occ.n_chunks)
    huge_chunks = np.flatnonzero(per_chunk > _DEDUP_ABOVE)
    if huge_chunks.shape[0]:
        per_doc = np.bincount(occ.chunk_doc, weights=per_chunk, minlength=occ.n_docs)
        huge_docs = np.flatnonzero(per_doc > _DEDUP_ABOVE)
        num[huge_chunks], norm[huge_chunks] = _counted_sums(occ, table, occ.chunk, huge_chunks)
        doc_num[huge_docs], doc_norm[huge_docs] = _counted_sums(occ, table, occ.doc, huge_docs)
    else:
        per_doc = np.bincount(occ.chunk_doc, weights=per_chunk, minlength=occ.n_docs)
        huge_docs = np.flatnonzero(per_doc > _DEDUP_ABOVE)
        if huge_docs.shape[0]:
            doc_num[huge_docs], doc_norm[huge_docs] = _counted_sums(occ, table, occ.doc, huge_docs)
    doc_score = _ratio(doc_num, doc_norm).sum(axis=1)
    sentence = _ratio(num, norm).sum(axis=1)
    sentence[(norm == 0).all(axis=1)] = -np.inf
    best = np.full(occ.n_docs, -np.inf)
    if firsts.shape[0]:
        best[has_chunks] = np.maximum.reduceat(sentence, firsts)
    return doc_score, np.where(np.isfinite(best), best, doc_score)

"""The linear stage's scores straight from a batch's normalised code points, in C (step 3, the fast path).

`InflammatoryModel.decision` needs per text only its linear score, its worst sentence's and its dense style
features. The numpy path (`TextFeatures.occurrences`, then `text_and_sentence_scores`) makes an array entry
per feature occurrence (some 2,000 per post) and passes over them a dozen times. The optional C extension
`classifiers._linear` hashes each occurrence and adds its table row to its sentence's sums as it goes,
adding the same doubles in the same order, so the scores are equal bit for bit (tests compare both ways).
Explanations and training, which need every occurrence, keep the numpy path; so do the texts long enough to
be counted per term (`scoring.DEDUP_ABOVE`): their sums are read again by it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from classifiers.inflammatory.features import _MASK64, _MULTIPLIERS, F64, TextFeatures, _dense_features
from classifiers.inflammatory.normalise import _normalise, _tables
from classifiers.inflammatory.scoring import (
    DEDUP_ABOVE,
    ColumnTable,
    LinearSums,
    chunk_linear_sums,
    linear_sums,
    scores_of,
)
from classifiers.shingles import load_native

# The C extension when it is built (and not older than its source), else the numpy path: the same doubles.
native = load_native("classifiers._linear", ("chunk_sums",))


def fused_scores(
    features: TextFeatures, table: ColumnTable, texts: Sequence[str]
) -> tuple[F64, F64, F64] | None:
    """Per text of the batch: its linear score and its worst sentence's (as `text_and_sentence_scores`) and
    its dense features (as `FeatureOccurrences.dense`); None without the C extension, or for a batch it
    leaves to the numpy path (features of n-grams shorter than 3 characters)."""
    if native is None or not texts:
        return None
    norm = _normalise(texts)
    found = native.chunk_sums(
        np.ascontiguousarray(norm.codes, dtype=np.int64),
        _tables().word,  # covered for every code of the batch by `_normalise`
        _MULTIPLIERS,
        features.word_bits,
        features.char_bits,
        tuple(sorted(features.char_sizes)),
        features.seed & _MASK64,
        table.slot,
        table.values,
    )
    if found is None:
        return None
    num, den = (_array(part, np.float64).reshape(-1, 2) for part in found[:2])
    count, chunk_doc, word_doc, word_column = (_array(found[i], np.int64) for i in (2, 3, 4, 6))
    word_hash = _array(found[5], np.uint64)
    second, counted = features._lexicon_hits(word_hash, word_column, word_doc)
    dense = _dense_features(norm, word_doc, second, counted)
    sums = chunk_linear_sums(num.copy(), np.sqrt(den), chunk_doc, norm.n_docs)
    per_doc = np.bincount(chunk_doc, weights=count, minlength=norm.n_docs)
    huge = np.flatnonzero(per_doc > DEDUP_ABOVE)  # a sentence that long is in a text that long
    if huge.shape[0]:
        _recount(features, table, [texts[int(d)] for d in huge], huge, sums, chunk_doc)
    doc, best = scores_of(sums, chunk_doc, norm.n_docs)
    return doc, best, dense


def _recount(
    features: TextFeatures,
    table: ColumnTable,
    texts: list[str],
    docs: npt.NDArray[np.intp],
    sums: LinearSums,
    chunk_doc: npt.NDArray[np.int64],
) -> None:
    """The sums of the texts `docs` of the batch (`texts` theirs), long enough to be counted per term, set by
    the numpy path: it reads a text alone as in any batch, sentence for sentence."""
    occ = features.occurrences(texts)
    alone = linear_sums(occ, table)
    for j, doc in enumerate(docs.tolist()):
        mine, theirs = np.flatnonzero(chunk_doc == doc), np.flatnonzero(occ.chunk_doc == j)
        sums.chunk_num[mine], sums.chunk_norm[mine] = alone.chunk_num[theirs], alone.chunk_norm[theirs]
        sums.doc_num[doc], sums.doc_norm[doc] = alone.doc_num[j], alone.doc_norm[j]


def _array(data: bytes, dtype: type[np.generic]) -> npt.NDArray[Any]:
    """The C extension's bytes as an array (read-only: nothing downstream writes into it)."""
    return np.frombuffer(data, dtype=dtype)

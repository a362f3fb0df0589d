"""What raised a text's score, read off the model itself (step 5): each feature occurrence's exact share of
the score, as spans of the original text.

The second stage is linear in the text's linear score and its worst sentence's (for a given text length),
and each linear score is a sum over feature occurrences of weight x idf / block norm. So an occurrence's share
of the final log-odds is its share of the text's score times the second stage's slope on it, plus its share of
the worst sentence's score (if it lies there) times that slope: these add up exactly to what the linear
stage gives the score. The lexicon counts the second stage also reads (insults, insults aimed at someone,
dehumanising and violent words) are shared evenly among the words they count, measured from a text with none.
The other style features (length, capitals, punctuation, second person, mentions) belong to no word.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

from classifiers.inflammatory.features import _SCORE_BOUND, COUNTED_NAMES, DENSE_NAMES, FeatureOccurrences
from classifiers.inflammatory.scoring import ColumnTable, Shares, occurrence_shares

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
I8 = npt.NDArray[np.int8]
Bools = npt.NDArray[np.bool_]

# What a word is in the model's lexicons, most telling first: an insult (or dehumanising word), a word of
# violence. Reasons name these words first.
INSULT, VIOLENCE, NEITHER = 2, 1, 0
_LEXICON_KIND = {"insult_words": INSULT, "dehumanising_words": INSULT, "violence_words": VIOLENCE}


@dataclass(frozen=True, slots=True)
class Attribution:
    """What raised one text's score, from one model.

    Per span (offsets in the text of its first and last code point, both included): its share of the score
    in log-odds, and what it is in the model's lexicons (`lexicon`: INSULT, VIOLENCE or NEITHER). `passages`
    are the text's
    sentences or other parts as (start, end), the most inflammatory first.
    """

    first: I64
    last: I64
    log_odds: F64
    lexicon: I8
    passages: tuple[tuple[int, int], ...] = ()


class Attributor(Protocol):
    """A model that explains its own scores (the linear model; later perhaps a semantic tier)."""

    def attributions(self, texts: Sequence[str]) -> list[Attribution]:
        """One `Attribution` per text."""
        ...


@dataclass(frozen=True, slots=True)
class SecondStage:
    """What the attributions need of the second stage: its coefficients by input name, the dense features'
    standardisation, the bias added to the linear scores, and the peer's probabilities if the model reads
    them."""

    coef: dict[str, float]
    dense_mean: F64
    dense_scale: F64
    linear_bias: float
    peer: F64 | None = None


def linear_attributions(occ: FeatureOccurrences, table: ColumnTable, stage: SecondStage) -> list[Attribution]:
    """One `Attribution` per text of the batch `occ` (read with `spans=True`); `table` holds per feature
    column (weight x idf, idf squared)."""
    if occ.first is None or occ.last is None:
        raise ValueError("feature occurrences read without spans")
    shares = occurrence_shares(occ, table)
    dense = np.clip((occ.dense - stage.dense_mean) / stage.dense_scale, -4.0, 4.0)
    per_text, per_sentence = _slopes(occ, shares, dense[:, 0], stage)
    log_odds = shares.text * per_text[occ.doc] + shares.sentence * per_sentence[occ.doc]
    lexicon = np.zeros(occ.column.shape[0], dtype=np.int8)
    if occ.counted is not None:
        n_words = occ.counted.shape[0]
        log_odds[:n_words] += _lexicon_shares(occ, occ.counted, dense, stage)
        for name, kind in _LEXICON_KIND.items():
            hit = occ.counted[:, COUNTED_NAMES.index(name)]
            lexicon[:n_words][hit] = np.maximum(lexicon[:n_words][hit], kind)
    passages = _passages(occ, shares.sentence_scores)
    order = np.argsort(occ.doc, kind="stable")
    cuts = np.searchsorted(occ.doc[order], np.arange(1, occ.n_docs))
    return [
        Attribution(occ.first[part], occ.last[part], log_odds[part], lexicon[part], passages[i])
        for i, part in enumerate(np.split(order, cuts))
    ]


def _slopes(occ: FeatureOccurrences, shares: Shares, length: F64, stage: SecondStage) -> tuple[F64, F64]:
    """Per text, how much the score moves per unit of the text's linear score and of its worst sentence's.
    The second stage is linear in both but for the bound on them: a bounded score's shares are scaled down
    so that they still add up to what the second stage reads."""
    coef = stage.coef
    per_text = coef["text"] + coef["text_x_length"] * length
    per_sentence = coef["worst_sentence"] + coef["worst_sentence_x_length"] * length
    if stage.peer is not None:
        p = np.clip(stage.peer, 1e-3, 1 - 1e-3)
        per_sentence = per_sentence + coef["peer_profanity_x_worst_sentence"] * np.log(p / (1 - p))
    n = occ.n_docs
    for slope, share in ((per_text, shares.text), (per_sentence, shares.sentence)):
        score = np.bincount(occ.doc, weights=share, minlength=n)
        bounded = np.clip(score + stage.linear_bias, -_SCORE_BOUND, _SCORE_BOUND) - stage.linear_bias
        slope *= np.divide(bounded, score, out=np.ones(n), where=score != 0)
    return per_text, per_sentence


def _lexicon_shares(occ: FeatureOccurrences, counted: Bools, dense: F64, stage: SecondStage) -> F64:
    """Per word, its even share of what each lexicon count it is part of adds to the score (against a count
    of none)."""
    n_words = counted.shape[0]
    word_doc = occ.doc[:n_words]
    out = np.zeros(n_words)
    for k, name in enumerate(COUNTED_NAMES):
        hits = counted[:, k]
        if not hits.any():
            continue
        j = DENSE_NAMES.index(name)
        none = np.clip((0.0 - stage.dense_mean[j]) / stage.dense_scale[j], -4.0, 4.0)
        count = np.bincount(word_doc, weights=hits, minlength=occ.n_docs)
        per_hit = stage.coef[name] * (dense[:, j] - none) / np.maximum(count, 1)
        out[hits] += per_hit[word_doc[hits]]
    return out


def _passages(occ: FeatureOccurrences, sentence_scores: F64) -> list[tuple[tuple[int, int], ...]]:
    """Per text, the spans (start, end) of its sentences that have features, the highest-scoring first."""
    assert occ.first is not None and occ.last is not None
    # A sentence's span is that of its words (word pairs and n-grams may reach into the next sentence).
    words = slice(0, occ.counted.shape[0] if occ.counted is not None else occ.n_word_occurrences)
    starts = np.full(occ.n_chunks, np.iinfo(np.int64).max)
    ends = np.full(occ.n_chunks, -1)
    np.minimum.at(starts, occ.chunk[words], occ.first[words])
    np.maximum.at(ends, occ.chunk[words], occ.last[words])
    seen = np.flatnonzero(ends >= 0)
    ranked = seen[np.lexsort((seen, -sentence_scores[seen], occ.chunk_doc[seen]))]
    found: list[list[tuple[int, int]]] = [[] for _ in range(occ.n_docs)]
    for chunk, doc in zip(ranked.tolist(), occ.chunk_doc[ranked].tolist(), strict=True):
        found[doc].append((int(starts[chunk]), int(ends[chunk]) + 1))
    return [tuple(p) for p in found]

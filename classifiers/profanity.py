"""A profanity score as arrays: the linear model of the offline peer (alt-profanity-check), without pickle.

alt-profanity-check is a TF-IDF vectoriser (lower-cased words of two or more word characters, L2-normalised)
and a linear SVM calibrated by sigmoids in k cross-validation folds; its probability is the mean of the k
calibrated sigmoids. The same computation needs only the vocabulary, the IDF weights and, per fold, the SVM's
weights and intercept and the sigmoid's two parameters. `ProfanityModel` holds exactly those arrays, so the
inflammatory model can read the peer's opinion as one of its inputs (profanity is evidence, not a verdict)
while its file stays plain arrays. `lab.peer` reads the installed peer once to fill them.

alt-profanity-check is MIT-licensed; it was trained on Wikipedia talk comments and tweets (Davidson et al.).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

F64 = npt.NDArray[np.float64]

# scikit-learn's default token pattern, as the peer's vectoriser uses it.
_TOKEN = re.compile(r"(?u)\b\w\w+\b")


@dataclass(eq=False)
class ProfanityModel:
    """`vocabulary[i]` has IDF `idf[i]`; fold j scores `coef[j] . x + intercept[j]`, calibrated by
    `1 / (1 + exp(sigmoid_a[j] * score + sigmoid_b[j]))`."""

    vocabulary: tuple[str, ...]
    idf: F64
    coef: F64
    intercept: F64
    sigmoid_a: F64
    sigmoid_b: F64
    _index: dict[str, int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        n = len(self.vocabulary)
        k = self.intercept.shape[0]
        if self.idf.shape != (n,) or self.coef.shape != (k, n):
            raise ValueError("profanity model arrays do not match its vocabulary")
        if self.sigmoid_a.shape != (k,) or self.sigmoid_b.shape != (k,) or k == 0:
            raise ValueError("profanity model calibration does not match its folds")
        if not all(np.isfinite(a).all() for a in (self.idf, self.coef, self.intercept)):
            raise ValueError("profanity model has non-finite weights")
        self._index = {word: i for i, word in enumerate(self.vocabulary)}
        # Per word and fold: weight x idf, so a text's fold scores are sums over its words.
        self._weighted = (self.coef * self.idf).T.copy()

    def probability(self, texts: Sequence[str]) -> F64:
        """The peer's probability that each text is profane (equal to alt-profanity-check's, to rounding)."""
        index = self._index
        docs: list[int] = []
        columns: list[int] = []
        for i, text in enumerate(texts):
            found = [index[w] for w in _TOKEN.findall(text.lower()) if w in index]
            columns.extend(found)
            docs.extend([i] * len(found))
        n = len(texts)
        n_words = len(self.vocabulary)
        pairs, counts = np.unique(np.asarray(docs, dtype=np.int64) * n_words + np.asarray(columns, np.int64),
                                  return_counts=True)  # fmt: skip
        doc, column = pairs // n_words, pairs % n_words
        tf = counts.astype(np.float64)
        norm = np.sqrt(np.bincount(doc, weights=(tf * self.idf[column]) ** 2, minlength=n))
        scores = np.zeros((n, self.intercept.shape[0]))
        np.add.at(scores, doc, tf[:, None] * self._weighted[column])
        scores /= np.where(norm > 0, norm, 1.0)[:, None]
        scores += self.intercept
        z = np.clip(self.sigmoid_a * scores + self.sigmoid_b, -500, 500)
        probability: F64 = (1.0 / (1.0 + np.exp(z))).mean(axis=1)
        return probability

    def arrays(self) -> dict[str, npt.NDArray[np.generic]]:
        """The arrays to store (prefixed 'peer_' in a model file); no object arrays."""
        return {
            "peer_vocabulary": np.array(self.vocabulary, dtype=np.str_),
            "peer_idf": self.idf.astype(np.float64),
            "peer_coef": self.coef.astype(np.float32),
            "peer_intercept": self.intercept.astype(np.float64),
            "peer_sigmoid_a": self.sigmoid_a.astype(np.float64),
            "peer_sigmoid_b": self.sigmoid_b.astype(np.float64),
        }

    @classmethod
    def from_arrays(cls, arrays: dict[str, npt.NDArray[np.generic]]) -> ProfanityModel:
        """The model from `arrays()`'s output; inconsistent arrays raise ValueError or KeyError."""
        vocabulary = arrays["peer_vocabulary"]
        if vocabulary.dtype.kind != "U":
            raise ValueError("profanity vocabulary is not text")
        return cls(
            vocabulary=tuple(str(w) for w in vocabulary.tolist()),
            idf=np.asarray(arrays["peer_idf"], dtype=np.float64),
            coef=np.asarray(arrays["peer_coef"], dtype=np.float64),
            intercept=np.asarray(arrays["peer_intercept"], dtype=np.float64),
            sigmoid_a=np.asarray(arrays["peer_sigmoid_a"], dtype=np.float64),
            sigmoid_b=np.asarray(arrays["peer_sigmoid_b"], dtype=np.float64),
        )

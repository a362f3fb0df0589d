"""Fitting the off-topic model: the background (vocabulary, IDF, LSA) and the pieces of a combiner fit.

Pure functions over texts and measurement rows (no file I/O); the recipe that chooses the data, the folds and
the precision targets is `lab/commands/train_offtopic.py`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import numpy.typing as npt

from classifiers.offtopic.model import _N_FEATURES, FEATURE_NAMES, STYLES, OffTopicModel
from classifiers.offtopic.words import _analyzer

Matrix = npt.NDArray[np.float64]


def fit_background(
    texts: Iterable[str],
    *,
    n_components: int = 128,
    min_df: int = 2,
    max_df: float = 0.5,
    max_terms: int = 30000,
    random_state: int = 0,
    meta: dict[str, Any] | None = None,
) -> OffTopicModel:
    """Fit the TF-IDF vocabulary and the LSA projection on background `texts`.

    The combiners start as a plain "dissimilar to the title and opening post" rule; fit them on
    labelled threads with `OffTopicModel.with_combiners`.
    """
    from sklearn.decomposition import TruncatedSVD
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import Pipeline

    pipeline = Pipeline(
        [
            (
                "tfidf",
                TfidfVectorizer(
                    analyzer=_analyzer,
                    min_df=min_df,
                    max_df=max_df,
                    max_features=max_terms,
                    sublinear_tf=True,
                ),
            ),
            ("lsa", TruncatedSVD(n_components=n_components + 1, n_iter=7, random_state=random_state)),
        ]
    ).fit(list(texts))
    vectorizer: Any = pipeline.named_steps["tfidf"]
    svd: Any = pipeline.named_steps["lsa"]
    coef = np.zeros((len(STYLES), _N_FEATURES))
    coef[:, FEATURE_NAMES.index("lsa_anchor")] = -4.0
    coef[:, FEATURE_NAMES.index("tfidf_thread")] = -4.0
    return OffTopicModel(
        terms=tuple(vectorizer.get_feature_names_out()),
        idf=vectorizer.idf_.astype(np.float32),
        # The first direction is mostly how common a text's words are, not what it is about: dropped.
        components=np.ascontiguousarray(svd.components_[1:].T, dtype=np.float32),
        coef=coef,
        intercept=np.full(len(STYLES), 2.0),
        meta=dict(meta or {}),
    )


def calibrated_cut(
    z: npt.NDArray[np.float64], y: npt.NDArray[np.int_], precision: float, min_flags: int
) -> float:
    """The lowest decision value whose flags (at least `min_flags` of them; `z` has at least as many) still
    reach `precision`."""
    order = np.argsort(-z, kind="stable")
    hits = np.cumsum(y[order])
    prec = hits / np.arange(1, len(z) + 1)
    ok = np.flatnonzero(prec[min_flags - 1 :] >= precision)
    k = int(ok[-1]) + min_flags if len(ok) else min_flags  # flag the top k
    return float(z[order[k - 1]])


def logistic(x: Matrix, y: npt.NDArray[np.int_], c: float = 1.0) -> tuple[npt.NDArray[np.float64], float]:
    """Logistic weights on raw features (scaling folded in) and intercept."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    pipeline = Pipeline([("scale", StandardScaler()), ("lr", LogisticRegression(C=c, max_iter=5000))]).fit(
        x, y
    )
    scaler = pipeline.named_steps["scale"]
    lr = pipeline.named_steps["lr"]
    coef = lr.coef_[0] / scaler.scale_
    return coef, float(lr.intercept_[0] - coef @ scaler.mean_)

"""The offline peer, alt-profanity-check, read from its installed package into plain arrays.

Its package stores scikit-learn objects with joblib (pickle). They are read here, at training and evaluation
time only, from the package pip installed (the `train` extra); what modassist keeps in a model file is the
arrays of `classifiers.profanity.ProfanityModel`, never the pickles.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from classifiers.profanity import ProfanityModel


def profanity_model_from_sklearn(vectorizer: Any, calibrated: Any) -> ProfanityModel:
    """A fitted word `TfidfVectorizer` and a sigmoid-calibrated linear classifier (`CalibratedClassifierCV`
    over `LinearSVC`, the peer's recipe) as arrays."""
    params = vectorizer.get_params()
    if params["analyzer"] != "word" or params["ngram_range"] != (1, 1) or params["norm"] != "l2":
        raise ValueError("only a word-unigram, L2-normalised TF-IDF vectoriser can be read")
    if params["sublinear_tf"] or params["token_pattern"] != r"(?u)\b\w\w+\b" or not params["lowercase"]:
        raise ValueError("the vectoriser's tokenising differs from the peer's")
    if calibrated.method != "sigmoid":
        raise ValueError("only sigmoid calibration can be read")
    by_index = sorted(vectorizer.vocabulary_.items(), key=lambda item: item[1])
    folds = calibrated.calibrated_classifiers_
    return ProfanityModel(
        vocabulary=tuple(word for word, _ in by_index),
        idf=np.asarray(vectorizer.idf_, dtype=np.float64),
        coef=np.vstack([np.asarray(f.estimator.coef_, dtype=np.float64).ravel() for f in folds]),
        intercept=np.array([float(np.ravel(f.estimator.intercept_)[0]) for f in folds]),
        sigmoid_a=np.array([float(f.calibrators[0].a_) for f in folds]),
        sigmoid_b=np.array([float(f.calibrators[0].b_) for f in folds]),
    )


def installed_peer() -> ProfanityModel | None:
    """alt-profanity-check's model as arrays, or None when the package is not installed."""
    try:
        from profanity_check.profanity_check import model, vectorizer
    except ImportError:
        return None
    return profanity_model_from_sklearn(vectorizer, model)


def peer_label() -> str:
    """'alt-profanity-check 1.9.1 (MIT)', with the installed version."""
    from importlib.metadata import version

    return f"alt-profanity-check {version('alt-profanity-check')} (MIT)"


def peer_probability(texts: Sequence[str]) -> np.ndarray | None:
    """alt-profanity-check's own probabilities for `texts`, or None when it is not installed."""
    try:
        from profanity_check import predict_prob
    except ImportError:
        return None
    return np.asarray(predict_prob(list(texts)), dtype=np.float64)

"""The peer's linear model as arrays: same probabilities as scikit-learn, stored and loaded without pickle."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pytest

from classifiers.inflammatory import PEER_INPUTS, InflammatoryModel, TextFeatures
from classifiers.persistence import ModelError, load_model, save_model
from classifiers.profanity import ProfanityModel
from lab.peer import profanity_model_from_sklearn

if TYPE_CHECKING:
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.feature_extraction.text import TfidfVectorizer

_SWEARY = ["this is shit", "what the fuck is this", "damn it all", "shit shit shit", "fucking hell mate"]
_CLEAN = ["the weather is fine", "see you at the meeting", "the bus was late", "nice work on the report"]


def _peer_recipe() -> tuple[TfidfVectorizer, CalibratedClassifierCV]:
    # Imported here: scikit-learn stays out of the workers that do not run this (tests/conftest.py).
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.svm import LinearSVC

    texts = [f"{t} number {i}" for i in range(12) for t in (*_SWEARY, *_CLEAN)]
    labels = [1] * len(_SWEARY) + [0] * len(_CLEAN)
    labels = labels * 12
    vectorizer = TfidfVectorizer(stop_words="english")
    features = vectorizer.fit_transform(texts)
    model = CalibratedClassifierCV(LinearSVC(class_weight="balanced", dual=False), cv=3)
    model.fit(features, labels)
    return vectorizer, model


def test_arrays_give_the_same_probabilities_as_scikit_learn() -> None:
    vectorizer, model = _peer_recipe()
    peer = profanity_model_from_sklearn(vectorizer, model)
    probe = [
        "SHIT, the bus was late again!",
        "nothing here matches at all",
        "",
        "Fucking    hell, damn — the report",
        "ｓｈｉｔ unicode and émigré words",
    ]
    expected = model.predict_proba(vectorizer.transform(probe))[:, 1]
    assert np.allclose(peer.probability(probe), expected, atol=1e-12)
    assert peer.probability(["shit damn fuck"])[0] > peer.probability(["the weather is fine"])[0]


def test_other_recipes_are_refused() -> None:
    vectorizer, model = _peer_recipe()
    with pytest.raises(ValueError, match="word-unigram"):
        profanity_model_from_sklearn(type(vectorizer)(ngram_range=(1, 2)), model)  # another TfidfVectorizer
    vectorizer.set_params(sublinear_tf=True)
    with pytest.raises(ValueError, match="tokenising"):
        profanity_model_from_sklearn(vectorizer, model)


def test_inconsistent_arrays_are_refused() -> None:
    vectorizer, model = _peer_recipe()
    arrays = profanity_model_from_sklearn(vectorizer, model).arrays()
    arrays["peer_idf"] = arrays["peer_idf"][:-1]
    with pytest.raises(ValueError, match="vocabulary"):
        ProfanityModel.from_arrays(arrays)


def _model_with_peer() -> InflammatoryModel:
    from classifiers.training.inflammatory import TrainingConfig, fit_inflammatory  # as in _peer_recipe

    vectorizer, model = _peer_recipe()
    texts = [
        f"you are a stupid idiot {i}" if i % 2 else f"thanks for the report on housing {i}"
        for i in range(120)
    ]
    labels = [float(i % 2) for i in range(120)]
    config = TrainingConfig(features=TextFeatures(word_bits=12, char_bits=13), folds=2, min_df=1)
    return fit_inflammatory(
        texts, labels, config=config, peer=profanity_model_from_sklearn(vectorizer, model)
    ).model


def test_a_model_with_the_peer_input_round_trips(tmp_path: Path) -> None:
    model = _model_with_peer()
    assert model.second_stage_names[-len(PEER_INPUTS) :] == PEER_INPUTS
    path = tmp_path / "with-peer.npz"
    model.save(path)
    loaded = InflammatoryModel.load(path)
    assert loaded.peer is not None
    probe = ["you are a stupid idiot, damn", "the bus was late", "thanks for the report"]
    assert np.allclose(loaded.probability(probe), model.probability(probe), atol=1e-6)


def test_a_model_file_with_broken_peer_arrays_fails_with_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "with-peer.npz"
    _model_with_peer().save(path)
    arrays, meta = load_model(path, "modassist.inflammatory.hashed-linear")
    arrays["peer_coef"] = arrays["peer_coef"][:, :-1]
    broken = tmp_path / "broken.npz"
    save_model(broken, "modassist.inflammatory.hashed-linear", arrays, meta)
    with pytest.raises(ModelError, match="inconsistent"):
        InflammatoryModel.load(broken)

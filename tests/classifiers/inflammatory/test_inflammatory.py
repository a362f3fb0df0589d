"""The inflammatory detector: obfuscation, quotes, calibration, evidence, safe model files, training."""

from __future__ import annotations

import time
import zipfile
from pathlib import Path

import numpy as np
import pytest

from classifiers.inflammatory import (
    DEFAULT_MODEL_PATH,
    InflammatoryDetector,
    InflammatoryModel,
    TextFeatures,
    deobfuscate,
)
from classifiers.persistence import ModelError
from classifiers.suite import DetectorSuite
from classifiers.thread import Post, Quote
from tests.classifiers.inflammatory.toy_corpus import toy_corpus

INSULT = "You are a pathetic idiot and a clueless moron."
CIVIL = "I disagree with the new budget, the numbers on rail spending do not add up for me."


@pytest.fixture(scope="module")
def detector() -> InflammatoryDetector:
    return InflammatoryDetector.load()


# -- de-obfuscation (no model needed) ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("d u m b", "dumb"),
        ("i.d.i.o.t", "idiot"),
        ("s-t-u-p-i-d", "stupid"),
        ("1d10t", "idiot"),
        ("l0ser", "loser"),
        ("sh!t", "shit"),
        ("іdіоt", "idiot"),  # Cyrillic і and о
        ("ｍｏｒｏｎ", "moron"),  # full-width
        ("id\u200biot", "idiot"),  # zero-width space
        ("sooooo", "so"),
        ("@somebody hi", "@user hi"),
        ("see https://example.com/x?y=1 now", "see <link> now"),
        # Links are looked for only where an "h" or a "w" stands: at the start, after a symbol, any case.
        ("http://a.b/c", "<link>"),
        ("go to WWW.Example.com now", "go to <link> now"),
        ("read:https://a.io", "read:<link>"),
        ("xhttp://a.b x", "xhttp://abx"),  # inside a word: not a link
        ("see https:/x and www", "see https:/x and w"),
        ("in 2024 we won", "in 2024 we won"),  # numbers alone are not letters
        ("I am a big fan", "i am a big fan"),  # two one-letter words are not spelled-out letters
    ],
)
def test_deobfuscate(text: str, expected: str) -> None:
    assert deobfuscate(text) == expected


def test_features_are_deterministic_and_batch_independent() -> None:
    features = TextFeatures()
    alone = features.occurrences(["You are a clown."])
    batch = features.occurrences(["Something else first.", "You are a clown.", ""])
    mine = batch.doc == 1
    assert sorted(alone.column.tolist()) == sorted(batch.column[mine].tolist())
    assert batch.n_docs == 3
    assert np.array_equal(np.unique(batch.chunk_doc), np.arange(3))  # every text has a sentence


# -- the shipped model ---------------------------------------------------------------------------------------


def test_scores_are_probabilities(detector: InflammatoryDetector) -> None:
    scores = detector.score_texts([INSULT, CIVIL, "", "!!!", "a" * 5000])
    assert scores.shape == (5,)
    assert np.all((scores >= 0) & (scores <= 1))
    assert scores[0] >= 0.6 > scores[1]
    assert np.all(np.diff(detector.model.calibration_y) >= 0)  # calibration is monotone


@pytest.mark.parametrize(
    "insult",
    [
        "You are an idiot.",
        "You are an 1d10t.",
        "You are an i d i o t.",
        "You are an іdіоt.",
        "You are an id\u200biot.",
        "ＹＯＵ ＡＲＥ ＡＮ ＩＤＩＯＴ.",
        "You are an iiiidiooot.",
    ],
)
def test_obfuscated_insults_are_still_caught(detector: InflammatoryDetector, insult: str) -> None:
    plain = float(detector.score_texts(["You are an idiot."])[0])
    score = float(detector.score_texts([insult])[0])
    assert score >= 0.6
    assert score >= plain - 0.15


def test_evidence_points_at_the_insulting_words(detector: InflammatoryDetector) -> None:
    text = "Thanks for the link. Honestly the mayor is a pathetic moron and a fraud."
    spans = [text[e.start : e.end].lower() for e in detector.explain(text)]
    assert spans
    assert any("moron" in s for s in spans[:2])
    assert not any("thanks" in s or "link" in s for s in spans)


def test_evidence_spans_cover_obfuscated_words(detector: InflammatoryDetector) -> None:
    text = "Everyone here knows you are a m o r o n."
    spans = [text[e.start : e.end] for e in detector.explain(text)]
    assert any("m o r o n" in s for s in spans)


def test_review_gives_reason_with_words_and_score(detector: InflammatoryDetector) -> None:
    state = detector.begin_thread("t1", "Budget thread")
    detection = state.review(Post(id="p1", text=INSULT))
    assert detection.category == "inflammatory"
    assert detection.score >= 0.6
    assert detection.reasons[0].startswith("insulting language: '")
    assert f"(score {detection.score:.2f})." in detection.reasons[0]
    assert any(
        "idiot" in INSULT[e.start : e.end] or "moron" in INSULT[e.start : e.end] for e in detection.evidence
    )
    civil = state.review(Post(id="p2", text=CIVIL))
    assert civil.score < 0.6


def test_marked_quotes_are_not_the_posters_words(detector: InflammatoryDetector) -> None:
    troll = "Shut up you worthless pathetic idiot, nobody wants you here, loser."
    objection = "Please keep it civil. Calling people names helps nobody in this discussion."
    state = detector.begin_thread("t2", "Transit plans")
    quoting = state.review(
        Post(id="p2", text=objection, quotes=(Quote(text=troll, author="troll", post_id="p1"),))
    )
    assert quoting.score < 0.6
    assert detector.begin_thread("t3", "x").review(Post(id="p1", text=troll)).score >= 0.6


def test_inline_quotes_of_earlier_posts_are_not_the_posters_words(detector: InflammatoryDetector) -> None:
    troll = "Shut up you worthless pathetic idiot, nobody wants you here, loser."
    objection = "Please keep it civil. Calling people names helps nobody in this discussion."
    state = detector.begin_thread("t4", "Transit plans")
    assert state.review(Post(id="p1", text=troll)).score >= 0.6
    pasted = f"{troll}\n\n{objection}"
    detection = state.review(Post(id="p2", text=pasted))
    assert detection.score < 0.6
    assert detection.details.get("repeated_chars_ignored", 0) > 0


def test_boilerplate_lines_are_not_words(detector: InflammatoryDetector) -> None:
    text = "Please, Log in or Register to view URLs content!\n" + CIVIL
    state = detector.begin_thread("t5", "x")
    assert state.review(Post(id="p1", text=text)).score < 0.6


def test_suite_flags_with_its_threshold(detector: InflammatoryDetector) -> None:
    suite = DetectorSuite([detector], {"inflammatory": 0.6})
    reviewer = suite.begin_thread("t6", "x")
    flagged = reviewer.review(Post(id="p1", text=INSULT))
    assert [f.category for f in flagged.flags] == ["inflammatory"]
    assert flagged.flags[0].model_version == detector.version
    assert reviewer.review(Post(id="p2", text=CIVIL)).flags == ()


def test_freak_texts_are_fast_and_bounded(detector: InflammatoryDetector) -> None:
    started = time.perf_counter()
    detection = detector.begin_thread("t7", "x").review(Post(id="p1", text="word " * 200_000))
    assert detection.score < 0.6
    assert time.perf_counter() - started < 20


def test_long_post_evidence_comes_from_its_worst_passage(detector: InflammatoryDetector) -> None:
    text = (
        "The council met on Tuesday to discuss the budget and the new depot. " * 30
        + "Frankly the councillor is a pathetic moron. "
        + "Rail spending was also discussed at length by the committee. " * 30
    )
    found = [text[e.start : e.end] for e in detector.explain(text)]
    assert any("moron" in f for f in found)


def test_load_is_fast_and_artifact_small(detector: InflammatoryDetector) -> None:
    assert DEFAULT_MODEL_PATH.stat().st_size <= 20_000_000
    assert detector.load_seconds < 2.0  # the target is 1 s; leave room for a busy test machine


# -- safe model files ----------------------------------------------------------------------------------------


def _rewrite_member(src: Path, dst: Path, member: str, change: bytes) -> None:
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == member:
                data = data[:-8] + change
            zout.writestr(item, data)


def test_tampered_weights_fail_with_a_clear_error(tmp_path: Path) -> None:
    tampered = tmp_path / "inflammatory.npz"
    _rewrite_member(
        DEFAULT_MODEL_PATH, tampered, "weights.npy", np.array([123.0], dtype=np.float64).tobytes()
    )
    with pytest.raises(ModelError, match="checksum"):
        InflammatoryDetector.load(tampered)


@pytest.mark.parametrize(
    ("content", "problem"),
    [(b"not a zip at all", "damaged"), (b"PK\x03\x04 truncated", "damaged")],
)
def test_damaged_files_fail_with_a_clear_error(tmp_path: Path, content: bytes, problem: str) -> None:
    path = tmp_path / "broken.npz"
    path.write_bytes(content)
    with pytest.raises(ModelError, match=problem):
        InflammatoryModel.load(path)


def test_missing_file_and_wrong_kind(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="not found"):
        InflammatoryModel.load(tmp_path / "nope.npz")
    other = Path(DEFAULT_MODEL_PATH).with_name("offtopic.npz")
    if other.exists():
        with pytest.raises(ModelError, match="expected"):
            InflammatoryModel.load(other)


def test_pickled_arrays_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "pickled.npz"
    np.savez(path, __meta__=np.array([{"kind": "x"}], dtype=object))
    with pytest.raises(ModelError):
        InflammatoryModel.load(path)


# -- training ------------------------------------------------------------------------------------------------


def test_training_round_trip(tmp_path: Path) -> None:
    # Imported here: scikit-learn stays out of the workers that do not run this (tests/conftest.py).
    from classifiers.training.inflammatory import TrainingConfig, fit_inflammatory

    texts, labels = toy_corpus()
    config = TrainingConfig(features=TextFeatures(word_bits=14, char_bits=15), folds=2, min_df=1)
    result = fit_inflammatory(texts, labels, config=config, version="inflammatory-test")
    assert result.oof_roc_auc > 0.9
    path = tmp_path / "toy.npz"
    result.model.save(path)
    loaded = InflammatoryModel.load(path)
    probe = ["you are a dumb clown", "the report on housing is fair"]
    assert np.allclose(loaded.probability(probe), result.model.probability(probe))
    assert loaded.probability(probe)[0] > loaded.probability(probe)[1]
    assert loaded.version == "inflammatory-test"


def test_dev_test_split_is_deterministic() -> None:
    # Imported here: scikit-learn stays out of the workers that do not run this (tests/conftest.py).
    from classifiers.training.inflammatory import dev_test_part

    keys = [f"article:{i}" for i in range(2000)]
    first = [dev_test_part("c3", k) for k in keys]
    assert first == [dev_test_part("c3", k) for k in keys]
    assert 0.2 < sum(first) / len(first) < 0.3

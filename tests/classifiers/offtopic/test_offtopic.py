"""The off-topic detector on threads written for these tests, and its model file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from classifiers.offtopic import OffTopicDetector, OffTopicModel
from classifiers.persistence import ModelError, save_model
from classifiers.result import Detection
from classifiers.thread import Post, Quote
from classifiers.training.offtopic import fit_background

TITLE = "Should cities ban cars from their centres?"
THREAD = [
    "Our council wants to close the old town to private cars from next spring. Buses, bikes and delivery "
    "vans would still be allowed in the early morning. I think it will make the centre quieter and the air "
    "cleaner, but shop owners are worried about losing customers who drive in from the suburbs.",
    "Every city that pedestrianised its centre saw more people walking the streets, not fewer. Footfall "
    "went up in the shopping streets once the traffic was gone, and cafes put tables outside where cars "
    "used to park.",
    "That only works if public transport is good. Here the buses run twice an hour and stop at eight in the "
    "evening. Ban the cars and you simply cut off everyone who lives outside the ring road.",
    "Then improve the buses first and ban the cars afterwards. A tram line and a park and ride at the edge "
    "of town would let commuters leave their cars outside the centre.",
    "Parking fees would do most of the work without a ban. Double the price of parking in the centre and use "
    "the money to pay for more frequent buses and safer cycle lanes.",
    "Disabled drivers and tradespeople with tools need access though. Any ban needs permits for them, "
    "otherwise the council is just pushing the problem onto the people with the fewest alternatives.",
]
ON_TOPIC = (
    "A congestion charge worked in London: traffic in the centre fell and the buses got faster. A similar "
    "charge for cars entering the old town would raise money for the tram line and the park and ride."
)
UNRELATED = (
    "My sourdough starter finally doubled overnight after I switched to rye flour and kept the jar near the "
    "oven. Feed it twice a day, discard half, and the bread gets a much better crumb and a sour tang after a "
    "week. I bake two loaves every Sunday now, one plain and one with walnuts and raisins, and the crust "
    "crackles when it cools on the rack. The trick with hydration is to start at seventy percent water and "
    "only go wetter once you can shape the dough without it sticking to the bench. A cast iron pot with a "
    "lid traps the steam for the first twenty minutes, then take the lid off so the crust browns."
)

NEWS_TITLE = "Miscellaneous news"
NEWS = [
    "The harbour board approved the new ferry terminal on Monday after a long row about the cost of dredging "
    "the channel. The northern quay will close for most of next summer while the work is done.",
    "The dredging bill will land on the fishing fleet again. The harbour board never pays for its own "
    "terminal, it just raises the mooring fees.",
    "Mooring fees went up twice already this year. The small boat owners on the northern quay say they will "
    "move to the marina down the coast if the terminal closes the quay all summer.",
]
SUBJECT_CHANGE = (
    "Meanwhile Borvik United finally signed Tomas Hallgren from Feldstadt Rovers for a record fee. Manager "
    "Ines Dravec says Hallgren will start against Kellmoor Athletic on Saturday, with Oskar Lindqvist moving "
    "to the bench. The Nordvale Cup draw puts Borvik against Greystone Albion in the quarter final, and the "
    "Valdor Arena will be sold out. Hallgren scored nineteen goals for Feldstadt last season."
)


@pytest.fixture(scope="module")
def detector() -> OffTopicDetector:
    """The shipped model, default policy."""
    return OffTopicDetector.load()


def posts_of(texts: list[str], prefix: str = "p") -> list[Post]:
    return [
        Post(id=f"{prefix}{i}", text=t, author=f"user{i}", position=i) for i, t in enumerate(texts, start=1)
    ]


def judge(detector: OffTopicDetector, title: str, texts: list[str], last: Post) -> Detection:
    """Review `texts` as a thread, then judge `last` after them."""
    state = detector.begin_thread("t1", title)
    for post in posts_of(texts):
        state.review(post)
    return state.review(last)


@pytest.mark.parametrize(
    ("text", "flagged"),
    [
        (ON_TOPIC, False),
        (UNRELATED, True),
    ],
    ids=["on-topic reply", "unrelated post spliced in"],
)
def test_on_topic_replies_score_low_and_unrelated_posts_are_flagged(
    detector: OffTopicDetector, text: str, flagged: bool
) -> None:
    result = judge(detector, TITLE, THREAD, Post(id="x", text=text, author="late"))
    assert 0.0 <= result.score <= 1.0
    if flagged:
        assert result.score >= detector.flag_threshold
    else:
        assert result.score < 0.2
        assert result.reasons == ()


def test_reasons_name_the_thread_and_what_the_post_is_about_instead(detector: OffTopicDetector) -> None:
    result = judge(detector, TITLE, THREAD, Post(id="x", text=UNRELATED, author="late"))
    (reason,) = result.reasons
    thread_part, post_part = reason.split(";")
    assert "this thread" in thread_part
    assert any(term in thread_part for term in ("cars", "buses", "ban", "centre"))
    assert any(term in post_part for term in ("crust", "bake", "sourdough", "lid", "dough"))
    assert result.evidence
    for span in result.evidence:
        word = UNRELATED[span.start : span.end]
        assert word.isalpha()
        assert word.lower() in post_part.lower()


def test_the_opening_post_defines_the_topic(detector: OffTopicDetector) -> None:
    state = detector.begin_thread("t1", TITLE)
    assert state.review(posts_of(THREAD)[0]).score == 0.0


@pytest.mark.parametrize(
    ("quotes", "text"),
    [
        ((Quote(text=THREAD[5], author="user6", post_id="p6"),), "Exactly, permits fix that."),
        ((), f"{THREAD[5]}\nExactly, permits fix that."),
    ],
    ids=["marked quote", "inline quote"],
)
def test_a_short_reply_to_an_on_topic_post_is_judged_with_it(
    detector: OffTopicDetector, quotes: tuple[Quote, ...], text: str
) -> None:
    result = judge(detector, TITLE, THREAD, Post(id="x", text=text, author="late", quotes=quotes))
    assert result.score < 0.1
    assert "judged with the post it quotes" in str(result.details.get("rule"))


def test_a_short_post_is_not_off_topic_for_being_short(detector: OffTopicDetector) -> None:
    result = judge(detector, TITLE, THREAD, Post(id="x", text="Lovely weather today.", author="late"))
    assert result.score <= detector.short_cap
    assert result.score < detector.flag_threshold


def news(detector: OffTopicDetector, thread_id: str = "n1", title: str = NEWS_TITLE) -> Detection:
    state = detector.begin_thread(thread_id, title)
    for post in posts_of(NEWS, prefix="n"):
        state.review(post)
    return state.review(Post(id="x", text=SUBJECT_CHANGE, author="fan"))


def test_catch_all_recent_mode_flags_a_change_of_subject_with_the_names_it_brings(
    detector: OffTopicDetector,
) -> None:
    result = news(detector)
    assert result.details["catch_all"] == "recent"
    assert result.score >= detector.flag_threshold
    assert "recent discussion" in result.reasons[0]
    assert any("Hallgren" in r and "names the recent discussion has not used" in r for r in result.reasons)


def test_catch_all_exempt_mode_never_scores(detector: OffTopicDetector) -> None:
    exempt = OffTopicDetector(detector.model, catch_all_mode="exempt")
    result = news(exempt)
    assert result.score == 0.0
    assert result.details == {"catch_all": "exempt"}


def test_catch_all_threshold_mode_raises_the_bar(detector: OffTopicDetector) -> None:
    strict = OffTopicDetector(detector.model, catch_all_mode="threshold", catch_all_threshold=0.9)
    assert strict.rescale_for_catch_all(0.9) == pytest.approx(strict.flag_threshold)
    assert strict.rescale_for_catch_all(0.8) < strict.flag_threshold
    assert strict.rescale_for_catch_all(1.0) == pytest.approx(1.0)
    plain = OffTopicDetector(detector.model, catch_all_patterns=())
    assert news(strict).score <= news(plain).score


@pytest.mark.parametrize(
    ("title", "thread_id", "expected"),
    [
        ("Miscellaneous News", "t", True),
        ("General discussion", "t", True),
        ("Off-topic corner", "t", True),
        ("Harbour dredging costs", "t", False),
        ("Harbour dredging costs", "pinned-42", True),
    ],
)
def test_catch_all_threads_by_title_pattern_or_id(
    detector: OffTopicDetector, title: str, thread_id: str, expected: bool
) -> None:
    policy = OffTopicDetector(detector.model, catch_all_thread_ids={"pinned-42"})
    assert policy.is_catch_all(thread_id, title) is expected


def test_a_thread_that_is_not_catch_all_uses_no_subject_rule(detector: OffTopicDetector) -> None:
    result = news(detector, title="Harbour dredging costs")
    assert "catch_all" not in result.details
    assert "catch-all" not in str(result.details.get("rule", ""))


def test_policy_is_validated(detector: OffTopicDetector) -> None:
    with pytest.raises(ValueError, match="catch_all_mode"):
        OffTopicDetector(detector.model, catch_all_mode="sometimes")
    with pytest.raises(ValueError, match="style"):
        OffTopicDetector(detector.model, style="poetry")
    with pytest.raises(ValueError, match="catch_all_threshold"):
        OffTopicDetector(detector.model, catch_all_threshold=1.5)


def test_memory_per_thread_stays_bounded(detector: OffTopicDetector) -> None:
    small = OffTopicDetector(detector.model, window=4, profile_terms=50)
    state = small.begin_thread("long", TITLE)
    texts = [*THREAD, ON_TOPIC, UNRELATED, *NEWS, SUBJECT_CHANGE]
    for i in range(300):
        state.review(Post(id=f"p{i}", text=f"{texts[i % len(texts)]} round {i} item{i}x"))
    assert len(state._thread.weights) <= 2 * 50
    assert len(state._recent) <= 4
    assert len(state._shingles) <= 4
    assert len(state._by_id) <= 4 + 1
    assert len(state._texts) <= 4


def test_the_version_names_the_style_and_the_weights(detector: OffTopicDetector) -> None:
    assert detector.version.startswith("offtopic-2.discussion+")
    question = OffTopicDetector(detector.model, style="question")
    assert question.version.startswith("offtopic-2.question+")
    assert question.version.split("+")[1] == detector.version.split("+")[1]


# -- the model file ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny_model() -> OffTopicModel:
    """A background fitted on a few texts of these tests, small enough to save and load quickly."""
    texts = [*THREAD, ON_TOPIC, UNRELATED, *NEWS, SUBJECT_CHANGE] * 2
    return fit_background(texts, n_components=4, min_df=1, max_df=1.0)


def test_a_model_round_trips_through_a_file_without_pickle(tiny_model: OffTopicModel, tmp_path: Path) -> None:
    path = tmp_path / "offtopic.npz"
    tiny_model.with_combiners(np.ones((3, tiny_model.coef.shape[1])), [0.5, -0.5, 0.1]).save(path)
    with np.load(path, allow_pickle=False) as archive:  # plain arrays only
        assert all(archive[name].dtype != object for name in archive.files)
    loaded = OffTopicModel.load(path)
    assert loaded.terms == tiny_model.terms
    np.testing.assert_allclose(loaded.idf, tiny_model.idf)
    np.testing.assert_allclose(loaded.components, tiny_model.components, atol=1e-3)  # stored as float16
    np.testing.assert_array_equal(loaded.intercept, [0.5, -0.5, 0.1])
    state = OffTopicDetector(loaded).begin_thread("t", TITLE)
    assert [0.0 <= state.review(p).score <= 1.0 for p in posts_of(THREAD)] == [True] * len(THREAD)


def test_a_tampered_model_file_is_refused(tiny_model: OffTopicModel, tmp_path: Path) -> None:
    path = tmp_path / "offtopic.npz"
    tiny_model.save(path)
    with np.load(path, allow_pickle=False) as archive:
        arrays = {name: archive[name] for name in archive.files}
    arrays["coef"] = arrays["coef"] + 1.0  # new weights, old digests
    with (tmp_path / "tampered.npz").open("wb") as fh:
        np.savez(fh, **arrays)
    with pytest.raises(ModelError, match="checksum"):
        OffTopicModel.load(tmp_path / "tampered.npz")


@pytest.mark.parametrize("damage", ["truncated", "other kind", "missing"])
def test_a_broken_or_foreign_model_file_is_a_model_error(tmp_path: Path, damage: str) -> None:
    path = tmp_path / "offtopic.npz"
    if damage == "truncated":
        path.write_bytes(b"PK\x03\x04 not really a zip")
    elif damage == "other kind":
        save_model(path, "modassist.inflammatory", {"w": np.zeros(3)}, {})
    with pytest.raises(ModelError):
        OffTopicDetector.load(path)


def test_the_shipped_model_loads_through_safe_persistence() -> None:
    model = OffTopicModel.load()
    assert model.meta["styles"] == ["discussion", "question", "everyday"]
    assert len(model.terms) > 1000
    assert model.components.shape == (len(model.terms), model.meta["n_components"])


def test_the_question_style_tells_an_answer_from_banter(detector: OffTopicDetector) -> None:
    question = OffTopicDetector(detector.model, style="question")
    asked = (
        "Where can I get my car serviced cheaply in town? The dealer wants a lot for a basic oil change and "
        "brake check."
    )
    answer = (
        "Try the garage behind the old market on the ring road. They did an oil change and new brake pads on "
        "my car for half the dealer price, and they had it ready the same afternoon."
    )
    banter = "lol you again with your car questions :) have a nice weekend guys!!"
    scores = []
    for reply in (answer, banter):
        state = question.begin_thread("q1", "Cheap car service?")
        state.review(Post(id="q", text=asked, author="asker"))
        scores.append(state.review(Post(id="r", text=reply, author="neighbour")).score)
    assert scores[0] < 0.1 < 0.5 < scores[1]


def test_the_stop_words_are_scikit_learns_and_scoring_does_not_import_it() -> None:
    import subprocess
    import sys

    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS as SKLEARN_STOP_WORDS

    from classifiers.stopwords import ENGLISH_STOP_WORDS

    assert ENGLISH_STOP_WORDS == SKLEARN_STOP_WORDS
    modules = "classifiers.offtopic, classifiers.inflammatory, classifiers.duplicates, classifiers.suite"
    probe = f"import sys, {modules}; print('sklearn' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"

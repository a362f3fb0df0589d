"""Short everyday threads: the everyday style (word vectors and the sentence encoder, a combiner fitted on
short threads) and the default style "auto", which reads each thread as everyday or as a discussion."""

from __future__ import annotations

import pytest

from classifiers.offtopic import AUTO_LONG_WORDS, AUTO_MAX_WORDS, OffTopicDetector
from classifiers.thread import Post
from config.settings import Settings
from tests.classifiers.offtopic.test_offtopic import judge

BUS_TITLE = "Route 42 buses late every morning?"
BUS_THREAD = [
    "Is it just me or has the 42 into town been late every single morning this week? Waited 25 minutes at "
    "the stop by the library on Tuesday and the timetable said every 10.",
    "Same on my side of town, the bus came two at once and both were packed.",
    "They changed the timetable in September, the early ones now start from the depot later.",
    "I emailed the bus company and they blamed the roadworks on the high street",
    "the app said 3 mins for ages and then the bus just vanished from the map",
]
FOOTBALL = (
    "What a match on Saturday! Our striker scored twice in the second half and the keeper saved a penalty "
    "in injury time, the league title is ours if we win the derby next week."
)
SAME_HERE = "same here, the 42 is always late"
DRIFT_TITLE = "Best beans for a home espresso machine?"
DRIFT_THREAD = [
    "Just got my first espresso machine and the supermarket beans taste sour and thin. What do you buy?",
    "Get freshly roasted beans, anything roasted in the last month. Supermarket bags are stale.",
    "There's a small roaster in the old market hall that sells bags roasted that week, really good.",
    "Oh I know that roaster, they're opening a little cafe next to the market hall next month",
]
DRIFT_REPLY = "a cafe by the market hall would be great, I'd pop in for a flat white on Saturdays"


@pytest.fixture(scope="module")
def everyday() -> OffTopicDetector:
    """The shipped model in the everyday style."""
    return OffTopicDetector.load(style="everyday")


@pytest.mark.parametrize(
    ("title", "thread", "text", "flagged"),
    [
        (BUS_TITLE, BUS_THREAD, FOOTBALL, True),
        (BUS_TITLE, BUS_THREAD, SAME_HERE, False),
        (DRIFT_TITLE, DRIFT_THREAD, DRIFT_REPLY, False),
    ],
    ids=["football post in a bus thread", "short on-topic reply", "gradual legitimate drift"],
)
def test_everyday_style_flags_a_change_of_subject_in_a_short_thread(
    everyday: OffTopicDetector, title: str, thread: list[str], text: str, flagged: bool
) -> None:
    result = judge(everyday, title, thread, Post(id="x", text=text, author="late"))
    assert (result.score >= everyday.flag_threshold) is flagged
    if flagged:
        assert result.reasons


def test_the_everyday_style_uses_word_vectors_and_the_others_do_not(everyday: OffTopicDetector) -> None:
    assert everyday.uses_word_vectors
    assert not OffTopicDetector.load().uses_word_vectors


@pytest.mark.parametrize(
    ("title", "opening", "text", "why"),
    [
        ("hi", "??", FOOTBALL, "title and opening post"),
        (BUS_TITLE, BUS_THREAD[0], "!!! :) :)", "too few telling words"),
    ],
    ids=["empty opening", "post without words"],
)
def test_too_little_to_judge_is_marked_low_confidence_and_not_flagged(
    everyday: OffTopicDetector, title: str, opening: str, text: str, why: str
) -> None:
    result = judge(everyday, title, [opening], Post(id="x", text=text, author="late"))
    assert result.details["confidence"] == "low"
    assert why in str(result.details["confidence_reason"])
    assert result.score < everyday.flag_threshold


DEBATE = (
    "The proposal to raise the minimum wage deserves a closer look than the slogans on either side allow. "
    "Supporters point to the higher cost of living in cities and to studies of earlier rises that found "
    "little loss of jobs. Opponents answer that small businesses in poorer regions run on thin margins and "
    "would cut hours or stop hiring young people. Both sides agree that the rise should be phased in, "
    "which leaves the real argument about how fast and whether it should differ by region."
)


@pytest.fixture(scope="module")
def auto() -> OffTopicDetector:
    return OffTopicDetector.load(style="auto")


def test_auto_is_the_default_style() -> None:
    assert Settings().off_topic.style == "auto"


@pytest.mark.parametrize(("text", "flagged"), [(FOOTBALL, True), (SAME_HERE, False)])
def test_a_thread_of_short_posts_is_read_as_everyday(
    auto: OffTopicDetector, text: str, flagged: bool
) -> None:
    result = judge(auto, BUS_TITLE, BUS_THREAD, Post(id="x", text=text, author="late"))
    assert result.details["style"] == "everyday"
    assert (result.score >= auto.flag_threshold) is flagged


def test_a_thread_of_long_posts_is_read_as_a_discussion(auto: OffTopicDetector) -> None:
    state = auto.begin_thread("d1", "Minimum wage rise")
    state.review(Post(id="1", text=DEBATE, author="a"))
    assert state.style == "discussion"
    result = state.review(Post(id="2", text=DEBATE.replace("proposal", "plan"), author="b"))
    assert result.details["style"] == "discussion"


def test_a_short_thread_that_turns_into_long_posts_becomes_a_discussion_for_good(
    auto: OffTopicDetector,
) -> None:
    state = auto.begin_thread("d2", "Minimum wage?")
    state.review(Post(id="1", text="is the minimum wage going up next year?", author="a"))
    assert state.style == "everyday"
    assert len(DEBATE.split()) > AUTO_LONG_WORDS
    first = state.review(Post(id="2", text=DEBATE, author="b"))  # median of 8 and ~80 words: past 40
    assert first.details["style"] == "discussion"
    later = state.review(Post(id="3", text="yes from april I think", author="c"))
    assert later.details["style"] == "discussion"  # no going back: the word-vector memory was dropped


def test_one_very_long_post_ends_the_everyday_reading(auto: OffTopicDetector) -> None:
    state = auto.begin_thread("d3", "bus 42")
    for i, text in enumerate(BUS_THREAD):
        state.review(Post(id=str(i), text=text, author="a"))
    assert state.style == "everyday"
    essay = " ".join([DEBATE, DEBATE])
    assert len(essay.split()) > AUTO_MAX_WORDS
    assert state.review(Post(id="x", text=essay, author="b")).details["style"] == "discussion"


def test_the_explicit_styles_are_kept(auto: OffTopicDetector) -> None:
    everyday = OffTopicDetector.load(style="everyday")
    state = everyday.begin_thread("e1", "Minimum wage rise")
    state.review(Post(id="1", text=DEBATE, author="a"))
    assert state.review(Post(id="2", text=DEBATE, author="b")).details["style"] == "everyday"
    assert not OffTopicDetector.load(style="discussion").uses_word_vectors
    assert auto.uses_word_vectors

"""The default off-topic style "auto": each thread read as everyday (short posts, word vectors and the
sentence encoder) or as a discussion (long posts, the debate combiner)."""

from __future__ import annotations

import pytest

from classifiers.offtopic import AUTO_LONG_WORDS, AUTO_MAX_WORDS, OffTopicDetector
from classifiers.thread import Post
from config.settings import Settings
from tests.classifiers.test_offtopic import BUS_THREAD, BUS_TITLE, FOOTBALL, SAME_HERE, judge

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

"""The default style "auto": when a thread that opened with a short post stops being read as everyday."""

from __future__ import annotations

import pytest

from classifiers.offtopic import OffTopicDetector
from classifiers.offtopic.model import (
    AUTO_LONG_WORDS,
    AUTO_MAX_WORDS,
    AUTO_THREAD_WORDS,
    becomes_discussion,
)
from classifiers.offtopic.words import post_words
from classifiers.thread import Post

TITLE = "Should the council ban cars from the old town?"
OPENING = "The council wants to close the old town to cars from next spring. Good idea or not?"
SHORT_REPLY = "No, the shops there need the parking."
LONG_REPLY = (
    "Closing the old town to cars is less radical than it sounds. Most of the streets there were laid out "
    "long before anyone drove, the pavements are too narrow for two people with a pushchair, and the few "
    "parking spaces are taken by residents before the shops even open. Towns of a similar size that closed "
    "their centres found that takings in the first year dipped and then recovered once the buses ran more "
    "often and the delivery hours were fixed. The real question is whether our council will pay for the "
    "buses, or close the streets and leave the rest to chance."
)


@pytest.fixture(scope="module")
def auto() -> OffTopicDetector:
    return OffTopicDetector.load(style="auto")


def test_the_texts_fit_the_rule_they_test() -> None:
    # A debate whose replies alternate long and short: the median stays low and no post is very long.
    long_words = len(post_words(LONG_REPLY))
    assert AUTO_LONG_WORDS < long_words <= AUTO_MAX_WORDS
    assert len(post_words(OPENING)) + len(post_words(SHORT_REPLY)) < AUTO_LONG_WORDS


def test_a_long_running_total_ends_the_everyday_reading() -> None:
    assert not becomes_discussion([20, 15, 100, 10])  # 145 words in all, median 17.5
    assert becomes_discussion([20, 15, 100, 10, 90])  # 235 words in all, median 20
    assert not becomes_discussion([30] * 6)  # 180 words of chat
    assert becomes_discussion([30] * 6 + [AUTO_THREAD_WORDS - 180 + 1])


def test_a_debate_of_mixed_lengths_becomes_a_discussion_before_the_post_that_shows_it(
    auto: OffTopicDetector,
) -> None:
    state = auto.begin_thread("mixed", TITLE)
    state.review(Post(id="0", text=OPENING, author="a"))
    texts = [SHORT_REPLY, LONG_REPLY, SHORT_REPLY, SHORT_REPLY, LONG_REPLY, SHORT_REPLY]
    styles = [
        state.review(Post(id=str(i), text=t, author="b")).details["style"] for i, t in enumerate(texts, 1)
    ]
    total = len(post_words(OPENING))
    expected = []
    for text in texts:
        total += len(post_words(text))
        expected.append(
            "discussion" if total > AUTO_THREAD_WORDS or expected[-1:] == ["discussion"] else "everyday"
        )
    assert styles == expected
    assert styles[:2] == ["everyday", "everyday"]  # the median of the first posts is still short
    assert styles[-1] == "discussion"  # for good


def test_the_sentence_plan_follows_the_running_total(auto: OffTopicDetector) -> None:
    state = auto.begin_thread("plan", TITLE)
    texts = [OPENING, SHORT_REPLY, LONG_REPLY, SHORT_REPLY, SHORT_REPLY, LONG_REPLY, SHORT_REPLY]
    posts = [Post(id=str(i), text=t, author="a") for i, t in enumerate(texts)]
    planned = state.sentence_plan().texts(posts)
    # The anchor and the opening post, then the four replies read while the thread is everyday; the
    # second long reply takes the total past the limit: neither it nor any later reply is encoded.
    assert planned[:2] == [f"{TITLE}\n{OPENING}", OPENING]
    assert planned[2:] == texts[1:5]
    for post in posts:
        state.review(post)
    assert state.style == "discussion"

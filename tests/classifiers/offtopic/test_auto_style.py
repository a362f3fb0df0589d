"""The default style "auto": when a thread that opened with a short post stops being read as everyday."""

from __future__ import annotations

import pytest

from classifiers.offtopic import OffTopicDetector
from classifiers.offtopic.model import (
    AUTO_EARLY_POSTS,
    AUTO_LONG_WORDS,
    AUTO_MAX_WORDS,
    AUTO_THREAD_WORDS,
    QUESTION_BLEND,
    asks,
    becomes_discussion,
)
from classifiers.offtopic.words import post_words
from classifiers.thread import Post

TITLE = "The council wants to ban cars from the old town"
ASKING_TITLE = "Should the council ban cars from the old town?"
OPENING = "The council wants to close the old town to cars from next spring. About time too."
SHORT_REPLY = "No, the shops there need the parking."
LONG_REPLY = (
    "Closing the old town to cars is less radical than it sounds. Most of the streets there were laid out "
    "long before anyone drove, the pavements are too narrow for two people with a pushchair, and the few "
    "parking spaces are taken by residents before the shops even open. Towns of a similar size that closed "
    "their centres found that takings in the first year dipped and then recovered once the buses ran more "
    "often and the delivery hours were fixed. The real question is whether our council will pay for the "
    "buses, or close the streets and leave the rest to chance."
)
# A debate whose replies alternate long and short: the median stays low and no post is very long.
MIXED = [SHORT_REPLY, LONG_REPLY, SHORT_REPLY] * 5


def styles_of(auto: OffTopicDetector, title: str) -> list[object]:
    state = auto.begin_thread(title, title)
    state.review(Post(id="0", text=OPENING, author="a"))
    return [
        state.review(Post(id=str(i), text=t, author="b")).details["style"] for i, t in enumerate(MIXED, 1)
    ]


def expected_styles() -> list[str]:
    """Everyday until the running total of the first posts passes AUTO_THREAD_WORDS, then a discussion."""
    total = len(post_words(OPENING))
    out: list[str] = []
    for i, text in enumerate(MIXED, 2):
        total += len(post_words(text))
        passed = total > AUTO_THREAD_WORDS and i <= AUTO_EARLY_POSTS
        out.append("discussion" if passed or "discussion" in out else "everyday")
    return out


@pytest.fixture(scope="module")
def auto() -> OffTopicDetector:
    return OffTopicDetector.load(style="auto")


def test_the_texts_fit_the_rule_they_test() -> None:
    assert AUTO_LONG_WORDS < len(post_words(LONG_REPLY)) <= AUTO_MAX_WORDS
    assert len(post_words(SHORT_REPLY)) < AUTO_LONG_WORDS
    assert not asks(TITLE, OPENING)
    assert asks(ASKING_TITLE, OPENING)
    assert "everyday" in expected_styles()
    assert expected_styles()[-1] == "discussion"


def test_a_long_running_total_ends_the_everyday_reading() -> None:
    assert not becomes_discussion([20, 15, 100, 10])
    per = AUTO_THREAD_WORDS // 10  # ten posts of chat that add up to the total, at a low median
    assert per <= AUTO_LONG_WORDS
    assert not becomes_discussion([per] * 10)
    assert becomes_discussion([per] * 10 + [per + 1])
    # ...but not in a thread that asks: long answers to a question stay everyday...
    assert not becomes_discussion([per] * 10 + [per + 1], asks=True)
    # ...nor after the first posts: a long chat thread is still a chat.
    assert not becomes_discussion([35] * AUTO_EARLY_POSTS + [36])


def test_a_debate_of_mixed_lengths_becomes_a_discussion_for_good(auto: OffTopicDetector) -> None:
    assert styles_of(auto, TITLE) == expected_styles()


def test_a_thread_that_asks_stays_everyday(auto: OffTopicDetector) -> None:
    assert set(styles_of(auto, ASKING_TITLE)) == {"everyday"}


def test_the_sentence_plan_follows_the_running_total(auto: OffTopicDetector) -> None:
    state = auto.begin_thread("plan", TITLE)
    posts = [Post(id=str(i), text=t, author="a") for i, t in enumerate([OPENING, *MIXED])]
    planned = state.sentence_plan().texts(posts)
    # The anchor and the opening post, then the replies read while the thread is everyday; no later one.
    everyday = [t for t, style in zip(MIXED, expected_styles(), strict=True) if style == "everyday"]
    assert planned == [f"{TITLE}\n{OPENING}", OPENING, *everyday]
    for post in posts:
        state.review(post)
    assert state.style == "discussion"


def raw_scores(detector: OffTopicDetector, title: str, replies: list[str]) -> list[float]:
    state = detector.begin_thread(title, title)
    state.review(Post(id="0", text=OPENING, author="a"))
    found = [state.review(Post(id=str(i), text=t, author="b")) for i, t in enumerate(replies, 1)]
    return [float(d.details["raw_score"]) for d in found]  # type: ignore[arg-type]


REPLIES = [SHORT_REPLY, "My cousin's band is playing at the Crown on Saturday, come along!", SHORT_REPLY]


def test_an_everyday_thread_that_asks_is_also_judged_as_a_question(auto: OffTopicDetector) -> None:
    everyday = raw_scores(OffTopicDetector.load(style="everyday"), ASKING_TITLE, REPLIES)
    question = raw_scores(OffTopicDetector.load(style="question"), ASKING_TITLE, REPLIES)
    blended = raw_scores(auto, ASKING_TITLE, REPLIES)
    for e, q, b in zip(everyday, question, blended, strict=True):
        assert b == pytest.approx((1 - QUESTION_BLEND) * e + QUESTION_BLEND * q, abs=2e-4)
    assert QUESTION_BLEND > 0 and everyday != question
    # A thread that asks nothing keeps the everyday combiner alone.
    alone = raw_scores(OffTopicDetector.load(style="everyday"), TITLE, REPLIES)
    assert raw_scores(auto, TITLE, REPLIES) == pytest.approx(alone, abs=2e-4)

"""The detector suite: batched review gives exactly what one-by-one review gives."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.detectors import build_suite
from bot.sources import load_thread
from classifiers.suite import DetectorSuite, StreamReviewer
from classifiers.thread import Post
from config.settings import Settings

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "regional-security-news.txt"


@pytest.fixture(scope="module")
def suite() -> DetectorSuite:
    return build_suite(Settings(_env_file=None))  # type: ignore[call-arg]


def test_batched_and_one_by_one_reviews_agree(suite: DetectorSuite) -> None:
    thread = load_thread(str(EXAMPLE))
    one_by_one = suite.begin_thread(thread.id, thread.title)
    singles = [one_by_one.review(post) for post in thread.posts]
    batched = suite.review_thread(thread)
    for single, batch in zip(singles, batched, strict=True):
        assert single.scores == batch.scores
        assert [(f.category, f.reasons) for f in single.flags] == [
            (f.category, f.reasons) for f in batch.flags
        ]


def test_interleaved_threads_in_one_batch_keep_their_own_context(suite: DetectorSuite) -> None:
    opening = (
        "The harbour board approved the dredging contract last night after a long and bitter debate about "
        "who pays for the work once the state grant runs out next spring."
    )
    other = "Rail timetable changes start on Monday with two extra evening trains on the coast line to town."
    items: list[tuple[str | None, str, Post]] = [
        ("h", "Harbour", Post(id="h1", text=opening, author="ana")),
        ("r", "Rail", Post(id="r1", text=other, author="cy")),
        ("h", "Harbour", Post(id="h2", text=opening + " Indeed.", author="ben")),
        ("r", "Rail", Post(id="r2", text=opening, author="dee")),
    ]
    reviews = StreamReviewer(suite).review_many(items)
    assert reviews[2].scores["duplicated_quote"] >= 0.9  # repeats h1 in its own thread
    assert reviews[3].scores["duplicated_quote"] == 0.0  # the same words are new in the rail thread


def test_a_threshold_lowered_at_run_time_still_gets_reasons(suite: DetectorSuite) -> None:
    text = "You are a pathetic idiot and a liar, nobody here believes a word you say, clown."
    thread = suite.begin_thread("t", "Harbour news")
    first = thread.review(Post(id="1", text=text, author="troll"))
    score = first.scores["inflammatory"]
    suite.set_threshold("inflammatory", max(0.05, score - 0.2))
    try:
        again = suite.begin_thread("t2", "Harbour news").review(Post(id="1", text=text, author="troll"))
        flag = next(f for f in again.flags if f.category == "inflammatory")
        assert flag.reasons
    finally:
        suite.set_threshold("inflammatory", 0.6)


def test_set_threshold_refuses_values_outside_0_1(suite: DetectorSuite) -> None:
    with pytest.raises(ValueError, match="within"):
        suite.set_threshold("off_topic", 1.5)


def test_a_character_budget_forgets_the_least_recently_seen_thread_but_never_the_current(
    suite: DetectorSuite,
) -> None:
    opening = (
        "The harbour board approved the dredging contract last night after a long and bitter debate about "
        "who pays for the work once the state grant runs out next spring."
    )
    other = "Rail timetable changes start on Monday with two extra evening trains on the coast line to town."
    reviewer = StreamReviewer(suite, max_chars=len(opening) + len(other) - 1)
    reviewer.review("h", "Harbour", Post(id="h1", text=opening, author="ana"))
    # The rail thread takes the kept text over the budget: the harbour thread, seen least recently, goes.
    reviewer.review("r", "Rail", Post(id="r1", text=other, author="cy"))
    again = reviewer.review("h", "Harbour", Post(id="h2", text=opening, author="ben"))
    assert again.scores["duplicated_quote"] == 0.0  # h1 is forgotten
    # A thread alone over the budget keeps its own memory: the post repeats its thread's earlier one.
    repeat = reviewer.review("h", "Harbour", Post(id="h3", text=opening, author="dee"))
    assert repeat.scores["duplicated_quote"] >= 0.9


def test_without_a_character_budget_many_threads_are_kept(suite: DetectorSuite) -> None:
    opening = (
        "The harbour board approved the dredging contract last night after a long and bitter debate about "
        "who pays for the work once the state grant runs out next spring."
    )
    reviewer = StreamReviewer(suite)
    reviewer.review("h", "Harbour", Post(id="h1", text=opening, author="ana"))
    for i in range(10):
        reviewer.review(f"r{i}", "Rail", Post(id=f"r{i}", text=opening[::-1], author="cy"))
    again = reviewer.review("h", "Harbour", Post(id="h2", text=opening, author="ben"))
    assert again.scores["duplicated_quote"] >= 0.9

"""A detector failure on one post never takes down the others (issue 13, item 2).

The shipped suite is driven with random threads (empty, whitespace-only, quote-only, one-character and
100 KB posts): every post gets a review and no detector fails. A detector that does fail on a post is
recorded on that post only; the other detectors and the other posts are judged as usual.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.detectors import build_suite
from classifiers.result import DetectorFailure
from classifiers.suite import DetectorSuite, StreamReviewer
from classifiers.thread import Post, Quote
from config.settings import Settings
from tests.e2e.doubles import ExplodingDetector, PhraseDetector

OPENING = (
    "The harbour ferry will run every hour from Monday, the council said, after the new pier opened at "
    "last with room for two boats."
)


@pytest.fixture(scope="module")
def shipped() -> DetectorSuite:
    return build_suite(Settings(_env_file=None))  # type: ignore[call-arg]


def quote_only(author: str = "ana", post_id: str = "p1") -> Post:
    return Post(f"q-{author}", "", author=author, quotes=(Quote(OPENING[:60], "ana", post_id),))


@pytest.mark.parametrize("replies", [3, 4, 6, 20])
def test_quote_only_replies_are_reviewed_in_one_batch(shipped: DetectorSuite, replies: int) -> None:
    # Four or more posts with no text of their own raised IndexError in the inflammatory model's batch.
    posts = [Post("p1", OPENING, author="ana")] + [
        Post(f"p{i}", "", author=f"u{i}", quotes=(Quote(OPENING, "ana", "p1"),))
        for i in range(2, replies + 2)
    ]
    reviews = shipped.begin_thread("t", "Harbour ferry").review_many(posts)
    assert [r.post.id for r in reviews] == [p.id for p in posts]
    assert all(not r.failures for r in reviews)
    assert all(r.scores["inflammatory"] == 0.0 for r in reviews[1:])
    assert all(r.scores["duplicated_quote"] >= 0.6 for r in reviews[1:])  # they only repeat post 1


def test_empty_posts_between_others_keep_the_others_scores(shipped: DetectorSuite) -> None:
    texts = [OPENING, "", "You are an idiot and a liar, get lost.", "   ", "Good news for the island."]
    alone = [
        shipped.begin_thread(f"x{i}", "T").review(Post("p", t)).scores["inflammatory"]
        for i, t in enumerate(texts)
    ]
    posts = [Post(f"p{i}", t) for i, t in enumerate(texts)]
    batched = [
        r.scores["inflammatory"] for r in StreamReviewer(shipped).review_many([(None, "T", p) for p in posts])
    ]
    assert batched == pytest.approx(alone, abs=1e-12)


@pytest.mark.parametrize("batch", [False, True], ids=["one-by-one", "batch"])
def test_a_failing_detector_fails_only_where_it_fails(batch: bool) -> None:
    suite = DetectorSuite(
        [
            PhraseDetector("inflammatory", r"\bidiot\b", 0.9, "insulting language"),
            ExplodingDetector("duplicated_quote", batch=batch),
        ]
    )
    posts = [Post("a", "fine post"), Post("b", "kaboom, you idiot"), Post("c", "another fine post")]
    reviews = suite.begin_thread("t", "T").review_many(posts)
    failed = reviews[1]
    assert failed.failures == (DetectorFailure("duplicated_quote", "ValueError: cannot read this post"),)
    assert failed.scores == {"inflammatory": 0.9} and [f.category for f in failed.flags] == ["inflammatory"]
    assert not failed.complete
    if batch:  # a batch detector that raises takes its whole batch with it, and nothing else
        assert all(r.failures for r in reviews)
    else:
        assert reviews[0].complete and reviews[2].complete
        assert reviews[2].scores == {"inflammatory": 0.05, "duplicated_quote": 0.1}


_TEXT = st.one_of(
    st.just(""),
    st.text(alphabet=" \t\n\u00a0\u2028", max_size=20),
    st.text(min_size=1, max_size=1),
    st.text(max_size=400),
    st.sampled_from([OPENING, "You idiot.", "Exactly this."]),
    st.builds(
        lambda word, n: (word + " ") * n, st.sampled_from(["spam", "idiot", "ferry", "é"]), st.integers(1, 40)
    ),
)
_HUGE = st.builds(
    lambda c, n: (c * n)[:100_000],
    st.sampled_from(["a", "ab ", "no you ", "\u0301", "😀 "]),
    st.just(100_000),
)


@st.composite
def _threads(draw: st.DrawFn) -> list[tuple[str | None, str, Post]]:
    posts: list[tuple[str | None, str, Post]] = []
    for i in range(draw(st.integers(1, 8))):
        thread = draw(st.sampled_from(["t1", "t2", None]))
        text = draw(st.one_of(_TEXT, _HUGE) if i == 0 else _TEXT)
        quotes: tuple[Quote, ...] = ()
        if posts and draw(st.booleans()):
            quoted = draw(st.sampled_from(posts))[2]
            quotes = (Quote(draw(st.sampled_from([quoted.text, OPENING, ""])), quoted.author, quoted.id),)
        title = draw(st.sampled_from(["", "Harbour ferry", "Misc news", "?"]))
        posts.append(
            (
                thread,
                title,
                Post(f"p{i}", text, author=draw(st.sampled_from(["ana", "ben", None])), quotes=quotes),
            )
        )
    return posts


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(items=_threads())
def test_random_threads_never_make_the_shipped_suite_fail(shipped: DetectorSuite, items: list[Any]) -> None:
    reviews = StreamReviewer(shipped).review_many(items)
    assert [r.post.id for r in reviews] == [post.id for _, _, post in items]
    for review in reviews:
        assert review.failures == ()
        assert set(review.scores) == {"off_topic", "inflammatory", "duplicated_quote"}
        assert all(0.0 <= s <= 1.0 for s in review.scores.values())

"""`OffTopicDetector.review_batch`: the posts of several threads judged together, the sentence encoder's
texts encoded ahead in one batch, with the same results as reviewing the posts one by one."""

from __future__ import annotations

import pytest

from classifiers.offtopic import OffTopicDetector
from classifiers.offtopic.state import OffTopicThreadState
from classifiers.result import Detection
from classifiers.sentence import SentenceEncoder
from classifiers.thread import Post
from tests.classifiers.offtopic.test_everyday import (
    BUS_THREAD,
    BUS_TITLE,
    DEBATE,
    DRIFT_THREAD,
    DRIFT_TITLE,
    FOOTBALL,
)

# Threads that stay everyday, one that turns into a discussion, one that is a discussion from the start.
THREADS = {
    "bus": (BUS_TITLE, [*BUS_THREAD, FOOTBALL, "same here, the 42 is always late"]),
    "beans": (DRIFT_TITLE, DRIFT_THREAD),
    "wage": ("Minimum wage?", ["is the minimum wage going up next year?", "no idea", DEBATE, DEBATE, "ok"]),
    "debate": ("Minimum wage rise", [DEBATE, DEBATE.replace("proposal", "plan"), "I agree with that"]),
}


def interleaved() -> list[tuple[str, Post]]:
    """The threads' posts in stream order, threads taking turns."""
    rows = []
    longest = max(len(texts) for _, texts in THREADS.values())
    for i in range(longest):
        for thread_id, (_, texts) in THREADS.items():
            if i < len(texts):
                rows.append((thread_id, Post(id=f"{thread_id}{i}", text=texts[i], author=f"u{i}")))
    return rows


def fresh_states(detector: OffTopicDetector) -> dict[str, OffTopicThreadState]:
    return {tid: detector.begin_thread(tid, title) for tid, (title, _) in THREADS.items()}


def encoder_of(detector: OffTopicDetector) -> SentenceEncoder:
    assert detector.semantic_space is not None
    encoder = detector.semantic_space.sentence
    assert encoder is not None
    return encoder


@pytest.fixture(scope="module", params=["auto", "everyday"])
def detector(request: pytest.FixtureRequest) -> OffTopicDetector:
    return OffTopicDetector.load(style=request.param)


def test_a_batch_gives_the_detections_of_one_by_one_reviews(detector: OffTopicDetector) -> None:
    rows = interleaved()
    encoder_of(detector).forget()
    states = fresh_states(detector)
    alone = [states[tid].review(post) for tid, post in rows]
    encoder_of(detector).forget()
    states = fresh_states(detector)
    together = detector.review_batch([(states[tid], post) for tid, post in rows])
    assert len(together) == len(alone)
    for one, batched in zip(alone, together, strict=True):
        assert isinstance(batched, Detection)
        assert abs(one.score - batched.score) <= 1e-6
        assert one.reasons == batched.reasons
        assert one.details.get("style") == batched.details.get("style")
    styles = {tid: state.style for tid, state in states.items()}
    expected = "everyday" if detector.style == "everyday" else "discussion"
    assert styles["wage"] == expected and styles["bus"] == "everyday"


def test_the_plan_names_exactly_the_texts_the_reviews_encode(detector: OffTopicDetector) -> None:
    rows = interleaved()
    states = fresh_states(detector)
    plans = {tid: state.sentence_plan() for tid, state in states.items()}
    planned = [text for tid, plan in plans.items() for text in plan.texts([p for t, p in rows if t == tid])]
    encoder = encoder_of(detector)
    encoder.forget()
    for tid, post in rows:
        states[tid].review(post)
    encoded = encoder._cache  # every text the reviews encoded, and only those (the cache was emptied)
    assert set(planned) == set(encoded)
    assert f"{BUS_TITLE}\n{BUS_THREAD[0]}" in planned  # the anchor
    # Under "auto", a thread that opens with a long post is a discussion: none of its texts is encoded.
    assert (THREADS["debate"][1][1] in planned) is (detector.style == "everyday")


def test_a_post_that_cannot_be_judged_fails_alone(detector: OffTopicDetector) -> None:
    states = fresh_states(detector)
    broken = Post(id="b", text=None, author="x")  # type: ignore[arg-type]
    found = detector.review_batch(
        [(states["bus"], Post(id="1", text=BUS_THREAD[0], author="a")), (states["beans"], broken)]
    )
    assert isinstance(found[0], Detection)
    assert not isinstance(found[1], Detection)
    assert found[1].category == "off_topic"

"""The detector suite: runs the three detectors over posts in their thread context."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from classifiers.result import CATEGORIES, Category, Detection, Flag
from classifiers.thread import Post, Thread

DEFAULT_THRESHOLDS: dict[Category, float] = {
    "off_topic": 0.7,
    "inflammatory": 0.6,
    "duplicated_quote": 0.6,
}


class ThreadState(Protocol):
    """A detector's memory of one thread; `review` judges the next post and then remembers it."""

    def review(self, post: Post) -> Detection: ...


class Detector(Protocol):
    """A detector: one category, a version string, and a fresh state per thread."""

    category: Category
    version: str

    def begin_thread(self, thread_id: str, title: str) -> ThreadState: ...


@dataclass(frozen=True, slots=True)
class PostReview:
    """Every detector's judgement of one post and the flags that reached their thresholds."""

    post: Post
    detections: Mapping[Category, Detection]
    flags: tuple[Flag, ...]

    @property
    def scores(self) -> dict[Category, float]:
        """Score per category, in the contract's order."""
        return {c: self.detections[c].score for c in CATEGORIES if c in self.detections}


class ThreadReviewer:
    """Reviews the posts of one thread in order, each against the posts before it."""

    def __init__(self, suite: DetectorSuite, thread_id: str, title: str) -> None:
        self._suite = suite
        self._states = [(d, d.begin_thread(thread_id, title)) for d in suite.detectors]

    def review(self, post: Post) -> PostReview:
        """Judge `post`; it then becomes context for the posts after it."""
        detections: dict[Category, Detection] = {}
        flags: list[Flag] = []
        for detector, state in self._states:
            detection = state.review(post)
            detections[detector.category] = detection
            threshold = self._suite.thresholds[detector.category]
            if detection.score >= threshold:
                flags.append(
                    Flag(
                        category=detector.category,
                        score=detection.score,
                        threshold=threshold,
                        reasons=detection.reasons,
                        evidence=detection.evidence,
                        model_version=detector.version,
                    )
                )
        return PostReview(post=post, detections=detections, flags=tuple(flags))


class DetectorSuite:
    """The detectors and their thresholds."""

    def __init__(
        self, detectors: Sequence[Detector], thresholds: Mapping[Category, float] | None = None
    ) -> None:
        self.detectors = tuple(detectors)
        merged = dict(DEFAULT_THRESHOLDS)
        merged.update(thresholds or {})
        for category, value in merged.items():
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"threshold for {category} must be within [0, 1], got {value}")
        self.thresholds: dict[Category, float] = merged

    def begin_thread(self, thread_id: str, title: str) -> ThreadReviewer:
        """A reviewer for a new thread."""
        return ThreadReviewer(self, thread_id, title)

    def review_thread(self, thread: Thread) -> list[PostReview]:
        """Review every post of a whole thread, in order."""
        reviewer = self.begin_thread(thread.id, thread.title)
        return [reviewer.review(post) for post in thread.posts]


class StreamReviewer:
    """Reviews a stream of posts whose threads may interleave, keeping at most `max_threads` threads' state.

    The least recently seen thread is forgotten first, so memory stays bounded however long the stream.
    """

    def __init__(self, suite: DetectorSuite, max_threads: int = 256) -> None:
        self._suite = suite
        self._max_threads = max_threads
        self._threads: OrderedDict[str, ThreadReviewer] = OrderedDict()

    def review(self, thread_id: str | None, title: str, post: Post) -> PostReview:
        """Judge `post` in the context of the earlier posts of its thread (None: a thread of its own)."""
        if thread_id is None:
            return self._suite.begin_thread(f"post:{post.id}", title).review(post)
        reviewer = self._threads.get(thread_id)
        if reviewer is None:
            reviewer = self._suite.begin_thread(thread_id, title)
            self._threads[thread_id] = reviewer
            if len(self._threads) > self._max_threads:
                self._threads.popitem(last=False)
        else:
            self._threads.move_to_end(thread_id)
        return reviewer.review(post)


def review_all(suite: DetectorSuite, threads: Iterable[Thread]) -> list[list[PostReview]]:
    """Review several whole threads."""
    return [suite.review_thread(t) for t in threads]

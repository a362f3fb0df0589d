"""Test doubles for the e2e tests: `PhraseDetector`, a real detector (the classifiers' Detector protocol)
whose verdicts the tests can predict, the suite made of them, and a thread builder."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from classifiers.result import Detection, Evidence
from classifiers.suite import DetectorSuite
from classifiers.thread import Post, Thread

FORUM = "https://forum.test"


class _PhraseState:
    def __init__(self, detector: PhraseDetector) -> None:
        self.detector = detector

    def review(self, post: Post) -> Detection:
        d = self.detector
        match = d.pattern.search(post.text)
        if match is None:
            return Detection(d.category, 0.05)
        return Detection(
            d.category,
            d.score,
            (f"{d.reason}: '{match.group(0)}' (score {d.score:.2f}).",),
            (Evidence(match.start(), match.end(), note=d.reason),),
        )


class PhraseDetector:
    """Flags a post that contains `phrase` (a regex) with a fixed score, reason and evidence span."""

    version = "phrase-1"

    def __init__(self, category: str, phrase: str, score: float, reason: str) -> None:
        self.category = category
        self.pattern = re.compile(phrase, re.IGNORECASE)
        self.score = score
        self.reason = reason

    def use_threshold(self, value: float) -> None:
        """Nothing to follow: this double explains every post alike."""

    def begin_thread(self, thread_id: str, title: str) -> _PhraseState:
        return _PhraseState(self)


class ExplodingDetector:
    """A detector that raises on posts containing 'kaboom' (one by one, or as a batch detector the whole
    batch): for the tests of what a failing detector may and may not take down."""

    version = "exploding-1"

    def __init__(self, category: str, *, batch: bool) -> None:
        self.category = category
        if batch:
            self.review_batch = self._batch

    def use_threshold(self, value: float) -> None:
        """Nothing to follow: this double explains every post alike."""

    def begin_thread(self, thread_id: str, title: str) -> ExplodingDetector:
        return self

    def review(self, post: Post) -> Detection:
        if "kaboom" in post.text:
            raise ValueError("cannot read this post\nsecond line")
        return Detection(self.category, 0.1)  # type: ignore[arg-type]

    def _batch(self, items: Sequence[tuple[Any, Post]]) -> list[Detection]:
        return [self.review(post) for _, post in items]


def make_suite() -> DetectorSuite:
    """'idiot' is inflammatory (0.91), 'crypto' off-topic (0.78)."""
    return DetectorSuite(
        [
            PhraseDetector("inflammatory", r"\bidiots?\b", 0.91, "insulting language"),
            PhraseDetector("off_topic", r"\bcrypto\b", 0.78, "about something else than the thread"),
        ]
    )


def make_thread(
    thread_id: str, *texts: str, author: str = "harbourwatch", start: int = 1, title: str = ""
) -> Thread:
    """A forum thread whose posts say `texts`, numbered from `start`."""
    posts = tuple(
        Post(
            id=f"{thread_id}-p{start + i}",
            text=text,
            author=author,
            position=start + i,
            url=f"{FORUM}/threads/{thread_id}/post-{start + i}",
            created_at="2025-03-01T10:00:00Z",
        )
        for i, text in enumerate(texts)
    )
    return Thread(
        id=thread_id, title=title or f"Thread {thread_id}", posts=posts, url=f"{FORUM}/threads/{thread_id}"
    )

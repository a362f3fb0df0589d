"""The detector suite: runs the three detectors over posts in their thread context."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol, TypeVar

from classifiers.limits import limit_note, post_chars, within_limit
from classifiers.result import CATEGORIES, Category, Detection, DetectorFailure, Flag
from classifiers.thread import Post, Thread

# The one place the flag thresholds' defaults are written: the detectors' own defaults read them, and
# `config.settings.Thresholds` repeats them (config imports nothing of ours; a test keeps the two equal).
DEFAULT_THRESHOLDS: dict[Category, float] = {
    "off_topic": 0.7,
    "inflammatory": 0.6,
    "duplicated_quote": 0.6,
}

R = TypeVar("R")


class ThreadState(Protocol):
    """A detector's memory of one thread; `review` judges the next post and then remembers it."""

    def review(self, post: Post) -> Detection: ...


class Detector(Protocol):
    """A detector: one category, a version string, a fresh state per thread, and `use_threshold` to follow
    the suite's flag threshold for its category (a detector builds reasons only for likely flags)."""

    category: Category
    version: str

    def begin_thread(self, thread_id: str, title: str) -> ThreadState: ...

    def use_threshold(self, value: float) -> None: ...


@dataclass(frozen=True, slots=True)
class PostReview:
    """Every detector's judgement of one post, the flags that reached their thresholds, and the detectors
    that failed on it (their categories have no detection and no score).

    `notes` say how the review was limited, e.g. that only the first part of a very long post was read.
    """

    post: Post
    detections: Mapping[Category, Detection]
    flags: tuple[Flag, ...]
    failures: tuple[DetectorFailure, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def scores(self) -> dict[Category, float]:
        """Score per category judged, in the contract's order (a failed detector's category is absent)."""
        return {c: self.detections[c].score for c in CATEGORIES if c in self.detections}

    @property
    def complete(self) -> bool:
        """Whether every detector judged the post."""
        return not self.failures


class BatchDetector(Detector, Protocol):
    """A detector that judges many posts faster together (e.g. one vectorised model call).

    `review_batch` must give the same detections as calling each state's `review` in order, and a
    `DetectorFailure` in place of the detection of a post it could not judge (never raise for one post).
    """

    def review_batch(self, items: Sequence[tuple[Any, Post]]) -> list[Detection | DetectorFailure]: ...


class ThreadReviewer:
    """Reviews the posts of one thread in order, each against the posts before it."""

    def __init__(self, suite: DetectorSuite, thread_id: str, title: str) -> None:
        self._suite = suite
        self.states: list[ThreadState] = [d.begin_thread(thread_id, title) for d in suite.detectors]

    def review(self, post: Post) -> PostReview:
        """Judge `post`; it then becomes context for the posts after it."""
        return self._suite.review_batch([(self, post)])[0]

    def review_many(self, posts: Sequence[Post]) -> list[PostReview]:
        """Judge posts of this thread in order (batched where a detector can)."""
        return self._suite.review_batch([(self, post) for post in posts])


class DetectorSuite:
    """The detectors and their thresholds; posts longer than `max_post_chars` are judged on their first part
    (None: no limit), which keeps memory bounded however long a post is."""

    def __init__(
        self,
        detectors: Sequence[Detector],
        thresholds: Mapping[Category, float] | None = None,
        *,
        max_post_chars: int | None = None,
    ) -> None:
        self.detectors = tuple(detectors)
        if max_post_chars is not None and max_post_chars < 1:
            raise ValueError(f"max_post_chars must be at least 1, got {max_post_chars}")
        self.max_post_chars = max_post_chars
        merged = dict(DEFAULT_THRESHOLDS)
        merged.update(thresholds or {})
        for category, value in merged.items():
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"threshold for {category} must be within [0, 1], got {value}")
        self.thresholds: dict[Category, float] = merged

    def set_threshold(self, category: Category, value: float) -> None:
        """Change a category's flag threshold; a detector that explains only likely flags follows it."""
        if not 0.0 <= value <= 1.0:
            raise ValueError(f"threshold for {category} must be within [0, 1], got {value}")
        self.thresholds[category] = value
        for detector in self.detectors:
            if detector.category == category:
                detector.use_threshold(value)

    def begin_thread(self, thread_id: str, title: str) -> ThreadReviewer:
        """A reviewer for a new thread."""
        return ThreadReviewer(self, thread_id, title)

    def review_thread(self, thread: Thread) -> list[PostReview]:
        """Review every post of a whole thread, in order."""
        return self.begin_thread(thread.id, thread.title).review_many(thread.posts)

    def review_batch(self, items: Sequence[tuple[ThreadReviewer, Post]]) -> list[PostReview]:
        """Judge posts of one or several threads, given in thread order, each in its thread's context.

        A detector that fails on a post is recorded in that post's `failures`; the other detectors, and the
        other posts, are judged as usual. A post over `max_post_chars` is judged on its first part.
        """
        limit = self.max_post_chars
        if limit is not None and any(post_chars(post) > limit for _, post in items):
            return _review_within_limit(self.review_batch, items, limit)
        per_detector = [
            self._judge_all(index, detector, items) for index, detector in enumerate(self.detectors)
        ]
        return [
            self._verdict(post, [found[row] for found in per_detector]) for row, (_, post) in enumerate(items)
        ]

    def _judge_all(
        self, index: int, detector: Detector, items: Sequence[tuple[ThreadReviewer, Post]]
    ) -> list[Detection | DetectorFailure]:
        pairs = [(reviewer.states[index], post) for reviewer, post in items]
        batch = getattr(detector, "review_batch", None)
        if batch is None or len(pairs) == 1:
            return [_guarded(detector.category, state, post) for state, post in pairs]
        try:
            return list(batch(pairs))
        except Exception as exc:
            # A batch detector isolates its posts itself; if the batch fails all the same, the thread states
            # may hold part of it, so judging the posts again one by one could judge them against themselves.
            return [DetectorFailure.of(detector.category, exc)] * len(pairs)

    def _verdict(self, post: Post, found: Sequence[Detection | DetectorFailure]) -> PostReview:
        flags = []
        detections: dict[Category, Detection] = {}
        failures: list[DetectorFailure] = []
        for detector, detection in zip(self.detectors, found, strict=True):
            if isinstance(detection, DetectorFailure):
                failures.append(detection)
                continue
            detections[detector.category] = detection
            threshold = self.thresholds[detector.category]
            if detection.score >= threshold:
                flags.append(
                    Flag(
                        category=detector.category,
                        score=detection.score,
                        threshold=threshold,
                        reasons=detection.reasons,
                        evidence=detection.evidence,
                        model_version=detector.version,
                        severity=detection.severity,
                    )
                )
        return PostReview(post=post, detections=detections, flags=tuple(flags), failures=tuple(failures))


def _guarded(category: Category, state: ThreadState, post: Post) -> Detection | DetectorFailure:
    """`state.review(post)`, or the failure it raised."""
    try:
        return state.review(post)
    except Exception as exc:
        return DetectorFailure.of(category, exc)


def _review_within_limit(
    review: Callable[[list[tuple[R, Post]]], list[PostReview]],
    items: Sequence[tuple[R, Post]],
    limit: int,
) -> list[PostReview]:
    """Run `review` on the posts cut to `limit`; each review of a cut post gets the whole post back and the
    note, in its `notes` and in every flag's reasons."""
    cut = [(context, within_limit(post, limit)) for context, post in items]
    results = review(cut)
    noted = []
    for result, (_, post), (_, read) in zip(results, items, cut, strict=True):
        if read is post:
            noted.append(result)
            continue
        note = limit_note(post, limit)
        flags = tuple(replace(flag, reasons=(*flag.reasons, note)) for flag in result.flags)
        noted.append(replace(result, post=post, flags=flags, notes=(*result.notes, note)))
    return noted


class StreamReviewer:
    """Reviews a stream of posts whose threads may interleave, keeping at most `max_threads` threads' state
    and, with `max_chars`, the state of threads that together read at most that many characters.

    The least recently seen thread is forgotten first, so memory stays bounded however long the stream. A
    thread's memory grows with the text it has read (hashed shingles of every post: about 20 bytes of
    state per character on forum threads), so a count of threads alone bounds nothing: 256 long threads
    held 290 MiB. `max_chars` forgets the least recently seen threads once the kept ones have read more;
    the thread of the post being reviewed is never forgotten for it (its own detectors bound its memory).
    """

    def __init__(self, suite: DetectorSuite, max_threads: int = 256, max_chars: int | None = None) -> None:
        self._suite = suite
        self._max_threads = max_threads
        self._max_chars = max_chars
        self._threads: OrderedDict[str, ThreadReviewer] = OrderedDict()
        self._chars: dict[str, int] = {}  # thread id -> characters its kept state has read
        self._total_chars = 0

    def review(self, thread_id: str | None, title: str, post: Post) -> PostReview:
        """Judge `post` in the context of the earlier posts of its thread (None: a thread of its own)."""
        return self.review_many([(thread_id, title, post)])[0]

    def review_many(self, items: Sequence[tuple[str | None, str, Post]]) -> list[PostReview]:
        """Judge posts in stream order, batched across threads where a detector can."""
        chosen: dict[str, ThreadReviewer] = {}  # one reviewer per thread within a batch, evicted or not
        pairs = []
        for thread_id, title, post in items:
            reviewer = chosen.get(thread_id) if thread_id is not None else None
            if reviewer is None:
                reviewer = self._reviewer(thread_id, title, post)
                if thread_id is not None:
                    chosen[thread_id] = reviewer
            if thread_id is not None and self._max_chars is not None and thread_id in self._threads:
                self._read(thread_id, post)
            pairs.append((reviewer, post))
        return self._suite.review_batch(pairs)

    def _reviewer(self, thread_id: str | None, title: str, post: Post) -> ThreadReviewer:
        if thread_id is None:
            return self._suite.begin_thread(f"post:{post.id}", title)
        reviewer = self._threads.get(thread_id)
        if reviewer is None:
            reviewer = self._suite.begin_thread(thread_id, title)
            self._threads[thread_id] = reviewer
            if len(self._threads) > self._max_threads:
                self._forget_oldest()
        else:
            self._threads.move_to_end(thread_id)
        return reviewer

    def _read(self, thread_id: str, post: Post) -> None:
        """Count the characters `post` adds to its thread's state; forget the least recently seen other
        threads while the kept ones have read more than `max_chars`."""
        assert self._max_chars is not None
        added = post_chars(post)
        self._chars[thread_id] = self._chars.get(thread_id, 0) + added
        self._total_chars += added
        while self._total_chars > self._max_chars and next(iter(self._threads)) != thread_id:
            self._forget_oldest()

    def _forget_oldest(self) -> None:
        gone, _ = self._threads.popitem(last=False)
        self._total_chars -= self._chars.pop(gone, 0)


def review_all(suite: DetectorSuite, threads: Iterable[Thread]) -> list[list[PostReview]]:
    """Review several whole threads."""
    return [suite.review_thread(t) for t in threads]

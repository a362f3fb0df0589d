"""The one rule for every source: a post is stored before the source moves past it, and never dropped.

A watcher hands what it read to `store_reliably`, and saves its position (file offset, last message id,
forum state) only after that returns a review. What can go wrong, and what happens:

- The store is unavailable (the database locked past the busy timeout, the disk full, an I/O error): nothing
  can be stored, so the review is tried again, waiting longer each time (up to `RetryPolicy.max_seconds`),
  for as long as it takes. The source does not move on; when the fault clears, the posts are stored.
- The review itself fails (a bug, a post no detector can read; a detector failing on one post is already
  isolated by the suite and stored with its error): tried `RetryPolicy.attempts` times, then the posts are
  stored as *unreviewable* with the error and an alert tells the moderators ("could not review ...").
- `stop` is set while waiting: returns None and the source keeps its position (it reads the posts again at
  the next start; the store deduplicates what was stored).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass

from bot.service import ModerationService, ThreadReview
from bot.store import SourceRef
from classifiers.result import one_line
from classifiers.thread import Thread
from config.settings import WatchSettings

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often a failed review is tried, and how long to wait between tries."""

    attempts: int = 4
    base_seconds: float = 1.0
    max_seconds: float = 60.0

    @classmethod
    def from_settings(cls, watch: WatchSettings) -> RetryPolicy:
        """The policy of `[watch]` (`review_attempts`, `retry_base_seconds`, `retry_max_seconds`)."""
        return cls(watch.review_attempts, watch.retry_base_seconds, watch.retry_max_seconds)

    def delay(self, failures: int) -> float:
        """The wait after the `failures`-th failure: doubling from the base, capped, with 10% jitter."""
        exponent = min(max(failures - 1, 0), 30)
        return float(min(self.max_seconds, self.base_seconds * 2.0**exponent) * random.uniform(0.9, 1.0))


def store_unavailable(exc: BaseException) -> bool:
    """True for faults of the database or the disk (retried until they clear), not of the review."""
    return isinstance(exc, sqlite3.OperationalError | OSError)


async def store_reliably(
    service: ModerationService,
    thread: Thread,
    *,
    source: SourceRef | None = None,
    author_ids: Mapping[str, int] | None = None,
    policy: RetryPolicy,
    stop: asyncio.Event | None = None,
) -> ThreadReview | None:
    """Review and store the thread's posts, retrying; unreviewable ones are stored with their error.

    Returns None only when `stop` was set before the posts were stored: the caller must not move on.
    """
    failures = review_failures = 0
    reviewing = True
    error = ""
    while True:
        try:
            if reviewing:
                return await service.review(thread, source=source, author_ids=author_ids)
            return await _store_unreviewed(service, thread, error, source, author_ids)
        except Exception as exc:
            failures += 1
            if store_unavailable(exc):
                log.warning(
                    "thread %s: the store is unavailable (%s); try %d", thread.id, one_line(exc), failures
                )
            elif reviewing:
                review_failures += 1
                times = "once" if review_failures == 1 else f"{review_failures} times"
                error = f"review failed {times}: {one_line(exc)}"
                log.warning("thread %s: %s", thread.id, error, exc_info=review_failures == 1)
                reviewing = review_failures < policy.attempts
            else:
                log.exception("thread %s: could not store its posts as unreviewable either", thread.id)
        if await _wait(policy.delay(failures), stop):
            return None


async def _store_unreviewed(
    service: ModerationService,
    thread: Thread,
    error: str,
    source: SourceRef | None,
    author_ids: Mapping[str, int] | None,
) -> ThreadReview:
    review = await service.store_unreviewed(thread, error, source=source, author_ids=author_ids)
    stored = [p.external_id for p in review.recorded if p.outcome != "unchanged"]
    if stored:
        log.error("thread %s: %d posts stored as unreviewable (%s)", thread.id, len(stored), error)
    service.unreviewable += len(stored)
    return review


async def _wait(seconds: float, stop: asyncio.Event | None) -> bool:
    """Sleep, or return True at once when `stop` is set."""
    if stop is None:
        await asyncio.sleep(seconds)
        return False
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)
    return stop.is_set()

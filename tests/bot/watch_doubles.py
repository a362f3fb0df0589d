"""Shared by the watcher tests: a service that records what it reviewed, a store on tmp_path, waiting."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from bot.service import ModerationService, ThreadReview
from bot.store import SourceRef, Store
from classifiers.thread import Thread
from tests.e2e.doubles import make_suite


class RecordingService(ModerationService):
    """The real service, recording the posts each review stored as new or edited."""

    def __init__(self, store: Store) -> None:
        super().__init__(store, make_suite())
        self.stored: list[tuple[str, str]] = []  # (post id, "new" | "edited")
        self.calls = 0

    async def review(
        self, thread: Thread, *, source: SourceRef | None = None, author_ids: Any = None
    ) -> ThreadReview:
        """Review, and record the outcome."""
        self.calls += 1
        result = await super().review(thread, source=source, author_ids=author_ids)
        self.stored += [(r.external_id, r.outcome) for r in result.recorded if r.outcome != "unchanged"]
        return result

    @property
    def new(self) -> list[str]:
        """Post ids stored as new, in order."""
        return [pid for pid, outcome in self.stored if outcome == "new"]

    @property
    def edited(self) -> list[str]:
        """Post ids stored as edited, in order."""
        return [pid for pid, outcome in self.stored if outcome == "edited"]

    def twice(self) -> list[str]:
        """Post ids stored as new more than once (must stay empty)."""
        return [pid for pid, n in Counter(self.new).items() if n > 1]


async def eventually(check: Callable[[], Any], timeout: float = 20.0) -> Any:  # noqa: ASYNC109
    """Poll `check()` (plain or async) until truthy: for state another task writes with no event to await."""
    async with asyncio.timeout(timeout):
        while True:
            result = check()
            if isinstance(result, Awaitable):
                result = await result
            if result:
                return result
            await asyncio.sleep(0.01)


@asynccontextmanager
async def running(watcher: Any) -> AsyncIterator[asyncio.Event]:
    """Run `watcher.run(stop)` in a task; on exit set stop and wait for it to end (it must)."""
    stop = asyncio.Event()
    task = asyncio.create_task(watcher.run(stop))
    try:
        yield stop
    finally:
        stop.set()
        async with asyncio.timeout(10):
            await task


async def alerted_urls(store: Store) -> list[str | None]:
    """The post URL of every alert in the outbox, oldest first."""
    urls = []
    for alert in await store.pending_alerts(limit=1000):
        view = await store.get_alert(alert.id)
        urls += [item.post.url for item in view.items]
    return urls

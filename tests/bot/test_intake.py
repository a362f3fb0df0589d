"""The one rule for every source (bot/intake.py): a review that keeps failing is stored as unreviewable and
alerted, never dropped, and the source moves on only after that; a stop while waiting keeps its position."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from bot.intake import RetryPolicy, store_reliably
from bot.service import ThreadReview
from bot.store import SourceRef, Store
from bot.watchers import JsonlWatcher
from classifiers.thread import Thread
from tests.bot.watch_doubles import RecordingService, eventually, running
from tests.e2e.doubles import make_thread

FAST = RetryPolicy(attempts=3, base_seconds=0.01, max_seconds=0.05)


class PoisonedService(RecordingService):
    """The real service, with a fault injected: reviewing a thread that has a post saying 'poison' fails
    (as a bug in the review would), counted in `failures`."""

    def __init__(self, store: Store) -> None:
        super().__init__(store)
        self.failures = 0

    async def review(
        self, thread: Thread, *, source: SourceRef | None = None, author_ids: Any = None
    ) -> ThreadReview:
        if any("poison" in p.text for p in thread.posts):
            self.failures += 1
            raise RuntimeError("the review broke on this thread")
        return await super().review(thread, source=source, author_ids=author_ids)


async def test_a_review_that_keeps_failing_is_stored_as_unreviewable_and_alerted(store: Store) -> None:
    service = PoisonedService(store)
    thread = make_thread("t1", "The ferry stops.", "poison pill")
    review = await store_reliably(service, thread, policy=FAST)
    assert review is not None and service.failures == 3
    assert [r.outcome for r in review.recorded] == ["new", "new"]
    posts = await store.thread_posts(review.thread.id)  # type: ignore[union-attr]
    assert [p.review_error for p in posts] == [
        "review failed 3 times: RuntimeError: the review broke on this thread"
    ] * 2
    alerts = await store.pending_alerts()
    assert len(alerts) == 2
    view = await store.get_alert(alerts[0].id)
    assert view.items[0].post.review_error and view.items[0].flags == ()
    assert service.unreviewable == 2 and await store.unreviewable_posts() == 2
    # Stored already: the next try reviews nothing and alerts nothing again.
    again = await store_reliably(service, thread, policy=FAST)
    assert again is not None and again.unchanged == 2 and len(await store.pending_alerts()) == 2


async def test_a_stop_while_waiting_returns_none_and_stores_nothing(store: Store) -> None:
    service = PoisonedService(store)
    stop = asyncio.Event()
    stop.set()
    slow = RetryPolicy(attempts=5, base_seconds=30, max_seconds=30)
    assert await store_reliably(service, make_thread("t1", "poison"), policy=slow, stop=stop) is None
    assert await store.pending_alerts() == [] and service.failures == 1


async def test_the_jsonl_watcher_moves_past_a_poisoned_thread_only_once_it_is_stored(
    store: Store, tmp_path: Path
) -> None:
    export = tmp_path / "export.jsonl"
    lines = [
        {"id": "a1", "thread_id": "a", "text": "The ferry stops."},
        {"id": "b1", "thread_id": "b", "text": "poison"},
        {"id": "a2", "thread_id": "a", "text": "Only an idiot takes it."},
    ]
    export.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    service = PoisonedService(store)
    watcher = JsonlWatcher(store, service, str(export), poll_seconds=0.02, retry=FAST)
    async with running(watcher):
        await eventually(lambda: service.new == ["a1", "a2"])
        await eventually(lambda: service.unreviewable == 1)
    [watch] = await store.watches()
    state = await store.watch_state(watch.id)
    assert json.loads(state.cursor or "{}")["offset"] == export.stat().st_size
    outbox = [await store.get_alert(a.id) for a in await store.pending_alerts()]
    assert sorted(item.post.external_id for view in outbox for item in view.items) == ["a2", "b1"]

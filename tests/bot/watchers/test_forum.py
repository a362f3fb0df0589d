"""The forum watcher against a local XenForo-style forum that grows while it runs: new posts reviewed once
with their permalinks, pagination followed, 304s, restarts, back-off and Retry-After, the host budget, slow
and truncated answers."""

from __future__ import annotations

import asyncio
import itertools
import random
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.store import Store
from bot.watchers import FORUM_THREAD, ForumWatcher
from config.settings import ForumWatchSettings, WatchedThread
from tests.bot.watch_doubles import RecordingService, alerted_urls, eventually, running
from tests.fakes.forum_server import ForumServer, ForumThread

INSULT = "Only an idiot takes the night ferry."


def settings(*threads: ForumThread, **overrides: Any) -> ForumWatchSettings:
    """Fast polling for tests; a generous budget unless a test sets one."""
    values: dict[str, Any] = {
        "threads": [WatchedThread(url=t.url) for t in threads],
        "default_interval_seconds": 0.05,
        "min_interval_seconds": 0.01,
        "backoff_min_seconds": 0.05,
        "backoff_max_seconds": 0.4,
        "host_requests": 1000,
        "host_window_seconds": 1.0,
        "timeout_seconds": 10.0,
        "refresh_seconds": 0.1,
        **overrides,
    }
    return ForumWatchSettings(**values)


@pytest.fixture
async def forum() -> AsyncIterator[ForumServer]:
    server = await ForumServer(posts_per_page=3).start()
    try:
        yield server
    finally:
        await server.close()


class FastTime:
    """A clock and a sleep for the watcher, `speed` times faster than the wall clock: every wait the watcher
    chooses (a back-off, a Retry-After, a paused host) passes in 1/speed of its seconds of real time. The
    forum stamps arrivals with the wall clock; `seconds` turns a span of them into the watcher's seconds.
    (A Retry-After is whole seconds: at the real pace each test that honours one waited a second.)"""

    def __init__(self, speed: float) -> None:
        self.speed = speed

    def clock(self) -> float:
        return time.monotonic() * self.speed

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds / self.speed)

    def seconds(self, real: float) -> float:
        return real * self.speed


def watcher(
    store: Store, service: RecordingService, config: ForumWatchSettings, fast: FastTime | None = None
) -> ForumWatcher:
    # The local forum is on 127.0.0.1, which a watcher only fetches from when allowed.
    timing: dict[str, Any] = {} if fast is None else {"clock": fast.clock, "sleep": fast.sleep}
    return ForumWatcher(store, service, config, allow_private_addresses=True, rng=random.Random(7), **timing)


def ids(*posts: int) -> list[str]:
    return [str(p) for p in posts]


async def next_poll(forum: ForumServer) -> None:
    """Wait for the next request of a test's one watched thread: the poll before it has saved its watch state
    by then. (A poll saves its state after reviewing the posts; a watcher stopped in between cancels the poll,
    and that write is rolled back.)"""
    await forum.wait_for_requests(len(forum.requests) + 1)


async def test_every_new_post_is_reviewed_once_and_alerts_link_to_the_permalink(
    forum: ForumServer, store: Store
) -> None:
    thread = forum.add_thread("Harbour ferry", ("Quill", "The night ferry stops in October."))
    first = thread.posts[0].id
    service = RecordingService(store)
    async with running(watcher(store, service, settings(thread))):
        await eventually(lambda: service.new == ids(first))
        insult = thread.add_post("Troll", INSULT)
        reply = thread.add_post("Quill", "The day ferry runs till nine.", quote=first)
        await eventually(lambda: len(service.new) == 3)
        polls = len(forum.requests)
        await forum.wait_for_requests(polls + 5)  # more polls: nothing is reviewed again
    assert service.new == ids(first, insult, reply)
    assert service.edited == []
    assert await alerted_urls(store) == [thread.permalink(insult)]
    assert all(r.headers["User-Agent"].startswith("modassist/") for r in forum.requests)
    [watch] = await store.watches()
    state = await store.watch_state(watch.id)
    assert (watch.kind, watch.target) == (FORUM_THREAD, thread.url)
    assert state.last_post_id == str(reply) and state.consecutive_errors == 0


@pytest.mark.parametrize("validator", ["etag", "last_modified"])
async def test_an_unchanged_page_is_asked_for_conditionally_and_answers_304(
    store: Store, validator: str
) -> None:
    server = await ForumServer(etag=validator == "etag", last_modified=validator == "last_modified").start()
    try:
        thread = server.add_thread("Quiet thread", ("Quill", "Nothing happens here."))
        service = RecordingService(store)
        async with running(watcher(store, service, settings(thread))):
            await server.wait_until(lambda: [r for r in server.requests if r.status == 304])
            calls = service.calls
            thread.add_post("Troll", INSULT)
            await eventually(lambda: len(service.new) == 2)
        header = "If-None-Match" if validator == "etag" else "If-Modified-Since"
        assert header not in server.requests[0].headers
        assert all(header in r.headers for r in server.requests[1:])
        assert calls == 1  # a 304 feeds nothing to the service
    finally:
        await server.close()


async def test_pagination_is_followed_to_the_newest_page(forum: ForumServer, store: Store) -> None:
    posts = [(f"user{n}", f"Ferry post number {n}.") for n in range(1, 8)]
    thread = forum.add_thread("Long ferry thread", *posts)  # pages 1-3, page 3 holds post 7
    service = RecordingService(store)
    async with running(watcher(store, service, settings(thread))):
        # First sight: the newest page is read; older pages are history.
        await eventually(lambda: service.new == ids(thread.posts[6].id))
        added = [thread.add_post("Troll", f"Reply {n}, you idiot.") for n in range(5)]  # onto pages 3-4
        await eventually(lambda: len(service.new) == 6)
        await next_poll(forum)
    assert service.new == ids(thread.posts[6].id, *added)
    assert forum.requests_to(r".*/page-4")
    assert sorted(await alerted_urls(store)) == sorted(thread.permalink(p) for p in added)
    [watch] = await store.watches()
    assert (await store.watch_state(watch.id)).last_page_url == thread.page_url(4)


async def test_a_restart_resumes_from_the_stored_state_and_alerts_nothing_twice(
    forum: ForumServer, store: Store, tmp_path: Path
) -> None:
    thread = forum.add_thread("Harbour ferry", ("Quill", "The night ferry stops."), ("Troll", INSULT))
    service = RecordingService(store)
    async with running(watcher(store, service, settings(thread))):
        await eventually(lambda: len(service.new) == 2)
        await next_poll(forum)
    before = len(forum.requests)
    later = thread.add_post("Troll", "Still an idiot.")  # while modassist is down
    reopened = await Store.open(store.path)
    try:
        second = RecordingService(reopened)
        async with running(watcher(reopened, second, settings(thread))):
            await eventually(lambda: second.new == ids(later))
            await forum.wait_for_requests(before + 4)
        assert second.new == ids(later) and second.edited == []
        urls = await alerted_urls(reopened)
        assert sorted(urls) == sorted([thread.permalink(thread.posts[1].id), thread.permalink(later)])
        # The first request after the restart asked for the stored page with the stored validators.
        assert "If-None-Match" in forum.requests[before].headers
    finally:
        await reopened.close()


async def test_a_truncated_page_loses_and_duplicates_nothing(forum: ForumServer, store: Store) -> None:
    thread = forum.add_thread("Harbour ferry", ("Quill", "The night ferry stops."))
    service = RecordingService(store)
    async with running(watcher(store, service, settings(thread))):
        await eventually(lambda: len(service.new) == 1)
        long_text = "Only an idiot would believe this. " + "The ferry is fine, really. " * 30
        post = thread.add_post("Troll", long_text)
        # The next three answers with the new post: cut off in the HTML twice, then a dropped connection.
        forum.truncate(times=2)
        forum.cut_connection()
        await eventually(lambda: len(service.new) == 2)
        polls = len(forum.requests)
        await forum.wait_for_requests(polls + 3)
    assert service.new == ids(thread.posts[0].id, post) and service.edited == []
    [watch] = await store.watches()
    stored = {p.external_id: p for p in await store.thread_posts(1)}
    assert stored[str(post)].text == long_text.strip() and stored[str(post)].revision == 1
    assert len(await alerted_urls(store)) == 1
    assert (await store.watch_state(watch.id)).consecutive_errors == 0


async def test_errors_back_off_and_retry_after_is_honoured(forum: ForumServer, store: Store) -> None:
    thread = forum.add_thread("Harbour ferry", ("Quill", "The night ferry stops."))
    service = RecordingService(store)
    forum.fail(500, times=3)
    forum.fail(429, retry_after="1")
    # The watcher's seconds run 4 times faster than real ones: its back-off takes the real 0.05, 0.1 and
    # 0.2 s of the real-time version of this test, and the Retry-After a real 0.25 s instead of 1 s.
    fast = FastTime(4)
    config = settings(thread, default_interval_seconds=0.08, backoff_min_seconds=0.2, backoff_max_seconds=0.8)
    async with running(watcher(store, service, config, fast)):
        await eventually(lambda: len(service.new) == 1)
        await next_poll(forum)
    statuses = [r.status for r in forum.requests[:5]]
    assert statuses == [500, 500, 500, 429, 200]
    gaps = [fast.seconds(b.at - a.at) for a, b in itertools.pairwise(forum.requests[:5])]
    # Back-off: at least the minimum (0.2), doubling per error (0.4, 0.8, the maximum); then the server's
    # Retry-After (1 s, longer than the back-off's maximum). The gaps are seen at the server: one request
    # may spend a little longer on the way than the next (a loaded machine), so they are compared with
    # `slack` to spare: 0.02 s of real time.
    slack = fast.seconds(0.02)
    assert gaps[0] >= 0.2 - slack and gaps[1] >= 0.4 - slack and gaps[2] >= 0.8 - slack
    assert gaps[3] >= 1.0 - slack
    [watch] = await store.watches()
    assert (await store.watch_state(watch.id)).consecutive_errors == 0


async def test_a_503_with_retry_after_pauses_the_whole_host(forum: ForumServer, store: Store) -> None:
    one = forum.add_thread("Thread one", ("Quill", "One."))
    two = forum.add_thread("Thread two", ("Quill", "Two."))
    service = RecordingService(store)
    fast = FastTime(4)  # the Retry-After's second passes in a real 0.25 s; polls every real 0.02 s
    config = settings(one, two, default_interval_seconds=0.08)
    async with running(watcher(store, service, config, fast)):
        await eventually(lambda: len(service.new) == 2)
        forum.fail(503, retry_after="1")
        await forum.wait_until(lambda: any(r.status == 503 for r in forum.requests))
        [busy] = [r for r in forum.requests if r.status == 503]
        await forum.wait_until(lambda: fast.seconds(forum.requests[-1].at - busy.at) >= 0.95)
        paused = [r for r in forum.requests if busy.at < r.at and fast.seconds(r.at - busy.at) < 0.95]
    # Only the other thread's request already under way when the 503 came may arrive during the pause.
    assert len(paused) <= 1
    assert any(fast.seconds(r.at - busy.at) >= 0.95 for r in forum.requests)


async def test_the_request_budget_per_host_is_kept(forum: ForumServer, store: Store) -> None:
    threads = [forum.add_thread(f"Thread {n}", ("Quill", f"Post {n}.")) for n in range(4)]
    service = RecordingService(store)
    config = settings(*threads, default_interval_seconds=0.01, host_requests=3, host_window_seconds=0.5)
    async with running(watcher(store, service, config)):
        await forum.wait_for_requests(10)
    arrivals = [r.at for r in forum.requests]
    # Any 4 requests in a row span at least the window, less a slack for the way from the watcher to the
    # server: both share this process's event loop, and a stall of the loop between one request's sending and
    # its arrival shortens the span it starts (0.05 s of slack failed once in a suite run under load 2.7).
    # Without the budget, 4 requests at this interval arrive within a few hundredths of a second.
    assert all(b - a >= 0.4 for a, b in zip(arrivals, arrivals[3:], strict=False))
    assert len(service.new) >= 3


async def test_a_slow_answer_times_out_and_does_not_hold_up_other_hosts(store: Store) -> None:
    slow = await ForumServer().start()
    quick = await ForumServer(first_post_id=5001).start()
    try:
        stuck = slow.add_thread("Slow thread", ("Quill", "Slow."))
        fine = quick.add_thread("Quick thread", ("Quill", "Quick."))
        release = slow.hold()
        service = RecordingService(store)
        config = settings(stuck, fine, timeout_seconds=0.3)
        async with running(watcher(store, service, config)):
            await eventually(lambda: str(fine.posts[0].id) in service.new)
            await eventually(lambda: str(stuck.posts[0].id) in service.new)  # after the time-out, a retry
            release.set()
            # The poll's state is written after its posts are reviewed: wait for it before stopping.
            [stuck_watch] = [w for w in await store.watches() if w.target == stuck.url]
            state = await eventually(lambda: _succeeded(store, stuck_watch.id))
        assert state.consecutive_errors == 0 and state.last_success_at
        assert len(quick.requests) > 1
    finally:
        await slow.close()
        await quick.close()


async def test_an_error_is_recorded_in_the_watch_state(forum: ForumServer, store: Store) -> None:
    thread = forum.add_thread("Harbour ferry", ("Quill", "The night ferry stops."))
    forum.fail(500, times=100)
    service = RecordingService(store)
    async with running(watcher(store, service, settings(thread))):
        await forum.wait_for_requests(2)
        [watch] = await store.watches()
        state = await eventually(
            lambda: _errored(store, watch.id),
        )
    assert state.consecutive_errors >= 1 and "HTTP 500" in (state.last_error or "")
    assert state.next_poll_at is not None
    assert service.calls == 0


async def _succeeded(store: Store, watch_id: int) -> Any:
    state = await store.watch_state(watch_id)
    return state if state.last_success_at and not state.consecutive_errors else None


async def _errored(store: Store, watch_id: int) -> Any:
    state = await store.watch_state(watch_id)
    return state if state.consecutive_errors else None


async def test_a_watch_added_at_run_time_is_picked_up_and_a_removed_one_dropped(
    forum: ForumServer, store: Store
) -> None:
    thread = forum.add_thread("Harbour ferry", ("Quill", "The night ferry stops."))
    service = RecordingService(store)
    forum_watcher = watcher(store, service, settings())
    async with running(forum_watcher):
        watch = await store.add_watch(FORUM_THREAD, thread.url, interval_seconds=0.05)
        forum_watcher.wake()
        await eventually(lambda: len(service.new) == 1)
        await store.remove_watch(watch.id)
        forum_watcher.wake()
        await eventually(lambda: not forum_watcher.watching)
        count = len(forum.requests)
        await asyncio.sleep(0.3)  # were it still polled, several requests would arrive meanwhile
    assert len(forum.requests) <= count + 1  # at most one poll that was already under way


async def test_a_page_that_disappeared_is_read_again_from_the_thread(
    forum: ForumServer, store: Store
) -> None:
    thread = forum.add_thread("Harbour ferry", *[("Quill", f"Post {n}.") for n in range(4)])  # 2 pages
    service = RecordingService(store)
    async with running(watcher(store, service, settings(thread))):
        await eventually(lambda: len(service.new) == 1)
        forum.fail(404, path=r".*/page-2")
        newest = thread.add_post("Troll", INSULT)
        await eventually(lambda: str(newest) in service.new)
    assert service.twice() == []


async def test_an_edited_post_on_the_newest_page_is_reviewed_again_once(
    forum: ForumServer, store: Store
) -> None:
    thread = forum.add_thread("Harbour ferry", ("Quill", "The night ferry stops."), ("Marrow", "Shame."))
    edited = thread.posts[1].id
    service = RecordingService(store)
    async with running(watcher(store, service, settings(thread))):
        await eventually(lambda: len(service.new) == 2)
        thread.edit_post(edited, "Shame. Whoever decided this is an idiot.")
        await eventually(lambda: service.edited == ids(edited))
        await forum.wait_for_requests(len(forum.requests) + 3)
    assert service.edited == ids(edited)
    assert await alerted_urls(store) == [thread.permalink(edited)]


async def test_a_failed_next_page_is_fetched_again_by_the_next_poll(forum: ForumServer, store: Store) -> None:
    thread = forum.add_thread("Harbour ferry", ("Quill", "One."), ("Quill", "Two."))  # page 1 of 3 posts
    service = RecordingService(store)
    async with running(watcher(store, service, settings(thread))):
        await eventually(lambda: len(service.new) == 2)
        forum.fail(500, path=r".*/page-2")
        added = [thread.add_post("Troll", f"Idiot number {n}.") for n in range(3)]  # page 2 appears
        # Page 1 (full now) must not be answered 304 for ever: the walk to page 2 resumes after the error.
        await eventually(lambda: len(service.new) == 5)
    assert service.new[2:] == ids(*added)


async def test_by_default_a_watch_on_a_private_address_is_refused_and_says_why(
    forum: ForumServer, store: Store
) -> None:
    thread = forum.add_thread("Harbour ferry", ("Quill", "The night ferry stops."))
    service = RecordingService(store)
    async with running(ForumWatcher(store, service, settings(thread), rng=random.Random(7))):
        [watch] = await eventually(store.watches)
        state = await eventually(lambda: _errored(store, watch.id))
    assert "127.0.0.1 is not a public address" in (state.last_error or "")
    assert not forum.requests and service.calls == 0

"""Watching XenForo 2 threads: poll each at its interval and feed new and edited posts to the service.

Each watched thread (a `xenforo` watch in the store: from the settings or `/modq watch add`) is polled by
its own task. A poll asks for the newest page it knows with If-None-Match / If-Modified-Since; a 304 ends
it. A page is parsed with the XenForo parser, and its posts that this process has not yet fed with the same
content go to `ModerationService.review` (which skips what the store holds already, so a restart alerts
nothing twice). Then it follows the "next page" links to the thread's newest page, at most
`max_pages_per_poll` pages per poll, saving the watch state (page URL, ETag, Last-Modified, newest post)
after each page; the validators only of a page without a next page, so a walk cut short by an error or the
page limit goes on at the next poll. A thread seen for the first time is read from its newest page: older
pages are history.
Posts edited on pages before the newest are not seen (that would mean polling every page).

Every request waits for the host's budget (`HostBudget`: at most N requests in any window, shared by all
threads of the host) and names modassist in its User-Agent. A failed poll (network error, timeout, an HTTP
error, a truncated or unreadable page) backs off exponentially with jitter between the configured bounds;
a Retry-After is honoured, and a 429 or 503 pauses the whole host. A truncated page is never fed: its last
post would be stored cut short, and "edited" when the rest arrives. The next poll time is stored too, so a
restart keeps a back-off.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING
from urllib.parse import urljoin

import lxml.html
from lxml import etree

from bot.errors import ParseError
from bot.intake import RetryPolicy, store_reliably
from bot.service import ModerationService
from bot.sources.fetch import guarded_connector
from bot.store import Store, Watch, WatchState, post_content_hash
from bot.watchers._http import (
    Answer,
    Backoff,
    FetchError,
    HostBudget,
    PageError,
    Sleep,
    WatchError,
    conditional_get,
    host_of,
    is_whole_page,
    without_fragment,
)
from bot.watchers.state import FORUM_THREAD, ensure_watch, thread_url
from classifiers.thread import Thread
from config.settings import ForumWatchSettings

if TYPE_CHECKING:
    import aiohttp

log = logging.getLogger(__name__)

_MEMORY_POSTS = 400  # content hashes of fed posts kept per thread (a page holds 20 or so)
_HOST_WIDE = frozenset([429, 503])  # statuses about the whole host, not one thread
_GONE = frozenset([404, 410])
_CLASS = "contains(concat(' ', normalize-space(@class), ' '), ' {} ')"


@dataclass(frozen=True, slots=True)
class Pages:
    """Where a page sits in its thread: its number and the last page's, and the URLs to go on with."""

    current: int | None
    last: int | None
    next_url: str | None
    last_url: str | None


def read_pages(html: str, page_url: str) -> Pages:
    """The pagination of a XenForo 2 page (`link[rel=next]`, `.pageNav`): one page when there is none."""
    try:
        doc = lxml.html.document_fromstring(html)
    except (etree.ParserError, ValueError):
        return Pages(None, None, None, None)
    next_href = doc.xpath("//head/link[@rel='next']/@href") or doc.xpath(
        f"//a[{_CLASS.format('pageNav-jump--next')}]/@href"
    )
    current: int | None = None
    numbered: dict[int, str] = {}
    for item in doc.xpath(f"//li[{_CLASS.format('pageNav-page')}]"):
        anchor = item.find("a")
        if anchor is None:
            continue
        text = (anchor.text_content() or "").strip().replace(",", "")
        if not text.isdigit() or len(text) > 9:
            continue
        number = int(text)
        href = anchor.get("href")
        if href:
            numbered[number] = without_fragment(urljoin(page_url, href))
        if "pageNav-page--current" in (item.get("class") or "").split():
            current = number
    last = max(numbered, default=None)
    return Pages(
        current=current if current is not None else (1 if numbered else None),
        last=last,
        next_url=without_fragment(urljoin(page_url, str(next_href[0]))) if next_href else None,
        last_url=numbered.get(last) if last is not None else None,
    )


@dataclass(frozen=True, slots=True)
class _Page:
    answer: Answer
    thread: Thread
    pages: Pages


class ForumWatcher:
    """Polls the watched XenForo threads (a `Watcher` of `modassist run`). `wake()` re-reads the watches."""

    name = "forum"

    def __init__(
        self,
        store: Store,
        service: ModerationService,
        settings: ForumWatchSettings,
        *,
        allow_private_addresses: bool = False,
        session: aiohttp.ClientSession | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Sleep = asyncio.sleep,
        rng: random.Random | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        """By default the watcher opens its own session while it runs, which connects to public addresses
        only unless `allow_private_addresses`. `session`, `clock` (monotonic seconds), `sleep` and `rng` are
        for tests."""
        self.allow_private_addresses = allow_private_addresses
        self.retry = retry or RetryPolicy()
        self.store = store
        self.service = service
        self.settings = settings
        self._session = session
        self._clock = clock
        self._sleep = sleep
        self._rng = rng or random.Random()
        self.budget = HostBudget(
            settings.host_requests, settings.host_window_seconds, clock=clock, sleep=sleep
        )
        self.backoff = Backoff(
            settings.backoff_min_seconds,
            settings.backoff_max_seconds,
            settings.retry_after_max_seconds,
            self._rng,
        )
        self._changed = asyncio.Event()
        self._tasks: dict[int, tuple[Watch, asyncio.Task[None]]] = {}
        self._memory: dict[int, dict[str, str]] = {}  # watch id -> post id -> content hash fed

    def wake(self) -> None:
        """Re-read the watches now (after `/modq watch add` or `remove`)."""
        self._changed.set()

    @property
    def watching(self) -> list[Watch]:
        """The watches being polled."""
        return [watch for watch, _ in self._tasks.values()]

    async def run(self, stop: asyncio.Event) -> None:
        """Watch until `stop` is set (or the task is cancelled): start and stop a task per watched thread."""
        import aiohttp

        for thread in self.settings.threads:
            try:
                await ensure_watch(self.store, FORUM_THREAD, thread_url(thread.url), thread.interval_seconds)
            except Exception:
                log.exception("could not add %s from the settings; watching what is stored", thread.url)
        own_session = self._session is None
        if own_session:
            connector = guarded_connector(allow_private=self.allow_private_addresses, limit_per_host=4)
            self._session = aiohttp.ClientSession(connector=connector)
        try:
            while not stop.is_set():
                self._changed.clear()
                await self._reconcile()
                await _first(stop.wait(), self._changed.wait(), timeout=self.settings.refresh_seconds)
        finally:
            tasks = [task for _, task in self._tasks.values()]
            for task in tasks:
                task.cancel()
            try:
                await asyncio.gather(*tasks, return_exceptions=True)
            finally:
                # Even when a second cancellation cuts the wait short, the session is closed: left open,
                # aiohttp reports "Unclosed client session" / "Unclosed connector" at exit.
                self._tasks.clear()
                if own_session and self._session is not None:
                    session, self._session = self._session, None
                    await session.close()

    async def _reconcile(self) -> None:
        try:
            wanted = {w.id: w for w in await self.store.watches() if w.kind == FORUM_THREAD}
        except Exception:
            log.exception("could not read the watched threads; keeping the current ones")
            return
        for watch_id, (watch, task) in list(self._tasks.items()):
            if wanted.get(watch_id) != watch or task.done():
                task.cancel()
                del self._tasks[watch_id]
                if watch_id not in wanted:
                    self._memory.pop(watch_id, None)
                    log.info("stopped watching %s", watch.target)
        for watch_id, watch in wanted.items():
            if watch_id not in self._tasks:
                log.info("watching %s every %.0f s", watch.target, self.interval(watch))
                task = asyncio.create_task(self._watch(watch), name=f"modassist-watch-{watch_id}")
                self._tasks[watch_id] = (watch, task)

    def interval(self, watch: Watch) -> float:
        """Seconds between polls of `watch` (never below the configured minimum)."""
        interval = watch.interval_seconds or self.settings.default_interval_seconds
        return max(interval, self.settings.min_interval_seconds)

    async def _watch(self, watch: Watch) -> None:
        state = await self.store.watch_state(watch.id)
        if state.next_poll_at is not None:
            # A restart keeps the schedule, and with it a back-off or a Retry-After.
            longest = max(self.interval(watch), self.settings.backoff_max_seconds)
            pending = (state.next_poll_at - datetime.now(UTC)).total_seconds()
            if pending > 0:
                await self._sleep(min(pending, longest))
        while True:
            delay = await self.poll(watch)
            await self._sleep(delay)

    async def poll(self, watch: Watch) -> float:
        """Poll one thread once; returns the seconds to wait before the next poll. Never raises but for
        cancellation: failures are logged, counted in the watch state and backed off."""
        state = await self.store.watch_state(watch.id)
        started = datetime.now(UTC)
        try:
            state = await self._read(watch, state)
        except Exception as exc:
            # Pages read before the failure are saved already: keep that progress.
            with contextlib.suppress(Exception):
                state = await self.store.watch_state(watch.id)
            errors = state.consecutive_errors + 1
            retry_after = exc.retry_after if isinstance(exc, FetchError) else None
            delay = self.backoff.delay(errors, retry_after)
            if isinstance(exc, FetchError) and exc.status in _HOST_WIDE:
                self.budget.pause(host_of(exc.url), delay)
            if isinstance(exc, WatchError):
                detail = exc.detail
                log.warning("%s: %s (error %d, next try in %.1f s)", watch.target, detail, errors, delay)
            else:
                detail = f"internal error: {type(exc).__name__}: {exc}"[:300]
                log.exception("%s: polling failed (error %d)", watch.target, errors)
            state = replace(
                state,
                last_polled_at=started,
                consecutive_errors=errors,
                last_error=detail,
                next_poll_at=datetime.now(UTC) + timedelta(seconds=delay),
            )
        else:
            delay = self.interval(watch) * self._rng.uniform(0.9, 1.0)  # spread threads; never later
            now = datetime.now(UTC)
            state = replace(
                state,
                last_polled_at=started,
                last_success_at=now,
                consecutive_errors=0,
                last_error=None,
                next_poll_at=now + timedelta(seconds=delay),
            )
        try:
            await self.store.save_watch_state(state)
        except Exception:
            log.exception("%s: could not save the watch state", watch.target)
        return delay

    async def _read(self, watch: Watch, state: WatchState) -> WatchState:
        """Fetch the newest known page and the pages after it; feed their posts; return the new state."""
        memory = self._memory.setdefault(watch.id, {})
        first_sight = state.last_page_url is None
        url = state.last_page_url or watch.target
        try:
            answer = await self._get(url, state.etag, state.last_modified)
        except FetchError as exc:
            if first_sight or exc.status not in _GONE:
                raise
            # The newest page we knew is gone (posts deleted, thread moved): start again from the thread URL.
            log.info("%s: %s is gone (HTTP %s); reading the thread again", watch.target, url, exc.status)
            state = replace(state, last_page_url=None, etag=None, last_modified=None)
            await self.store.save_watch_state(state)
            return await self._read(watch, state)
        if answer.text is None:
            return state  # 304: nothing new
        page = await self._parse(answer)
        if first_sight and page.pages.last_url and (page.pages.last or 0) > (page.pages.current or 1):
            page = await self._parse(await self._get(page.pages.last_url, None, None))
        state = await self._take(watch, state, page, memory)
        for _ in range(self.settings.max_pages_per_poll - 1):
            following = page.pages.next_url
            if following is None or following == page.answer.url:
                break
            page = await self._parse(await self._get(following, None, None))
            state = await self._take(watch, state, page, memory)
        return state

    async def _take(self, watch: Watch, state: WatchState, page: _Page, memory: dict[str, str]) -> WatchState:
        """Feed the page's new and edited posts; then remember the page as the newest read."""
        thread = page.thread
        hashes = {post.id: post_content_hash(post) for post in thread.posts}
        fresh = tuple(post for post in thread.posts if memory.get(post.id) != hashes[post.id])
        if fresh:
            # The thread's URL is the watched one, whatever page the posts came from.
            # Stored (or, failing that, stored as unreviewable) before the state moves past the page.
            review = await store_reliably(
                self.service, replace(thread, posts=fresh, url=watch.target), policy=self.retry
            )
            assert review is not None  # no stop event: a stopped watcher is cancelled instead
            if review.new or review.edited:
                log.info(
                    "%s: %d new and %d edited posts reviewed, %d alerts",
                    watch.target,
                    review.new,
                    review.edited,
                    len(review.alert_ids),
                )
            for post in fresh:
                memory.pop(post.id, None)
                memory[post.id] = hashes[post.id]
            while len(memory) > _MEMORY_POSTS:
                del memory[next(iter(memory))]
        # A page with a next page is asked for again in full: a 304 would end the walk before the next page.
        newest = page.pages.next_url is None
        state = replace(
            state,
            last_page_url=page.answer.url,
            etag=page.answer.etag if newest else None,
            last_modified=page.answer.last_modified if newest else None,
            last_post_id=thread.posts[-1].id if thread.posts else state.last_post_id,
        )
        await self.store.save_watch_state(state)
        return state

    async def _get(self, url: str, etag: str | None, last_modified: str | None) -> Answer:
        if self._session is None:
            raise RuntimeError("the forum watcher is not running")
        await self.budget.acquire(host_of(url))
        return await conditional_get(
            self._session,
            url,
            etag=etag,
            last_modified=last_modified,
            timeout=self.settings.timeout_seconds,
            max_bytes=self.settings.max_page_bytes,
        )

    async def _parse(self, answer: Answer) -> _Page:
        text = answer.text or ""
        if not is_whole_page(text):
            raise PageError(answer.url, "the page was cut off before </html>")

        def parse() -> _Page:
            from bot.sources.xenforo import parse_xenforo  # the HTML parser: only once a page is read

            try:
                thread = parse_xenforo(text, answer.url, base_url=answer.url)
            except ParseError as exc:
                raise PageError(answer.url, exc.detail or str(exc)) from None
            return _Page(answer, thread, read_pages(text, answer.url))

        return await asyncio.to_thread(parse)  # lxml work off the event loop


async def _first(*waits: Awaitable[object], timeout: float) -> None:  # noqa: ASYNC109 - a refresh period, not a deadline
    """Wait for the first of some awaitables (or `timeout`); cancel the rest."""
    tasks = [asyncio.ensure_future(w) for w in waits]
    try:
        await asyncio.wait(tasks, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

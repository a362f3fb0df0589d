"""The fake forum's HTTP side: the server, its scripted answers and the requests it recorded."""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any

from aiohttp import web

from tests.fakes.forum_server.thread import ForumThread
from tests.fakes.serving import listen
from tests.fakes.waiting import notify, wait_until

_PAGE_PATH = re.compile(r"^/threads/(?P<slug>[a-z0-9-]+)\.(?P<id>\d+)/(?:page-(?P<page>\d+))?$")


@dataclass(frozen=True, slots=True)
class ForumRequest:
    """One request the forum received."""

    path: str
    headers: dict[str, str]
    at: float  # time.monotonic() on arrival
    status: int


@dataclass(slots=True)
class _Scripted:
    kind: str  # "status", "hold", "truncate", "cut"
    pattern: re.Pattern[str]
    times: int
    status: int = 200
    retry_after: str | None = None
    release: asyncio.Event | None = None


class ForumServer:
    """The fake forum. `await start()`, add threads and posts, `await close()`."""

    def __init__(
        self,
        *,
        posts_per_page: int = 20,
        etag: bool = True,
        last_modified: bool = True,
        first_post_id: int = 1001,
    ) -> None:
        self.posts_per_page = posts_per_page
        self.send_etag = etag
        self.send_last_modified = last_modified
        self.threads: dict[int, ForumThread] = {}
        self.requests: list[ForumRequest] = []
        self.post_ids = itertools.count(first_post_id)
        self._thread_ids = itertools.count(1)
        self._script: list[_Scripted] = []
        self._holds: list[asyncio.Event] = []
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self.port = 0

    # -- lifecycle -----------------------------------------------------------------------------------

    async def start(self) -> ForumServer:
        """Listen on a free port of 127.0.0.1."""
        app = web.Application()
        app.router.add_get("/{tail:.*}", self._handle)
        self._runner, self.port = await listen(app, shutdown_timeout=1.0)
        return self

    async def close(self) -> None:
        """Release held answers and stop listening."""
        for event in self._holds:
            event.set()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def base_url(self) -> str:
        """http://127.0.0.1:PORT"""
        return f"http://127.0.0.1:{self.port}"

    # -- test controls -------------------------------------------------------------------------------

    def add_thread(self, title: str, *posts: tuple[str, str]) -> ForumThread:
        """A new thread with `(author, text)` posts."""
        thread_id = next(self._thread_ids)
        slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-") or "thread"
        thread = ForumThread(self, thread_id, slug, title)
        self.threads[thread_id] = thread
        for author, text in posts:
            thread.add_post(author, text)
        return thread

    def fail(self, status: int, *, times: int = 1, retry_after: str | None = None, path: str = ".*") -> None:
        """Answer the next `times` requests whose path matches `path` with `status` (and Retry-After)."""
        self._script.append(_Scripted("status", re.compile(path), times, status, retry_after))

    def hold(self, *, times: int = 1, path: str = ".*") -> asyncio.Event:
        """Answer the next matching request only once the returned event is set (or at close)."""
        event = asyncio.Event()
        self._holds.append(event)
        self._script.append(_Scripted("hold", re.compile(path), times, release=event))
        return event

    def truncate(self, *, times: int = 1, path: str = ".*") -> None:
        """Serve the next matching pages cut off in the middle of their last post (a complete HTTP answer)."""
        self._script.append(_Scripted("truncate", re.compile(path), times))

    def cut_connection(self, *, times: int = 1, path: str = ".*") -> None:
        """Drop the connection halfway through the body of the next matching pages."""
        self._script.append(_Scripted("cut", re.compile(path), times))

    def requests_to(self, path: str = ".*") -> list[ForumRequest]:
        """Recorded requests whose path matches the regex `path`, oldest first."""
        pattern = re.compile(path)
        return [r for r in self.requests if pattern.fullmatch(r.path)]

    async def wait_until(self, predicate: Callable[[], Any], timeout: float = 20.0) -> Any:  # noqa: ASYNC109
        """Wait until `predicate()` is truthy (checked after every request)."""
        return await wait_until(self._changed, predicate, timeout)

    async def wait_for_requests(
        self,
        count: int,
        path: str = ".*",
        timeout: float = 20.0,  # noqa: ASYNC109
    ) -> list[ForumRequest]:
        """Wait until `count` requests matching `path` have been answered; returns them all."""
        await self.wait_until(lambda: len(self.requests_to(path)) >= count, timeout)
        return self.requests_to(path)

    # -- HTTP ----------------------------------------------------------------------------------------

    def _scripted(self, path: str) -> _Scripted | None:
        for item in self._script:
            if item.times > 0 and item.pattern.fullmatch(path):
                item.times -= 1
                if item.times == 0:
                    self._script.remove(item)
                return item
        return None

    async def _record(self, request: web.Request, status: int, arrived: float) -> None:
        self.requests.append(ForumRequest(request.path, dict(request.headers), arrived, status))
        await notify(self._changed)

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        arrived = time.monotonic()
        scripted = self._scripted(request.path)
        if scripted is not None and scripted.kind == "hold":
            assert scripted.release is not None
            await scripted.release.wait()
        if scripted is not None and scripted.kind == "status":
            headers = {"Retry-After": scripted.retry_after} if scripted.retry_after is not None else {}
            await self._record(request, scripted.status, arrived)
            return web.Response(status=scripted.status, text="busy", headers=headers)
        match = _PAGE_PATH.match(request.path)
        thread = self.threads.get(int(match.group("id"))) if match else None
        if match is None or thread is None or match.group("slug") != thread.slug:
            await self._record(request, 404, arrived)
            return web.Response(status=404, text="not found")
        page = int(match.group("page") or 1)
        if page > thread.pages or (match.group("page") is not None and page < 2):
            await self._record(request, 301, arrived)
            raise web.HTTPMovedPermanently(thread.page_path(thread.pages))
        document, changed = thread.render(page)
        etag = '"' + hashlib.sha256(document.encode()).hexdigest()[:20] + '"'
        headers = {}
        if self.send_etag:
            headers["ETag"] = etag
        if self.send_last_modified:
            headers["Last-Modified"] = format_datetime(changed, usegmt=True)
        if self._not_modified(request, etag, changed):
            await self._record(request, 304, arrived)
            return web.Response(status=304, headers=headers)
        if scripted is not None and scripted.kind == "truncate":
            document = document[: document.rfind('<div class="bbWrapper">') + 40]
        body = document.encode()
        if scripted is not None and scripted.kind == "cut":
            response = web.StreamResponse(headers={**headers, "Content-Type": "text/html; charset=utf-8"})
            response.content_length = len(body)
            await response.prepare(request)
            await response.write(body[: len(body) // 2])
            await self._record(request, 200, arrived)
            assert request.transport is not None
            request.transport.close()
            return response
        await self._record(request, 200, arrived)
        return web.Response(body=body, content_type="text/html", charset="utf-8", headers=headers)

    def _not_modified(self, request: web.Request, etag: str, changed: datetime) -> bool:
        if self.send_etag and (match := request.headers.get("If-None-Match")):
            return etag in [tag.strip() for tag in match.split(",")]
        if self.send_last_modified and (since := request.headers.get("If-Modified-Since")):
            try:
                return changed <= parsedate_to_datetime(since)
            except (TypeError, ValueError):
                return False
        return False

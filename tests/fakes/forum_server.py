"""A local XenForo 2 forum on 127.0.0.1 for the watcher tests: threads that grow while the tests run.

Pages are written in the XenForo 2 markup the parser reads (`article.message--post`, `.bbWrapper`, quote
blocks with `data-quote` / `data-source`, `link[rel=canonical]`, the "#N" post links) and paginated the
XenForo way: `/threads/<slug>.<id>/` is page 1, `/threads/<slug>.<id>/page-N` the others, with a
`.pageNav` and `link[rel=next]`; a page past the last redirects to the last. Posts link to their permalink
`/threads/<slug>.<id>/post-<post id>`.

Answers carry an ETag and a Last-Modified (either can be switched off) and honour If-None-Match and
If-Modified-Since with 304. Tests script the next answers: `fail(status, retry_after=...)`, `hold()` (an
answer that waits until released: a slow server), `truncate()` (the page cut off mid-post, served whole at
HTTP level) and `cut_connection()` (the connection dropped mid-body). Every request is recorded with its
headers, the time it arrived (monotonic) and the status it got.
"""

from __future__ import annotations

import asyncio
import hashlib
import html
import itertools
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any

from aiohttp import web

_PAGE_PATH = re.compile(r"^/threads/(?P<slug>[a-z0-9-]+)\.(?P<id>\d+)/(?:page-(?P<page>\d+))?$")


@dataclass(slots=True)
class ForumPost:
    """A post of a fake thread."""

    id: int
    author: str
    text: str
    quote: tuple[str, int, str] | None = None  # (author, post id, quoted text)
    changed_at: datetime = field(default_factory=lambda: datetime.now(UTC))


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


class ForumThread:
    """A thread of the fake forum; `add_post` and `edit_post` change what its pages show."""

    def __init__(self, forum: ForumServer, thread_id: int, slug: str, title: str) -> None:
        self.forum = forum
        self.id = thread_id
        self.slug = slug
        self.title = title
        self.posts: list[ForumPost] = []
        self.changed_at = datetime.now(UTC) - timedelta(days=1)

    @property
    def path(self) -> str:
        """`/threads/<slug>.<id>/`"""
        return f"/threads/{self.slug}.{self.id}/"

    @property
    def url(self) -> str:
        """The thread's URL (page 1)."""
        return self.forum.base_url + self.path

    def page_path(self, page: int) -> str:
        """The path of page `page` (1-based)."""
        return self.path if page == 1 else f"{self.path}page-{page}"

    def page_url(self, page: int) -> str:
        """The URL of page `page`."""
        return self.forum.base_url + self.page_path(page)

    def permalink(self, post_id: int) -> str:
        """A post's permalink, as the forum links it."""
        return f"{self.url}post-{post_id}"

    @property
    def pages(self) -> int:
        """How many pages the thread has."""
        return max(1, -(-len(self.posts) // self.forum.posts_per_page))

    def add_post(self, author: str, text: str, *, quote: int | None = None) -> int:
        """Append a post (quoting post `quote` whole, if given); returns its id."""
        post_id = next(self.forum.post_ids)
        quoted = None
        if quote is not None:
            source = self.post(quote)
            quoted = (source.author, source.id, source.text)
        self._touch()
        self.posts.append(ForumPost(post_id, author, text, quoted, self.changed_at))
        return post_id

    def edit_post(self, post_id: int, text: str) -> None:
        """Change a post's text."""
        post = self.post(post_id)
        self._touch()
        post.text = text
        post.changed_at = self.changed_at

    def post(self, post_id: int) -> ForumPost:
        """The post with this id."""
        return next(p for p in self.posts if p.id == post_id)

    def _touch(self) -> None:
        # Last-Modified has whole seconds: every change moves the clock on by one, so a change is never
        # hidden behind an If-Modified-Since of the same second.
        self.changed_at = max(
            datetime.now(UTC).replace(microsecond=0), self.changed_at + timedelta(seconds=1)
        )

    def render(self, page: int) -> tuple[str, datetime]:
        """Page `page` as XenForo 2 HTML, and when its content last changed."""
        per_page = self.forum.posts_per_page
        shown = self.posts[(page - 1) * per_page : page * per_page]
        position = (page - 1) * per_page
        articles = "\n".join(self._article(post, position + n) for n, post in enumerate(shown, start=1))
        head_links = [f'<link rel="canonical" href="{self.page_url(page)}" />']
        if page < self.pages:
            head_links.append(f'<link rel="next" href="{self.page_path(page + 1)}" />')
        if page > 1:
            head_links.append(f'<link rel="prev" href="{self.page_path(page - 1)}" />')
        nav = self._page_nav(page)
        # The pagination belongs to the page: a new page makes the previous one change too.
        changed = max([p.changed_at for p in shown] or [self.changed_at])
        if page < self.pages:
            changed = max(changed, self.posts[page * per_page].changed_at)
        title = html.escape(self.title)
        document = f"""<!DOCTYPE html>
<html id="XF" lang="en-US" dir="LTR" data-xf="2.2" data-app="public" data-template="thread_view"
 data-content-key="thread-{self.id}" class="has-no-js template-thread_view">
<head>
<meta charset="utf-8" />
<title>{title} | Fake Forum</title>
{"".join(head_links)}
<meta property="og:title" content="{title}" />
</head>
<body data-template="thread_view">
<div class="p-pageWrapper" id="top">
<div class="p-body-header"><div class="p-title"><h1 class="p-title-value">{title}</h1></div></div>
{nav}
<div class="block block--messages" data-type="post">
<div class="block-container lbContainer"><div class="block-body js-replyNewMessageContainer">
{articles}
</div></div></div>
{nav}
</div>
</body>
</html>
"""
        return document, changed

    def _page_nav(self, page: int) -> str:
        if self.pages == 1:
            return ""
        items = []
        for number in range(1, self.pages + 1):
            current = " pageNav-page--current" if number == page else ""
            items.append(
                f'<li class="pageNav-page{current}"><a href="{self.page_path(number)}">{number}</a></li>'
            )
        prev = f'<a href="{self.page_path(page - 1)}" class="pageNav-jump pageNav-jump--prev">Prev</a>'
        following = f'<a href="{self.page_path(page + 1)}" class="pageNav-jump pageNav-jump--next">Next</a>'
        return (
            '<div class="block-outer"><nav class="pageNavWrapper"><div class="pageNav">'
            f'{prev if page > 1 else ""}<ul class="pageNav-main">{"".join(items)}</ul>'
            f"{following if page < self.pages else ''}</div></nav></div>"
        )

    def _article(self, post: ForumPost, position: int) -> str:
        author = html.escape(post.author, quote=True)
        link = f"{self.path}post-{post.id}"
        quote = ""
        if post.quote is not None:
            q_author, q_id, q_text = (html.escape(str(v), quote=True) for v in post.quote)
            quote = (
                f'<blockquote data-attributes="member: 1" data-quote="{q_author}" data-source="post: {q_id}"'
                ' class="bbCodeBlock bbCodeBlock--expandable bbCodeBlock--quote js-expandWatch">'
                f'<div class="bbCodeBlock-title"><a href="/goto/post?id={q_id}"'
                f' class="bbCodeBlock-sourceJump">{q_author} said:</a></div>'
                f'<div class="bbCodeBlock-content"><div class="bbCodeBlock-expandContent js-expandContent">'
                f"{q_text}</div></div></blockquote>"
            )
        text = html.escape(post.text).replace("\n", "<br />\n")
        stamp = post.changed_at.strftime("%Y-%m-%dT%H:%M:%S+0000")
        return f"""<article class="message message--post js-post js-inlineModContainer"
 data-author="{author}" data-content="post-{post.id}" id="js-post-{post.id}">
<span class="u-anchorTarget" id="post-{post.id}"></span>
<div class="message-inner">
<div class="message-cell message-cell--user"><section class="message-user">
<div class="message-userDetails"><h4 class="message-name">
<a href="/members/{author}.1/" class="username">{author}</a></h4>
<h5 class="userTitle message-userTitle">Member</h5></div></section></div>
<div class="message-cell message-cell--main"><div class="message-main js-quickEditTarget">
<header class="message-attribution message-attribution--split">
<ul class="message-attribution-main listInline"><li class="u-concealed"><a href="{link}" rel="nofollow">
<time class="u-dt" datetime="{stamp}">{post.changed_at:%b %d, %Y}</time></a></li></ul>
<ul class="message-attribution-opposite message-attribution-opposite--list">
<li><a href="{link}" class="message-attribution-gadget" rel="nofollow">Share</a></li>
<li><a href="{link}" rel="nofollow">#{position}</a></li></ul>
</header>
<div class="message-content js-messageContent"><div class="message-userContent lbContainer js-lbContainer">
<article class="message-body js-selectToQuote"><div itemprop="text">
<div class="bbWrapper">{quote}{text}</div>
</div><div class="js-selectToQuoteEnd">&nbsp;</div></article>
</div></div>
<footer class="message-footer"><div class="message-actionBar actionBar"><a href="/posts/{post.id}/react"
 class="reaction actionBar-action">Like</a></div></footer>
</div></div>
</div>
</article>"""


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
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        assert site._server is not None and site._server.sockets
        self.port = site._server.sockets[0].getsockname()[1]
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
        async with asyncio.timeout(timeout), self._changed:
            while not (result := predicate()):
                await self._changed.wait()
            return result

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
        async with self._changed:
            self._changed.notify_all()

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

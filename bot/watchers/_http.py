"""HTTP for the forum watcher: conditional GETs, a request budget per host, back-off with jitter.

This is the one place the watchers touch the network (tests point it at a local server). Errors:

    WatchError(ModassistError)   a poll that did not give a usable page; the watcher backs off and retries
    ├── FetchError               network error, timeout, or an HTTP status other than 200/304
    │                            (`status`, and `retry_after` in seconds when the server sent Retry-After)
    └── PageError                an answer that is not a whole thread page (truncated, not XenForo, too big)
"""

from __future__ import annotations

import asyncio
import random
import re
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

from bot.errors import FetchError as FetchError  # defined with the others
from bot.errors import PageError as PageError
from bot.errors import WatchError as WatchError
from bot.sources.addresses import refused
from bot.sources.fetch import user_agent

if TYPE_CHECKING:
    import aiohttp

Sleep = Callable[[float], Awaitable[None]]

_TEXT_TYPES = ("text/html", "application/xhtml+xml", "text/plain")
_CHUNK = 64 * 1024
_HTML_END = re.compile(r"</html\s*>", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Answer:
    """A 200 (with `text`) or a 304 (`text` None); `url` is where the page finally came from."""

    status: int
    url: str
    text: str | None
    etag: str | None
    last_modified: str | None


def host_of(url: str) -> str:
    """The budget key of a URL: scheme, host and port, lower-cased."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def without_fragment(url: str) -> str:
    """`url` without its #fragment (it never reaches the server)."""
    return urlunsplit(urlsplit(url)._replace(fragment=""))


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delay-seconds or an HTTP date); None if absent or bad."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def is_whole_page(text: str) -> bool:
    """A complete HTML page ends with `</html>`; a connection cut mid-page (or a server's truncated
    answer) does not, and its last post would be stored cut short, then "edited" when the rest arrives."""
    return _HTML_END.search(text, max(0, len(text) - 65536)) is not None


class HostBudget:
    """At most `requests` requests to a host in any `window` seconds, and none while the host is paused.

    Waiters for one host are served in turn (FIFO). `clock` is monotonic seconds.
    """

    def __init__(
        self,
        requests: int,
        window: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if requests < 1 or window <= 0:
            raise ValueError("a budget needs at least one request in a positive window")
        self.requests = requests
        self.window = window
        self._clock = clock
        self._sleep = sleep
        self._sent: dict[str, deque[float]] = {}
        self._paused_until: dict[str, float] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    def pause(self, host: str, seconds: float) -> None:
        """Send nothing to `host` for `seconds` (a 429 or 503 with Retry-After is about the whole host)."""
        until = self._clock() + seconds
        self._paused_until[host] = max(until, self._paused_until.get(host, 0.0))

    def wait_needed(self, host: str) -> float:
        """Seconds until a request to `host` fits the budget (0 when one may go now)."""
        now = self._clock()
        sent = self._sent.setdefault(host, deque())
        while sent and sent[0] <= now - self.window:
            sent.popleft()
        wait = sent[0] + self.window - now if len(sent) >= self.requests else 0.0
        return max(wait, self._paused_until.get(host, 0.0) - now, 0.0)

    async def acquire(self, host: str) -> None:
        """Wait until a request to `host` fits the budget, and count it."""
        lock = self._locks.setdefault(host, asyncio.Lock())
        async with lock:
            while (wait := self.wait_needed(host)) > 0:
                await self._sleep(wait)
            self._sent[host].append(self._clock())


@dataclass(slots=True)
class Backoff:
    """Delays after consecutive errors: `minimum` doubling up to `maximum`, plus up to half again as jitter
    (so threads that failed together do not retry together); never shorter than a server's Retry-After."""

    minimum: float
    maximum: float
    retry_after_max: float
    rng: random.Random

    def delay(self, errors: int, retry_after: float | None = None) -> float:
        """Seconds to wait after the `errors`-th consecutive error (1 for the first)."""
        base = min(self.maximum, self.minimum * 2.0 ** min(max(errors, 1) - 1, 60))
        delay = min(self.maximum, base + self.rng.uniform(0.0, base / 2))
        if retry_after is not None:
            delay = max(delay, min(retry_after, self.retry_after_max))
        return delay


async def conditional_get(
    session: aiohttp.ClientSession,
    url: str,
    *,
    etag: str | None = None,
    last_modified: str | None = None,
    timeout: float,  # noqa: ASYNC109 - aiohttp's per-request limit
    max_bytes: int,
) -> Answer:
    """GET `url` (with If-None-Match / If-Modified-Since when validators are given); FetchError unless the
    answer is a 304 or a 200 with a text page of at most `max_bytes`."""
    import aiohttp

    headers = {"User-Agent": user_agent(), "Accept": "text/html, application/xhtml+xml;q=0.9, */*;q=0.1"}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    try:
        async with session.get(
            url, headers=headers, timeout=aiohttp.ClientTimeout(total=timeout), max_redirects=5
        ) as response:
            final_url = without_fragment(str(response.url))
            if response.status == 304:
                return Answer(304, final_url, None, etag, last_modified)
            if response.status != 200:
                raise FetchError(
                    url,
                    f"HTTP {response.status} {response.reason or ''}".strip(),
                    status=response.status,
                    retry_after=parse_retry_after(response.headers.get("Retry-After")),
                )
            content_type = response.content_type if response.headers.get("Content-Type") else ""
            if content_type and content_type not in _TEXT_TYPES:
                raise PageError(url, f"the server sent {content_type}, not a thread page")
            chunks: list[bytes] = []
            size = 0
            async for chunk in response.content.iter_chunked(_CHUNK):
                size += len(chunk)
                if size > max_bytes:
                    raise PageError(url, f"the page is larger than {max_bytes} bytes")
                chunks.append(chunk)
            charset = response.charset or "utf-8"
            new_etag = response.headers.get("ETag")
            new_last_modified = response.headers.get("Last-Modified")
    except (TimeoutError, aiohttp.ClientError) as exc:
        detail = "timed out" if isinstance(exc, TimeoutError) else (str(exc) or type(exc).__name__)
        raise FetchError(url, refused(exc) or detail[:200]) from None
    try:
        text = b"".join(chunks).decode(charset, errors="replace")
    except LookupError:
        raise PageError(url, f"unknown charset {charset!r}") from None
    return Answer(200, final_url, text, new_etag, new_last_modified)

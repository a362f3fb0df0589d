"""Reading threads from a file, stdin or a URL: the functions `bot.sources` exports (see its docstring)."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from bot.errors import ParseError
from bot.sources.detect import EXPECTED_ANY, MAX_INPUT_BYTES, decode, parse_text
from bot.sources.fetch import DEFAULT_TIMEOUT, Page, fetch_page, fetch_page_async, is_url
from classifiers.thread import Thread

if TYPE_CHECKING:
    import aiohttp

STDIN = "-"


def load_threads(
    path_or_url: str, *, max_bytes: int = MAX_INPUT_BYTES, timeout: float = DEFAULT_TIMEOUT
) -> list[Thread]:
    """Every thread in a file, stdin ("-") or an http(s) URL, in input order."""
    if is_url(path_or_url):
        page = fetch_page(path_or_url, timeout=timeout, max_bytes=max_bytes)
        return _page_threads(page, path_or_url, max_bytes)
    source = "<stdin>" if path_or_url == STDIN else path_or_url
    return parse_bytes(_read_bytes(path_or_url, source, max_bytes), source, max_bytes=max_bytes)


async def fetch_threads(
    url: str,
    *,
    session: aiohttp.ClientSession | None = None,
    timeout: float = DEFAULT_TIMEOUT,  # noqa: ASYNC109 - aiohttp's per-request limit, as in fetch_page
    max_bytes: int = MAX_INPUT_BYTES,
) -> list[Thread]:
    """Every thread of an http(s) URL, fetched with aiohttp (through `session` if given)."""
    page = await fetch_page_async(url, session=session, timeout=timeout, max_bytes=max_bytes)
    return _page_threads(page, url, max_bytes)


def parse_bytes(data: bytes, source: str, *, max_bytes: int = MAX_INPUT_BYTES) -> list[Thread]:
    """Every thread in `data` (a file's bytes) read from `source`, in input order."""
    return parse_text(decode(data, source), source, max_chars=max_bytes)


def _page_threads(page: Page, url: str, max_bytes: int) -> list[Thread]:
    return parse_text(page.text, url, base_url=page.url, max_chars=max_bytes)


def load_thread(
    path_or_url: str, *, max_bytes: int = MAX_INPUT_BYTES, timeout: float = DEFAULT_TIMEOUT
) -> Thread:
    """The thread in a file, stdin ("-") or an http(s) URL; for JSON Lines with several, the first one."""
    return load_threads(path_or_url, max_bytes=max_bytes, timeout=timeout)[0]


def _read_bytes(path: str, source: str, max_bytes: int) -> bytes:
    """At most `max_bytes` of the file (or stdin); ParseError if unreadable or larger."""
    try:
        if path == STDIN:
            stream = getattr(sys.stdin, "buffer", None)
            if stream is None:  # a text-only stdin (replaced in tests or embedding)
                data = sys.stdin.read(max_bytes + 1).encode("utf-8", "surrogateescape")
            else:
                data = stream.read(max_bytes + 1)
        else:
            with open(path, "rb") as handle:  # noqa: PTH123 - a plain path string from the command line
                data = handle.read(max_bytes + 1)
    except (OSError, ValueError) as exc:
        detail = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        raise ParseError(source, "a readable file", detail) from None
    if len(data) > max_bytes:
        raise ParseError(source, f"an input of at most {max_bytes} bytes", "it is larger")
    if not data.strip():
        raise ParseError(source, EXPECTED_ANY, "the input is empty")
    return data

"""Fetching a live thread page over http(s): the one place the sources touch the network.

`fetch_page` (urllib, blocking: for the command line) and `fetch_page_async` (aiohttp: for the bot's
event loop) behave alike: they send `User-Agent: modassist/<version> (+https://github.com/modassist)`,
give up after `timeout` seconds, refuse bodies over `max_bytes`, accept only text-like content types, and
turn every failure (bad URL, network error, HTTP status other than 2xx, binary content, undecodable
text) into a ParseError naming the URL.

Pages fetched for the bot (`/modq scan`, forum watches) go through `guarded_connector`: unless
`bot.fetch_private_addresses` is on, it refuses to connect to any address that is not public (loopback,
private networks, link-local, cloud metadata), whatever the URL's host name resolves to and wherever a
redirect points, so a moderator cannot make the bot read internal services (`bot.sources.addresses` says
which addresses are public).
"""

from __future__ import annotations

import functools
import http.client
import socket
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import Message
from importlib import metadata
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from bot.errors import ParseError
from bot.sources.addresses import IPNetwork, check_address, refused
from bot.sources.addresses import PrivateAddressError as PrivateAddressError  # where callers catch it
from bot.sources.detect import MAX_INPUT_BYTES
from bot.urls import web_url

if TYPE_CHECKING:
    import aiohttp

DEFAULT_TIMEOUT = 20.0
EXPECTED = "a reachable thread page"

_TEXT_TYPES = frozenset(
    [
        "application/json",
        "application/x-ndjson",
        "application/jsonl",
        "application/xhtml+xml",
        "application/xml",
    ]
)
_CHUNK = 64 * 1024


@dataclass(frozen=True, slots=True)
class Page:
    """A fetched page: the URL it finally came from (after redirects), its content type and its text."""

    url: str
    content_type: str
    text: str


@functools.cache
def user_agent() -> str:
    """The User-Agent modassist sends."""
    try:
        version = metadata.version("modassist")
    except metadata.PackageNotFoundError:
        version = "0+unknown"
    return f"modassist/{version} (+https://github.com/modassist)"


def _public_only_socket(addr_info: tuple[Any, ...], trusted: Sequence[IPNetwork] = ()) -> socket.socket:
    """aiohttp's socket factory that refuses addresses which are not public (every connection, every
    redirect, whatever DNS said), but those in `trusted` networks."""
    family, type_, proto, _, address = addr_info
    check_address(str(address[0]), trusted)
    return socket.socket(family=family, type=type_, proto=proto)


def guarded_connector(
    *, allow_private: bool, limit_per_host: int = 0, trusted: Sequence[IPNetwork] = ()
) -> aiohttp.TCPConnector:
    """A connector for pages fetched on someone's request: public addresses only unless `allow_private`;
    `trusted` networks are let through besides (one known host on a private network, or a test's server)."""
    import aiohttp

    factory = None if allow_private else functools.partial(_public_only_socket, trusted=tuple(trusted))
    return aiohttp.TCPConnector(limit_per_host=limit_per_host, socket_factory=factory)


def is_url(value: str) -> bool:
    """True for an http(s) URL (anything else is treated as a file path)."""
    return value[:8].lower().startswith(("http://", "https://"))


def fetch_page(url: str, *, timeout: float = DEFAULT_TIMEOUT, max_bytes: int = MAX_INPUT_BYTES) -> Page:
    """GET `url` and return its text; ParseError for anything that is not a readable text page."""
    _check_url(url)
    request = urllib.request.Request(url, headers={"User-Agent": user_agent(), "Accept": "text/html, */*"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            headers: Message = response.headers
            content_type = headers.get_content_type() if headers.get("Content-Type") else ""
            _check_headers(url, content_type, headers.get("Content-Length"), max_bytes)
            body = response.read(max_bytes + 1)
            final_url = response.geturl() or url
    except urllib.error.HTTPError as exc:
        exc.close()  # the error is the response too: its connection is closed here, not when collected
        raise ParseError(url, EXPECTED, f"HTTP {exc.code} {exc.reason}") from None
    except urllib.error.URLError as exc:
        raise ParseError(url, EXPECTED, _reason(exc.reason)) from None
    except (OSError, http.client.HTTPException, ValueError) as exc:
        raise ParseError(url, EXPECTED, _reason(exc)) from None
    _check_size(url, len(body), max_bytes)
    text = _decode(url, body, headers.get_content_charset())
    return Page(url=final_url, content_type=content_type, text=text)


async def fetch_page_async(
    url: str,
    *,
    session: aiohttp.ClientSession | None = None,
    timeout: float = DEFAULT_TIMEOUT,  # noqa: ASYNC109 - aiohttp's per-request limit, as in fetch_page
    max_bytes: int = MAX_INPUT_BYTES,
) -> Page:
    """Like `fetch_page`, with aiohttp; uses `session` if given (else a short-lived one)."""
    import aiohttp  # only the bot needs it: importing it lazily keeps the command line's start fast

    _check_url(url)
    if session is None:
        async with aiohttp.ClientSession() as own_session:
            return await fetch_page_async(url, session=own_session, timeout=timeout, max_bytes=max_bytes)
    headers = {"User-Agent": user_agent(), "Accept": "text/html, */*"}
    try:
        limit = aiohttp.ClientTimeout(total=timeout)
        async with session.get(url, headers=headers, timeout=limit) as response:
            if not 200 <= response.status < 300:
                raise ParseError(url, EXPECTED, f"HTTP {response.status} {response.reason or ''}".strip())
            content_type = response.content_type if response.headers.get("Content-Type") else ""
            _check_headers(url, content_type, response.headers.get("Content-Length"), max_bytes)
            chunks: list[bytes] = []
            size = 0
            async for chunk in response.content.iter_chunked(_CHUNK):
                size += len(chunk)
                _check_size(url, size, max_bytes)
                chunks.append(chunk)
            charset = response.charset
            final_url = str(response.url)
    except (TimeoutError, aiohttp.ClientError, ValueError) as exc:
        raise ParseError(url, EXPECTED, _reason(exc)) from None
    return Page(url=final_url, content_type=content_type, text=_decode(url, b"".join(chunks), charset))


def _check_url(url: str) -> None:
    if web_url(url) is not None:
        return
    try:
        urlsplit(url)
    except ValueError as exc:
        raise ParseError(url, "an http(s) URL", str(exc)) from None
    raise ParseError(url, "an http(s) URL with a host name")


def _check_headers(url: str, content_type: str, length: str | None, max_bytes: int) -> None:
    if content_type and not (content_type.startswith("text/") or content_type in _TEXT_TYPES):
        raise ParseError(url, "a thread page (HTML or text)", f"the server sent {content_type}")
    if length and length.strip().isdigit():
        _check_size(url, int(length), max_bytes)


def _check_size(url: str, size: int, max_bytes: int) -> None:
    if size > max_bytes:
        raise ParseError(url, f"a page of at most {max_bytes} bytes", "it is larger")


def _decode(url: str, body: bytes, charset: str | None) -> str:
    if not body.strip():
        raise ParseError(url, "a thread page", "the server sent an empty page")
    try:
        return body.decode(charset or "utf-8")
    except LookupError:
        raise ParseError(url, "a page in a known text encoding", f"unknown charset {charset!r}") from None
    except UnicodeDecodeError as exc:
        raise ParseError(
            url, f"text in its declared encoding ({charset or 'utf-8'})", f"undecodable byte at {exc.start}"
        ) from None


def _reason(reason: object) -> str:
    if isinstance(reason, TimeoutError):
        return "timed out"
    if isinstance(reason, BaseException) and (refusal := refused(reason)):
        return refusal  # whole: the address it names may be long
    text = str(reason) or type(reason).__name__
    return text if len(text) <= 160 else text[:157] + "..."

"""Fetching live thread pages from a real HTTP server on 127.0.0.1 (never the internet)."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest

from bot.errors import ParseError
from bot.sources import fetch_page, fetch_page_async, load_thread
from bot.sources.fetch import PrivateAddressError, _public_only_socket, guarded_connector, user_agent
from tests import paths

FIXTURES = paths.FIXTURES / "sources"
THREAD_PAGE = (FIXTURES / "xenforo_thread.html").read_bytes()
NO_CANONICAL = (
    b'<html><body><article class="message message--post" data-author="a" data-content="post-5">'
    b'<header class="message-attribution">'
    b'<a class="message-attribution-gadget" href="/threads/t.77/post-5">s</a>'
    b'</header><div class="message-body"><div class="bbWrapper">hello</div></div></article></body></html>'
)

# path -> (status, content type, body); the handler serves these.
ROUTES: dict[str, tuple[int, str, bytes]] = {
    "/threads/harbour.4412/": (200, "text/html; charset=utf-8", THREAD_PAGE),
    "/threads/t.77/page-3": (200, "text/html", NO_CANONICAL),
    "/posts.jsonl": (200, "application/x-ndjson", (FIXTURES / "threads.jsonl").read_bytes()),
    "/missing": (404, "text/html", b"<html>not here</html>"),
    "/broken": (500, "text/html", b"<html>oops</html>"),
    "/picture.png": (200, "image/png", b"\x89PNG\r\n\x1a\n" + bytes(64)),
    "/empty": (200, "text/html", b""),
    "/latin1": (
        200,
        "text/plain; charset=iso-8859-1",
        "Caf\u00e9 talk\n\nn\u00e9o\n\nbody\n\u00a0\n".encode("latin-1"),
    ),
    "/bad-utf8": (200, "text/html; charset=utf-8", b"<html>\xff\xfe</html>"),
    "/odd-charset": (200, "text/html; charset=no-such-charset", b"<html></html>"),
    "/big": (200, "text/html", b"<html>" + b"x" * 5000 + b"</html>"),
    "/big-unannounced": (200, "text/html", b"<html>" + b"x" * 200_000 + b"</html>"),
}
# Sent without Content-Length (HTTP/1.0, the body ends when the connection closes).
UNANNOUNCED = {"/big-unannounced"}


class Handler(BaseHTTPRequestHandler):
    seen_agents: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        Handler.seen_agents.append(self.headers.get("User-Agent", ""))
        if self.path == "/redirect":
            self.send_response(302)
            self.send_header("Location", "/threads/harbour.4412/")
            self.end_headers()
            return
        if self.path == "/slow":
            time.sleep(1.0)
        status, content_type, body = ROUTES.get(self.path, (404, "text/plain", b"no route"))
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        if self.path not in UNANNOUNCED:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        # The client may give up early (size cap, timeout): that is the point of those tests.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)  # quick shutdown
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_load_thread_from_a_url(server):
    thread = load_thread(f"{server}/threads/harbour.4412/")
    assert thread.source_format == "xenforo"
    assert len(thread.posts) == 5
    # The page's canonical URL wins over the address it was fetched from.
    assert thread.posts[0].url == "https://forum.example/threads/harbour-ferry-timetable.4412/post-9001"
    assert Handler.seen_agents[-1] == user_agent()
    assert user_agent().startswith("modassist/") and user_agent().endswith("(+https://github.com/modassist)")


def test_without_a_canonical_url_permalinks_resolve_against_the_fetched_url(server):
    thread = load_thread(f"{server}/threads/t.77/page-3")
    assert thread.posts[0].url == f"{server}/threads/t.77/post-5"


def test_redirects_are_followed(server):
    page = fetch_page(f"{server}/redirect")
    assert page.url == f"{server}/threads/harbour.4412/"
    assert page.content_type == "text/html"


def test_other_text_formats_are_detected_too(server):
    assert load_thread(f"{server}/posts.jsonl").source_format == "jsonl"
    thread = load_thread(f"{server}/latin1")  # the declared charset is honoured
    assert (thread.title, thread.posts[0].author) == ("Caf\u00e9 talk", "n\u00e9o")


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/missing", r"expected a reachable thread page \(HTTP 404"),
        ("/broken", r"expected a reachable thread page \(HTTP 500"),
        ("/picture.png", r"expected a thread page \(HTML or text\) \(the server sent image/png\)"),
        ("/empty", r"empty page"),
        ("/bad-utf8", r"expected text in its declared encoding"),
        ("/odd-charset", r"unknown charset"),
    ],
)
def test_failures_are_parse_errors_naming_the_url(server, path, message):
    url = f"{server}{path}"
    with pytest.raises(ParseError, match=message) as info:
        load_thread(url)
    assert str(info.value).startswith(url)


@pytest.mark.parametrize("path", ["/big", "/big-unannounced"])
def test_size_cap(server, path):
    with pytest.raises(ParseError, match=r"at most 1000 bytes"):
        load_thread(f"{server}{path}", max_bytes=1000)


def test_timeout(server):
    with pytest.raises(ParseError, match=r"timed out"):
        fetch_page(f"{server}/slow", timeout=0.2)


def test_nothing_listening():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(ParseError, match=r"expected a reachable thread page"):
        fetch_page(f"http://127.0.0.1:{port}/")


@pytest.mark.parametrize("url", ["http://", "https:///nohost", "http://[::1/"])
def test_malformed_urls(url):
    with pytest.raises(ParseError, match=r"expected an http\(s\) URL"):
        load_thread(url)


async def test_async_fetch_matches(server):
    page = await fetch_page_async(f"{server}/threads/harbour.4412/")
    assert page.text == THREAD_PAGE.decode("utf-8")
    assert Handler.seen_agents[-1] == user_agent()
    with pytest.raises(ParseError, match=r"HTTP 404"):
        await fetch_page_async(f"{server}/missing")
    with pytest.raises(ParseError, match=r"the server sent image/png"):
        await fetch_page_async(f"{server}/picture.png")
    for path in ("/big", "/big-unannounced"):
        with pytest.raises(ParseError, match=r"at most 1000 bytes"):
            await fetch_page_async(f"{server}{path}", max_bytes=1000)
    with pytest.raises(ParseError, match=r"timed out"):
        await fetch_page_async(f"{server}/slow", timeout=0.2)


async def test_the_bots_session_refuses_addresses_that_are_not_public(server):
    import aiohttp

    seen = len(Handler.seen_agents)
    async with aiohttp.ClientSession(connector=guarded_connector(allow_private=False)) as session:
        with pytest.raises(ParseError, match=r"127\.0\.0\.1 is not a public address"):
            await fetch_page_async(f"{server}/threads/harbour.4412/", session=session)
        # a host name is judged by the address it resolves to
        with pytest.raises(ParseError, match=r"is not a public address"):
            await fetch_page_async(f"{server.replace('127.0.0.1', 'localhost')}/missing", session=session)
    assert len(Handler.seen_agents) == seen  # nothing reached the server
    async with aiohttp.ClientSession(connector=guarded_connector(allow_private=True)) as session:
        page = await fetch_page_async(f"{server}/threads/harbour.4412/", session=session)
    assert page.text == THREAD_PAGE.decode("utf-8")


@pytest.mark.parametrize(
    "address",
    [
        (socket.AF_INET, ("10.1.2.3", 80)),
        (socket.AF_INET, ("192.168.0.10", 443)),
        (socket.AF_INET, ("169.254.169.254", 80)),  # cloud metadata
        (socket.AF_INET, ("100.64.0.1", 80)),  # carrier-grade NAT
        (socket.AF_INET, ("0.0.0.0", 80)),
        (socket.AF_INET6, ("::1", 80, 0, 0)),
        (socket.AF_INET6, ("fe80::1%eth0", 80, 0, 2)),
        (socket.AF_INET6, ("::ffff:127.0.0.1", 80, 0, 0)),
        (socket.AF_INET6, ("fd00::5", 80, 0, 0)),
    ],
)
def test_private_and_local_addresses_get_no_socket(address):
    family, sockaddr = address
    with pytest.raises(PrivateAddressError, match="not a public address"):
        _public_only_socket((family, socket.SOCK_STREAM, 6, "", sockaddr))


def test_public_addresses_get_a_socket():
    for family, sockaddr in (
        (socket.AF_INET, ("93.184.216.34", 80)),
        (socket.AF_INET6, ("2606:4700::1", 443, 0, 0)),
    ):
        sock = _public_only_socket((family, socket.SOCK_STREAM, 6, "", sockaddr))
        sock.close()  # never connected: nothing leaves the machine

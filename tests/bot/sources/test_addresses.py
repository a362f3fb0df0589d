"""The bot's fetches (`/modq scan`, forum watches) reach public addresses only: every form of a private
address is refused, as a URL, as a redirect target, and before any packet leaves.

The forms: IPv4-compatible `::127.0.0.1`, IPv4-mapped `::ffff:...`, NAT64 `64:ff9b::/96` (and its local-use
`64:ff9b:1::/48`), 6to4 `2002::/16`, Teredo, `192.0.0.0/24`, site-local `fec0::/10`. Each is fetched through
the real aiohttp session the bot uses (`guarded_connector`), with a real HTTP server on 127.0.0.1 for the
redirects (trusted as a first hop, which is all it takes for a server to send the bot elsewhere).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web

from bot.errors import ParseError
from bot.sources.addresses import is_public
from bot.sources.fetch import fetch_page_async, guarded_connector
from tests.fakes.serving import served

LOCAL = (ipaddress.ip_network("127.0.0.1/32"),)
PORT = 8081  # nothing is meant to be listening there: no connection may even be tried

# (an address that leads to an internal host, the IPv4 host it leads to, if any)
PRIVATE_FORMS = [
    ("::127.0.0.1", "127.0.0.1"),  # IPv4-compatible
    ("::ffff:127.0.0.1", "127.0.0.1"),  # IPv4-mapped
    ("::ffff:169.254.169.254", "169.254.169.254"),  # cloud metadata, mapped
    ("64:ff9b::7f00:1", "127.0.0.1"),  # NAT64
    ("64:ff9b::a9fe:a9fe", "169.254.169.254"),
    ("64:ff9b:1::808:808", None),  # local-use NAT64: the operator's own networks
    ("2002:7f00:1::1", "127.0.0.1"),  # 6to4
    ("2002:a00:1::1", "10.0.0.1"),
    ("2001:0:4136:e378:8000:63bf:3fff:fdd2", "65.54.227.120, 192.0.2.45"),  # Teredo: server, client
    ("192.0.0.8", None),  # IETF protocol assignments
    ("192.0.0.9", None),
    ("fec0::1", None),  # site-local
]


def refusal(address: str, inner: str | None) -> str:
    """The refusal's wording: the address (as Python writes it) and the IPv4 host it leads to."""
    named = str(ipaddress.ip_address(address)) + (f" ({inner})" if inner else "")
    return re.escape(f"{named} is not a public address")


def url_of(address: str, path: str = "/threads/a.1/") -> str:
    host = f"[{address}]" if ":" in address else address
    return f"http://{host}:{PORT}{path}"


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    """The bot's guarded session (public addresses only), trusting 127.0.0.1 as a first hop."""
    async with aiohttp.ClientSession(
        connector=guarded_connector(allow_private=False, trusted=LOCAL)
    ) as session:
        yield session


@pytest.fixture
async def redirector() -> AsyncIterator[tuple[str, list[str]]]:
    """A server on 127.0.0.1: `/to?url=U` redirects to U, `/page` is a page; the list records the paths."""
    seen: list[str] = []

    async def to(request: web.Request) -> web.Response:
        seen.append(request.path_qs)
        raise web.HTTPFound(request.query["url"])

    async def page(request: web.Request) -> web.Response:
        seen.append(request.path_qs)
        return web.Response(text="<html>a thread</html>", content_type="text/html")

    app = web.Application()
    app.router.add_get("/to", to)
    app.router.add_get("/page", page)
    async with served(app) as base_url:
        yield base_url, seen


@pytest.mark.parametrize(("address", "inner"), PRIVATE_FORMS)
async def test_every_form_of_a_private_address_is_refused(
    session: aiohttp.ClientSession, address: str, inner: str | None
) -> None:
    with pytest.raises(ParseError, match=refusal(address, inner)):
        await fetch_page_async(url_of(address), session=session, timeout=5)


@pytest.mark.parametrize(("address", "inner"), [*PRIVATE_FORMS, ("127.0.0.2", None)])
async def test_a_redirect_to_a_private_address_is_refused(
    session: aiohttp.ClientSession, redirector: tuple[str, list[str]], address: str, inner: str | None
) -> None:
    base, seen = redirector
    # The redirector itself (trusted) is read; where it sends the bot is judged like any URL.
    page = await fetch_page_async(f"{base}/page", session=session)
    assert page.text == "<html>a thread</html>"
    target = url_of(address, "/page")
    with pytest.raises(ParseError, match=refusal(address, inner)):
        await fetch_page_async(f"{base}/to?url={target}", session=session, timeout=5)
    assert len(seen) == 2 and seen[1].startswith("/to?")  # the redirect was served; its target never was


@pytest.mark.parametrize(
    "address",
    [
        "93.184.216.34",
        "2606:4700::1111",
        "::ffff:93.184.216.34",  # a public IPv4 host, mapped
        "64:ff9b::5db8:d822",  # NAT64 of 93.184.216.34
        "2002:5db8:d822::1",  # 6to4 of 93.184.216.34
    ],
)
def test_public_hosts_stay_reachable_in_every_form(address: str) -> None:
    assert is_public(ipaddress.ip_address(address))


@pytest.mark.parametrize(("address", "_"), PRIVATE_FORMS)
def test_no_private_form_counts_as_public(address: str, _: str | None) -> None:
    assert not is_public(ipaddress.ip_address(address))

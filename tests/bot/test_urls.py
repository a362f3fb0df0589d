"""One definition of a web address (`bot.urls.web_url`), shared by links, fetching and watches."""

from __future__ import annotations

import pytest

from bot.discord.markup import safe_url
from bot.urls import web_url
from bot.watchers.state import parse_target


@pytest.mark.parametrize(
    ("value", "is_web"),
    [
        ("https://forum.example.org/threads/bus.12/", True),
        ("HTTP://Example.org", True),
        ("ftp://example.org/file", False),
        ("javascript:alert(1)", False),
        ("https:///no-host", False),
        ("http://[::1", False),  # malformed IPv6 literal: urlsplit raises, web_url says no
        ("not a url", False),
        ("", False),
    ],
)
def test_web_url_accepts_only_http_urls_with_a_host(value: str, is_web: bool) -> None:
    assert (web_url(value) is not None) is is_web
    # The three places that use it agree with it.
    assert (safe_url(value) is not None) is is_web
    assert (parse_target(value) is not None) is is_web

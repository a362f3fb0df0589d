"""The watchers' parts on their own: the host budget and back-off (with a fake clock), Retry-After, whole
pages, XenForo pagination, and watch targets (thread URLs, Discord channel links)."""

from __future__ import annotations

import asyncio
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.store import Store
from bot.watchers._http import Backoff, HostBudget, is_whole_page, parse_retry_after
from bot.watchers.state import DISCORD_CHANNEL, FORUM_THREAD, ensure_watch, parse_target, thread_url
from bot.watchers.xenforo import read_pages
from tests.fakes.forum_server import ForumServer


class FakeTime:
    """A clock that only moves when the code under test sleeps."""

    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)


async def test_the_budget_allows_n_requests_in_any_window() -> None:
    time = FakeTime()
    budget = HostBudget(3, 10.0, clock=time.clock, sleep=time.sleep)
    sent = []
    for _ in range(7):
        await budget.acquire("http://forum")
        sent.append(time.now)
    assert sent == [100.0, 100.0, 100.0, 110.0, 110.0, 110.0, 120.0]
    await budget.acquire("http://other")  # another host has its own budget
    assert time.now == 120.0


async def test_a_paused_host_waits_for_the_pause() -> None:
    time = FakeTime()
    budget = HostBudget(100, 1.0, clock=time.clock, sleep=time.sleep)
    budget.pause("http://forum", 30.0)
    budget.pause("http://forum", 5.0)  # a shorter pause does not shorten a longer one
    await budget.acquire("http://forum")
    assert time.now == pytest.approx(130.0)


async def test_waiters_for_one_host_go_in_turn() -> None:
    time = FakeTime()
    budget = HostBudget(1, 1.0, clock=time.clock, sleep=time.sleep)
    order: list[int] = []

    async def request(n: int) -> None:
        await budget.acquire("http://forum")
        order.append(n)

    await asyncio.gather(*(request(n) for n in range(5)))
    assert order == [0, 1, 2, 3, 4]
    assert time.now == pytest.approx(104.0)


def test_backoff_doubles_within_its_bounds_with_jitter() -> None:
    backoff = Backoff(1.0, 60.0, 600.0, random.Random(3))
    for errors in range(1, 12):
        base = min(60.0, 2.0 ** (errors - 1))
        delays = {backoff.delay(errors) for _ in range(20)}
        assert all(base <= d <= min(60.0, base * 1.5) for d in delays)
        if base < 60.0:
            assert len(delays) > 1  # jittered


@pytest.mark.parametrize(
    ("retry_after", "expected_at_least"),
    [(30.0, 30.0), (0.0, 1.0), (10_000.0, 600.0)],
)
def test_backoff_is_never_shorter_than_retry_after_up_to_its_cap(
    retry_after: float, expected_at_least: float
) -> None:
    backoff = Backoff(1.0, 60.0, 600.0, random.Random(3))
    delay = backoff.delay(1, retry_after)
    assert expected_at_least <= delay <= max(expected_at_least, 1.5)


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("120", 120.0),
        ("0", 0.0),
        ("Wed, 21 Oct 2015 07:28:10 GMT", 10.0),  # 10 s after `now` below
        ("Wed, 21 Oct 2015 07:27:00 GMT", 0.0),  # in the past
        ("soon", None),
        ("-5", None),
        ("", None),
        (None, None),
    ],
)
def test_retry_after_as_seconds_or_a_date(header: str | None, seconds: float | None) -> None:
    now = 1445412480.0  # Wed, 21 Oct 2015 07:28:00 GMT
    assert parse_retry_after(header, now=now) == seconds


@pytest.mark.parametrize(
    ("text", "whole"),
    [
        ("<html><body>x</body></html>\n", True),
        ("<HTML><body>x</body></HTML >", True),
        ("<html><body><article>cut he", False),
        ("", False),
    ],
)
def test_a_page_is_whole_when_it_ends_its_html(text: str, whole: bool) -> None:
    assert is_whole_page(text) is whole


def test_pagination_of_xenforo_pages() -> None:
    forum = ForumServer(posts_per_page=2)
    thread = forum.add_thread("Paged", *[("a", f"post {n}") for n in range(7)])  # 4 pages
    base = "http://127.0.0.1:0"
    first = read_pages(thread.render(1)[0], base + thread.page_path(1))
    assert (first.current, first.last) == (1, 4)
    assert first.next_url == base + thread.page_path(2)
    assert first.last_url == base + thread.page_path(4)
    last = read_pages(thread.render(4)[0], base + thread.page_path(4))
    assert (last.current, last.last, last.next_url) == (4, 4, None)
    single = read_pages(ForumServer().add_thread("One", ("a", "b")).render(1)[0], base + "/threads/one.1/")
    assert single == type(single)(None, None, None, None)


def test_pagination_of_a_page_that_is_not_html_is_empty() -> None:
    assert read_pages("", "http://forum/").next_url is None
    assert read_pages("\x00\x01 garbage", "http://forum/").last is None


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://forum.example/threads/ferry.4412/", "https://forum.example/threads/ferry.4412/"),
        ("https://Forum.Example/threads/ferry.4412", "https://forum.example/threads/ferry.4412/"),
        ("https://forum.example/threads/ferry.4412/page-7", "https://forum.example/threads/ferry.4412/"),
        (
            "https://forum.example/threads/ferry.4412/post-99#post-99",
            "https://forum.example/threads/ferry.4412/",
        ),
        (
            "https://forum.example/community/threads/4412/?order=x",
            "https://forum.example/community/threads/4412/",
        ),
        (
            "https://forum.example/index.php?threads/ferry.1/#top",
            "https://forum.example/index.php?threads/ferry.1/",
        ),
    ],
)
def test_thread_urls_are_one_per_thread(url: str, expected: str) -> None:
    assert thread_url(url) == expected


@given(
    st.from_regex(
        r"https://[a-z]{1,8}\.test(/[a-z]{1,5})?/threads/([a-z-]{1,10}\.)?[0-9]{1,6}(/[a-z0-9-]{0,8})?",
        fullmatch=True,
    )
)
def test_thread_url_is_idempotent(url: str) -> None:
    once = thread_url(url)
    assert thread_url(once) == once and once.endswith("/")


@pytest.mark.parametrize(
    ("value", "kind", "target"),
    [
        (
            "https://forum.example/threads/ferry.4412/page-2",
            FORUM_THREAD,
            "https://forum.example/threads/ferry.4412/",
        ),
        ("https://discord.com/channels/123/456", DISCORD_CHANNEL, "456"),
        ("<https://ptb.discord.com/channels/123/456/789>", DISCORD_CHANNEL, "456"),
        ("https://discord.com/invite/abc", None, None),
        ("ftp://forum.example/threads/x.1/", None, None),
        ("forum.example/threads/x.1/", None, None),
        ("", None, None),
    ],
)
def test_watch_targets(value: str, kind: str | None, target: str | None) -> None:
    parsed = parse_target(value)
    assert ((parsed.kind, parsed.target) if parsed else (None, None)) == (kind, target)


async def test_settings_watches_are_written_only_when_they_change(tmp_path: object) -> None:
    store = await Store.open(f"{tmp_path}/w.db")
    try:
        first = await ensure_watch(store, FORUM_THREAD, "https://f.test/threads/a.1/", None)
        again = await ensure_watch(store, FORUM_THREAD, "https://f.test/threads/a.1/", None)
        changed = await ensure_watch(store, FORUM_THREAD, "https://f.test/threads/a.1/", 30.0)
        assert first.id == again.id == changed.id and changed.interval_seconds == 30.0
        assert [e.action for e in await store.audit_log()] == ["watch.add", "watch.add"]
    finally:
        await store.close()

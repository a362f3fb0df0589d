"""ModerationService: new and edited posts are reviewed in their thread's context and stored with their
flags and alerts; stored posts are not judged again; thread context survives restarts, evictions and other
writers."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from bot.service import ModerationService, persist_threads, review_threads_into, source_for_thread
from bot.store import SourceRef, Store
from classifiers.result import Detection
from classifiers.suite import DetectorSuite
from classifiers.thread import Post, Thread
from tests.bot.store_doubles import EchoDetector, KeywordDetector, make_forum, make_suite

URL = "https://forum.test/threads/border-news.1/"


class Counting:
    """Wraps a detector and counts the posts its thread states judge (replays included)."""

    def __init__(self, inner: EchoDetector | KeywordDetector) -> None:
        self.inner = inner
        self.category = inner.category
        self.version = inner.version
        self.calls = 0

    def use_threshold(self, value: float) -> None:
        """Nothing to follow: this double explains every post alike."""

    def begin_thread(self, thread_id: str, title: str) -> Counting._State:
        return Counting._State(self, self.inner.begin_thread(thread_id, title))

    class _State:
        def __init__(self, owner: Counting, inner: object) -> None:
            self.owner = owner
            self.inner = inner

        def review(self, post: Post) -> Detection:
            self.owner.calls += 1
            return self.inner.review(post)  # type: ignore[attr-defined, no-any-return]


def thread(*posts: Post, title: str = "Border news") -> Thread:
    return Thread(id="border-news.1", title=title, posts=posts, url=URL)


def post(n: int, text: str) -> Post:
    return Post(id=str(n), text=text, author=f"user{n}", position=n, url=f"{URL}post-{n}")


async def _stored_flags(store: Store) -> set[tuple[str, str]]:
    return {(d.post.external_id, d.flag.category) for d in await store.open_flags(limit=10_000)}


async def test_new_posts_are_reviewed_flagged_and_alerted_once(store: Store) -> None:
    woken: list[int] = []
    service = ModerationService(store, make_suite(), on_new_alerts=lambda: woken.append(1))
    first = await service.review(thread(post(1, "tariffs on avocados from mexico"), post(2, "you idiot")))
    assert (first.new, first.unchanged, first.flag_count, len(first.alert_ids)) == (2, 0, 1, 1)
    [flagged] = [r for r in first.reviews if r.flags]
    assert flagged.post.id == "2" and flagged.flags[0].reasons == ("insulting language: 'idiot'.",)
    assert woken == [1]
    again = await service.review(thread(post(1, "tariffs on avocados from mexico"), post(2, "you idiot")))
    assert (again.new, again.unchanged, again.flag_count, again.alert_ids, again.reviews) == (0, 2, 0, (), ())
    assert woken == [1]  # nothing new: the dispatcher is not woken
    assert await _stored_flags(store) == {("2", "inflammatory")}


async def test_stored_posts_are_not_judged_again(store: Store) -> None:
    echo = Counting(EchoDetector())
    service = ModerationService(store, DetectorSuite([echo]))
    await service.review(thread(post(1, "a b c"), post(2, "d e f")))
    assert echo.calls == 2
    await service.review(thread(post(1, "a b c"), post(2, "d e f"), post(3, "g h i")))
    assert echo.calls == 3  # the cached reviewer goes on from post 2; only post 3 is judged


async def test_thread_context_survives_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "restart.db"
    posts = [
        post(1, "w1 w2 w3 w4 w5 w6"),
        post(2, "x1 x2 x3"),
        post(3, "w1 w2 w3 w4 w5 w6 new"),
        post(4, "x1 x2 x3"),
    ]
    expected = {(r.post.id, f.category) for r in make_suite().review_thread(thread(*posts)) for f in r.flags}
    assert expected == {("3", "duplicated_quote"), ("4", "duplicated_quote")}

    store = await Store.open(path)
    await ModerationService(store, make_suite()).review(thread(*posts[:2]))
    await store.close()

    echo = Counting(EchoDetector())
    store = await Store.open(path)
    result = await ModerationService(store, DetectorSuite([KeywordDetector(), echo])).review(
        thread(*posts[2:])
    )
    assert echo.calls == 4  # posts 1 and 2 replayed from the store, then 3 and 4 judged
    assert {(r.post.id, f.category) for r in result.reviews for f in r.flags} == expected
    assert await _stored_flags(store) == expected
    await store.close()


async def test_the_reviewer_cache_is_bounded_and_an_evicted_thread_is_replayed(store: Store) -> None:
    service = ModerationService(store, make_suite(), cache_threads=2)
    forum = make_forum(90, 3, seed=3)
    for t in forum:
        await service.review(Thread(t.id, t.title, t.posts[: len(t.posts) // 2], url=t.url))
    assert service.cached_threads == 2
    for t in forum:  # the first thread was evicted: its second half is judged after a replay
        await service.review(Thread(t.id, t.title, t.posts[len(t.posts) // 2 :], url=t.url))
    expected = {
        (r.post.id, f.category) for t in forum for r in make_suite().review_thread(t) for f in r.flags
    }
    assert await _stored_flags(store) == expected


async def test_an_edited_post_is_judged_again_where_it_stands(store: Store) -> None:
    service = ModerationService(store, make_suite())
    await service.review(thread(post(1, "a1 a2 a3 a4 a5"), post(2, "b1 b2 b3 b4"), post(3, "c1 c2 c3")))
    # Post 2 edited: judged against post 1 only, not against its own earlier text or the posts after it.
    edited = await service.review(thread(post(2, "b1 b2 b3 b4 b5"), post(3, "c1 c2 c3")))
    assert (edited.edited, edited.unchanged, edited.flag_count) == (1, 1, 0)
    [judged] = edited.reviews
    assert judged.post.text == "b1 b2 b3 b4 b5"
    # Post 2 edited to repeat post 1: flagged, with a new revision and its own alert.
    repeat = await service.review(thread(post(2, "a1 a2 a3 a4 a5 and")))
    assert repeat.edited == 1 and repeat.flag_count == 1 and len(repeat.alert_ids) == 1
    assert repeat.recorded[0].revision == 3
    # Later posts are judged against the edited text.
    later = await service.review(thread(post(4, "a1 a2 a3 a4 a5 and")))
    assert later.flag_count == 1
    assert {r.post.id for r in later.reviews} == {"4"}


async def test_another_writer_posts_are_context_for_the_next_review(tmp_path: Path) -> None:
    path = tmp_path / "two.db"
    one, two = await Store.open(path), await Store.open(path)
    first, second = ModerationService(one, make_suite()), ModerationService(two, make_suite())
    await first.review(thread(post(1, "p q r s")))
    await second.review(thread(post(1, "p q r s"), post(2, "t u v w")))  # post 1 unchanged for this writer
    # `first` has a cached reviewer that never saw post 2: it must notice and replay.
    result = await first.review(thread(post(3, "t u v w")))
    assert result.flag_count == 1 and result.reviews[0].flags[0].category == "duplicated_quote"
    assert await _stored_flags(one) == {("3", "duplicated_quote")}
    await one.close()
    await two.close()


async def test_a_failed_write_does_not_leave_its_posts_in_the_thread_context(store: Store) -> None:
    service = ModerationService(store, make_suite())
    await service.review(thread(post(1, "start here")))
    with pytest.raises(UnicodeEncodeError):
        await service.review(thread(post(2, "q r s t \ud800")))  # cannot be stored
    result = await service.review(thread(post(3, "q r s t")))
    assert result.flag_count == 0  # post 2 was never stored, so post 3 repeats nothing


class _Slow:
    category = "off_topic"
    version = "slow-1"

    def use_threshold(self, value: float) -> None:
        """Nothing to follow: this double explains every post alike."""

    def begin_thread(self, thread_id: str, title: str) -> _Slow:
        return self

    def review(self, post: Post) -> Detection:
        time.sleep(0.05)  # CPU-bound detectors hold their thread, not the event loop
        return Detection("off_topic", 0.0)


async def test_reviews_run_off_the_event_loop(store: Store) -> None:
    service = ModerationService(store, DetectorSuite([_Slow()]))
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.005)
            ticks += 1

    ticker = asyncio.create_task(tick())
    await service.review(thread(*(post(i, f"post {i}") for i in range(1, 9))))  # 0.4 s of detector time
    ticker.cancel()
    assert ticks >= 20


async def test_review_threads_into_persists_a_scan(tmp_path: Path) -> None:
    path = tmp_path / "scan.db"
    forum = make_forum(60, 3, seed=5)
    summary = await review_threads_into(path, forum, make_suite())
    assert (summary.new, summary.unchanged, summary.edited) == (60, 0, 0)
    assert summary.flags > 0 and summary.alerts > 0


def test_persist_threads_is_the_same_for_synchronous_callers(tmp_path: Path) -> None:
    path = tmp_path / "scan.db"
    forum = make_forum(60, 3, seed=5)
    first = persist_threads(path, forum, make_suite())
    again = persist_threads(path, forum, make_suite())
    assert (first.new, again.new, again.unchanged, again.flags, again.alerts) == (60, 0, 60, 0, 0)


def test_the_default_source_is_the_forum_origin_or_the_thread_itself() -> None:
    web = Thread("x.1", "T", url="HTTPS://Forum.Test/threads/x.1/page-2")
    assert source_for_thread(web) == SourceRef("web", "https://forum.test")
    pasted = Thread("pasted-1", "T", source_format="pasted")
    assert source_for_thread(pasted) == SourceRef("pasted", "pasted-1")
    local = Thread("t", "T", url="/tmp/thread.html", source_format="xenforo")
    assert source_for_thread(local) == SourceRef("xenforo", "/tmp/thread.html")

"""Two writers at once on one database file (two connections in one process here; two processes in
test_crash.py): no row is lost, none is stored twice, and no alert is claimed by two dispatchers."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from bot.sinks import Dispatcher
from bot.store import ReviewedPost, SourceRef, Store, post_content_hash
from classifiers.result import Flag
from classifiers.thread import Post
from config.settings import AlertSettings
from tests.bot.store_doubles import ListSink

SOURCE = SourceRef("web", "https://forum.test")
FLAG = Flag("inflammatory", 0.9, 0.6, ("insult",))


def batch(ids: list[int], *, flag_every: int = 3) -> list[ReviewedPost]:
    """Posts p<id>; those whose id is a multiple of `flag_every` carry a flag."""
    reviews = []
    for i in ids:
        post = Post(f"p{i}", f"post {i}")
        reviews.append(
            ReviewedPost(post, post_content_hash(post), {}, (FLAG,) if i % flag_every == 0 else ())
        )
    return reviews


@pytest.fixture
async def open_store() -> AsyncIterator[Callable[[Path], Awaitable[Store]]]:
    """Opens stores and closes them all at the end, pass or fail (an open connection's thread would keep the
    test process alive)."""
    opened: list[Store] = []

    async def open_(path: Path) -> Store:
        store = await Store.open(path, busy_timeout=30)
        opened.append(store)
        return store

    yield open_
    for store in opened:
        await store.close()


async def test_two_connections_writing_overlapping_batches_store_each_row_once(
    tmp_path: Path, open_store: Callable[[Path], Awaitable[Store]]
) -> None:
    path = tmp_path / "two.db"
    a, b = await open_store(path), await open_store(path)
    rng = random.Random(3)
    ids = list(range(600))

    async def writer(store: Store, order: list[int]) -> int:
        new = 0
        for start in range(0, len(order), 25):
            chunk = order[start : start + 25]
            result = await store.record_reviews(SOURCE, f"t{chunk[0] % 4}", "T", batch(chunk))
            new += sum(p.outcome == "new" for p in result.posts)
        return new

    shuffled = ids[:]
    rng.shuffle(shuffled)
    new_a, new_b = await asyncio.gather(writer(a, ids), writer(b, shuffled))
    assert new_a + new_b == 600  # every post stored by exactly one of them
    counts = await a.row_counts()
    assert counts["posts"] == 600
    assert counts["flags"] == counts["alerts"] == 200  # ids divisible by 3, once each
    rows = await a._fetchall("SELECT COUNT(DISTINCT post_id) AS n FROM alerts")
    assert rows[0]["n"] == 200


async def test_two_dispatchers_never_send_the_same_alert(
    tmp_path: Path, open_store: Callable[[Path], Awaitable[Store]]
) -> None:
    path = tmp_path / "dispatch.db"
    writer = await open_store(path)
    for t in range(20):  # 20 threads of 3 flagged posts: no bursts
        await writer.record_reviews(
            SOURCE, f"t{t}", "T", batch([t * 100, t * 100 + 1, t * 100 + 2], flag_every=1)
        )
    settings = AlertSettings(batch_size=7, burst_max_alerts=5)
    one, two = await open_store(path), await open_store(path)
    sinks = [ListSink(delay=0.002), ListSink(delay=0.002)]
    dispatchers = [Dispatcher(one, sinks[0], settings), Dispatcher(two, sinks[1], settings)]

    async def drain(d: Dispatcher) -> None:
        for _ in range(100):
            if not (await d.dispatch_once()).claimed:
                return
            await asyncio.sleep(0)  # let the other dispatcher in
        raise AssertionError("the outbox never emptied")

    await asyncio.gather(*(drain(d) for d in dispatchers))
    sent = [a.id for s in sinks for a in s.sent]
    assert len(sent) == len(set(sent)) == 60
    assert await writer.outbox_counts() == {"sent": 60}

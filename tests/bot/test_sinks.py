"""The dispatcher (retries with exponential backoff, marks sent only on success, folds bursts into digests)
and the console sink, against a real store on a settable clock."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from rich.console import Console

from bot.service import ModerationService
from bot.sinks import ConsoleSink, DeliveryError, Dispatcher, context_excerpt, evidence_excerpt, truncate
from bot.store import AlertView, ReviewedPost, SourceRef, Store, post_content_hash
from classifiers.result import Evidence, Flag
from classifiers.thread import Post, Thread
from config.settings import AlertSettings
from tests.bot.db_files import copy_of
from tests.bot.store_doubles import FakeClock, ListSink, make_suite

SOURCE = SourceRef("web", "https://forum.test")
INSULT = Flag("inflammatory", 0.91, 0.6, ("insulting language: 'idiot'.",), (Evidence(4, 9),), "kw-1")
NO_JITTER = AlertSettings(retry_base_seconds=2, retry_max_seconds=30, max_attempts=4, burst_max_alerts=3)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def store(tmp_path: Path, clock: FakeClock, migrated_database: Path) -> AsyncIterator[Store]:
    store = await Store.open(copy_of(migrated_database, tmp_path / "sinks.db"), clock=clock)
    yield store
    await store.close()


async def flag_posts(store: Store, thread: str, *ids: str) -> list[int]:
    """Store flagged posts in `thread`; return their alert ids."""
    reviews = []
    for pid in ids:
        post = Post(
            pid, f"you idiot number {pid}", author=f"user-{pid}", url=f"https://forum.test/{thread}/{pid}"
        )
        reviews.append(ReviewedPost(post, post_content_hash(post), {"inflammatory": 0.91}, (INSULT,)))
    result = await store.record_reviews(
        SOURCE, thread, f"Thread {thread}", reviews, url=f"https://forum.test/{thread}"
    )
    return list(result.alert_ids)


def dispatcher(store: Store, sink: object, settings: AlertSettings = NO_JITTER) -> Dispatcher:
    return Dispatcher(store, sink, settings, jitter=lambda: 0.0)  # type: ignore[arg-type]


async def test_a_failed_send_is_retried_with_exponential_backoff(store: Store, clock: FakeClock) -> None:
    sink = ListSink([DeliveryError("503"), RuntimeError("connection reset")])
    d = dispatcher(store, sink)
    [alert_id] = await flag_posts(store, "t1", "p1")
    report = await d.dispatch_once()
    assert (report.claimed, report.sent, report.retrying) == (1, 0, 1)
    [pending] = await store.pending_alerts()
    assert (
        pending.status == "pending" and pending.attempts == 1 and pending.last_error == "DeliveryError: 503"
    )
    assert pending.next_try_at.timestamp() == pytest.approx(clock.now + 1)  # 2 s, half of it jittered away
    assert (await d.dispatch_once()).claimed == 0  # not due yet
    clock.advance(1)
    assert (await d.dispatch_once()).retrying == 1
    [pending] = await store.pending_alerts()
    assert pending.next_try_at.timestamp() == pytest.approx(clock.now + 2)  # 4 s, doubled
    clock.advance(2)
    report = await d.dispatch_once()
    assert report.sent == 1 and [a.id for a in sink.sent] == [alert_id]
    sent = await store.get_alert(alert_id)
    assert sent.alert.status == "sent" and sent.alert.attempts == 3 and sent.alert.message_id == 501


def test_backoff_doubles_up_to_the_cap_and_jitters_the_upper_half() -> None:
    settings = AlertSettings(retry_base_seconds=2, retry_max_seconds=30)
    low = Dispatcher(None, None, settings, jitter=lambda: 0.0)  # type: ignore[arg-type]
    high = Dispatcher(None, None, settings, jitter=lambda: 0.999999)  # type: ignore[arg-type]
    assert [low.backoff(n) for n in range(1, 7)] == [1, 2, 4, 8, 15, 15]
    assert [round(high.backoff(n)) for n in range(1, 7)] == [2, 4, 8, 16, 30, 30]


async def test_retry_after_is_honoured(store: Store, clock: FakeClock) -> None:
    d = dispatcher(store, ListSink([DeliveryError("rate limited", retry_after=7.5)]))
    await flag_posts(store, "t1", "p1")
    await d.dispatch_once()
    [pending] = await store.pending_alerts()
    assert pending.next_try_at.timestamp() == pytest.approx(clock.now + 7.5)


async def test_a_permanent_error_fails_the_alert_at_once(store: Store) -> None:
    d = dispatcher(store, ListSink([DeliveryError("403 Missing Access", permanent=True)]))
    [alert_id] = await flag_posts(store, "t1", "p1")
    report = await d.dispatch_once()
    assert report.failed == 1
    failed = await store.get_alert(alert_id)
    assert failed.alert.status == "failed" and failed.alert.last_error == "DeliveryError: 403 Missing Access"
    assert await store.pending_alerts() == []


async def test_an_alert_fails_for_good_after_max_attempts(store: Store, clock: FakeClock) -> None:
    d = dispatcher(store, ListSink([DeliveryError("down")] * 10))
    [alert_id] = await flag_posts(store, "t1", "p1")
    for _ in range(NO_JITTER.max_attempts):
        await d.dispatch_once()
        clock.advance(60)
    failed = await store.get_alert(alert_id)
    assert failed.alert.status == "failed" and failed.alert.attempts == NO_JITTER.max_attempts


async def test_a_burst_from_one_thread_is_folded_into_one_digest(store: Store) -> None:
    sink = ListSink()
    burst = await flag_posts(store, "busy", *(f"b{i}" for i in range(5)))  # more than 3 at once
    calm = await flag_posts(store, "calm", "c1", "c2")
    report = await dispatcher(store, sink).dispatch_once()
    assert (report.claimed, report.sent, report.digests) == (3, 3, 1)
    [digest] = [a for a in sink.sent if a.kind == "digest"]
    assert digest.alert_ids == tuple(burst) and digest.thread.external_id == "busy"
    assert sorted(a.id for a in sink.sent if a.kind == "post") == calm
    for alert_id in burst:
        member = await store.get_alert(alert_id)
        assert member.alert.status == "sent" and member.alert.digest_id == digest.id
        assert member.alert.message_id == (await store.get_alert(digest.id)).alert.message_id
    assert await store.pending_alerts() == []


async def test_a_trickling_burst_sends_n_alerts_then_at_most_one_digest_per_window(
    store: Store, clock: FakeClock
) -> None:
    settings = AlertSettings(burst_max_alerts=2, burst_window_seconds=60)
    sink = ListSink()
    d = dispatcher(store, sink, settings)
    start = clock.now

    async def post_and_dispatch(at: float, *ids: str) -> None:
        clock.now = start + at
        await flag_posts(store, "t", *ids)
        await d.dispatch_once()

    await post_and_dispatch(0, "a1")
    await post_and_dispatch(1, "a2")
    await post_and_dispatch(2, "a3", "a4")  # over the limit of 2 in the window: a digest
    await post_and_dispatch(3, "a5")  # a digest went out less than 60 s ago: held
    await post_and_dispatch(10, "a6")
    assert [(a.kind, len(a.items)) for a in sink.sent] == [("post", 1), ("post", 1), ("digest", 2)]
    [a5, a6] = await store.pending_alerts()
    assert a5.next_try_at.timestamp() == a6.next_try_at.timestamp() == pytest.approx(start + 62)
    clock.now = start + 61
    assert (await d.dispatch_once()).claimed == 0
    clock.now = start + 62
    await d.dispatch_once()
    assert [a.items[0].post.external_id for a in sink.sent[3:]] == ["a5", "a6"]  # a new window


async def test_a_claimed_unit_is_resent_unchanged_after_a_crash(store: Store, clock: FakeClock) -> None:
    await flag_posts(store, "t", "a1", "a2", "a3", "a4")
    [digest] = await store.claim_alerts(burst_max=3)  # claimed, then the process "dies" before sending
    await flag_posts(store, "t", "a5", "a6")
    assert await store.release_claims() == 1
    clock.advance(1)
    resent = await store.claim_alerts(burst_max=3, burst_window=0.5)
    again = next(a for a in resent if a.id == digest.id)
    assert again.idempotency_key == digest.idempotency_key and again.alert_ids == digest.alert_ids
    assert again.alert.attempts == 2
    others = [a for a in resent if a.id != digest.id]
    assert all(set(a.alert_ids).isdisjoint(digest.alert_ids) for a in others)


async def test_run_sends_as_soon_as_the_service_writes_alerts(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "live.db")
    sink = ListSink()
    d = Dispatcher(store, sink, AlertSettings(poll_interval_seconds=30))
    service = ModerationService(store, make_suite(), on_new_alerts=d.wake)
    stop = asyncio.Event()
    runner = asyncio.create_task(d.run(stop))
    await asyncio.sleep(0.05)
    await service.review(
        Thread("t", "T", (Post("1", "hello"), Post("2", "you idiot")), url="https://f.test/t")
    )
    async with asyncio.timeout(2):  # far below the 30 s poll interval: the wake-up did it
        await sink.arrived.wait()
    stop.set()
    await runner
    assert [a.items[0].post.external_id for a in sink.sent] == ["2"]
    await store.close()


async def test_run_first_resends_what_a_crashed_dispatcher_left_unconfirmed(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "recover.db")
    await flag_posts(store, "t", "p1")
    [left] = await store.claim_alerts(lease_seconds=3600)  # a dispatcher claimed it and died
    sink = ListSink()
    stop = asyncio.Event()
    runner = asyncio.create_task(Dispatcher(store, sink, AlertSettings(poll_interval_seconds=0.05)).run(stop))
    async with asyncio.timeout(2):
        await sink.arrived.wait()
    stop.set()
    await runner
    assert [a.id for a in sink.sent] == [left.id]
    assert sink.sent[0].idempotency_key == left.idempotency_key
    await store.close()


async def test_drain_waits_for_retries_and_reports_what_it_could_not_send(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "drain.db")
    await flag_posts(store, "t", "p1", "p2")
    fast = AlertSettings(retry_base_seconds=0.01, retry_max_seconds=0.02, poll_interval_seconds=0.01)
    d = Dispatcher(store, ListSink([DeliveryError("blip")]), fast)
    assert await d.drain(max_seconds=5)
    await flag_posts(store, "t", "p3")
    slow = AlertSettings(retry_base_seconds=60, retry_max_seconds=60)
    stuck = Dispatcher(store, ListSink([DeliveryError("down")]), slow)
    assert not await stuck.drain(max_seconds=0.2)
    await store.close()


def _rendered(alert: AlertView, sink: ConsoleSink) -> str:
    console = Console(file=io.StringIO(), width=100, color_system=None)
    console.print(sink.render(alert))
    return console.file.getvalue()  # type: ignore[attr-defined, no-any-return]


async def test_the_console_alert_names_the_flag_the_author_and_the_link(store: Store) -> None:
    hostile = Post(
        "p1",
        "[bold red]you idiot[/bold red] \x1b[2J\x1b[31m @everyone",
        author="[link=https://evil.test]mallory[/link]",
        position=7,
        url="https://forum.test/t/p1",
    )
    flag = Flag("inflammatory", 0.91, 0.6, ("insulting language: 'idiot'.",), (Evidence(15, 20),), "kw-1")
    result = await store.record_reviews(
        SOURCE, "t", "Border [i]news[/i]", [ReviewedPost(hostile, post_content_hash(hostile), {}, (flag,))]
    )
    view = await store.get_alert(result.alert_ids[0])
    text = _rendered(view, ConsoleSink())
    assert "inflammatory 0.91" in text and "threshold 0.60" in text
    assert "insulting language: 'idiot'." in text
    assert "#7 by [link=https://evil.test]mallory[/link]" in text  # shown, not interpreted
    assert "Border [i]news[/i]" in text and "https://forum.test/t/p1" in text
    assert "[bold red]you idiot" in text  # the excerpt around the evidence
    assert "\x1b" not in text


async def test_the_console_digest_lists_the_posts_and_cuts_long_bursts(store: Store) -> None:
    await flag_posts(store, "t", *(f"p{i}" for i in range(20)))
    [digest] = await store.claim_alerts(burst_max=3)
    sink = ListSink()
    await ConsoleSink(Console(file=io.StringIO())).send(digest)
    text = _rendered(digest, ConsoleSink(digest_lines=5))
    assert "burst: 20 flagged posts in one thread" in text
    assert "post p0 by user-p0" in text and "… and 15 more" in text
    assert sink.sent == []


def test_excerpts_show_the_evidence_with_context_and_cut_cleanly() -> None:
    text = "word " * 50 + "OFFENDING PART" + " more" * 50
    start = text.index("OFFENDING")
    flag = Flag("inflammatory", 0.9, 0.6, ("r",), (Evidence(start, start + 14),))
    record = type("F", (), {"score": 0.9, "evidence": flag.evidence})()
    excerpt = evidence_excerpt(text, (record,), limit=80)  # type: ignore[arg-type]
    assert "OFFENDING PART" in excerpt and excerpt.startswith("…") and excerpt.endswith("…")
    assert len(excerpt) <= 80
    assert truncate("short", 10) == "short"
    assert truncate("alpha beta gamma delta", 15) == "alpha beta…"


def test_an_excerpt_never_starts_or_ends_inside_a_masked_link() -> None:
    link = "[this page](http://evil.example/a-very-long-path-that-goes-on-and-on)"
    text = f"Look at {link} and then @everyone you are all idiots here"
    at = text.index("idiots")
    for context in (10, 40, 60, 90):
        shown = context_excerpt(text, at, at + 6, 300, context=context)
        assert ("idiots" in shown and "@everyone" in shown) or context == 10
        assert ("](" in shown) == (link in shown)  # the whole link or none of it
    after = f"you idiots {link} more words after"
    at = after.index("idiots")
    assert context_excerpt(after, at, at + 6, 300, context=30) == "you idiots…"

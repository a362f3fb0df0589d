"""The store: posts deduplicated by source and id, edits as revisions, flags, the outbox, decisions, audit,
settings overrides and watch state, on a real SQLite file."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.errors import AlreadyDecidedError
from bot.store import (
    RecordNotFoundError,
    ReviewedPost,
    SourceRef,
    Store,
    WatchState,
    post_content_hash,
)
from classifiers.result import Evidence, Flag
from classifiers.thread import Post, Quote
from tests.bot.db_files import copy_of
from tests.bot.store_doubles import FakeClock

FORUM = SourceRef("web", "https://forum.test", "Test forum")
INSULT = Flag(
    "inflammatory", 0.91, 0.6, ("insulting language: 'idiot'.",), (Evidence(4, 9, "idiot"),), "kw-1"
)
ECHO = Flag("duplicated_quote", 0.8, 0.6, ("80% of this post repeats post #1.",), (), "echo-1")


def reviewed(post: Post, *flags: Flag) -> ReviewedPost:
    scores = {"inflammatory": 0.05, "duplicated_quote": 0.0} | {f.category: f.score for f in flags}
    return ReviewedPost(post, post_content_hash(post), scores, flags)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def store(tmp_path: Path, clock: FakeClock, migrated_database: Path) -> AsyncIterator[Store]:
    store = await Store.open(copy_of(migrated_database, tmp_path / "modassist.db"), clock=clock)
    yield store
    await store.close()


async def test_pragmas_wal_foreign_keys_and_busy_timeout(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "x.db", busy_timeout=3.5)
    await store.close()
    db = sqlite3.connect(tmp_path / "x.db")
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    store = await Store.open(tmp_path / "x.db", busy_timeout=3.5)
    rows = await store._fetchall("PRAGMA foreign_keys")
    assert rows[0][0] == 1
    rows = await store._fetchall("PRAGMA busy_timeout")
    assert rows[0][0] == 3500
    await store.close()


async def test_a_post_round_trips_with_every_field(store: Store) -> None:
    nested = Quote("inner words", author="Alice", post_id="p0")
    post = Post(
        id="p1",
        text="hello idiot",
        author="Bob",
        position=3,
        url="https://forum.test/p1",
        created_at="2025-03-01T10:00:00Z",
        user_title="Member",
        quotes=(Quote("outer", author="Carol", post_id="p2", nested=(nested,)),),
    )
    result = await store.record_reviews(
        FORUM, "t1", "Border news", [reviewed(post, INSULT)], url="https://forum.test/t1"
    )
    [rec] = result.posts
    assert rec.outcome == "new" and rec.revision == 1 and len(rec.flag_ids) == 1 and rec.alert_id is not None
    stored = await store.get_post(FORUM, "p1")
    assert stored is not None
    assert stored.to_post() == post
    assert stored.scores == {"inflammatory": 0.91, "duplicated_quote": 0.0}
    assert result.thread.title == "Border news" and result.thread.url == "https://forum.test/t1"
    [flag] = await store.flags_of_post(stored.id)
    assert (flag.category, flag.score, flag.threshold, flag.model_version) == (
        "inflammatory",
        0.91,
        0.6,
        "kw-1",
    )
    assert flag.reasons == INSULT.reasons and flag.evidence == INSULT.evidence
    assert flag.status == "open" and flag.alert_id == rec.alert_id


async def test_the_same_post_again_is_not_flagged_or_alerted_again(store: Store) -> None:
    post = Post("p1", "you idiot")
    first = await store.record_reviews(FORUM, "t1", "T", [reviewed(post, INSULT)])
    again = await store.record_reviews(FORUM, "t1", "T", [reviewed(post, INSULT)])
    assert [p.outcome for p in again.posts] == ["unchanged"]
    assert again.alert_ids == () and again.thread.version == first.thread.version
    counts = await store.row_counts()
    assert (counts["posts"], counts["flags"], counts["alerts"]) == (1, 1, 1)


async def test_post_ids_are_unique_per_source_not_globally(store: Store) -> None:
    other = SourceRef("web", "https://other.test")
    await store.record_reviews(FORUM, "t1", "T", [reviewed(Post("p1", "a"))])
    result = await store.record_reviews(other, "t1", "T", [reviewed(Post("p1", "a"))])
    assert [p.outcome for p in result.posts] == ["new"]
    assert (await store.row_counts())["posts"] == 2


async def test_an_edit_is_a_new_revision_with_its_own_flags_and_alert(store: Store, clock: FakeClock) -> None:
    original = Post("p1", "you idiot", author="Bob")
    first = await store.record_reviews(FORUM, "t1", "T", [reviewed(original, INSULT)])
    clock.advance(60)
    edited = Post("p1", "you are an idiot, and I repeat it", author="Bob")
    second = await store.record_reviews(FORUM, "t1", "T", [reviewed(edited, INSULT, ECHO)])
    [rec] = second.posts
    assert rec.outcome == "edited" and rec.revision == 2 and len(rec.flag_ids) == 2
    assert rec.alert_id != first.posts[0].alert_id
    assert second.thread.version == first.thread.version + 1
    post = await store.get_post(FORUM, "p1")
    assert post is not None and post.text == edited.text and post.revision == 2
    statuses = {(f.revision, f.category): f.status for f in await store.flags_of_post(post.id)}
    assert statuses == {
        (1, "inflammatory"): "superseded",
        (2, "inflammatory"): "open",
        (2, "duplicated_quote"): "open",
    }
    # The first alert still shows the text its flag's evidence points into.
    old_alert = await store.get_alert(first.posts[0].alert_id or 0)
    assert old_alert.items[0].post.text == "you idiot" and old_alert.items[0].post.revision == 1
    assert (await store.post_revision(post.id, 1)).text == "you idiot"
    with pytest.raises(RecordNotFoundError):
        await store.post_revision(post.id, 7)


async def test_one_id_twice_in_a_batch_keeps_the_last_content(store: Store) -> None:
    result = await store.record_reviews(
        FORUM, "t1", "T", [reviewed(Post("p1", "first")), reviewed(Post("p1", "second"))]
    )
    assert [p.outcome for p in result.posts] == ["new"]
    post = await store.get_post(FORUM, "p1")
    assert post is not None and post.text == "second"


async def test_a_failed_write_leaves_nothing_behind(store: Store) -> None:
    good = reviewed(Post("p1", "fine"), INSULT)
    bad = ReviewedPost(Post("p2", "lone surrogate \ud800"), "x" * 64, {}, ())  # cannot be encoded
    with pytest.raises(UnicodeEncodeError):
        await store.record_reviews(FORUM, "t1", "T", [good, bad])
    counts = await store.row_counts()
    assert (
        counts["sources"] == counts["threads"] == counts["posts"] == counts["flags"] == counts["alerts"] == 0
    )
    # The store is still usable after the rollback.
    result = await store.record_reviews(FORUM, "t1", "T", [good])
    assert result.posts[0].outcome == "new"


@pytest.mark.parametrize("after", [0.0, 0.001, 0.005, 0.02])
async def test_a_cancelled_write_rolls_back_and_the_store_stays_usable(store: Store, after: float) -> None:
    posts = [reviewed(Post(f"p{i}", f"text {i} idiot"), INSULT) for i in range(3000)]
    task = asyncio.create_task(store.record_reviews(FORUM, "t1", "T", posts))
    await asyncio.sleep(after)
    task.cancel()
    try:
        await task
        committed = True
    except asyncio.CancelledError:
        committed = False
    counts = await store.row_counts()
    assert counts["posts"] == (3000 if committed else 0)
    assert counts["flags"] == counts["posts"]
    result = await store.record_reviews(FORUM, "t2", "T2", [reviewed(Post("q1", "hi"))])
    assert result.posts[0].outcome == "new"


async def _three_flags(store: Store) -> None:
    await store.record_reviews(
        FORUM,
        "t1",
        "Border news 100%_sure",
        [
            reviewed(Post("p1", "you idiot", author="Bob"), INSULT),
            reviewed(Post("p2", "echo", author="alice"), ECHO),
        ],
    )
    await store.record_reviews(FORUM, "t2", "Tariffs", [reviewed(Post("p3", "idiot!", author="BOB"), INSULT)])


async def test_open_flags_filter_by_category_thread_and_author(store: Store) -> None:
    await _three_flags(store)
    everything = await store.open_flags()
    assert [d.post.external_id for d in everything] == ["p3", "p2", "p1"]  # newest first
    assert {d.post.external_id for d in await store.open_flags(category="inflammatory")} == {"p1", "p3"}
    assert {d.post.external_id for d in await store.open_flags(thread="t2")} == {"p3"}
    assert {d.post.external_id for d in await store.open_flags(thread="border")} == {"p1", "p2"}
    # LIKE metacharacters in the filter are taken literally.
    assert {d.post.external_id for d in await store.open_flags(thread="100%_sure")} == {"p1", "p2"}
    assert await store.open_flags(thread="100%x") == []
    assert {d.post.external_id for d in await store.open_flags(author="bob")} == {"p1", "p3"}
    assert [d.post.external_id for d in await store.open_flags(limit=1, offset=1)] == ["p2"]


async def test_a_decision_settles_the_flag_and_is_audited(store: Store) -> None:
    await _three_flags(store)
    [p1_flag] = await store.open_flags(author="Bob", thread="t1")
    decision = await store.record_decision(
        p1_flag.flag.id, "confirm", moderator_id=123456789012345678, moderator_name="mod", note="clear insult"
    )
    assert decision.verdict == "confirm" and decision.moderator_id == 123456789012345678
    assert (await store.get_flag(p1_flag.flag.id)).flag.status == "confirmed"
    assert p1_flag.flag.id not in {d.flag.id for d in await store.open_flags()}
    [entry] = await store.audit_log(action="decision.")
    assert entry.action == "decision.confirm" and entry.target_id == p1_flag.flag.id
    assert entry.actor_id == 123456789012345678 and entry.details["note"] == "clear insult"
    escalated = await store.record_decision(p1_flag.flag.id, "escalate", moderator_id=1)
    assert (await store.get_flag(p1_flag.flag.id)).flag.status == "escalated"
    assert [d.id for d in await store.decisions_for(p1_flag.flag.id)] == [decision.id, escalated.id]
    with pytest.raises(RecordNotFoundError):
        await store.record_decision(999, "dismiss", moderator_id=1)
    with pytest.raises(ValueError, match="verdict"):
        await store.record_decision(p1_flag.flag.id, "ban", moderator_id=1)  # type: ignore[arg-type]


async def test_unsettled_only_refuses_a_settled_flag_in_the_deciding_transaction(
    store: Store, clock: FakeClock
) -> None:
    await _three_flags(store)
    [flag] = await store.open_flags(author="Bob", thread="t1")
    fid = flag.flag.id
    await store.record_decision(fid, "escalate", moderator_id=None, moderator_name="ana")
    first = await store.record_decision(  # escalated still waits for a decision: not refused
        fid, "confirm", moderator_id=None, moderator_name="ana", unsettled_only=True, via="command line"
    )
    with pytest.raises(AlreadyDecidedError) as refused:
        await store.record_decision(
            fid, "dismiss", moderator_id=None, moderator_name="ben", unsettled_only=True
        )
    assert (refused.value.status, refused.value.by, refused.value.at) == (
        "confirmed",
        "ana",
        first.decided_at,
    )
    assert [d.verdict for d in await store.decisions_for(fid)] == ["escalate", "confirm"]
    audit = await store.audit_log(action="decision.")
    assert [e.details.get("via") for e in audit] == ["command line", None]
    await store.record_decision(fid, "dismiss", moderator_id=1)  # without the option: decided again
    assert (await store.get_flag(fid)).flag.status == "dismissed"


async def test_an_action_on_a_post_is_audited_and_listed_for_that_post_only(store: Store) -> None:
    await _three_flags(store)
    first, second = (d.post.id for d in await store.open_flags(thread="t1", limit=2))
    await store.record_decision((await store.open_flags())[0].flag.id, "confirm", moderator_id=1)
    entry = await store.record_post_action(
        first, "action.delete_message", actor_id=7, actor_name="mod", details={"outcome": "deleted"}
    )
    assert (entry.action, entry.target_kind, entry.target_id, entry.actor_id) == (
        "action.delete_message",
        "post",
        first,
        7,
    )
    assert entry.details == {"outcome": "deleted"}
    assert await store.post_actions(first) == [entry]  # decisions are not actions on the post
    assert await store.post_actions(second) == []
    with pytest.raises(RecordNotFoundError):
        await store.record_post_action(999, "action.delete_message", actor_id=7, actor_name="mod", details={})


async def test_category_stats_and_author_history(store: Store) -> None:
    await _three_flags(store)
    flags = {d.post.external_id: d.flag.id for d in await store.open_flags()}
    await store.record_decision(flags["p1"], "confirm", moderator_id=1)
    await store.record_decision(flags["p3"], "dismiss", moderator_id=1)
    stats = {s.category: s for s in await store.category_stats()}
    assert list(stats) == ["off_topic", "inflammatory", "duplicated_quote"]
    assert (
        stats["inflammatory"].flags,
        stats["inflammatory"].confirmed,
        stats["inflammatory"].dismissed,
    ) == (2, 1, 1)
    assert stats["inflammatory"].precision == 0.5 and stats["off_topic"].precision is None
    history = await store.author_history("bob")
    assert history.posts == 2 and {d.post.external_id for d in history.flags} == {"p1", "p3"}
    assert {d.verdict for d in history.decisions} == {"confirm", "dismiss"}


async def test_decide_alert_decides_every_flag_of_the_alert(store: Store) -> None:
    result = await store.record_reviews(FORUM, "t1", "T", [reviewed(Post("p1", "idiot echo"), INSULT, ECHO)])
    alert_id = result.posts[0].alert_id
    assert alert_id is not None
    decisions = await store.decide_alert(alert_id, "dismiss", moderator_id=5, note="banter")
    assert len(decisions) == 2
    assert await store.open_flags() == []
    assert len(await store.audit_log()) == 2
    with pytest.raises(RecordNotFoundError):
        await store.decide_alert(9999, "dismiss", moderator_id=5)


async def test_setting_changes_are_kept_and_audited(store: Store) -> None:
    await store.change_setting("thresholds.inflammatory", 0.7, actor_id=42, actor_name="admin")
    await store.change_setting("thresholds.inflammatory", 0.75, actor_id=42, actor_name="admin")
    assert await store.setting_overrides() == {"thresholds.inflammatory": 0.75}
    latest, first = await store.audit_log(action="setting.")
    assert latest.details == {"key": "thresholds.inflammatory", "old": 0.7, "new": 0.75}
    assert first.details["old"] is None


async def test_watches_and_their_state_survive_removal_and_re_adding(store: Store, clock: FakeClock) -> None:
    watch = await store.add_watch(
        "xenforo", "https://forum.test/threads/x.1/", interval_seconds=60, actor_id=7
    )
    assert [w.id for w in await store.watches()] == [watch.id]
    assert await store.watch_state(watch.id) == WatchState(watch.id)
    polled = datetime.fromtimestamp(clock.now, UTC)
    state = WatchState(
        watch.id,
        last_post_id="p42",
        etag='W/"abc"',
        last_modified="Sat, 01 Mar 2025 10:00:00 GMT",
        last_polled_at=polled,
        consecutive_errors=2,
        last_error="503",
    )
    await store.save_watch_state(state)
    assert await store.watch_state(watch.id) == state
    assert await store.remove_watch(watch.id, actor_id=7)
    assert not await store.remove_watch(watch.id, actor_id=7)
    assert await store.watches() == [] and len(await store.watches(include_removed=True)) == 1
    again = await store.add_watch("xenforo", "https://forum.test/threads/x.1/", actor_id=8)
    assert again.id == watch.id and again.removed_at is None
    assert (await store.watch_state(watch.id)).last_post_id == "p42"
    assert [e.action for e in await store.audit_log()] == ["watch.add", "watch.remove", "watch.add"]


async def test_claims_are_guarded_by_their_token_and_sent_is_final(store: Store, clock: FakeClock) -> None:
    await store.record_reviews(FORUM, "t1", "T", [reviewed(Post("p1", "idiot"), INSULT)])
    [claimed] = await store.claim_alerts(lease_seconds=30)
    assert claimed.alert.status == "sending" and claimed.alert.attempts == 1 and claimed.claim_token
    assert await store.claim_alerts() == []  # leased
    assert not await store.mark_alert_failed(claimed.id, "someone-else", "boom", retry_at=clock.now)
    assert await store.mark_alert_sent(claimed.id, channel_id=10, message_id=777)
    assert not await store.mark_alert_sent(claimed.id, channel_id=10, message_id=778)
    assert not await store.mark_alert_failed(claimed.id, claimed.claim_token or "", "late", retry_at=None)
    found = await store.alert_by_message(777)
    assert found is not None and found.id == claimed.id and found.alert.status == "sent"
    assert await store.pending_alerts() == [] and await store.next_alert_due() is None


async def test_an_expired_lease_makes_a_claimed_alert_due_again(store: Store, clock: FakeClock) -> None:
    await store.record_reviews(FORUM, "t1", "T", [reviewed(Post("p1", "idiot"), INSULT)])
    [first] = await store.claim_alerts(lease_seconds=30)
    clock.advance(31)
    [second] = await store.claim_alerts(lease_seconds=30)
    assert second.id == first.id and second.alert.attempts == 2 and second.claim_token != first.claim_token
    assert second.idempotency_key == first.idempotency_key
    assert await store.release_claims() == 1
    [third] = await store.claim_alerts()
    assert third.id == first.id

"""Flag severity in the store: a minor flag is stored and listed but never makes an alert of its own; a
digest lists the thread's minor flags; flags stored before the severity column are alerts."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.discord.embeds import digest_embed, flag_list_embed
from bot.report import flags_table
from bot.sinks import ConsoleSink
from bot.store import ReviewedPost, SourceRef, Store, post_content_hash
from classifiers.result import Flag
from classifiers.thread import Post
from tests.bot.db_files import copy_of
from tests.bot.store_doubles import FakeClock

FORUM = SourceRef("web", "https://forum.test", "Test forum")
SELF_REPEAT = Flag(
    "duplicated_quote",
    0.65,
    0.6,
    ("repeats 27 of its own words (passages pasted twice in this post); minor.",),
    severity="minor",
)
INSULT = Flag("inflammatory", 0.91, 0.6, ("insulting language: 'idiot'.",))
OVER_QUOTE = Flag("duplicated_quote", 0.9, 0.6, ("quotes post #1 by ana (41 words) and adds 5 words.",))


def reviewed(post_id: str, position: int, *flags: Flag) -> ReviewedPost:
    post = Post(id=post_id, text=f"post {post_id} says something", author="ana", position=position)
    return ReviewedPost(post, post_content_hash(post), {f.category: f.score for f in flags}, flags)


@pytest.fixture
async def store(tmp_path: Path, migrated_database: Path) -> AsyncIterator[Store]:
    store = await Store.open(copy_of(migrated_database, tmp_path / "modassist.db"), clock=FakeClock())
    yield store
    await store.close()


async def test_a_post_with_only_a_minor_flag_is_listed_not_alerted(store: Store) -> None:
    result = await store.record_reviews(FORUM, "t1", "News", [reviewed("p1", 1, SELF_REPEAT)])
    [recorded] = result.posts
    assert recorded.alert_id is None and len(recorded.flag_ids) == 1
    assert await store.outbox_counts() == {}
    assert await store.claim_alerts() == []
    [listed] = await store.open_flags()
    assert listed.flag.severity == "minor" and listed.flag.alert_id is None
    assert listed.flag.reasons == SELF_REPEAT.reasons


async def test_a_minor_flag_rides_with_its_posts_alert(store: Store) -> None:
    result = await store.record_reviews(FORUM, "t1", "News", [reviewed("p1", 1, SELF_REPEAT, INSULT)])
    [recorded] = result.posts
    assert recorded.alert_id is not None
    [view] = await store.claim_alerts()
    assert [(f.category, f.severity) for f in view.items[0].flags] == [
        ("duplicated_quote", "minor"),
        ("inflammatory", "alert"),
    ]
    rendered = ConsoleSink(excerpt_chars=80).render(view)
    assert rendered.subtitle is not None


async def test_a_digest_lists_the_threads_minor_flags(store: Store) -> None:
    reviews = [reviewed("p1", 1, SELF_REPEAT)] + [reviewed(f"p{i}", i, OVER_QUOTE) for i in range(2, 9)]
    await store.record_reviews(FORUM, "t1", "News", reviews)
    [digest] = await store.claim_alerts(burst_max=3)
    assert digest.kind == "digest" and len(digest.items) == 7
    [listed] = digest.listed
    assert listed.post.external_id == "p1" and listed.flag.severity == "minor"
    embed = digest_embed(digest)
    [field] = [f for f in embed.fields if f.name == "Also listed (minor, not alerted)"]
    assert "#1 by ana" in str(field.value) and "repeats 27 of its own words" in str(field.value)


async def test_lists_mark_minor_flags(store: Store) -> None:
    await store.record_reviews(
        FORUM, "t1", "News", [reviewed("p1", 1, SELF_REPEAT), reviewed("p2", 2, INSULT)]
    )
    details = await store.open_flags()
    embed = flag_list_embed(details, page=1, page_size=10, has_more=False, filters={})
    lines = str(embed.description).splitlines()
    assert any("(minor)" in line and "#1" in line for line in lines)
    assert not any("(minor)" in line and "#2" in line for line in lines)
    table = flags_table(details)
    categories = [str(cell) for cell in table.columns[1].cells]
    assert sorted(categories) == ["duplicated_quote (minor)", "inflammatory"]


async def test_a_severity_is_alert_or_minor(store: Store) -> None:
    await store.record_reviews(FORUM, "t1", "News", [reviewed("p1", 1, INSULT)])
    db = sqlite3.connect(store.path)
    try:
        with pytest.raises(sqlite3.IntegrityError):
            db.execute("UPDATE flags SET severity = 'urgent'")
    finally:
        db.close()

"""The Discord channel watcher loses nothing (issue 13, item 1): a message that arrives while the database
is locked past the busy timeout is stored, and alerted, once the lock is released."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from bot.store import PostRecord, Store
from tests.e2e.conftest import StartRuntime, eventually
from tests.e2e.test_discord_alerts import posted
from tests.e2e.test_watch_discord import say, watching
from tests.fakes.discord_server import FakeDiscord


async def test_a_message_that_arrives_while_the_store_is_locked_is_stored_when_it_frees(
    fake: FakeDiscord, start_runtime: StartRuntime, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = watching(channel_ids=[fake.GENERAL_CHANNEL_ID])
    settings["watch"] |= {"retry_base_seconds": 0.1, "retry_max_seconds": 0.3}
    store = await Store.open(tmp_path / "modassist.db", busy_timeout=0.2)
    runtime = await start_runtime(store=store, alerts={"poll_interval_seconds": 0.1}, **settings)
    holder = sqlite3.connect(runtime.settings.database, isolation_level=None, timeout=5)
    holder.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    try:
        insult = await say(
            fake, fake.VISITOR, fake.GENERAL_CHANNEL_ID, "Only an idiot takes the night ferry."
        )

        async def tried(times: int) -> bool:
            return any(
                "the store is unavailable" in r.getMessage() and r.getMessage().endswith(f"; try {times}")
                for r in caplog.records
            )

        # Several busy timeouts and retries: three failed tries (as many as a sleep of 1.5 s saw).
        await eventually(lambda: tried(3))
        assert fake.channel_messages() == []
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    [alert] = await posted(fake)
    assert alert["embeds"][0]["url"].endswith(f"/{insult}")
    stored = await eventually(lambda: runtime.store.thread_posts(1))
    assert [p.external_id for p in stored] == [str(insult)]


async def test_messages_posted_while_the_bot_was_down_are_reviewed_at_the_next_start(
    fake: FakeDiscord, start_runtime: StartRuntime
) -> None:
    first = await start_runtime(**watching(channel_ids=[fake.GENERAL_CHANNEL_ID]))
    seen = await say(fake, fake.VISITOR, fake.GENERAL_CHANNEL_ID, "Only an idiot takes the night ferry.")
    await posted(fake)
    await first.close()
    # While modassist is down, two messages are posted (they reach the channel's history, no gateway event).
    missed = fake.add_message(
        fake.VISITOR, channel_id=fake.GENERAL_CHANNEL_ID, content="what an idiot, again"
    )
    calm = fake.add_message(
        fake.VISITOR, channel_id=fake.GENERAL_CHANNEL_ID, content="The day ferry is fine."
    )

    second = await start_runtime(**watching(channel_ids=[fake.GENERAL_CHANNEL_ID]))
    _, alert = await posted(fake, 2)
    assert alert["embeds"][0]["url"].endswith(f"/{missed['id']}")
    stored = await eventually(lambda: _all_three(second.store))
    assert [p.external_id for p in stored] == [str(seen), missed["id"], calm["id"]]
    assert len(fake.channel_messages()) == 2  # the first alert is not sent again


async def _all_three(store: Store) -> list[PostRecord] | None:
    posts = await store.thread_posts(1)
    return posts if len(posts) == 3 else None

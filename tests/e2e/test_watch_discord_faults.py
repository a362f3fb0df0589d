"""The Discord channel watcher loses nothing (issue 13, item 1): a message that arrives while the database
is locked past the busy timeout is stored, and alerted, once the lock is released."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from bot.store import Store
from tests.e2e.conftest import StartRuntime, eventually
from tests.e2e.test_discord_alerts import posted
from tests.e2e.test_watch_discord import say, watching
from tests.fakes.discord_server import FakeDiscord


async def test_a_message_that_arrives_while_the_store_is_locked_is_stored_when_it_frees(
    fake: FakeDiscord, start_runtime: StartRuntime, tmp_path: Path
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
        await asyncio.sleep(1.5)  # several busy timeouts and retries
        assert fake.channel_messages() == []
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    [alert] = await posted(fake)
    assert alert["embeds"][0]["url"].endswith(f"/{insult}")
    stored = await eventually(lambda: runtime.store.thread_posts(1))
    assert [p.external_id for p in stored] == [str(insult)]

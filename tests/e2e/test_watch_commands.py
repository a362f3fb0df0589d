"""`/modq watch add | list | remove` through the fake Discord, with a local forum: an added thread is polled
at once and its flagged posts alerted with forum permalinks; a Discord channel link starts reading that
channel; removing stops it; only moderators may use them."""

from __future__ import annotations

from typing import Any

import pytest

from bot.runtime import Runtime
from bot.watchers import DISCORD_CHANNEL, FORUM_THREAD
from tests.e2e.conftest import StartRuntime, eventually
from tests.e2e.doubles import make_thread
from tests.e2e.test_discord_alerts import posted
from tests.e2e.test_discord_commands import reply
from tests.e2e.test_watch_discord import jump_url, say
from tests.fakes.discord_server import FakeDiscord
from tests.fakes.forum_server import ForumServer

FAST_FORUM = {
    "default_interval_seconds": 0.05,
    "min_interval_seconds": 0.01,
    "backoff_min_seconds": 0.05,
    "backoff_max_seconds": 0.5,
}


async def start(start_runtime: StartRuntime, **discord: Any) -> Runtime:
    return await start_runtime(watch={"forum": FAST_FORUM, "discord": discord})


async def test_the_watch_commands_are_a_modq_subgroup(fake: FakeDiscord, start_runtime: StartRuntime) -> None:
    await start(start_runtime)
    [group] = fake.commands[fake.GUILD_ID]
    [watch] = [o for o in group["options"] if o["name"] == "watch"]
    assert watch["type"] == 2
    assert {o["name"] for o in watch["options"]} == {"add", "list", "remove"}


async def test_an_added_thread_is_polled_and_its_flagged_posts_alerted(
    fake: FakeDiscord, start_runtime: StartRuntime, forum: ForumServer
) -> None:
    runtime = await start(start_runtime)
    thread = forum.add_thread("Harbour ferry", ("Quill", "The night ferry stops in October."))
    answer = await reply(
        fake, await fake.slash(fake.MODERATOR, "modq", "watch", "add", url=thread.page_url(1))
    )
    assert "Watching" in answer["content"] and thread.url in answer["content"]
    await forum.wait_for_requests(1)
    insult = thread.add_post("Troll", "Only an idiot takes it.")
    [alert] = await posted(fake)
    assert alert["embeds"][0]["url"] == thread.permalink(insult)

    listed = await reply(fake, await fake.slash(fake.MODERATOR, "modq", "watch", "list"))
    [embed] = listed["embeds"]
    assert thread.url in embed["description"] and "every 0.05 s" in embed["description"]

    [watch] = await runtime.store.watches()
    assert (watch.kind, watch.target, watch.added_by) == (FORUM_THREAD, thread.url, fake.MODERATOR.id)
    removed = await reply(
        fake, await fake.slash(fake.MODERATOR, "modq", "watch", "remove", watch=str(watch.id))
    )
    assert "Stopped watching" in removed["content"]
    assert await runtime.store.watches() == []
    count = len(forum.requests)
    thread.add_post("Troll", "Another idiot post nobody reads.")
    listed = await reply(fake, await fake.slash(fake.MODERATOR, "modq", "watch", "list"))
    assert "Nothing is watched" in listed["content"]
    assert len(forum.requests) <= count + 1  # at most a poll already under way
    actions = [e.action for e in await runtime.store.audit_log()]
    assert "watch.add" in actions and "watch.remove" in actions


async def test_a_channel_link_starts_reading_that_channel(
    fake: FakeDiscord, start_runtime: StartRuntime
) -> None:
    runtime = await start(start_runtime, enabled=True)
    link = f"https://discord.com/channels/{fake.GUILD_ID}/{fake.GENERAL_CHANNEL_ID}"
    answer = await reply(fake, await fake.slash(fake.MODERATOR, "modq", "watch", "add", url=link))
    assert f"<#{fake.GENERAL_CHANNEL_ID}>" in answer["content"]
    [watch] = await runtime.store.watches()
    assert (watch.kind, watch.target) == (DISCORD_CHANNEL, str(fake.GENERAL_CHANNEL_ID))
    insult = await say(fake, fake.VISITOR, fake.GENERAL_CHANNEL_ID, "what an idiot")
    [alert] = await posted(fake)
    assert alert["embeds"][0]["url"] == jump_url(fake, fake.GENERAL_CHANNEL_ID, insult)

    removed = await reply(fake, await fake.slash(fake.MODERATOR, "modq", "watch", "remove", watch=link))
    assert "Stopped watching" in removed["content"]
    await say(fake, fake.VISITOR, fake.GENERAL_CHANNEL_ID, "another idiot, unread")
    await runtime.service.review(make_thread("t1", "an idiot on the forum"))
    await posted(fake, 2)
    assert (await runtime.store.row_counts())["posts"] == 2  # the first message and the forum post


async def test_a_channel_link_is_refused_when_discord_reading_is_off(
    fake: FakeDiscord, start_runtime: StartRuntime
) -> None:
    await start(start_runtime)
    link = f"https://discord.com/channels/{fake.GUILD_ID}/{fake.GENERAL_CHANNEL_ID}"
    answer = await reply(fake, await fake.slash(fake.MODERATOR, "modq", "watch", "add", url=link))
    assert "MODASSIST_WATCH__DISCORD__ENABLED" in answer["content"]


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("not a url at all", "not something modassist can watch"),
        ("https://discord.com/channels/1/2", "not in this server"),
    ],
)
async def test_what_cannot_be_watched_is_refused(
    fake: FakeDiscord, start_runtime: StartRuntime, url: str, expected: str
) -> None:
    runtime = await start(start_runtime, enabled=True)
    answer = await reply(fake, await fake.slash(fake.MODERATOR, "modq", "watch", "add", url=url))
    assert expected in answer["content"]
    assert await runtime.store.watches() == []


async def test_an_interval_below_the_minimum_is_refused(
    fake: FakeDiscord, start_runtime: StartRuntime, forum: ForumServer
) -> None:
    runtime = await start_runtime(
        watch={"forum": {**FAST_FORUM, "min_interval_seconds": 30.0, "default_interval_seconds": 60.0}}
    )
    thread = forum.add_thread("Harbour ferry", ("Quill", "Hello."))
    answer = await reply(
        fake, await fake.slash(fake.MODERATOR, "modq", "watch", "add", url=thread.url, interval=5.0)
    )
    assert "at most every 30 s" in answer["content"]
    assert await runtime.store.watches() == []


async def test_removing_an_unknown_watch_says_so_and_visitors_are_refused(
    fake: FakeDiscord, start_runtime: StartRuntime
) -> None:
    await start(start_runtime)
    answer = await reply(fake, await fake.slash(fake.MODERATOR, "modq", "watch", "remove", watch="42"))
    assert "No such watch" in answer["content"]
    for path, options in [
        (("add",), {"url": "https://forum.test/threads/a.1/"}),
        (("list",), {}),
        (("remove",), {"watch": "1"}),
    ]:
        refused = await reply(fake, await fake.slash(fake.VISITOR, "modq", "watch", *path, **options))
        assert "Only moderators" in refused["content"]


async def test_threads_from_the_settings_are_listed_and_polled(
    fake: FakeDiscord, start_runtime: StartRuntime, forum: ForumServer
) -> None:
    thread = forum.add_thread("Harbour ferry", ("Troll", "What an idiot."))
    await start_runtime(
        watch={
            "forum": {**FAST_FORUM, "threads": [thread.url]},
            "discord": {"channel_ids": [fake.GENERAL_CHANNEL_ID]},
        }
    )
    [alert] = await posted(fake)
    assert alert["embeds"][0]["url"] == thread.permalink(thread.posts[0].id)
    listed = await reply(fake, await fake.slash(fake.MODERATOR, "modq", "watch", "list"))
    description = listed["embeds"][0]["description"]
    assert thread.url in description and "from the settings" in description
    assert f"<#{fake.GENERAL_CHANNEL_ID}>" in description
    await eventually(lambda: _polled_twice(forum))


async def _polled_twice(forum: ForumServer) -> bool:
    return len(forum.requests) >= 2

"""The Discord channel watcher through the fake Discord: MESSAGE_CREATE and MESSAGE_UPDATE in watched
channels, threads, forum posts and categories become alerts in the moderators' channel with jump links;
bots' and exempt moderators' messages are not reviewed; the bot asks for the message-content intent."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tests.e2e.conftest import StartRuntime
from tests.e2e.doubles import make_thread
from tests.e2e.test_discord_alerts import field, posted
from tests.fakes.discord_server import FakeDiscord, User

OTHER_BOT = User(700000000000000499, "ferrybot", bot=True)
GUILD_MESSAGES = 1 << 9
MESSAGE_CONTENT = 1 << 15


def jump_url(fake: FakeDiscord, channel_id: int, message_id: int) -> str:
    return f"https://discord.com/channels/{fake.GUILD_ID}/{channel_id}/{message_id}"


def message(
    fake: FakeDiscord, user: User, channel_id: int, content: str, *, message_id: int | None = None
) -> dict[str, Any]:
    """A MESSAGE_CREATE / MESSAGE_UPDATE payload as Discord sends it (author, partial member)."""
    member = fake.member_payload(user)
    del member["user"]
    return {
        "id": str(message_id or fake.snowflake()),
        "channel_id": str(channel_id),
        "guild_id": str(fake.GUILD_ID),
        "author": fake.user_payload(user),
        "member": member,
        "content": content,
        "timestamp": datetime.now(UTC).isoformat(),
        "edited_timestamp": datetime.now(UTC).isoformat() if message_id else None,
        "tts": False,
        "mention_everyone": False,
        "mentions": [],
        "mention_roles": [],
        "attachments": [],
        "embeds": [],
        "pinned": False,
        "type": 0,
        "flags": 0,
    }


async def say(fake: FakeDiscord, user: User, channel_id: int, content: str) -> int:
    """Post a message as `user`; returns its id."""
    payload = message(fake, user, channel_id, content)
    await fake.dispatch("MESSAGE_CREATE", payload)
    return int(payload["id"])


def channel(fake: FakeDiscord, kind: int, name: str, **extra: Any) -> dict[str, Any]:
    """A guild channel object: 0 text, 4 category, 15 forum."""
    return {
        "id": str(fake.snowflake()),
        "type": kind,
        "guild_id": str(fake.GUILD_ID),
        "name": name,
        "position": 5,
        "permission_overwrites": [],
        "nsfw": False,
        "parent_id": None,
        "topic": None,
        "rate_limit_per_user": 0,
        "last_message_id": None,
        **extra,
    }


def forum_post(fake: FakeDiscord, forum_id: str, title: str) -> dict[str, Any]:
    """A THREAD_CREATE payload for a post of a forum channel."""
    return {
        "id": str(fake.snowflake()),
        "type": 11,
        "guild_id": str(fake.GUILD_ID),
        "parent_id": forum_id,
        "owner_id": str(fake.VISITOR.id),
        "name": title,
        "last_message_id": None,
        "rate_limit_per_user": 0,
        "message_count": 0,
        "member_count": 1,
        "flags": 0,
        "applied_tags": [],
        "newly_created": True,
        "thread_metadata": {
            "archived": False,
            "auto_archive_duration": 1440,
            "archive_timestamp": datetime.now(UTC).isoformat(),
            "locked": False,
        },
    }


def watching(**discord: Any) -> dict[str, Any]:
    return {"watch": {"discord": discord}}


async def test_new_and_edited_messages_become_alerts_with_jump_links(
    fake: FakeDiscord, start_runtime: StartRuntime
) -> None:
    await start_runtime(**watching(channel_ids=[fake.GENERAL_CHANNEL_ID]))
    [identify] = [p for p in fake.gateway_log if p.get("op") == 2]
    intents = identify["d"]["intents"]
    assert intents & MESSAGE_CONTENT and intents & GUILD_MESSAGES

    insult = await say(fake, fake.VISITOR, fake.GENERAL_CHANNEL_ID, "Only an idiot takes the night ferry.")
    [alert] = await posted(fake)
    [embed] = alert["embeds"]
    assert embed["url"] == jump_url(fake, fake.GENERAL_CHANNEL_ID, insult)
    assert embed["author"]["name"] == fake.VISITOR.name
    assert field(embed, "Thread") == "\\#general"  # escaped: a leading # would be a heading

    calm = await say(fake, fake.VISITOR, fake.GENERAL_CHANNEL_ID, "The day ferry is fine.")
    edit = message(fake, fake.VISITOR, fake.GENERAL_CHANNEL_ID, "Buy crypto on the ferry.", message_id=calm)
    await fake.dispatch("MESSAGE_UPDATE", edit)
    _, edited = await posted(fake, 2)
    assert edited["embeds"][0]["url"] == jump_url(fake, fake.GENERAL_CHANNEL_ID, calm)
    assert "crypto" in edited["embeds"][0]["description"]

    await fake.dispatch("MESSAGE_UPDATE", edit)  # delivered again: the same text is not reviewed again
    await say(fake, fake.VISITOR, fake.GENERAL_CHANNEL_ID, "idiot, the last one")
    await posted(fake, 3)
    assert len(fake.channel_messages()) == 3


async def test_bots_and_exempt_moderators_are_not_reviewed(
    fake: FakeDiscord, start_runtime: StartRuntime
) -> None:
    fake.users[OTHER_BOT.id] = OTHER_BOT
    runtime = await start_runtime(**watching(channel_ids=[fake.GENERAL_CHANNEL_ID]))
    for user in (OTHER_BOT, fake.BOT, fake.MODERATOR, fake.HELPER, fake.ADMIN):
        await say(fake, user, fake.GENERAL_CHANNEL_ID, f"{user.name}: what an idiot")
    await say(fake, fake.VISITOR, fake.MOD_CHANNEL_ID, "idiot in the moderators' own channel")
    last = await say(fake, fake.VISITOR, fake.GENERAL_CHANNEL_ID, "visitor: what an idiot")
    [alert] = await posted(fake)
    assert alert["embeds"][0]["url"] == jump_url(fake, fake.GENERAL_CHANNEL_ID, last)
    # Reviews of one channel run in turn: had an earlier message been reviewed, it would be stored by now.
    assert (await runtime.store.row_counts())["posts"] == 1


async def test_moderators_are_reviewed_when_not_exempt(
    fake: FakeDiscord, start_runtime: StartRuntime
) -> None:
    await start_runtime(**watching(channel_ids=[fake.GENERAL_CHANNEL_ID], exempt_moderators=False))
    await say(fake, OTHER_BOT, fake.GENERAL_CHANNEL_ID, "bot: idiot")  # bots stay exempt
    helper = await say(fake, fake.HELPER, fake.GENERAL_CHANNEL_ID, "helper: what an idiot")
    [alert] = await posted(fake)
    assert alert["embeds"][0]["url"] == jump_url(fake, fake.GENERAL_CHANNEL_ID, helper)


async def test_channels_forum_posts_and_threads_in_a_watched_category(
    fake: FakeDiscord, start_runtime: StartRuntime
) -> None:
    category = channel(fake, 4, "Harbour")
    await start_runtime(**watching(category_ids=[int(category["id"])]))
    text = channel(fake, 0, "ferries", parent_id=category["id"], topic="Ferry timetables and fares")
    forum = channel(
        fake, 15, "questions", parent_id=category["id"], available_tags=[], default_reaction_emoji=None
    )
    for created in (category, text, forum):
        await fake.dispatch("CHANNEL_CREATE", created)
    post = forum_post(fake, forum["id"], "Is the night ferry worth it?")
    await fake.dispatch("THREAD_CREATE", post)

    await say(fake, fake.VISITOR, fake.GENERAL_CHANNEL_ID, "idiot outside the category")  # not watched
    in_text = await say(fake, fake.VISITOR, int(text["id"]), "Only an idiot pays that fare.")
    in_forum = await say(fake, fake.VISITOR, int(post["id"]), "Ask the crypto people instead.")
    first, second = await posted(fake, 2)
    assert first["embeds"][0]["url"] == jump_url(fake, int(text["id"]), in_text)
    assert field(first["embeds"][0], "Thread") == "Ferry timetables and fares"
    assert second["embeds"][0]["url"] == jump_url(fake, int(post["id"]), in_forum)
    assert field(second["embeds"][0], "Thread") == "Is the night ferry worth it?"
    assert len(fake.channel_messages()) == 2


async def test_without_watched_channels_the_bot_asks_for_no_privileged_intent(
    fake: FakeDiscord, start_runtime: StartRuntime
) -> None:
    runtime = await start_runtime()
    [identify] = [p for p in fake.gateway_log if p.get("op") == 2]
    assert not identify["d"]["intents"] & MESSAGE_CONTENT
    await say(fake, fake.VISITOR, fake.GENERAL_CHANNEL_ID, "idiot")
    await runtime.service.review(make_thread("t1", "an idiot on the forum"))
    await posted(fake)
    assert (await runtime.store.row_counts())["posts"] == 1  # only the forum post

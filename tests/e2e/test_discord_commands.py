"""`/modq` slash commands end to end: discord.py syncs them to the fake, the fake sends INTERACTION_CREATE as
a moderator (or not), and the tests read the callbacks and followups the bot sent back."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import discord
import pytest
from aiohttp import web
from discord import app_commands
from discord.ext import commands

from bot.discord.app import ModassistBot
from bot.runtime import Runtime
from tests.e2e.conftest import StartRuntime, eventually
from tests.e2e.doubles import make_thread
from tests.e2e.test_discord_alerts import MESSAGES, field, posted
from tests.fakes.discord_server import FakeDiscord, Interaction
from tests.fakes.serving import served


async def reply(fake: FakeDiscord, interaction: Interaction) -> dict[str, Any]:
    """The data of the bot's (immediate) reply; it must be ephemeral."""
    response = await fake.response(interaction)
    assert response["type"] == 4, response
    assert response["data"]["flags"] & 64, "replies to moderators are ephemeral"
    return response["data"]


async def queue(runtime: Runtime) -> None:
    """Three threads with flags: t1 has 3 inflammatory posts by Alice, t2 off-topic ones by Bob, t3 both."""
    await runtime.service.review(make_thread("t1", "idiot a", "idiot b", "fine", "idiot c", author="Alice"))
    await runtime.service.review(
        make_thread("t2", "crypto a", "crypto b", author="Bob", title="Harbour ferry")
    )
    await runtime.service.review(make_thread("t3", "crypto idiot", author="Carol"))


async def test_without_moderator_roles_discord_shows_the_group_to_manage_messages_only(
    fake: FakeDiscord, start_runtime: StartRuntime
) -> None:
    await start_runtime(moderator_role_ids=[])
    [sync] = fake.recorded("PUT", rf"/applications/{fake.APPLICATION_ID}/guilds/{fake.GUILD_ID}/commands")
    [group] = sync.json
    assert str(group["default_member_permissions"]) == str(1 << 13)  # Manage Messages


async def test_the_commands_are_synced_to_the_guild_as_one_guild_only_group(
    fake: FakeDiscord, start_runtime: StartRuntime
) -> None:
    await start_runtime()
    [sync] = fake.recorded("PUT", rf"/applications/{fake.APPLICATION_ID}/guilds/{fake.GUILD_ID}/commands")
    [group] = sync.json
    assert group["name"] == "modq"
    # Moderator roles are configured: a bot cannot grant a command to a role, and Discord would hide a
    # group with default permissions from a moderator who holds only the role. Shown to all; we check.
    assert group["default_member_permissions"] is None
    assert group["contexts"] == [0]  # guild only
    names = {o["name"] for o in group["options"]}
    assert names == {"list", "show", "confirm", "dismiss", "author", "scan", "stats", "thresholds", "watch"}
    assert not fake.recorded("PUT", rf"/applications/{fake.APPLICATION_ID}/commands")  # nothing global
    # Connected as configured: JSON on the gateway (discord.py asks for zlib-stream; the fake sends plain
    # text frames, which it reads as they are), the guilds intent only (no privileged intent).
    assert fake.gateway_queries[0]["encoding"] == "json"
    [identify] = [m["d"] for m in fake.gateway_log if m["op"] == 2]
    assert identify["intents"] == 1 and identify["token"] == "fake-bot-token"
    assert fake.recorded("GET", "/users/@me")[0].headers["Authorization"] == "Bot fake-bot-token"


async def test_a_non_moderator_gets_a_private_refusal_for_every_command(
    fake: FakeDiscord, start_runtime: StartRuntime
) -> None:
    runtime = await start_runtime()
    await queue(runtime)
    await posted(fake, 3)
    for path, options in [
        (("list",), {}),
        (("show",), {"id": 1}),
        (("confirm",), {"id": 1}),
        (("dismiss",), {"id": 1}),
        (("author",), {"name": "Alice"}),
        (("stats",), {}),
        (("thresholds",), {}),
    ]:
        data = await reply(fake, await fake.slash(fake.VISITOR, "modq", *path, **options))
        assert "Only moderators" in data["content"], path
    assert await runtime.store.decisions_for(1) == []
    assert not fake.recorded("PATCH", MESSAGES + r"/\d+")


async def test_list_filters_and_pages_through_open_flags(
    fake: FakeDiscord, start_runtime: StartRuntime
) -> None:
    runtime = await start_runtime(bot={"list_page_size": 3})
    await queue(runtime)

    data = await reply(fake, await fake.slash(fake.MODERATOR, "modq", "list"))
    [embed] = data["embeds"]
    assert embed["title"] == "Open flags · page 1"
    assert embed["footer"]["text"] == "more on the next page"
    assert embed["description"].count("\n**") + 1 == 3  # three flags on the page, newest first
    previous, following = [c for row in data["components"] for c in row["components"]]
    assert previous["disabled"] and not following["disabled"]

    # Next, on the ephemeral reply: the same message shows page 2, then page 3 is the last one.
    original = fake.interactions[next(reversed(fake.interactions))].original
    assert original is not None
    page2 = await fake.response(await fake.click(fake.MODERATOR, int(original["id"]), following["custom_id"]))
    assert page2["type"] == 7
    assert page2["data"]["embeds"][0]["title"] == "Open flags · page 2"
    page3 = await fake.response(await fake.click(fake.MODERATOR, int(original["id"]), following["custom_id"]))
    assert page3["data"]["embeds"][0]["title"] == "Open flags · page 3"
    assert page3["data"]["embeds"][0]["footer"]["text"] == "end of the list"
    seen = "".join(
        p["embeds"][0]["description"] for p in (data, page2["data"], page3["data"])
    )  # 3 + 3 + 2 flags: t1 3, t2 2, t3 2 (crypto and idiot)
    assert seen.count("Inflammatory") == 4 and seen.count("Off-topic") == 3

    # Someone else cannot page through a moderator's list.
    other = await fake.click(fake.HELPER, int(original["id"]), following["custom_id"])
    assert "belongs to someone else" in (await reply(fake, other))["content"]

    # Filters: category, author, thread (by title), and a page number.
    by_category = await reply(fake, await fake.slash(fake.HELPER, "modq", "list", category="off_topic"))
    assert by_category["embeds"][0]["description"].count("Off-topic") == 3
    assert "Inflammatory" not in by_category["embeds"][0]["description"]
    by_author = await reply(fake, await fake.slash(fake.HELPER, "modq", "list", author="alice"))
    assert by_author["embeds"][0]["description"].count("Alice") == 3
    by_thread = await reply(fake, await fake.slash(fake.HELPER, "modq", "list", thread="harbour"))
    assert by_thread["embeds"][0]["description"].count("Bob") == 2
    assert "thread: harbour" in by_thread["embeds"][0]["footer"]["text"]
    far = await reply(fake, await fake.slash(fake.HELPER, "modq", "list", page=9))
    assert far["embeds"][0]["description"] == "No more open flags."


async def test_show_gives_one_flag_in_full(fake: FakeDiscord, start_runtime: StartRuntime) -> None:
    runtime = await start_runtime()
    await queue(runtime)
    [detail] = (await runtime.store.author_history("Carol")).flags[-1:]
    data = await reply(fake, await fake.slash(fake.MODERATOR, "modq", "show", id=detail.flag.id))
    [embed] = data["embeds"]
    assert embed["title"].startswith(f"Flag {detail.flag.id}: ")
    assert "crypto idiot" in embed["description"]
    assert field(embed, "Position") == "#1"
    assert "Inflammatory 0.91" in field(embed, "All scores") and "Off-topic 0.78" in field(
        embed, "All scores"
    )

    missing = await reply(fake, await fake.slash(fake.MODERATOR, "modq", "show", id=9999))
    assert missing["content"] == "There is no flag 9999."


async def test_confirm_and_dismiss_store_the_decision_with_its_note_and_update_the_alert(
    fake: FakeDiscord, start_runtime: StartRuntime
) -> None:
    runtime = await start_runtime()
    await runtime.service.review(make_thread("t1", "idiot", "crypto tips"))
    first, _ = await posted(fake, 2)
    await eventually(lambda: _all_sent(runtime))
    inflammatory, off_topic = sorted((await runtime.store.open_flags()), key=lambda d: d.flag.id)

    data = await reply(
        fake,
        await fake.slash(fake.MODERATOR, "modq", "confirm", id=inflammatory.flag.id, note="second warning"),
    )
    assert data["content"].startswith(f"Flag {inflammatory.flag.id} confirmed")
    [decision] = await runtime.store.decisions_for(inflammatory.flag.id)
    assert (decision.verdict, decision.note, decision.moderator_id) == (
        "confirm",
        "second warning",
        fake.MODERATOR.id,
    )

    # The alert in the channel is edited to show the decision.
    edit = await fake.wait_for_request("PATCH", rf"/channels/{fake.MOD_CHANNEL_ID}/messages/{first['id']}")
    assert edit.json["allowed_mentions"] == {"parse": []}
    decided = field(edit.json["embeds"][0], "Decision")
    assert "Confirmed by **rolemod**" in decided and "second warning" in decided

    data = await reply(fake, await fake.slash(fake.HELPER, "modq", "dismiss", id=off_topic.flag.id))
    assert data["content"].startswith(f"Flag {off_topic.flag.id} dismissed")
    assert (await runtime.store.get_flag(off_topic.flag.id)).flag.status == "dismissed"
    actions = [a.action for a in await runtime.store.audit_log(action="decision.")]
    assert actions == ["decision.dismiss", "decision.confirm"]


async def test_a_decision_on_a_deleted_alert_is_stored_and_says_so(
    fake: FakeDiscord, start_runtime: StartRuntime
) -> None:
    runtime = await start_runtime()
    await runtime.service.review(make_thread("t1", "idiot"))
    [message] = await posted(fake)
    await eventually(lambda: _all_sent(runtime))
    del fake.messages[int(message["id"])]  # a moderator deleted the alert
    data = await reply(fake, await fake.slash(fake.MODERATOR, "modq", "confirm", id=1))
    assert "confirmed" in data["content"] and "deleted" in data["content"]
    assert (await runtime.store.get_flag(1)).flag.status == "confirmed"


async def test_author_lists_flags_and_decisions(fake: FakeDiscord, start_runtime: StartRuntime) -> None:
    runtime = await start_runtime()
    await queue(runtime)
    await runtime.store.record_decision(1, "confirm", moderator_id=fake.HELPER.id, moderator_name="helper")
    data = await reply(fake, await fake.slash(fake.MODERATOR, "modq", "author", name="ALICE"))
    [embed] = data["embeds"]
    assert embed["title"] == "Author history: ALICE"
    assert embed["footer"]["text"] == "4 posts stored · 3 flags"
    assert "confirmed: 1" in embed["description"] and "open: 2" in embed["description"]
    assert any("Confirmed by **helper**" in f["value"] for f in embed["fields"])


async def test_stats_counts_decisions_and_measures_precision(
    fake: FakeDiscord, start_runtime: StartRuntime
) -> None:
    runtime = await start_runtime()
    await queue(runtime)
    inflammatory = [d.flag.id for d in await runtime.store.open_flags(category="inflammatory")]
    for flag_id, verdict in zip(inflammatory, ["confirm", "confirm", "dismiss"], strict=False):
        await runtime.store.record_decision(flag_id, verdict, moderator_id=1)  # type: ignore[arg-type]
    data = await reply(fake, await fake.slash(fake.MODERATOR, "modq", "stats"))
    [embed] = data["embeds"]
    value = field(embed, "Inflammatory")
    assert "flags **4**" in value and "confirmed 2" in value and "dismissed 1" in value and "open 1" in value
    assert "precision **67% (2/3)**" in value
    assert "precision **n/a (none decided)**" in field(embed, "Off-topic")


async def test_thresholds_are_shown_to_moderators_and_changed_only_by_admins(
    fake: FakeDiscord, start_runtime: StartRuntime
) -> None:
    runtime = await start_runtime()
    shown = await reply(fake, await fake.slash(fake.MODERATOR, "modq", "thresholds"))
    assert field(shown["embeds"][0], "Inflammatory") == "0.60"

    refused = await reply(
        fake, await fake.slash(fake.MODERATOR, "modq", "thresholds", category="inflammatory", value=0.95)
    )
    assert "Only admins" in refused["content"]
    assert runtime.service.suite.thresholds["inflammatory"] == 0.6

    changed = await reply(
        fake, await fake.slash(fake.ADMIN, "modq", "thresholds", category="inflammatory", value=0.95)
    )
    assert "now 0.95 (was 0.60)" in changed["content"]
    [audit] = await runtime.store.audit_log(action="setting.change")
    assert (audit.actor_id, audit.details) == (
        fake.ADMIN.id,
        {"key": "thresholds.inflammatory", "old": None, "new": 0.95},
    )
    shown = await reply(fake, await fake.slash(fake.HELPER, "modq", "thresholds"))
    assert field(shown["embeds"][0], "Inflammatory") == "0.95 (changed at run time)"

    # New posts are judged by it: 'idiot' scores 0.91 < 0.95, so no flag and no alert.
    review = await runtime.service.review(make_thread("t9", "idiot"))
    assert review.flag_count == 0


async def test_a_changed_threshold_outlives_a_restart(fake: FakeDiscord, start_runtime: StartRuntime) -> None:
    first = await start_runtime()
    await reply(fake, await fake.slash(fake.ADMIN, "modq", "thresholds", category="off_topic", value=0.8))
    await first.close()
    second = await start_runtime()
    assert second.service.suite.thresholds["off_topic"] == 0.8


# -- scan ------------------------------------------------------------------------------------------------

SCANNED = [
    {
        "id": "s1",
        "thread_id": "ferry",
        "thread_title": "Harbour ferry",
        "author": "Ann",
        "text": "The ferry stops.",
    },
    {"id": "s2", "thread_id": "ferry", "author": "Ben", "text": "Only an idiot takes the ferry."},
    {"id": "s3", "thread_id": "ferry", "author": "Cy", "text": "Buy crypto now"},
]


@pytest.fixture
async def forum() -> AsyncIterator[str]:
    """A local web server on 127.0.0.1 serving a JSON Lines thread at /thread.jsonl."""

    async def thread(request: web.Request) -> web.Response:
        body = "\n".join(json.dumps(r) for r in SCANNED)
        return web.Response(text=body, content_type="application/x-ndjson")

    app = web.Application()
    app.router.add_get("/thread.jsonl", thread)
    async with served(app) as base_url:
        yield base_url


async def _scan_result(fake: FakeDiscord, interaction: Interaction) -> dict[str, Any]:
    deferred = await fake.response(interaction)
    assert deferred["type"] == 5 and deferred["data"]["flags"] & 64  # "thinking...", privately
    followup = await fake.followup(interaction)
    [embed] = followup["embeds"]
    return embed


async def test_scan_a_url_classifies_on_demand_and_stores_nothing(
    fake: FakeDiscord, start_runtime: StartRuntime, forum: str
) -> None:
    runtime = await start_runtime()
    embed = await _scan_result(
        fake, await fake.slash(fake.MODERATOR, "modq", "scan", url=f"{forum}/thread.jsonl")
    )
    assert embed["title"] == "Scan: 2 of 3 posts flagged"
    assert "**Harbour ferry**: 3 posts, 2 flagged" in embed["description"]
    names = [f["name"] for f in embed["fields"]]
    assert names == ["#2 by Ben: Inflammatory 0.91", "#3 by Cy: Off-topic 0.78"]
    assert (await runtime.store.row_counts())["posts"] == 0
    assert not fake.channel_messages()


async def test_scan_an_attached_file_downloads_it_from_the_cdn(
    fake: FakeDiscord, start_runtime: StartRuntime
) -> None:
    await start_runtime()
    attachment = fake.add_attachment(
        "thread.jsonl", "\n".join(json.dumps(r) for r in SCANNED).encode(), "application/x-ndjson"
    )
    embed = await _scan_result(fake, await fake.slash(fake.HELPER, "modq", "scan", file=attachment))
    assert embed["title"] == "Scan: 2 of 3 posts flagged"
    assert "thread.jsonl" in embed["footer"]["text"]
    assert fake.recorded("GET", r"/cdn/attachments/.*")


async def test_scan_needs_exactly_one_source_and_reports_unreadable_input(
    fake: FakeDiscord, start_runtime: StartRuntime, forum: str
) -> None:
    await start_runtime()
    neither = await reply(fake, await fake.slash(fake.MODERATOR, "modq", "scan"))
    assert "either a url or a file" in neither["content"]

    binary = fake.add_attachment("image.png", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, "image/png")
    interaction = await fake.slash(fake.MODERATOR, "modq", "scan", file=binary)
    assert (await fake.response(interaction))["type"] == 5
    error = await fake.followup(interaction)
    assert "image.png" in error["content"] and error["flags"] & 64

    interaction = await fake.slash(fake.MODERATOR, "modq", "scan", url=f"{forum}/missing")
    await fake.response(interaction)
    assert "HTTP 404" in (await fake.followup(interaction))["content"]


async def _all_sent(runtime: Runtime) -> bool:
    return set(await runtime.store.outbox_counts()) == {"sent"}


class _DemoGroup(app_commands.Group):
    """A sub-group another feature adds to /modq (as issue 7's `/modq watch` will)."""

    @app_commands.command(name="ping", description="answers pong")
    async def ping(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message("pong", ephemeral=True)


class _DemoCog(commands.Cog):
    def __init__(self, bot: ModassistBot) -> None:
        self.bot = bot

    async def cog_load(self) -> None:
        self.bot.queue.add_subgroup(_DemoGroup(name="demo", description="a second cog's commands"))


async def test_a_second_cog_adds_a_subgroup_to_modq_under_the_same_moderator_check(
    fake: FakeDiscord, start_runtime: StartRuntime
) -> None:
    await start_runtime(cogs=[_DemoCog])
    [group] = fake.commands[fake.GUILD_ID]
    assert "demo" in {o["name"] for o in group["options"]}
    assert (await reply(fake, await fake.slash(fake.MODERATOR, "modq", "demo", "ping")))["content"] == "pong"
    refused = await reply(fake, await fake.slash(fake.VISITOR, "modq", "demo", "ping"))
    assert "Only moderators" in refused["content"]


async def test_scan_refuses_private_addresses_unless_allowed(
    fake: FakeDiscord, start_runtime: StartRuntime, forum: str
) -> None:
    await start_runtime(bot={"fetch_private_addresses": False})
    interaction = await fake.slash(fake.MODERATOR, "modq", "scan", url=f"{forum}/thread.jsonl")
    await fake.response(interaction)
    error = await fake.followup(interaction)
    assert "127.0.0.1 is not a public address" in error["content"] and error["flags"] & 64
    assert "fetch_private_addresses" in error["content"]

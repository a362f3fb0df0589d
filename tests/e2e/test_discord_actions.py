"""Acting from the alert on the Discord message it is about, through the real discord.py and the fake
Discord: Delete and Time out with their ephemeral confirmations, the reason in Discord's audit log, our
audit, the alert edited; missing permissions, a message already gone, an author who left, and a second
moderator pressing the button afterwards."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.runtime import Runtime
from tests.e2e.conftest import StartRuntime, eventually
from tests.e2e.doubles import make_thread
from tests.e2e.test_discord_alerts import buttons, field, posted
from tests.e2e.test_watch_discord import message, watching
from tests.fakes.discord_server import MANAGE_MESSAGES, MODERATE_MEMBERS, FakeDiscord, User

DELETE = r"/channels/\d+/messages/\d+"
MEMBER = r"/guilds/\d+/members/\d+"


def bot_may_manage_messages(fake: FakeDiscord) -> None:
    """Give the bot the Helpers role (Manage Messages) before it connects."""
    fake.users[fake.BOT.id] = replace(fake.BOT, role_ids=(fake.ROLE_HELPER,))


async def alerted_message(fake: FakeDiscord, start_runtime: StartRuntime) -> tuple[Runtime, int, int, int]:
    """A visitor's insult in #general, stored in the fake and reviewed: (runtime, message id, alert
    message id, alert id)."""
    runtime = await start_runtime(**watching(channel_ids=[fake.GENERAL_CHANNEL_ID]))
    payload = message(fake, fake.VISITOR, fake.GENERAL_CHANNEL_ID, "Only an idiot takes the night ferry.")
    fake.messages[int(payload["id"])] = payload  # in the channel, so that it can be deleted
    await fake.dispatch("MESSAGE_CREATE", payload)
    [alert] = await posted(fake)
    alert_id = int(buttons(alert)[0]["custom_id"].split(":")[1])
    return runtime, int(payload["id"]), int(alert["id"]), alert_id


async def press(fake: FakeDiscord, user: User, message_id: int, custom_id: str) -> dict[str, Any]:
    """Click and return the bot's answer (its first callback)."""
    return await fake.response(await fake.click(user, message_id, custom_id))


def text_of(response: dict[str, Any]) -> str:
    return str(response["data"].get("content") or "")


async def test_delete_confirm_removes_the_message_audits_it_and_shows_it_on_the_alert(
    fake: FakeDiscord, start_runtime: StartRuntime
) -> None:
    bot_may_manage_messages(fake)
    runtime, insult, alert_message, alert_id = await alerted_message(fake, start_runtime)
    delete = next(b for b in buttons(fake.messages[alert_message]) if b.get("label") == "Delete message")
    assert delete["custom_id"] == f"alert:{alert_id}:delete"

    ask = await fake.click(fake.HELPER, alert_message, f"alert:{alert_id}:delete")
    question = await fake.response(ask)
    assert question["type"] == 4 and question["data"]["flags"] & 64  # ephemeral
    assert "**visitor**" in text_of(question) and insult in fake.messages  # nothing deleted yet
    assert ask.original is not None
    [yes] = buttons(ask.original)
    assert yes["custom_id"] == f"alert:{alert_id}:delete-yes"

    done = await press(fake, fake.HELPER, int(ask.original["id"]), yes["custom_id"])
    assert done["type"] == 7 and text_of(done) == "Deleted."
    assert insult not in fake.messages
    [request] = fake.recorded("DELETE", DELETE)
    assert request.path.endswith(f"/channels/{fake.GENERAL_CHANNEL_ID}/messages/{insult}")
    reason = fake.deleted[insult]
    assert reason == f"modassist alert {alert_id} (Inflammatory): deleted by helper"

    [audit] = await runtime.store.audit_log(action="action.")
    assert (audit.action, audit.actor_id, audit.actor_name, audit.target_kind) == (
        "action.delete_message",
        fake.HELPER.id,
        "helper",
        "post",
    )
    assert audit.details["outcome"] == "deleted" and audit.details["message_id"] == insult
    assert audit.details["reason"] == reason

    edited = await fake.wait_until(lambda: _actions(fake, alert_message))
    assert "Message deleted by **helper**" in edited and f"<@{fake.HELPER.id}>" in edited and "<t:" in edited

    # A second moderator, on the same alert, is told it is done; Discord is not asked again.
    again = await press(fake, fake.ADMIN, alert_message, f"alert:{alert_id}:delete")
    assert again["data"]["flags"] & 64
    assert text_of(again).startswith("Already done: 🗑 Message deleted by **helper**")
    assert len(fake.recorded("DELETE", DELETE)) == 1


def _actions(fake: FakeDiscord, message_id: int) -> str | None:
    embed = fake.messages[message_id]["embeds"][0]
    return next((f["value"] for f in embed.get("fields", []) if f["name"] == "Actions"), None)


async def test_without_manage_messages_the_moderator_or_the_bot_is_told_in_one_line(
    fake: FakeDiscord, start_runtime: StartRuntime
) -> None:
    runtime, insult, alert_message, alert_id = await alerted_message(fake, start_runtime)
    custom_id = f"alert:{alert_id}:delete"

    # The bot holds only the base permissions.
    refused = await press(fake, fake.HELPER, alert_message, custom_id)
    assert refused["data"]["flags"] & 64
    general = f"<#{fake.GENERAL_CHANNEL_ID}>"
    assert (
        text_of(refused)
        == f"The bot lacks the Manage Messages permission in {general}; an admin can grant it."
    )
    # A member of the moderator role (no Discord permission of its own) may not delete either.
    refused = await press(fake, fake.MODERATOR, alert_message, custom_id)
    assert (
        text_of(refused)
        == f"You need the Manage Messages permission in <#{fake.GENERAL_CHANNEL_ID}> to do this."
    )
    assert not fake.recorded("DELETE", DELETE) and insult in fake.messages
    assert not await runtime.store.audit_log(action="action.")


async def test_discords_own_403_is_explained_in_one_line(
    fake: FakeDiscord, start_runtime: StartRuntime
) -> None:
    bot_may_manage_messages(fake)
    runtime, insult, alert_message, alert_id = await alerted_message(fake, start_runtime)
    ask = await fake.click(fake.HELPER, alert_message, f"alert:{alert_id}:delete")
    await fake.response(ask)
    assert ask.original is not None
    fake.fail("DELETE", DELETE, 403, body={"message": "Missing Permissions", "code": 50013})
    refused = await press(fake, fake.HELPER, int(ask.original["id"]), f"alert:{alert_id}:delete-yes")
    assert text_of(refused) == (
        f"Discord refused: the bot lacks the Manage Messages permission in <#{fake.GENERAL_CHANNEL_ID}>."
    )
    assert insult in fake.messages and not await runtime.store.audit_log(action="action.")


async def test_a_message_already_deleted_is_said_plainly_and_the_alert_still_updated(
    fake: FakeDiscord, start_runtime: StartRuntime
) -> None:
    bot_may_manage_messages(fake)
    runtime, insult, alert_message, alert_id = await alerted_message(fake, start_runtime)
    ask = await fake.click(fake.HELPER, alert_message, f"alert:{alert_id}:delete")
    await fake.response(ask)
    assert ask.original is not None
    del fake.messages[insult]  # its author deleted it meanwhile

    done = await press(fake, fake.HELPER, int(ask.original["id"]), f"alert:{alert_id}:delete-yes")
    assert text_of(done) == "The message was already deleted on Discord."
    [audit] = await eventually(lambda: runtime.store.audit_log(action="action."))
    assert audit.details["outcome"] == "already_gone"
    edited = await fake.wait_until(lambda: _actions(fake, alert_message))
    assert "Message found already deleted by **helper**" in edited


async def test_forum_posts_get_no_delete_button(fake: FakeDiscord, start_runtime: StartRuntime) -> None:
    runtime = await start_runtime()
    await runtime.service.review(make_thread("t1", "what an idiot"))
    [alert] = await posted(fake)
    assert all(not str(b.get("custom_id", "")).endswith(":delete") for b in buttons(alert))
    assert field(alert["embeds"][0], "Thread") == "Thread t1"


def helpers_may_moderate_members(fake: FakeDiscord) -> None:
    """The Helpers role (the helper's, and the bot's) gets Moderate Members too, before the bot connects."""
    fake.roles[fake.ROLE_HELPER] = ("Helpers", MANAGE_MESSAGES | MODERATE_MEMBERS)
    bot_may_manage_messages(fake)


async def choose(
    fake: FakeDiscord, user: User, alert_message: int, alert_id: int, seconds: int
) -> dict[str, Any]:
    """Press Time out, check the four durations offered privately, choose one; the bot's answer."""
    ask = await fake.click(user, alert_message, f"alert:{alert_id}:timeout")
    question = await fake.response(ask)
    assert question["data"]["flags"] & 64 and "**visitor**" in text_of(question), question
    assert ask.original is not None
    assert [b["label"] for b in buttons(ask.original)] == ["10 min", "1 h", "1 day", "1 week"]
    return await press(fake, user, int(ask.original["id"]), f"alert:{alert_id}:timeout-{seconds}")


async def test_time_out_the_author_for_a_chosen_duration_audited_and_shown_on_the_alert(
    fake: FakeDiscord, start_runtime: StartRuntime
) -> None:
    helpers_may_moderate_members(fake)
    runtime, _, alert_message, alert_id = await alerted_message(fake, start_runtime)
    labels = [b.get("label") for b in buttons(fake.messages[alert_message])]
    assert labels[-2:] == ["Delete message", "Time out author"]

    before = datetime.now(UTC)
    done = await choose(fake, fake.HELPER, alert_message, alert_id, 3600)
    assert done["type"] == 7 and text_of(done).startswith("Timed out **visitor** until <t:")
    until, reason = fake.timeouts[fake.VISITOR.id]
    assert until is not None
    ends = datetime.fromisoformat(until)
    assert before + timedelta(minutes=59) < ends < datetime.now(UTC) + timedelta(minutes=61)
    assert reason == f"modassist alert {alert_id} (Inflammatory): timed out for 1 h by helper"
    [request] = fake.recorded("PATCH", MEMBER)
    assert request.path.endswith(f"/guilds/{fake.GUILD_ID}/members/{fake.VISITOR.id}")

    [audit] = await runtime.store.audit_log(action="action.")
    assert (audit.action, audit.actor_name, audit.details["outcome"]) == (
        "action.timeout_member",
        "helper",
        "timed_out",
    )
    assert (audit.details["seconds"], audit.details["author_id"]) == (3600, fake.VISITOR.id)
    edited = await fake.wait_until(lambda: _actions(fake, alert_message))
    assert "Author timed out for 1 h (until <t:" in edited and "by **helper**" in edited

    again = await press(fake, fake.ADMIN, alert_message, f"alert:{alert_id}:timeout")
    assert text_of(again).startswith("Already done: ⏳ Author timed out for 1 h")
    assert len(fake.recorded("PATCH", MEMBER)) == 1


async def test_time_out_without_moderate_members_is_refused_in_one_line(
    fake: FakeDiscord, start_runtime: StartRuntime
) -> None:
    bot_may_manage_messages(fake)  # Manage Messages only
    runtime, _, alert_message, alert_id = await alerted_message(fake, start_runtime)
    refused = await press(fake, fake.ADMIN, alert_message, f"alert:{alert_id}:timeout")
    assert text_of(refused) == "The bot lacks the Moderate Members permission; an admin can grant it."
    refused = await press(fake, fake.HELPER, alert_message, f"alert:{alert_id}:timeout")
    assert text_of(refused) == "You need the Moderate Members permission to do this."
    assert not fake.recorded("PATCH", MEMBER) and not await runtime.store.audit_log(action="action.")


async def test_an_author_who_left_is_said_plainly_and_the_alert_still_updated(
    fake: FakeDiscord, start_runtime: StartRuntime
) -> None:
    helpers_may_moderate_members(fake)
    runtime, _, alert_message, alert_id = await alerted_message(fake, start_runtime)
    del fake.users[fake.VISITOR.id]  # left the server
    done = await choose(fake, fake.HELPER, alert_message, alert_id, 600)
    assert text_of(done) == "**visitor** has left the server; no time-out was applied."
    [audit] = await runtime.store.audit_log(action="action.")
    assert audit.details["outcome"] == "not_member"
    edited = await fake.wait_until(lambda: _actions(fake, alert_message))
    assert "Author found gone from the server (no time-out) by **helper**" in edited


async def test_discords_403_on_a_time_out_is_explained_in_one_line(
    fake: FakeDiscord, start_runtime: StartRuntime
) -> None:
    helpers_may_moderate_members(fake)
    runtime, _, alert_message, alert_id = await alerted_message(fake, start_runtime)
    fake.fail("PATCH", MEMBER, 403, body={"message": "Missing Permissions", "code": 50013})
    refused = await choose(fake, fake.HELPER, alert_message, alert_id, 86400)
    assert text_of(refused) == (
        "Discord refused: the bot lacks the Moderate Members permission, or visitor is an admin or holds"
        " a role above the bot's."
    )
    assert fake.VISITOR.id not in fake.timeouts and not await runtime.store.audit_log(action="action.")


async def test_a_confirmation_asked_before_a_restart_still_works_after_it(
    fake: FakeDiscord, start_runtime: StartRuntime
) -> None:
    helpers_may_moderate_members(fake)
    first_run, insult, alert_message, alert_id = await alerted_message(fake, start_runtime)
    ask = await fake.click(fake.HELPER, alert_message, f"alert:{alert_id}:delete")
    await fake.response(ask)
    assert ask.original is not None
    await first_run.close()

    second_run = await start_runtime(**watching(channel_ids=[fake.GENERAL_CHANNEL_ID]))
    done = await press(fake, fake.HELPER, int(ask.original["id"]), f"alert:{alert_id}:delete-yes")
    assert text_of(done) == "Deleted." and insult not in fake.messages
    timed_out = await choose(fake, fake.ADMIN, alert_message, alert_id, 604800)
    assert text_of(timed_out).startswith("Timed out **visitor**")
    actions = [e.action for e in await second_run.store.audit_log(action="action.")]
    assert actions == ["action.timeout_member", "action.delete_message"]
    await fake.wait_until(lambda: "Author timed out" in (_actions(fake, alert_message) or ""))
    deleted, timed = str(_actions(fake, alert_message)).splitlines()
    assert deleted.startswith("🗑 Message deleted by **helper**")
    assert timed.startswith("⏳ Author timed out for 1 week (until <t:") and "by **admin**" in timed

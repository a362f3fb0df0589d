"""Issue 18's scripted session, end to end through the real discord.py and the fake Discord: a post arrives,
the alert appears; a moderator who holds only the moderator role (here a role with Manage Messages and
Moderate Members, as servers give their moderators) sees `/modq`, deletes the message and times its author
out from the alert, each confirmed privately; the message is gone, the author timed out, our audit and the
alert say so; a second moderator pressing Delete is told it is already done."""

from __future__ import annotations

import re
from dataclasses import replace

from tests.e2e.conftest import StartRuntime
from tests.e2e.test_discord_actions import DELETE, MEMBER, _actions, alerted_message, choose, press, text_of
from tests.e2e.test_discord_alerts import buttons, field
from tests.e2e.test_discord_commands import reply
from tests.fakes.discord_server import MANAGE_MESSAGES, MODERATE_MEMBERS, FakeDiscord


async def test_a_moderator_with_only_the_moderator_role_acts_from_the_alert(
    fake: FakeDiscord, start_runtime: StartRuntime
) -> None:
    powers = MANAGE_MESSAGES | MODERATE_MEMBERS
    fake.roles[fake.ROLE_MODERATOR] = ("Moderators", powers)  # the only role the moderator holds
    fake.users[fake.BOT.id] = replace(fake.BOT, role_ids=(fake.ROLE_MODERATOR,))  # the bot may act too
    assert fake.MODERATOR.role_ids == (fake.ROLE_MODERATOR,)

    # A post arrives and the alert appears in the moderators' channel, with the actions on it.
    runtime, insult, alert_message, alert_id = await alerted_message(fake, start_runtime)
    labels = [b.get("label") for b in buttons(fake.messages[alert_message])]
    assert "Delete message" in labels and "Time out author" in labels
    # The channel is named as Discord shows it (a channel mention renders as its name; it pings nobody).
    assert field(fake.messages[alert_message]["embeds"][0], "Channel") == f"<#{fake.GENERAL_CHANNEL_ID}>"
    # No raw Discord id stands where a reader looks for a name (mentions like <#id> render as names).
    embed = fake.messages[alert_message]["embeds"][0]
    shown = " ".join([embed.get("description", ""), *(f["value"] for f in embed["fields"])])
    assert "Position" not in [f["name"] for f in embed["fields"]]
    assert not re.search(r"(?<![<#@&\d])\d{15,}", shown), shown

    # The moderator sees /modq (synced without default permissions: the moderator role is configured).
    [sync] = fake.recorded("PUT", rf"/applications/{fake.APPLICATION_ID}/guilds/{fake.GUILD_ID}/commands")
    [modq] = sync.json
    assert modq["name"] == "modq" and modq["default_member_permissions"] is None
    listing = await reply(fake, await fake.slash(fake.MODERATOR, "modq", "list"))
    assert "Only moderators" not in str(listing)

    # Delete, confirmed privately: the message is gone from the fake Discord.
    ask = await fake.click(fake.MODERATOR, alert_message, f"alert:{alert_id}:delete")
    question = await fake.response(ask)
    assert question["data"]["flags"] & 64 and insult in fake.messages
    assert ask.original is not None
    done = await press(fake, fake.MODERATOR, int(ask.original["id"]), f"alert:{alert_id}:delete-yes")
    assert text_of(done) == "Deleted." and insult not in fake.messages

    # Time out the author for an hour.
    timed = await choose(fake, fake.MODERATOR, alert_message, alert_id, 3600)
    assert text_of(timed).startswith("Timed out **visitor** until <t:")
    assert fake.timeouts[fake.VISITOR.id][0] is not None

    # Our audit and the alert show both, by this moderator.
    audit = await runtime.store.audit_log(action="action.")
    assert sorted(a.action for a in audit) == ["action.delete_message", "action.timeout_member"]
    assert {a.actor_name for a in audit} == {fake.MODERATOR.name}
    shown = await fake.wait_until(
        lambda: (a := _actions(fake, alert_message)) and "timed out" in a and "deleted" in a and a
    )
    assert f"by **{fake.MODERATOR.name}**" in shown

    # A second moderator pressing Delete is told it is already done; Discord is not asked again.
    again = await press(fake, fake.HELPER, alert_message, f"alert:{alert_id}:delete")
    assert again["data"]["flags"] & 64 and text_of(again).startswith("Already done:")
    assert len(fake.recorded("DELETE", DELETE)) == 1 and len(fake.recorded("PATCH", MEMBER)) == 1

"""Acting from the alert on the Discord message it is about: Delete it, or Time out its author, each with
an ephemeral confirmation.

Delete (`alert:12:delete`, rendered by `bot.discord.views.alert_buttons` for Discord-origin post alerts)
answers privately with what would be deleted and a "Yes, delete it" button (`alert:12:delete-yes`); both
are `DynamicItem`s, so they work on messages sent before a restart. The moderator and the bot must both
hold Manage Messages in the message's channel (checked from the gateway's cache before asking Discord, and
Discord's own 403 is explained the same way). The reason (which alert, which categories, who) goes to
Discord's audit log through `X-Audit-Log-Reason`; what happened goes to our audit through
`bot.moderation`, and the alert is edited to show who deleted the message and when. A message already gone
(404) is said plainly and recorded as such; a second moderator pressing Delete is told it is done.

Time out (`alert:12:timeout`) answers privately with the durations (`alert:12:timeout-600`, ... : choosing one
is the confirmation); the moderator and the bot need Moderate Members in the server. An author who left
(404 Unknown Member) is said plainly and recorded; while a time-out runs, pressing again says it is done.
"""

from __future__ import annotations

import logging
import re
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Self, cast

import discord

from bot.discord.access import reply
from bot.discord.draft import action_line, parse_until
from bot.discord.markup import category_label, timestamp_markup
from bot.discord.views import ALERT_ID_TEMPLATE, DELETE_ACTION, TIMEOUT_ACTION, AlertAction, show_decision
from bot.errors import CommandError
from bot.moderation import DELETE_MESSAGE, TIMEOUT_CHOICES, TIMEOUT_MEMBER, discord_message
from bot.records import AlertView, DiscordMessage

if TYPE_CHECKING:
    from bot.discord.app import ModassistBot

log = logging.getLogger(__name__)

REASON_LIMIT = 512  # Discord's limit on an audit-log reason


def _bot(interaction: discord.Interaction) -> ModassistBot:
    return cast("ModassistBot", interaction.client)


def require_permission(
    interaction: discord.Interaction, permission: str, label: str, *, channel_id: int | None = None
) -> None:
    """Raise `CommandError` (said back in one line) unless both the clicking moderator and the bot hold
    `permission` in the channel, or server-wide without one (as the gateway's cache resolves roles and
    overwrites)."""
    guild = interaction.guild
    user = interaction.user
    if guild is None or not isinstance(user, discord.Member):
        raise CommandError("This only works in the server.")
    where = f" in <#{channel_id}>" if channel_id is not None else ""
    if channel_id is None:
        mine, bots = user.guild_permissions, guild.me.guild_permissions
    else:
        channel = guild.get_channel_or_thread(channel_id)
        if channel is None:
            raise CommandError(f"The bot cannot see the channel <#{channel_id}>, so it cannot act there.")
        mine, bots = channel.permissions_for(user), channel.permissions_for(guild.me)
    if not getattr(mine, permission):
        raise CommandError(f"You need the {label} permission{where} to do this.")
    if not getattr(bots, permission):
        raise CommandError(f"The bot lacks the {label} permission{where}; an admin can grant it.")


async def _target(interaction: discord.Interaction, alert_id: int) -> tuple[AlertView, DiscordMessage]:
    alert = await _bot(interaction).moderation.shown_alert(alert_id)
    message = discord_message(alert)
    if message is None:
        raise CommandError("This alert is not about a Discord message.")
    return alert, message


async def _refuse_if_done(interaction: discord.Interaction, message: DiscordMessage, action: str) -> None:
    """Tell a second moderator the action is done: the message deleted (or found gone), the author timed
    out until a time still to come (or found gone from the server)."""
    now = discord.utils.utcnow()
    for entry in await _bot(interaction).moderation.message_actions(message):
        until = parse_until(entry)
        if entry.action == action and (until is None or until > now):
            raise CommandError(f"Already done: {action_line(entry)}.")


def alert_categories(alert: AlertView) -> str:
    """What the alert flagged, in words: 'Inflammatory, Off-topic' ('flagged' without flags)."""
    return ", ".join(sorted({category_label(f.category) for i in alert.items for f in i.flags})) or "flagged"


def action_reason(alert: AlertView, done: str) -> str:
    """The audit-log reason: which alert, what it flagged, what was done and by whom."""
    return f"modassist alert {alert.id} ({alert_categories(alert)}): {done}"[:REASON_LIMIT]


class DeleteMessageButton(
    AlertAction, discord.ui.DynamicItem[discord.ui.Button[Any]], template=ALERT_ID_TEMPLATE + DELETE_ACTION
):
    """Ask, privately, whether to delete the alert's message."""

    action = DELETE_ACTION
    label = "Delete message"
    style = discord.ButtonStyle.danger

    async def act(self, interaction: discord.Interaction) -> None:
        """Check first (done already, permissions), then ask for a confirmation."""
        _, message = await _target(interaction, self.alert_id)
        await _refuse_if_done(interaction, message, DELETE_MESSAGE)
        require_permission(interaction, "manage_messages", "Manage Messages", channel_id=message.channel_id)
        view = discord.ui.View(timeout=None)
        view.add_item(ConfirmDeleteButton(self.alert_id))
        author = discord.utils.escape_markdown(message.author or "an unknown author")
        await interaction.response.send_message(
            f"Delete the message by **{author}** in <#{message.channel_id}>? This cannot be undone.",
            view=view,
            ephemeral=True,
            allowed_mentions=discord.AllowedMentions.none(),
        )


class ConfirmDeleteButton(
    AlertAction,
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=ALERT_ID_TEMPLATE + DELETE_ACTION + "-yes",
):
    """Delete the message, audit it, and show it on the alert."""

    action = DELETE_ACTION + "-yes"
    label = "Yes, delete it"
    style = discord.ButtonStyle.danger

    async def act(self, interaction: discord.Interaction) -> None:
        """Delete on Discord (reason in its audit log), record the outcome, update the alert."""
        bot = _bot(interaction)
        alert, message = await _target(interaction, self.alert_id)
        await _refuse_if_done(interaction, message, DELETE_MESSAGE)
        require_permission(interaction, "manage_messages", "Manage Messages", channel_id=message.channel_id)
        moderator = interaction.user.name
        reason = action_reason(alert, f"deleted by {moderator}")
        try:
            # The HTTP client, not Message.delete: only it passes `reason` (X-Audit-Log-Reason).
            await bot.http.delete_message(message.channel_id, message.message_id, reason=reason)
            outcome, said = "deleted", "Deleted."
        except discord.NotFound:
            outcome, said = "already_gone", "The message was already deleted on Discord."
        except discord.Forbidden as exc:
            log.warning("deleting message %d: %s %s", message.message_id, exc.code, exc.text)
            raise CommandError(
                f"Discord refused: the bot lacks the Manage Messages permission in <#{message.channel_id}>."
            ) from exc
        await bot.moderation.record_message_action(
            message,
            DELETE_MESSAGE,
            outcome=outcome,
            reason=reason,
            alert_id=alert.id,
            actor_id=interaction.user.id,
            actor_name=moderator,
        )
        await interaction.response.edit_message(content=said, view=None)
        problem = await show_decision(bot, self.alert_id)
        if problem is not None:
            await reply(interaction, f"Done, but {problem}.")


def _author(message: DiscordMessage) -> tuple[int, str]:
    if message.author_id is None:
        raise CommandError("This alert's message has no known author to time out.")
    return message.author_id, discord.utils.escape_markdown(message.author or "the author")


class TimeoutButton(
    AlertAction, discord.ui.DynamicItem[discord.ui.Button[Any]], template=ALERT_ID_TEMPLATE + TIMEOUT_ACTION
):
    """Ask, privately, for how long to time out the author of the alert's message."""

    action = TIMEOUT_ACTION
    label = "Time out author"
    style = discord.ButtonStyle.danger

    async def act(self, interaction: discord.Interaction) -> None:
        """Check first (done already, permissions), then offer the durations: choosing one confirms."""
        _, message = await _target(interaction, self.alert_id)
        author_id, author = _author(message)
        await _refuse_if_done(interaction, message, TIMEOUT_MEMBER)
        require_permission(interaction, "moderate_members", "Moderate Members")
        view = discord.ui.View(timeout=None)
        for seconds in TIMEOUT_CHOICES:
            view.add_item(TimeoutChoiceButton(self.alert_id, seconds))
        await interaction.response.send_message(
            f"Time out **{author}** (<@{author_id}>)? They can still read, but not post, react or speak."
            " Choose for how long:",
            view=view,
            ephemeral=True,
            allowed_mentions=discord.AllowedMentions.none(),
        )


_CHOICE = "|".join(str(s) for s in TIMEOUT_CHOICES)


class TimeoutChoiceButton(
    AlertAction,
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=ALERT_ID_TEMPLATE + TIMEOUT_ACTION + rf"-(?P<seconds>{_CHOICE})",
):
    """Time out the author for the chosen duration, audit it, and show it on the alert."""

    action = TIMEOUT_ACTION
    label = "Time out"
    style = discord.ButtonStyle.danger

    def __init__(self, alert_id: int, seconds: int) -> None:
        self.alert_id = alert_id
        self.seconds = seconds
        button: discord.ui.Button[Any] = discord.ui.Button(
            label=TIMEOUT_CHOICES[seconds],
            style=self.style,
            custom_id=f"alert:{alert_id}:{TIMEOUT_ACTION}-{seconds}",
        )
        discord.ui.DynamicItem.__init__(self, button)

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> Self:
        """Rebuild the choice from a click."""
        return cls(int(match["id"]), int(match["seconds"]))

    async def act(self, interaction: discord.Interaction) -> None:
        """Time out on Discord (reason in its audit log), record the outcome, update the alert."""
        bot = _bot(interaction)
        alert, message = await _target(interaction, self.alert_id)
        author_id, author = _author(message)
        await _refuse_if_done(interaction, message, TIMEOUT_MEMBER)
        require_permission(interaction, "moderate_members", "Moderate Members")
        duration = TIMEOUT_CHOICES[self.seconds]
        until = discord.utils.utcnow() + timedelta(seconds=self.seconds)
        moderator = interaction.user.name
        reason = action_reason(alert, f"timed out for {duration} by {moderator}")
        try:
            # The HTTP client, not Member.timeout: the author need not be in the bot's member cache.
            await bot.http.edit_member(
                message.guild_id, author_id, reason=reason, communication_disabled_until=until.isoformat()
            )
            outcome, said = "timed_out", f"Timed out **{author}** until {timestamp_markup(until)}."
        except discord.NotFound:
            outcome, said = "not_member", f"**{author}** has left the server; no time-out was applied."
        except discord.Forbidden as exc:
            log.warning("timing out %d: %s %s", author_id, exc.code, exc.text)
            raise CommandError(
                f"Discord refused: the bot lacks the Moderate Members permission, or {author} is an admin"
                " or holds a role above the bot's."
            ) from exc
        await bot.moderation.record_message_action(
            message,
            TIMEOUT_MEMBER,
            outcome=outcome,
            reason=reason,
            alert_id=alert.id,
            actor_id=interaction.user.id,
            actor_name=moderator,
            extra={"seconds": self.seconds, "duration": duration, "until": until.isoformat()},
        )
        await interaction.response.edit_message(content=said, view=None)
        problem = await show_decision(bot, self.alert_id)
        if problem is not None:
            await reply(interaction, f"Done, but {problem}.")


ACTION_BUTTONS: tuple[type[discord.ui.DynamicItem[Any]], ...] = (
    DeleteMessageButton,
    ConfirmDeleteButton,
    TimeoutButton,
    TimeoutChoiceButton,
)

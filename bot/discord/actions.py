"""Acting from the alert on the Discord message it is about: Delete, with an ephemeral confirmation.

Delete (`alert:12:delete`, rendered by `bot.discord.views.alert_buttons` for Discord-origin post alerts)
answers privately with what would be deleted and a "Yes, delete it" button (`alert:12:delete-yes`); both
are `DynamicItem`s, so they work on messages sent before a restart. The moderator and the bot must both
hold Manage Messages in the message's channel (checked from the gateway's cache before asking Discord, and
Discord's own 403 is explained the same way). The reason (which alert, which categories, who) goes to
Discord's audit log through `X-Audit-Log-Reason`; what happened goes to our audit through
`bot.moderation`, and the alert is edited to show who deleted the message and when. A message already gone
(404) is said plainly and recorded as such; a second moderator pressing Delete is told it is done.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, cast

import discord

from bot.discord.access import reply
from bot.discord.draft import action_line
from bot.discord.markup import category_label
from bot.discord.views import ALERT_ID_TEMPLATE, DELETE_ACTION, AlertAction, show_decision
from bot.errors import CommandError
from bot.moderation import DELETE_MESSAGE, discord_message
from bot.records import AlertView, DiscordMessage

if TYPE_CHECKING:
    from bot.discord.app import ModassistBot

log = logging.getLogger(__name__)

REASON_LIMIT = 512  # Discord's limit on an audit-log reason


def _bot(interaction: discord.Interaction) -> ModassistBot:
    return cast("ModassistBot", interaction.client)


def require_permission(
    interaction: discord.Interaction, channel_id: int, permission: str, label: str
) -> None:
    """Raise `CommandError` (said back in one line) unless both the clicking moderator and the bot hold
    `permission` in the channel (as the gateway's cache resolves roles and overwrites)."""
    guild = interaction.guild
    channel = guild.get_channel_or_thread(channel_id) if guild is not None else None
    if guild is None or channel is None:
        raise CommandError(f"The bot cannot see the channel <#{channel_id}>, so it cannot act there.")
    user = interaction.user
    if not isinstance(user, discord.Member) or not getattr(channel.permissions_for(user), permission):
        raise CommandError(f"You need the {label} permission in <#{channel_id}> to do this.")
    if not getattr(channel.permissions_for(guild.me), permission):
        raise CommandError(f"The bot lacks the {label} permission in <#{channel_id}>; an admin can grant it.")


async def _target(interaction: discord.Interaction, alert_id: int) -> tuple[AlertView, DiscordMessage]:
    alert = await _bot(interaction).moderation.shown_alert(alert_id)
    message = discord_message(alert)
    if message is None:
        raise CommandError("This alert is not about a Discord message.")
    return alert, message


async def _refuse_if_deleted(interaction: discord.Interaction, message: DiscordMessage) -> None:
    actions = await _bot(interaction).moderation.message_actions(message)
    done = [a for a in actions if a.action == DELETE_MESSAGE]
    if done:
        raise CommandError(f"Already done: {action_line(done[0])}.")


def delete_reason(alert: AlertView, moderator: str) -> str:
    """The audit-log reason: which alert, what it flagged, and who deleted."""
    categories = sorted({category_label(f.category) for i in alert.items for f in i.flags})
    reason = f"modassist alert {alert.id} ({', '.join(categories) or 'flagged'}): deleted by {moderator}"
    return reason[:REASON_LIMIT]


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
        await _refuse_if_deleted(interaction, message)
        require_permission(interaction, message.channel_id, "manage_messages", "Manage Messages")
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
        await _refuse_if_deleted(interaction, message)
        require_permission(interaction, message.channel_id, "manage_messages", "Manage Messages")
        moderator = interaction.user.name
        reason = delete_reason(alert, moderator)
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


ACTION_BUTTONS: tuple[type[discord.ui.DynamicItem[Any]], ...] = (DeleteMessageButton, ConfirmDeleteButton)

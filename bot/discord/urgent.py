"""Urgent alerts (opt-in, `alerts.urgent_role_id`): the alert message's content and allowed mentions.

An alert or digest whose highest flag score reaches `alerts.urgent_threshold` mentions the on-duty role, once,
and Discord is allowed to ping that role only: never @everyone or @here, no user, no other role, whatever the
flagged post says (its text is only ever in the embed, which never pings). Every other message modassist
sends allows no mention at all.
"""

from __future__ import annotations

import discord

from bot.discord.markup import category_label
from bot.records import AlertView
from config.settings import AlertSettings


def alert_mentions(alert: AlertView, settings: AlertSettings) -> tuple[str | None, discord.AllowedMentions]:
    """The content (None: no content) and the allowed mentions of `alert`'s message."""
    role_id = settings.urgent_role_id
    flags = [flag for item in alert.items for flag in item.flags]
    top = max(flags, key=lambda flag: flag.score, default=None)
    if role_id is None or top is None or top.score < settings.urgent_threshold:
        return None, discord.AllowedMentions.none()
    content = f"<@&{role_id}> Urgent: {category_label(top.category)} {top.score:.2f}"
    only_the_role = discord.AllowedMentions(
        everyone=False, users=False, roles=[discord.Object(role_id)], replied_user=False
    )
    return content, only_the_role

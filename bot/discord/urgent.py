"""Urgent alerts (opt-in, `alerts.urgent_role_id`): the alert message's content and allowed mentions.

An alert or digest whose highest flag score reaches `alerts.urgent_threshold` mentions the on-duty role, once,
and Discord is allowed to ping that role only: never @everyone or @here, no user, no other role, whatever the
flagged post says (its text is only ever in the embed, which never pings). Every other message modassist
sends allows no mention at all.

A flag threshold at or above the urgent threshold would make every alert of its category ping: the settings
refuse it, `/modq thresholds` refuses to set it (`bot.moderation.Moderation.change_threshold`), and one
stored before the urgent threshold was lowered is said at start (a warning line each) and in
`/modq thresholds`.
"""

from __future__ import annotations

from collections.abc import Mapping

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


def urgent_threshold(settings: AlertSettings) -> float | None:
    """The score that pings the on-duty role, or None when urgent alerts are off."""
    return settings.urgent_threshold if settings.urgent_role_id is not None else None


def urgent_conflicts(thresholds: Mapping[str, float], settings: AlertSettings) -> list[str]:
    """With urgent alerts on: a line for each category whose flag threshold is at or above the urgent
    threshold (every alert of it pings the on-duty role), naming what to change."""
    urgent = urgent_threshold(settings)
    return [
        f"the {category_label(category)} threshold ({value:.2f}) is at or above alerts.urgent_threshold"
        f" ({urgent:.2f}): every {category_label(category)} alert pings the on-duty role; lower it with"
        " /modq thresholds, or raise alerts.urgent_threshold"
        for category, value in thresholds.items()
        if urgent is not None and value >= urgent
    ]


def urgent_field(thresholds: Mapping[str, float], settings: AlertSettings) -> tuple[str, str]:
    """The `/modq thresholds` field saying when the on-duty role is pinged (and any conflict)."""
    urgent = urgent_threshold(settings)
    if urgent is None:
        return "Urgent ping", "off (alerts.urgent_role_id is not set)"
    conflicts = [f"⚠ {line}" for line in urgent_conflicts(thresholds, settings)]
    pinged = f"{urgent:.2f} and above ping <@&{settings.urgent_role_id}>"
    return "Urgent ping", "\n".join([pinged, *conflicts])

"""Who may do what, checked on every interaction, and the one place errors become a moderator-facing reply.

A moderator is a member of a configured guild with Manage Messages (or Administrator) in the channel, as
Discord resolves it for the interaction, or with one of `moderator_role_ids`. An admin, who may change
thresholds, has Administrator or Manage Server, or one of `bot.admin_role_ids`. Discord's own
`default_permissions` on the command group only hides commands in the client; these checks are what
counts, and they run server side for commands and buttons alike.
"""

from __future__ import annotations

import logging

import discord

from bot.errors import ModassistError, RecordNotFoundError
from bot.textsafety import clean_text
from config.settings import Settings

log = logging.getLogger(__name__)

NOT_A_MODERATOR = "Only moderators can do this (Manage Messages or a moderator role)."
NOT_AN_ADMIN = "Only admins can change thresholds (Administrator, Manage Server or an admin role)."
OUTSIDE_GUILD = "modassist only works in its configured server."


def _role_ids(user: discord.Member) -> set[int]:
    return {role.id for role in user.roles}


def refusal(interaction: discord.Interaction, settings: Settings) -> str | None:
    """Why `interaction`'s user may not act as a moderator, or None when they may."""
    if interaction.guild_id is None or not isinstance(interaction.user, discord.Member):
        return OUTSIDE_GUILD
    if settings.guild_ids and interaction.guild_id not in settings.guild_ids:
        return OUTSIDE_GUILD
    permissions = interaction.permissions
    if permissions.manage_messages or permissions.administrator:
        return None
    if _role_ids(interaction.user) & set(settings.moderator_role_ids):
        return None
    return NOT_A_MODERATOR


def is_admin(interaction: discord.Interaction, settings: Settings) -> bool:
    """True for members who may change settings at run time."""
    if refusal(interaction, settings) == OUTSIDE_GUILD or not isinstance(interaction.user, discord.Member):
        return False
    permissions = interaction.permissions
    if permissions.administrator or permissions.manage_guild:
        return True
    return bool(_role_ids(interaction.user) & set(settings.bot.admin_role_ids))


async def reply(interaction: discord.Interaction, text: str, *, ephemeral: bool = True) -> None:
    """Answer the interaction, whether or not it has been answered or deferred already."""
    text = clean_text(text)  # replies quote URLs and names: no control or bidi character goes out
    if interaction.response.is_done():
        await interaction.followup.send(
            text, ephemeral=ephemeral, allowed_mentions=discord.AllowedMentions.none()
        )
    else:
        await interaction.response.send_message(
            text, ephemeral=ephemeral, allowed_mentions=discord.AllowedMentions.none()
        )


async def require_moderator(interaction: discord.Interaction, settings: Settings) -> bool:
    """True for a moderator; anyone else gets an ephemeral refusal (and the refusal is logged)."""
    reason = refusal(interaction, settings)
    if reason is None:
        return True
    log.info(
        "refused %s (%s) in guild %s: %s", interaction.user, interaction.user.id, interaction.guild_id, reason
    )
    await reply(interaction, reason)
    return False


async def report_error(interaction: discord.Interaction, error: BaseException) -> None:
    """Domain errors as a one-line ephemeral reply; anything else logged with its traceback."""
    if isinstance(error, RecordNotFoundError):
        text = f"There is no {error.kind} {error.key}."
    elif isinstance(error, ModassistError):
        text = str(error)
    else:
        log.error("interaction %s failed", interaction.id, exc_info=error)
        text = "Something went wrong; the details are in the bot's log."
    try:
        await reply(interaction, text)
    except discord.HTTPException:
        log.warning("could not tell %s about the error", interaction.user, exc_info=True)

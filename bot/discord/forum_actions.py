"""Acting from the alert on the forum post it is about (XenForo): Soft-delete the post, or Lock its thread,
each with an ephemeral confirmation.

`alert:12:softdelete` and `alert:12:lock` (rendered by `bot.discord.views.alert_buttons` when the post's
forum has an API key in `bot.xenforo_api_keys`) answer privately with what would be done and a "Yes" button
(`alert:12:softdelete-yes`, or `alert:12:softdelete-tell` to have XenForo alert the post's author too;
`alert:12:lock-yes`); all are `DynamicItem`s, so they work on alerts sent before
a restart. The call to XenForo and our audit go through `bot.moderation.Moderation.act_on_forum`; the alert
is edited to show who did what and when. The moderator needs Discord's permission for the same action,
server-wide: Manage Messages to soft-delete, Manage Threads to lock (a missing one is one line, logged, and
nothing is done or audited). XenForo's 404 (the post or thread is gone) is said plainly,
audited and shown; its 403 (the key may not do this) is one line, and nothing is audited. A second
moderator pressing the button is told it is done.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar, cast

import discord

from bot.discord.access import reply
from bot.discord.actions import action_reason, alert_categories
from bot.discord.draft import action_line
from bot.discord.views import ALERT_ID_TEMPLATE, LOCK_ACTION, SOFT_DELETE_ACTION, AlertAction, show_decision
from bot.errors import CommandError
from bot.moderation import LOCK_THREAD, SOFT_DELETE_POST, forum_post
from bot.records import AlertView, ForumPost

if TYPE_CHECKING:
    from bot.discord.app import ModassistBot

log = logging.getLogger(__name__)


def _bot(interaction: discord.Interaction) -> ModassistBot:
    return cast("ModassistBot", interaction.client)


# The Discord permission a moderator needs, server-wide, for each action: the one Discord asks for the same
# action on its own messages and threads. A moderator role alone (no Discord permission) is not enough.
PERMISSIONS: dict[str, tuple[str, str, str]] = {
    SOFT_DELETE_POST: ("manage_messages", "Manage Messages", "soft-delete forum posts"),
    LOCK_THREAD: ("manage_threads", "Manage Threads", "lock forum threads"),
}


def require_forum_permission(interaction: discord.Interaction, action: str) -> None:
    """Raise `CommandError` (said back in one line, and logged) unless the clicking moderator holds the
    action's permission in the server (a role's, or Administrator). The bot needs none: XenForo acts, and
    what its key may do is XenForo's to decide."""
    permission, label, doing = PERMISSIONS[action]
    user = interaction.user
    if interaction.guild is None or not isinstance(user, discord.Member):
        raise CommandError("This only works in the server.")
    if getattr(user.guild_permissions, permission):
        return
    log.info("refused %s (%s) to %s: no %s permission", action, user.id, user, label)
    raise CommandError(
        f"You need the {label} permission in this server to {doing}; a moderator role alone is not enough."
    )


async def _target(
    interaction: discord.Interaction, alert_id: int, action: str
) -> tuple[AlertView, ForumPost]:
    """The alert and its forum post, once checked: a forum post, its forum's key configured, not done yet,
    the moderator's Discord permission."""
    moderation = _bot(interaction).moderation
    alert = await moderation.shown_alert(alert_id)
    post = forum_post(alert)
    if post is None:
        raise CommandError("This alert is not about a forum post.")
    if moderation.forum_access(post) is None:
        raise CommandError("No XenForo API key is configured for this forum (bot.xenforo_api_keys).")
    for entry in await moderation.post_actions(post.post_id):
        if entry.action == action:
            raise CommandError(f"Already done: {action_line(entry)}.")
    require_forum_permission(interaction, action)
    return alert, post


class _ForumAction(AlertAction):
    """Ask, privately, whether to do it; `question` is asked with the post's author and page."""

    audited: ClassVar[str]
    question: ClassVar[str]

    async def act(self, interaction: discord.Interaction) -> None:
        """Check first (a forum post, a key, not done already), then ask for a confirmation."""
        _, post = await _target(interaction, self.alert_id, self.audited)
        view = discord.ui.View(timeout=None)
        for confirmation in CONFIRMATIONS[self.action]:
            view.add_item(confirmation(self.alert_id))
        author = discord.utils.escape_markdown(post.author or "an unknown author")
        await interaction.response.send_message(
            self.question.format(author=author, url=post.url),
            view=view,
            ephemeral=True,
            allowed_mentions=discord.AllowedMentions.none(),
        )


class _ConfirmForumAction(AlertAction):
    """Do it through XenForo's API, audit it, and show it on the alert."""

    audited: ClassVar[str]
    done: ClassVar[str]  # the reason's verb: 'soft-deleted'
    said: ClassVar[Mapping[str, str]]  # outcome -> the answer
    tell_author: ClassVar[bool] = False  # XenForo alerts the post's author, saying what the alert flagged

    async def act(self, interaction: discord.Interaction) -> None:
        """Call XenForo (the reason names the alert and moderator), record the outcome, update the alert."""
        bot = _bot(interaction)
        alert, post = await _target(interaction, self.alert_id, self.audited)
        moderator = interaction.user.name
        reason = action_reason(alert, f"{self.done} by {moderator} (Discord)")
        told = f"Your post was removed by the moderators ({alert_categories(alert)})."
        entry = await bot.moderation.act_on_forum(
            post,
            self.audited,
            reason=reason,
            alert_id=alert.id,
            actor_id=interaction.user.id,
            actor_name=moderator,
            author_alert=told if self.tell_author else None,
        )
        await interaction.response.edit_message(content=self.said[str(entry.details["outcome"])], view=None)
        problem = await show_decision(bot, self.alert_id)
        if problem is not None:
            await reply(interaction, f"Done, but {problem}.")


class SoftDeleteButton(
    _ForumAction,
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=ALERT_ID_TEMPLATE + SOFT_DELETE_ACTION,
):
    """Ask, privately, whether to soft-delete the alert's forum post."""

    action = SOFT_DELETE_ACTION
    label = "Soft-delete the post"
    style = discord.ButtonStyle.danger
    audited = SOFT_DELETE_POST
    question = (
        "Soft-delete the post by **{author}** on the forum ({url})? Its moderators can still see it and"
        " undelete it there."
    )


class ConfirmSoftDeleteButton(
    _ConfirmForumAction,
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=ALERT_ID_TEMPLATE + SOFT_DELETE_ACTION + "-yes",
):
    """Soft-delete the post on the forum."""

    action = SOFT_DELETE_ACTION + "-yes"
    label = "Yes, soft-delete it"
    style = discord.ButtonStyle.danger
    audited = SOFT_DELETE_POST
    done = "soft-deleted"
    said: ClassVar[Mapping[str, str]] = {
        "deleted": "Soft-deleted on the forum.",
        "not_found": "The forum has no such post any more (404).",
    }


class ConfirmSoftDeleteTellButton(
    _ConfirmForumAction,
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=ALERT_ID_TEMPLATE + SOFT_DELETE_ACTION + "-tell",
):
    """Soft-delete the post on the forum, and have XenForo tell its author why (`author_alert`)."""

    action = SOFT_DELETE_ACTION + "-tell"
    label = "Yes, and tell the author"
    style = discord.ButtonStyle.danger
    audited = SOFT_DELETE_POST
    done = "soft-deleted"
    said: ClassVar[Mapping[str, str]] = {
        "deleted": "Soft-deleted on the forum; XenForo tells its author why.",
        "not_found": "The forum has no such post any more (404).",
    }
    tell_author = True


class LockThreadButton(
    _ForumAction, discord.ui.DynamicItem[discord.ui.Button[Any]], template=ALERT_ID_TEMPLATE + LOCK_ACTION
):
    """Ask, privately, whether to lock the thread of the alert's forum post."""

    action = LOCK_ACTION
    label = "Lock the thread"
    style = discord.ButtonStyle.danger
    audited = LOCK_THREAD
    question = "Lock the thread of the post by **{author}** ({url})? Nobody but moderators can reply then."


class ConfirmLockButton(
    _ConfirmForumAction,
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=ALERT_ID_TEMPLATE + LOCK_ACTION + "-yes",
):
    """Lock the thread on the forum."""

    action = LOCK_ACTION + "-yes"
    label = "Yes, lock it"
    style = discord.ButtonStyle.danger
    audited = LOCK_THREAD
    done = "thread locked"
    said: ClassVar[Mapping[str, str]] = {
        "locked": "Thread locked on the forum.",
        "not_found": "The forum has no such thread any more (404).",
    }


CONFIRMATIONS: dict[str, tuple[Callable[[int], discord.ui.Item[Any]], ...]] = {
    SOFT_DELETE_ACTION: (ConfirmSoftDeleteButton, ConfirmSoftDeleteTellButton),
    LOCK_ACTION: (ConfirmLockButton,),
}

FORUM_ACTION_BUTTONS: tuple[type[discord.ui.DynamicItem[Any]], ...] = (
    SoftDeleteButton,
    ConfirmSoftDeleteButton,
    ConfirmSoftDeleteTellButton,
    LockThreadButton,
    ConfirmLockButton,
)

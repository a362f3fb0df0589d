"""Buttons on alerts, and keeping alert messages up to date with the decisions taken on them.

The alert buttons are `discord.ui.DynamicItem`s: their state (the alert id) lives in the custom id, e.g.
`alert:12:confirm`, so the bot answers clicks on alerts it posted before a restart without remembering any
view. The `/modq` extension registers them when the bot loads it (`bot.discord.cogs.queue.setup`). Every
click is checked server side: only a moderator may act; anyone else gets an ephemeral refusal.

Confirm and Dismiss decide every current flag of the alert (a digest: all its posts, through
`bot.moderation`) and edit the alert to show who decided and when (`show_decision`, which `/modq confirm`
and `/modq dismiss` use too); Details and Author history answer ephemerally.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any, ClassVar, Self, cast

import discord

from bot.discord.access import reply, report_error, require_moderator
from bot.discord.draft import action_line
from bot.discord.embeds import (
    BUTTON_URL_LIMIT,
    alert_details_embed,
    alert_embed,
    author_embed,
    safe_url,
)
from bot.discord.markup import FIELD_COUNT_LIMIT, FIELD_VALUE_LIMIT, TOTAL_LIMIT, cut
from bot.moderation import discord_message, forum_post
from bot.records import AlertView, AuditEntry, Verdict

if TYPE_CHECKING:
    from bot.discord.app import ModassistBot
    from bot.moderation import Moderation

log = logging.getLogger(__name__)

ALERT_ID_TEMPLATE = r"alert:(?P<id>[0-9]{1,19}):"
DELETE_ACTION = "delete"  # `alert:12:delete`, answered by bot.discord.actions.DeleteMessageButton
TIMEOUT_ACTION = "timeout"  # `alert:12:timeout`, answered by bot.discord.actions.TimeoutButton
SOFT_DELETE_ACTION = "softdelete"  # `alert:12:softdelete`, answered by bot.discord.forum_actions
LOCK_ACTION = "lock"  # `alert:12:lock`, answered by bot.discord.forum_actions
FORUM_HINT = "Soft-delete and Lock from here need the forum's XenForo API key: set bot.xenforo_api_keys."


def _bot(interaction: discord.Interaction) -> ModassistBot:
    return cast("ModassistBot", interaction.client)


def _moderator_name(user: discord.abc.User) -> str:
    return user.name


def alert_buttons(alert: AlertView, *, forum_actions: bool = False) -> discord.ui.View:
    """Confirm, Dismiss, Details, Author history (when the alert has one author) and a link to the post:
    at most five, one row; for a Discord message, Delete and Time out on a second row (answered by
    bot.discord.actions); with `forum_actions` (a forum post whose forum's API key is configured),
    Soft-delete and Lock (when the thread's XenForo id is known) there (bot.discord.forum_actions)."""
    view = discord.ui.View(timeout=None)
    view.add_item(ConfirmButton(alert.id))
    view.add_item(DismissButton(alert.id))
    view.add_item(DetailsButton(alert.id))
    authors = {item.post.author for item in alert.items}
    if len(authors) == 1 and next(iter(authors)):
        view.add_item(AuthorHistoryButton(alert.id))
    first = alert.items[0].post if alert.kind == "post" and alert.items else None
    link = safe_url(first.url if first else None, BUTTON_URL_LIMIT) or safe_url(
        alert.thread.url, BUTTON_URL_LIMIT
    )
    if link:
        label = "Open post" if first is not None and safe_url(first.url, BUTTON_URL_LIMIT) else "Open thread"
        view.add_item(discord.ui.Button(style=discord.ButtonStyle.link, label=label, url=link))
    message = discord_message(alert)
    actions: list[tuple[str, str]] = []
    if message is not None:
        actions = [("Delete message", DELETE_ACTION), ("Time out author", TIMEOUT_ACTION)]
        if message.author_id is None:
            actions.pop()
    elif forum_actions:
        actions = [("Soft-delete the post", SOFT_DELETE_ACTION), ("Lock the thread", LOCK_ACTION)]
        forum = forum_post(alert)
        if forum is None or forum.forum_thread_id is None:
            actions.pop()  # the page did not say its thread's XenForo id
    for label, action in actions:
        act: discord.ui.Button[Any] = discord.ui.Button(
            label=label, style=discord.ButtonStyle.danger, custom_id=f"alert:{alert.id}:{action}", row=1
        )
        view.add_item(act)
    return view


async def render_alert(
    moderation: Moderation, alert: AlertView, *, excerpt_chars: int
) -> tuple[discord.Embed, discord.ui.View]:
    """The embed and buttons of an alert as it stands now (decisions included)."""
    flags = [f for item in alert.items for f in item.flags]
    decisions = await moderation.latest_decisions(flags)
    embed = alert_embed(alert, decisions, excerpt_chars=excerpt_chars)
    message, forum = discord_message(alert), forum_post(alert)
    forum_actions = forum is not None and moderation.forum_access(forum) is not None
    if message is not None:
        _show_actions(embed, await moderation.message_actions(message))
    elif forum is not None:
        actions = await moderation.post_actions(forum.post_id)
        _show_actions(embed, actions or ([] if forum_actions else [FORUM_HINT]))
    return embed, alert_buttons(alert, forum_actions=forum_actions)


def _show_actions(embed: discord.Embed, actions: list[AuditEntry] | list[str]) -> None:
    """Add what moderators did to the post (or how to enable acting on it), when the embed has room left
    (it nearly always has)."""
    if not actions:
        return
    lines = [a if isinstance(a, str) else action_line(a) for a in actions[-5:]]
    value = cut("\n".join(lines), FIELD_VALUE_LIMIT)
    if len(embed.fields) < FIELD_COUNT_LIMIT and len(embed) + len("Actions") + len(value) <= TOTAL_LIMIT:
        embed.add_field(name="Actions", value=value, inline=False)
    else:
        log.warning("no room left on the alert embed for: %s", value)


async def show_decision(
    bot: ModassistBot, alert_id: int, *, clicked: discord.Interaction | None = None
) -> str | None:
    """After a decision: show the alert of `alert_id` as it stands now. With `clicked` (a button on a
    message showing it) that message is edited in the interaction's answer, and the alert's own message too
    when the click came from a copy. Returns why the alert's message could not be edited (or None when it
    was, or when the alert is not posted yet and will be posted as it stands)."""
    alert = await bot.moderation.shown_alert(alert_id)
    posted = alert.alert.channel_id is not None and alert.alert.message_id is not None
    if clicked is None and not posted:
        return None
    embed, view = await render_alert(bot.moderation, alert, excerpt_chars=bot.settings.bot.excerpt_chars)
    if clicked is not None:
        await clicked.response.edit_message(embed=embed, view=view)
        clicked_id = clicked.message.id if clicked.message is not None else None
        if not posted or clicked_id == alert.alert.message_id:
            return None
    return await _edit_alert_message(bot, alert, embed, view)


async def _edit_alert_message(
    bot: ModassistBot, alert: AlertView, embed: discord.Embed, view: discord.ui.View
) -> str | None:
    """Edit the posted alert's message; returns why it could not be, or None."""
    channel_id, message_id = alert.alert.channel_id, alert.alert.message_id
    assert channel_id is not None and message_id is not None  # only posted alerts are edited
    message = bot.get_partial_messageable(channel_id).get_partial_message(message_id)
    try:
        await message.edit(embed=embed, view=view, allowed_mentions=discord.AllowedMentions.none())
    except discord.NotFound:
        log.warning("alert %d: its message %d is gone; the decision is stored", alert.id, message_id)
        return "the alert message was deleted, so it was not updated"
    except discord.Forbidden:
        log.warning("alert %d: no permission to edit message %d", alert.id, message_id)
        return "the bot may not edit the alert message, so it was not updated"
    except discord.RateLimited as exc:
        log.warning(
            "alert %d: rate limited for %.0f s; message %d not updated", alert.id, exc.retry_after, message_id
        )
        return "Discord is rate limiting the bot, so the alert message was not updated"
    except discord.HTTPException as exc:
        log.warning("alert %d: editing message %d failed: %s %s", alert.id, message_id, exc.status, exc.text)
        return f"Discord refused to update the alert message ({exc.status})"
    return None


# ----------------------------------------------------------------------------------------------------------
# The buttons


class AlertAction:
    """What the four alert buttons share: the alert id from the custom id, the moderator check, errors."""

    action: ClassVar[str]
    label: ClassVar[str]
    style: ClassVar[discord.ButtonStyle]

    def __init__(self, alert_id: int) -> None:
        self.alert_id = alert_id
        button: discord.ui.Button[Any] = discord.ui.Button(
            label=self.label, style=self.style, custom_id=f"alert:{alert_id}:{self.action}"
        )
        super().__init__(button)  # type: ignore[call-arg]  # DynamicItem.__init__ via the MRO

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> Self:
        """Rebuild the button from a click (also on alerts posted before a restart)."""
        return cls(int(match["id"]))

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        """Only moderators; the refusal is ephemeral."""
        return await require_moderator(interaction, _bot(interaction).settings)

    async def callback(self, interaction: discord.Interaction) -> None:
        """Run the action; any failure becomes an ephemeral reply."""
        try:
            await self.act(interaction)
        except Exception as exc:  # one handler for every failure of a click
            await report_error(interaction, exc)

    async def act(self, interaction: discord.Interaction) -> None:
        """What the button does."""
        raise NotImplementedError


class _DecisionAction(AlertAction):
    verdict: ClassVar[Verdict]

    async def act(self, interaction: discord.Interaction) -> None:
        """Decide every current flag of the alert and show the decision on the alert itself."""
        bot = _bot(interaction)
        await bot.moderation.decide_alert(
            self.alert_id,
            self.verdict,
            moderator_id=interaction.user.id,
            moderator_name=_moderator_name(interaction.user),
        )
        await show_decision(bot, self.alert_id, clicked=interaction)


class ConfirmButton(
    _DecisionAction, discord.ui.DynamicItem[discord.ui.Button[Any]], template=ALERT_ID_TEMPLATE + "confirm"
):
    """Confirm the alert's flags."""

    action = "confirm"
    label = "Confirm"
    style = discord.ButtonStyle.danger
    verdict = "confirm"


class DismissButton(
    _DecisionAction, discord.ui.DynamicItem[discord.ui.Button[Any]], template=ALERT_ID_TEMPLATE + "dismiss"
):
    """Dismiss the alert's flags as false alarms."""

    action = "dismiss"
    label = "Dismiss"
    style = discord.ButtonStyle.secondary
    verdict = "dismiss"


class DetailsButton(
    AlertAction, discord.ui.DynamicItem[discord.ui.Button[Any]], template=ALERT_ID_TEMPLATE + "details"
):
    """Every flag of the alert in full, ephemerally."""

    action = "details"
    label = "Details"
    style = discord.ButtonStyle.primary

    async def act(self, interaction: discord.Interaction) -> None:
        """Show reasons, scores, evidence and the decision history."""
        bot = _bot(interaction)
        alert = await bot.moderation.shown_alert(self.alert_id)
        history = await bot.moderation.alert_history(alert)
        embed = alert_details_embed(
            alert, history, excerpt_chars=min(3000, bot.settings.bot.excerpt_chars * 3)
        )
        await interaction.response.send_message(
            embed=embed, ephemeral=True, allowed_mentions=discord.AllowedMentions.none()
        )


class AuthorHistoryButton(
    AlertAction, discord.ui.DynamicItem[discord.ui.Button[Any]], template=ALERT_ID_TEMPLATE + "author"
):
    """The author's earlier flags and the decisions on them, ephemerally."""

    action = "author"
    label = "Author history"
    style = discord.ButtonStyle.secondary

    async def act(self, interaction: discord.Interaction) -> None:
        """Show the author's history."""
        bot = _bot(interaction)
        alert = await bot.moderation.shown_alert(self.alert_id)
        author = next((i.post.author for i in alert.items if i.post.author), None)
        if author is None:
            await reply(interaction, "This alert's post has no known author.")
            return
        history = await bot.moderation.author_history(author)
        await interaction.response.send_message(
            embed=author_embed(history), ephemeral=True, allowed_mentions=discord.AllowedMentions.none()
        )


ALERT_BUTTONS: tuple[type[discord.ui.DynamicItem[Any]], ...] = (
    ConfirmButton,
    DismissButton,
    DetailsButton,
    AuthorHistoryButton,
)


# ----------------------------------------------------------------------------------------------------------
# Paging through a list (ephemeral, so in memory: it lives as long as the reply is useful)

PageRenderer = Callable[[int], Coroutine[Any, Any, tuple[discord.Embed, bool]]]


class Pager(discord.ui.View):
    """Previous / Next buttons over pages that `render(page)` builds; only the member who asked can page."""

    def __init__(
        self, render: PageRenderer, *, owner_id: int, page: int, has_more: bool, timeout: float = 600.0
    ):
        super().__init__(timeout=timeout)
        self._render = render
        self._owner_id = owner_id
        self.page = page
        self._update(has_more)

    def _update(self, has_more: bool) -> None:
        self.previous_page.disabled = self.page <= 1
        self.next_page.disabled = not has_more

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        """Only the member who ran the command pages through its answer, and only while a moderator."""
        if interaction.user.id != self._owner_id:
            await reply(interaction, "This list belongs to someone else; run the command yourself.")
            return False
        return await require_moderator(interaction, _bot(interaction).settings)

    async def _show(self, interaction: discord.Interaction, page: int) -> None:
        embed, has_more = await self._render(page)
        self.page = page
        self._update(has_more)
        await interaction.response.edit_message(embed=embed, view=self)

    @discord.ui.button(label="Previous", style=discord.ButtonStyle.secondary)
    async def previous_page(self, interaction: discord.Interaction, button: discord.ui.Button[Pager]) -> None:
        """One page back."""
        await self._show(interaction, max(1, self.page - 1))

    @discord.ui.button(label="Next", style=discord.ButtonStyle.secondary)
    async def next_page(self, interaction: discord.Interaction, button: discord.ui.Button[Pager]) -> None:
        """One page on."""
        await self._show(interaction, self.page + 1)

    async def on_error(
        self, interaction: discord.Interaction, error: Exception, item: discord.ui.Item[Any]
    ) -> None:
        """Errors become an ephemeral reply."""
        await report_error(interaction, error)

"""Buttons on alerts, and keeping alert messages up to date with the decisions taken on them.

The alert buttons are `discord.ui.DynamicItem`s: their state (the alert id) lives in the custom id, e.g.
`alert:12:confirm`, so the bot answers clicks on alerts it posted before a restart without remembering any
view. The bot registers them once (`ModassistBot.setup_hook`). Every click is checked server side: only a
moderator may act; anyone else gets an ephemeral refusal.

Confirm and Dismiss decide every current flag of the alert (a digest: all its posts) and edit the alert
to show who decided and when; Details and Author history answer ephemerally.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Coroutine, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Self, cast

import discord

from bot.discord.access import reply, report_error, require_moderator
from bot.discord.embeds import (
    BUTTON_URL_LIMIT,
    alert_details_embed,
    alert_embed,
    author_embed,
    safe_url,
)
from bot.store import AlertView, Decision, FlagRecord, Store, Verdict

if TYPE_CHECKING:
    from bot.discord.app import ModassistBot

log = logging.getLogger(__name__)

ALERT_ID_TEMPLATE = r"alert:(?P<id>[0-9]{1,19}):"


def _bot(interaction: discord.Interaction) -> ModassistBot:
    return cast("ModassistBot", interaction.client)


def _moderator_name(user: discord.abc.User) -> str:
    return user.name


async def latest_decisions(store: Store, flags: Sequence[FlagRecord]) -> dict[int, Decision]:
    """The decision in force for each decided flag."""
    latest: dict[int, Decision] = {}
    for flag in flags:
        if flag.status in ("open", "superseded"):
            continue
        decisions = await store.decisions_for(flag.id)
        if decisions:
            latest[flag.id] = decisions[-1]
    return latest


def alert_buttons(alert: AlertView) -> discord.ui.View:
    """Confirm, Dismiss, Details, Author history (when the alert has one author) and a link to the post:
    at most five, one row."""
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
    return view


async def render_alert(
    store: Store, alert: AlertView, *, excerpt_chars: int
) -> tuple[discord.Embed, discord.ui.View]:
    """The embed and buttons of an alert as it stands now (decisions included)."""
    flags = [f for item in alert.items for f in item.flags]
    decisions = await latest_decisions(store, flags)
    return alert_embed(alert, decisions, excerpt_chars=excerpt_chars), alert_buttons(alert)


async def shown_alert(store: Store, alert_id: int) -> AlertView:
    """The alert as a message shows it: a post alert folded into a digest is shown by the digest."""
    alert = await store.get_alert(alert_id)
    if alert.alert.digest_id is not None:
        return await store.get_alert(alert.alert.digest_id)
    return alert


async def refresh_alert_message(bot: ModassistBot, alert_id: int) -> str | None:
    """Edit the Discord message showing `alert_id` to its current state; returns why it could not be (or
    None when it was edited, or when the alert is not posted yet and will be posted as it stands)."""
    alert = await shown_alert(bot.store, alert_id)
    channel_id, message_id = alert.alert.channel_id, alert.alert.message_id
    if channel_id is None or message_id is None:
        return None
    embed, view = await render_alert(bot.store, alert, excerpt_chars=bot.settings.bot.excerpt_chars)
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


class _AlertAction:
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


class _DecisionAction(_AlertAction):
    verdict: ClassVar[Verdict]

    async def act(self, interaction: discord.Interaction) -> None:
        """Decide every current flag of the alert and show the decision on the alert itself."""
        bot = _bot(interaction)
        decisions = await bot.store.decide_alert(
            self.alert_id,
            self.verdict,
            moderator_id=interaction.user.id,
            moderator_name=_moderator_name(interaction.user),
        )
        log.info(
            "alert %d: %s by %s (%d flags)", self.alert_id, self.verdict, interaction.user.id, len(decisions)
        )
        alert = await shown_alert(bot.store, self.alert_id)
        embed, view = await render_alert(bot.store, alert, excerpt_chars=bot.settings.bot.excerpt_chars)
        await interaction.response.edit_message(embed=embed, view=view)
        clicked = interaction.message.id if interaction.message is not None else None
        if alert.alert.message_id is not None and clicked != alert.alert.message_id:
            await refresh_alert_message(bot, alert.id)  # the click came from a copy: update the alert too


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
    _AlertAction, discord.ui.DynamicItem[discord.ui.Button[Any]], template=ALERT_ID_TEMPLATE + "details"
):
    """Every flag of the alert in full, ephemerally."""

    action = "details"
    label = "Details"
    style = discord.ButtonStyle.primary

    async def act(self, interaction: discord.Interaction) -> None:
        """Show reasons, scores, evidence and the decision history."""
        bot = _bot(interaction)
        alert = await shown_alert(bot.store, self.alert_id)
        history = {f.id: await bot.store.decisions_for(f.id) for item in alert.items for f in item.flags}
        embed = alert_details_embed(
            alert, history, excerpt_chars=min(3000, bot.settings.bot.excerpt_chars * 3)
        )
        await interaction.response.send_message(
            embed=embed, ephemeral=True, allowed_mentions=discord.AllowedMentions.none()
        )


class AuthorHistoryButton(
    _AlertAction, discord.ui.DynamicItem[discord.ui.Button[Any]], template=ALERT_ID_TEMPLATE + "author"
):
    """The author's earlier flags and the decisions on them, ephemerally."""

    action = "author"
    label = "Author history"
    style = discord.ButtonStyle.secondary

    async def act(self, interaction: discord.Interaction) -> None:
        """Show the author's history."""
        bot = _bot(interaction)
        alert = await shown_alert(bot.store, self.alert_id)
        author = next((i.post.author for i in alert.items if i.post.author), None)
        if author is None:
            await reply(interaction, "This alert's post has no known author.")
            return
        history = await bot.store.author_history(author)
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

"""`/modq watch`: what modassist reads by itself, as a sub-group of `/modq` (so under its moderator check).

    /modq watch add <url> [interval]   a forum thread URL (polled) or a Discord channel link (read live)
    /modq watch list                   the watched threads and channels, with how their polling goes
    /modq watch remove <watch>         by the number `list` shows, or by URL

Adding and removing are audited in the store (`bot.moderation`, which tells the forum watcher and the
Discord channel watcher, so they pick the change up at once). A thread whose host is, or resolves to, an
address that is not public is refused when added, as every poll would refuse it (unless
`bot.fetch_private_addresses` is on). Threads and channels from the settings are listed too; a configured
thread removed here comes back at the next start unless it is also removed from the settings.

A discord.py extension, loaded after `/modq` (`bot.discord.cogs.queue`), whose group it joins.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import discord
from discord import app_commands
from discord.ext import commands

from bot.discord.access import reply
from bot.discord.embeds import plain
from bot.errors import CommandError
from bot.records import DISCORD_CHANNEL, FORUM_THREAD, JSONL_FILE, Watch, WatchState
from bot.sources.addresses import PrivateAddressError, check_host
from bot.watchers.state import parse_target, thread_url

if TYPE_CHECKING:
    from bot.discord.app import ModassistBot

log = logging.getLogger(__name__)

_LIST_CHARS = 3800  # an embed description holds 4096
HOW_TO_ADD = (
    "Give a forum thread URL (https://forum.example/threads/some-thread.123/) or a Discord channel link"
    " (right-click the channel, Copy Link)."
)


def _when(moment: datetime | None) -> str:
    return "never" if moment is None else discord.utils.format_dt(moment, "R")


def describe_watch(watch: Watch, state: WatchState, *, default_interval: float, configured: bool) -> str:
    """One line of `/modq watch list`."""
    target = f"<{plain(watch.target)}>"
    if watch.kind == DISCORD_CHANNEL:
        line = f"**{watch.id}** · <#{watch.target}> (read live)"
    elif watch.kind == FORUM_THREAD:
        interval = watch.interval_seconds or default_interval
        line = f"**{watch.id}** · {target} · every {interval:g} s · read {_when(state.last_success_at)}"
        if state.consecutive_errors:
            error = plain(state.last_error or "an error")[:120]
            line += f" · {state.consecutive_errors} failed in a row ({error})"
            line += f", next try {_when(state.next_poll_at)}"
    else:
        line = f"**{watch.id}** · {watch.kind} {target}"
    return line + (" · from the settings" if configured else "")


async def _refuse_private(url: str) -> None:
    """Refuse a thread every poll would refuse: one on an address that is not public. The name lookup is
    short (Discord wants the answer within 3 s); a slow one is let through to the poll's own guard."""
    parts = urlsplit(url)
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise CommandError(f"That URL has no valid port. {HOW_TO_ADD}") from None
    try:
        await check_host(parts.hostname or "", port)
    except PrivateAddressError as exc:
        raise CommandError(f"Cannot watch <{plain(url)}>: {exc.strerror}.") from None


class WatchGroup(app_commands.Group):
    """The `/modq watch` commands."""

    def __init__(self, cog: WatchCog) -> None:
        super().__init__(
            name="watch", description="Forum threads and Discord channels modassist reads by itself"
        )
        self.cog = cog

    @app_commands.command(name="add", description="Watch a forum thread or a Discord channel")
    @app_commands.describe(
        url="a forum thread URL, or a Discord channel link",
        interval="seconds between polls of a forum thread (default from the settings)",
    )
    async def add(
        self,
        interaction: discord.Interaction,
        url: app_commands.Range[str, 8, 2000],
        interval: app_commands.Range[float, 1.0, 86_400.0] | None = None,
    ) -> None:
        """Add a watch (audited) and start reading it."""
        bot = self.cog.bot
        target = parse_target(url)
        if target is None:
            raise CommandError(f"That is not something modassist can watch. {HOW_TO_ADD}")
        if target.kind == DISCORD_CHANNEL:
            if not bot.settings.watch.discord.active or not bot.intents.message_content:
                raise CommandError(
                    "Reading Discord channels is off: set MODASSIST_WATCH__DISCORD__ENABLED=true, enable the"
                    " Message Content intent in the developer portal, and restart modassist."
                )
            guild = interaction.guild
            channel_id = int(target.target)
            if (
                guild is None
                or target.guild_id != guild.id
                or guild.get_channel_or_thread(channel_id) is None
            ):
                raise CommandError("That channel is not in this server, or modassist cannot see it.")
            if channel_id == bot.settings.mod_channel_id:
                raise CommandError("That is the moderators' channel: modassist does not review it.")
            interval = None
        else:
            minimum = bot.settings.watch.forum.min_interval_seconds
            if interval is not None and interval < minimum:
                raise CommandError(f"Poll a forum at most every {minimum:g} s (the configured minimum).")
            if not bot.settings.bot.fetch_private_addresses:
                await _refuse_private(target.target)
        watch = await bot.moderation.add_watch(
            target.kind,
            target.target,
            interval_seconds=interval,
            actor_id=interaction.user.id,
            actor_name=interaction.user.name,
        )
        if target.kind == DISCORD_CHANNEL:
            text = f"Watching <#{target.target}> (watch {watch.id}): new and edited messages are reviewed."
        else:
            every = interval or bot.settings.watch.forum.default_interval_seconds
            text = (
                f"Watching <{plain(target.target)}> every {every:g} s (watch {watch.id}). Its newest page is"
                " read first; alerts for flagged posts come to the moderators' channel."
            )
        await reply(interaction, text)

    @app_commands.command(name="list", description="What modassist watches, and how reading it goes")
    async def list_watches(self, interaction: discord.Interaction) -> None:
        """Watched threads, channels and files, with their last read and errors."""
        bot = self.cog.bot
        settings = bot.settings.watch
        configured = {(FORUM_THREAD, thread_url(t.url)) for t in settings.forum.threads}
        lines = []
        for watch, state in await bot.moderation.watch_list():
            from_settings = watch.kind == JSONL_FILE or (watch.kind, watch.target) in configured
            lines.append(
                describe_watch(
                    watch,
                    state,
                    default_interval=settings.forum.default_interval_seconds,
                    configured=from_settings,
                )
            )
        lines += [f"<#{c}> (read live) · from the settings" for c in settings.discord.channel_ids]
        lines += [f"category <#{c}> (read live) · from the settings" for c in settings.discord.category_ids]
        if not lines:
            await reply(interaction, f"Nothing is watched. {HOW_TO_ADD}")
            return
        shown: list[str] = []
        size = 0
        for line in lines:
            if size + len(line) + 1 > _LIST_CHARS:
                shown.append(f"… and {len(lines) - len(shown)} more")
                break
            shown.append(line)
            size += len(line) + 1
        embed = discord.Embed(title="Watched", description="\n".join(shown))
        await interaction.response.send_message(
            embed=embed, ephemeral=True, allowed_mentions=discord.AllowedMentions.none()
        )

    @app_commands.command(name="remove", description="Stop watching a thread or channel")
    @app_commands.describe(watch="its number in /modq watch list, or its URL")
    async def remove(self, interaction: discord.Interaction, watch: app_commands.Range[str, 1, 2000]) -> None:
        """Remove a watch (audited); its read position is kept for a later re-add."""
        bot = self.cog.bot
        number = int(watch.strip()) if watch.strip().isdigit() else None
        target = parse_target(watch)
        found = await bot.moderation.find_watch(number, (target.kind, target.target) if target else None)
        if found is None:
            raise CommandError("No such watch; /modq watch list shows them with their numbers.")
        await bot.moderation.remove_watch(
            found, actor_id=interaction.user.id, actor_name=interaction.user.name
        )
        shown = f"<#{found.target}>" if found.kind == DISCORD_CHANNEL else f"<{plain(found.target)}>"
        text = f"Stopped watching {shown} (watch {found.id})."
        if found.kind == FORUM_THREAD and any(
            thread_url(t.url) == found.target for t in bot.settings.watch.forum.threads
        ):
            text += " It is in the settings too: it comes back at the next start unless removed there."
        await reply(interaction, text)


class WatchCog(commands.Cog):
    """Adds `/modq watch` (the watchers hear of a change from `bot.moderation`)."""

    def __init__(self, bot: ModassistBot) -> None:
        self.bot = bot

    async def cog_load(self) -> None:
        """Add the sub-group to `/modq` (before the commands are synced)."""
        self.bot.queue.add_subgroup(WatchGroup(self))


async def setup(bot: ModassistBot) -> None:
    """The extension's entry (`bot.load_extension`, after `/modq`'s)."""
    await bot.add_cog(WatchCog(bot))

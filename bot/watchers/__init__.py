"""Live sources: watchers that feed new posts to the moderation service, so alerts arrive by themselves.

    ForumWatcher            polls XenForo threads (settings and `/modq watch add`), see `xenforo`
    DiscordChannelWatcher   a bot cog reviewing messages in watched channels, see `discord_channels`
    JsonlWatcher            follows a growing JSON Lines file or stdin, see `jsonl`

`modassist run` builds them with `forum_watchers` and `jsonl_watchers` (its `WATCHER_FACTORIES`); the
Discord watcher and the `/modq watch` commands are bot cogs (its `BOT_COG_FACTORIES`). Where each watch
has read to lives in the store (`watches`, `watch_state`), so a restart resumes without alerting twice.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.intake import RetryPolicy
from bot.watchers._http import FetchError, HostBudget, PageError, WatchError
from bot.watchers.jsonl import JsonlWatcher
from bot.watchers.state import DISCORD_CHANNEL, FORUM_THREAD, JSONL_FILE, parse_target, thread_url
from bot.watchers.xenforo import ForumWatcher

if TYPE_CHECKING:
    from bot.commands.run import RunContext

__all__ = [
    "DISCORD_CHANNEL",
    "FORUM_THREAD",
    "JSONL_FILE",
    "FetchError",
    "ForumWatcher",
    "HostBudget",
    "JsonlWatcher",
    "PageError",
    "WatchError",
    "forum_watchers",
    "jsonl_watchers",
    "parse_target",
    "thread_url",
]


def forum_watchers(context: RunContext) -> list[ForumWatcher]:
    """The forum watcher (always: threads can be added at run time), linked to `/modq watch` with a bot."""
    watcher = ForumWatcher(
        context.store,
        context.service,
        context.settings.watch.forum,
        allow_private_addresses=context.settings.bot.fetch_private_addresses,
        retry=RetryPolicy.from_settings(context.settings.watch),
    )
    if context.bot is not None:
        from bot.discord.cogs.watch import WatchCog  # only with the bot

        cog = context.bot.get_cog(WatchCog.__cog_name__)
        if isinstance(cog, WatchCog):
            cog.forum = watcher
    return [watcher]


def jsonl_watchers(context: RunContext) -> list[JsonlWatcher]:
    """One watcher per configured JSON Lines path."""
    jsonl = context.settings.watch.jsonl
    retry = RetryPolicy.from_settings(context.settings.watch)
    return [
        JsonlWatcher(context.store, context.service, path, poll_seconds=jsonl.poll_seconds, retry=retry)
        for path in jsonl.paths
    ]

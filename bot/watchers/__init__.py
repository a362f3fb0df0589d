"""Live sources: watchers that feed new posts to the moderation service, so alerts arrive by themselves.

    ForumWatcher            polls XenForo threads (settings and `/modq watch add`), see `xenforo`
    DiscordChannelWatcher   a bot cog reviewing messages in watched channels, see `discord_channels`
    JsonlWatcher            follows a growing JSON Lines file or stdin, see `jsonl`

The composition root (`bot.runtime`) builds them from the settings and runs them; `bot.moderation` tells
the forum and channel watchers when `/modq watch` changes what is watched. Where each watch has read to
lives in the store (`watches`, `watch_state`), so a restart resumes without alerting twice. Watchers know
nothing of the command line or of the Discord bot's commands.
"""

from __future__ import annotations

from bot.watchers._http import FetchError, HostBudget, PageError, WatchError
from bot.watchers.jsonl import JsonlWatcher
from bot.watchers.state import DISCORD_CHANNEL, FORUM_THREAD, JSONL_FILE, parse_target, thread_url
from bot.watchers.xenforo import ForumWatcher

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
    "parse_target",
    "thread_url",
]

"""What is watched, as stored: kinds of watch, targets in one canonical form, and watches from the settings.

A watch is a row of the store's `watches` (kind, target, interval); how far it has read is its
`watch_state` (the newest page and post seen, the page's ETag and Last-Modified, a file offset, the error
count), so a restart resumes where the last run stopped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from bot.records import DISCORD_CHANNEL, DISCORD_POSITION, FORUM_THREAD, JSONL_FILE, Watch
from bot.store import Store
from bot.urls import web_url

# The kinds of watch are defined with the records (a restart reads a channel's messages posted after its
# DISCORD_POSITION); re-exported here, where the watchers take them from.
__all__ = [
    "DISCORD_CHANNEL",
    "DISCORD_POSITION",
    "FORUM_THREAD",
    "JSONL_FILE",
    "Target",
    "ensure_watch",
    "parse_target",
    "thread_url",
]

_THREAD_PATH = re.compile(r"^(?P<base>.*?/threads/(?:[^/]*\.)?\d+)(?:/|$)")
_DISCORD_HOSTS = frozenset(
    ["discord.com", "www.discord.com", "ptb.discord.com", "canary.discord.com", "discordapp.com"]
)
_DISCORD_PATH = re.compile(r"^/channels/(?P<guild>\d+)/(?P<channel>\d+)(?:/\d+)?/?$")


@dataclass(frozen=True, slots=True)
class Target:
    """What a moderator asked to watch: a forum thread (its canonical URL) or a Discord channel (its id)."""

    kind: str
    target: str
    guild_id: int | None = None


def thread_url(url: str) -> str:
    """A XenForo thread's URL without page, post, query or fragment (`.../threads/slug.123/`), so one thread
    is one watch whatever page or post link was given; other URLs lose only their fragment."""
    parts = urlsplit(url.strip())
    match = _THREAD_PATH.match(parts.path)
    if match is None:
        return urlunsplit(parts._replace(fragment=""))
    base: str = match.group("base")
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), base + "/", "", ""))


def parse_target(value: str) -> Target | None:
    """A Discord channel link or an http(s) thread URL as a watch target; None for anything else."""
    value = value.strip().strip("<>")
    parts = web_url(value)
    if parts is None or parts.hostname is None:
        return None
    if parts.hostname.lower() in _DISCORD_HOSTS:
        match = _DISCORD_PATH.match(parts.path)
        if match is None:
            return None
        return Target(DISCORD_CHANNEL, match.group("channel"), int(match.group("guild")))
    return Target(FORUM_THREAD, thread_url(value))


async def ensure_watch(store: Store, kind: str, target: str, interval_seconds: float | None) -> Watch:
    """The active watch of `target`, added (or re-added with this interval) if needed: settings are read at
    every start, and only a change is written (and audited)."""
    for watch in await store.watches(include_removed=True):
        if watch.kind == kind and watch.target == target:
            if watch.removed_at is None and watch.interval_seconds == interval_seconds:
                return watch
            break
    return await store.add_watch(kind, target, interval_seconds=interval_seconds, actor_name="settings")

"""Watching Discord channels: messages in the configured channels become posts the service reviews.

Watched are the text channels, threads and forum channels named by id (`watch.discord.channel_ids`, or
added with `/modq watch add <channel link>`), the threads of those channels and the posts of those forums,
and every channel, thread and forum post in the configured categories. The channel (or the thread, or the
forum post) is the thread the detectors see, titled by the channel's topic (else its name) or the thread's
or forum post's title; the message's jump URL is the alert's link. Edits are reviewed again in place
(`on_raw_message_edit`, so messages sent before a restart count too). The service deduplicates by guild and
message id, so an event Discord delivers twice is reviewed once.

Nothing is lost (bot/intake.py): a message is stored before the channel's position (its newest stored
message id, kept in the store) moves past it; while the store cannot take it, it is retried; one that cannot
be reviewed is stored as unreviewable and alerted. When the bot connects (a start, a restart after a crash),
the messages posted after each channel's position are read from the channel's history and reviewed.

Not reviewed: messages of bots and webhooks (`exempt_bots`), of moderators (`exempt_moderators`: Manage
Messages in the channel, or a moderator role), system messages, messages without text, and anything in the
moderators' own channel.

Reading message text needs the privileged message-content intent: switch it on in the developer portal
(Bot → Privileged Gateway Intents → Message Content Intent); the bot asks for it (with guild messages) when
Discord watching is configured (`bot.discord.app.intents_for`). Without it, Discord sends empty text and
nothing is flagged.

The watcher is a cog of the bot, built by the composition root (`bot.runtime`) with what it needs (the
settings, the store, the service) and told by `bot.moderation` when `/modq watch` adds or removes a channel.
"""

from __future__ import annotations

import logging
from dataclasses import replace

import discord
from discord.ext import commands

from bot.intake import RetryPolicy, store_reliably
from bot.records import DISCORD_SOURCE
from bot.service import ModerationService
from bot.store import SourceRef, Store, Watch
from bot.watchers.state import DISCORD_CHANNEL, DISCORD_POSITION, ensure_watch
from classifiers.thread import Post, Thread
from config.settings import Settings

log = logging.getLogger(__name__)

_USER_MESSAGES = frozenset([discord.MessageType.default, discord.MessageType.reply])
_CATCH_UP = 1000  # messages read back per channel at a start
SOURCE_KIND = DISCORD_SOURCE


def thread_title(channel: discord.abc.GuildChannel | discord.Thread) -> str:
    """A thread's (or forum post's) title; a channel's topic, else `#name`."""
    if isinstance(channel, discord.Thread):
        return channel.name
    topic = getattr(channel, "topic", None)
    return topic.strip() if isinstance(topic, str) and topic.strip() else f"#{channel.name}"


def message_post(message: discord.Message) -> Post:
    """A message as the detectors see it: mentions spelled out, the jump URL as its link."""
    return Post(
        id=str(message.id),
        text=message.clean_content,
        author=message.author.name,
        url=message.jump_url,
        created_at=message.created_at.isoformat(),
    )


class DiscordChannelWatcher(commands.Cog):
    """Reviews messages in watched channels (a cog of the bot: it listens to the gateway)."""

    def __init__(
        self, bot: commands.Bot, settings: Settings, store: Store, service: ModerationService
    ) -> None:
        self.bot = bot
        self.store = store
        self.service = service
        self.settings = settings.watch.discord
        self._mod_channel_id = settings.mod_channel_id  # never reviewed
        self._moderator_role_ids = frozenset(settings.moderator_role_ids)
        self._retry = RetryPolicy.from_settings(settings.watch)
        self.added: set[int] = set()  # channels added with /modq watch add (kept in the store)
        self._positions: dict[int, Watch] = {}  # channel id -> its position's row
        self._pending: dict[int, set[int]] = {}  # channel id -> ids of messages being stored now

    async def cog_load(self) -> None:
        """Read the channels added at run time; warn if the bot cannot read message text."""
        await self.reload()
        if self.watching and not self.bot.intents.message_content:
            log.warning(
                "Discord channels are watched but the bot does not ask for the message-content intent:"
                " set MODASSIST_WATCH__DISCORD__ENABLED=true (and enable the intent in the developer portal)"
            )

    async def reload(self) -> None:
        """Re-read the watched channels from the store (after `/modq watch add` or `remove`)."""
        watches = await self.store.watches()
        self.added = {int(w.target) for w in watches if w.kind == DISCORD_CHANNEL and w.target.isdigit()}

    @property
    def watching(self) -> bool:
        """Whether any channel or category is watched."""
        return bool(self.added or self.settings.channel_ids or self.settings.category_ids)

    def is_watched(self, channel: object) -> bool:
        """True for a watched channel, a thread or forum post of one, or anything in a watched category."""
        ids = self.added.union(self.settings.channel_ids)
        channel_id = getattr(channel, "id", None)
        if channel_id is None or channel_id == self._mod_channel_id:
            return False
        if channel_id in ids or getattr(channel, "parent_id", None) in ids:
            return True
        categories = self.settings.category_ids
        return bool(categories) and getattr(channel, "category_id", None) in categories

    def is_exempt(self, message: discord.Message) -> bool:
        """Bots, webhooks and (configurably) moderators are not reviewed."""
        author = message.author
        if self.bot.user is not None and author.id == self.bot.user.id:
            return True
        if self.settings.exempt_bots and (author.bot or message.webhook_id is not None):
            return True
        if self.settings.exempt_moderators and isinstance(author, discord.Member):
            if self._moderator_role_ids.intersection(r.id for r in author.roles):
                return True
            channel = message.channel
            if isinstance(channel, discord.abc.GuildChannel | discord.Thread):
                try:
                    permissions = channel.permissions_for(author)
                except discord.ClientException:  # a thread whose parent the bot has not seen
                    return False
                return permissions.manage_messages or permissions.administrator
        return False

    @commands.Cog.listener()
    async def on_ready(self) -> None:
        """Review the messages posted in watched channels after their stored position (while down)."""
        for watch in await self.store.watches():
            if watch.kind != DISCORD_POSITION or not watch.target.isdigit():
                continue
            state = await self.store.watch_state(watch.id)
            channel = self.bot.get_channel(int(watch.target))
            if state.last_post_id is None or channel is None or not self.is_watched(channel):
                continue
            if not isinstance(channel, discord.TextChannel | discord.Thread | discord.VoiceChannel):
                continue
            after = discord.Object(int(state.last_post_id))
            try:
                async for message in channel.history(limit=_CATCH_UP, after=after, oldest_first=True):
                    await self.review(message)
            except discord.HTTPException as exc:
                log.warning("could not read back the messages of channel %s: %s", channel.id, exc)

    async def _advance(self, channel_id: int, message_id: int) -> None:
        """Move the channel's position to `message_id` (stored now), if it is newer."""
        watch = self._positions.get(channel_id)
        if watch is None:
            watch = await ensure_watch(self.store, DISCORD_POSITION, str(channel_id), None)
            self._positions[channel_id] = watch
        state = await self.store.watch_state(watch.id)
        if state.last_post_id is None or int(state.last_post_id) < message_id:
            await self.store.save_watch_state(replace(state, last_post_id=str(message_id)))

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        """A new message in a watched channel."""
        await self.review(message)

    @commands.Cog.listener()
    async def on_raw_message_edit(self, payload: discord.RawMessageUpdateEvent) -> None:
        """An edited message (cached or not): reviewed again if its text changed."""
        message = getattr(payload, "message", None)  # discord.py 2.5+ builds it, cached or not
        if message is not None:
            await self.review(message)

    async def review(self, message: discord.Message) -> None:
        """Review `message` if it is a user's message with text in a watched channel."""
        channel = message.channel
        guild = message.guild
        if guild is None or not isinstance(channel, discord.abc.GuildChannel | discord.Thread):
            return  # DMs, and channels the bot has not seen (so their parent and category are unknown)
        if message.type not in _USER_MESSAGES or not self.is_watched(channel) or self.is_exempt(message):
            return
        post = message_post(message)
        if not post.text.strip():
            return  # attachments only, or no message-content intent
        thread = Thread(
            id=str(channel.id),
            title=thread_title(channel),
            posts=(post,),
            url=channel.jump_url,
            source_format=SOURCE_KIND,
        )
        # Retried while the store is unavailable; a message that cannot be reviewed is stored as
        # unreviewable and reported, never dropped (bot/intake.py).
        pending = self._pending.setdefault(channel.id, set())
        pending.add(message.id)
        try:
            review = await store_reliably(
                self.service,
                thread,
                source=SourceRef(SOURCE_KIND, str(guild.id), guild.name),
                author_ids={post.id: message.author.id},
                policy=self._retry,
            )
        finally:
            pending.discard(message.id)
        if review is None:
            return
        # Never past an earlier message still being stored (it may be retrying while this one went through).
        upto = min(message.id, min(pending) - 1) if pending else message.id
        try:
            await self._advance(channel.id, upto)
        except Exception:  # stored all the same: at worst it is read back, and known, at the next start
            log.exception("could not save how far channel %s was read", channel.id)
        if review.alert_ids:
            log.info("message %s in #%s: %d alerts", message.id, channel, len(review.alert_ids))

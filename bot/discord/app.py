"""The Discord bot: a `commands.Bot` built from Settings and the moderators' use cases (`bot.moderation`).

Where it connects: discord.py keeps the REST base URL (`discord.http.Route.BASE`) and the gateway URL
(`DiscordWebSocket.DEFAULT_GATEWAY`) as class attributes. `configure_endpoints` sets both from
`Settings.discord_api_base` and `Settings.discord_gateway_url`; the bot calls it when it logs in, so
pointing those two settings at a Discord-compatible server (or the test fake) is all it takes. discord.py
asks the gateway for `compress=zlib-stream`; a server may ignore that and send plain text frames.

Intents: only `guilds` (the guild, its channels and roles, for the moderator role check). Interactions need
no intent. Message content is not needed for alerts; watching Discord channels needs it (`intents_for`).

`setup_hook` loads the bot's own cogs as discord.py extensions (`EXTENSIONS`: `/modq` with the persistent
alert buttons, then `/modq watch`), adds the extra cogs the composition root (`bot.runtime`) built with their
own dependencies (the channel watcher), and syncs the application commands to each configured guild (or
globally when no guild is configured). This module imports none of its cogs: they import it. The thresholds
moderators changed are applied before the bot is built, by `ModerationService.open`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import discord
import yarl
from discord import app_commands
from discord.ext import commands
from discord.gateway import DiscordWebSocket

from bot.discord.access import report_error, require_moderator
from bot.discord.urgent import urgent_conflicts
from bot.textsafety import clean_line
from config.settings import Settings

if TYPE_CHECKING:
    from bot.moderation import Moderation

log = logging.getLogger(__name__)

DEFAULT_GATEWAY = "wss://gateway.discord.gg/"
# The bot's own cogs, loaded in this order by `setup_hook` (each module has `async def setup(bot)`).
EXTENSIONS: tuple[str, ...] = ("bot.discord.cogs.queue", "bot.discord.cogs.watch")
QUEUE_COG = "ModQueueCog"  # the `/modq` cog's name (`bot.discord.cogs.queue` gives it)

CogFactory = Callable[["ModassistBot"], commands.Cog]


@runtime_checkable
class Queue(Protocol):
    """What other cogs use of the `/modq` cog."""

    def add_subgroup(self, group: app_commands.Group) -> None:
        """Add a sub-group to `/modq`; call before the commands are synced."""


def configure_endpoints(settings: Settings) -> None:
    """Point discord.py's REST client and gateway at the configured server (process-wide in discord.py)."""
    discord.http.Route.BASE = settings.discord_api_base
    DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(settings.discord_gateway_url or DEFAULT_GATEWAY)


def default_intents() -> discord.Intents:
    """What the bot needs: guilds (channels and roles). No privileged intent."""
    intents = discord.Intents.none()
    intents.guilds = True
    return intents


def intents_for(settings: Settings) -> discord.Intents:
    """The bot's intents: the default ones, plus guild messages and message content when watching."""
    intents = default_intents()
    if settings.watch.discord.active:
        intents.guild_messages = True
        intents.message_content = True  # privileged: must be enabled in the developer portal as well
    return intents


class ModassistTree(app_commands.CommandTree["ModassistBot"]):
    """The command tree: the moderator check for every command, one error handler."""

    async def interaction_check(self, interaction: discord.Interaction[ModassistBot], /) -> bool:
        """Only moderators use modassist's commands; others get an ephemeral refusal."""
        return await require_moderator(interaction, self.client.settings)

    async def on_error(
        self, interaction: discord.Interaction[ModassistBot], error: app_commands.AppCommandError, /
    ) -> None:
        """Domain errors as a reply; everything else logged with its traceback."""
        if isinstance(error, app_commands.CheckFailure) and interaction.response.is_done():
            return  # the check has answered already
        await report_error(
            interaction, error.original if isinstance(error, app_commands.CommandInvokeError) else error
        )


class ModassistBot(commands.Bot):
    """modassist's Discord client. Dependencies are passed in; nothing is global but discord.py's URLs."""

    def __init__(
        self,
        settings: Settings,
        moderation: Moderation,
        *,
        intents: discord.Intents | None = None,
        extra_cogs: Sequence[CogFactory] = (),
        **options: Any,
    ) -> None:
        """`extra_cogs` are built with the bot and added after its extensions (e.g. the channel watcher)."""
        self.settings = settings
        self.moderation = moderation
        self._extra_cogs = tuple(extra_cogs)
        options.setdefault("guild_ready_timeout", settings.bot.guild_ready_timeout_seconds)
        options.setdefault("max_ratelimit_timeout", settings.bot.max_ratelimit_wait_seconds)
        super().__init__(
            command_prefix=commands.when_mentioned,
            help_command=None,
            intents=intents or default_intents(),
            allowed_mentions=discord.AllowedMentions.none(),
            tree_cls=ModassistTree,
            **options,
        )

    @property
    def queue(self) -> Queue:
        """The `/modq` cog (to add sub-groups to)."""
        cog = self.get_cog(QUEUE_COG)
        if not isinstance(cog, Queue):
            raise RuntimeError("the /modq cog is not loaded yet (it is loaded in setup_hook)")
        return cog

    async def login(self, token: str) -> None:
        """Log in at the configured API base URL (and use the configured gateway)."""
        configure_endpoints(self.settings)
        await super().login(token)

    async def setup_hook(self) -> None:
        """Extensions (cogs and buttons), extra cogs, command sync."""
        for extension in EXTENSIONS:
            await self.load_extension(extension)
        for factory in self._extra_cogs:
            await self.add_cog(factory(self))
        if self.settings.bot.sync_commands:
            await self.sync_commands()
        # A threshold stored with /modq thresholds before the urgent threshold was lowered: said at start.
        thresholds, _ = await self.moderation.thresholds()
        for line in urgent_conflicts(thresholds, self.settings.alerts):
            log.warning("%s", line)

    async def sync_commands(self) -> None:
        """Register the slash commands with Discord: per configured guild (at once), else globally."""
        if not self.settings.guild_ids:
            synced = await self.tree.sync()
            log.info("synced %d global commands", len(synced))
            return
        for guild_id in self.settings.guild_ids:
            guild = discord.Object(guild_id)
            self.tree.copy_global_to(guild=guild)
            synced = await self.tree.sync(guild=guild)
            log.info("synced %d commands to guild %d", len(synced), guild_id)

    def connected_line(self) -> str:
        """One line naming the bot's user and the servers it sees (their names are Discord's: cleaned)."""
        user = self.user
        who = f"{user} (id {user.id})" if user is not None else "an unknown user"
        servers = ", ".join(f"{guild.name} (id {guild.id})" for guild in self.guilds) or "none"
        return clean_line(f"connected to Discord as {who}; servers: {servers}")

    async def on_ready(self) -> None:
        """Log where the bot is and whether it can see the moderators' channel."""
        log.info(
            "connected as %s (%s) to %d guilds", self.user, getattr(self.user, "id", "?"), len(self.guilds)
        )
        channel_id = self.settings.mod_channel_id
        if channel_id is not None and self.get_channel(channel_id) is None:
            log.warning("the moderators' channel %d is not visible to the bot", channel_id)

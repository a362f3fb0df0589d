"""modassist on Discord: the bot, its `/modq` commands, alert buttons and embeds, and the alert sink.

ModassistBot          the `commands.Bot` built from Settings and the moderators' use cases (`bot.moderation`)
DiscordSink           the outbox's sink that posts alerts to the moderators' channel
configure_endpoints   points discord.py at `discord_api_base` / `discord_gateway_url`
"""

from bot.discord.app import ModassistBot, configure_endpoints
from bot.discord.sink import DiscordSink

__all__ = ["DiscordSink", "ModassistBot", "configure_endpoints"]

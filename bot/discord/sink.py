"""The Discord alert sink: posts each alert (or digest) to the moderators' channel.

Delivery follows the outbox's claim protocol (see `bot.sinks`): `send` returns only once Discord has
confirmed the message, and the receipt carries its channel and message ids, which the dispatcher stores
with the alert so that decisions can edit the message later. The alert's idempotency key goes out as the
message nonce with `enforce_nonce`, so a re-send after a crash returns the first message instead of posting
a second one (within Discord's nonce window).

Failures, as the dispatcher needs them:

- a rate limit longer than `bot.max_ratelimit_wait_seconds` (shorter ones discord.py waits out itself):
  `DeliveryError(retry_after=...)`, so the alert is due again exactly when the limit ends; until then the
  following alerts are handed back the same way, without a request to Discord;
- 403 (the bot may not see or post in the channel) and 404 (no such channel): permanent; retrying cannot
  help until someone fixes the configuration, which the log says;
- 400 (Discord refused the payload): permanent, with Discord's error in the log;
- 5xx and network errors: retried with backoff.
"""

from __future__ import annotations

import hashlib
import logging
from typing import TYPE_CHECKING

import aiohttp
import discord

from bot.discord.views import render_alert
from bot.sinks import DeliveryError, SentReceipt
from bot.store import AlertView

if TYPE_CHECKING:
    from bot.discord.app import ModassistBot

log = logging.getLogger(__name__)

NONCE_LIMIT = 25  # Discord's longest nonce


def message_nonce(alert: AlertView) -> str:
    """The alert's idempotency key as a Discord nonce (at most 25 characters)."""
    key = alert.idempotency_key
    if len(key) <= NONCE_LIMIT:
        return key
    return "ma-" + hashlib.sha256(key.encode()).hexdigest()[: NONCE_LIMIT - 3]


class DiscordSink:
    """Posts alerts to `channel_id` through the bot's REST client (the bot must be logged in)."""

    def __init__(self, bot: ModassistBot, channel_id: int) -> None:
        """`channel_id` is the moderators' channel."""
        self.bot = bot
        self.channel_id = channel_id
        # After a long rate limit the next alerts wait without asking Discord (store time, like the outbox).
        self._paused_until = 0.0

    async def send(self, alert: AlertView) -> SentReceipt:
        """Post the alert with its buttons; raise DeliveryError as described in the module doc."""
        wait = self._paused_until - self.bot.store.now()
        if wait > 0:
            raise DeliveryError(f"rate limited for another {wait:.1f} s", retry_after=wait)
        embed, view = await render_alert(
            self.bot.store, alert, excerpt_chars=self.bot.settings.bot.excerpt_chars
        )
        channel = self.bot.get_partial_messageable(self.channel_id)
        try:
            message = await channel.send(
                embed=embed,
                view=view,
                nonce=message_nonce(alert),
                allowed_mentions=discord.AllowedMentions.none(),
            )
        except discord.RateLimited as exc:
            log.warning(
                "alert %d: rate limited for %.1f s; it stays in the outbox", alert.id, exc.retry_after
            )
            self._paused_until = self.bot.store.now() + exc.retry_after
            raise DeliveryError(
                f"rate limited for {exc.retry_after:.1f} s", retry_after=exc.retry_after
            ) from exc
        except discord.Forbidden as exc:
            log.error(
                "alert %d: Discord forbids posting in channel %d (%s); give the bot View Channel, Send"
                " Messages and Embed Links there",
                alert.id,
                self.channel_id,
                exc.text or exc.status,
            )
            raise DeliveryError(
                f"forbidden in channel {self.channel_id}: {exc.text}", permanent=True
            ) from exc
        except discord.NotFound as exc:
            log.error(
                "alert %d: channel %d does not exist (%s); check mod_channel_id",
                alert.id,
                self.channel_id,
                exc.text,
            )
            raise DeliveryError(f"channel {self.channel_id} not found: {exc.text}", permanent=True) from exc
        except discord.DiscordServerError as exc:
            raise DeliveryError(f"Discord server error {exc.status}: {exc.text}") from exc
        except discord.HTTPException as exc:
            if exc.status == 429:  # retries used up, or a 429 without Discord's headers (e.g. a proxy's)
                retry_after = _retry_after(exc)
                raise DeliveryError(f"rate limited: {exc.text}", retry_after=retry_after) from exc
            log.error("alert %d: Discord refused the message: %s %s", alert.id, exc.status, exc.text)
            raise DeliveryError(
                f"Discord refused the message: {exc.status} {exc.text}", permanent=exc.status < 500
            ) from exc
        except (aiohttp.ClientError, OSError) as exc:
            raise DeliveryError(f"network error: {exc}") from exc
        return SentReceipt(channel_id=message.channel.id, message_id=message.id)


def _retry_after(exc: discord.HTTPException) -> float | None:
    header = exc.response.headers.get("Retry-After") if exc.response is not None else None
    try:
        return float(header) if header is not None else None
    except ValueError:
        return None

"""The Discord alert sink: posts each alert (or digest) to the moderators' channel.

Delivery follows the outbox's claim protocol (see `bot.sinks`): `send` returns only once Discord has
confirmed the message, and the receipt carries its channel and message ids, which the dispatcher stores
with the alert so that decisions can edit the message later.

Exactly once in the channel. A try can post the message and still go unconfirmed: the process dies (or the
reply is lost) between Discord's answer and the outbox's "sent". Before such an alert is sent again, the
dispatcher asks `find_delivered`, which reads the channel's history from shortly before the alert was created
and recognises the bot's own alert messages by the id in their embed footer ("alert 12 · flag ..." or
"digest 15 · ...", written by `bot.discord.embeds`); an alert found there is marked sent with that message
instead of being posted again, however long ago the first try was. This needs Read Message History in the
channel; without it (403) the alert is re-sent unchecked, with an error in the log. As a second line, the
idempotency key goes out as the message nonce with `enforce_nonce`, which Discord honours for a few minutes.

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
import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import aiohttp
import discord

from bot.discord.urgent import alert_mentions
from bot.discord.views import render_alert
from bot.records import AlertView
from bot.sinks import DeliveryError, SentReceipt

if TYPE_CHECKING:
    from bot.discord.app import ModassistBot

log = logging.getLogger(__name__)

NONCE_LIMIT = 25  # Discord's longest nonce
# How far back `find_delivered` looks: from the oldest alert's creation less a margin for the difference
# between our clock and Discord's, over at most this many messages (10 requests).
HISTORY_MARGIN = timedelta(minutes=5)
HISTORY_LIMIT = 1000
# The footers `bot.discord.embeds` gives alert and digest embeds; keep the two in step.
_FOOTER_IDS = {"post": re.compile(r"alert (\d+) · flag "), "digest": re.compile(r"digest (\d+) · ")}


def message_nonce(alert: AlertView) -> str:
    """The alert's idempotency key as a Discord nonce (at most 25 characters)."""
    key = alert.idempotency_key
    if len(key) <= NONCE_LIMIT:
        return key
    return "ma-" + hashlib.sha256(key.encode()).hexdigest()[: NONCE_LIMIT - 3]


class DiscordSink:
    """Posts alerts to `channel_id` through the bot's REST client (the bot must be logged in)."""

    def __init__(self, bot: ModassistBot, channel_id: int, *, clock: Callable[[], float]) -> None:
        """`channel_id` is the moderators' channel; `clock` tells the time as the outbox does."""
        self.bot = bot
        self.channel_id = channel_id
        self._clock = clock
        # After a long rate limit the next alerts wait without asking Discord (store time, like the outbox).
        self._paused_until = 0.0

    async def send(self, alert: AlertView) -> SentReceipt:
        """Post the alert with its buttons; raise DeliveryError as described in the module doc."""
        self._check_paused()
        embed, view = await render_alert(
            self.bot.moderation, alert, excerpt_chars=self.bot.settings.bot.excerpt_chars
        )
        content, mentions = alert_mentions(alert, self.bot.settings.alerts)
        channel = self.bot.get_partial_messageable(self.channel_id)
        with self._delivery_errors(f"alert {alert.id}"):
            message = await channel.send(
                content=content, embed=embed, view=view, nonce=message_nonce(alert), allowed_mentions=mentions
            )
        return SentReceipt(channel_id=message.channel.id, message_id=message.id)

    async def find_delivered(self, alerts: Sequence[AlertView]) -> dict[int, SentReceipt]:
        """The alerts the channel already shows, by id, with their messages (see the module doc)."""
        self._check_paused()
        me = self.bot.user
        if me is None:
            raise DeliveryError("the bot is not logged in yet")
        wanted: set[tuple[str, int]] = {(a.kind, a.id) for a in alerts}
        since = max(min(a.alert.created_at for a in alerts) - HISTORY_MARGIN, discord.utils.snowflake_time(0))
        channel = self.bot.get_partial_messageable(self.channel_id)
        with self._delivery_errors("reading the channel history"):
            try:
                return await _scan(channel, wanted, since, me.id)
            except discord.Forbidden as exc:
                # Still deliver: an alert shown twice is better than one never shown.
                log.error(
                    "cannot read the history of channel %d (%s); give the bot Read Message History there,"
                    " or alerts cut off by a crash may be posted twice",
                    self.channel_id,
                    exc.text or exc.status,
                )
                return {}

    def _check_paused(self) -> None:
        wait = self._paused_until - self._clock()
        if wait > 0:
            raise DeliveryError(f"rate limited for another {wait:.1f} s", retry_after=wait)

    @contextmanager
    def _delivery_errors(self, what: str) -> Iterator[None]:
        """discord.py's errors as DeliveryErrors (with the log lines they need); `what` names the request."""
        try:
            yield
        except discord.RateLimited as exc:
            log.warning("%s: rate limited for %.1f s; it stays in the outbox", what, exc.retry_after)
            self._paused_until = self._clock() + exc.retry_after
            raise DeliveryError(
                f"rate limited for {exc.retry_after:.1f} s", retry_after=exc.retry_after
            ) from exc
        except discord.Forbidden as exc:
            log.error(
                "%s: Discord forbids it in channel %d (%s); give the bot View Channel, Send Messages, Embed"
                " Links and Read Message History there",
                what,
                self.channel_id,
                exc.text or exc.status,
            )
            raise DeliveryError(
                f"forbidden in channel {self.channel_id}: {exc.text}", permanent=True
            ) from exc
        except discord.NotFound as exc:
            log.error(
                "%s: channel %d does not exist (%s); check mod_channel_id", what, self.channel_id, exc.text
            )
            raise DeliveryError(f"channel {self.channel_id} not found: {exc.text}", permanent=True) from exc
        except discord.DiscordServerError as exc:
            raise DeliveryError(f"Discord server error {exc.status}: {exc.text}") from exc
        except discord.HTTPException as exc:
            if exc.status == 429:  # retries used up, or a 429 without Discord's headers (e.g. a proxy's)
                retry_after = _retry_after(exc)
                raise DeliveryError(f"rate limited: {exc.text}", retry_after=retry_after) from exc
            log.error("%s: Discord refused it: %s %s", what, exc.status, exc.text)
            raise DeliveryError(
                f"Discord refused the request: {exc.status} {exc.text}", permanent=exc.status < 500
            ) from exc
        except (aiohttp.ClientError, OSError) as exc:
            raise DeliveryError(f"network error: {exc}") from exc


async def _scan(
    channel: discord.PartialMessageable, wanted: set[tuple[str, int]], since: datetime, bot_id: int
) -> dict[int, SentReceipt]:
    """The messages of `wanted` alerts posted after `since`, oldest first, reading up to HISTORY_LIMIT."""
    found: dict[int, SentReceipt] = {}
    async for message in channel.history(limit=HISTORY_LIMIT, after=since, oldest_first=True):
        key = _alert_shown(message, bot_id)
        if key is not None and key in wanted and key[1] not in found:
            found[key[1]] = SentReceipt(message.channel.id, message.id, duplicate=True)
            if len(found) == len(wanted):
                break
    return found


def _alert_shown(message: discord.Message, bot_id: int) -> tuple[str, int] | None:
    """('post' or 'digest', alert id) when `message` is one of the bot's alert posts, else None."""
    if (
        message.author.id != bot_id
        or message.type is not discord.MessageType.default
        or message.webhook_id is not None  # an interaction's reply, not an alert
        or message.interaction_metadata is not None
    ):
        return None
    for embed in message.embeds:
        footer = embed.footer.text or ""
        for kind, pattern in _FOOTER_IDS.items():
            if match := pattern.match(footer):
                return kind, int(match.group(1))
    return None


def _retry_after(exc: discord.HTTPException) -> float | None:
    header = exc.response.headers.get("Retry-After") if exc.response is not None else None
    try:
        return float(header) if header is not None else None
    except ValueError:
        return None

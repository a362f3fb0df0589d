r"""A fake Discord, on 127.0.0.1, that the real discord.py talks to over HTTP and a WebSocket.

It serves what modassist's bot uses and nothing else:

- REST (under /api/v10): `GET /users/@me`, `GET /oauth2/applications/@me`, `GET /gateway` and
  `/gateway/bot`, bulk command sync (`PUT /applications/{app}/commands` and `.../guilds/{guild}/commands`),
  message create/edit/get/delete in the guild's channels, time-outs (`PATCH /guilds/{guild}/members/{user}`
  with `communication_disabled_until`), channel history (`GET /channels/{id}/messages` with
  `limit`, `before`, `after`: history.py), interaction callbacks (types 4, 5, 6, 7) and
  their followups and original-response edits (`/webhooks/{app}/{token}`);
- a CDN route serving attachments the tests register (`add_attachment`);
- the gateway at `/gateway`: HELLO, IDENTIFY -> READY + GUILD_CREATE (a guild with channels, roles and
  members), heartbeats -> ACK; tests push MESSAGE_CREATE, INTERACTION_CREATE, ... with `dispatch`.

Message nonces: a create with `nonce` + `enforce_nonce` returns the earlier message with that nonce instead of
posting again, but only within `nonce_window` seconds of it, like Discord (which keeps nonces for a few
minutes). `FakeDiscord(nonce_window=0)` (or setting `fake.nonce_window = 0` at any time) turns that off, so a
test sees what a re-send after a long outage does. Ids are time-based snowflakes, so `history(after=datetime)`
works as on Discord. Channel history holds the channel messages: those the bot created and those a test adds
with `add_message` (another member's chatter, say); interaction replies are not in it. To stop at the moment a
message exists but the bot has not heard back, `hold("POST", r"/channels/\d+/messages", skip=n)`, wait for the
request, then kill the bot.

Every request is recorded (`requests`) with its JSON body, so tests assert on what discord.py actually sent.
A route that is not implemented answers 404 and lands in `unhandled`; `assert_clean()` (the fixture calls it)
fails the test then. Responses carry `Content-Type: application/json` exactly (discord.py parses nothing
else as JSON). Failures are injected per route with `fail(...)`: a 429 carries `Via`, the `X-RateLimit-*`
headers and `retry_after` in the body, as Discord's do (without `Via` discord.py takes a 429 for a
Cloudflare ban). discord.py asks the gateway for `compress=zlib-stream`; the fake answers in plain text
frames, which discord.py reads as they are.

The parts, by role: `records` (constants, requests, users, interactions), `state` (the guild and what the fake
has seen), `payloads` (the Discord objects), `faults` (recording, `fail`, `hold`, payload limits from
`validation`), `rest` (the REST and CDN routes), `gateway` (the WebSocket), `interactions` (slash commands,
clicks and their callbacks), `history` (snowflakes and history paging) and `server` (`FakeDiscord`).
"""

from tests.fakes.discord_server.records import (
    ADMINISTRATOR,
    ALL_PERMISSIONS,
    API,
    BASE_PERMISSIONS,
    CDN_PATH,
    EMBED_LINKS,
    GATEWAY_PATH,
    MANAGE_GUILD,
    MANAGE_MESSAGES,
    MANAGE_THREADS,
    MODERATE_MEMBERS,
    NONCE_WINDOW_SECONDS,
    READ_HISTORY,
    SEND_MESSAGES,
    TOKEN,
    USE_COMMANDS,
    VIEW_CHANNEL,
    Interaction,
    Recorded,
    User,
)
from tests.fakes.discord_server.server import FakeDiscord

__all__ = [
    "ADMINISTRATOR",
    "ALL_PERMISSIONS",
    "API",
    "BASE_PERMISSIONS",
    "CDN_PATH",
    "EMBED_LINKS",
    "GATEWAY_PATH",
    "MANAGE_GUILD",
    "MANAGE_MESSAGES",
    "MANAGE_THREADS",
    "MODERATE_MEMBERS",
    "NONCE_WINDOW_SECONDS",
    "READ_HISTORY",
    "SEND_MESSAGES",
    "TOKEN",
    "USE_COMMANDS",
    "VIEW_CHANNEL",
    "FakeDiscord",
    "Interaction",
    "Recorded",
    "User",
]

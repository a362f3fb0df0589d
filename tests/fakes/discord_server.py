r"""A fake Discord, on 127.0.0.1, that the real discord.py talks to over HTTP and a WebSocket.

It serves what modassist's bot uses and nothing else:

- REST (under /api/v10): `GET /users/@me`, `GET /oauth2/applications/@me`, `GET /gateway` and
  `/gateway/bot`, bulk command sync (`PUT /applications/{app}/commands` and `.../guilds/{guild}/commands`),
  message create/edit/get in the guild's channels, channel history (`GET /channels/{id}/messages` with
  `limit`, `before`, `after`: tests/fakes/discord_history.py), interaction callbacks (types 4, 5, 6, 7) and
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
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from tests.fakes.discord_history import HistoryQueryError, Snowflakes, history_page

API = "/api/v10"
_BODY = web.RequestKey("json", object)  # the parsed body of a recorded request
GATEWAY_PATH = "/gateway"
CDN_PATH = "/cdn/attachments"
TOKEN = "fake-bot-token"

# Permission bits (Discord's values).
ADMINISTRATOR = 1 << 3
MANAGE_GUILD = 1 << 5
VIEW_CHANNEL = 1 << 10
SEND_MESSAGES = 1 << 11
MANAGE_MESSAGES = 1 << 13
EMBED_LINKS = 1 << 14
READ_HISTORY = 1 << 16
USE_COMMANDS = 1 << 31
NONCE_WINDOW_SECONDS = 300.0  # Discord keeps message nonces "for a few minutes"
ALL_PERMISSIONS = (1 << 50) - 1
BASE_PERMISSIONS = VIEW_CHANNEL | SEND_MESSAGES | EMBED_LINKS | READ_HISTORY | USE_COMMANDS

# Option types of application commands.
_OPTION_TYPES = {
    "subcommand": 1,
    "group": 2,
    "string": 3,
    "integer": 4,
    "boolean": 5,
    "number": 10,
    "attachment": 11,
}


@dataclass(frozen=True, slots=True)
class Recorded:
    """One request the fake received."""

    method: str
    path: str
    query: Mapping[str, str]
    json: Any
    headers: Mapping[str, str]
    at: float  # time.perf_counter() on arrival
    status: int = 0


@dataclass(slots=True)
class _Failure:
    method: str
    pattern: re.Pattern[str]
    status: int
    times: int
    retry_after: float
    body: dict[str, Any] | None
    is_global: bool
    via: bool


@dataclass(frozen=True, slots=True)
class User:
    """A guild member the tests act as."""

    id: int
    name: str
    role_ids: tuple[int, ...] = ()
    bot: bool = False


@dataclass(slots=True)
class Interaction:
    """An interaction the fake sent, and what the bot answered."""

    id: int
    token: str
    type: int
    channel_id: int
    callbacks: list[dict[str, Any]] = field(default_factory=list)
    followups: list[dict[str, Any]] = field(default_factory=list)  # messages (ephemeral or not)
    original: dict[str, Any] | None = None


class FakeDiscord:
    """The fake server. `await start()`, point the bot at `api_base` and `gateway_url`, `await close()`."""

    APPLICATION_ID = 700000000000000001
    GUILD_ID = 700000000000000100
    MOD_CHANNEL_ID = 700000000000000200
    GENERAL_CHANNEL_ID = 700000000000000201
    ROLE_MODERATOR = 700000000000000300  # no permission of its own: modassist is configured to trust it
    ROLE_HELPER = 700000000000000301  # Manage Messages
    ROLE_ADMIN = 700000000000000302  # Administrator
    BOT = User(700000000000000400, "modassist", bot=True)
    MODERATOR = User(700000000000000401, "rolemod", (ROLE_MODERATOR,))
    HELPER = User(700000000000000402, "helper", (ROLE_HELPER,))
    ADMIN = User(700000000000000403, "admin", (ROLE_ADMIN,))
    VISITOR = User(700000000000000404, "visitor")

    def __init__(self, *, nonce_window: float = NONCE_WINDOW_SECONDS) -> None:
        """`nonce_window`: seconds during which a repeated nonce returns the first message (0: never)."""
        self.nonce_window = nonce_window
        self.requests: list[Recorded] = []
        self.unhandled: list[str] = []
        self.invalid: list[str] = []  # message payloads Discord would refuse (limits, empty fields)
        self.gateway_log: list[dict[str, Any]] = []  # what the bot sent on the gateway
        self.gateway_queries: list[dict[str, str]] = []
        self.messages: dict[int, dict[str, Any]] = {}  # channel messages by id
        self.commands: dict[int | None, list[dict[str, Any]]] = {}  # guild id (None: global) -> commands
        self.interactions: dict[str, Interaction] = {}
        self.attachments: dict[str, tuple[bytes, str]] = {}
        self.identified = 0
        self._ids = Snowflakes()
        self._created: dict[int, float] = {}  # message id -> time.monotonic() at creation (nonce window)
        self._failures: list[_Failure] = []
        # (method, path, [matching requests still to let through], event)
        self._holds: list[tuple[str, re.Pattern[str], list[int], asyncio.Event]] = []
        self._held_events: list[asyncio.Event] = []  # released at close
        self._sockets: set[web.WebSocketResponse] = set()
        self._seq = 0
        self._clicked: dict[str, int] = {}  # interaction token -> the message its component is on
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self.port = 0
        self.roles = {
            self.GUILD_ID: ("@everyone", BASE_PERMISSIONS),
            self.ROLE_MODERATOR: ("Moderators", 0),
            self.ROLE_HELPER: ("Helpers", MANAGE_MESSAGES),
            self.ROLE_ADMIN: ("Admins", ADMINISTRATOR),
        }
        self.users = {u.id: u for u in (self.BOT, self.MODERATOR, self.HELPER, self.ADMIN, self.VISITOR)}
        self.channels = {self.MOD_CHANNEL_ID: "mod-alerts", self.GENERAL_CHANNEL_ID: "general"}

    # -- lifecycle -----------------------------------------------------------------------------------

    async def start(self) -> FakeDiscord:
        """Listen on a free port of 127.0.0.1."""
        app = web.Application(middlewares=[self._middleware])
        r = app.router
        r.add_get(GATEWAY_PATH, self._gateway)
        r.add_get(API + "/users/@me", self._me)
        r.add_get(API + "/oauth2/applications/@me", self._application)
        r.add_get(API + "/gateway", self._gateway_info)
        r.add_get(API + "/gateway/bot", self._gateway_info)
        r.add_put(API + "/applications/{app}/commands", self._sync_commands)
        r.add_put(API + "/applications/{app}/guilds/{guild}/commands", self._sync_commands)
        r.add_post(API + "/channels/{channel}/messages", self._create_message)
        r.add_get(API + "/channels/{channel}/messages", self._history)
        r.add_get(API + "/channels/{channel}/messages/{message}", self._get_message)
        r.add_patch(API + "/channels/{channel}/messages/{message}", self._edit_message)
        r.add_post(API + "/interactions/{interaction}/{token}/callback", self._callback)
        r.add_post(API + "/webhooks/{app}/{token}", self._followup)
        r.add_get(API + "/webhooks/{app}/{token}/messages/{message}", self._get_webhook_message)
        r.add_patch(API + "/webhooks/{app}/{token}/messages/{message}", self._edit_webhook_message)
        r.add_get(CDN_PATH + "/{name}", self._cdn)
        r.add_route("*", "/{tail:.*}", self._unhandled)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=5.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None and server.sockets
        self.port = server.sockets[0].getsockname()[1]
        return self

    async def close(self) -> None:
        """Release held requests, close gateway connections, stop listening."""
        for event in self._held_events:
            event.set()
        for ws in list(self._sockets):
            await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def base_url(self) -> str:
        """http://127.0.0.1:PORT"""
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_base(self) -> str:
        """The REST base URL for Settings.discord_api_base."""
        return self.base_url + API

    @property
    def gateway_url(self) -> str:
        """The gateway URL for Settings.discord_gateway_url."""
        return f"ws://127.0.0.1:{self.port}{GATEWAY_PATH}"

    def assert_clean(self) -> None:
        """Fail if discord.py called anything the fake does not implement."""
        assert not self.unhandled, f"discord.py called routes the fake does not implement: {self.unhandled}"
        assert not self.invalid, f"the bot sent messages Discord would refuse: {self.invalid}"

    # -- test controls -------------------------------------------------------------------------------

    def fail(
        self,
        method: str,
        path: str,
        status: int,
        *,
        times: int = 1,
        retry_after: float = 1.0,
        body: dict[str, Any] | None = None,
        is_global: bool = False,
        via: bool = True,
    ) -> None:
        """Answer the next `times` requests matching `method` and the `path` regex (after /api/v10) with
        `status`: 429 as a Discord rate limit (or, with via=False, as a proxy's), 403/404 with Discord's
        error JSON."""
        self._failures.append(
            _Failure(method, re.compile(path), status, times, retry_after, body, is_global, via)
        )

    def hold(self, method: str, path: str, *, skip: int = 0) -> asyncio.Event:
        """Let `skip` matching requests through, then handle the next one but answer it only once the returned
        event is set (or at close)."""
        event = asyncio.Event()
        self._holds.append((method, re.compile(path), [skip], event))
        self._held_events.append(event)
        return event

    def add_attachment(self, filename: str, data: bytes, content_type: str = "text/plain") -> dict[str, Any]:
        """Serve `data` from the fake CDN; returns the attachment object for an interaction's `resolved`."""
        attachment_id = self.snowflake()
        name = f"{attachment_id}-{filename}"
        self.attachments[name] = (data, content_type)
        url = f"{self.base_url}{CDN_PATH}/{name}"
        return {
            "id": str(attachment_id),
            "filename": filename,
            "size": len(data),
            "url": url,
            "proxy_url": url,
            "content_type": content_type,
        }

    def recorded(self, method: str, path: str) -> list[Recorded]:
        """Requests with `method` whose path (after /api/v10) matches the regex `path`, oldest first."""
        pattern = re.compile(path)
        return [
            r for r in self.requests if r.method == method and pattern.fullmatch(r.path.removeprefix(API))
        ]

    def add_message(
        self, user: User, *, channel_id: int | None = None, content: str = "", embeds: list[Any] | None = None
    ) -> dict[str, Any]:
        """Post a message as `user` (no gateway event): it shows in the channel's history."""
        channel = str(channel_id or self.MOD_CHANNEL_ID)
        message = self._message(channel, {"content": content, "embeds": embeds or []}, author=user)
        self._store(message)
        return message

    def channel_messages(self, channel_id: int | None = None) -> list[dict[str, Any]]:
        """Messages in a channel (default: the moderators'), oldest first."""
        channel = str(channel_id or self.MOD_CHANNEL_ID)
        return [m for m in self.messages.values() if m["channel_id"] == channel]

    async def wait_until(self, predicate: Callable[[], Any], timeout: float = 15.0) -> Any:  # noqa: ASYNC109
        """Wait until `predicate()` is truthy (checked after every request and gateway message)."""
        async with asyncio.timeout(timeout), self._changed:
            while not (result := predicate()):
                await self._changed.wait()
            return result

    async def wait_for_request(
        self,
        method: str,
        path: str,
        *,
        count: int = 1,
        timeout: float = 15.0,  # noqa: ASYNC109
    ) -> Recorded:
        """The `count`-th request matching (waiting for it)."""
        await self.wait_until(lambda: len(self.recorded(method, path)) >= count, timeout)
        return self.recorded(method, path)[count - 1]

    async def wait_ready(self, timeout: float = 15.0) -> None:  # noqa: ASYNC109
        """Until a bot has identified and received READY and GUILD_CREATE."""
        await self.wait_until(lambda: self.identified > 0, timeout)

    async def dispatch(self, event: str, data: dict[str, Any]) -> None:
        """Send a DISPATCH event to every connected gateway client."""
        for ws in list(self._sockets):
            await self._send_dispatch(ws, event, data)

    async def slash(
        self, user: User, *path: str, channel_id: int | None = None, **options: Any
    ) -> Interaction:
        """Run `/group sub ... option=value` as `user`; typed by the schema the bot synced. An option whose
        schema type is attachment takes the dict from `add_attachment`."""
        group, *subs = path
        command = next((c for c in self._all_commands() if c["name"] == group), None)
        assert command is not None, (
            f"/{group} was never synced; synced: {[c['name'] for c in self._all_commands()]}"
        )
        resolved: dict[str, Any] = {}
        schema = command
        chain: list[dict[str, Any]] = []
        for name in subs:
            schema = next((o for o in schema.get("options", []) if o["name"] == name), None)
            assert schema is not None and schema["type"] in (1, 2), (
                f"/{' '.join(path)} is not a synced command"
            )
            chain.append({"type": schema["type"], "name": name, "options": []})
        values = []
        known = {o["name"]: o for o in schema.get("options", [])}
        for name, value in options.items():
            assert name in known, f"/{' '.join(path)} has no option {name!r}; it has {sorted(known)}"
            kind = known[name]["type"]
            if kind == _OPTION_TYPES["attachment"]:
                resolved.setdefault("attachments", {})[value["id"]] = value
                value = value["id"]
            values.append({"name": name, "type": kind, "value": value})
        missing = [
            o["name"] for o in schema.get("options", []) if o.get("required") and o["name"] not in options
        ]
        assert not missing, f"/{' '.join(path)} needs {missing}"
        if chain:
            chain[-1]["options"] = values
            for outer, inner in itertools.pairwise(chain):
                outer["options"] = [inner]
            top_options = [chain[0]]
        else:
            top_options = values
        data: dict[str, Any] = {"id": command["id"], "name": group, "type": 1, "options": top_options}
        if command.get("guild_id"):
            data["guild_id"] = command["guild_id"]
        if resolved:
            data["resolved"] = resolved
        return await self._interact(2, data, user, channel_id or self.MOD_CHANNEL_ID)

    async def click(self, user: User, message_id: int, custom_id: str) -> Interaction:
        """Click the button `custom_id` on a message (a channel message or an interaction's reply)."""
        message = self.messages.get(message_id) or self._interaction_message(message_id)
        assert message is not None, f"no message {message_id}"
        ids = [c.get("custom_id") for row in message.get("components", []) for c in row.get("components", [])]
        assert custom_id in ids, f"message {message_id} has no button {custom_id!r}; it has {ids}"
        data = {"custom_id": custom_id, "component_type": 2}
        return await self._interact(3, data, user, int(message["channel_id"]), message=message)

    async def response(self, interaction: Interaction, *, timeout: float = 15.0) -> dict[str, Any]:  # noqa: ASYNC109
        """The bot's first callback to the interaction (waiting for it)."""
        await self.wait_until(lambda: interaction.callbacks, timeout)
        return interaction.callbacks[0]

    async def followup(
        self,
        interaction: Interaction,
        index: int = 0,
        *,
        timeout: float = 15.0,  # noqa: ASYNC109
    ) -> dict[str, Any]:
        """The bot's `index`-th followup message (waiting for it)."""
        await self.wait_until(lambda: len(interaction.followups) > index, timeout)
        return interaction.followups[index]

    # -- payloads ------------------------------------------------------------------------------------

    def snowflake(self) -> int:
        """A fresh id."""
        return self._ids()

    def user_payload(self, user: User) -> dict[str, Any]:
        """A Discord user object."""
        return {
            "id": str(user.id),
            "username": user.name,
            "discriminator": "0",
            "global_name": user.name.title(),
            "avatar": None,
            "bot": user.bot,
            "public_flags": 0,
        }

    def permissions_of(self, user: User) -> int:
        """The member's guild permissions (no channel overwrites in this guild)."""
        value = self.roles[self.GUILD_ID][1]
        for role in user.role_ids:
            value |= self.roles[role][1]
        return ALL_PERMISSIONS if value & ADMINISTRATOR else value

    def member_payload(self, user: User, *, with_permissions: bool = False) -> dict[str, Any]:
        """A guild member object (with resolved permissions, as in interactions)."""
        member: dict[str, Any] = {
            "user": self.user_payload(user),
            "roles": [str(r) for r in user.role_ids],
            "joined_at": "2024-01-01T00:00:00+00:00",
            "deaf": False,
            "mute": False,
            "flags": 0,
            "nick": None,
            "avatar": None,
            "premium_since": None,
            "pending": False,
            "communication_disabled_until": None,
        }
        if with_permissions:
            member["permissions"] = str(self.permissions_of(user))
        return member

    def channel_payload(self, channel_id: int) -> dict[str, Any]:
        """A text channel of the guild."""
        return {
            "id": str(channel_id),
            "type": 0,
            "guild_id": str(self.GUILD_ID),
            "name": self.channels[channel_id],
            "position": list(self.channels).index(channel_id),
            "permission_overwrites": [],
            "nsfw": False,
            "parent_id": None,
            "topic": None,
            "last_message_id": None,
            "rate_limit_per_user": 0,
        }

    def guild_payload(self) -> dict[str, Any]:
        """The GUILD_CREATE payload: channels, roles, and the bot as a member."""
        return {
            "id": str(self.GUILD_ID),
            "name": "Fake Forum Mods",
            "icon": None,
            "owner_id": str(self.ADMIN.id),
            "unavailable": False,
            "large": False,
            "member_count": len(self.users),
            "roles": [
                {
                    "id": str(rid),
                    "name": name,
                    "color": 0,
                    "hoist": False,
                    "position": index,
                    "permissions": str(perms),
                    "managed": False,
                    "mentionable": False,
                    "flags": 0,
                }
                for index, (rid, (name, perms)) in enumerate(self.roles.items())
            ],
            "channels": [self.channel_payload(cid) for cid in self.channels],
            "members": [self.member_payload(self.BOT)],
            "threads": [],
            "emojis": [],
            "stickers": [],
            "features": [],
            "voice_states": [],
            "presences": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "preferred_locale": "en-US",
            "premium_tier": 0,
            "system_channel_flags": 0,
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "mfa_level": 0,
            "nsfw_level": 0,
            "afk_timeout": 300,
            "joined_at": "2024-01-01T00:00:00+00:00",
        }

    def _message(
        self, channel_id: str, body: dict[str, Any], *, flags: int = 0, author: User | None = None
    ) -> dict[str, Any]:
        return {
            "id": str(self.snowflake()),
            "channel_id": channel_id,
            "guild_id": str(self.GUILD_ID),
            "author": self.user_payload(author or self.BOT),
            "content": body.get("content") or "",
            "embeds": body.get("embeds") or [],
            "components": body.get("components") or [],
            "attachments": [],
            "mentions": [],
            "mention_roles": [],
            "mention_everyone": False,
            "pinned": False,
            "tts": False,
            "type": 0,
            "flags": flags | int(body.get("flags") or 0),
            "nonce": body.get("nonce"),
            "timestamp": _now_iso(),
            "edited_timestamp": None,
        }

    def _all_commands(self) -> list[dict[str, Any]]:
        return [c for commands in self.commands.values() for c in commands]

    def _interaction_message(self, message_id: int) -> dict[str, Any] | None:
        for interaction in self.interactions.values():
            for message in [interaction.original, *interaction.followups]:
                if message is not None and int(message["id"]) == message_id:
                    return message
        return None

    async def _interact(
        self,
        kind: int,
        data: dict[str, Any],
        user: User,
        channel_id: int,
        *,
        message: dict[str, Any] | None = None,
    ) -> Interaction:
        interaction_id = self.snowflake()
        token = f"interaction-token-{interaction_id}"
        record = Interaction(interaction_id, token, kind, channel_id)
        self.interactions[token] = record
        payload: dict[str, Any] = {
            "id": str(interaction_id),
            "application_id": str(self.APPLICATION_ID),
            "type": kind,
            "data": data,
            "guild_id": str(self.GUILD_ID),
            "guild": {"id": str(self.GUILD_ID), "locale": "en-US", "features": []},
            "channel_id": str(channel_id),
            "channel": self.channel_payload(channel_id),
            "member": self.member_payload(user, with_permissions=True),
            "token": token,
            "version": 1,
            "app_permissions": str(BASE_PERMISSIONS),
            "locale": "en-US",
            "guild_locale": "en-US",
            "entitlements": [],
            "authorizing_integration_owners": {"0": str(self.GUILD_ID)},
            "context": 0,
            "attachment_size_limit": 25 * 1024 * 1024,
        }
        if message is not None:
            payload["message"] = message
        await self.dispatch("INTERACTION_CREATE", payload)
        return record

    # -- HTTP ----------------------------------------------------------------------------------------

    @web.middleware
    async def _middleware(
        self, request: web.Request, handler: Callable[[web.Request], Any]
    ) -> web.StreamResponse:
        if request.path == GATEWAY_PATH or request.path.startswith(CDN_PATH):
            return await handler(request)
        body: Any = None
        if request.can_read_body:
            if request.content_type == "multipart/form-data":
                form = await request.post()
                raw = form.get("payload_json")
                body = json.loads(raw) if isinstance(raw, str) else None
            else:
                text = await request.text()
                body = json.loads(text) if text else None
        record = Recorded(
            request.method,
            request.path,
            dict(request.query),
            body,
            dict(request.headers),
            time.perf_counter(),
        )
        request[_BODY] = body
        self.requests.append(record)
        try:
            failure = self._failure_for(request.method, request.path.removeprefix(API))
            if failure is not None:
                response = self._failure_response(failure)
            elif problems := _message_problems(request.method, request.path.removeprefix(API), body):
                self.invalid.append(f"{request.method} {request.path}: {problems}")
                response = _json({"message": "Invalid Form Body", "code": 50035, "errors": problems}, 400)
            else:
                if request.headers.get("Authorization") != f"Bot {TOKEN}" and not request.path.startswith(
                    (API + "/webhooks/", API + "/interactions/")
                ):
                    response = _json({"message": "401: Unauthorized", "code": 0}, 401)
                else:
                    response = await handler(request)
                held = self._held(request.method, request.path.removeprefix(API))
                if held is not None:
                    await self._notify()  # the request has arrived (and been handled): tell waiters
                    await held.wait()
            return response
        finally:
            await self._notify()

    def _failure_for(self, method: str, path: str) -> _Failure | None:
        for failure in self._failures:
            if failure.method == method and failure.pattern.fullmatch(path) and failure.times > 0:
                failure.times -= 1
                return failure
        return None

    def _held(self, method: str, path: str) -> asyncio.Event | None:
        for index, (m, pattern, skip, event) in enumerate(self._holds):
            if m == method and pattern.fullmatch(path):
                if skip[0] > 0:
                    skip[0] -= 1
                    return None
                del self._holds[index]
                return event
        return None

    def _failure_response(self, failure: _Failure) -> web.Response:
        if failure.status == 429:
            body = failure.body or {
                "message": "You are being rate limited.",
                "retry_after": failure.retry_after,
                "global": failure.is_global,
                "code": 0,
            }
            headers = {
                "Retry-After": str(max(1, round(failure.retry_after))),
                "X-RateLimit-Limit": "5",
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset": f"{time.time() + failure.retry_after:.3f}",
                "X-RateLimit-Reset-After": f"{failure.retry_after:.3f}",
                "X-RateLimit-Bucket": "fake-bucket",
                "X-RateLimit-Scope": "global" if failure.is_global else "user",
            }
            if failure.is_global:
                headers["X-RateLimit-Global"] = "true"
            if failure.via:
                headers["Via"] = "1.1 google"
            return _json(body, 429, headers)
        defaults = {
            403: {"message": "Missing Permissions", "code": 50013},
            404: {"message": "Unknown Channel", "code": 10003},
            400: {"message": "Invalid Form Body", "code": 50035},
        }
        return _json(
            failure.body or defaults.get(failure.status, {"message": "error", "code": 0}), failure.status
        )

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def _unhandled(self, request: web.Request) -> web.Response:
        self.unhandled.append(f"{request.method} {request.path}")
        return _json({"message": "404: Not Found (not implemented by the fake)", "code": 0}, 404)

    async def _me(self, request: web.Request) -> web.Response:
        return _json({**self.user_payload(self.BOT), "verified": True, "mfa_enabled": False, "flags": 0})

    async def _application(self, request: web.Request) -> web.Response:
        return _json(
            {
                "id": str(self.APPLICATION_ID),
                "name": "modassist (fake)",
                "icon": None,
                "description": "",
                "bot_public": False,
                "bot_require_code_grant": False,
                "owner": self.user_payload(self.ADMIN),
                "verify_key": "0" * 64,
                "team": None,
                "flags": 0,
                "summary": "",
                "interactions_endpoint_url": None,
                "bot": self.user_payload(self.BOT),
            }
        )

    async def _gateway_info(self, request: web.Request) -> web.Response:
        return _json(
            {
                "url": self.gateway_url,
                "shards": 1,
                "session_start_limit": {
                    "total": 1000,
                    "remaining": 999,
                    "reset_after": 0,
                    "max_concurrency": 1,
                },
            }
        )

    async def _sync_commands(self, request: web.Request) -> web.Response:
        guild = request.match_info.get("guild")
        if request.match_info["app"] != str(self.APPLICATION_ID):
            return _json({"message": "Unknown Application", "code": 10002}, 404)
        stored = []
        for command in request[_BODY] or []:
            stored.append(
                {
                    **command,
                    "id": str(self.snowflake()),
                    "application_id": str(self.APPLICATION_ID),
                    "version": str(self.snowflake()),
                    **({"guild_id": guild} if guild else {}),
                }
            )
        self.commands[int(guild) if guild else None] = stored
        return _json(stored)

    def _check_channel(self, request: web.Request) -> web.Response | None:
        if int(request.match_info["channel"]) not in self.channels:
            return _json({"message": "Unknown Channel", "code": 10003}, 404)
        return None

    async def _create_message(self, request: web.Request) -> web.Response:
        if (missing := self._check_channel(request)) is not None:
            return missing
        body = request[_BODY] or {}
        channel = request.match_info["channel"]
        if body.get("enforce_nonce") and body.get("nonce") is not None and self.nonce_window > 0:
            now = time.monotonic()
            for message in self.messages.values():
                if (
                    message["channel_id"] == channel
                    and message.get("nonce") == body["nonce"]
                    and now - self._created.get(int(message["id"]), now) <= self.nonce_window
                ):
                    return _json(message)
        if not (body.get("content") or body.get("embeds") or body.get("components")):
            return _json({"message": "Cannot send an empty message", "code": 50006}, 400)
        message = self._message(channel, body)
        self._store(message)
        return _json(message)

    def _store(self, message: dict[str, Any]) -> None:
        self.messages[int(message["id"])] = message
        self._created[int(message["id"])] = time.monotonic()

    async def _history(self, request: web.Request) -> web.Response:
        if (missing := self._check_channel(request)) is not None:
            return missing
        channel = request.match_info["channel"]
        try:
            page = history_page(
                (m for m in self.messages.values() if m["channel_id"] == channel), request.query
            )
        except HistoryQueryError as exc:
            self.unhandled.append(f"GET {request.path_qs}: {exc}")
            return _json({"message": "Invalid Form Body", "code": 50035}, 400)
        return _json(page)

    async def _get_message(self, request: web.Request) -> web.Response:
        message = self.messages.get(int(request.match_info["message"]))
        if message is None or message["channel_id"] != request.match_info["channel"]:
            return _json({"message": "Unknown Message", "code": 10008}, 404)
        return _json(message)

    async def _edit_message(self, request: web.Request) -> web.Response:
        message = self.messages.get(int(request.match_info["message"]))
        if message is None or message["channel_id"] != request.match_info["channel"]:
            return _json({"message": "Unknown Message", "code": 10008}, 404)
        _apply_edit(message, request[_BODY] or {})
        return _json(message)

    async def _callback(self, request: web.Request) -> web.Response:
        interaction = self.interactions.get(request.match_info["token"])
        if interaction is None or str(interaction.id) != request.match_info["interaction"]:
            return _json({"message": "Unknown interaction", "code": 10062}, 404)
        if interaction.callbacks:
            return _json({"message": "Interaction has already been acknowledged.", "code": 40060}, 400)
        body = request[_BODY]
        if not isinstance(body, dict) or "type" not in body:
            return _json({"message": "Invalid Form Body", "code": 50035}, 400)
        interaction.callbacks.append(body)
        kind = body["type"]
        data = body.get("data") or {}
        ephemeral = bool(int(data.get("flags") or 0) & 64)
        result: dict[str, Any] = {
            "interaction": {
                "id": str(interaction.id),
                "type": interaction.type,
                "response_message_loading": kind == 5,
                "response_message_ephemeral": ephemeral,
            }
        }
        if kind in (4, 5):  # a reply (5: "thinking..." until the first followup or an edit)
            message = self._message(str(interaction.channel_id), data, flags=64 if ephemeral else 0)
            if kind == 5:
                message["flags"] |= 128  # LOADING
            interaction.original = message
            result["interaction"]["response_message_id"] = message["id"]
            result["resource"] = {"type": kind, "message": message}
        elif kind == 7:  # update the message the component is on
            payload = next(iter(self._interaction_payload_message(interaction)), None)
            if payload is not None:
                _apply_edit(payload, data)
                result["interaction"]["response_message_id"] = payload["id"]
                result["resource"] = {"type": kind, "message": payload}
            else:
                result["resource"] = {"type": kind}
        elif kind != 6:
            result["resource"] = {"type": kind}
        return _json(result)

    def _interaction_payload_message(self, interaction: Interaction) -> list[dict[str, Any]]:
        # The component's message: the last click on it carried its id (found through the dispatch log).
        message_id = self._clicked.get(interaction.token)
        if message_id is None:
            return []
        message = self.messages.get(message_id) or self._interaction_message(message_id)
        return [message] if message is not None else []

    async def _followup(self, request: web.Request) -> web.Response:
        interaction = self.interactions.get(request.match_info["token"])
        if interaction is None or not interaction.callbacks:
            return _json({"message": "Unknown Webhook", "code": 10015}, 404)
        body = request[_BODY] or {}
        message = self._message(str(interaction.channel_id), body)
        if interaction.original is not None and interaction.original["flags"] & 128:
            # The first followup after a deferral fills in the "thinking..." reply.
            interaction.original.update({k: v for k, v in message.items() if k not in ("id", "timestamp")})
            interaction.original["flags"] &= ~128
            message = interaction.original
        interaction.followups.append(message)
        return _json(message)

    async def _get_webhook_message(self, request: web.Request) -> web.Response:
        interaction = self.interactions.get(request.match_info["token"])
        if interaction is None or interaction.original is None:
            return _json({"message": "Unknown Message", "code": 10008}, 404)
        return _json(interaction.original)

    async def _edit_webhook_message(self, request: web.Request) -> web.Response:
        interaction = self.interactions.get(request.match_info["token"])
        target = request.match_info["message"]
        message = None
        if interaction is not None:
            if target == "@original":
                message = interaction.original
            else:
                message = self._interaction_message(int(target))
        if message is None:
            return _json({"message": "Unknown Message", "code": 10008}, 404)
        _apply_edit(message, request[_BODY] or {})
        message["flags"] &= ~128
        return _json(message)

    async def _cdn(self, request: web.Request) -> web.Response:
        self.requests.append(
            Recorded(
                "GET",
                request.path,
                dict(request.query),
                None,
                dict(request.headers),
                time.perf_counter(),
                200,
            )
        )
        entry = self.attachments.get(request.match_info["name"])
        await self._notify()
        if entry is None:
            return web.Response(status=404, text="not found")
        data, content_type = entry
        return web.Response(body=data, headers={"Content-Type": content_type})

    # -- gateway -------------------------------------------------------------------------------------

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(max_msg_size=0)
        await ws.prepare(request)
        self.gateway_queries.append(dict(request.query))
        self._sockets.add(ws)
        try:
            await ws.send_str(
                json.dumps({"op": 10, "d": {"heartbeat_interval": 41250}, "s": None, "t": None})
            )
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                payload = json.loads(msg.data)
                self.gateway_log.append(payload)
                op = payload.get("op")
                if op == 1:
                    await ws.send_str(json.dumps({"op": 11, "d": None, "s": None, "t": None}))
                elif op == 2:
                    await self._identify(ws, payload["d"])
                else:
                    self.unhandled.append(f"gateway op {op}")
                await self._notify()
        finally:
            self._sockets.discard(ws)
        return ws

    async def _identify(self, ws: web.WebSocketResponse, data: dict[str, Any]) -> None:
        if data.get("token") != TOKEN:
            await ws.close(code=4004, message=b"Authentication failed.")
            return
        ready = {
            "v": 10,
            "user": {**self.user_payload(self.BOT), "verified": True, "mfa_enabled": False, "flags": 0},
            "guilds": [{"id": str(self.GUILD_ID), "unavailable": True}],
            "session_id": "fake-session",
            "resume_gateway_url": self.gateway_url,
            "application": {"id": str(self.APPLICATION_ID), "flags": 0},
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "guild_join_requests": [],
            "geo_ordered_rtc_regions": [],
            "user_settings": {},
            "_trace": ["fake-discord"],
        }
        await self._send_dispatch(ws, "READY", ready)
        await self._send_dispatch(ws, "GUILD_CREATE", self.guild_payload())
        self.identified += 1

    async def _send_dispatch(self, ws: web.WebSocketResponse, event: str, data: dict[str, Any]) -> None:
        self._seq += 1
        if event == "INTERACTION_CREATE" and "message" in data:
            self._clicked[data["token"]] = int(data["message"]["id"])
        with contextlib.suppress(ConnectionResetError):
            await ws.send_str(json.dumps({"op": 0, "s": self._seq, "t": event, "d": data}))


_MESSAGE_ROUTES = re.compile(
    r"/channels/\d+/messages(/\d+)?|/interactions/\d+/[^/]+/callback|/webhooks/\d+/[^/]+(/messages/.+)?"
)


def _message_problems(method: str, path: str, body: Any) -> list[str]:
    """What Discord would refuse in a message payload: its embed, component and content limits."""
    if method not in ("POST", "PATCH") or not _MESSAGE_ROUTES.fullmatch(path) or not isinstance(body, dict):
        return []
    if path.endswith("/callback"):
        body = body.get("data") or {}
    problems = []
    if len(body.get("content") or "") > 2000:
        problems.append("content over 2000")
    embeds = body.get("embeds") or []
    if len(embeds) > 10:
        problems.append("more than 10 embeds")
    total = 0
    for embed in embeds:
        limits = {"title": 256, "description": 4096}
        for key, limit in limits.items():
            if len(embed.get(key) or "") > limit:
                problems.append(f"embed {key} over {limit}")
        fields = embed.get("fields") or []
        if len(fields) > 25:
            problems.append("more than 25 fields")
        for f in fields:
            if not f.get("name") or not f.get("value"):
                problems.append("an empty field")
            if len(f.get("name", "")) > 256 or len(f.get("value", "")) > 1024:
                problems.append("a field over its limit")
        footer = (embed.get("footer") or {}).get("text", "")
        author = (embed.get("author") or {}).get("name", "")
        if len(footer) > 2048 or len(author) > 256:
            problems.append("footer or author over its limit")
        url = embed.get("url")
        if url is not None and not re.match(r"https?://[^\s]+$", url):
            problems.append(f"embed url {url[:40]!r} is not a URL")
        total += (
            len(embed.get("title") or "") + len(embed.get("description") or "") + len(footer) + len(author)
        )
        total += sum(len(f.get("name", "")) + len(f.get("value", "")) for f in fields)
    if total > 6000:
        problems.append(f"embeds total {total} over 6000")
    rows = body.get("components") or []
    if len(rows) > 5:
        problems.append("more than 5 rows")
    for row in rows:
        buttons = row.get("components") or []
        if len(buttons) > 5:
            problems.append("more than 5 buttons in a row")
        for b in buttons:
            if (
                len(b.get("custom_id") or "") > 100
                or len(b.get("label") or "") > 80
                or len(b.get("url") or "") > 512
            ):
                problems.append("a button over its limits")
    return problems


def _apply_edit(message: dict[str, Any], body: dict[str, Any]) -> None:
    for key in ("content", "embeds", "components", "flags"):
        if key in body:
            message[key] = body[key] if body[key] is not None else ([] if key != "content" else "")
    message["edited_timestamp"] = _now_iso()


def _now_iso() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime())


def _json(body: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> web.Response:
    # Content-Type exactly application/json: discord.py parses nothing else (no "; charset=utf-8").
    return web.Response(
        body=json.dumps(body).encode(),
        status=status,
        headers={"Content-Type": "application/json", **(headers or {})},
    )

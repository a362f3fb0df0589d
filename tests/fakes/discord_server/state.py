"""What the fake Discord holds: its guild (ids, roles, members, channels) and everything it has seen and
served (requests, messages, commands, interactions), with the helpers every part of the fake shares."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable
from typing import Any

from aiohttp import web

from tests.fakes.discord_server.history import Snowflakes
from tests.fakes.discord_server.records import (
    ADMINISTRATOR,
    API,
    BASE_PERMISSIONS,
    GATEWAY_PATH,
    MANAGE_MESSAGES,
    NONCE_WINDOW_SECONDS,
    Failure,
    Interaction,
    Recorded,
    User,
)
from tests.fakes.waiting import notify, wait_until


class DiscordState:
    """The fake's state; the route, gateway and interaction parts of `FakeDiscord` build on it."""

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
        self.deleted: dict[int, str | None] = {}  # deleted message id -> its audit-log reason
        self.timeouts: dict[int, tuple[str | None, str | None]] = {}  # user id -> (until, audit-log reason)
        self.commands: dict[int | None, list[dict[str, Any]]] = {}  # guild id (None: global) -> commands
        self.interactions: dict[str, Interaction] = {}
        self.attachments: dict[str, tuple[bytes, str]] = {}
        self.identified = 0
        self._ids = Snowflakes()
        self._created: dict[int, float] = {}  # message id -> time.monotonic() at creation (nonce window)
        self._failures: list[Failure] = []
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

    def snowflake(self) -> int:
        """A fresh id."""
        return self._ids()

    def _store(self, message: dict[str, Any]) -> None:
        self.messages[int(message["id"])] = message
        self._created[int(message["id"])] = time.monotonic()

    async def _notify(self) -> None:
        await notify(self._changed)

    async def wait_until(self, predicate: Callable[[], Any], timeout: float = 15.0) -> Any:  # noqa: ASYNC109
        """Wait until `predicate()` is truthy (checked after every request and gateway message)."""
        return await wait_until(self._changed, predicate, timeout)

    def recorded(self, method: str, path: str) -> list[Recorded]:
        """Requests with `method` whose path (after /api/v10) matches the regex `path`, oldest first."""
        pattern = re.compile(path)
        return [
            r for r in self.requests if r.method == method and pattern.fullmatch(r.path.removeprefix(API))
        ]

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

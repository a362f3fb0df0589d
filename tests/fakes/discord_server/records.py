"""The fake Discord's constants, its records (requests, users, interactions) and the JSON answers it gives."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

API = "/api/v10"
BODY = web.RequestKey("json", object)  # the parsed body of a recorded request
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
MANAGE_THREADS = 1 << 34
MODERATE_MEMBERS = 1 << 40
USE_COMMANDS = 1 << 31
NONCE_WINDOW_SECONDS = 300.0  # Discord keeps message nonces "for a few minutes"
ALL_PERMISSIONS = (1 << 50) - 1
BASE_PERMISSIONS = VIEW_CHANNEL | SEND_MESSAGES | EMBED_LINKS | READ_HISTORY | USE_COMMANDS

# Option types of application commands.
OPTION_TYPES = {
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
class Failure:
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


def apply_edit(message: dict[str, Any], body: dict[str, Any]) -> None:
    for key in ("content", "embeds", "components", "flags"):
        if key in body:
            message[key] = body[key] if body[key] is not None else ([] if key != "content" else "")
    message["edited_timestamp"] = now_iso()


def now_iso() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime())


def json_response(body: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> web.Response:
    # Content-Type exactly application/json: discord.py parses nothing else (no "; charset=utf-8").
    return web.Response(
        body=json.dumps(body).encode(),
        status=status,
        headers={"Content-Type": "application/json", **(headers or {})},
    )

"""The fake REST routes under /api/v10 (users, application, gateway info, command sync, channel messages and
history) and the CDN route for attachments."""

from __future__ import annotations

import time
from urllib.parse import unquote

from aiohttp import web

from tests.fakes.discord_server.history import HistoryQueryError, history_page
from tests.fakes.discord_server.payloads import Payloads
from tests.fakes.discord_server.records import (
    ADMINISTRATOR,
    BODY,
    MANAGE_MESSAGES,
    MODERATE_MEMBERS,
    Recorded,
    apply_edit,
    json_response,
)


class Rest(Payloads):
    """The REST handlers other than the interaction ones."""

    async def _unhandled(self, request: web.Request) -> web.Response:
        self.unhandled.append(f"{request.method} {request.path}")
        return json_response({"message": "404: Not Found (not implemented by the fake)", "code": 0}, 404)

    async def _me(self, request: web.Request) -> web.Response:
        return json_response(
            {**self.user_payload(self.BOT), "verified": True, "mfa_enabled": False, "flags": 0}
        )

    async def _application(self, request: web.Request) -> web.Response:
        return json_response(
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
        return json_response(
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
            return json_response({"message": "Unknown Application", "code": 10002}, 404)
        stored = []
        for command in request[BODY] or []:
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
        return json_response(stored)

    def _check_channel(self, request: web.Request) -> web.Response | None:
        if int(request.match_info["channel"]) not in self.channels:
            return json_response({"message": "Unknown Channel", "code": 10003}, 404)
        return None

    async def _create_message(self, request: web.Request) -> web.Response:
        if (missing := self._check_channel(request)) is not None:
            return missing
        body = request[BODY] or {}
        channel = request.match_info["channel"]
        if body.get("enforce_nonce") and body.get("nonce") is not None and self.nonce_window > 0:
            now = time.monotonic()
            for message in self.messages.values():
                if (
                    message["channel_id"] == channel
                    and message.get("nonce") == body["nonce"]
                    and now - self._created.get(int(message["id"]), now) <= self.nonce_window
                ):
                    return json_response(message)
        if not (body.get("content") or body.get("embeds") or body.get("components")):
            return json_response({"message": "Cannot send an empty message", "code": 50006}, 400)
        message = self._message(channel, body)
        self._store(message)
        return json_response(message)

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
            return json_response({"message": "Invalid Form Body", "code": 50035}, 400)
        return json_response(page)

    async def _get_message(self, request: web.Request) -> web.Response:
        message = self.messages.get(int(request.match_info["message"]))
        if message is None or message["channel_id"] != request.match_info["channel"]:
            return json_response({"message": "Unknown Message", "code": 10008}, 404)
        return json_response(message)

    async def _edit_message(self, request: web.Request) -> web.Response:
        message = self.messages.get(int(request.match_info["message"]))
        if message is None or message["channel_id"] != request.match_info["channel"]:
            return json_response({"message": "Unknown Message", "code": 10008}, 404)
        apply_edit(message, request[BODY] or {})
        return json_response(message)

    async def _delete_message(self, request: web.Request) -> web.Response:
        # Discord: 404 Unknown Channel / Unknown Message, 403 Missing Permissions (50013) for another
        # member's message without Manage Messages, 204 when deleted.
        if (missing := self._check_channel(request)) is not None:
            return missing
        message = self.messages.get(int(request.match_info["message"]))
        if message is None or message["channel_id"] != request.match_info["channel"]:
            return json_response({"message": "Unknown Message", "code": 10008}, 404)
        bot = self.users[self.BOT.id]
        own = message["author"]["id"] == str(bot.id)
        if not own and not self.permissions_of(bot) & MANAGE_MESSAGES:
            return json_response({"message": "Missing Permissions", "code": 50013}, 403)
        del self.messages[int(message["id"])]
        reason = request.headers.get("X-Audit-Log-Reason")
        self.deleted[int(message["id"])] = unquote(reason) if reason is not None else None
        return web.Response(status=204)

    async def _edit_member(self, request: web.Request) -> web.Response:
        # Only time-outs (communication_disabled_until), as Discord answers them: 404 Unknown Guild /
        # Unknown Member, 403 Missing Permissions (50013) without Moderate Members or for the owner and
        # administrators, 200 with the member.
        if request.match_info["guild"] != str(self.GUILD_ID):
            return json_response({"message": "Unknown Guild", "code": 10004}, 404)
        body = request[BODY] or {}
        if set(body) != {"communication_disabled_until"}:
            self.unhandled.append(f"PATCH {request.path} with {sorted(body)}")
            return json_response({"message": "Invalid Form Body", "code": 50035}, 400)
        user = self.users.get(int(request.match_info["user"]))
        if user is None:
            return json_response({"message": "Unknown Member", "code": 10007}, 404)
        bot = self.users[self.BOT.id]
        if not self.permissions_of(bot) & MODERATE_MEMBERS or self.permissions_of(user) & ADMINISTRATOR:
            return json_response({"message": "Missing Permissions", "code": 50013}, 403)
        reason = request.headers.get("X-Audit-Log-Reason")
        until = body["communication_disabled_until"]
        self.timeouts[user.id] = (until, unquote(reason) if reason is not None else None)
        return json_response({**self.member_payload(user), "communication_disabled_until": until})

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

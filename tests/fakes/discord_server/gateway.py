"""The fake gateway at `/gateway`: HELLO, IDENTIFY -> READY + GUILD_CREATE, heartbeats -> ACK, and the
DISPATCH events the tests push."""

from __future__ import annotations

import contextlib
import json
from typing import Any

from aiohttp import WSMsgType, web

from tests.fakes.discord_server.payloads import Payloads
from tests.fakes.discord_server.records import (
    TOKEN,
)


class Gateway(Payloads):
    """The WebSocket side of the fake."""

    async def dispatch(self, event: str, data: dict[str, Any]) -> None:
        """Send a DISPATCH event to every connected gateway client."""
        for ws in list(self._sockets):
            await self._send_dispatch(ws, event, data)

    async def wait_ready(self, timeout: float = 15.0) -> None:  # noqa: ASYNC109
        """Until a bot has identified and received READY and GUILD_CREATE."""
        await self.wait_until(lambda: self.identified > 0, timeout)

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

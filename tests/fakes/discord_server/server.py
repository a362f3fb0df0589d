"""`FakeDiscord`: the fake server put together, started and stopped, and the test controls on its channels."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from tests.fakes.discord_server.faults import Faults
from tests.fakes.discord_server.interactions import Interactions
from tests.fakes.discord_server.records import API, CDN_PATH, GATEWAY_PATH, User
from tests.fakes.discord_server.rest import Rest


class FakeDiscord(Interactions, Rest, Faults):
    """The fake server. `await start()`, point the bot at `api_base` and `gateway_url`, `await close()`."""

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
        r.add_delete(API + "/channels/{channel}/messages/{message}", self._delete_message)
        r.add_patch(API + "/guilds/{guild}/members/{user}", self._edit_member)
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

    def assert_clean(self) -> None:
        """Fail if discord.py called anything the fake does not implement."""
        assert not self.unhandled, f"discord.py called routes the fake does not implement: {self.unhandled}"
        assert not self.invalid, f"the bot sent messages Discord would refuse: {self.invalid}"

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

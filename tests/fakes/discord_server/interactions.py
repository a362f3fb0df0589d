"""Interactions: the slash commands and button clicks tests run as a member, and the routes the bot answers
them on (callbacks, followups, original-response reads and edits under `/webhooks/{app}/{token}`)."""

from __future__ import annotations

import itertools
from typing import Any

from aiohttp import web

from tests.fakes.discord_server.gateway import Gateway
from tests.fakes.discord_server.records import (
    BODY,
    OPTION_TYPES,
    Interaction,
    User,
    apply_edit,
    json_response,
)


class Interactions(Gateway):
    """Slash commands and buttons, typed by the schema the bot synced."""

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
            if kind == OPTION_TYPES["attachment"]:
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
            "app_permissions": str(self.permissions_of(self.users[self.BOT.id])),
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

    async def _callback(self, request: web.Request) -> web.Response:
        interaction = self.interactions.get(request.match_info["token"])
        if interaction is None or str(interaction.id) != request.match_info["interaction"]:
            return json_response({"message": "Unknown interaction", "code": 10062}, 404)
        if interaction.callbacks:
            return json_response(
                {"message": "Interaction has already been acknowledged.", "code": 40060}, 400
            )
        body = request[BODY]
        if not isinstance(body, dict) or "type" not in body:
            return json_response({"message": "Invalid Form Body", "code": 50035}, 400)
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
                apply_edit(payload, data)
                result["interaction"]["response_message_id"] = payload["id"]
                result["resource"] = {"type": kind, "message": payload}
            else:
                result["resource"] = {"type": kind}
        elif kind != 6:
            result["resource"] = {"type": kind}
        return json_response(result)

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
            return json_response({"message": "Unknown Webhook", "code": 10015}, 404)
        body = request[BODY] or {}
        message = self._message(str(interaction.channel_id), body)
        if interaction.original is not None and interaction.original["flags"] & 128:
            # The first followup after a deferral fills in the "thinking..." reply.
            interaction.original.update({k: v for k, v in message.items() if k not in ("id", "timestamp")})
            interaction.original["flags"] &= ~128
            message = interaction.original
        interaction.followups.append(message)
        return json_response(message)

    async def _get_webhook_message(self, request: web.Request) -> web.Response:
        interaction = self.interactions.get(request.match_info["token"])
        if interaction is None or interaction.original is None:
            return json_response({"message": "Unknown Message", "code": 10008}, 404)
        return json_response(interaction.original)

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
            return json_response({"message": "Unknown Message", "code": 10008}, 404)
        apply_edit(message, request[BODY] or {})
        message["flags"] &= ~128
        return json_response(message)

"""The Discord objects the fake sends: users, members, channels, the guild, messages."""

from __future__ import annotations

from typing import Any

from tests.fakes.discord_server.records import (
    ADMINISTRATOR,
    ALL_PERMISSIONS,
    User,
    now_iso,
)
from tests.fakes.discord_server.state import DiscordState


class Payloads(DiscordState):
    """Builds the JSON objects of the guild and its messages, as Discord shapes them."""

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
            "members": [self.member_payload(self.users[self.BOT.id])],
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
            "timestamp": now_iso(),
            "edited_timestamp": None,
        }

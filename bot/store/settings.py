"""Setting overrides: settings moderators change at run time (e.g. a flag threshold), audited, kept across
restarts. Which keys mean what is the moderators' use cases' business (`bot.moderation`)."""

from __future__ import annotations

import json
from typing import Any

from bot.store.connection import Connection, fetch_one
from bot.store.decisions import write_audit


class SettingOverrides(Connection):
    """Settings changed at run time."""

    async def change_setting(
        self, key: str, value: Any, *, actor_id: int | None, actor_name: str | None = None
    ) -> None:
        """Override a setting at run time (e.g. 'thresholds.inflammatory'); audited, in one transaction."""
        now = self.now()
        encoded = json.dumps(value)
        async with self._transaction() as conn:
            old = await fetch_one(conn, "SELECT value FROM setting_overrides WHERE key = ?", (key,))
            await conn.execute(
                "INSERT INTO setting_overrides (key, value, updated_at, updated_by) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at,"
                " updated_by = excluded.updated_by",
                (key, encoded, now, actor_id),
            )
            await write_audit(
                conn,
                "setting.change",
                actor_id=actor_id,
                actor_name=actor_name,
                target_kind="setting",
                target_id=None,
                details={"key": key, "old": None if old is None else json.loads(old["value"]), "new": value},
                now=now,
            )

    async def setting_overrides(self) -> dict[str, Any]:
        """Settings changed at run time, by key."""
        rows = await self._fetchall("SELECT key, value FROM setting_overrides ORDER BY key")
        return {str(r["key"]): json.loads(r["value"]) for r in rows}

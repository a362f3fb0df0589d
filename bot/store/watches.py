"""Watches: the threads, channels and files `modassist run` follows (added and removed by moderators,
audited), and how far each has read."""

from __future__ import annotations

from datetime import datetime

from bot.records import Watch, WatchState
from bot.store.connection import Connection, fetch_one
from bot.store.decisions import write_audit
from bot.store.rows import opt_dt, opt_str, watch_from


class Watches(Connection):
    """Watched sources and their reading state."""

    async def add_watch(
        self,
        kind: str,
        target: str,
        *,
        interval_seconds: float | None = None,
        actor_id: int | None = None,
        actor_name: str | None = None,
    ) -> Watch:
        """Watch a thread, channel or file (again, if it was removed); audited."""
        now = self.now()
        async with self._transaction() as conn:
            row = await fetch_one(
                conn,
                "INSERT INTO watches (kind, target, interval_seconds, added_by, added_at)"
                " VALUES (?, ?, ?, ?, ?)"
                " ON CONFLICT (kind, target) DO UPDATE SET interval_seconds = excluded.interval_seconds,"
                " removed_at = NULL RETURNING *",
                (kind, target, interval_seconds, actor_id, now),
            )
            assert row is not None
            watch = watch_from(row)
            await conn.execute("INSERT OR IGNORE INTO watch_state (watch_id) VALUES (?)", (watch.id,))
            await write_audit(
                conn,
                "watch.add",
                actor_id=actor_id,
                actor_name=actor_name,
                target_kind="watch",
                target_id=watch.id,
                details={"kind": kind, "target": target, "interval_seconds": interval_seconds},
                now=now,
            )
        return watch

    async def remove_watch(
        self, watch_id: int, *, actor_id: int | None = None, actor_name: str | None = None
    ) -> bool:
        """Stop watching (the state is kept for a later re-add); audited. False if it was not watched."""
        now = self.now()
        async with self._transaction() as conn:
            cursor = await conn.execute(
                "UPDATE watches SET removed_at = ? WHERE id = ? AND removed_at IS NULL", (now, watch_id)
            )
            if cursor.rowcount:
                await write_audit(
                    conn,
                    "watch.remove",
                    actor_id=actor_id,
                    actor_name=actor_name,
                    target_kind="watch",
                    target_id=watch_id,
                    details={},
                    now=now,
                )
            return cursor.rowcount > 0

    async def watches(self, *, include_removed: bool = False) -> list[Watch]:
        """The watches, oldest first."""
        where = "" if include_removed else "WHERE removed_at IS NULL"
        return [watch_from(r) for r in await self._fetchall(f"SELECT * FROM watches {where} ORDER BY id")]

    async def watch_state(self, watch_id: int) -> WatchState:
        """How far a watch has read (empty state for a fresh watch)."""
        rows = await self._fetchall("SELECT * FROM watch_state WHERE watch_id = ?", (watch_id,))
        if not rows:
            return WatchState(watch_id)
        r = rows[0]
        return WatchState(
            watch_id=watch_id,
            last_post_id=opt_str(r["last_post_id"]),
            last_page_url=opt_str(r["last_page_url"]),
            etag=opt_str(r["etag"]),
            last_modified=opt_str(r["last_modified"]),
            cursor=opt_str(r["cursor"]),
            last_polled_at=opt_dt(r["last_polled_at"]),
            last_success_at=opt_dt(r["last_success_at"]),
            next_poll_at=opt_dt(r["next_poll_at"]),
            consecutive_errors=int(r["consecutive_errors"]),
            last_error=opt_str(r["last_error"]),
        )

    async def save_watch_state(self, state: WatchState) -> None:
        """Store how far a watch has read."""

        def ts(value: datetime | None) -> float | None:
            return None if value is None else value.timestamp()

        async with self._transaction() as conn:
            await conn.execute(
                "INSERT INTO watch_state (watch_id, last_post_id, last_page_url, etag, last_modified, cursor,"
                " last_polled_at, last_success_at, next_poll_at, consecutive_errors, last_error)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (watch_id) DO UPDATE SET last_post_id = excluded.last_post_id,"
                " last_page_url = excluded.last_page_url, etag = excluded.etag, last_modified ="
                " excluded.last_modified,"
                " cursor = excluded.cursor, last_polled_at = excluded.last_polled_at,"
                " last_success_at = excluded.last_success_at, next_poll_at = excluded.next_poll_at,"
                " consecutive_errors = excluded.consecutive_errors, last_error = excluded.last_error",
                (
                    state.watch_id,
                    state.last_post_id,
                    state.last_page_url,
                    state.etag,
                    state.last_modified,
                    state.cursor,
                    ts(state.last_polled_at),
                    ts(state.last_success_at),
                    ts(state.next_poll_at),
                    state.consecutive_errors,
                    state.last_error,
                ),
            )

"""The alert outbox: alerts written with the flags that raise them, claimed for delivery (bursts folded into
digests), marked sent or failed, and read back with everything a sink needs to render them.

The claim protocol (see `claim_alerts`): a delivery unit (one alert or one digest) is fixed the first time it
is claimed, carries a stable idempotency key, and is marked sent only after the sink confirmed it. A crash
between the sink's confirmation and `mark_alert_sent` leaves the row 'sending'; it is sent again with the same
key, and an idempotent sink turns that into a no-op.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import aiosqlite

from bot.records import (
    AlertItem,
    AlertRecord,
    AlertView,
    FlagDetail,
    FlagRecord,
    RecordNotFoundError,
)
from bot.store.connection import Connection, fetch_one, fetch_rows
from bot.store.folding import DueAlert, Folding, Window, fold_burst, split_due
from bot.store.rows import (
    ALERT_COLS,
    DETAIL_FROM,
    FLAG_COLS,
    OPEN_STATUSES,
    POST_COLS,
    SOURCE_COLS,
    THREAD_COLS,
    alert_from,
    chunks,
    detail_from,
    flag_from,
    marks,
    post_at_revision,
    post_from,
    source_from,
    thread_from,
)

_LISTED_IN_DIGEST = 10  # minor flags a digest lists at most


async def insert_alerts(
    conn: aiosqlite.Connection, thread_row_id: int, posts: Sequence[tuple[int, int]], now: float
) -> dict[int, int]:
    """Outbox rows for (post row id, revision); returns the alert id of each post row id."""
    alert_ids: dict[int, int] = {}
    if not posts:
        return alert_ids
    await conn.executemany(
        "INSERT INTO alerts (kind, thread_id, post_id, revision, status, next_try_at, created_at)"
        " VALUES ('post', ?, ?, ?, 'pending', ?, ?)",
        [(thread_row_id, pid, rev, now, now) for pid, rev in posts],
    )
    for chunk in chunks([pid for pid, _ in posts]):
        for hit in await fetch_rows(
            conn,
            f"SELECT id, post_id FROM alerts WHERE post_id IN ({marks(len(chunk))})"
            " AND revision = (SELECT revision FROM posts WHERE posts.id = alerts.post_id)",
            tuple(chunk),
        ):
            alert_ids[int(hit["post_id"])] = int(hit["id"])
    return alert_ids


class Outbox(Connection):
    """The alert outbox."""

    async def get_alert(self, alert_id: int) -> AlertView:
        """An alert with its thread, source and flagged posts (a digest: its members)."""
        async with self._reading() as conn:
            return await self._alert_view(conn, alert_id, None)

    async def alert_by_message(self, message_id: int) -> AlertView | None:
        """The alert (or digest) that a Discord message shows."""
        async with self._reading() as conn:
            row = await fetch_one(
                conn,
                "SELECT id FROM alerts WHERE message_id = ? AND digest_id IS NULL ORDER BY id LIMIT 1",
                (message_id,),
            )
            return None if row is None else await self._alert_view(conn, int(row["id"]), None)

    async def _alert_view(self, conn: aiosqlite.Connection, alert_id: int, token: str | None) -> AlertView:
        row = await fetch_one(
            conn,
            f"SELECT {ALERT_COLS}, {THREAD_COLS}, {SOURCE_COLS} FROM alerts a"
            " JOIN threads t ON t.id = a.thread_id JOIN sources s ON s.id = t.source_id WHERE a.id = ?",
            (alert_id,),
        )
        if row is None:
            raise RecordNotFoundError("alert", alert_id)
        alert = alert_from(row)
        members = await fetch_rows(
            conn,
            f"SELECT a.id AS member_id, a.revision AS member_revision, {POST_COLS}"
            " FROM alerts a JOIN posts p ON p.id = a.post_id"
            " WHERE a.id = ? OR a.digest_id = ? ORDER BY a.id",
            (alert_id, alert_id),
        )
        flags: dict[int, list[FlagRecord]] = {}
        member_ids = [int(m["member_id"]) for m in members]
        for chunk in chunks(member_ids):
            for f in await fetch_rows(
                conn,
                f"SELECT {FLAG_COLS} FROM flags f WHERE f.alert_id IN ({marks(len(chunk))}) ORDER BY f.id",
                tuple(chunk),
            ):
                record = flag_from(f)
                assert record.alert_id is not None
                flags.setdefault(record.alert_id, []).append(record)
        items = []
        for m in members:
            post = await post_at_revision(conn, post_from(m), int(m["member_revision"]))
            items.append(AlertItem(int(m["member_id"]), post, tuple(flags.get(int(m["member_id"]), ()))))
        listed = await self._listed_minor(conn, alert) if alert.kind == "digest" else ()
        return AlertView(alert, source_from(row), thread_from(row), tuple(items), token, listed)

    async def _listed_minor(self, conn: aiosqlite.Connection, digest: AlertRecord) -> tuple[FlagDetail, ...]:
        """The open minor flags of a digest's thread that have no alert, flagged before the digest."""
        rows = await fetch_rows(
            conn,
            f"{DETAIL_FROM} WHERE t.id = ? AND f.alert_id IS NULL AND f.severity = 'minor'"
            f" AND f.status IN ({marks(len(OPEN_STATUSES))}) AND f.revision = p.revision"
            " AND f.created_at <= ? ORDER BY f.id LIMIT ?",
            (digest.thread_id, *OPEN_STATUSES, digest.created_at.timestamp(), _LISTED_IN_DIGEST),
        )
        return tuple(detail_from(r) for r in rows)

    async def pending_alerts(self, *, limit: int = 100) -> list[AlertRecord]:
        """Outbox rows not yet confirmed sent ('pending', 'sending'), oldest first."""
        rows = await self._fetchall(
            f"SELECT {ALERT_COLS} FROM alerts a WHERE a.status IN ('pending', 'sending') ORDER BY a.id"
            " LIMIT ?",
            (limit,),
        )
        return [alert_from(r) for r in rows]

    async def outbox_counts(self) -> dict[str, int]:
        """Outbox rows per status."""
        rows = await self._fetchall("SELECT status, COUNT(*) AS n FROM alerts GROUP BY status")
        return {str(r["status"]): int(r["n"]) for r in rows}

    async def next_alert_due(self) -> float | None:
        """When the next pending or lease-expired alert falls due (Unix seconds), or None when none waits."""
        rows = await self._fetchall(
            "SELECT MIN(CASE WHEN status = 'pending' THEN next_try_at ELSE lease_until END) AS due"
            " FROM alerts WHERE status IN ('pending', 'sending')"
        )
        due = rows[0]["due"] if rows else None
        return None if due is None else float(due)

    async def claim_alerts(
        self,
        *,
        limit: int = 100,
        lease_seconds: float = 120.0,
        burst_max: int = 5,
        burst_window: float = 60.0,
    ) -> list[AlertView]:
        """Claim the due alerts for delivery, folding bursts into digests; one transaction.

        Due: 'pending' with `next_try_at` reached, or 'sending' whose lease ran out (its dispatcher died).
        Each claimed unit gets a fresh claim token and a lease, and is marked 'sending' with one more attempt.

        A unit is fixed at its first claim and never regrouped: an alert sent alone is retried alone and a
        digest is retried with the same members, so the idempotency key always stands for the same content.
        Bursts of a thread's fresh alerts are folded as `bot.store.folding` decides.
        """
        now = self.now()
        token = uuid.uuid4().hex
        async with self._transaction() as conn:
            rows = await fetch_rows(
                conn,
                "SELECT id, kind, thread_id, status, attempts FROM alerts"
                " WHERE (status = 'pending' AND next_try_at <= ?)"
                " OR (status = 'sending' AND lease_until <= ?)"
                " ORDER BY next_try_at, id LIMIT ?",
                (now, now, limit),
            )
            due = [
                DueAlert(int(r["id"]), r["kind"], int(r["thread_id"]), r["status"], int(r["attempts"]))
                for r in rows
            ]
            units, fresh = split_due(due)
            for thread_id, alert_ids in fresh.items():
                window = await _window(conn, thread_id, since=now - burst_window)
                folding = fold_burst(alert_ids, window, burst_max=burst_max, burst_window=burst_window)
                units += await _carry_out(conn, thread_id, folding, now)
            for chunk in chunks(units):
                await conn.execute(
                    "UPDATE alerts SET status = 'sending', attempts = attempts + 1, claimed_at ="
                    " COALESCE(claimed_at, ?),"
                    f" lease_until = ?, claim_token = ? WHERE id IN ({marks(len(chunk))})",
                    (now, now + lease_seconds, token, *chunk),
                )
            return [await self._alert_view(conn, alert_id, token) for alert_id in sorted(units)]

    async def release_claims(self) -> int:
        """Make every 'sending' alert due again now (after a restart, when this is the only dispatcher)."""
        now = self.now()
        async with self._transaction() as conn:
            cursor = await conn.execute(
                "UPDATE alerts SET lease_until = ? WHERE status = 'sending' AND lease_until > ?", (now, now)
            )
            return int(cursor.rowcount)

    async def mark_alert_sent(
        self, alert_id: int, *, channel_id: int | None = None, message_id: int | None = None
    ) -> bool:
        """Record a confirmed delivery (a digest: for its members too). False if it was already marked sent.

        Not conditional on the claim token: the delivery happened whoever claimed the row since.
        """
        now = self.now()
        async with self._transaction() as conn:
            cursor = await conn.execute(
                "UPDATE alerts SET status = 'sent', sent_at = ?, channel_id = ?, message_id = ?,"
                " lease_until = NULL,"
                " last_error = NULL WHERE id = ? AND status != 'sent'",
                (now, channel_id, message_id, alert_id),
            )
            changed = cursor.rowcount > 0
            if changed:
                await conn.execute(
                    "UPDATE alerts SET status = 'sent', sent_at = ?, channel_id = ?, message_id = ? WHERE"
                    " digest_id = ?",
                    (now, channel_id, message_id, alert_id),
                )
        return changed

    async def mark_alert_failed(
        self, alert_id: int, token: str, error: str, *, retry_at: float | None
    ) -> bool:
        """Record a failed delivery: due again at `retry_at`, or 'failed' for good when it is None.

        Only the holder of the current claim may do this, so a late failure never undoes another's success.
        """
        async with self._transaction() as conn:
            if retry_at is None:
                cursor = await conn.execute(
                    "UPDATE alerts SET status = 'failed', last_error = ?, lease_until = NULL"
                    " WHERE id = ? AND status = 'sending' AND claim_token = ?",
                    (error, alert_id, token),
                )
                if cursor.rowcount:
                    await conn.execute("UPDATE alerts SET status = 'failed' WHERE digest_id = ?", (alert_id,))
            else:
                cursor = await conn.execute(
                    "UPDATE alerts SET status = 'pending', next_try_at = ?, last_error = ?,"
                    " lease_until = NULL"
                    " WHERE id = ? AND status = 'sending' AND claim_token = ?",
                    (retry_at, error, alert_id, token),
                )
            return cursor.rowcount > 0


async def _window(conn: aiosqlite.Connection, thread_id: int, *, since: float) -> Window:
    """What a thread's alerts claimed after `since` were: single post alerts, and the last digest's time."""
    recent = await fetch_one(
        conn,
        "SELECT SUM(kind = 'post' AND digest_id IS NULL) AS singles,"
        " MAX(CASE WHEN kind = 'digest' THEN claimed_at END) AS last_digest"
        " FROM alerts WHERE thread_id = ? AND claimed_at > ?",
        (thread_id, since),
    )
    if recent is None:
        return Window()
    last = recent["last_digest"]
    return Window(int(recent["singles"] or 0), None if last is None else float(last))


async def _carry_out(conn: aiosqlite.Connection, thread_id: int, folding: Folding, now: float) -> list[int]:
    """Do what `fold_burst` decided; returns the ids of the units to claim now."""
    ids = folding.alert_ids
    if folding.action == "send":
        return list(ids)
    if folding.action == "hold":
        await conn.execute(
            f"UPDATE alerts SET next_try_at = ? WHERE id IN ({marks(len(ids))})", (folding.hold_until, *ids)
        )
        return []
    digest = await fetch_one(
        conn,
        "INSERT INTO alerts (kind, thread_id, status, next_try_at, created_at)"
        " VALUES ('digest', ?, 'pending', ?, ?) RETURNING id",
        (thread_id, now, now),
    )
    assert digest is not None
    digest_id = int(digest["id"])
    await conn.execute(
        f"UPDATE alerts SET status = 'folded', digest_id = ?, claimed_at = ? WHERE id IN ({marks(len(ids))})",
        (digest_id, now, *ids),
    )
    return [digest_id]

"""Decisions and the audit log: a moderator's verdict on a flag or a whole alert, an author's record, and
every moderator action or settings change, audited in the same transaction as the change."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from typing import Any

import aiosqlite

from bot.errors import AlreadyDecidedError
from bot.records import (
    VERDICTS,
    AuditEntry,
    AuthorHistory,
    Decision,
    FlagStatus,
    RecordNotFoundError,
    Verdict,
)
from bot.store.connection import Connection, fetch_one, fetch_rows
from bot.store.rows import (
    DETAIL_FROM,
    chunks,
    decision_from,
    detail_from,
    dt,
    like_escape,
    marks,
    opt_int,
    opt_str,
)

SETTLED_STATUSES = ("confirmed", "dismissed")  # a moderator has decided; escalated still waits for one

_VERDICT_STATUS: dict[Verdict, FlagStatus] = {
    "confirm": "confirmed",
    "dismiss": "dismissed",
    "escalate": "escalated",
}


async def write_audit(
    conn: aiosqlite.Connection,
    action: str,
    *,
    actor_id: int | None,
    actor_name: str | None,
    target_kind: str | None,
    target_id: int | None,
    details: Mapping[str, Any],
    now: float,
) -> int:
    """Append an entry to the audit log inside the caller's transaction; returns its id."""
    row = await fetch_one(
        conn,
        "INSERT INTO audit_log (at, actor_id, actor_name, action, target_kind, target_id, details)"
        " VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
        (
            now,
            actor_id,
            actor_name,
            action,
            target_kind,
            target_id,
            json.dumps(dict(details), ensure_ascii=False),
        ),
    )
    assert row is not None
    return int(row["id"])


class Decisions(Connection):
    """Moderators' verdicts and the audit log."""

    async def _decide(
        self,
        conn: aiosqlite.Connection,
        flag_id: int,
        verdict: Verdict,
        moderator_id: int | None,
        moderator_name: str | None,
        note: str | None,
        now: float,
        *,
        unsettled_only: bool = False,
        via: str | None = None,
    ) -> Decision:
        row = await fetch_one(conn, "SELECT status FROM flags WHERE id = ?", (flag_id,))
        if row is None:
            raise RecordNotFoundError("flag", flag_id)
        if unsettled_only and row["status"] in SETTLED_STATUSES:
            await self._refuse_settled(conn, flag_id, str(row["status"]))
        inserted = await fetch_one(
            conn,
            "INSERT INTO decisions (flag_id, moderator_id, moderator_name, verdict, note, decided_at)"
            " VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
            (flag_id, moderator_id, moderator_name, verdict, note, now),
        )
        assert inserted is not None
        await conn.execute("UPDATE flags SET status = ? WHERE id = ?", (_VERDICT_STATUS[verdict], flag_id))
        await write_audit(
            conn,
            f"decision.{verdict}",
            actor_id=moderator_id,
            actor_name=moderator_name,
            target_kind="flag",
            target_id=flag_id,
            details={
                "note": note,
                "previous_status": row["status"],
                "decision_id": int(inserted["id"]),
                **({"via": via} if via is not None else {}),
            },
            now=now,
        )
        return Decision(int(inserted["id"]), flag_id, moderator_id, moderator_name, verdict, note, dt(now))

    @staticmethod
    async def _refuse_settled(conn: aiosqlite.Connection, flag_id: int, status: str) -> None:
        last = await fetch_one(
            conn, "SELECT * FROM decisions WHERE flag_id = ? ORDER BY id DESC LIMIT 1", (flag_id,)
        )
        if last is None:  # settled without a decision row: not written by this store, but say so
            raise AlreadyDecidedError(flag_id, status, None, None)
        decision = decision_from(last)
        raise AlreadyDecidedError(flag_id, status, decision.moderator_name, decision.decided_at)

    async def record_decision(
        self,
        flag_id: int,
        verdict: Verdict,
        *,
        moderator_id: int | None,
        moderator_name: str | None = None,
        note: str | None = None,
        unsettled_only: bool = False,
        via: str | None = None,
    ) -> Decision:
        """Store a verdict on a flag, update the flag's status and audit it, in one transaction.

        `unsettled_only`: refuse (`AlreadyDecidedError`, naming who decided and when) a flag already
        confirmed or dismissed, checked in the same transaction. `via` (e.g. 'command line') is audited."""
        if verdict not in VERDICTS:
            raise ValueError(f"verdict must be one of {VERDICTS}, got {verdict!r}")
        now = self.now()
        async with self._transaction() as conn:
            return await self._decide(
                conn,
                flag_id,
                verdict,
                moderator_id,
                moderator_name,
                note,
                now,
                unsettled_only=unsettled_only,
                via=via,
            )

    async def decide_alert(
        self,
        alert_id: int,
        verdict: Verdict,
        *,
        moderator_id: int | None,
        moderator_name: str | None = None,
        note: str | None = None,
    ) -> tuple[Decision, ...]:
        """One verdict on every current flag of an alert (a digest: all its posts), in one transaction."""
        if verdict not in VERDICTS:
            raise ValueError(f"verdict must be one of {VERDICTS}, got {verdict!r}")
        now = self.now()
        async with self._transaction() as conn:
            if await fetch_one(conn, "SELECT 1 FROM alerts WHERE id = ?", (alert_id,)) is None:
                raise RecordNotFoundError("alert", alert_id)
            rows = await fetch_rows(
                conn,
                "SELECT f.id FROM flags f JOIN alerts a ON a.id = f.alert_id"
                " WHERE (a.id = ? OR a.digest_id = ?) AND f.status != 'superseded' ORDER BY f.id",
                (alert_id, alert_id),
            )
            return tuple(
                [
                    await self._decide(conn, int(r["id"]), verdict, moderator_id, moderator_name, note, now)
                    for r in rows
                ]
            )

    async def decisions_for(self, flag_id: int) -> list[Decision]:
        """A flag's decisions, oldest first (the last one is in force)."""
        rows = await self._fetchall("SELECT * FROM decisions WHERE flag_id = ? ORDER BY id", (flag_id,))
        return [decision_from(r) for r in rows]

    async def author_history(self, author: str, *, limit: int = 50) -> AuthorHistory:
        """An author's flags (newest first, all statuses) and the decisions on them."""
        async with self._reading() as conn:
            posts = await fetch_one(
                conn, "SELECT COUNT(*) AS n FROM posts WHERE author = ? COLLATE NOCASE", (author,)
            )
            rows = await fetch_rows(
                conn,
                f"{DETAIL_FROM} WHERE p.author = ? COLLATE NOCASE ORDER BY f.id DESC LIMIT ?",
                (author, limit),
            )
            flags = tuple(detail_from(r) for r in rows)
            decisions: list[Decision] = []
            for chunk in chunks([d.flag.id for d in flags]):
                decisions += [
                    decision_from(r)
                    for r in await fetch_rows(
                        conn,
                        f"SELECT * FROM decisions WHERE flag_id IN ({marks(len(chunk))}) ORDER BY id",
                        tuple(chunk),
                    )
                ]
        return AuthorHistory(author, int(posts["n"]) if posts else 0, flags, tuple(decisions))

    async def audit_log(self, *, limit: int = 100, action: str | None = None) -> list[AuditEntry]:
        """The newest audit entries, optionally those whose action starts with `action`."""
        where, params = "", []
        if action is not None:
            where, params = "WHERE action LIKE ? ESCAPE '\\'", [f"{like_escape(action)}%"]
        rows = await self._fetchall(
            f"SELECT * FROM audit_log {where} ORDER BY id DESC LIMIT ?", (*params, limit)
        )
        return [_audit_entry(r) for r in rows]

    async def record_post_action(
        self,
        post_id: int,
        action: str,
        *,
        actor_id: int | None,
        actor_name: str | None,
        details: Mapping[str, Any],
    ) -> AuditEntry:
        """Audit an action a moderator took on a post where it was published (`action.delete_message`)."""
        now = self.now()
        async with self._transaction() as conn:
            if await fetch_one(conn, "SELECT 1 FROM posts WHERE id = ?", (post_id,)) is None:
                raise RecordNotFoundError("post", post_id)
            entry_id = await write_audit(
                conn,
                action,
                actor_id=actor_id,
                actor_name=actor_name,
                target_kind="post",
                target_id=post_id,
                details=details,
                now=now,
            )
            row = await fetch_one(conn, "SELECT * FROM audit_log WHERE id = ?", (entry_id,))
        assert row is not None
        return _audit_entry(row)

    async def post_actions(self, post_id: int) -> list[AuditEntry]:
        """The actions moderators took on a post where it was published, oldest first."""
        rows = await self._fetchall(
            "SELECT * FROM audit_log WHERE target_kind = 'post' AND target_id = ? AND action LIKE 'action.%'"
            " ORDER BY id",
            (post_id,),
        )
        return [_audit_entry(r) for r in rows]


def _audit_entry(r: sqlite3.Row) -> AuditEntry:
    return AuditEntry(
        id=int(r["id"]),
        at=dt(float(r["at"])),
        actor_id=opt_int(r["actor_id"]),
        actor_name=opt_str(r["actor_name"]),
        action=str(r["action"]),
        target_kind=opt_str(r["target_kind"]),
        target_id=opt_int(r["target_id"]),
        details=json.loads(r["details"]),
    )

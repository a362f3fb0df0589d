"""Flags: writing a reviewed post's flags, and the moderators' views of them (one, the open ones, stats)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import aiosqlite

from bot.records import CategoryStats, FlagDetail, FlagRecord, RecordNotFoundError
from bot.store.connection import Connection, fetch_rows
from bot.store.rows import (
    DETAIL_FROM,
    FLAG_COLS,
    OPEN_STATUSES,
    chunks,
    detail_from,
    evidence_json,
    flag_from,
    like_escape,
    marks,
)
from classifiers.result import CATEGORIES, Flag


async def insert_flags(
    conn: aiosqlite.Connection,
    posts: Sequence[tuple[Sequence[Flag], int, int]],
    alert_ids: Mapping[int, int],
    now: float,
) -> dict[int, list[int]]:
    """Store the flags of (flags, post row id, revision), each with its post's alert (None: listed only);
    returns the flag ids of each post row id."""
    flag_ids: dict[int, list[int]] = {}
    if not posts:
        return flag_ids
    await conn.executemany(
        "INSERT INTO flags (post_id, revision, alert_id, category, score, threshold, reasons,"
        " evidence, model_version, status, created_at, severity)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'open', ?, ?)",
        [
            (
                pid,
                rev,
                alert_ids.get(pid),
                flag.category,
                flag.score,
                flag.threshold,
                json.dumps(list(flag.reasons), ensure_ascii=False),
                evidence_json(flag.evidence),
                flag.model_version,
                now,
                flag.severity,
            )
            for flags, pid, rev in posts
            for flag in flags
        ],
    )
    for chunk in chunks([pid for _, pid, _ in posts]):
        for hit in await fetch_rows(
            conn,
            "SELECT f.id, f.post_id FROM flags f JOIN posts p ON p.id = f.post_id"
            f" WHERE f.post_id IN ({marks(len(chunk))}) AND f.revision = p.revision"
            " ORDER BY f.id",
            tuple(chunk),
        ):
            flag_ids.setdefault(int(hit["post_id"]), []).append(int(hit["id"]))
    return flag_ids


class Flags(Connection):
    """The flags moderators look at."""

    async def get_flag(self, flag_id: int) -> FlagDetail:
        """A flag with its post and thread."""
        rows = await self._fetchall(f"{DETAIL_FROM} WHERE f.id = ?", (flag_id,))
        if not rows:
            raise RecordNotFoundError("flag", flag_id)
        return detail_from(rows[0])

    async def open_flags(
        self,
        *,
        category: str | None = None,
        thread: str | None = None,
        author: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> list[FlagDetail]:
        """Flags no moderator has settled (open or escalated), newest first.

        `thread` matches a thread's id at its source or a part of its title; `author` ignores case.
        """
        where = [f"f.status IN ({marks(len(OPEN_STATUSES))})"]
        params: list[Any] = list(OPEN_STATUSES)
        if category is not None:
            where.append("f.category = ?")
            params.append(category)
        if thread is not None:
            where.append("(t.external_id = ? OR t.title LIKE ? ESCAPE '\\')")
            params += [thread, f"%{like_escape(thread)}%"]
        if author is not None:
            where.append("p.author = ? COLLATE NOCASE")
            params.append(author)
        rows = await self._fetchall(
            f"{DETAIL_FROM} WHERE {' AND '.join(where)} ORDER BY f.id DESC LIMIT ? OFFSET ?",
            (*params, limit, offset),
        )
        return [detail_from(r) for r in rows]

    async def flags_of_post(self, post_id: int) -> list[FlagRecord]:
        """Every flag of a stored post, all revisions, oldest first."""
        rows = await self._fetchall(
            f"SELECT {FLAG_COLS} FROM flags f WHERE f.post_id = ? ORDER BY f.id", (post_id,)
        )
        return [flag_from(r) for r in rows]

    async def category_stats(self) -> list[CategoryStats]:
        """Per category: flags, open, confirmed, dismissed, escalated (superseded flags left out)."""
        rows = await self._fetchall(
            "SELECT category, COUNT(*) AS n,"
            " SUM(status = 'open') AS open, SUM(status = 'confirmed') AS confirmed,"
            " SUM(status = 'dismissed') AS dismissed, SUM(status = 'escalated') AS escalated"
            " FROM flags WHERE status != 'superseded' GROUP BY category"
        )
        by_category = {
            str(r["category"]): CategoryStats(
                str(r["category"]),
                int(r["n"]),
                int(r["open"]),
                int(r["confirmed"]),
                int(r["dismissed"]),
                int(r["escalated"]),
            )
            for r in rows
        }
        ordered = [by_category.pop(c, CategoryStats(c, 0, 0, 0, 0, 0)) for c in CATEGORIES]
        return ordered + sorted(by_category.values(), key=lambda s: s.category)

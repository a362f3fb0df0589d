"""Sources, threads and posts: what was read, and storing reviewed posts with their flags and alerts."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence

import aiosqlite

from bot.records import (
    PostOutcome,
    PostRecord,
    PostVersion,
    RecordedPost,
    RecordNotFoundError,
    RecordResult,
    ReviewedPost,
    SourceRef,
    ThreadRecord,
    ThreadSnapshot,
)
from bot.store.connection import Connection, fetch_one, fetch_rows
from bot.store.flags import insert_flags
from bot.store.outbox import insert_alerts
from bot.store.rows import (
    POST_COLS,
    THREAD_COLS,
    chunks,
    marks,
    post_at_revision,
    post_from,
    quotes_json,
    thread_from,
)

# (review, post row id, revision, outcome) of each post written
_Written = tuple[ReviewedPost, int, int, PostOutcome]

_INSERT_POST = (
    "INSERT INTO posts (source_id, thread_id, external_id, author, author_id, position, url,"
    " created_at, user_title, text, quotes, content_hash, revision, scores,"
    " first_seen_at, reviewed_at, review_error)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?)"
)
_KEEP_REVISION = (
    "INSERT OR IGNORE INTO post_revisions"
    " (post_id, revision, text, quotes, content_hash, scores, reviewed_at, review_error)"
    " SELECT id, revision, text, quotes, content_hash, scores, reviewed_at, review_error"
    " FROM posts WHERE id = ?"
)
_UPDATE_POST = (
    "UPDATE posts SET author = ?, author_id = COALESCE(?, author_id), position ="
    " COALESCE(?, position),"
    " url = COALESCE(?, url), created_at = COALESCE(?, created_at), user_title = ?, text = ?,"
    " quotes = ?, content_hash = ?, revision = revision + 1, scores = ?, reviewed_at = ?,"
    " review_error = ? WHERE id = ?"
)


async def post_versions(
    conn: aiosqlite.Connection, source_id: int, ids: Sequence[str]
) -> dict[str, PostVersion]:
    """The stored versions of the posts `ids` of a source (absent ones are not stored)."""
    versions: dict[str, PostVersion] = {}
    for chunk in chunks(ids):
        for r in await fetch_rows(
            conn,
            f"SELECT id, external_id, content_hash, revision FROM posts"
            f" WHERE source_id = ? AND external_id IN ({marks(len(chunk))})",
            (source_id, *chunk),
        ):
            versions[str(r["external_id"])] = PostVersion(
                int(r["id"]), str(r["external_id"]), str(r["content_hash"]), int(r["revision"])
            )
    return versions


def _sort_reviews(
    latest: dict[str, ReviewedPost], stored: dict[str, PostVersion]
) -> tuple[list[ReviewedPost], list[tuple[ReviewedPost, PostVersion]], list[RecordedPost]]:
    """New posts, edited ones (with their stored version), and those stored with this content already."""
    new: list[ReviewedPost] = []
    edited: list[tuple[ReviewedPost, PostVersion]] = []
    unchanged: list[RecordedPost] = []
    for ext_id, review in latest.items():
        old = stored.get(ext_id)
        if old is None:
            new.append(review)
        elif old.content_hash != review.content_hash:
            edited.append((review, old))
        else:
            unchanged.append(RecordedPost(ext_id, old.id, "unchanged", old.revision, (), None))
    return new, edited, unchanged


def _alerts(review: ReviewedPost) -> bool:
    """Whether a post gets an alert: one of its flags is posted to the moderators (minor ones are only
    listed), or the detectors could not review it (never silent)."""
    return bool(review.review_error) or any(flag.alerts for flag in review.flags)


class Posts(Connection):
    """Sources, threads and posts."""

    async def _source_id(self, conn: aiosqlite.Connection, source: SourceRef, now: float) -> int:
        row = await fetch_one(
            conn,
            "INSERT INTO sources (kind, key, name, created_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (kind, key) DO UPDATE SET name = COALESCE(excluded.name, sources.name) RETURNING"
            " id",
            (source.kind, source.key, source.name, now),
        )
        assert row is not None
        return int(row["id"])

    async def thread_snapshot(
        self, source: SourceRef, thread_id: str, post_ids: Iterable[str]
    ) -> ThreadSnapshot:
        """The stored thread and the stored versions of the given posts (absent ones are new)."""
        ids = list(dict.fromkeys(post_ids))
        async with self._reading() as conn:
            row = await fetch_one(
                conn,
                f"SELECT {THREAD_COLS} FROM threads t JOIN sources s ON s.id = t.source_id"
                " WHERE s.kind = ? AND s.key = ? AND t.external_id = ?",
                (source.kind, source.key, thread_id),
            )
            if row is None:
                return ThreadSnapshot(None)
            thread = thread_from(row)
            versions = await post_versions(conn, thread.source_id, ids)
        return ThreadSnapshot(thread, versions)

    async def thread_posts(self, thread_id: int) -> list[PostRecord]:
        """Every stored post of a thread (latest revisions) in the order they were first stored."""
        rows = await self._fetchall(
            f"SELECT {POST_COLS} FROM posts p WHERE p.thread_id = ? ORDER BY p.id", (thread_id,)
        )
        return [post_from(r) for r in rows]

    async def get_post(self, source: SourceRef, post_id: str) -> PostRecord | None:
        """A stored post by its source and the source's post id."""
        rows = await self._fetchall(
            f"SELECT {POST_COLS} FROM posts p JOIN sources s ON s.id = p.source_id"
            " WHERE s.kind = ? AND s.key = ? AND p.external_id = ?",
            (source.kind, source.key, post_id),
        )
        return post_from(rows[0]) if rows else None

    async def post_revision(self, post_id: int, revision: int) -> PostRecord:
        """A stored post as it read at `revision` (the latest revision, or an earlier one kept on edit)."""
        async with self._reading() as conn:
            row = await fetch_one(conn, f"SELECT {POST_COLS} FROM posts p WHERE p.id = ?", (post_id,))
            if row is None:
                raise RecordNotFoundError("post", post_id)
            post = await post_at_revision(conn, post_from(row), revision)
        if post.revision != revision:
            raise RecordNotFoundError("post revision", f"{post_id}/{revision}")
        return post

    async def record_reviews(
        self,
        source: SourceRef,
        thread_id: str,
        title: str,
        reviews: Sequence[ReviewedPost],
        *,
        url: str | None = None,
    ) -> RecordResult:
        """Store reviewed posts with their flags and outbox rows, all in one transaction.

        A post whose (source, id) is stored with the same content hash is left alone ('unchanged': not
        flagged or alerted again); with another hash it is an edit: a new revision with its own flags and
        alert, and the open flags of the earlier revision become 'superseded'. The check is made inside the
        write transaction, so two writers storing the same post store it once.
        """
        now = self.now()
        latest: dict[str, ReviewedPost] = {}
        for review in reviews:  # one id twice in a batch: its last content wins
            latest.pop(review.post.id, None)
            latest[review.post.id] = review
        async with self._transaction() as conn:
            source_id = await self._source_id(conn, source, now)
            thread_row_id, previous_version = await _upsert_thread(
                conn, source_id, thread_id, title, url, now
            )
            stored = await post_versions(conn, source_id, list(latest))
            new, edited, unchanged = _sort_reviews(latest, stored)
            written = await _insert_new(conn, source_id, thread_row_id, new, now)
            written += await _store_edits(conn, edited, now)

            alerting = [(r, pid, rev) for r, pid, rev, _ in written if _alerts(r)]
            alert_ids = await insert_alerts(
                conn, thread_row_id, [(pid, rev) for _, pid, rev in alerting], now
            )
            flagged = [(r.flags, pid, rev) for r, pid, rev, _ in written if r.flags]
            flag_ids = await insert_flags(conn, flagged, alert_ids, now)

            version = previous_version
            if written:
                bumped = await fetch_one(
                    conn,
                    "UPDATE threads SET version = version + 1, updated_at = ? WHERE id = ? RETURNING version",
                    (now, thread_row_id),
                )
                assert bumped is not None
                version = int(bumped["version"])
            thread = ThreadRecord(thread_row_id, source_id, thread_id, title, url, version)

        recorded = {p.external_id: p for p in unchanged}
        for r, pid, rev, outcome in written:
            recorded[r.post.id] = RecordedPost(
                r.post.id, pid, outcome, rev, tuple(flag_ids.get(pid, ())), alert_ids.get(pid)
            )
        return RecordResult(thread, previous_version, tuple(recorded[ext] for ext in latest))


async def _upsert_thread(
    conn: aiosqlite.Connection, source_id: int, thread_id: str, title: str, url: str | None, now: float
) -> tuple[int, int]:
    """The thread's row id and version, stored or created (its title and url updated)."""
    row = await fetch_one(
        conn,
        "INSERT INTO threads (source_id, external_id, title, url, created_at, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (source_id, external_id) DO UPDATE SET title = COALESCE(NULLIF(excluded.title, ''),"
        " threads.title),"
        " url = COALESCE(excluded.url, threads.url)"
        " RETURNING id, version",
        (source_id, thread_id, title, url, now, now),
    )
    assert row is not None
    return int(row["id"]), int(row["version"])


def _content(r: ReviewedPost) -> tuple[object, ...]:
    """A reviewed post's stored content, in the column order `_INSERT_POST` and `_UPDATE_POST` share."""
    post = r.post
    return (
        post.author,
        r.author_id,
        post.position,
        post.url,
        post.created_at,
        post.user_title,
        post.text,
        quotes_json(post.quotes),
        r.content_hash,
        json.dumps(dict(r.scores)),
    )


async def _insert_new(
    conn: aiosqlite.Connection, source_id: int, thread_row_id: int, new: Sequence[ReviewedPost], now: float
) -> list[_Written]:
    """Store posts seen for the first time, as revision 1."""
    if not new:
        return []
    await conn.executemany(
        _INSERT_POST,
        [(source_id, thread_row_id, r.post.id, *_content(r), now, now, r.review_error) for r in new],
    )
    ids = await post_versions(conn, source_id, [r.post.id for r in new])
    return [(r, ids[r.post.id].id, 1, "new") for r in new]


async def _store_edits(
    conn: aiosqlite.Connection, edited: Sequence[tuple[ReviewedPost, PostVersion]], now: float
) -> list[_Written]:
    """Keep each edited post's current revision, store the new one, and supersede the old open flags."""
    if not edited:
        return []
    await conn.executemany(_KEEP_REVISION, [(old.id,) for _, old in edited])
    await conn.executemany(
        _UPDATE_POST,
        [(*_content(r), now, r.review_error, old.id) for r, old in edited],
    )
    await conn.executemany(
        "UPDATE flags SET status = 'superseded' WHERE post_id = ? AND revision <= ?"
        " AND status IN ('open', 'escalated')",
        [(old.id, old.revision) for _, old in edited],
    )
    return [(r, old.id, old.revision + 1, "edited") for r, old in edited]

"""Rows to records and back: the column lists of joined queries, the row codecs, JSON of quotes and evidence,
the content hash that tells an edit, and the small SQL helpers every area uses."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, TypeVar, cast

import aiosqlite

from bot.records import (
    AlertKind,
    AlertRecord,
    AlertStatus,
    Decision,
    FlagDetail,
    FlagRecord,
    FlagStatus,
    PostRecord,
    SourceRecord,
    ThreadRecord,
    Verdict,
    Watch,
)
from bot.store.connection import fetch_one
from classifiers.result import Evidence
from classifiers.thread import Post, Quote

_T = TypeVar("_T")
# SQLite's default limit on bound variables is far higher; chunks keep statements short.
_CHUNK = 500
OPEN_STATUSES = ("open", "escalated")  # flags no moderator has settled


def post_content_hash(post: Post) -> str:
    """sha256 of what a post says (text and marked quotes); a changed hash means the post was edited."""
    text = post.text.encode("utf-8", "surrogatepass")
    digest = hashlib.sha256(len(text).to_bytes(8, "big"))  # the length keeps text and quotes apart
    digest.update(text)
    if post.quotes:
        digest.update(quotes_json(post.quotes).encode("utf-8", "surrogatepass"))
    return digest.hexdigest()


def quotes_json(quotes: Sequence[Quote]) -> str:
    """Marked quotes as stored (JSON, nested quotes kept)."""
    return json.dumps(_quotes_to_json(quotes), ensure_ascii=False) if quotes else "[]"


def _quotes_to_json(quotes: Sequence[Quote]) -> list[dict[str, Any]]:
    return [
        {"text": q.text, "author": q.author, "post_id": q.post_id, "nested": _quotes_to_json(q.nested)}
        for q in quotes
    ]


def quotes_from_json(raw: Sequence[Mapping[str, Any]]) -> tuple[Quote, ...]:
    """Stored quotes back as `Quote`s."""
    return tuple(
        Quote(
            text=q["text"],
            author=q.get("author"),
            post_id=q.get("post_id"),
            nested=quotes_from_json(q.get("nested", ())),
        )
        for q in raw
    )


def evidence_json(evidence: Sequence[Evidence]) -> str:
    """A flag's evidence spans as stored (JSON)."""
    return json.dumps(
        [
            {
                "start": e.start,
                "end": e.end,
                "note": e.note,
                "source_post_id": e.source_post_id,
                "quote_index": e.quote_index,
            }
            for e in evidence
        ],
        ensure_ascii=False,
    )


def _evidence_from_json(text: str) -> tuple[Evidence, ...]:
    return tuple(
        Evidence(
            start=int(e["start"]),
            end=int(e["end"]),
            note=str(e.get("note", "")),
            source_post_id=e.get("source_post_id"),
            quote_index=e.get("quote_index"),
        )
        for e in json.loads(text)
    )


def dt(ts: float) -> datetime:
    """Stored Unix seconds as an aware UTC datetime."""
    return datetime.fromtimestamp(ts, UTC)


def opt_dt(ts: float | None) -> datetime | None:
    """`dt`, keeping None."""
    return None if ts is None else dt(ts)


def opt_int(value: Any) -> int | None:
    """An integer column that may be NULL."""
    return None if value is None else int(value)


def opt_str(value: Any) -> str | None:
    """A text column that may be NULL."""
    return None if value is None else str(value)


def chunks(items: Sequence[_T], size: int = _CHUNK) -> Iterable[Sequence[_T]]:
    """`items` in slices of at most `size` (bound variables per statement)."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def marks(n: int) -> str:
    """`n` comma-separated placeholders for an IN list."""
    return ",".join("?" * n)


def like_escape(text: str) -> str:
    """`text` as a literal inside a LIKE pattern with ESCAPE '\\'."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


# Column lists with prefixes, so joined rows map onto dataclasses without name clashes.
SOURCE_COLS = "s.id AS s_id, s.kind AS s_kind, s.key AS s_key, s.name AS s_name"
THREAD_COLS = (
    "t.id AS t_id, t.source_id AS t_source_id, t.external_id AS t_external_id, t.title AS t_title, "
    "t.url AS t_url, t.version AS t_version"
)
POST_COLS = (
    "p.id AS p_id, p.thread_id AS p_thread_id, p.source_id AS p_source_id, p.external_id AS p_external_id, "
    "p.author AS p_author, p.author_id AS p_author_id, p.position AS p_position, p.url AS p_url, "
    "p.created_at AS p_created_at, p.user_title AS p_user_title, p.text AS p_text, p.quotes AS p_quotes, "
    "p.content_hash AS p_content_hash, p.revision AS p_revision, p.scores AS p_scores, "
    "p.first_seen_at AS p_first_seen_at, p.reviewed_at AS p_reviewed_at, p.review_error AS p_review_error"
)
FLAG_COLS = (
    "f.id AS f_id, f.post_id AS f_post_id, f.revision AS f_revision, f.alert_id AS f_alert_id, "
    "f.category AS f_category, f.score AS f_score, f.threshold AS f_threshold, f.reasons AS f_reasons, "
    "f.evidence AS f_evidence, f.model_version AS f_model_version, f.status AS f_status, "
    "f.created_at AS f_created_at, f.severity AS f_severity"
)
ALERT_COLS = (
    "a.id AS a_id, a.kind AS a_kind, a.thread_id AS a_thread_id, a.post_id AS a_post_id, "
    "a.revision AS a_revision, a.digest_id AS a_digest_id, a.status AS a_status, a.attempts AS a_attempts, "
    "a.next_try_at AS a_next_try_at, "
    "a.last_error AS a_last_error, a.created_at AS a_created_at, a.sent_at AS a_sent_at, "
    "a.channel_id AS a_channel_id, a.message_id AS a_message_id, a.claim_token AS a_claim_token"
)


def source_from(row: sqlite3.Row) -> SourceRecord:
    """A row (with the source column list's names) as a record."""
    return SourceRecord(
        id=int(row["s_id"]), kind=str(row["s_kind"]), key=str(row["s_key"]), name=opt_str(row["s_name"])
    )


def thread_from(row: sqlite3.Row) -> ThreadRecord:
    """A row (with the thread column list's names) as a record."""
    return ThreadRecord(
        id=int(row["t_id"]),
        source_id=int(row["t_source_id"]),
        external_id=str(row["t_external_id"]),
        title=str(row["t_title"]),
        url=opt_str(row["t_url"]),
        version=int(row["t_version"]),
    )


def post_from(row: sqlite3.Row) -> PostRecord:
    """A row (with the post column list's names) as a record."""
    return PostRecord(
        id=int(row["p_id"]),
        thread_id=int(row["p_thread_id"]),
        source_id=int(row["p_source_id"]),
        external_id=str(row["p_external_id"]),
        author=opt_str(row["p_author"]),
        author_id=opt_int(row["p_author_id"]),
        position=opt_int(row["p_position"]),
        url=opt_str(row["p_url"]),
        created_at=opt_str(row["p_created_at"]),
        user_title=opt_str(row["p_user_title"]),
        text=str(row["p_text"]),
        quotes=quotes_from_json(json.loads(row["p_quotes"])),
        content_hash=str(row["p_content_hash"]),
        revision=int(row["p_revision"]),
        scores={str(k): float(v) for k, v in json.loads(row["p_scores"]).items()},
        first_seen_at=dt(float(row["p_first_seen_at"])),
        reviewed_at=dt(float(row["p_reviewed_at"])),
        review_error=opt_str(row["p_review_error"]),
    )


def flag_from(row: sqlite3.Row) -> FlagRecord:
    """A row (with the flag column list's names) as a record."""
    return FlagRecord(
        id=int(row["f_id"]),
        post_id=int(row["f_post_id"]),
        revision=int(row["f_revision"]),
        alert_id=opt_int(row["f_alert_id"]),
        category=str(row["f_category"]),
        score=float(row["f_score"]),
        threshold=float(row["f_threshold"]),
        reasons=tuple(str(r) for r in json.loads(row["f_reasons"])),
        evidence=_evidence_from_json(row["f_evidence"]),
        model_version=str(row["f_model_version"]),
        status=cast(FlagStatus, row["f_status"]),
        created_at=dt(float(row["f_created_at"])),
        severity="minor" if row["f_severity"] == "minor" else "alert",
    )


def alert_from(row: sqlite3.Row) -> AlertRecord:
    """A row (with the alert column list's names) as a record."""
    return AlertRecord(
        id=int(row["a_id"]),
        kind=cast(AlertKind, row["a_kind"]),
        thread_id=int(row["a_thread_id"]),
        post_id=opt_int(row["a_post_id"]),
        revision=opt_int(row["a_revision"]),
        digest_id=opt_int(row["a_digest_id"]),
        status=cast(AlertStatus, row["a_status"]),
        attempts=int(row["a_attempts"]),
        next_try_at=dt(float(row["a_next_try_at"])),
        last_error=opt_str(row["a_last_error"]),
        created_at=dt(float(row["a_created_at"])),
        sent_at=opt_dt(row["a_sent_at"]),
        channel_id=opt_int(row["a_channel_id"]),
        message_id=opt_int(row["a_message_id"]),
    )


def decision_from(row: sqlite3.Row) -> Decision:
    """A row (with the decision column list's names) as a record."""
    return Decision(
        id=int(row["id"]),
        flag_id=int(row["flag_id"]),
        moderator_id=opt_int(row["moderator_id"]),
        moderator_name=opt_str(row["moderator_name"]),
        verdict=cast(Verdict, row["verdict"]),
        note=opt_str(row["note"]),
        decided_at=dt(float(row["decided_at"])),
    )


def watch_from(row: sqlite3.Row) -> Watch:
    """A row (with the watch column list's names) as a record."""
    return Watch(
        id=int(row["id"]),
        kind=str(row["kind"]),
        target=str(row["target"]),
        interval_seconds=None if row["interval_seconds"] is None else float(row["interval_seconds"]),
        added_by=opt_int(row["added_by"]),
        added_at=dt(float(row["added_at"])),
        removed_at=opt_dt(row["removed_at"]),
    )


DETAIL_FROM = (
    f"SELECT {FLAG_COLS}, {POST_COLS}, {THREAD_COLS} FROM flags f"
    " JOIN posts p ON p.id = f.post_id JOIN threads t ON t.id = p.thread_id"
)


def detail_from(row: sqlite3.Row) -> FlagDetail:
    """A row of `DETAIL_FROM` as a flag with its post and thread."""
    return FlagDetail(flag_from(row), post_from(row), thread_from(row))


async def post_at_revision(conn: aiosqlite.Connection, post: PostRecord, revision: int) -> PostRecord:
    """`post` as it read at `revision` (kept in post_revisions on edit); the post itself if not kept."""
    if revision == post.revision:
        return post
    row = await fetch_one(
        conn, "SELECT * FROM post_revisions WHERE post_id = ? AND revision = ?", (post.id, revision)
    )
    if row is None:
        return post
    return replace(
        post,
        text=str(row["text"]),
        quotes=quotes_from_json(json.loads(row["quotes"])),
        content_hash=str(row["content_hash"]),
        revision=revision,
        scores={str(k): float(v) for k, v in json.loads(row["scores"]).items()},
        reviewed_at=dt(float(row["reviewed_at"])),
        review_error=opt_str(row["review_error"]),
    )

"""The store: everything reviewed, flagged, alerted and decided, in SQLite through aiosqlite.

One class, `Store`, holds all SQL; the rest of modassist calls its intent-named methods and gets frozen
dataclasses back, so a PostgreSQL store can follow with the same methods.

Transactions: the connection runs in autocommit mode and every write that must be atomic is one explicit
`BEGIN IMMEDIATE ... COMMIT`, which takes the write lock up front (two writers wait for each other through the
busy timeout instead of failing on a lock upgrade). Within one process an `asyncio.Lock` keeps coroutines from
interleaving statements on the shared connection.

The alert outbox follows a claim protocol (see `claim_alerts`): a delivery unit (one alert or one digest)
is fixed the first time it is claimed, carries a stable idempotency key, and is marked sent only after the
sink confirmed it. A crash between the sink's confirmation and `mark_alert_sent` leaves the row 'sending';
it is sent again with the same key, and an idempotent sink turns that into a no-op.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import sqlite3
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, Self, TypeVar, cast

import aiosqlite

from bot.errors import StoreError
from bot.migrations import Migration, load_migrations
from bot.store_integrity import check_database, integrity_problems, probe_write, refusing_unusable
from classifiers.result import CATEGORIES, Evidence, Flag, Severity
from classifiers.thread import Post, Quote

Verdict = Literal["confirm", "dismiss", "escalate"]
VERDICTS: tuple[Verdict, ...] = ("confirm", "dismiss", "escalate")
FlagStatus = Literal["open", "confirmed", "dismissed", "escalated", "superseded"]
AlertStatus = Literal["pending", "sending", "sent", "failed", "folded"]
AlertKind = Literal["post", "digest"]
PostOutcome = Literal["new", "edited", "unchanged"]
_T = TypeVar("_T")

_VERDICT_STATUS: dict[Verdict, FlagStatus] = {
    "confirm": "confirmed",
    "dismiss": "dismissed",
    "escalate": "escalated",
}
_OPEN_STATUSES = ("open", "escalated")
# SQLite's default limit on bound variables is far higher; chunks keep statements short.
_CHUNK = 500
_LISTED_IN_DIGEST = 10  # minor flags a digest lists at most
TABLES: tuple[str, ...] = (
    "sources",
    "threads",
    "posts",
    "post_revisions",
    "flags",
    "alerts",
    "decisions",
    "audit_log",
    "setting_overrides",
    "watches",
    "watch_state",
)


class RecordNotFoundError(StoreError):
    """No `kind` with id `key` in the store."""

    def __init__(self, kind: str, key: object) -> None:
        self.kind = kind
        self.key = key
        super().__init__(f"no {kind} {key}")


class MigrationError(StoreError):
    """A migration failed; the schema stays at `version`."""

    def __init__(self, migration: Migration, version: int, cause: BaseException) -> None:
        self.migration = migration
        self.version = version
        self.cause = cause
        super().__init__(
            f"migration {migration.version:04d}_{migration.name} failed ({cause}); schema left at version"
            f" {version}"
        )


# ----------------------------------------------------------------------------------------------------------
# What the store returns


@dataclass(frozen=True, slots=True)
class SourceRef:
    """Post ids are unique within (`kind`, `key`): a forum's origin, a guild, a file."""

    kind: str
    key: str
    name: str | None = None


@dataclass(frozen=True, slots=True)
class SourceRecord:
    """A stored source."""

    id: int
    kind: str
    key: str
    name: str | None


@dataclass(frozen=True, slots=True)
class ThreadRecord:
    """A stored thread. `version` grows with every write of its posts."""

    id: int
    source_id: int
    external_id: str
    title: str
    url: str | None
    version: int


@dataclass(frozen=True, slots=True)
class PostVersion:
    """What identifies the stored content of a post: its content hash and revision."""

    id: int
    external_id: str
    content_hash: str
    revision: int


@dataclass(frozen=True, slots=True)
class PostRecord:
    """A stored post, latest revision."""

    id: int
    thread_id: int
    source_id: int
    external_id: str
    author: str | None
    author_id: int | None
    position: int | None
    url: str | None
    created_at: str | None
    user_title: str | None
    text: str
    quotes: tuple[Quote, ...]
    content_hash: str
    revision: int
    scores: Mapping[str, float]
    first_seen_at: datetime
    reviewed_at: datetime
    review_error: str | None = None  # set when the detectors could not (fully) review this revision

    def to_post(self) -> Post:
        """The post as the detectors see it."""
        return Post(
            id=self.external_id,
            text=self.text,
            author=self.author,
            position=self.position,
            url=self.url,
            created_at=self.created_at,
            user_title=self.user_title,
            quotes=self.quotes,
        )


@dataclass(frozen=True, slots=True)
class FlagRecord:
    """A stored flag of one post revision."""

    id: int
    post_id: int
    revision: int
    alert_id: int | None
    category: str
    score: float
    threshold: float
    reasons: tuple[str, ...]
    evidence: tuple[Evidence, ...]
    model_version: str
    status: FlagStatus
    created_at: datetime
    severity: Severity = "alert"  # 'minor': listed for moderators, never alerted on its own


@dataclass(frozen=True, slots=True)
class FlagDetail:
    """A flag with its post and thread, as a moderator sees it."""

    flag: FlagRecord
    post: PostRecord
    thread: ThreadRecord


@dataclass(frozen=True, slots=True)
class AlertRecord:
    """An outbox row: one flagged post revision, or a digest folding several."""

    id: int
    kind: AlertKind
    thread_id: int
    post_id: int | None
    revision: int | None
    digest_id: int | None
    status: AlertStatus
    attempts: int
    next_try_at: datetime
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None
    channel_id: int | None
    message_id: int | None


@dataclass(frozen=True, slots=True)
class AlertItem:
    """One flagged post inside an alert (a digest has several)."""

    alert_id: int
    post: PostRecord
    flags: tuple[FlagRecord, ...]


@dataclass(frozen=True, slots=True)
class AlertView:
    """An alert with everything a sink needs to render it. `claim_token` is set on claimed alerts."""

    alert: AlertRecord
    source: SourceRecord
    thread: ThreadRecord
    items: tuple[AlertItem, ...]
    claim_token: str | None = None
    # A digest also lists the thread's open minor flags, which never make an alert of their own.
    listed: tuple[FlagDetail, ...] = ()

    @property
    def id(self) -> int:
        """The alert's id."""
        return self.alert.id

    @property
    def kind(self) -> AlertKind:
        """'post' or 'digest'."""
        return self.alert.kind

    @property
    def idempotency_key(self) -> str:
        """Stable across retries and restarts: a sink that remembers it delivers the alert once."""
        return f"modassist-alert-{self.alert.id}"

    @property
    def alert_ids(self) -> tuple[int, ...]:
        """The post alerts this delivery covers (the alert itself, or a digest's members)."""
        return tuple(item.alert_id for item in self.items)


@dataclass(frozen=True, slots=True)
class Decision:
    """A moderator's verdict on a flag."""

    id: int
    flag_id: int
    moderator_id: int | None
    moderator_name: str | None
    verdict: Verdict
    note: str | None
    decided_at: datetime


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One moderator action or settings change."""

    id: int
    at: datetime
    actor_id: int | None
    actor_name: str | None
    action: str
    target_kind: str | None
    target_id: int | None
    details: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class CategoryStats:
    """Flags of one category and what moderators decided about them."""

    category: str
    flags: int
    open: int
    confirmed: int
    dismissed: int
    escalated: int

    @property
    def precision(self) -> float | None:
        """confirmed / decided; None while nothing is decided."""
        decided = self.confirmed + self.dismissed
        return self.confirmed / decided if decided else None


@dataclass(frozen=True, slots=True)
class AuthorHistory:
    """An author's flags (newest first) and the decisions on them."""

    author: str
    posts: int
    flags: tuple[FlagDetail, ...]
    decisions: tuple[Decision, ...]


@dataclass(frozen=True, slots=True)
class Watch:
    """A watched thread, channel or file."""

    id: int
    kind: str
    target: str
    interval_seconds: float | None
    added_by: int | None
    added_at: datetime
    removed_at: datetime | None


@dataclass(frozen=True, slots=True)
class WatchState:
    """How far a watch has read: the newest post seen and the HTTP validators of the last answer."""

    watch_id: int
    last_post_id: str | None = None
    last_page_url: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    cursor: str | None = None
    last_polled_at: datetime | None = None
    last_success_at: datetime | None = None
    next_poll_at: datetime | None = None
    consecutive_errors: int = 0
    last_error: str | None = None


@dataclass(frozen=True, slots=True)
class AppliedMigration:
    """A migration recorded in the database."""

    version: int
    name: str
    checksum: str
    applied_at: datetime


@dataclass(frozen=True, slots=True)
class SchemaStatus:
    """The schema version, what is applied and what is pending."""

    version: int
    latest: int
    applied: tuple[AppliedMigration, ...]
    pending: tuple[Migration, ...]
    modified: tuple[int, ...]  # applied versions whose shipped script no longer matches the recorded checksum


# What the service hands in, and what it gets back


@dataclass(frozen=True, slots=True)
class ReviewedPost:
    """A post with the result of its review, ready to be stored."""

    post: Post
    content_hash: str
    scores: Mapping[str, float]
    flags: tuple[Flag, ...]
    author_id: int | None = None
    review_error: str | None = None  # the detectors could not (fully) review it: alerted as such


@dataclass(frozen=True, slots=True)
class RecordedPost:
    """What storing one reviewed post did. 'unchanged' means another writer stored this content first."""

    external_id: str
    post_id: int
    outcome: PostOutcome
    revision: int
    flag_ids: tuple[int, ...]
    alert_id: int | None


@dataclass(frozen=True, slots=True)
class RecordResult:
    """What `record_reviews` did; `previous_version` is the thread's version before this write."""

    thread: ThreadRecord
    previous_version: int
    posts: tuple[RecordedPost, ...]

    @property
    def alert_ids(self) -> tuple[int, ...]:
        """The outbox rows written."""
        return tuple(p.alert_id for p in self.posts if p.alert_id is not None)


@dataclass(frozen=True, slots=True)
class ThreadSnapshot:
    """The stored thread (None if unseen) and the stored versions of some of its posts."""

    thread: ThreadRecord | None
    versions: Mapping[str, PostVersion] = field(default_factory=dict)


# ----------------------------------------------------------------------------------------------------------
# Encoding


def post_content_hash(post: Post) -> str:
    """sha256 of what a post says (text and marked quotes); a changed hash means the post was edited."""
    text = post.text.encode("utf-8", "surrogatepass")
    digest = hashlib.sha256(len(text).to_bytes(8, "big"))  # the length keeps text and quotes apart
    digest.update(text)
    if post.quotes:
        digest.update(_quotes_json(post.quotes).encode("utf-8", "surrogatepass"))
    return digest.hexdigest()


def _quotes_json(quotes: Sequence[Quote]) -> str:
    return json.dumps(_quotes_to_json(quotes), ensure_ascii=False) if quotes else "[]"


def _quotes_to_json(quotes: Sequence[Quote]) -> list[dict[str, Any]]:
    return [
        {"text": q.text, "author": q.author, "post_id": q.post_id, "nested": _quotes_to_json(q.nested)}
        for q in quotes
    ]


def _quotes_from_json(raw: Sequence[Mapping[str, Any]]) -> tuple[Quote, ...]:
    return tuple(
        Quote(
            text=q["text"],
            author=q.get("author"),
            post_id=q.get("post_id"),
            nested=_quotes_from_json(q.get("nested", ())),
        )
        for q in raw
    )


def _evidence_to_json(evidence: Sequence[Evidence]) -> str:
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


def _alerts(flags: Sequence[Flag]) -> bool:
    """Whether any of the flags is posted to the moderators (minor ones are only listed)."""
    return any(flag.alerts for flag in flags)


def _dt(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def _opt_dt(ts: float | None) -> datetime | None:
    return None if ts is None else _dt(ts)


def _opt_int(value: Any) -> int | None:
    return None if value is None else int(value)


def _opt_str(value: Any) -> str | None:
    return None if value is None else str(value)


def _chunks(items: Sequence[_T], size: int = _CHUNK) -> Iterable[Sequence[_T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _marks(n: int) -> str:
    return ",".join("?" * n)


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def split_statements(script: str) -> list[str]:
    """Split an SQL script into complete statements (a trigger body's inner `;` does not split)."""
    statements: list[str] = []
    buffer = ""
    for line in script.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            if buffer.strip():
                statements.append(buffer.strip())
            buffer = ""
    if buffer.strip() and not all(
        part.strip().startswith("--") or not part.strip() for part in buffer.splitlines()
    ):
        raise ValueError(f"incomplete SQL statement at the end of the script: {buffer.strip()[:80]!r}")
    return statements


# Column lists with prefixes, so joined rows map onto dataclasses without name clashes.
_SOURCE_COLS = "s.id AS s_id, s.kind AS s_kind, s.key AS s_key, s.name AS s_name"
_THREAD_COLS = (
    "t.id AS t_id, t.source_id AS t_source_id, t.external_id AS t_external_id, t.title AS t_title, "
    "t.url AS t_url, t.version AS t_version"
)
_POST_COLS = (
    "p.id AS p_id, p.thread_id AS p_thread_id, p.source_id AS p_source_id, p.external_id AS p_external_id, "
    "p.author AS p_author, p.author_id AS p_author_id, p.position AS p_position, p.url AS p_url, "
    "p.created_at AS p_created_at, p.user_title AS p_user_title, p.text AS p_text, p.quotes AS p_quotes, "
    "p.content_hash AS p_content_hash, p.revision AS p_revision, p.scores AS p_scores, "
    "p.first_seen_at AS p_first_seen_at, p.reviewed_at AS p_reviewed_at, p.review_error AS p_review_error"
)
_FLAG_COLS = (
    "f.id AS f_id, f.post_id AS f_post_id, f.revision AS f_revision, f.alert_id AS f_alert_id, "
    "f.category AS f_category, f.score AS f_score, f.threshold AS f_threshold, f.reasons AS f_reasons, "
    "f.evidence AS f_evidence, f.model_version AS f_model_version, f.status AS f_status, "
    "f.created_at AS f_created_at, f.severity AS f_severity"
)
_ALERT_COLS = (
    "a.id AS a_id, a.kind AS a_kind, a.thread_id AS a_thread_id, a.post_id AS a_post_id, "
    "a.revision AS a_revision, a.digest_id AS a_digest_id, a.status AS a_status, a.attempts AS a_attempts, "
    "a.next_try_at AS a_next_try_at, "
    "a.last_error AS a_last_error, a.created_at AS a_created_at, a.sent_at AS a_sent_at, "
    "a.channel_id AS a_channel_id, a.message_id AS a_message_id, a.claim_token AS a_claim_token"
)


def _source_from(row: sqlite3.Row) -> SourceRecord:
    return SourceRecord(
        id=int(row["s_id"]), kind=str(row["s_kind"]), key=str(row["s_key"]), name=_opt_str(row["s_name"])
    )


def _thread_from(row: sqlite3.Row) -> ThreadRecord:
    return ThreadRecord(
        id=int(row["t_id"]),
        source_id=int(row["t_source_id"]),
        external_id=str(row["t_external_id"]),
        title=str(row["t_title"]),
        url=_opt_str(row["t_url"]),
        version=int(row["t_version"]),
    )


def _post_from(row: sqlite3.Row) -> PostRecord:
    return PostRecord(
        id=int(row["p_id"]),
        thread_id=int(row["p_thread_id"]),
        source_id=int(row["p_source_id"]),
        external_id=str(row["p_external_id"]),
        author=_opt_str(row["p_author"]),
        author_id=_opt_int(row["p_author_id"]),
        position=_opt_int(row["p_position"]),
        url=_opt_str(row["p_url"]),
        created_at=_opt_str(row["p_created_at"]),
        user_title=_opt_str(row["p_user_title"]),
        text=str(row["p_text"]),
        quotes=_quotes_from_json(json.loads(row["p_quotes"])),
        content_hash=str(row["p_content_hash"]),
        revision=int(row["p_revision"]),
        scores={str(k): float(v) for k, v in json.loads(row["p_scores"]).items()},
        first_seen_at=_dt(float(row["p_first_seen_at"])),
        reviewed_at=_dt(float(row["p_reviewed_at"])),
        review_error=_opt_str(row["p_review_error"]),
    )


def _flag_from(row: sqlite3.Row) -> FlagRecord:
    return FlagRecord(
        id=int(row["f_id"]),
        post_id=int(row["f_post_id"]),
        revision=int(row["f_revision"]),
        alert_id=_opt_int(row["f_alert_id"]),
        category=str(row["f_category"]),
        score=float(row["f_score"]),
        threshold=float(row["f_threshold"]),
        reasons=tuple(str(r) for r in json.loads(row["f_reasons"])),
        evidence=_evidence_from_json(row["f_evidence"]),
        model_version=str(row["f_model_version"]),
        status=cast(FlagStatus, row["f_status"]),
        created_at=_dt(float(row["f_created_at"])),
        severity="minor" if row["f_severity"] == "minor" else "alert",
    )


def _alert_from(row: sqlite3.Row) -> AlertRecord:
    return AlertRecord(
        id=int(row["a_id"]),
        kind=cast(AlertKind, row["a_kind"]),
        thread_id=int(row["a_thread_id"]),
        post_id=_opt_int(row["a_post_id"]),
        revision=_opt_int(row["a_revision"]),
        digest_id=_opt_int(row["a_digest_id"]),
        status=cast(AlertStatus, row["a_status"]),
        attempts=int(row["a_attempts"]),
        next_try_at=_dt(float(row["a_next_try_at"])),
        last_error=_opt_str(row["a_last_error"]),
        created_at=_dt(float(row["a_created_at"])),
        sent_at=_opt_dt(row["a_sent_at"]),
        channel_id=_opt_int(row["a_channel_id"]),
        message_id=_opt_int(row["a_message_id"]),
    )


def _decision_from(row: sqlite3.Row) -> Decision:
    return Decision(
        id=int(row["id"]),
        flag_id=int(row["flag_id"]),
        moderator_id=_opt_int(row["moderator_id"]),
        moderator_name=_opt_str(row["moderator_name"]),
        verdict=cast(Verdict, row["verdict"]),
        note=_opt_str(row["note"]),
        decided_at=_dt(float(row["decided_at"])),
    )


def _watch_from(row: sqlite3.Row) -> Watch:
    return Watch(
        id=int(row["id"]),
        kind=str(row["kind"]),
        target=str(row["target"]),
        interval_seconds=None if row["interval_seconds"] is None else float(row["interval_seconds"]),
        added_by=_opt_int(row["added_by"]),
        added_at=_dt(float(row["added_at"])),
        removed_at=_opt_dt(row["removed_at"]),
    )


# ----------------------------------------------------------------------------------------------------------


async def _use_wal(conn: aiosqlite.Connection, busy_timeout: float) -> None:
    """Switch to WAL (kept in the file, so usually done once). The switch needs the database to itself and
    SQLite answers 'database is locked' at once, without the busy timeout, while others are starting too:
    so retry for up to the busy timeout."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + busy_timeout
    delay = 0.005
    while True:
        try:
            rows = list(await conn.execute_fetchall("PRAGMA journal_mode"))
            if rows and str(rows[0][0]).lower() == "wal":
                return
            await conn.execute("PRAGMA journal_mode = WAL")
            return  # switched, or a database that cannot be WAL (in memory) stays as it is
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or loop.time() + delay > deadline:
                raise
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.2)


class Store:
    """modassist's persistent state over one aiosqlite connection. Open with `await Store.open(path)`."""

    def __init__(
        self,
        conn: aiosqlite.Connection,
        path: Path,
        *,
        migrations: Sequence[Migration] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """Wrap an open connection; use `Store.open`, which also configures and migrates it."""
        self._conn = conn
        self.path = path
        self._clock = clock
        self._migrations = tuple(migrations) if migrations is not None else load_migrations()
        # One connection is shared by every coroutine: statements of two transactions must not interleave.
        self._lock = asyncio.Lock()

    # -- lifecycle -------------------------------------------------------------------------------------

    @classmethod
    async def open(
        cls,
        path: Path | str,
        *,
        busy_timeout: float = 10.0,
        migrate: bool = True,
        migrations: Sequence[Migration] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> Store:
        """Open (or create) the database at `path` with WAL, busy timeout and foreign keys; migrate it.
        A damaged database, one of a newer schema, or one that cannot be written raises a `StoreError`."""
        path = Path(path)
        # A damaged, read-only or full file is refused in one line naming it (bot.store_integrity).
        with refusing_unusable(path):
            pending = aiosqlite.connect(path, isolation_level=None, timeout=busy_timeout)
            # aiosqlite's worker thread is not a daemon: a store left open (a crash, a failed test) would keep
            # the process from exiting. SQLite survives being stopped mid-transaction: let it be a daemon.
            worker = getattr(pending, "_thread", None)
            if isinstance(worker, threading.Thread) and not worker.is_alive():
                worker.daemon = True
            conn = await pending
            try:
                conn.row_factory = sqlite3.Row
                await conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
                store = cls(conn, path, migrations=migrations, clock=clock)
                # Before the first write (even the switch to WAL): a damaged file, or one of a newer schema.
                await check_database(conn, path, store._migrations)
                await _use_wal(conn, busy_timeout)
                # NORMAL is durable across a process crash in WAL mode; an OS crash can lose the last commits.
                await conn.execute("PRAGMA synchronous = NORMAL")
                await conn.execute("PRAGMA foreign_keys = ON")
                if migrate:
                    await store.migrate()
            except BaseException:
                await conn.close()
                raise
        return store

    async def close(self) -> None:
        """Close the connection (checkpointing the WAL)."""
        await self._conn.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    def now(self) -> float:
        """The store's clock, Unix seconds."""
        return self._clock()

    # -- transactions ----------------------------------------------------------------------------------

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """One write transaction: BEGIN IMMEDIATE, COMMIT on success, ROLLBACK on error or cancellation."""
        async with self._lock:
            try:
                await self._conn.execute("BEGIN IMMEDIATE")
                yield self._conn
                await self._conn.execute("COMMIT")
            except BaseException:
                await self._rollback()
                raise

    async def _rollback(self) -> None:
        # A cancelled statement still runs on the connection's thread, so the ROLLBACK is shielded and queued
        # behind it. There may be no transaction left to roll back (BEGIN failed, or COMMIT went through).
        with contextlib.suppress(sqlite3.OperationalError):
            await asyncio.shield(self._conn.execute("ROLLBACK"))

    @asynccontextmanager
    async def _reading(self) -> AsyncIterator[aiosqlite.Connection]:
        """Reads share the connection: hold the lock so they never run inside another's transaction."""
        async with self._lock:
            yield self._conn

    async def _fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        async with self._reading() as conn:
            return list(await conn.execute_fetchall(sql, params))

    @staticmethod
    async def _rows(conn: aiosqlite.Connection, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        return list(await conn.execute_fetchall(sql, params))

    @staticmethod
    async def _one(conn: aiosqlite.Connection, sql: str, params: Sequence[Any] = ()) -> sqlite3.Row | None:
        rows = list(await conn.execute_fetchall(sql, params))
        return rows[0] if rows else None

    # -- migrations ------------------------------------------------------------------------------------

    async def _ensure_migration_table(self) -> None:
        async with self._lock:
            await self._conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                " version INTEGER PRIMARY KEY, name TEXT NOT NULL, checksum TEXT NOT NULL,"
                " applied_at REAL NOT NULL)"
            )

    async def _applied(self) -> list[AppliedMigration]:
        rows = await self._fetchall(
            "SELECT version, name, checksum, applied_at FROM schema_migrations ORDER BY version"
        )
        return [
            AppliedMigration(
                int(r["version"]), str(r["name"]), str(r["checksum"]), _dt(float(r["applied_at"]))
            )
            for r in rows
        ]

    async def migrate(self, *, target: int | None = None) -> tuple[Migration, ...]:
        """Apply pending migrations up to `target` (default: all), each in one transaction; return them.

        A failing migration is rolled back whole and raises `MigrationError`; the version stays where it was.
        """
        await self._ensure_migration_table()
        applied: list[Migration] = []
        for migration in self._migrations:
            if target is not None and migration.version > target:
                break
            statements = split_statements(migration.sql)
            async with self._transaction() as conn:
                # Checked inside the write transaction: two processes starting together apply each step once.
                row = await self._one(
                    conn, "SELECT 1 FROM schema_migrations WHERE version = ?", (migration.version,)
                )
                if row is not None:
                    continue
                current = await self._one(
                    conn, "SELECT COALESCE(MAX(version), 0) AS v FROM schema_migrations"
                )
                version = int(current["v"]) if current is not None else 0
                try:
                    for statement in statements:
                        await conn.execute(statement)
                    await conn.execute(
                        "INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES (?, ?,"
                        " ?, ?)",
                        (migration.version, migration.name, migration.checksum, self.now()),
                    )
                except sqlite3.Error as exc:
                    raise MigrationError(migration, version, exc) from exc
            applied.append(migration)
        return tuple(applied)

    async def schema_status(self) -> SchemaStatus:
        """The recorded schema version, the migrations applied and pending, and any edited since."""
        await self._ensure_migration_table()
        applied = await self._applied()
        done = {a.version: a for a in applied}
        pending = tuple(m for m in self._migrations if m.version not in done)
        modified = tuple(
            m.version
            for m in self._migrations
            if m.version in done and done[m.version].checksum != m.checksum
        )
        return SchemaStatus(
            version=max(done, default=0),
            latest=max((m.version for m in self._migrations), default=0),
            applied=tuple(applied),
            pending=pending,
            modified=modified,
        )

    async def check_writable(self) -> None:
        """Raise `DatabaseUnwritableError` now if the file cannot be written (read-only file or directory)."""
        with refusing_unusable(self.path):
            async with self._lock:
                await probe_write(self._conn)

    async def integrity_problems(self) -> list[str]:
        """SQLite's full integrity check (every page, and every index against its table); empty when sound."""
        async with self._reading() as conn:
            return await integrity_problems(conn, full=True)

    async def row_counts(self) -> dict[str, int]:
        """Rows per table, for the tables that exist."""
        existing = {
            str(r["name"])
            for r in await self._fetchall("SELECT name FROM sqlite_master WHERE type = 'table'")
        }
        counts: dict[str, int] = {}
        for table in TABLES:
            if table in existing:
                rows = await self._fetchall(
                    f"SELECT COUNT(*) AS n FROM {table}"
                )  # table names from TABLES only
                counts[table] = int(rows[0]["n"])
        return counts

    async def unreviewable_posts(self) -> int:
        """Posts whose latest revision the detectors could not (fully) review (each was alerted)."""
        columns = {str(r["name"]) for r in await self._fetchall("PRAGMA table_info(posts)")}
        if "review_error" not in columns:
            return 0  # a schema before migration 0004
        rows = await self._fetchall("SELECT COUNT(*) AS n FROM posts WHERE review_error IS NOT NULL")
        return int(rows[0]["n"])

    # -- sources, threads, posts -------------------------------------------------------------------------

    async def _source_id(self, conn: aiosqlite.Connection, source: SourceRef, now: float) -> int:
        row = await self._one(
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
            row = await self._one(
                conn,
                f"SELECT {_THREAD_COLS} FROM threads t JOIN sources s ON s.id = t.source_id"
                " WHERE s.kind = ? AND s.key = ? AND t.external_id = ?",
                (source.kind, source.key, thread_id),
            )
            if row is None:
                return ThreadSnapshot(None)
            thread = _thread_from(row)
            versions = await self._versions(conn, thread.source_id, ids)
        return ThreadSnapshot(thread, versions)

    async def _versions(
        self, conn: aiosqlite.Connection, source_id: int, ids: Sequence[str]
    ) -> dict[str, PostVersion]:
        versions: dict[str, PostVersion] = {}
        for chunk in _chunks(ids):
            for r in await self._rows(
                conn,
                f"SELECT id, external_id, content_hash, revision FROM posts"
                f" WHERE source_id = ? AND external_id IN ({_marks(len(chunk))})",
                (source_id, *chunk),
            ):
                versions[str(r["external_id"])] = PostVersion(
                    int(r["id"]), str(r["external_id"]), str(r["content_hash"]), int(r["revision"])
                )
        return versions

    async def thread_posts(self, thread_id: int) -> list[PostRecord]:
        """Every stored post of a thread (latest revisions) in the order they were first stored."""
        rows = await self._fetchall(
            f"SELECT {_POST_COLS} FROM posts p WHERE p.thread_id = ? ORDER BY p.id", (thread_id,)
        )
        return [_post_from(r) for r in rows]

    async def get_post(self, source: SourceRef, post_id: str) -> PostRecord | None:
        """A stored post by its source and the source's post id."""
        rows = await self._fetchall(
            f"SELECT {_POST_COLS} FROM posts p JOIN sources s ON s.id = p.source_id"
            " WHERE s.kind = ? AND s.key = ? AND p.external_id = ?",
            (source.kind, source.key, post_id),
        )
        return _post_from(rows[0]) if rows else None

    async def get_thread(self, thread_id: int) -> ThreadRecord:
        """A stored thread by id."""
        rows = await self._fetchall(f"SELECT {_THREAD_COLS} FROM threads t WHERE t.id = ?", (thread_id,))
        if not rows:
            raise RecordNotFoundError("thread", thread_id)
        return _thread_from(rows[0])

    async def add_posts(
        self, source: SourceRef, thread_id: str, title: str, posts: Sequence[Post], *, url: str | None = None
    ) -> RecordResult:
        """Store posts without reviewing them (no flags, no alerts); already stored content is left alone."""
        reviewed = [
            ReviewedPost(post=p, content_hash=post_content_hash(p), scores={}, flags=()) for p in posts
        ]
        return await self.record_reviews(source, thread_id, title, reviewed, url=url)

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
        async with self._transaction() as conn:
            source_id = await self._source_id(conn, source, now)
            row = await self._one(
                conn,
                "INSERT INTO threads (source_id, external_id, title, url, created_at, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (source_id, external_id) DO UPDATE SET title = excluded.title,"
                " url = COALESCE(excluded.url, threads.url)"
                " RETURNING id, version",
                (source_id, thread_id, title, url, now, now),
            )
            assert row is not None
            thread_row_id, previous_version = int(row["id"]), int(row["version"])

            latest: dict[str, ReviewedPost] = {}
            for review in reviews:  # one id twice in a batch: its last content wins
                latest.pop(review.post.id, None)
                latest[review.post.id] = review
            stored = await self._versions(conn, source_id, list(latest))

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

            if new:
                await conn.executemany(
                    "INSERT INTO posts (source_id, thread_id, external_id, author, author_id, position, url,"
                    " created_at, user_title, text, quotes, content_hash, revision, scores,"
                    " first_seen_at, reviewed_at, review_error)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?)",
                    [
                        (
                            source_id,
                            thread_row_id,
                            r.post.id,
                            r.post.author,
                            r.author_id,
                            r.post.position,
                            r.post.url,
                            r.post.created_at,
                            r.post.user_title,
                            r.post.text,
                            _quotes_json(r.post.quotes),
                            r.content_hash,
                            json.dumps(dict(r.scores)),
                            now,
                            now,
                            r.review_error,
                        )
                        for r in new
                    ],
                )
            if edited:
                await conn.executemany(
                    "INSERT OR IGNORE INTO post_revisions"
                    " (post_id, revision, text, quotes, content_hash, scores, reviewed_at, review_error)"
                    " SELECT id, revision, text, quotes, content_hash, scores, reviewed_at, review_error"
                    " FROM posts WHERE id = ?",
                    [(old.id,) for _, old in edited],
                )
                await conn.executemany(
                    "UPDATE posts SET author = ?, author_id = COALESCE(?, author_id), position ="
                    " COALESCE(?, position),"
                    " url = COALESCE(?, url), created_at = COALESCE(?, created_at), user_title = ?, text = ?,"
                    " quotes = ?, content_hash = ?, revision = revision + 1, scores = ?, reviewed_at = ?,"
                    " review_error = ? WHERE id = ?",
                    [
                        (
                            r.post.author,
                            r.author_id,
                            r.post.position,
                            r.post.url,
                            r.post.created_at,
                            r.post.user_title,
                            r.post.text,
                            _quotes_json(r.post.quotes),
                            r.content_hash,
                            json.dumps(dict(r.scores)),
                            now,
                            r.review_error,
                            old.id,
                        )
                        for r, old in edited
                    ],
                )
                await conn.executemany(
                    "UPDATE flags SET status = 'superseded' WHERE post_id = ? AND revision <= ?"
                    " AND status IN ('open', 'escalated')",
                    [(old.id, old.revision) for _, old in edited],
                )

            written: list[
                tuple[ReviewedPost, int, int, PostOutcome]
            ] = []  # review, post row id, revision, outcome
            if new:
                ids = await self._versions(conn, source_id, [r.post.id for r in new])
                written += [(r, ids[r.post.id].id, 1, "new") for r in new]
            written += [(r, old.id, old.revision + 1, "edited") for r, old in edited]

            # An alert for each post with an alerting flag, and for each the detectors could not review (never
            # silent). A post with only minor flags gets none: its flags are listed, not alerted.
            alerting = [(r, pid, rev) for r, pid, rev, _ in written if r.review_error or _alerts(r.flags)]
            alert_ids = await self._insert_alerts(conn, thread_row_id, alerting, now)
            flagged = [(r, pid, rev) for r, pid, rev, _ in written if r.flags]
            flag_ids = await self._insert_flags(conn, flagged, alert_ids, now)

            version = previous_version
            if written:
                bumped = await self._one(
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

    async def _insert_alerts(
        self,
        conn: aiosqlite.Connection,
        thread_row_id: int,
        posts: Sequence[tuple[ReviewedPost, int, int]],
        now: float,
    ) -> dict[int, int]:
        """Outbox rows for (review, post row id, revision); returns the alert id of each post row id."""
        alert_ids: dict[int, int] = {}
        if not posts:
            return alert_ids
        await conn.executemany(
            "INSERT INTO alerts (kind, thread_id, post_id, revision, status, next_try_at, created_at)"
            " VALUES ('post', ?, ?, ?, 'pending', ?, ?)",
            [(thread_row_id, pid, rev, now, now) for _, pid, rev in posts],
        )
        for chunk in _chunks([pid for _, pid, _ in posts]):
            for hit in await self._rows(
                conn,
                f"SELECT id, post_id FROM alerts WHERE post_id IN ({_marks(len(chunk))})"
                " AND revision = (SELECT revision FROM posts WHERE posts.id = alerts.post_id)",
                tuple(chunk),
            ):
                alert_ids[int(hit["post_id"])] = int(hit["id"])
        return alert_ids

    async def _insert_flags(
        self,
        conn: aiosqlite.Connection,
        posts: Sequence[tuple[ReviewedPost, int, int]],
        alert_ids: Mapping[int, int],
        now: float,
    ) -> dict[int, list[int]]:
        """The flags of (review, post row id, revision), each with its post's alert (None: listed only);
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
                    _evidence_to_json(flag.evidence),
                    flag.model_version,
                    now,
                    flag.severity,
                )
                for r, pid, rev in posts
                for flag in r.flags
            ],
        )
        for chunk in _chunks([pid for _, pid, _ in posts]):
            for hit in await self._rows(
                conn,
                "SELECT f.id, f.post_id FROM flags f JOIN posts p ON p.id = f.post_id"
                f" WHERE f.post_id IN ({_marks(len(chunk))}) AND f.revision = p.revision"
                " ORDER BY f.id",
                tuple(chunk),
            ):
                flag_ids.setdefault(int(hit["post_id"]), []).append(int(hit["id"]))
        return flag_ids

    # -- flags -------------------------------------------------------------------------------------------

    _DETAIL_FROM = (
        f"SELECT {_FLAG_COLS}, {_POST_COLS}, {_THREAD_COLS} FROM flags f"
        " JOIN posts p ON p.id = f.post_id JOIN threads t ON t.id = p.thread_id"
    )

    async def get_flag(self, flag_id: int) -> FlagDetail:
        """A flag with its post and thread."""
        rows = await self._fetchall(f"{self._DETAIL_FROM} WHERE f.id = ?", (flag_id,))
        if not rows:
            raise RecordNotFoundError("flag", flag_id)
        r = rows[0]
        return FlagDetail(_flag_from(r), _post_from(r), _thread_from(r))

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
        where = [f"f.status IN ({_marks(len(_OPEN_STATUSES))})"]
        params: list[Any] = list(_OPEN_STATUSES)
        if category is not None:
            where.append("f.category = ?")
            params.append(category)
        if thread is not None:
            where.append("(t.external_id = ? OR t.title LIKE ? ESCAPE '\\')")
            params += [thread, f"%{_like_escape(thread)}%"]
        if author is not None:
            where.append("p.author = ? COLLATE NOCASE")
            params.append(author)
        rows = await self._fetchall(
            f"{self._DETAIL_FROM} WHERE {' AND '.join(where)} ORDER BY f.id DESC LIMIT ? OFFSET ?",
            (*params, limit, offset),
        )
        return [FlagDetail(_flag_from(r), _post_from(r), _thread_from(r)) for r in rows]

    async def flags_of_post(self, post_id: int) -> list[FlagRecord]:
        """Every flag of a stored post, all revisions, oldest first."""
        rows = await self._fetchall(
            f"SELECT {_FLAG_COLS} FROM flags f WHERE f.post_id = ? ORDER BY f.id", (post_id,)
        )
        return [_flag_from(r) for r in rows]

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

    # -- decisions and audit -----------------------------------------------------------------------------

    async def _audit(
        self,
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
        row = await self._one(
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

    async def _decide(
        self,
        conn: aiosqlite.Connection,
        flag_id: int,
        verdict: Verdict,
        moderator_id: int | None,
        moderator_name: str | None,
        note: str | None,
        now: float,
    ) -> Decision:
        row = await self._one(conn, "SELECT status FROM flags WHERE id = ?", (flag_id,))
        if row is None:
            raise RecordNotFoundError("flag", flag_id)
        inserted = await self._one(
            conn,
            "INSERT INTO decisions (flag_id, moderator_id, moderator_name, verdict, note, decided_at)"
            " VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
            (flag_id, moderator_id, moderator_name, verdict, note, now),
        )
        assert inserted is not None
        await conn.execute("UPDATE flags SET status = ? WHERE id = ?", (_VERDICT_STATUS[verdict], flag_id))
        await self._audit(
            conn,
            f"decision.{verdict}",
            actor_id=moderator_id,
            actor_name=moderator_name,
            target_kind="flag",
            target_id=flag_id,
            details={"note": note, "previous_status": row["status"], "decision_id": int(inserted["id"])},
            now=now,
        )
        return Decision(int(inserted["id"]), flag_id, moderator_id, moderator_name, verdict, note, _dt(now))

    async def record_decision(
        self,
        flag_id: int,
        verdict: Verdict,
        *,
        moderator_id: int | None,
        moderator_name: str | None = None,
        note: str | None = None,
    ) -> Decision:
        """Store a verdict on a flag, update the flag's status and audit it, in one transaction."""
        if verdict not in VERDICTS:
            raise ValueError(f"verdict must be one of {VERDICTS}, got {verdict!r}")
        now = self.now()
        async with self._transaction() as conn:
            return await self._decide(conn, flag_id, verdict, moderator_id, moderator_name, note, now)

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
            if await self._one(conn, "SELECT 1 FROM alerts WHERE id = ?", (alert_id,)) is None:
                raise RecordNotFoundError("alert", alert_id)
            rows = await self._rows(
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
        return [_decision_from(r) for r in rows]

    async def author_history(self, author: str, *, limit: int = 50) -> AuthorHistory:
        """An author's flags (newest first, all statuses) and the decisions on them."""
        async with self._reading() as conn:
            posts = await self._one(
                conn, "SELECT COUNT(*) AS n FROM posts WHERE author = ? COLLATE NOCASE", (author,)
            )
            rows = await self._rows(
                conn,
                f"{self._DETAIL_FROM} WHERE p.author = ? COLLATE NOCASE ORDER BY f.id DESC LIMIT ?",
                (author, limit),
            )
            flags = tuple(FlagDetail(_flag_from(r), _post_from(r), _thread_from(r)) for r in rows)
            decisions: list[Decision] = []
            for chunk in _chunks([d.flag.id for d in flags]):
                decisions += [
                    _decision_from(r)
                    for r in await self._rows(
                        conn,
                        f"SELECT * FROM decisions WHERE flag_id IN ({_marks(len(chunk))}) ORDER BY id",
                        tuple(chunk),
                    )
                ]
        return AuthorHistory(author, int(posts["n"]) if posts else 0, flags, tuple(decisions))

    async def add_audit(
        self,
        action: str,
        *,
        actor_id: int | None = None,
        actor_name: str | None = None,
        target_kind: str | None = None,
        target_id: int | None = None,
        details: Mapping[str, Any] | None = None,
    ) -> int:
        """Append an entry to the audit log; returns its id."""
        now = self.now()
        async with self._transaction() as conn:
            return await self._audit(
                conn,
                action,
                actor_id=actor_id,
                actor_name=actor_name,
                target_kind=target_kind,
                target_id=target_id,
                details=details or {},
                now=now,
            )

    async def audit_log(self, *, limit: int = 100, action: str | None = None) -> list[AuditEntry]:
        """The newest audit entries, optionally those whose action starts with `action`."""
        where, params = "", []
        if action is not None:
            where, params = "WHERE action LIKE ? ESCAPE '\\'", [f"{_like_escape(action)}%"]
        rows = await self._fetchall(
            f"SELECT * FROM audit_log {where} ORDER BY id DESC LIMIT ?", (*params, limit)
        )
        return [
            AuditEntry(
                id=int(r["id"]),
                at=_dt(float(r["at"])),
                actor_id=_opt_int(r["actor_id"]),
                actor_name=_opt_str(r["actor_name"]),
                action=str(r["action"]),
                target_kind=_opt_str(r["target_kind"]),
                target_id=_opt_int(r["target_id"]),
                details=json.loads(r["details"]),
            )
            for r in rows
        ]

    async def change_setting(
        self, key: str, value: Any, *, actor_id: int | None, actor_name: str | None = None
    ) -> None:
        """Override a setting at run time (e.g. 'thresholds.inflammatory'); audited, in one transaction."""
        now = self.now()
        encoded = json.dumps(value)
        async with self._transaction() as conn:
            old = await self._one(conn, "SELECT value FROM setting_overrides WHERE key = ?", (key,))
            await conn.execute(
                "INSERT INTO setting_overrides (key, value, updated_at, updated_by) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at,"
                " updated_by = excluded.updated_by",
                (key, encoded, now, actor_id),
            )
            await self._audit(
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

    # -- the alert outbox --------------------------------------------------------------------------------

    async def get_alert(self, alert_id: int) -> AlertView:
        """An alert with its thread, source and flagged posts (a digest: its members)."""
        async with self._reading() as conn:
            return await self._alert_view(conn, alert_id, None)

    async def alert_by_message(self, message_id: int) -> AlertView | None:
        """The alert (or digest) that a Discord message shows."""
        async with self._reading() as conn:
            row = await self._one(
                conn,
                "SELECT id FROM alerts WHERE message_id = ? AND digest_id IS NULL ORDER BY id LIMIT 1",
                (message_id,),
            )
            return None if row is None else await self._alert_view(conn, int(row["id"]), None)

    async def _alert_view(self, conn: aiosqlite.Connection, alert_id: int, token: str | None) -> AlertView:
        row = await self._one(
            conn,
            f"SELECT {_ALERT_COLS}, {_THREAD_COLS}, {_SOURCE_COLS} FROM alerts a"
            " JOIN threads t ON t.id = a.thread_id JOIN sources s ON s.id = t.source_id WHERE a.id = ?",
            (alert_id,),
        )
        if row is None:
            raise RecordNotFoundError("alert", alert_id)
        alert = _alert_from(row)
        members = await self._rows(
            conn,
            f"SELECT a.id AS member_id, a.revision AS member_revision, {_POST_COLS}"
            " FROM alerts a JOIN posts p ON p.id = a.post_id"
            " WHERE a.id = ? OR a.digest_id = ? ORDER BY a.id",
            (alert_id, alert_id),
        )
        flags: dict[int, list[FlagRecord]] = {}
        member_ids = [int(m["member_id"]) for m in members]
        for chunk in _chunks(member_ids):
            for f in await self._rows(
                conn,
                f"SELECT {_FLAG_COLS} FROM flags f WHERE f.alert_id IN ({_marks(len(chunk))}) ORDER BY f.id",
                tuple(chunk),
            ):
                record = _flag_from(f)
                assert record.alert_id is not None
                flags.setdefault(record.alert_id, []).append(record)
        items = []
        for m in members:
            post = await self._at_revision(conn, _post_from(m), int(m["member_revision"]))
            items.append(AlertItem(int(m["member_id"]), post, tuple(flags.get(int(m["member_id"]), ()))))
        listed = await self._listed_minor(conn, alert) if alert.kind == "digest" else ()
        return AlertView(alert, _source_from(row), _thread_from(row), tuple(items), token, listed)

    async def _listed_minor(self, conn: aiosqlite.Connection, digest: AlertRecord) -> tuple[FlagDetail, ...]:
        """The open minor flags of a digest's thread that have no alert, flagged before the digest."""
        rows = await self._rows(
            conn,
            f"{self._DETAIL_FROM} WHERE t.id = ? AND f.alert_id IS NULL AND f.severity = 'minor'"
            f" AND f.status IN ({_marks(len(_OPEN_STATUSES))}) AND f.revision = p.revision"
            " AND f.created_at <= ? ORDER BY f.id LIMIT ?",
            (digest.thread_id, *_OPEN_STATUSES, digest.created_at.timestamp(), _LISTED_IN_DIGEST),
        )
        return tuple(FlagDetail(_flag_from(r), _post_from(r), _thread_from(r)) for r in rows)

    async def _at_revision(self, conn: aiosqlite.Connection, post: PostRecord, revision: int) -> PostRecord:
        if revision == post.revision:
            return post
        row = await self._one(
            conn, "SELECT * FROM post_revisions WHERE post_id = ? AND revision = ?", (post.id, revision)
        )
        if row is None:
            return post
        return replace(
            post,
            text=str(row["text"]),
            quotes=_quotes_from_json(json.loads(row["quotes"])),
            content_hash=str(row["content_hash"]),
            revision=revision,
            scores={str(k): float(v) for k, v in json.loads(row["scores"]).items()},
            reviewed_at=_dt(float(row["reviewed_at"])),
            review_error=_opt_str(row["review_error"]),
        )

    async def post_revision(self, post_id: int, revision: int) -> PostRecord:
        """A stored post as it read at `revision` (the latest revision, or an earlier one kept on edit)."""
        async with self._reading() as conn:
            row = await self._one(conn, f"SELECT {_POST_COLS} FROM posts p WHERE p.id = ?", (post_id,))
            if row is None:
                raise RecordNotFoundError("post", post_id)
            post = await self._at_revision(conn, _post_from(row), revision)
        if post.revision != revision:
            raise RecordNotFoundError("post revision", f"{post_id}/{revision}")
        return post

    async def pending_alerts(self, *, limit: int = 100) -> list[AlertRecord]:
        """Outbox rows not yet confirmed sent ('pending', 'sending'), oldest first."""
        rows = await self._fetchall(
            f"SELECT {_ALERT_COLS} FROM alerts a WHERE a.status IN ('pending', 'sending') ORDER BY a.id"
            " LIMIT ?",
            (limit,),
        )
        return [_alert_from(r) for r in rows]

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

        Burst folding, per thread over the sliding window `burst_window`: at most `burst_max` alerts go out
        one by one; when the fresh alerts would exceed that, all of them are folded into one digest, and at
        most one digest per window goes out: later fresh alerts wait for the window to pass and join the next
        digest.
        """
        now = self.now()
        token = uuid.uuid4().hex
        lease_until = now + lease_seconds
        async with self._transaction() as conn:
            due = await self._rows(
                conn,
                "SELECT id, kind, thread_id, status, attempts FROM alerts"
                " WHERE (status = 'pending' AND next_try_at <= ?)"
                " OR (status = 'sending' AND lease_until <= ?)"
                " ORDER BY next_try_at, id LIMIT ?",
                (now, now, limit),
            )
            units: list[int] = []
            fresh: dict[int, list[int]] = {}
            for r in due:
                if r["kind"] == "post" and r["status"] == "pending" and int(r["attempts"]) == 0:
                    fresh.setdefault(int(r["thread_id"]), []).append(int(r["id"]))
                else:
                    units.append(int(r["id"]))
            window_start = now - burst_window
            for thread_id, alert_ids in fresh.items():
                recent = await self._one(
                    conn,
                    "SELECT SUM(kind = 'post' AND digest_id IS NULL) AS singles,"
                    " MAX(CASE WHEN kind = 'digest' THEN claimed_at END) AS last_digest"
                    " FROM alerts WHERE thread_id = ? AND claimed_at > ?",
                    (thread_id, window_start),
                )
                singles = int(recent["singles"] or 0) if recent else 0
                last_digest = recent["last_digest"] if recent else None
                if singles + len(alert_ids) <= burst_max:
                    units += alert_ids
                elif last_digest is not None:
                    # A digest went out within the window: hold these for the next one.
                    await conn.execute(
                        f"UPDATE alerts SET next_try_at = ? WHERE id IN ({_marks(len(alert_ids))})",
                        (float(last_digest) + burst_window, *alert_ids),
                    )
                else:
                    digest = await self._one(
                        conn,
                        "INSERT INTO alerts (kind, thread_id, status, next_try_at, created_at)"
                        " VALUES ('digest', ?, 'pending', ?, ?) RETURNING id",
                        (thread_id, now, now),
                    )
                    assert digest is not None
                    digest_id = int(digest["id"])
                    await conn.execute(
                        f"UPDATE alerts SET status = 'folded', digest_id = ?, claimed_at = ?"
                        f" WHERE id IN ({_marks(len(alert_ids))})",
                        (digest_id, now, *alert_ids),
                    )
                    units.append(digest_id)
            for chunk in _chunks(units):
                await conn.execute(
                    "UPDATE alerts SET status = 'sending', attempts = attempts + 1, claimed_at ="
                    " COALESCE(claimed_at, ?),"
                    f" lease_until = ?, claim_token = ? WHERE id IN ({_marks(len(chunk))})",
                    (now, lease_until, token, *chunk),
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

    # -- watches -----------------------------------------------------------------------------------------

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
            row = await self._one(
                conn,
                "INSERT INTO watches (kind, target, interval_seconds, added_by, added_at)"
                " VALUES (?, ?, ?, ?, ?)"
                " ON CONFLICT (kind, target) DO UPDATE SET interval_seconds = excluded.interval_seconds,"
                " removed_at = NULL RETURNING *",
                (kind, target, interval_seconds, actor_id, now),
            )
            assert row is not None
            watch = _watch_from(row)
            await conn.execute("INSERT OR IGNORE INTO watch_state (watch_id) VALUES (?)", (watch.id,))
            await self._audit(
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
                await self._audit(
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
        return [_watch_from(r) for r in await self._fetchall(f"SELECT * FROM watches {where} ORDER BY id")]

    async def watch_state(self, watch_id: int) -> WatchState:
        """How far a watch has read (empty state for a fresh watch)."""
        rows = await self._fetchall("SELECT * FROM watch_state WHERE watch_id = ?", (watch_id,))
        if not rows:
            return WatchState(watch_id)
        r = rows[0]
        return WatchState(
            watch_id=watch_id,
            last_post_id=_opt_str(r["last_post_id"]),
            last_page_url=_opt_str(r["last_page_url"]),
            etag=_opt_str(r["etag"]),
            last_modified=_opt_str(r["last_modified"]),
            cursor=_opt_str(r["cursor"]),
            last_polled_at=_opt_dt(r["last_polled_at"]),
            last_success_at=_opt_dt(r["last_success_at"]),
            next_poll_at=_opt_dt(r["next_poll_at"]),
            consecutive_errors=int(r["consecutive_errors"]),
            last_error=_opt_str(r["last_error"]),
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

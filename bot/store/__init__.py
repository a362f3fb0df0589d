"""The store: everything reviewed, flagged, alerted and decided, in SQLite through aiosqlite.

`Store` holds all SQL; the rest of modassist calls its intent-named methods and gets frozen dataclasses
back (`bot.records`, re-exported here), so a PostgreSQL store can follow with the same methods. It is built
from one class per area, each over the one shared connection (`connection.Connection`: opening, WAL, busy
timeout, transactions, the error mapping of `integrity`):

    posts.py      sources, threads, posts; storing reviewed posts with their flags and alerts at once
    flags.py      flags as moderators see them
    decisions.py  verdicts and the audit log
    settings.py   settings changed at run time
    outbox.py     the alert outbox and its claim protocol (burst folding decided in folding.py, pure)
    watches.py    watched threads, channels and files, and how far each has read
    rows.py       column lists and row codecs
    integrity.py  whether a file may be used; SQLite's failures about the file as one-line errors
    backup.py     `modassist db backup`: a consistent, checked copy

The schema's migrations and their runner live in `bot.migrations`.
"""

from __future__ import annotations

from bot.migrations.runner import AppliedMigration, MigrationError, SchemaStatus, split_statements
from bot.records import (
    VERDICTS,
    AlertItem,
    AlertKind,
    AlertRecord,
    AlertStatus,
    AlertView,
    AuditEntry,
    AuthorHistory,
    CategoryStats,
    Decision,
    FlagDetail,
    FlagRecord,
    FlagStatus,
    PostOutcome,
    PostRecord,
    PostVersion,
    RecordedPost,
    RecordNotFoundError,
    RecordResult,
    ReviewedPost,
    SourceRecord,
    SourceRef,
    ThreadRecord,
    ThreadSnapshot,
    Verdict,
    Watch,
    WatchState,
)
from bot.store.connection import TABLES
from bot.store.decisions import Decisions
from bot.store.flags import Flags
from bot.store.outbox import Outbox
from bot.store.posts import Posts
from bot.store.rows import post_content_hash
from bot.store.settings import SettingOverrides
from bot.store.watches import Watches

__all__ = [
    "TABLES",
    "VERDICTS",
    "AlertItem",
    "AlertKind",
    "AlertRecord",
    "AlertStatus",
    "AlertView",
    "AppliedMigration",
    "AuditEntry",
    "AuthorHistory",
    "CategoryStats",
    "Decision",
    "FlagDetail",
    "FlagRecord",
    "FlagStatus",
    "MigrationError",
    "PostOutcome",
    "PostRecord",
    "PostVersion",
    "RecordNotFoundError",
    "RecordResult",
    "RecordedPost",
    "ReviewedPost",
    "SchemaStatus",
    "SourceRecord",
    "SourceRef",
    "Store",
    "ThreadRecord",
    "ThreadSnapshot",
    "Verdict",
    "Watch",
    "WatchState",
    "post_content_hash",
    "split_statements",
]


class Store(Posts, Flags, Decisions, SettingOverrides, Outbox, Watches):
    """modassist's persistent state over one aiosqlite connection. Open with `await Store.open(path)`."""

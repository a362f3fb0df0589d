"""The store's one connection: opening (WAL, busy timeout, foreign keys, the checks of
`bot.store.integrity`, migrations), transactions, and the database-wide questions (schema, integrity, rows).

Transactions: the connection runs in autocommit mode and every write that must be atomic is one explicit
`BEGIN IMMEDIATE ... COMMIT`, which takes the write lock up front (two writers wait for each other through the
busy timeout instead of failing on a lock upgrade). Within one process an `asyncio.Lock` keeps coroutines from
interleaving statements on the shared connection. SQLite's failures about the file (damaged, read-only, full)
become one-line `StoreError`s naming it (`refusing_unusable`).
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import threading
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import aiosqlite

from bot.migrations import runner
from bot.migrations.runner import Migration, SchemaStatus, load_migrations
from bot.store.integrity import check_database, integrity_problems, probe_write, refusing_unusable

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


async def fetch_rows(conn: aiosqlite.Connection, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
    """Every row of a query, on a connection the caller holds (inside a transaction or a read)."""
    return list(await conn.execute_fetchall(sql, params))


async def fetch_one(conn: aiosqlite.Connection, sql: str, params: Sequence[Any] = ()) -> sqlite3.Row | None:
    """The first row of a query, or None."""
    rows = list(await conn.execute_fetchall(sql, params))
    return rows[0] if rows else None


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


async def _connect(path: Path, busy_timeout: float) -> aiosqlite.Connection:
    """An aiosqlite connection in autocommit mode, whose worker thread is a daemon."""
    pending = aiosqlite.connect(path, isolation_level=None, timeout=busy_timeout)
    # aiosqlite's worker thread is not a daemon: a store left open (a crash, a failed test) would keep
    # the process from exiting. SQLite survives being stopped mid-transaction: let it be a daemon.
    worker = getattr(pending, "_thread", None)
    if isinstance(worker, threading.Thread) and not worker.is_alive():
        worker.daemon = True
    try:
        return await pending
    except BaseException:
        # A file SQLite cannot open: aiosqlite stops its worker without waiting for it, and the worker would
        # then answer into an event loop that may be closed by then. Wait until it has stopped.
        if isinstance(worker, threading.Thread) and worker.is_alive():
            await asyncio.to_thread(worker.join, 10.0)
        raise


class Connection:
    """One aiosqlite connection shared by every coroutine of a process; the areas of the store build on it."""

    def __init__(
        self,
        conn: aiosqlite.Connection,
        path: Path,
        *,
        migrations: Sequence[Migration] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """Wrap an open connection; use `open`, which also configures and migrates it."""
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
    ) -> Self:
        """Open (or create) the database at `path` with WAL, busy timeout and foreign keys; migrate it.
        A damaged database, one of a newer schema, or one that cannot be written raises a `StoreError`."""
        path = Path(path)
        # A damaged, read-only or full file is refused in one line naming it (bot.store.integrity).
        with refusing_unusable(path):
            conn = await _connect(path, busy_timeout)
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
            return await fetch_rows(conn, sql, params)

    # -- the schema and the file -----------------------------------------------------------------------

    async def migrate(self, *, target: int | None = None) -> tuple[Migration, ...]:
        """Apply pending migrations up to `target` (default: all), each in one transaction; return them.

        A failing migration is rolled back whole and raises `MigrationError`; the version stays where it was.
        """
        async with self._reading() as conn:
            await runner.ensure_migration_table(conn)
        return await runner.migrate(self._transaction, self._migrations, now=self.now, target=target)

    async def schema_status(self) -> SchemaStatus:
        """The recorded schema version, the migrations applied and pending, and any edited since."""
        async with self._reading() as conn:
            await runner.ensure_migration_table(conn)
            applied = await runner.applied_migrations(conn)
        return runner.schema_status(applied, self._migrations)

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
                rows = await self._fetchall(f"SELECT COUNT(*) AS n FROM {table}")  # names from TABLES only
                counts[table] = int(rows[0]["n"])
        return counts

    async def unreviewable_posts(self) -> int:
        """Posts whose latest revision the detectors could not (fully) review (each was alerted)."""
        columns = {str(r["name"]) for r in await self._fetchall("PRAGMA table_info(posts)")}
        if "review_error" not in columns:
            return 0  # a schema before migration 0004
        rows = await self._fetchall("SELECT COUNT(*) AS n FROM posts WHERE review_error IS NOT NULL")
        return int(rows[0]["n"])

"""Whether a database file may be used, and SQLite's failures about the file in words a user can act on.

`check_database` runs when `Store.open` opens a file, before anything is written to it: SQLite's `quick_check`
(every page's structure; it reads the whole file, but does not cross-check indexes against their tables) and
the recorded schema version against the newest migration this modassist knows. `integrity_problems(...,
full=True)` is the full check `modassist db status` runs.

`refusing_unusable(path)` turns SQLite errors about the file (corruption, a read-only file or directory, a
full disk, an I/O error) into one-line `StoreError`s naming the file and what to do. Other errors (a lock held
too long, a mistake in our SQL) pass unchanged: they are not the user's to fix.
"""

from __future__ import annotations

import contextlib
import shutil
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import aiosqlite

from bot.errors import (
    DatabaseCorruptError,
    DatabaseUnwritableError,
    SchemaTooNewError,
    StoreError,
)
from bot.migrations import Migration

# At most this many problems are listed by a check; the first is shown, the rest counted.
MAX_PROBLEMS = 10
# An I/O error with less free space than this on the file's disk is reported as a full disk: SQLite says
# "disk I/O error", not "disk is full", when it cannot grow its shared-memory file.
_LOW_SPACE_BYTES = 1 << 20


def problems_from(rows: Sequence[Sequence[object]]) -> list[str]:
    """The problems in the rows of `PRAGMA quick_check` or `integrity_check`; empty when the file is sound."""
    found = [str(row[0]) for row in rows]
    return [] if found == ["ok"] else found


def describe(problems: Sequence[str]) -> str:
    """The first problem on one line, and how many more there are."""
    lines = [
        line.strip()
        for problem in problems
        for line in problem.splitlines()
        if line.strip() and not line.startswith("***")  # "*** in database main ***" only says where
    ]
    if not lines:
        return "SQLite's integrity check failed"
    more = len(lines) - 1
    return lines[0] if not more else f"{lines[0]}; {more} more problem{'s' if more > 1 else ''}"


async def integrity_problems(conn: aiosqlite.Connection, *, full: bool = False) -> list[str]:
    """SQLite's `quick_check`, or with `full` its `integrity_check` (indexes against tables too)."""
    pragma = "integrity_check" if full else "quick_check"
    return problems_from(list(await conn.execute_fetchall(f"PRAGMA {pragma}({MAX_PROBLEMS})")))


async def recorded_version(conn: aiosqlite.Connection) -> int:
    """The highest migration recorded in the database (0 for a new or foreign file)."""
    table = await conn.execute_fetchall(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'"
    )
    if not list(table):
        return 0
    rows = list(await conn.execute_fetchall("SELECT COALESCE(MAX(version), 0) FROM schema_migrations"))
    return int(rows[0][0])


async def check_database(conn: aiosqlite.Connection, path: Path, migrations: Sequence[Migration]) -> None:
    """Refuse a damaged database, or one written by a newer modassist, before anything is written to it."""
    problems = await integrity_problems(conn)
    if problems:
        raise DatabaseCorruptError(str(path), describe(problems))
    # The newest version comes from the shipped migrations, so a new migration moves it without an edit here.
    newest = max((m.version for m in migrations), default=0)
    version = await recorded_version(conn)
    if version > newest:
        raise SchemaTooNewError(str(path), version, newest)


async def probe_write(conn: aiosqlite.Connection) -> None:
    """Write to the file in a transaction that is rolled back at once: on a read-only file or directory this
    fails now, as the first real write would later. (It cannot tell whether the disk has room.)"""
    await conn.execute("BEGIN IMMEDIATE")
    try:
        rows = list(await conn.execute_fetchall("PRAGMA user_version"))
        # Setting the header's user version, to the value it has, makes SQLite write its first page.
        await conn.execute(f"PRAGMA user_version = {int(rows[0][0])}")
    finally:
        # Some failures end the transaction themselves; then there is nothing left to roll back.
        with contextlib.suppress(sqlite3.OperationalError):
            await conn.execute("ROLLBACK")


def _free_bytes(path: Path) -> int | None:
    try:
        return shutil.disk_usage(path.absolute().parent).free
    except OSError:
        return None


def unusable(path: Path, exc: BaseException) -> StoreError | None:
    """The one-line error for an SQLite failure about the file at `path` (or behind a failed migration);
    None when the failure is something else."""
    if isinstance(exc, DatabaseCorruptError | SchemaTooNewError | DatabaseUnwritableError):
        return None
    cause = exc if isinstance(exc, sqlite3.Error) else exc.__cause__
    if not isinstance(cause, sqlite3.Error):
        return None
    name = str(getattr(cause, "sqlite_errorname", "") or "")
    message = str(cause)
    where = str(path)
    if name.startswith("SQLITE_NOTADB"):
        return DatabaseCorruptError(where, message, not_a_database=True)
    if name.startswith("SQLITE_CORRUPT") or "malformed" in message:
        return DatabaseCorruptError(where, message)
    if name.startswith(("SQLITE_READONLY", "SQLITE_PERM")) or "readonly" in message:
        return DatabaseUnwritableError(
            where,
            f"cannot write to it ({message})",
            f"make the file and its directory writable for this user (SQLite also writes {path.name}-wal and"
            f" {path.name}-shm beside it), or use another database file",
        )
    full = name.startswith("SQLITE_FULL")
    if name.startswith("SQLITE_IOERR") or "I/O error" in message:
        free = _free_bytes(path)
        if free is None or free >= _LOW_SPACE_BYTES:
            return DatabaseUnwritableError(
                where,
                f"reading or writing it failed ({message}, {name or 'SQLITE_IOERR'})",
                "check the disk, its free space and this user's file size limit (ulimit -f), then try again",
            )
        full, message = True, f"{message}, {free} bytes free"
    if full:
        return DatabaseUnwritableError(
            where,
            f"the disk is full ({message})",
            f"free space on the disk holding {path.absolute().parent}, or use a database file on another"
            " disk",
        )
    if name.startswith("SQLITE_BUSY") or "database is locked" in message:
        return DatabaseUnwritableError(
            where,
            f"another process holds it locked ({message})",
            "try again when it is done, or give it longer with store.busy_timeout_seconds"
            " (MODASSIST_STORE__BUSY_TIMEOUT_SECONDS)",
        )
    if name.startswith("SQLITE_CANTOPEN"):
        return DatabaseUnwritableError(
            where,
            f"cannot open it ({message})",
            f"check that its directory exists and that this user may read and write there (SQLite also"
            f" creates {path.name}-wal and {path.name}-shm beside it)",
        )
    return None


@contextmanager
def refusing_unusable(path: Path) -> Iterator[None]:
    """Within the block, SQLite failures about the file at `path` become one-line `StoreError`s."""
    try:
        yield
    except (sqlite3.Error, StoreError) as exc:
        error = unusable(path, exc)
        if error is None:
            raise
        raise error from exc

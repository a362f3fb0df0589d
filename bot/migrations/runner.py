"""The migration runner: the numbered SQL files beside it, applied in order, each in one transaction, and
recorded in the database (`schema_migrations`) with a checksum, so an edited migration is noticed.

It knows nothing of the store: it is handed an open aiosqlite connection, or a callable that opens one
write transaction (`bot.store.connection.Connection` passes its own).
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources

import aiosqlite

from bot.errors import StoreError

_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")

Transaction = Callable[[], AbstractAsyncContextManager[aiosqlite.Connection]]


@dataclass(frozen=True, slots=True)
class Migration:
    """One schema step: its version number, name and SQL script."""

    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        """sha256 of the script, recorded when applied so an edited migration is noticed."""
        return hashlib.sha256(self.sql.encode("utf-8")).hexdigest()


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


def load_migrations() -> tuple[Migration, ...]:
    """The shipped migrations in version order; versions must run 1, 2, 3, ... without gaps."""
    found = []
    for entry in resources.files(__package__).iterdir():
        match = _NAME.match(entry.name)
        if match:
            found.append(Migration(int(match[1]), match[2], entry.read_text(encoding="utf-8")))
    found.sort(key=lambda m: m.version)
    for expected, migration in enumerate(found, start=1):
        if migration.version != expected:
            raise RuntimeError(
                f"migration {migration.version:04d}_{migration.name} found where {expected} was due"
            )
    return tuple(found)


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


async def ensure_migration_table(conn: aiosqlite.Connection) -> None:
    """Create `schema_migrations` if the database has none yet."""
    await conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " version INTEGER PRIMARY KEY, name TEXT NOT NULL, checksum TEXT NOT NULL,"
        " applied_at REAL NOT NULL)"
    )


async def applied_migrations(conn: aiosqlite.Connection) -> list[AppliedMigration]:
    """The migrations recorded in the database, in version order."""
    rows = await conn.execute_fetchall(
        "SELECT version, name, checksum, applied_at FROM schema_migrations ORDER BY version"
    )
    return [
        AppliedMigration(
            int(r["version"]),
            str(r["name"]),
            str(r["checksum"]),
            datetime.fromtimestamp(float(r["applied_at"]), UTC),
        )
        for r in rows
    ]


def schema_status(applied: Sequence[AppliedMigration], migrations: Sequence[Migration]) -> SchemaStatus:
    """The recorded version, the migrations pending, and the applied ones whose script has changed."""
    done = {a.version: a for a in applied}
    return SchemaStatus(
        version=max(done, default=0),
        latest=max((m.version for m in migrations), default=0),
        applied=tuple(applied),
        pending=tuple(m for m in migrations if m.version not in done),
        modified=tuple(
            m.version for m in migrations if m.version in done and done[m.version].checksum != m.checksum
        ),
    )


async def migrate(
    transaction: Transaction,
    migrations: Sequence[Migration],
    *,
    now: Callable[[], float],
    target: int | None = None,
) -> tuple[Migration, ...]:
    """Apply pending migrations up to `target` (default: all), each in one `transaction()`; return them.

    A failing migration is rolled back whole and raises `MigrationError`; the version stays where it was.
    The migration table must exist (`ensure_migration_table`).
    """
    applied: list[Migration] = []
    for migration in migrations:
        if target is not None and migration.version > target:
            break
        statements = split_statements(migration.sql)
        async with transaction() as conn:
            # Checked inside the write transaction: two processes starting together apply each step once.
            done = list(
                await conn.execute_fetchall(
                    "SELECT 1 FROM schema_migrations WHERE version = ?", (migration.version,)
                )
            )
            if done:
                continue
            current = list(
                await conn.execute_fetchall("SELECT COALESCE(MAX(version), 0) FROM schema_migrations")
            )
            version = int(current[0][0]) if current else 0
            try:
                for statement in statements:
                    await conn.execute(statement)
                await conn.execute(
                    "INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES (?, ?, ?, ?)",
                    (migration.version, migration.name, migration.checksum, now()),
                )
            except sqlite3.Error as exc:
                raise MigrationError(migration, version, exc) from exc
        applied.append(migration)
    return tuple(applied)

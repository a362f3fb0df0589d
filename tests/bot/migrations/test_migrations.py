"""Migrations: numbered, recorded in the database, each applied in one transaction; a blank database, an
upgrade from the first schema, and a failing migration that leaves the version unchanged."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from bot.migrations import Migration, load_migrations
from bot.store import MigrationError, SourceRef, Store, split_statements

SOURCE = SourceRef("web", "https://forum.test")


def _tables(path: Path) -> set[str]:
    db = sqlite3.connect(path)
    try:
        return {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    finally:
        db.close()


def test_shipped_migrations_are_numbered_from_one_without_gaps() -> None:
    migrations = load_migrations()
    assert [m.version for m in migrations] == list(range(1, len(migrations) + 1))
    assert migrations[0].name == "initial"
    assert all(split_statements(m.sql) for m in migrations)


async def test_a_blank_database_is_migrated_to_the_latest_version(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "new.db")
    status = await store.schema_status()
    latest = len(load_migrations())
    assert status.version == status.latest == latest and status.pending == () and status.modified == ()
    assert [a.version for a in status.applied] == list(range(1, latest + 1))
    assert await store.migrate() == ()  # nothing left to do
    counts = await store.row_counts()
    await store.close()
    assert set(counts) == {
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
    }
    assert set(counts.values()) == {0}


async def test_an_upgrade_from_the_first_schema_keeps_the_data(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    first = load_migrations()[:1]
    old = await Store.open(path, migrations=first)
    assert (await old.schema_status()).version == 1
    await old.close()
    # Rows as the first schema holds them (today's store writes columns of later migrations).
    db = sqlite3.connect(path)
    with db:
        db.execute("INSERT INTO sources (id, kind, key, created_at) VALUES (1, 'test', 'here', 0)")
        db.execute(
            "INSERT INTO threads (id, source_id, external_id, title, created_at, updated_at)"
            " VALUES (1, 1, 't1', 'T', 0, 0)"
        )
        db.execute(
            "INSERT INTO posts (id, source_id, thread_id, external_id, author, text, content_hash,"
            " first_seen_at, reviewed_at) VALUES (1, 1, 1, 'p1', 'Bob', 'you idiot', 'h', 0, 0)"
        )
        db.execute(
            "INSERT INTO alerts (id, kind, thread_id, post_id, revision, next_try_at, created_at)"
            " VALUES (1, 'post', 1, 1, 1, 0, 0)"
        )
        db.execute(
            "INSERT INTO flags (post_id, revision, alert_id, category, score, threshold, reasons, evidence,"
            " created_at) VALUES (1, 1, 1, 'inflammatory', 0.9, 0.6, '[\"insult\"]', '[]', 0)"
        )
    db.close()
    assert "decisions" not in _tables(path)

    pending = await Store.open(path, migrate=False)
    status = await pending.schema_status()
    assert status.version == 1 and [m.version for m in status.pending] == list(range(2, status.latest + 1))
    await pending.close()

    store = await Store.open(path)
    assert (await store.schema_status()).pending == ()
    [detail] = await store.open_flags()
    assert detail.post.text == "you idiot" and detail.flag.reasons == ("insult",)
    assert detail.flag.severity == "alert"  # flags stored before 0005_flag_severity are alerts
    await store.record_decision(detail.flag.id, "confirm", moderator_id=1)  # a table of a later migration
    assert (await store.get_flag(detail.flag.id)).flag.status == "confirmed"
    await store.close()


async def test_a_failed_migration_is_rolled_back_whole_and_the_version_stays(tmp_path: Path) -> None:
    path = tmp_path / "fail.db"
    shipped = load_migrations()
    broken = Migration(
        len(shipped) + 1,
        "broken",
        "CREATE TABLE half_done (id INTEGER PRIMARY KEY);\n"
        "ALTER TABLE posts ADD COLUMN mood TEXT;\n"
        "INSERT INTO no_such_table VALUES (1);\n",
    )
    with pytest.raises(MigrationError) as failure:
        await Store.open(path, migrations=[*shipped, broken])
    assert failure.value.version == len(shipped) and failure.value.migration is broken
    assert "half_done" not in _tables(path)
    db = sqlite3.connect(path)
    columns = {r[1] for r in db.execute("PRAGMA table_info(posts)")}
    versions = [r[0] for r in db.execute("SELECT version FROM schema_migrations ORDER BY version")]
    db.close()
    assert "mood" not in columns
    assert versions == list(range(1, len(shipped) + 1))
    # The shipped schema still opens and works.
    store = await Store.open(path)
    assert (await store.schema_status()).version == len(shipped)
    await store.close()


async def test_an_edited_migration_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "edited.db"
    await (await Store.open(path)).close()
    shipped = load_migrations()
    changed = Migration(1, shipped[0].name, shipped[0].sql + "\n-- edited\n")
    store = await Store.open(path, migrations=[changed, *shipped[1:]], migrate=False)
    assert (await store.schema_status()).modified == (1,)
    await store.close()


@pytest.mark.parametrize("attempt", range(5))
async def test_several_connections_starting_together_apply_each_migration_once(
    tmp_path: Path, attempt: int
) -> None:
    # A fresh file: the switch to WAL and the first migration race; nobody may fail with "database is locked".
    path = tmp_path / f"race{attempt}.db"
    stores = await asyncio.gather(*(Store.open(path) for _ in range(4)))
    statuses = [await s.schema_status() for s in stores]
    for s in stores:
        await s.close()
    latest = len(load_migrations())
    assert {s.version for s in statuses} == {latest}
    db = sqlite3.connect(path)
    try:
        applied = db.execute("SELECT COUNT(*), COUNT(DISTINCT version) FROM schema_migrations").fetchone()
        assert applied == (latest, latest)
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        db.close()


def test_statements_split_on_complete_sql_only() -> None:
    script = (
        "-- a comment; with a semicolon\n"
        "CREATE TABLE a (x TEXT DEFAULT ';');\n"
        "CREATE TRIGGER t AFTER INSERT ON a BEGIN\n"
        "  UPDATE a SET x = 'y';\n"
        "END;\n"
        "-- trailing comment\n"
    )
    statements = split_statements(script)
    assert (
        len(statements) == 2 and statements[1].startswith("CREATE TRIGGER") and statements[1].endswith("END;")
    )
    with pytest.raises(ValueError, match="incomplete"):
        split_statements("CREATE TABLE b (x TEXT)")

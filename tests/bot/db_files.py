"""Real database files in the states the integrity tests need: populated, damaged, of a newer schema."""

from __future__ import annotations

import asyncio
import hashlib
import json
import random
import shutil
import sqlite3
from pathlib import Path

from bot.migrations import load_migrations
from bot.service import ModerationService
from bot.store import Store
from tests.bot.store_doubles import make_forum, make_suite

# Each command that opens the store, run in the directory of `modassist.db` (the default database).
STORE_COMMANDS: dict[str, tuple[str, ...]] = {
    "db status": ("db", "status"),
    "db migrate": ("db", "migrate"),
    "flags": ("flags",),
    "scan --db": ("scan", "new.jsonl", "--db", "modassist.db"),
    "db backup": ("db", "backup", "copy.db"),
    "run": ("run",),
}


def copy_of(migrated: Path, path: Path) -> Path:
    """`path`, made a copy of `migrated` (the `migrated_database` fixture's file: a new, empty store)."""
    shutil.copyfile(migrated, path)
    return path


def populate(path: Path, *, posts: int = 300, threads: int = 10, seed: int = 1) -> None:
    """Review a generated forum into the store at `path` with the real service (flags and alerts too)."""

    async def go() -> None:
        store = await Store.open(path)
        try:
            await ModerationService(store, make_suite()).review_many(make_forum(posts, threads, seed))
        finally:
            await store.close()

    asyncio.run(go())


def migrate_to(path: Path, version: int) -> None:
    """A database of an older modassist: the migrations up to `version` only."""

    async def go() -> None:
        store = await Store.open(path, migrate=False)
        try:
            await store.migrate(target=version)
        finally:
            await store.close()

    asyncio.run(go())


def corrupt(path: Path, *, size: int = 3000, seed: int = 13) -> None:
    """Write `size` random bytes into the middle of the file, as a failing disk or a stray write would."""
    where = path.stat().st_size // 2
    with path.open("r+b") as f:
        f.seek(where)
        f.write(random.Random(seed).randbytes(size))
    conn = sqlite3.connect(path)
    try:
        found = conn.execute("PRAGMA quick_check").fetchall()
    except sqlite3.DatabaseError:
        found = [("malformed",)]
    finally:
        conn.close()
    assert found != [("ok",)], "the damage missed every page SQLite checks; pick another seed"


def record_newer_schema(path: Path) -> int:
    """Record in the database a schema version above every migration this modassist knows; return it."""
    newer = max(m.version for m in load_migrations()) + 1
    conn = sqlite3.connect(path)
    with conn:
        conn.execute(
            "INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES (?, ?, ?, ?)",
            (newer, "from_the_future", "0" * 64, 0.0),
        )
    conn.close()
    return newer


def digest(path: Path) -> str:
    """sha256 of the file's bytes (and of its WAL, if one was left), to show nothing was written."""
    h = hashlib.sha256(path.read_bytes())
    wal = path.with_name(path.name + "-wal")
    if wal.exists():
        h.update(wal.read_bytes())
    return h.hexdigest()


def write_posts(path: Path, n: int, *, words: int = 12, thread: str = "fresh") -> Path:
    """A JSON Lines thread of `n` new posts (`words` words each) for `scan --db` to store."""
    rng = random.Random(n)
    lines = []
    for i in range(n):
        text = " ".join(f"harbour{rng.randrange(5000)}" for _ in range(words))
        record = {"id": f"{thread}-{i}", "thread_id": thread, "thread_title": "Harbour ferry", "text": text}
        lines.append(json.dumps({**record, "author": f"author{i % 7}"}))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def counts(path: Path) -> dict[str, int]:
    """Rows of the main tables, read with plain sqlite3."""
    conn = sqlite3.connect(path)
    try:
        return {
            table: int(conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])
            for table in ("posts", "flags", "alerts", "schema_migrations")
        }
    finally:
        conn.close()


def one_line_error(stderr: str) -> str:
    """The error line, after checking it is all there is: no traceback, no log of one."""
    assert "Traceback" not in stderr, stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("modassist: error: "), stderr
    return lines[0]

"""A damaged database, or one written by a newer modassist, is refused by every command that opens the store,
in one line naming the file and what to do (exit status 2), untouched; `db backup` makes consistent copies.

Everything runs through the `modassist` command line (`bot.cli.main`, in this process), on real SQLite files;
`db backup` copies while another connection writes.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.service import ModerationService
from bot.store import Store
from classifiers.thread import Post, Thread
from tests.bot.cli_runner import run_cli
from tests.bot.db_files import (
    STORE_COMMANDS,
    copy_of,
    corrupt,
    counts,
    digest,
    one_line_error,
    populate,
    record_newer_schema,
    write_posts,
)
from tests.bot.store_doubles import make_suite


@pytest.fixture(scope="module")
def populated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One database of 300 reviewed posts for the module; each test damages a copy of it."""
    db = tmp_path_factory.mktemp("populated") / "modassist.db"
    populate(db)
    assert not db.with_name(db.name + "-wal").exists()  # closed whole: the file is the database
    return db


@pytest.fixture
def damaged(tmp_path: Path, populated: Path) -> Path:
    db = copy_of(populated, tmp_path / "modassist.db")
    corrupt(db)
    write_posts(tmp_path / "new.jsonl", 3)
    return db


@pytest.mark.parametrize("command", STORE_COMMANDS)
def test_every_command_refuses_a_corrupted_database_in_one_line_and_writes_nothing(
    damaged: Path, command: str
) -> None:
    before = digest(damaged)
    result = run_cli(*STORE_COMMANDS[command], cwd=damaged.parent)
    line = one_line_error(result.stderr)
    assert result.returncode == 2
    assert line.startswith("modassist: error: modassist.db: the database is corrupted (")
    assert "restore it from a backup" in line
    assert digest(damaged) == before  # scan --db did not write into it
    assert result.stdout == ""  # run printed no alert
    assert not (damaged.parent / "copy.db").exists()


def test_a_file_that_is_no_database_is_refused_as_such(tmp_path: Path) -> None:
    notes = tmp_path / "notes.db"
    notes.write_text("shopping list: rope, tar, a bigger boat\n" * 200, encoding="utf-8")
    result = run_cli("flags", "--db", str(notes))
    line = one_line_error(result.stderr)
    assert result.returncode == 2
    assert f"{notes}: not an SQLite database (file is not a database)" in line


def test_db_status_runs_the_full_integrity_check(tmp_path: Path) -> None:
    """An index that disagrees with its table passes SQLite's quick check (run at every open) but not the
    full check `db status` runs."""
    db = tmp_path / "modassist.db"
    populate(db, posts=40)
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA writable_schema = ON")
    index = conn.execute("SELECT * FROM sqlite_master WHERE name = 'posts_author'").fetchone()
    conn.execute("DELETE FROM sqlite_master WHERE name = 'posts_author'")
    conn.close()
    conn = sqlite3.connect(db, isolation_level=None)  # a connection that does not know the index
    conn.execute("UPDATE posts SET author = author || '-renamed'")
    conn.execute("PRAGMA writable_schema = ON")
    conn.execute("INSERT INTO sqlite_master VALUES (?, ?, ?, ?, ?)", index)
    conn.close()

    assert run_cli("flags", "--db", str(db)).returncode == 0  # the quick check does not see it
    result = run_cli("db", "status", "--db", str(db))
    line = one_line_error(result.stderr)
    assert result.returncode == 2
    assert f"{db}: the database is corrupted (row 1 missing from index posts_author; " in line


@pytest.mark.parametrize("command", STORE_COMMANDS)
def test_a_database_of_a_newer_schema_is_refused_untouched(tmp_path: Path, command: str) -> None:
    db = tmp_path / "modassist.db"
    populate(db, posts=20)
    newer = record_newer_schema(db)
    write_posts(tmp_path / "new.jsonl", 3)
    before, rows = digest(db), counts(db)

    result = run_cli(*STORE_COMMANDS[command], cwd=tmp_path)

    if command == "db backup":  # a copy harms nothing: it is made, and is as new as its source
        assert result.returncode == 0, result.stderr
        assert counts(tmp_path / "copy.db") == rows
        return
    line = one_line_error(result.stderr)
    assert result.returncode == 2
    assert line == (
        f"modassist: error: modassist.db: schema version {newer}, but this modassist knows versions up to"
        f" {newer - 1}: the file was written by a newer modassist; upgrade modassist or use another database"
        " file"
    )
    assert digest(db) == before and counts(db) == rows


def _writer(db: Path, stop: threading.Event, written: list[int], failed: list[BaseException]) -> None:
    """Another connection writing while the backup runs: threads of three posts, each in one transaction."""

    async def go() -> None:
        store = await Store.open(db)
        service = ModerationService(store, make_suite())
        try:
            while not stop.is_set():
                n = len(written)
                posts = tuple(
                    Post(f"w{n}-{i}", f"post {i} of thread {n}" + (" idiot" * (i == 1)), position=i + 1)
                    for i in range(3)
                )
                await service.review(Thread(f"w{n}", f"Writer thread {n}", posts))
                written.append(n)
        finally:
            await store.close()

    try:
        asyncio.run(go())
    except BaseException as exc:
        failed.append(exc)


def _wait_until(check: Callable[[], bool], failed: list[BaseException], seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert not failed, failed
        assert time.monotonic() < deadline, "the writer did not get on"
        time.sleep(0.01)


def _threads(db: Path) -> dict[str, tuple[int, int, int]]:
    """Per writer thread: its posts, flags and post alerts."""
    conn = sqlite3.connect(db)
    try:
        rows = conn.execute(
            "SELECT t.external_id, COUNT(DISTINCT p.id), COUNT(DISTINCT f.id), COUNT(DISTINCT a.id)"
            " FROM threads t JOIN posts p ON p.thread_id = t.id LEFT JOIN flags f ON f.post_id = p.id"
            " LEFT JOIN alerts a ON a.post_id = p.id WHERE t.external_id LIKE 'w%' GROUP BY t.id"
        ).fetchall()
    finally:
        conn.close()
    return {str(r[0]): (int(r[1]), int(r[2]), int(r[3])) for r in rows}


def test_backup_is_a_consistent_openable_copy_made_while_another_connection_writes(tmp_path: Path) -> None:
    db, copy = tmp_path / "live.db", tmp_path / "copy.db"
    populate(db, posts=200)
    stop, written, failed = threading.Event(), list[int](), list[BaseException]()
    writer = threading.Thread(target=_writer, args=(db, stop, written, failed), daemon=True)
    writer.start()
    try:
        _wait_until(lambda: len(written) >= 5, failed)
        at_start = len(written)
        result = run_cli("db", "backup", str(copy), "--db", str(db))
        at_end = len(written)
        _wait_until(lambda: len(written) > at_end + 5, failed)  # the writer goes on after the backup
    finally:
        stop.set()
        writer.join(timeout=60)
    assert not failed, failed
    assert result.returncode == 0, result.stderr
    assert f"backed up to {copy}" in result.stdout and "checked" in result.stdout

    conn = sqlite3.connect(copy)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    finally:
        conn.close()
    # One snapshot: the threads written before the backup began are in it, each thread in it is whole (as
    # in the live database), and the threads written after it ended are not.
    in_copy, live = _threads(copy), _threads(db)
    assert at_start <= len(in_copy) <= at_end < len(live)
    assert in_copy == {key: live[key] for key in in_copy}
    assert set(in_copy) == {f"w{n}" for n in range(len(in_copy))}
    # modassist itself opens the copy: it passes the full check and lists its flags.
    status = run_cli("db", "status", "--db", str(copy))
    assert status.returncode == 0, status.stderr
    assert run_cli("flags", "--db", str(copy), "--limit", "1000").returncode == 0


def test_backup_never_overwrites_a_file(tmp_path: Path) -> None:
    db = tmp_path / "live.db"
    populate(db, posts=20)
    existing = tmp_path / "precious.db"
    existing.write_bytes(b"not to be lost")
    result = run_cli("db", "backup", str(existing), "--db", str(db))
    line = one_line_error(result.stderr)
    assert result.returncode == 1
    assert f"{existing} exists: a backup never overwrites a file" in line
    assert existing.read_bytes() == b"not to be lost"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["live.db", "precious.db"]

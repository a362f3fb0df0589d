"""Faults under `modassist run` as a real process following a JSON Lines file: nothing is lost (issue 13).

- the database write lock held by another process past the busy timeout;
- the disk holding the database full (a small tmpfs; where mounting is not allowed, a file-size limit);
- a detector raising on a post.

In each, posts are appended while the fault lasts; the watcher must not move past them, and once the fault
clears (or the process restarts) every post is stored exactly once.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import signal
import sqlite3
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.bot.cli_runner import run_cli
from tests.bot.watch_doubles import eventually
from tests.e2e.processes import ForkedWithOutput, fork_worker, run_env


class RunProcess:
    """`modassist run` (a worker module of the tests, forked) with its output collected in the background."""

    def __init__(self, process: ForkedWithOutput) -> None:
        self.process = process
        self.output = ""
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self.process.stdout is not None
        while line := await self.process.stdout.readline():
            self.output += line.decode(errors="replace")

    @property
    def alive(self) -> bool:
        """Still running."""
        return self.process.returncode is None

    async def stop(self) -> str:
        """SIGTERM, exit status 0; returns stdout and stderr."""
        if self.alive:
            self.process.send_signal(signal.SIGTERM)
        async with asyncio.timeout(30):
            await self.process.wait()
            await self._reader
        assert self.process.returncode == 0, self.output[-3000:]
        return self.output


async def start(
    worker: str, db: Path, export: Path, *, file_limit: int | None = None, **settings: str
) -> RunProcess:
    env = run_env(
        database=str(db),
        alerts__poll_interval_seconds="0.1",
        watch__jsonl__paths=json.dumps([str(export)]),
        watch__jsonl__poll_seconds="0.1",
        watch__retry_base_seconds="0.2",
        watch__retry_max_seconds="0.5",
        store__busy_timeout_seconds="0.25",
        **settings,
    )
    env["COLUMNS"] = "200"
    # In the child, writes past `file_limit` fail (EFBIG) instead of killing it.
    return RunProcess(
        await fork_worker(worker, cwd=db.parent, env=env, merge_stderr=True, file_limit=file_limit)
    )


def stored_posts(db: Path) -> list[str]:
    """External ids of the stored posts (none while the schema is not there yet)."""
    try:
        with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)) as conn:
            return [r[0] for r in conn.execute("SELECT external_id FROM posts ORDER BY id")]
    except sqlite3.OperationalError:
        return []


def cursor_offset(db: Path) -> int:
    """How far the JSON Lines watch has read (bytes)."""
    with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)) as conn:
        row = conn.execute("SELECT cursor FROM watch_state").fetchone()
    return int(json.loads(row[0] or "{}").get("offset", 0)) if row else 0


async def failed_tries(run: RunProcess, tries: int) -> None:
    """Wait until the process has said for the `tries`-th time that the store is unavailable (one try of the
    same posts after another, each after a longer wait): the fault lasts that long, whatever the load."""
    line = re.compile(rf"the store is unavailable \(.*\); try {tries}$", re.MULTILINE)
    await eventually(lambda: line.search(run.output))


def append(export: Path, *posts: tuple[str, str]) -> None:
    with export.open("a", encoding="utf-8") as handle:
        for post_id, text in posts:
            handle.write(
                json.dumps({"id": post_id, "thread_id": "ferry", "author": "ana", "text": text}) + "\n"
            )


TEN = [
    (f"p{i}", f"Post {i} about the harbour ferry timetable." + (" You idiot." if i == 5 else ""))
    for i in range(1, 11)
]


@pytest.fixture
async def first_post(tmp_path: Path) -> AsyncIterator[tuple[Path, Path]]:
    export = tmp_path / "posts.jsonl"
    append(export, ("p0", "The ferry timetable changes on Monday."))
    yield tmp_path / "modassist.db", export


async def test_no_post_is_lost_while_another_process_holds_the_write_lock(
    first_post: tuple[Path, Path],
) -> None:
    db, export = first_post
    run = await start("tests.e2e.run_worker", db, export)
    try:
        await eventually(lambda: stored_posts(db) == ["p0"])
        await eventually(lambda: cursor_offset(db) == export.stat().st_size)  # saved after the post is stored
        before = cursor_offset(db)
        holder = sqlite3.connect(db, isolation_level=None, timeout=5)
        holder.execute("BEGIN IMMEDIATE")  # the write lock, held past several busy timeouts of 0.25 s
        append(export, *TEN)
        await failed_tries(run, 3)  # as many as a sleep of 4 s saw (with a busy timeout of 0.5 s)
        assert run.alive
        assert stored_posts(db) == ["p0"] and cursor_offset(db) == before  # not moved past unstored posts
        holder.execute("ROLLBACK")
        holder.close()
        await eventually(lambda: len(stored_posts(db)) == 11)
        await eventually(lambda: cursor_offset(db) == export.stat().st_size)
    finally:
        output = await run.stop()
    assert stored_posts(db) == ["p0", *(pid for pid, _ in TEN)]
    assert "the store is unavailable" in output and "database is locked" in output
    assert output.count("insulting language") == 1  # p5's alert, once


@contextlib.contextmanager
def small_disk(path: Path, size: str = "3m") -> AsyncIterator[bool]:  # type: ignore[misc]
    """A tmpfs of `size` at `path` (True), or a plain folder where mounting is not allowed (False)."""
    path.mkdir()
    mounted = (
        os.geteuid() == 0
        and subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
            capture_output=True,
            check=False,
        ).returncode
        == 0
    )
    try:
        yield mounted
    finally:
        if mounted:
            subprocess.run(["umount", "-l", str(path)], check=False)


def fill(disk: Path) -> Path:
    """Write a file until the disk is full."""
    filler = disk / "filler"
    with filler.open("wb") as handle, contextlib.suppress(OSError):
        while True:
            handle.write(b"\0" * 65536)
            handle.flush()
    return filler


async def test_no_post_is_lost_while_the_disk_is_full(tmp_path: Path) -> None:
    export = tmp_path / "posts.jsonl"
    append(export, ("p0", "The ferry timetable changes on Monday."))
    long = [(pid, text + " More about the timetable." * 300) for pid, text in TEN]  # ~8 KB each
    with small_disk(tmp_path / "disk") as mounted:
        db = tmp_path / "disk" / "modassist.db"
        if mounted:
            run = await start("tests.e2e.run_worker", db, export)
        else:  # a file-size limit just over the database as it is after the first post
            first = await start("tests.e2e.run_worker", db, export)
            await eventually(lambda: stored_posts(db) == ["p0"])
            await first.stop()
            limit = max(f.stat().st_size for f in db.parent.iterdir()) + 4096
            run = await start("tests.e2e.run_worker", db, export, file_limit=limit)
        try:
            await eventually(lambda: stored_posts(db) == ["p0"])
            await eventually(lambda: cursor_offset(db) == export.stat().st_size)  # saved after the post
            before = cursor_offset(db)
            filler = fill(db.parent) if mounted else None
            append(export, *long)
            await failed_tries(run, 6)  # waits of 0.2, 0.4, then the 0.5 s cap (a sleep of 4 s saw as many)
            assert run.alive
            assert stored_posts(db) == ["p0"] and cursor_offset(db) == before
            if filler is not None:
                filler.unlink()  # the fault clears
            else:
                await run.stop()
                run = await start("tests.e2e.run_worker", db, export)  # without the limit
            await eventually(lambda: len(stored_posts(db)) == 11)
            await eventually(lambda: cursor_offset(db) == export.stat().st_size)
        finally:
            output = await run.stop()
        assert stored_posts(db) == ["p0", *(pid for pid, _ in TEN)]
    if mounted:
        assert "the store is unavailable" in output and "full" in output


async def test_a_post_a_detector_fails_on_is_stored_and_reported(first_post: tuple[Path, Path]) -> None:
    db, export = first_post
    run = await start("tests.e2e.fault_worker", db, export)
    try:
        await eventually(lambda: stored_posts(db) == ["p0"])
        append(
            export, ("p1", "A normal reply."), ("p2", "kaboom, you idiot"), ("p3", "Another normal reply.")
        )
        await eventually(lambda: len(stored_posts(db)) == 4)
        await eventually(lambda: "could not" in run.output, timeout=30)
    finally:
        output = await run.stop()
    with contextlib.closing(sqlite3.connect(db)) as conn:
        errors = dict(conn.execute("SELECT external_id, review_error FROM posts"))
        scores = json.loads(conn.execute("SELECT scores FROM posts WHERE external_id = 'p2'").fetchone()[0])
    assert errors["p1"] is None and errors["p3"] is None
    assert "duplicated-quote detector failed (ValueError: cannot read this post)" in errors["p2"]
    assert scores == {"inflammatory": 0.91, "off_topic": 0.05}  # the other detectors judged it
    assert "could not fully review" in output and "insulting language" in output
    # `db status` in this process (its console script has its smoke test in tests/bot/test_cli.py); in a
    # thread, as the command runs its own event loop.
    status = await asyncio.to_thread(run_cli, "db", "status", "--db", str(db), columns=200)
    assert re.search(r"posts not fully reviewed\s*│\s*1\b", status.stdout), status.stdout

"""A database that cannot be written (read-only file or directory, full disk, file size limit) ends every
command that opens the store in one line naming the file and what to do (exit status 2), never a traceback,
and loses nothing that was stored.

Everything runs through the `modassist` command line on real files: read-only ones as a user who cannot write
them (root runs the command with CAP_DAC_OVERRIDE dropped), a full disk on a small tmpfs mounted for the test
(root only; skipped otherwise), both in this process through `bot.cli.main`; a file size limit with setrlimit,
with the real console script in a subprocess (the limit belongs to a process); a write lock held by another
process (a small Python that holds it), with the command in this process.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.bot.cli_runner import modassist, run_cli
from tests.bot.db_files import (
    STORE_COMMANDS,
    counts,
    migrate_to,
    one_line_error,
    populate,
    write_posts,
)

# The commands that use the database itself (`db backup` only reads it, and writes elsewhere).
COMMANDS = {name: args for name, args in STORE_COMMANDS.items() if name != "db backup"}


# Root may write any file: these tests take that right from the thread that runs the command (capabilities are
# per thread on Linux, and the threads it starts, such as the store's SQLite thread, inherit the smaller set).
_DAC_RIGHTS = (1 << 1) | (1 << 2)  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH
_CAPABILITY_VERSION_3 = 0x20080522


class _CapabilityHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]  # pid 0: the calling thread


class _CapabilityData(ctypes.Structure):
    _fields_ = [
        ("effective", ctypes.c_uint32),
        ("permitted", ctypes.c_uint32),
        ("inheritable", ctypes.c_uint32),
    ]


@contextlib.contextmanager
def _without_dac_rights() -> Iterator[None]:
    """This thread without root's rights to read and write whatever the file modes say (as
    `setpriv --bounding-set -dac_override,-dac_read_search` runs a command); given back afterwards."""
    libc = ctypes.CDLL(None, use_errno=True)
    header, data = _CapabilityHeader(_CAPABILITY_VERSION_3, 0), (_CapabilityData * 2)()
    if libc.capget(ctypes.byref(header), data) != 0:
        raise OSError(ctypes.get_errno(), "capget")
    effective = data[0].effective
    data[0].effective = effective & ~_DAC_RIGHTS
    if libc.capset(ctypes.byref(header), data) != 0:
        raise OSError(ctypes.get_errno(), "capset")
    try:
        yield
    finally:
        data[0].effective = effective
        if libc.capset(ctypes.byref(header), data) != 0:
            raise OSError(ctypes.get_errno(), "capset: root's rights could not be given back")


AsUser = Callable[..., "subprocess.CompletedProcess[str]"]


@pytest.fixture
def unprivileged(tmp_path: Path) -> AsUser:
    """`run_cli` as a user for whom file modes hold: root without its right to write any file."""
    if os.geteuid() != 0:
        return run_cli
    probe = tmp_path / "probe"
    probe.write_text("")
    probe.chmod(0o444)
    with _without_dac_rights(), contextlib.suppress(PermissionError), probe.open("a"):
        pytest.skip("root's right to write read-only files could not be taken here")
    probe.unlink()

    def as_user(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
        with _without_dac_rights():
            return run_cli(*args, cwd=cwd)

    return as_user


def _database(directory: Path) -> Path:
    directory.mkdir(exist_ok=True)
    db = directory / "modassist.db"
    populate(db, posts=30)
    write_posts(directory / "new.jsonl", 3)
    return db


def test_a_read_only_file_is_read_but_not_written(tmp_path: Path, unprivileged: AsUser) -> None:
    db = _database(tmp_path / "data")
    db.chmod(0o444)
    before = counts(db)
    # Reading needs no write: status and flags work on a read-only file.
    for command in ("db status", "flags"):
        result = unprivileged(*COMMANDS[command], cwd=db.parent)
        assert result.returncode == 0, (command, result.stderr)
    for command in ("scan --db", "run"):
        result = unprivileged(*COMMANDS[command], cwd=db.parent)
        line = one_line_error(result.stderr)
        assert result.returncode == 2, command
        assert line == (
            "modassist: error: modassist.db: cannot write to it (attempt to write a readonly database); make"
            " the file and its directory writable for this user (SQLite also writes modassist.db-wal and"
            " modassist.db-shm beside it), or use another database file"
        )
        # Nothing was reviewed or alerted: `run` prints only its settings summary before it opens the store.
        assert result.stdout == "" or result.stdout.startswith("Settings (")
        assert "Ctrl-C stops" not in result.stdout and "connected to Discord" not in result.stdout
    assert counts(db) == before


def test_migrating_a_read_only_file_is_refused_in_one_line(tmp_path: Path, unprivileged: AsUser) -> None:
    (tmp_path / "data").mkdir()
    db = tmp_path / "data" / "modassist.db"
    migrate_to(db, 1)  # an older schema: `db migrate` has something to write
    db.chmod(0o444)
    result = unprivileged("db", "migrate", cwd=db.parent)
    assert "modassist.db: cannot write to it (attempt to write a readonly database)" in one_line_error(
        result.stderr
    )
    assert result.returncode == 2
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT version FROM schema_migrations").fetchall() == [(1,)]
    conn.close()


@pytest.mark.parametrize("command", COMMANDS)
def test_a_database_in_a_read_only_directory_is_refused_in_one_line(
    tmp_path: Path, unprivileged: AsUser, command: str
) -> None:
    db = _database(tmp_path / "data")
    before = counts(db)
    db.parent.chmod(0o555)  # SQLite cannot create modassist.db-wal and -shm beside it
    try:
        result = unprivileged(*COMMANDS[command], cwd=db.parent)
    finally:
        db.parent.chmod(0o755)
    line = one_line_error(result.stderr)
    assert result.returncode == 2
    assert line.startswith("modassist: error: modassist.db: cannot write to it (")
    assert "make the file and its directory writable for this user" in line
    assert counts(db) == before


def test_a_new_database_in_a_read_only_directory_is_refused_in_one_line(
    tmp_path: Path, unprivileged: AsUser
) -> None:
    directory = tmp_path / "data"
    directory.mkdir(mode=0o555)
    try:
        result = unprivileged("db", "migrate", "--db", str(directory / "new.db"))
    finally:
        directory.chmod(0o755)
    line = one_line_error(result.stderr)
    assert result.returncode == 2
    assert line.startswith(f"modassist: error: {directory / 'new.db'}: cannot open it (unable to open")
    assert "check that its directory exists and that this user may read and write there" in line


# -- a full disk -------------------------------------------------------------------------------------------


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 2 MiB tmpfs mounted for the test."""
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs to fill needs root")
    mount = tmp_path / "disk"
    mount.mkdir()
    tried = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)], capture_output=True, text=True
    )
    if tried.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {tried.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=True)


def fill(directory: Path, *, leave: int = 0) -> Path:
    """Fill the disk holding `directory` but for about `leave` bytes."""
    filler = directory / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    try:
        while True:
            os.write(fd, b"\0" * 65536)
    except OSError as exc:
        assert exc.errno == errno.ENOSPC, exc
    finally:
        os.close(fd)
    if leave:
        os.truncate(filler, max(0, filler.stat().st_size - leave))
    return filler


@pytest.mark.parametrize("command", COMMANDS)
def test_a_full_disk_is_reported_in_one_line(small_disk: Path, command: str) -> None:
    db = _database(small_disk)
    before = counts(db)
    filler = fill(small_disk)
    result = run_cli(*COMMANDS[command], cwd=small_disk)
    filler.unlink()
    line = one_line_error(result.stderr)
    assert result.returncode == 2
    assert line.startswith("modassist: error: modassist.db: the disk is full (")
    assert f"free space on the disk holding {small_disk}, or use a database file on another disk" in line
    assert counts(db) == before


def test_a_disk_filling_up_while_scanning_loses_nothing(small_disk: Path) -> None:
    db = _database(small_disk)
    before = counts(db)
    write_posts(small_disk / "big.jsonl", 150, words=150, thread="big")  # ~370 KB stored: twice the room left
    filler = fill(small_disk, leave=192 * 1024)
    result = run_cli("scan", "big.jsonl", "--db", "modassist.db", cwd=small_disk)
    filler.unlink()
    line = one_line_error(result.stderr)
    assert result.returncode == 2
    assert line.startswith("modassist: error: modassist.db: the disk is full (database or disk is full)")
    # The thread's transaction was rolled back whole; what was stored before is all there and sound.
    assert counts(db) == before
    status = run_cli("db", "status", cwd=small_disk)
    assert status.returncode == 0, status.stderr


def test_a_file_size_limit_is_reported_in_one_line(tmp_path: Path) -> None:
    """Past RLIMIT_FSIZE a write fails with EFBIG (SIGXFSZ is ignored, as Python does): SQLite says 'disk I/O
    error', and the line says to look at the disk, its space and the limit."""
    write_posts(tmp_path / "big.jsonl", 150, words=150)
    limit = 256 * 1024  # room for the schema (140 KB), not for the thread (~370 KB stored)
    with_limit = (
        sys.executable,
        "-c",
        "import os, resource, signal, sys;"
        f" resource.setrlimit(resource.RLIMIT_FSIZE, ({limit}, {limit}));"
        " signal.signal(signal.SIGXFSZ, signal.SIG_IGN); os.execv(sys.argv[1], sys.argv[1:])",
    )
    result = modassist("scan", "big.jsonl", "--db", "modassist.db", cwd=tmp_path, prefix=with_limit)
    line = one_line_error(result.stderr)
    assert result.returncode == 2
    assert line == (
        "modassist: error: modassist.db: reading or writing it failed (disk I/O error, SQLITE_IOERR_WRITE);"
        " check the disk, its free space and this user's file size limit (ulimit -f), then try again"
    )
    # The thread's transaction was rolled back whole: the database holds its schema and no half thread.
    assert counts(tmp_path / "modassist.db")["posts"] == 0


_HOLD_THE_WRITE_LOCK = """
import sqlite3, sys
holder = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=5)
holder.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
sys.stdin.read()  # until the test closes it
holder.execute("ROLLBACK")
"""


def test_a_database_locked_past_the_busy_timeout_is_reported_in_one_line(tmp_path: Path) -> None:
    database = tmp_path / "modassist.db"
    thread = tmp_path / "thread.jsonl"
    thread.write_text('{"id": "p1", "text": "The ferry runs hourly."}\n', encoding="utf-8")
    assert run_cli("scan", str(thread), "--db", str(database)).returncode == 0  # the database to lock
    holder = subprocess.Popen(  # another process holds the write lock
        [sys.executable, "-c", _HOLD_THE_WRITE_LOCK, str(database)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "locked\n"
        thread.write_text('{"id": "p2", "text": "And the night boat?"}\n', encoding="utf-8")
        result = run_cli(
            "scan", str(thread), "--db", str(database), env={"MODASSIST_STORE__BUSY_TIMEOUT_SECONDS": "0.2"}
        )
    finally:
        holder.communicate("", timeout=30)
    assert holder.returncode == 0
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [
        f"modassist: error: {database}: another process holds it locked (database is locked); try again"
        " when it is done, or give it longer with store.busy_timeout_seconds"
        " (MODASSIST_STORE__BUSY_TIMEOUT_SECONDS)"
    ]

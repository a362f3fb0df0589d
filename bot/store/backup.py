"""A consistent copy of a database that may be in use, through SQLite's online backup API.

The copy is made in one backup step, so it is one snapshot of the source: in WAL mode the reading side holds
no lock that stops writers, and other processes go on writing while it runs. It is written to a temporary
file beside the target and renamed into place only once it passed SQLite's check, so a failed or interrupted
backup never leaves a half-written file under the target's name.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import tempfile
from dataclasses import dataclass
from pathlib import Path

from bot.errors import DatabaseCorruptError, DatabaseUnwritableError, ModassistError
from bot.store.integrity import MAX_PROBLEMS, describe, problems_from, refusing_unusable


@dataclass(frozen=True, slots=True)
class BackupResult:
    """What `backup_database` wrote."""

    target: Path
    pages: int
    size: int


def _check(conn: sqlite3.Connection, path: Path) -> None:
    problems = problems_from(conn.execute(f"PRAGMA quick_check({MAX_PROBLEMS})").fetchall())
    if problems:
        raise DatabaseCorruptError(str(path), describe(problems))


def _copy(source: Path, partial: Path, busy_timeout: float) -> int:
    """Copy `source` into the empty file `partial`, check the copy, and return its page count."""
    with refusing_unusable(source):
        src = sqlite3.connect(source, timeout=busy_timeout)
    try:
        with refusing_unusable(source):
            _check(src, source)  # a damaged source would only give a damaged copy
        dst = sqlite3.connect(partial)
        try:
            # pages=-1: the whole file in one step, hence one read snapshot of the source.
            with refusing_unusable(partial):
                src.backup(dst, pages=-1)
                _check(dst, partial)
                return int(dst.execute("PRAGMA page_count").fetchone()[0])
        finally:
            dst.close()
    finally:
        src.close()


def _cannot_write(target: Path, exc: OSError) -> DatabaseUnwritableError:
    return DatabaseUnwritableError(
        str(target),
        f"cannot write the backup ({exc.strerror or exc})",
        f"make {target.parent} writable for this user, free space there, or choose another place",
    )


def _move_into_place(partial: Path, target: Path) -> None:
    try:
        # A hard link fails if the target appeared meanwhile, where os.replace would overwrite it.
        os.link(partial, target)
    except FileExistsError:
        raise ModassistError(f"{target} was created during the backup; choose another name") from None
    except OSError:  # a file system without hard links
        if target.exists():
            raise ModassistError(f"{target} was created during the backup; choose another name") from None
        partial.replace(target)


def backup_database(source: Path, target: Path, *, busy_timeout: float = 10.0) -> BackupResult:
    """Copy the database at `source` to the new file `target`, as one consistent, checked snapshot."""
    if target.exists():
        raise ModassistError(f"{target} exists: a backup never overwrites a file; choose another name")
    if not target.parent.is_dir():
        raise ModassistError(f"{target}: there is no directory {target.parent}; create it or choose another")
    try:
        fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".partial", dir=target.parent)
    except OSError as exc:
        raise _cannot_write(target, exc) from exc
    os.close(fd)
    partial = Path(name)
    try:
        pages = _copy(source, partial, busy_timeout)
        # The copy holds what the database holds: give it the same permissions (mkstemp made it private).
        partial.chmod(source.stat().st_mode & 0o777)
        _move_into_place(partial, target)
    finally:
        for suffix in ("", "-journal", "-wal", "-shm"):
            with contextlib.suppress(FileNotFoundError):
                partial.with_name(partial.name + suffix).unlink()
    return BackupResult(target, pages, target.stat().st_size)

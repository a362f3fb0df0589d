"""Following a JSON Lines file as it grows (or stdin), so any forum exporter can feed modassist.

Each line is a post in the `classify` input format (DESIGN.md). Complete lines (ending in a newline) are
read as they are appended, grouped by thread in file order and reviewed; a half-written last line waits for
its newline. A malformed line is logged with its line number and skipped. The byte offset read so far is
the watch's `cursor` in the store, saved only after the posts of the lines before it are stored (reviewed,
or after repeated failures stored as unreviewable: `bot.intake`): a restart resumes there, and lines read
again after a crash are not alerted twice (the service knows their posts). While the store cannot take
the posts (locked, disk full), the watcher waits and tries again; it never moves past a post not stored.
A file that is replaced (another inode) or truncated is read again from its start. A file that does not
exist yet is waited for.

stdin ("-") is read until it ends; it has no offset to keep, so after a restart the service's
deduplication is what keeps posts from being alerted twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import stat
import sys
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import BinaryIO

from bot.errors import ParseError
from bot.intake import RetryPolicy, store_reliably
from bot.service import ModerationService
from bot.sources.jsonl import parse_jsonl_line
from bot.store import Store, WatchState
from bot.watchers.state import JSONL_FILE, ensure_watch
from classifiers.thread import Post, Thread

log = logging.getLogger(__name__)

STDIN = "-"
# Per round: a huge backlog is reviewed (and its offset saved) in parts. Above the parser's longest line.
_READ_BYTES = 17 * 1024 * 1024
_TITLES = 4096  # thread titles remembered (lines after the first may leave thread_title out)


@dataclass(frozen=True, slots=True)
class Cursor:
    """How far a file has been read: byte offset, lines consumed, and the file's identity."""

    offset: int = 0
    line: int = 0
    inode: int | None = None
    device: int | None = None

    def dumps(self) -> str:
        """As stored in `watch_state.cursor`."""
        return json.dumps({"offset": self.offset, "line": self.line, "inode": self.inode, "dev": self.device})

    @classmethod
    def loads(cls, text: str | None) -> Cursor:
        """From `watch_state.cursor` (a fresh cursor for none or a damaged one)."""
        try:
            raw = json.loads(text or "{}")
            return cls(int(raw.get("offset", 0)), int(raw.get("line", 0)), raw.get("inode"), raw.get("dev"))
        except (ValueError, TypeError, AttributeError):
            return cls()


class JsonlWatcher:
    """Follows one JSON Lines file, or stdin (a `Watcher` of `modassist run`)."""

    def __init__(
        self,
        store: Store,
        service: ModerationService,
        path: str,
        *,
        poll_seconds: float,
        retry: RetryPolicy | None = None,
    ) -> None:
        """`path` is a file (it may not exist yet) or "-" for stdin."""
        self.store = store
        self.service = service
        self.retry = retry or RetryPolicy()
        self.path = path
        self.poll_seconds = poll_seconds
        self.name = f"jsonl:{path}"
        # Absolute, so the watch (and its offset) is the same whatever the working directory.
        self._file = Path(path).absolute()
        self._titles: dict[str, str] = {}
        self.lines_read = 0

    async def run(self, stop: asyncio.Event) -> None:
        """Follow the input until `stop` is set (stdin: until it ends)."""
        if self.path == STDIN:
            if stat.S_ISREG(os.fstat(sys.stdin.fileno()).st_mode):
                await self._follow_file(Path(f"/dev/fd/{sys.stdin.fileno()}"), stop, keep_state=False)
            else:
                await self._follow_pipe(stop)
        else:
            await self._follow_file(self._file, stop, keep_state=True)

    # -- files -----------------------------------------------------------------------------------------

    async def _follow_file(self, path: Path, stop: asyncio.Event, *, keep_state: bool) -> None:
        watch = await ensure_watch(self.store, JSONL_FILE, str(path), None) if keep_state else None
        state = await self.store.watch_state(watch.id) if watch is not None else None
        cursor = Cursor.loads(state.cursor if state is not None else None)
        missing_logged = False
        while not stop.is_set():
            try:
                cursor, lines = await asyncio.to_thread(_read_new_lines, path, cursor)
            except FileNotFoundError:
                if not missing_logged:
                    log.info("%s does not exist yet; waiting for it", path)
                    missing_logged = True
                lines = []
            except OSError as exc:
                log.warning("%s: %s", path, exc)
                lines = []
            else:
                missing_logged = False
            if lines:
                if not await self.feed(lines, stop):
                    return  # stopped before these lines' posts were stored: the cursor stays before them
                if watch is not None and state is not None:
                    state = replace(state, cursor=cursor.dumps())
                    await self._save(state)
                continue  # there may be more
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self.poll_seconds)

    # -- stdin -----------------------------------------------------------------------------------------

    async def _follow_pipe(self, stop: asyncio.Event) -> None:
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader(limit=16 * 1024 * 1024 + 2)
        transport, _ = await loop.connect_read_pipe(
            lambda: asyncio.StreamReaderProtocol(reader), os.fdopen(os.dup(sys.stdin.fileno()), "rb")
        )
        number = 0
        try:
            while not stop.is_set():
                try:
                    raw = await reader.readline()
                except ValueError:  # a line over the limit
                    log.warning("<stdin>, line %d: longer than 16 MB; skipped", number + 1)
                    number += 1
                    continue
                if not raw:
                    log.info("stdin ended")
                    return
                if not raw.endswith(b"\n"):
                    raw += b"\n"
                number += 1
                if not await self.feed([(number, raw.decode("utf-8", errors="replace"))], stop):
                    return
        finally:
            transport.close()

    # -- reviewing -------------------------------------------------------------------------------------

    async def _save(self, state: WatchState) -> None:
        """Save the cursor; if the store refuses, the next save carries it (lines read again are known)."""
        try:
            await self.store.save_watch_state(state)
        except Exception:
            log.exception("%s: could not save how far the file was read; will try again", self.path)

    async def feed(self, lines: Iterable[tuple[int, str]], stop: asyncio.Event | None = None) -> bool:
        """Parse numbered lines, group their posts by thread (file order) and store each thread's posts.

        Returns False if `stop` was set before every post was stored (the caller must not move past them).
        """
        threads: dict[str, tuple[str, list[Post]]] = {}
        for number, line in lines:
            self.lines_read += 1
            if not line.strip():
                continue
            try:
                thread_id, title, post = parse_jsonl_line(line.rstrip("\n"), number, source=self.path)
            except ParseError as exc:
                log.warning("%s; skipped", exc)
                continue
            key = thread_id if thread_id is not None else post.id
            if title:
                self._titles[key] = title
                while len(self._titles) > _TITLES:
                    del self._titles[next(iter(self._titles))]
            threads.setdefault(key, (self._titles.get(key, ""), []))[1].append(post)
        for key, (_, posts) in threads.items():
            thread = Thread(
                id=key, title=self._titles.get(key, ""), posts=tuple(posts), source_format="jsonl"
            )
            if await store_reliably(self.service, thread, policy=self.retry, stop=stop) is None:
                return False
        return True


def _read_new_lines(path: Path, cursor: Cursor) -> tuple[Cursor, list[tuple[int, str]]]:
    """The complete lines appended since `cursor` (blocking: runs in a thread)."""
    with path.open("rb") as handle:
        info = os.fstat(handle.fileno())
        identity = (info.st_ino, info.st_dev)
        if cursor.inode is not None and (cursor.inode, cursor.device) != identity:
            log.info("%s was replaced; reading it from the start", path)
            cursor = Cursor()
        elif info.st_size < cursor.offset:
            log.info("%s was truncated; reading it from the start", path)
            cursor = Cursor()
        cursor = replace(cursor, inode=identity[0], device=identity[1])
        return _complete_lines(handle, cursor)


def _complete_lines(handle: BinaryIO, cursor: Cursor) -> tuple[Cursor, list[tuple[int, str]]]:
    handle.seek(cursor.offset)
    data = handle.read(_READ_BYTES)
    end = data.rfind(b"\n")
    if end < 0:
        if len(data) < _READ_BYTES:
            return cursor, []  # a line still being written
        # A line longer than any post may be: skip what was read; the rest of it fails to parse, skipped too.
        log.warning("line %d is longer than %d bytes; skipped", cursor.line + 1, _READ_BYTES)
        return replace(cursor, offset=cursor.offset + len(data)), []
    chunk = data[: end + 1]
    lines = []
    number = cursor.line
    # Split on "\n" only: other line breaks (U+2028) may stand inside JSON strings.
    for raw in chunk.split(b"\n")[:-1]:
        number += 1
        lines.append((number, raw.decode("utf-8", errors="replace")))
    return replace(cursor, offset=cursor.offset + len(chunk), line=number), lines

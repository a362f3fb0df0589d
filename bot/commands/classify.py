"""`modassist classify`: JSON Lines in, one verdict per post out, streaming (the DESIGN.md contract)."""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import stat
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO, TextIO

from bot.errors import ModassistError
from bot.output import classify_stream
from bot.sharded import can_fork, classify_sharded, default_workers, workers_argument
from config.defaults import settings_values


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `classify` command."""
    parser = sub.add_parser(
        "classify",
        help="classify JSON Lines posts (stdin to stdout by default)",
        description="Read one post per line (JSON: id, text, optional thread_id, thread_title, author, url, "
        "created_at, quotes) and write one line per post with all three scores and any flags.",
    )
    parser.add_argument("--input", "-i", default="-", help="input file (default: stdin)")
    parser.add_argument("--output", "-o", default="-", help="output file (default: stdout)")
    parser.add_argument(
        "--workers",
        "-w",
        type=workers_argument,
        default=None,
        help="processes for a file input; a thread's posts always go to one (default: the machine's cores, "
        "one for inputs under 1 MiB, for a pipe or terminal, or where processes cannot be forked)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Stream the input through the detector suite; exit 1 if any line was malformed or not fully reviewed."""
    from bot.detectors import suite_from_values

    # The settings' values, not a Settings: with nothing configured, no pydantic to import (0.3 s).
    suite = suite_from_values(settings_values())
    with _open_in(args.input) as source, _open_out(args.output) as sink:
        flush_each = not _is_regular_file(source)
        workers = 1 if flush_each else _choose_workers(args.workers, source)
        if workers > 1:
            bad = classify_sharded(suite, source, sink, sys.stderr, workers=workers)
        else:
            bad = classify_stream(suite, source, sink, sys.stderr, flush_each=flush_each)
    return 1 if bad else 0


_SMALL_INPUT = 1 << 20  # bytes: below this, starting workers costs more than it saves


def _choose_workers(asked: int | None, source: IO[str]) -> int:
    """The number of processes: as asked, else the cores for a large file; one where fork is missing."""
    if asked is None:
        try:
            size = os.fstat(source.fileno()).st_size
        except (OSError, ValueError, AttributeError):
            return 1
        if size < _SMALL_INPUT:
            return 1
    if not can_fork():
        return 1
    return asked if asked is not None else default_workers()


@contextlib.contextmanager
def _open_in(path: str) -> Iterator[IO[str]]:
    if path == "-":
        yield _lines_of(sys.stdin)
        return
    try:
        handle = Path(path).open(encoding="utf-8", errors="surrogateescape", newline="\n")  # noqa: SIM115
    except OSError as exc:
        raise ModassistError(
            f"cannot read {path}: {exc.strerror}; pass an existing JSON Lines file"
        ) from None
    with handle:
        yield handle


@contextlib.contextmanager
def _open_out(path: str) -> Iterator[IO[str]]:
    if path == "-":
        yield sys.stdout
        sys.stdout.flush()
        return
    try:
        handle = Path(path).open("w", encoding="utf-8")  # noqa: SIM115
    except OSError as exc:
        raise ModassistError(f"cannot write {path}: {exc.strerror}") from None
    with handle:
        yield handle


def _lines_of(stream: TextIO) -> IO[str]:
    """stdin as UTF-8 lines whatever the locale, split on newlines only."""
    buffer = getattr(stream, "buffer", None)
    if buffer is None:
        return stream
    return io.TextIOWrapper(buffer, encoding="utf-8", errors="surrogateescape", newline="\n")


def _is_regular_file(handle: IO[str]) -> bool:
    try:
        return stat.S_ISREG(os.fstat(handle.fileno()).st_mode)
    except (OSError, ValueError, AttributeError):
        return False

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

from bot.errors import ModassistError, ParseError
from bot.output import dumps, review_record
from bot.sources.jsonl import parse_jsonl_line
from classifiers.suite import DetectorSuite, StreamReviewer
from classifiers.thread import Post
from config.settings import get_settings


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
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Stream the input through the detector suite; exit 1 if any line was malformed or not fully reviewed."""
    from bot.detectors import build_suite

    suite = build_suite(get_settings())
    with _open_in(args.input) as source, _open_out(args.output) as sink:
        flush_each = not _is_regular_file(source)
        bad = classify_stream(suite, source, sink, sys.stderr, flush_each=flush_each)
    return 1 if bad else 0


def classify_stream(
    suite: DetectorSuite,
    source: IO[str],
    sink: IO[str],
    errors: TextIO,
    *,
    flush_each: bool = False,
    batch_size: int = 256,
) -> int:
    """Classify every line of `source` into `sink`; report malformed lines on `errors`; return how many lines
    were malformed or not fully reviewed (a detector failed: the line carries an "error" and the run goes on).

    Lines are judged in batches of `batch_size` (the models score a batch in one pass), so memory stays
    bounded; with `flush_each` (a pipe or terminal, where a tool may wait for each answer) every line is
    answered as soon as it is read.
    """
    reviewer = StreamReviewer(suite)
    size = 1 if flush_each else max(1, batch_size)
    bad = 0
    batch: list[tuple[str | None, str, Post]] = []

    def write(items: list[tuple[str | None, str, Post]]) -> int:
        failed = 0
        for review in reviewer.review_many(items):
            sink.write(dumps(review_record(review)) + "\n")
            if review.failures:
                failed += 1
                names = ", ".join(f"{f.category} ({f.message})" for f in review.failures)
                print(f"modassist classify: post {review.post.id}: {names} failed", file=errors)
        if flush_each:
            sink.flush()
        return failed

    for lineno, line in enumerate(source, start=1):
        if not line.strip():
            continue
        try:
            batch.append(parse_jsonl_line(line, lineno))
        except ParseError as exc:
            bad += 1
            print(f"modassist classify: {exc}; line skipped", file=errors)
            continue
        if len(batch) >= size:
            bad += write(batch)
            batch = []
    if batch:
        bad += write(batch)
    return bad


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

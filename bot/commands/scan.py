"""`modassist scan PATH_OR_URL`: review a whole thread and report the flagged posts."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from rich.console import Console

from bot.output import dumps, review_record
from bot.report import render_report, threads_overview
from bot.sharded import default_workers, review_threads, workers_argument
from bot.sources import load_threads
from bot.store.integrity import refusing_unusable
from classifiers.suite import DetectorSuite, PostReview
from classifiers.thread import Thread
from config.settings import get_settings


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `scan` command."""
    parser = sub.add_parser(
        "scan",
        help="review a thread (pasted text, JSON Lines, saved or live XenForo page) and report flags",
        description="Read a thread, recognising its format, and print the flagged posts with their reasons.",
    )
    parser.add_argument("source", metavar="PATH_OR_URL", help="a file, '-' for stdin, or an http(s) URL")
    parser.add_argument("--json", action="store_true", help="one JSON line per post, flagged or not")
    parser.add_argument(
        "--db",
        type=Path,
        metavar="FILE",
        help="also store posts, flags and alerts in this SQLite database; posts stored before are not "
        "flagged or alerted again, edited ones are reviewed again",
    )
    parser.add_argument(
        "--workers",
        "-w",
        type=workers_argument,
        default=None,
        help="processes for the review, each taking whole threads (default: the machine's cores when the "
        f"input holds over {_MANY_POSTS:,} posts in several threads, else one)",
    )
    parser.set_defaults(func=run)


_MANY_POSTS = 2_000  # below this, starting workers costs more than it saves


def run(args: argparse.Namespace) -> int:
    """Scan every thread in the source."""
    threads = load_threads(args.source)
    # Loading the models is slow; only once the input has been read.
    from bot.detectors import build_suite

    settings = get_settings()
    suite = build_suite(settings)
    console = Console(highlight=False, soft_wrap=False)
    if args.db is None:
        workers = args.workers or (
            default_workers() if sum(len(t.posts) for t in threads) > _MANY_POSTS else 1
        )
        results = list(zip(threads, review_threads(suite, threads, workers=workers), strict=True))
    else:
        results = _persist(args.db, threads, suite, console, settings.store.busy_timeout_seconds)
    for index, (thread, reviews) in enumerate(results):
        if args.json:
            for review in reviews:
                sys.stdout.write(dumps(review_record(review, with_post=True)) + "\n")
            continue
        if index:
            console.print()
        render_report(console, thread, reviews)
    if len(results) > 1 and not args.json:
        console.print()
        console.print(threads_overview(results))
    failed = sum(1 for _, reviews in results for review in reviews if review.failures)
    if failed:
        print(
            f"modassist scan: {failed} posts could not be fully reviewed (see 'could not review' above)",
            file=sys.stderr,
        )
    return 1 if failed else 0


def _persist(
    db: Path, threads: list[Thread], suite: DetectorSuite, console: Console, busy_timeout: float
) -> list[tuple[Thread, list[PostReview]]]:
    """Review into the store; the report covers every post of each thread, stored now or before."""
    from bot.service import review_threads_into

    with refusing_unusable(db):  # a damaged, read-only or full database: one line naming it
        summary = asyncio.run(review_threads_into(db, threads, suite, busy_timeout=busy_timeout))
    Console(stderr=True, highlight=False).print(
        f"stored in {db}: {summary.new} new, {summary.edited} edited, {summary.unchanged} unchanged posts; "
        f"{summary.flags} flags, {summary.alerts} alerts waiting for `modassist run`",
        style="dim",
    )
    reports = []
    for thread, review in zip(threads, summary.threads, strict=True):
        reviews = list(review.reviews)
        if len(reviews) < len(thread.posts):
            # Posts stored before are not reviewed into the store again, but the report is about the
            # thread: judged whole, as it was when its posts were stored (a moderator wants the real counts).
            reviews = suite.review_thread(thread)
        reports.append((thread, reviews))
    return reports

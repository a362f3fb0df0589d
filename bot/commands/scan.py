"""`modassist scan PATH_OR_URL`: review a whole thread and report the flagged posts."""

from __future__ import annotations

import argparse
import sys

from rich.console import Console

from bot.output import dumps, review_record
from bot.report import render_report
from bot.sources import load_threads
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
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Scan every thread in the source."""
    threads = load_threads(args.source)
    from bot.detectors import build_suite

    suite = build_suite(get_settings())
    console = Console(highlight=False, soft_wrap=False)
    for index, thread in enumerate(threads):
        reviews = suite.review_thread(thread)
        if args.json:
            for review in reviews:
                sys.stdout.write(dumps(review_record(review, with_post=True)) + "\n")
            continue
        if index:
            console.print()
        render_report(console, thread, reviews)
    return 0

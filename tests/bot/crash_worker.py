"""A helper program for the crash and concurrency tests (run as `python -m tests.bot.crash_worker`, or
forked by the tests through `forked`).

It ingests a generated forum through the real `ModerationService` into a real SQLite file, chunk by chunk with
the threads interleaved, while a real `Dispatcher` sends the alerts to the idempotent `LedgerSink`; at the end
it drains the outbox. Like a real source after a restart, it reads everything from the start again: what is
stored already must be skipped. It prints one JSON line of counts when it finishes.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
from collections.abc import Sequence
from pathlib import Path

from bot.service import ModerationService
from bot.sinks import Dispatcher
from bot.store import Store
from classifiers.thread import Post, Thread
from config.settings import AlertSettings
from tests.bot.store_doubles import LedgerSink, make_forum, make_suite

# Small windows so bursts fold and retries happen within a test's time.
CRASH_ALERTS = AlertSettings(
    burst_max_alerts=3,
    burst_window_seconds=0.3,
    retry_base_seconds=0.02,
    retry_max_seconds=0.2,
    max_attempts=50,
    poll_interval_seconds=0.05,
    lease_seconds=10.0,
    batch_size=50,
)


def schedule(threads: list[Thread], *, seed: int, max_chunk: int, reverse: bool) -> list[Thread]:
    """The forum as a sequence of chunks (a few posts of one thread each), threads interleaved round-robin."""
    rng = random.Random(seed)
    pieces: list[list[tuple[Post, ...]]] = []
    for thread in threads:
        chunks, i = [], 0
        while i < len(thread.posts):
            size = rng.randint(1, max_chunk)
            chunks.append(thread.posts[i : i + size])
            i += size
        pieces.append(chunks)
    order = list(range(len(threads)))
    if reverse:
        order.reverse()
    out: list[Thread] = []
    for round_ in range(max(len(c) for c in pieces)):
        for t in order:
            if round_ < len(pieces[t]):
                th = threads[t]
                out.append(Thread(id=th.id, title=th.title, posts=pieces[t][round_], url=th.url))
    return out


async def run(args: argparse.Namespace) -> dict[str, int]:
    threads = make_forum(args.posts, args.threads, args.seed)
    store = await Store.open(args.db, busy_timeout=30.0)
    try:
        dispatcher = None
        task = None
        stop = asyncio.Event()
        if args.ledger is not None:
            sink = LedgerSink(
                args.ledger, kill_after=args.kill_after, fail_rate=args.fail_rate, seed=args.run_seed
            )
            dispatcher = Dispatcher(store, sink, CRASH_ALERTS)
            task = asyncio.create_task(dispatcher.run(stop))
        service = ModerationService(
            store,
            make_suite(),
            cache_threads=args.cache,
            on_new_alerts=dispatcher.wake if dispatcher else None,
        )
        counts = {"new": 0, "unchanged": 0, "edited": 0, "flags": 0}
        for chunk in schedule(threads, seed=args.seed, max_chunk=args.chunk, reverse=args.reverse):
            review = await service.review(chunk)
            counts["new"] += review.new
            counts["unchanged"] += review.unchanged
            counts["edited"] += review.edited
            counts["flags"] += review.flag_count
            if args.pace and (review.new or review.edited):
                await asyncio.sleep(args.pace)  # new posts arrive over time, as from a live source
        if dispatcher is not None and task is not None:
            stop.set()
            await task
            if not await dispatcher.drain(max_seconds=45):
                raise SystemExit("the outbox did not drain")
        return counts
    finally:
        await store.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--ledger", type=Path, help="dispatch alerts into this ledger (omit: ingest only)")
    parser.add_argument("--posts", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=40)
    parser.add_argument("--seed", type=int, default=7, help="the forum and its chunking (same on every run)")
    parser.add_argument("--run-seed", type=int, default=0, help="this run's sink failures")
    parser.add_argument("--chunk", type=int, default=6, help="at most this many posts per review")
    parser.add_argument("--cache", type=int, default=8, help="reviewers cached (fewer than threads: replays)")
    parser.add_argument("--kill-after", type=int, help="SIGKILL self after this many new deliveries")
    parser.add_argument("--fail-rate", type=float, default=0.0)
    parser.add_argument("--reverse", action="store_true", help="visit the threads in reverse order")
    parser.add_argument("--pace", type=float, default=0.0, help="seconds between two reviews")
    args = parser.parse_args(argv)
    counts = asyncio.run(run(args))
    print(json.dumps(counts), flush=True)
    return 0


def forked(argv: Sequence[str], out: Path, err: Path) -> None:
    """`main` in a process forked by the tests (multiprocessing's forkserver), its output written to `out` and
    `err` (the forked process shares the fork server's standard streams, not the test's)."""
    with out.open("w", encoding="utf-8") as stdout, err.open("w", encoding="utf-8") as stderr:
        os.dup2(stdout.fileno(), 1)
        os.dup2(stderr.fileno(), 2)
        sys.exit(main(list(argv)))


if __name__ == "__main__":
    sys.exit(main())

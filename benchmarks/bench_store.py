"""Benchmark: ingest + review + store of 100,000 posts, against classify-only measured in the same run.

The posts are the IAC 4forums dev threads from the shared data folder, repeated under new thread and post ids
until there are enough (read at run time, never copied into the repository). Both legs run the same detector
suite over the same threads in the same order:

- classify-only: `DetectorSuite.review_thread` per thread, results dropped;
- with the store: `ModerationService.review` per thread into a fresh SQLite file: content hashes, the dedup
  lookup, the review (in the executor), and one transaction per thread writing posts, flags and outbox rows.

The two legs alternate slice by slice, so a busy shared machine slows both alike.

It prints posts/s for both, their ratio (target: >= 50%, i.e. the store costs at most half the throughput)
and the database size.

    .venv/bin/python benchmarks/bench_store.py [--posts 100000] [--suite product|fast] [--data-dir DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import sys
import tempfile
import time
from pathlib import Path

from bot.service import ModerationService
from bot.store import Store
from classifiers.suite import DetectorSuite
from classifiers.thread import Thread
from config.settings import get_settings
from lab.datasets.iac import NONPOLITICAL, POLITICAL, read_iac, repeat_threads


def load_corpus(data_dir: Path) -> list[Thread]:
    """The IAC dev threads (political sample and non-political pool)."""
    folder = data_dir / "iac_4forums"
    threads = [t.thread for name in (POLITICAL, NONPOLITICAL) for t in read_iac(folder / name)]
    if not threads:
        raise SystemExit(f"no threads in {folder}")
    return threads


def build_suite(which: str) -> tuple[DetectorSuite, str]:
    """'product': the suite from Settings, as `modassist` runs it. 'fast': only the two fastest detectors
    (duplicates, off-topic): the hardest case for the ratio, since the store's cost per post is fixed."""
    from classifiers.duplicates import QuoteDuplicateDetector
    from classifiers.offtopic import OffTopicDetector

    if which == "product":
        from bot.detectors import build_suite as product_suite

        suite = product_suite(get_settings())
    else:
        suite = DetectorSuite([OffTopicDetector.load(None), QuoteDuplicateDetector()])
    return suite, f"{which} suite: " + ", ".join(type(d).__name__ for d in suite.detectors)


async def measure(
    suite: DetectorSuite, threads: list[Thread], db_path: Path, *, slices: int = 20
) -> tuple[float, float, dict[str, int]]:
    """Seconds for classify-only and for ingest + review + store, and the store's row counts.

    The threads are cut into slices and both legs run on each slice in turn (alternating which goes first),
    so that the load of a shared machine falls on both alike.
    """
    store = await Store.open(db_path)
    try:
        service = ModerationService(store, suite)
        classify_s = store_s = 0.0
        size = max(1, len(threads) // slices)
        for i, at in enumerate(range(0, len(threads), size)):
            piece = threads[at : at + size]
            for leg in ("classify", "store") if i % 2 == 0 else ("store", "classify"):
                gc.collect()
                start = time.perf_counter()
                if leg == "classify":
                    for thread in piece:
                        suite.review_thread(thread)
                    classify_s += time.perf_counter() - start
                else:
                    for thread in piece:
                        await service.review(thread)
                    store_s += time.perf_counter() - start
        counts = await store.row_counts()
    finally:
        await store.close()
    return classify_s, store_s, counts


def size_of(db_path: Path) -> int:
    """The database's bytes on disk (with any WAL left)."""
    return sum(p.stat().st_size for p in (db_path, db_path.with_name(db_path.name + "-wal")) if p.exists())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--posts", type=int, default=100_000)
    parser.add_argument("--data-dir", type=Path, default=None, help="the shared data folder")
    parser.add_argument("--db", type=Path, default=None, help="keep the database here (default: a temp file)")
    parser.add_argument(
        "--suite",
        choices=("product", "fast"),
        default="product",
        help="the detectors as modassist runs them, or the two fastest only (the hardest case for the ratio)",
    )
    args = parser.parse_args(argv)

    data_dir = args.data_dir or get_settings().data_dir
    corpus = load_corpus(data_dir)
    threads = repeat_threads(corpus, args.posts)
    n = sum(len(t.posts) for t in threads)
    suite, described = build_suite(args.suite)
    print(f"{n:,} posts in {len(threads):,} threads (IAC 4forums dev, {len(corpus)} threads repeated)")
    print(f"detectors: {described}")

    with tempfile.TemporaryDirectory() as folder:
        db_path = args.db or Path(folder) / "bench.db"
        if db_path.exists():
            raise SystemExit(f"{db_path} exists: the benchmark needs a fresh database")
        classify_s, store_s, counts = asyncio.run(measure(suite, threads, db_path))
        size = size_of(db_path)
    classify_rate = n / classify_s
    print(f"classify only:          {classify_rate:9,.0f} posts/s  ({classify_s:.1f} s)")
    store_rate = n / store_s
    ratio = store_rate / classify_rate
    print(f"ingest + review + store:{store_rate:9,.0f} posts/s  ({store_s:.1f} s)")
    print(f"ratio store / classify-only: {ratio:.0%} (target >= 50%)")
    print(
        f"database: {size / 1e6:,.1f} MB ({size / n:,.0f} bytes/post); "
        f"{counts['posts']:,} posts, {counts['flags']:,} flags, {counts['alerts']:,} alerts"
    )
    return 0 if ratio >= 0.5 else 1


if __name__ == "__main__":
    sys.exit(main())

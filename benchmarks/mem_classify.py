"""Where the memory of `modassist classify --workers 1` goes: resident memory as the run goes, and a
tracemalloc snapshot by file and line (numpy arrays included: numpy reports its buffers to tracemalloc).

Runs the one-process classify stream (`bot.output.classify_stream`, as `classify --workers 1` does) over a
JSON Lines file, printing VmRSS/VmHWM after start-up, after the suite is built and every `--every`
batches. With `--snapshot N`, tracing starts before the suite is built and stops after batch N (with the
most threads kept, where the peak is), printing the `--top` largest allocation sites. Tracing makes the run
about three times slower; the RSS timeline alone does not trace.

Usage: .venv/bin/python benchmarks/mem_classify.py POSTS.jsonl [--snapshot 20] [--top 25] [--every 8]
(POSTS.jsonl: the input bench_vs_peer.py builds, e.g. written by bench_classify.write_jsonl).
"""

from __future__ import annotations

import argparse
import os
import sys
import tracemalloc
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # as `modassist` sets it


def resident() -> str:
    """This process's resident and peak resident memory, in MiB."""
    fields = {}
    for line in Path("/proc/self/status").read_text(encoding="utf-8").splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            fields[name] = int(value.split()[0]) / 1024
    return f"RSS {fields.get('VmRSS', 0):6.0f} MiB, peak {fields.get('VmHWM', 0):6.0f} MiB"


class _StopError(Exception):
    pass


def main(argv: Sequence[str] | None = None) -> int:
    """Run the stream, print the timeline and the snapshot."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("posts", type=Path)
    parser.add_argument("--snapshot", type=int, default=0, help="batch after which to snapshot (0: none)")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--every", type=int, default=8, help="print RSS every this many batches")
    args = parser.parse_args(argv)
    print(f"start: {resident()}")
    if args.snapshot:
        tracemalloc.start(1)
    from bot.detectors import build_suite
    from bot.output import classify_stream
    from classifiers.suite import StreamReviewer
    from config.settings import get_settings

    print(f"imported: {resident()}")
    suite = build_suite(get_settings())
    print(f"suite built: {resident()}")
    review_many = StreamReviewer.review_many
    batches = 0

    def counted(self: StreamReviewer, items: Sequence[tuple[str | None, str, object]]) -> object:
        nonlocal batches
        found = review_many(self, items)  # type: ignore[arg-type]
        batches += 1
        if (batches - 1) % args.every == 0:
            chars = sum(len(item[2].text) for item in items)  # type: ignore[attr-defined]
            print(
                f"batch {batches:4d} ({len(items):3d} posts, {chars:7,d} chars), "
                f"{len(self._threads):3d} threads kept: {resident()}"
            )
        if batches == args.snapshot:
            snapshot_and_print(args.top)
            raise _StopError
        return found

    StreamReviewer.review_many = counted  # type: ignore[method-assign,assignment]
    with args.posts.open(encoding="utf-8") as source, Path(os.devnull).open("w", encoding="utf-8") as sink:
        try:
            classify_stream(suite, source, sink, sys.stderr)
        except _StopError:
            return 0
    print(f"end: {resident()}")
    return 0


def snapshot_and_print(top: int) -> None:
    """The largest live allocation sites now, and the traced total and peak."""
    current, peak = tracemalloc.get_traced_memory()
    snapshot = tracemalloc.take_snapshot().filter_traces(
        [tracemalloc.Filter(False, "<frozen *>"), tracemalloc.Filter(False, tracemalloc.__file__)]
    )
    print(f"traced now {current / 2**20:.1f} MiB (peak {peak / 2**20:.1f} MiB); largest sites:")
    for stat in snapshot.statistics("lineno")[:top]:
        frame = stat.traceback[0]
        where = (
            os.path.relpath(frame.filename, ROOT) if frame.filename.startswith(str(ROOT)) else frame.filename
        )
        print(f"{stat.size / 2**20:8.2f} MiB {stat.count:9,d} blocks  {where}:{frame.lineno}")


if __name__ == "__main__":
    raise SystemExit(main())

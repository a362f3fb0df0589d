"""CPU seconds of each detector over one-worker `classify`, for comparing two source trees on the same posts.

`bench_classify.py --breakdown` splits the time finer but reaches into today's modules; this script uses only
what every tree since issue 17 was filed has (`bot.detectors.build_suite`, `bot.output.classify_stream`, the
detectors' `category`, `begin_thread` or `review_batch`, and `classifiers.sentence.Transformer`), so it can be
run inside an older checkout, with that checkout's own venv (its C extension built), to compare like for like:

    git worktree add --detach /tmp/before REV && cd /tmp/before && python3 -m venv .venv \
        && .venv/bin/pip install -q -e . && OPENBLAS_NUM_THREADS=1 .venv/bin/python \
        /path/to/benchmarks/detector_cpu.py POSTS.jsonl --repeat 2

Run from the root of the tree to measure (it goes first on sys.path). The input is `classify` JSON Lines (for
instance the `bench_vs_peer` input: `bench_classify.write_jsonl` over `repeat_threads`). Set
OPENBLAS_NUM_THREADS=1, as `modassist` does for itself: CPU time counts every BLAS thread. The sentence
encoder's time is shown inside the off-topic detector's.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

ENCODER = "  sentence encoder (inside off_topic)"


def timing(spent: defaultdict[str, float], name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    """`function`, adding the CPU time of each call to `spent[name]`."""

    def timed(*args: Any, **kwargs: Any) -> Any:
        started = time.process_time()
        try:
            return function(*args, **kwargs)
        finally:
            spent[name] += time.process_time() - started

    return timed


def time_detectors(suite: Any, spent: defaultdict[str, float]) -> None:
    """Make each detector of `suite` add its CPU time to `spent[category]`: its `review_batch`, or each of
    its thread states' `review` (the Detector protocol has neither to replace, hence setattr)."""
    for detector in suite.detectors:
        batch = getattr(detector, "review_batch", None)
        if batch is not None:
            setattr(detector, "review_batch", timing(spent, detector.category, batch))  # noqa: B010
            continue

        def begin(
            thread_id: str, title: str, _begin: Any = detector.begin_thread, _name: str = detector.category
        ) -> Any:
            state = _begin(thread_id, title)
            state.review = timing(spent, _name, state.review)
            return state

        setattr(detector, "begin_thread", begin)  # noqa: B010


def measure(path: str) -> dict[str, float]:
    """One pass of one-worker classify over `path` in this process: CPU seconds by detector, and in all."""
    import bot.output as output
    import classifiers.sentence as sentence
    from bot.detectors import build_suite
    from config.settings import Settings

    spent: defaultdict[str, float] = defaultdict(float)
    started = time.process_time()
    suite = build_suite(Settings(_env_file=None))
    time_detectors(suite, spent)
    transformer = sentence.Transformer
    # Today's encoder runs batches through encode_many; the first one ran each text through encode.
    name = "encode_many" if "encode_many" in vars(transformer) else "encode"
    setattr(transformer, name, timing(spent, ENCODER, getattr(transformer, name)))
    with Path(path).open(encoding="utf-8") as source, Path(os.devnull).open("w", encoding="utf-8") as sink:
        output.classify_stream(suite, source, sink, io.StringIO())
    spent["total (models loaded, JSON read and written)"] = time.process_time() - started
    return spent


def main() -> int:
    """Measure `--repeat` times (each in a fresh process) and print the medians."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("input", help="classify JSON Lines")
    parser.add_argument("--repeat", type=int, default=1, help="passes, each in a new process (default 1)")
    parser.add_argument("--once", action="store_true", help=argparse.SUPPRESS)  # one pass, in this process
    args = parser.parse_args()
    if args.once:
        sys.path.insert(0, str(Path.cwd()))  # the tree being measured, before any of its modules is imported
        for part, seconds in measure(args.input).items():
            print(f"{seconds:.4f}\t{part}")
        return 0
    import subprocess

    runs: dict[str, list[float]] = {}
    for _ in range(max(1, args.repeat)):
        done = subprocess.run(
            [sys.executable, __file__, args.input, "--once"], capture_output=True, text=True, check=True
        )
        for line in done.stdout.splitlines():
            value, part = line.split("\t", 1)
            runs.setdefault(part, []).append(float(value))
    print(f"tree {Path.cwd()}, {args.input}, CPU seconds, median of {args.repeat} (range)")
    for part, values in runs.items():
        print(f"  {statistics.median(values):7.2f}  ({min(values):.2f}-{max(values):.2f})  {part}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

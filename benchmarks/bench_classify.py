"""Throughput and peak memory of `modassist classify` and of the duplicated-quote detector alone.

Builds large JSON Lines inputs from the 4forums dev threads (copies of the threads under new ids, written
to a temporary folder, never into the repository), then measures in one run:

1. the duplicated-quote detector alone, in this process, on one core (CPU time of `state.review(post)`
   over every post of every thread), against a plain reference (the share of words covered by 6-word
   shingles seen earlier, as in MEASUREMENTS.md); each is timed `--repeat` times, alternating, and the
   median is reported with the range, since other processes on the machine sway CPU time too;
2. the whole `modassist classify` process (three detectors, model loading included) at two input sizes,
   with each child's peak resident memory, to show that memory does not grow with the input.

With `--breakdown`, instead: where one-worker `classify` spends its CPU time over `--posts` posts, by part
(each detector, reading and writing JSON, loading the models), each part timed with CPU time around its
calls in this process: a profile without a profiler's overhead, to compare before and after a change.

Usage: .venv/bin/python benchmarks/bench_classify.py [--data-dir ../shared/data] [--posts 10000]
       [--repeat 3] [--skip-classify] [--breakdown]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
# One BLAS thread, as `modassist` runs (bot/cli.py): set before numpy is first imported.
for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")

from detector_cpu import time_detectors, timing  # noqa: E402

from classifiers.duplicates import QuoteDuplicateDetector  # noqa: E402
from classifiers.shingles import native  # noqa: E402
from classifiers.text import words  # noqa: E402
from classifiers.thread import Thread  # noqa: E402
from lab.datasets.iac import load_iac, repeat_threads  # noqa: E402


def write_jsonl(threads: list[Thread], path: Path) -> int:
    """The threads as classify input; returns the number of posts."""
    count = 0
    with path.open("w", encoding="utf-8") as fh:
        for thread in threads:
            for post in thread.posts:
                record = {
                    "id": f"{thread.id}-{post.id}",
                    "thread_id": thread.id,
                    "thread_title": thread.title,
                    "author": post.author,
                    "text": post.text,
                }
                fh.write(json.dumps(record) + "\n")
                count += 1
    return count


def time_detector(threads: list[Thread]) -> float:
    """Posts per CPU-second of the duplicated-quote detector alone."""
    detector = QuoteDuplicateDetector()
    count = sum(len(t.posts) for t in threads)
    start = time.process_time()
    for thread in threads:
        state = detector.begin_thread(thread.id, thread.title)
        for post in thread.posts:
            state.review(post)
    return count / (time.process_time() - start)


def workload(threads: list[Thread]) -> tuple[float, float]:
    """Shares of the posts that repeat earlier posts at all, and enough to get evidence (untimed)."""
    detector = QuoteDuplicateDetector()
    repeating = with_evidence = total = 0
    for thread in threads:
        state = detector.begin_thread(thread.id, thread.title)
        for post in thread.posts:
            found = state.review(post)
            total += 1
            repeating += bool(found.reasons)
            with_evidence += bool(found.evidence)
    return repeating / total, with_evidence / total


def time_reference(threads: list[Thread]) -> float:
    """Posts per CPU-second of the plain reference: share of words in 6-word shingles seen earlier."""
    count = sum(len(t.posts) for t in threads)
    start = time.process_time()
    for thread in threads:
        seen: set[tuple[str, ...]] = set()
        for post in thread.posts:
            tokens = words(post.text)
            grams = [tuple(tokens[i : i + 6]) for i in range(len(tokens) - 5)]
            covered = [False] * len(tokens)
            for i, gram in enumerate(grams):
                if gram in seen:
                    covered[i : i + 6] = [True] * 6
            seen.update(grams)
            _ = sum(covered) / len(tokens) if tokens else 0.0
    return count / (time.process_time() - start)


def modassist_argv() -> list[str]:
    """The installed `modassist` console script beside this interpreter, else `python -m bot.cli`."""
    exe = Path(sys.executable).with_name("modassist")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "bot.cli"]


def run_classify(path: Path, posts: int) -> tuple[float, float]:
    """Whole-process posts/s (wall clock, model loading included) and the child's peak RSS in MiB."""
    command = modassist_argv()
    start = time.perf_counter()
    with path.open("rb") as stdin:
        proc = subprocess.Popen([*command, "classify"], stdin=stdin, stdout=subprocess.DEVNULL, cwd=ROOT)
        _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    if status != 0:
        raise SystemExit(f"modassist classify failed with status {status}")
    return posts / elapsed, usage.ru_maxrss / 1024


def main() -> int:
    """Run the benchmark and print the table."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data-dir", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument(
        "--posts", type=int, default=10_000, help="posts in the smaller input (the larger is 4x)"
    )
    parser.add_argument("--repeat", type=int, default=3, help="timings of each in-process method")
    parser.add_argument("--skip-classify", action="store_true", help="only the in-process detector timing")
    parser.add_argument("--breakdown", action="store_true", help="only the CPU time of classify by part")
    args = parser.parse_args()
    console = Console(highlight=False, width=max(Console().width, 110))
    corpus = [item.thread for item in load_iac(args.data_dir)]
    if args.breakdown:
        breakdown(console, repeat_threads(corpus, args.posts))
        return 0

    small = repeat_threads(corpus, args.posts)
    n_small = sum(len(t.posts) for t in small)
    repeating, with_evidence = workload(small)
    load_before = os.getloadavg()[0]
    references, detectors = [], []
    for _ in range(args.repeat):
        references.append(time_reference(small))
        detectors.append(time_detector(small))
    reference, detector = statistics.median(references), statistics.median(detectors)
    title = f"duplicated-quote detector alone, one core, {n_small} posts (CPU time, median of {args.repeat})"
    table = Table(title=title, title_justify="left")
    for column in ("method", "posts/s", "range", "µs/post", "ratio to reference"):
        table.add_column(column, justify="left" if column == "method" else "right")
    for name, runs, rate in (
        ("plain 6-word shingles (reference)", references, reference),
        ("QuoteDuplicateDetector", detectors, detector),
    ):
        spread = f"{min(runs):,.0f}-{max(runs):,.0f}"
        table.add_row(name, f"{rate:,.0f}", spread, f"{1e6 / rate:.0f}", f"{rate / reference:.2f}")
    console.print(table)
    console.print(
        f"{repeating:.0%} of the posts repeat earlier posts of their thread, {with_evidence:.0%} enough "
        f"for evidence spans; load average {load_before:.2f} before, {os.getloadavg()[0]:.2f} after "
        f"(other processes on the machine slow CPU time too)"
    )
    console.print(
        "shingle hashing and lookups: "
        + ("the C extension classifiers._shingles" if native is not None else "numpy and plain Python")
        + " (MODASSIST_PURE_PYTHON=1 times the fallback)"
    )
    console.print(f"target >= 20,000 posts/s: {'met' if detector >= 20_000 else 'NOT met'}")

    if not args.skip_classify:
        whole_process_table(console, corpus, args.posts)
    return 0


def whole_process_table(console: Console, corpus: list[Thread], n_posts: int) -> None:
    """`modassist classify` as a whole process on two input sizes: posts/s and each child's peak RSS."""
    table = Table(title="modassist classify, whole process (wall clock, models loaded)", title_justify="left")
    for column in ("input", "posts", "posts/s", "peak RSS MiB"):
        table.add_column(column, justify="left" if column == "input" else "right")
    with tempfile.TemporaryDirectory() as tmp:
        for label, size in (("small", n_posts), ("large (4x)", 4 * n_posts)):
            path = Path(tmp) / f"{label.split()[0]}.jsonl"
            posts = write_jsonl(repeat_threads(corpus, size), path)
            rate, rss = run_classify(path, posts)
            table.add_row(label, f"{posts:,}", f"{rate:,.0f}", f"{rss:,.0f}")
    console.print(table)
    console.print(
        f"this process peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MiB"
    )


def breakdown(console: Console, threads: list[Thread]) -> None:
    """One-worker `classify` (bot.output.classify_stream) in this process, its CPU time by part."""
    import bot.output as output
    from bot.detectors import build_suite
    from config.settings import Settings

    spent: defaultdict[str, float] = defaultdict(float)
    started = time.process_time()
    suite = build_suite(Settings(_env_file=None))
    spent["loading the models"] = time.process_time() - started
    time_detectors(suite, spent)
    inflammatory = next((d for d in suite.detectors if d.category == "inflammatory"), None)
    if inflammatory is not None:  # its parts, inside its total
        model = inflammatory.model  # type: ignore[attr-defined]
        model.decision = timing(spent, "  inflammatory: scoring", model.decision)
        model.attributions = timing(spent, "  inflammatory: explanations (attributions)", model.attributions)
    output.parse_jsonl_line = timing(spent, "reading JSON", output.parse_jsonl_line)  # type: ignore[assignment]
    output.review_record = timing(spent, "writing JSON", output.review_record)  # type: ignore[assignment]
    output.dumps = timing(spent, "writing JSON", output.dumps)  # type: ignore[assignment]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "posts.jsonl"
        posts = write_jsonl(threads, path)
        with path.open(encoding="utf-8") as source, Path(os.devnull).open("w", encoding="utf-8") as sink:
            output.classify_stream(suite, source, sink, io.StringIO())
    total = time.process_time() - started
    table = Table(title=f"one-worker classify, {posts:,} posts: CPU time by part", title_justify="left")
    for column in ("part", "CPU s", "share"):
        table.add_column(column, justify="left" if column == "part" else "right")
    parts = [k for k in spent if not k.startswith(" ")]
    rows = [
        *spent.items(),
        ("the rest (suite, batching, thread memory)", total - sum(spent[k] for k in parts)),
    ]
    for name, seconds in rows:
        table.add_row(name, f"{seconds:.2f}", f"{seconds / total:.0%}")
    table.add_row("total", f"{total:.2f}", f"{posts / total:,.0f} posts/CPU-s")
    console.print(table)
    console.print(f"load average {os.getloadavg()[0]:.2f} (other processes slow CPU time too)")


if __name__ == "__main__":
    raise SystemExit(main())

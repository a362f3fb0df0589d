"""modassist against the one-category peer, whole processes on the same posts, in one run.

The input is the 4forums threads of the shared data (copies under new ids until `--posts` posts), written as
`classify` JSON Lines to a temporary folder (never into the repository). Then, alternating, `--repeat` times:

- `modassist classify` (three detectors, thread context, reasons), once per worker setting;
- the peer, alt-profanity-check's `predict_prob` (one category, no context, no reasons), in its own process
  reading the same file and writing one probability per post.

Each run is timed on the wall clock from process start to exit (imports and model loading included), and the
child's peak resident memory is read from `wait4`. The table gives the median posts/s with the range, the
ratio to the peer (>= 1.0 means modassist is at least as fast) and the peak RSS. Start-up is `modassist
classify` on one post, the median of five runs (wall clock, and CPU: on a busy machine the wall clock also
counts waiting for a core); last, the resident memory of `modassist run` at idle, and once it has
reviewed a short thread (which loads the sentence encoder). `--startup-only` measures
only these two.

Needs the peer: `.venv/bin/pip install -e '.[train]'`.
Usage: .venv/bin/python benchmarks/bench_vs_peer.py [--data-dir ../shared/data] [--posts 14421] [--repeat 3]
       [--workers 1] [--startup-only]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_classify import modassist_argv, write_jsonl  # noqa: E402

from lab.datasets.iac import load_iac, repeat_threads  # noqa: E402

# The peer's whole process: read the posts, score them in batches, write one probability per line.
PEER_SCRIPT = """
import json, sys
from profanity_check import predict_prob
texts = [json.loads(line)["text"] for line in open(sys.argv[1], encoding="utf-8") if line.strip()]
out = sys.stdout
for start in range(0, len(texts), 1000):
    for p in predict_prob(texts[start:start + 1000]):
        out.write(f"{p:.6f}\\n")
"""


@dataclass(frozen=True)
class Run:
    """One whole process: wall seconds, peak RSS in MiB, and CPU seconds (user + system: on a shared
    machine, wall time also counts the waits for a core)."""

    seconds: float
    rss_mib: float
    cpu_seconds: float = 0.0


def timed(command: Sequence[str], stdin_path: Path | None = None) -> Run:
    """Run `command` to completion with its output discarded; wall time and the child's peak RSS."""
    stdin = stdin_path.open("rb") if stdin_path is not None else subprocess.DEVNULL
    try:
        start = time.perf_counter()
        proc = subprocess.Popen(command, stdin=stdin, stdout=subprocess.DEVNULL, cwd=ROOT, env=child_env())
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - start
    finally:
        if stdin_path is not None:
            stdin.close()  # type: ignore[union-attr]
    if status != 0:
        raise SystemExit(f"{' '.join(command[:3])} ... failed with status {status}")
    return Run(elapsed, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime)


def child_env() -> dict[str, str]:
    """The environment of the measured processes: no MODASSIST_* settings of the developer, and bytecode
    cached as on an installed machine (a PYTHONDONTWRITEBYTECODE shell would recompile every module at
    every start, which no user pays)."""
    drop = ("MODASSIST_", "PYTHONDONTWRITEBYTECODE")
    return {k: v for k, v in os.environ.items() if not k.startswith(drop)}


def modassist_command(workers: int | None) -> list[str]:
    """`modassist classify`, with `--workers N` when it is asked for."""
    return [*modassist_argv(), "classify", *([] if workers is None else ["--workers", str(workers)])]


def startup(path: Path) -> tuple[float, float]:
    """Median wall and CPU seconds of `modassist classify` on one post (imports, models, the first
    verdict), over five runs."""
    one = path.with_name("one.jsonl")
    with path.open(encoding="utf-8") as fh:
        one.write_text(fh.readline(), encoding="utf-8")
    timed(modassist_command(None), one)  # writes the bytecode caches, as the first use after install does
    runs = [timed(modassist_command(None), one) for _ in range(5)]
    return statistics.median(r.seconds for r in runs), statistics.median(r.cpu_seconds for r in runs)


# A short everyday thread of our own words: its opening post is short, so the off-topic detector's `auto`
# style reads it with the sentence encoder, and its last reply drifts (an alert shows it has been reviewed).
SHORT_THREAD = [
    ("f1", "quayside", "Does anyone know when the first ferry leaves on Saturdays in winter?"),
    ("f2", "deckhand", "Quarter past seven, then every hour until the evening."),
    ("f3", "grumbler", "Did anyone watch the match last night? What a goal in the second half."),
]


def idle_run() -> tuple[float, float]:
    """Resident MiB of `modassist run` at idle (no Discord token, nothing watched, two seconds after it has
    said it is ready: the detectors are loaded, the sentence encoder is not yet), and of the same process
    watching a JSON Lines file with one short thread, two seconds after its alert (the encoder is loaded by
    the first thread that opens short, and stays)."""
    with tempfile.TemporaryDirectory() as tmp:
        idle = _run_rss(Path(tmp), {}, None)
        posts = Path(tmp) / "short.jsonl"
        lines = [
            json.dumps(
                {
                    "id": i,
                    "thread_id": "ferry",
                    "thread_title": "Saturday ferry times",
                    "author": a,
                    "text": x,
                }
            )
            for i, a, x in SHORT_THREAD
        ]
        posts.write_text("\n".join(lines) + "\n", encoding="utf-8")
        watching = _run_rss(Path(tmp), {"MODASSIST_WATCH__JSONL__PATHS": json.dumps([str(posts)])}, "alert 1")
    return idle, watching


def _run_rss(tmp: Path, extra: dict[str, str], wait_for: str | None) -> float:
    """Resident MiB of `modassist run` two seconds after it is ready, or after it printed `wait_for` (at
    most a minute later: a run that never prints it stops the benchmark)."""
    env = {**child_env(), "MODASSIST_DATABASE": str(tmp / f"modassist-{len(extra)}.db"), **extra}
    proc = subprocess.Popen([*modassist_argv(), "run"], cwd=tmp, env=env, stdout=subprocess.PIPE, text=True)
    ready, seen = threading.Event(), threading.Event()

    def read(stdout: IO[str]) -> None:
        for number, line in enumerate(stdout):  # read to the end, so the process never blocks on its pipe
            if number == 0:
                ready.set()  # the first line is printed once the suite is built
            if wait_for is not None and wait_for in line:
                seen.set()
        ready.set()

    assert proc.stdout is not None
    reader = threading.Thread(target=read, args=(proc.stdout,), daemon=True)
    reader.start()
    try:
        if not ready.wait(60) or (wait_for is not None and not seen.wait(60)):
            raise SystemExit(f"`modassist run` did not print {wait_for or 'its settings'!r} within a minute")
        time.sleep(2.0)
        if proc.poll() is not None:
            raise SystemExit(f"`modassist run` stopped with status {proc.returncode} instead of idling")
        status = Path(f"/proc/{proc.pid}/status").read_text(encoding="utf-8")
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        reader.join(timeout=30)
    rss_kib = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:"))
    return rss_kib / 1024


def check_peer() -> None:
    """Stop with what to do when the peer is not installed."""
    probe = subprocess.run([sys.executable, "-c", "import profanity_check"], capture_output=True)
    if probe.returncode != 0:
        raise SystemExit(
            "the peer is not installed: run `.venv/bin/pip install -e '.[train]'` (alt-profanity-check)"
        )


def main(argv: Sequence[str] | None = None) -> int:
    """Build the input, run both processes, print the table."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data-dir", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--posts", type=int, default=14_421, help="posts in the input (default: 14,421)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each process, alternating")
    parser.add_argument(
        "--workers",
        type=int,
        action="append",
        help="a `classify --workers` setting to measure besides the default (repeatable; default: 1)",
    )
    parser.add_argument(
        "--startup-only",
        action="store_true",
        help="measure only the start-up and the idle `modassist run`, not the throughput",
    )
    args = parser.parse_args(argv)
    if not args.startup_only:
        check_peer()
    console = Console(highlight=False, width=max(Console().width, 100))
    threads = repeat_threads([item.thread for item in load_iac(args.data_dir)], args.posts)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "posts.jsonl"
        posts = write_jsonl(threads, path)
        settings: list[int | None] = [None, *(args.workers or [1])]
        runs: dict[str, list[Run]] = {"peer": []}
        for workers in settings:
            runs[label(workers)] = []
        with console.status("running both processes") as status:
            for round_ in range(0 if args.startup_only else args.repeat):
                status.update(f"round {round_ + 1} of {args.repeat}: the peer")
                runs["peer"].append(timed([sys.executable, "-c", PEER_SCRIPT, str(path)]))
                for workers in settings:
                    status.update(f"round {round_ + 1} of {args.repeat}: {label(workers)}")
                    runs[label(workers)].append(timed(modassist_command(workers), path))
            status.update("start-up: modassist classify on one post, five times")
            first, first_cpu = startup(path)
            status.update("modassist run at idle")
            idle = idle_run()
    if not args.startup_only:
        print_table(console, posts, runs, args.repeat)
        console.print(
            "peak RSS is the largest single process (with workers, each worker shares the model pages it "
            "was forked with)"
        )
        console.print(
            f"input: the 4forums threads of {args.data_dir}, copied under new ids to {posts:,} posts"
        )
    print_startup(console, (first, first_cpu), idle)
    return 0


def print_startup(console: Console, first: tuple[float, float], idle: tuple[float, float]) -> None:
    """The start-up (wall and CPU seconds) and `modassist run`'s memory lines."""
    console.print(
        f"start-up of `modassist classify` on one post: {first[0]:.2f} s (median of 5; target <= 0.4 s), "
        f"of which CPU {first[1]:.2f} s"
    )
    console.print(
        f"`modassist run` at idle, no token, nothing watched: {idle[0]:,.0f} MiB resident (target <= 100); "
        f"after reviewing one short thread (the sentence encoder loaded): {idle[1]:,.0f} MiB"
    )
    console.print(f"load average after the runs: {os.getloadavg()[0]:.2f} (other processes sway wall time)")


def label(workers: int | None) -> str:
    """The row name of a worker setting."""
    return "modassist classify" + (
        f" (default: {os.cpu_count()} cores)" if workers is None else f" --workers {workers}"
    )


def print_table(console: Console, posts: int, runs: dict[str, list[Run]], repeat: int) -> None:
    """Median posts/s (with the range), ratio to the peer, median CPU seconds (the process and the
    workers it waited for: on a shared machine the steadier figure) and peak RSS of each process."""
    peer_rate = posts / statistics.median(r.seconds for r in runs["peer"])
    table = Table(
        title=f"{posts:,} posts, whole processes, wall clock, median of {repeat}",
        title_justify="left",
    )
    for column in ("process", "posts/s", "range", "ratio to the peer", "CPU s", "peak RSS MiB"):
        table.add_column(column, justify="left" if column == "process" else "right")
    for name, items in runs.items():
        rates = [posts / r.seconds for r in items]
        rate = statistics.median(rates)
        shown = "alt-profanity-check predict_prob (the peer)" if name == "peer" else name
        table.add_row(
            shown,
            f"{rate:,.0f}",
            f"{min(rates):,.0f}-{max(rates):,.0f}",
            f"{rate / peer_rate:.2f}",
            f"{statistics.median(r.cpu_seconds for r in items):.1f}",
            f"{max(r.rss_mib for r in items):,.0f}",
        )
    console.print(table)


if __name__ == "__main__":
    raise SystemExit(main())

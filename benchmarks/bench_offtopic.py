"""Off-topic detector throughput and memory, against a plain TF-IDF cosine measured in the same run.

    .venv/bin/python benchmarks/bench_offtopic.py [--data-dir ../shared/data] [--copies 3]
        [--style auto discussion]

With several styles, each is a detector of its own, the runs of the methods take turns (best of `--repeat`
counts) and the throughput of each style is printed as a ratio to the last one's, measured in the same run.

Input: the 4forums dev threads (political sample and non-political pool, about 4,300 posts of 174
words on average), repeated `--copies` times under fresh thread ids, read in thread order. Both methods
run on one core (BLAS limited to one thread) and are timed by process CPU time, so other work on the
machine does not count against them; wall time is printed too.

- modassist: `OffTopicDetector.review` for every post, with the shipped model (streaming, bounded state
  per thread; reasons and evidence built for the posts that score high enough).
- peer: plain TF-IDF cosine (scikit-learn `TfidfVectorizer` fitted on the same background texts),
  each post's cosine to the title + opening post and to the sum of the earlier posts; vectorised a
  whole thread at a time, which is the cheapest way to run it.

Memory: peak Python allocations (tracemalloc) of each method over one copy of the input, after its
model is loaded, and the process's peak resident size at the end.
"""

from __future__ import annotations

import argparse
import functools
import resource
import sys
import time
import tracemalloc
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from classifiers.offtopic import OffTopicDetector
from classifiers.thread import Thread
from lab.commands.train_offtopic import Corpora


def run_modassist(detector: OffTopicDetector, threads: Sequence[Thread]) -> int:
    """Review every post; returns how many were flagged at the default threshold."""
    flagged = 0
    space = detector.semantic_space
    encoder = space.sentence if space is not None else None
    for thread in threads:
        if encoder is not None:
            encoder.forget()  # copies of a thread repeat its texts: each is encoded as if new
        state = detector.begin_thread(thread.id, thread.title)
        for post in thread.posts:
            flagged += state.review(post).score >= detector.flag_threshold
    return flagged


def run_plain(vectorizer: TfidfVectorizer, threads: Sequence[Thread]) -> int:
    """Plain TF-IDF cosine to title + opening post and to the thread so far; counts scores above 0.7."""
    flagged = 0
    for thread in threads:
        texts = [thread.title + "\n" + thread.posts[0].text] + [p.text for p in thread.posts[1:]]
        matrix = vectorizer.transform(texts).toarray()
        running = matrix[0].copy()
        for i in range(1, len(texts)):
            v = matrix[i]
            norm = float(np.linalg.norm(running))
            to_thread = float(v @ running) / norm if norm else 0.0
            flagged += 1.0 - (float(v @ matrix[0]) + to_thread) / 2.0 >= 0.7
            running += v
    return flagged


def timed(run: Callable[[], int]) -> tuple[float, float]:
    """CPU seconds and wall seconds of one run."""
    cpu, wall = time.process_time(), time.perf_counter()
    run()
    return time.process_time() - cpu, time.perf_counter() - wall


def peak_traced(run: Callable[[], int]) -> float:
    """Peak Python allocations during `run`, in MB."""
    tracemalloc.start()
    run()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 1e6


def _name(style: str, n_styles: int) -> str:
    return f"modassist off-topic ({style})" if n_styles > 1 else "modassist off-topic"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print posts/s, the ratio and memory."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", type=Path, default=Path("../shared/data"))
    parser.add_argument("--copies", type=int, default=3, help="how many times to repeat the dev threads")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per method (best counts)")
    parser.add_argument(
        "--style",
        nargs="+",
        default=["discussion"],
        choices=("discussion", "auto", "everyday", "question"),
        help="off-topic style(s) (the product's default is auto; these debate threads are discussions)",
    )
    args = parser.parse_args(argv)

    corpora = Corpora.load(args.data_dir)
    base = [t.thread for t in [*corpora.political, *corpora.nonpolitical]]
    threads = [replace(t, id=f"{t.id}#{copy}") for copy in range(args.copies) for t in base]
    n_posts = sum(len(t.posts) for t in threads)
    n_words = sum(len(p.text.split()) for t in threads for p in t.posts)

    detectors = {style: OffTopicDetector.load(style=style) for style in dict.fromkeys(args.style)}
    vectorizer = TfidfVectorizer(stop_words="english", sublinear_tf=True, min_df=2).fit(
        corpora.background_texts()
    )
    methods: dict[str, Callable[[Sequence[Thread]], int]] = {
        _name(style, len(detectors)): functools.partial(run_modassist, detector)
        for style, detector in detectors.items()
    }
    methods["plain TF-IDF cosine"] = functools.partial(run_plain, vectorizer)

    runs: dict[str, list[tuple[float, float]]] = {name: [] for name in methods}
    with threadpool_limits(limits=1):
        for _ in range(args.repeat):  # the methods take turns, so a busy spell hits them alike
            for name, run in methods.items():
                runs[name].append(timed(lambda run=run: run(threads)))
        memory = {name: peak_traced(lambda run=run: run(base)) for name, run in methods.items()}
    results = {name: min(found) for name, found in runs.items()}
    print(f"{n_posts} posts ({n_words / n_posts:.0f} words on average) in {len(threads)} threads, one core")
    print(f"{'method':<30}{'posts/s (CPU)':>15}{'posts/s (wall)':>16}{'peak alloc MB':>15}")
    for name, (cpu, wall) in results.items():
        print(f"{name:<30}{n_posts / cpu:>15,.0f}{n_posts / wall:>16,.0f}{memory[name]:>15.1f}")
    peer = results["plain TF-IDF cosine"][0]
    names = [_name(style, len(detectors)) for style in detectors]
    for name in names:
        print(f"ratio {name} / plain cosine: {peer / results[name][0]:.2f}x the peer's throughput")
    for name in names[:-1]:
        print(f"ratio {name} / {names[-1]}: {results[names[-1]][0] / results[name][0]:.2f}x its throughput")
    print(f"process peak resident size: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())

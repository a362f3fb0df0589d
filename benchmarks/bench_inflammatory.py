"""Throughput and peak memory of the inflammatory detector against alt-profanity-check, same posts, one run.

    .venv/bin/python benchmarks/bench_inflammatory.py --data-dir ../shared/data [--posts 20000] [--rounds 3]

The posts are the dev-test texts of the four labelled corpora (tweets and news comments), cycled up to
`--posts`. Each contender runs in a fresh Python process (so peak memory is its own), loads its model, then
scores all posts in batches, `--rounds` times; the best round counts. Printed per contender: load time,
posts/s while scoring, posts/s for the whole job (load included), peak resident memory (VmHWM; and
what it was before loading, with the posts read), and the ratios
modassist / peer. The peer needs the `train` extra (`pip install -e '.[train]'`).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

_WORKER = r"""
import json, sys, time
sys.path.insert(0, {root!r})
which, path, rounds, batch = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
def peak_kb():
    # VmHWM: this process's peak resident memory (ru_maxrss would include the parent's from before exec).
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0
posts = json.load(open(path, encoding="utf-8"))
rss_before = peak_kb()
started = time.perf_counter()
if which == "modassist":
    from classifiers.inflammatory import InflammatoryDetector
    detector = InflammatoryDetector.load()
    score = lambda texts: detector.score_texts(texts, batch_size=batch)
else:
    from profanity_check import predict_prob
    score = lambda texts: predict_prob(texts)
load = time.perf_counter() - started
best = float("inf")
for _ in range(rounds):
    t = time.perf_counter()
    for i in range(0, len(posts), batch):
        score(posts[i : i + batch])
    best = min(best, time.perf_counter() - t)
print(json.dumps({{"load": load, "score": best, "rss_kb": peak_kb(),
                  "rss_before_kb": rss_before}}))
"""


def _posts(data_dir: Path, count: int) -> list[str]:
    sys.path.insert(0, str(ROOT))
    from classifiers.training.inflammatory import dev_test_part
    from lab.datasets.toxicity import CORPUS_NAMES, read_corpus

    texts = [
        r.text
        for name in CORPUS_NAMES
        for r in read_corpus(data_dir, name)
        if dev_test_part(r.corpus, r.group)
    ]
    return [texts[i % len(texts)] for i in range(count)]


def _run(which: str, path: Path, rounds: int, batch: int) -> dict[str, float]:
    code = _WORKER.format(root=str(ROOT))
    out = subprocess.run(
        [sys.executable, "-c", code, which, str(path), str(rounds), str(batch)],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def main() -> int:
    """Run both contenders and print the comparison."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data-dir", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--posts", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch", type=int, default=512)
    args = parser.parse_args()
    posts = _posts(args.data_dir, args.posts)
    chars = sum(len(p) for p in posts) / len(posts)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "posts.json"
        path.write_text(json.dumps(posts), encoding="utf-8")
        results = {}
        for which in ("modassist", "peer"):
            try:
                results[which] = _run(which, path, args.rounds, args.batch)
            except subprocess.CalledProcessError as exc:
                print(f"{which}: failed\n{exc.stderr}", file=sys.stderr)
    n = len(posts)
    print(f"{n:,} posts (mean {chars:.0f} characters), batches of {args.batch}, best of {args.rounds} rounds")
    print(f"{'':12} {'load s':>8} {'posts/s':>10} {'whole job/s':>12} {'peak MB':>8} {'before load':>12}")
    rows = {}
    for which, r in results.items():
        rate = n / r["score"]
        whole = n / (r["score"] + r["load"])
        rss = r["rss_kb"] / 1024
        rows[which] = (rate, whole, rss, r["load"])
        before = r["rss_before_kb"] / 1024
        print(f"{which:12} {r['load']:8.2f} {rate:10,.0f} {whole:12,.0f} {rss:8.0f} {before:12.0f}")
    if len(rows) == 2:
        ours, peer = rows["modassist"], rows["peer"]
        print(
            f"ratio modassist/peer: throughput {ours[0] / peer[0]:.2f}x, whole job {ours[1] / peer[1]:.2f}x, "
            f"peak memory {ours[2] / peer[2]:.2f}x"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Are the detectors' scores unchanged? Full-precision scores of two source trees on the same posts.

`classify` rounds scores to four decimals, too coarse to check a change that must move no score by more
than 1e-6. This script runs the detector suite of each tree (with the embedded default settings) over the
same `classify` JSON Lines input, in the same batches as `classify`, in its own process per tree, and
compares: per category the largest absolute difference of the raw scores, how many flags differ, and how
many flags' reasons changed (reasons may change on purpose; scores and flags may not).

Usage:
  .venv/bin/python benchmarks/score_diff.py INPUT.jsonl --before /path/to/old/checkout [--after .]
  .venv/bin/python benchmarks/score_diff.py INPUT.jsonl --before-rev HEAD~3     (a temporary worktree)
Exit status 1 when a score moved by more than --tolerance (default 1e-6) or a flag appeared or went.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Run inside the tree being measured (its own packages first on sys.path): one JSON line per post with the
# raw scores, the flagged categories and their reasons.
DUMP = """
import json, sys
from bot.detectors import build_suite
from bot.sources.jsonl import parse_jsonl_line
from classifiers.suite import StreamReviewer
from config.settings import Settings

suite = build_suite(Settings(_env_file=None))
# The thread-state bound `classify` keeps, where the tree has one (bot.output.STREAM_STATE_CHARS).
import bot.output
budget = getattr(bot.output, "STREAM_STATE_CHARS", None)
reviewer = StreamReviewer(suite) if budget is None else StreamReviewer(suite, max_chars=budget)
out = open(sys.argv[2], "w", encoding="utf-8")
batch = []

def flush():
    for review in reviewer.review_many(batch):
        record = {
            "id": review.post.id,
            "scores": {c: float(s) for c, s in review.scores.items()},
            "flags": {f.category: list(f.reasons) for f in review.flags},
        }
        out.write(json.dumps(record) + "\\n")
    batch.clear()

with open(sys.argv[1], encoding="utf-8", errors="surrogateescape", newline="\\n") as source:
    for lineno, line in enumerate(source, start=1):
        if line.strip():
            batch.append(parse_jsonl_line(line, lineno))
        if len(batch) >= 256:
            flush()
flush()
out.close()
"""


def dump(tree: Path, input_path: Path, out_path: Path) -> None:
    """Raw scores of the suite in `tree` over `input_path`, written to `out_path`."""
    # One BLAS thread, as `modassist` runs (bot/cli.py), for both trees alike.
    env = {**os.environ, "PYTHONPATH": str(tree), "PYTHONSAFEPATH": "1", "OPENBLAS_NUM_THREADS": "1"}
    for key in [k for k in env if k.startswith("MODASSIST_")]:
        del env[key]
    subprocess.run(
        [sys.executable, "-c", DUMP, str(input_path), str(out_path)], cwd=tree, env=env, check=True
    )


def compare(before: Path, after: Path, tolerance: float) -> int:
    """Print the differences; 1 if a score moved beyond `tolerance` or a flag changed."""
    worst: dict[str, float] = {}
    flags_changed = reasons_changed = posts = 0
    examples: list[str] = []
    with before.open(encoding="utf-8") as a, after.open(encoding="utf-8") as b:
        for line_a, line_b in zip(a, b, strict=True):
            ra, rb = json.loads(line_a), json.loads(line_b)
            if ra["id"] != rb["id"]:
                raise SystemExit(f"posts out of step: {ra['id']} against {rb['id']}")
            posts += 1
            for category, score in ra["scores"].items():
                diff = abs(score - rb["scores"].get(category, float("nan")))
                worst[category] = max(worst.get(category, 0.0), diff if diff == diff else float("inf"))
            if set(ra["flags"]) != set(rb["flags"]):
                flags_changed += 1
                if len(examples) < 5:
                    examples.append(f"  {ra['id']}: {sorted(ra['flags'])} -> {sorted(rb['flags'])}")
            elif ra["flags"] != rb["flags"]:
                reasons_changed += 1
    print(f"{posts} posts")
    for category, diff in worst.items():
        print(f"  {category:18} max |score difference| {diff:.3g}")
    print(f"  flags that appeared or went: {flags_changed}")
    print(f"  flags whose reasons changed: {reasons_changed}")
    print("\n".join(examples))
    moved = any(d > tolerance for d in worst.values())
    return 1 if moved or flags_changed else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("input", type=Path, help="classify JSON Lines input")
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--before", type=Path, help="checkout of the old code")
    which.add_argument("--before-rev", help="git revision of this repository (checked out to a temp dir)")
    parser.add_argument("--after", type=Path, default=ROOT, help="checkout of the new code (default: here)")
    parser.add_argument("--tolerance", type=float, default=1e-6)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="score-diff-") as tmp:
        work = Path(tmp)
        before_tree = args.before
        if args.before_rev:
            before_tree = work / "before"
            add = ["worktree", "add", "--detach", "-q", str(before_tree), args.before_rev]
            subprocess.run(["git", "-C", str(ROOT), *add], check=True)
        try:
            dump(before_tree.resolve(), args.input.resolve(), work / "before.jsonl")
            dump(args.after.resolve(), args.input.resolve(), work / "after.jsonl")
            return compare(work / "before.jsonl", work / "after.jsonl", args.tolerance)
        finally:
            if args.before_rev:
                subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(before_tree)])


if __name__ == "__main__":
    sys.exit(main())

"""Duplicated-quote flags by what a post does (issue 15): how many of each group the detector flags.

Reads the 4forums dev threads (both files; quotes stand inline, their spans come from the corpus) and sorts
every post into one group, in this order:

- no quote: no quote span at all;
- outside source: quote spans, none of them of an earlier post of the thread;
- re-quote: quotes a passage (8+ words, about 40 characters) that an earlier post of the thread already
  quoted;
- over-quote: quotes an earlier post and adds at most 15 words of its own;
- short reply: quotes an earlier post and adds 16-39 words;
- ordinary reply: quotes an earlier post and adds 40 or more words.

A span is "of an earlier post" when its post id is an earlier post's, or, without an id, its author wrote an
earlier post (the corpus' "author" reading). Own words are the words outside every quote span.

    .venv/bin/python benchmarks/dup_groups.py [--data-dir ../shared/data] [--threshold 0.6]
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.datasets.iac import IacThread, load_iac  # noqa: E402
from classifiers.duplicates import QuoteDuplicateDetector  # noqa: E402
from classifiers.text import words  # noqa: E402

GROUPS = ("no quote", "over-quote", "re-quote", "ordinary reply", "short reply", "outside source")
REQUOTE_WORDS = 8  # 8 words of forum English run to about 40 characters


def groups_of(item: IacThread) -> list[str]:
    """The group of every post of the thread, in order."""
    out: list[str] = []
    quoted_before: set[tuple[str, ...]] = set()  # word shingles of the passages earlier posts quoted
    for index, post in enumerate(item.thread.posts):
        earlier = {p.id for p in item.thread.posts[:index]}
        authors = {p.author for p in item.thread.posts[:index] if p.author}
        spans = item.quote_spans.get(post.id, ())
        inside = [s for s in spans if (s.post_id in earlier) or (s.post_id is None and s.author in authors)]
        passages = [_shingles(post.text[s.start : s.end]) for s in inside]
        own = post.text
        for s in sorted(spans, key=lambda s: -s.start):
            own = own[: max(0, s.start)] + " " + own[max(0, s.end) :]
        n_own = len(words(own))
        if not spans:
            group = "no quote"
        elif not inside:
            group = "outside source"
        elif any(not p.isdisjoint(quoted_before) for p in passages):
            group = "re-quote"
        elif n_own <= 15:
            group = "over-quote"
        elif n_own < 40:
            group = "short reply"
        else:
            group = "ordinary reply"
        out.append(group)
        for s in spans:
            quoted_before |= _shingles(post.text[s.start : s.end])
    return out


def _shingles(passage: str) -> set[tuple[str, ...]]:
    """Runs of `REQUOTE_WORDS` words (about 40 characters): two passages sharing one share 40+ characters."""
    found = [w.casefold() for w in words(passage)]
    return {tuple(found[i : i + REQUOTE_WORDS]) for i in range(len(found) - REQUOTE_WORDS + 1)}


def main(argv: Sequence[str] | None = None) -> int:
    """Print posts and flagged share per group."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--threshold", type=float, default=0.6)
    args = parser.parse_args(argv)
    threads = load_iac(args.data_dir) + load_iac(args.data_dir, political=False)
    detector = QuoteDuplicateDetector()
    posts: Counter[str] = Counter()
    flagged: Counter[str] = Counter()
    for item in threads:
        state = detector.begin_thread(item.thread.id, item.thread.title)
        for post, group in zip(item.thread.posts, groups_of(item), strict=True):
            posts[group] += 1
            flagged[group] += state.review(post).score >= args.threshold
    table = Table(title=f"duplicated_quote by group, 4forums dev ({len(threads)} threads)")
    for column in ("group", "posts", "flagged"):
        table.add_column(column, justify="left" if column == "group" else "right")
    for group in GROUPS:
        share = flagged[group] / posts[group] if posts[group] else 0.0
        table.add_row(group, f"{posts[group]:,}", f"{share:.1%}")
    total = sum(posts.values())
    table.add_row("all", f"{total:,}", f"{sum(flagged.values()) / max(1, total):.1%}")
    Console().print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())

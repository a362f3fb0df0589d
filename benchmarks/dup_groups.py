"""Duplicated-quote flags by what a post does (issue 15): how many of each group the detector flags, and the
alert rate on real forum threads.

1. Reads the 4forums dev threads (both files; quotes stand inline, their spans come from the corpus) and sorts
every post into one group, in this order:

- no quote: no quote span at all;
- outside source: quote spans, none of them of an earlier post of the thread;
- re-quote: quotes a passage (8+ words, about 40 characters) that an earlier post of the thread already
  quoted;
- over-quote: quotes an earlier post and adds at most 15 words of its own;
- short reply: quotes an earlier post and adds 16-39 words;
- ordinary reply: quotes an earlier post and adds 40 or more words.

A span is "of an earlier post" when its post id is an earlier post's, or, without an id, its author wrote an
earlier post (the corpus' "author" reading). Own words are the words outside every quote span (spans may
overlap). The groups come from the corpus' spans alone, never from the detector.

2. Reads the forumscraper threads (`forum_markup/forumscraper_json/*.json`, their quote markup read by
`lab.datasets.forumscraper`) and prints the alerts per 100 posts of each thread, the total over the threads
issue 15 counts (phpBB, Invision, XenForo 2: 348 posts) and, with `--list`, every alert with its reason.

"Flagged" is an alert (score at the threshold, severity alert); minor flags, listed but never alerted, are
counted apart.

    .venv/bin/python benchmarks/dup_groups.py [--data-dir ../shared/data] [--threshold 0.6] [--list]
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

from classifiers.duplicates import QuoteDuplicateDetector  # noqa: E402
from classifiers.result import Detection  # noqa: E402
from classifiers.text import words  # noqa: E402
from classifiers.thread import Thread  # noqa: E402
from lab.datasets.forumscraper import ISSUE_15_THREADS, load_forumscraper  # noqa: E402
from lab.datasets.iac import IacThread, QuoteSpan, load_iac  # noqa: E402

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
        n_own = len(words(_outside(post.text, spans)))
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


def _outside(text: str, spans: Sequence[QuoteSpan]) -> str:
    """`text` with every span blanked (spans may overlap: each character is blanked once)."""
    blank = [False] * len(text)
    for span in spans:
        blank[max(0, span.start) : max(0, span.end)] = [True] * len(
            blank[max(0, span.start) : max(0, span.end)]
        )
    return "".join(" " if gone else ch for ch, gone in zip(text, blank, strict=True))


def _shingles(passage: str) -> set[tuple[str, ...]]:
    """Runs of `REQUOTE_WORDS` words (about 40 characters): two passages sharing one share 40+ characters."""
    found = [w.casefold() for w in words(passage)]
    return {tuple(found[i : i + REQUOTE_WORDS]) for i in range(len(found) - REQUOTE_WORDS + 1)}


def _verdict(detection: Detection, threshold: float) -> str:
    """'alert', 'minor' (listed only) or '' (not flagged)."""
    return detection.severity if detection.score >= threshold else ""


def group_table(data_dir: Path, threshold: float) -> Table:
    """Posts, alerts and minor flags per group of the 4forums dev split."""
    threads = load_iac(data_dir) + load_iac(data_dir, political=False)
    detector = QuoteDuplicateDetector()
    posts: Counter[str] = Counter()
    flagged: dict[str, Counter[str]] = {"alert": Counter(), "minor": Counter()}
    for item in threads:
        state = detector.begin_thread(item.thread.id, item.thread.title)
        for post, group in zip(item.thread.posts, groups_of(item), strict=True):
            posts[group] += 1
            verdict = _verdict(state.review(post), threshold)
            if verdict:
                flagged[verdict][group] += 1
    table = Table(title=f"duplicated_quote by group, 4forums dev ({len(threads)} threads)")
    for column in ("group", "posts", "flagged (alert)", "listed (minor)"):
        table.add_column(column, justify="left" if column == "group" else "right")
    for group in (*GROUPS, "all"):
        count = sum(posts.values()) if group == "all" else posts[group]
        alerts, minors = (sum(c.values()) if group == "all" else c[group] for c in flagged.values())
        table.add_row(group, f"{count:,}", f"{alerts / max(1, count):.1%}", f"{minors / max(1, count):.1%}")
    return table


def forum_table(data_dir: Path, threshold: float, console: Console, listing: bool) -> Table:
    """Alerts per 100 posts on each forumscraper thread; with `listing`, every alert printed first."""
    detector = QuoteDuplicateDetector()
    table = Table(title="duplicated_quote alerts on the forumscraper threads")
    for column in ("thread", "posts", "alerts", "per 100 posts", "listed (minor)"):
        table.add_column(column, justify="left" if column == "thread" else "right")
    totals = {"issue 15 threads": [0, 0, 0], "all threads": [0, 0, 0]}
    for forum in load_forumscraper(data_dir):
        thread = forum.thread
        state = detector.begin_thread(thread.id, thread.title)
        counts = Counter(_verdict(state.review(post), threshold) for post in thread.posts)
        if listing:
            _list_alerts(console, forum.path.name, thread, detector, threshold)
        row = [len(thread.posts), counts["alert"], counts["minor"]]
        table.add_row(forum.path.stem, f"{row[0]}", f"{row[1]}", f"{100 * row[1] / row[0]:.1f}", f"{row[2]}")
        for name, total in totals.items():
            if name == "all threads" or forum.path.name.startswith(ISSUE_15_THREADS):
                total[:] = [t + r for t, r in zip(total, row, strict=True)]
    for name, (n, alerts, minors) in totals.items():
        table.add_row(name, f"{n}", f"{alerts}", f"{100 * alerts / max(1, n):.1f}", f"{minors}", style="bold")
    return table


def _list_alerts(
    console: Console, name: str, thread: Thread, detector: QuoteDuplicateDetector, threshold: float
) -> None:
    """Every alert of a thread, with the post's first words, to judge each one."""
    state = detector.begin_thread(thread.id, thread.title)
    for post in thread.posts:
        detection = state.review(post)
        if _verdict(detection, threshold) != "alert":
            continue
        console.print(
            f"[bold]{name}[/] post {post.id} (#{post.position}, {post.author}):", markup=True, highlight=False
        )
        for reason in detection.reasons:
            console.print(f"  - {reason}", markup=False, highlight=False)
        console.print(f"  > {' '.join(post.text.split())[:160]}", markup=False, highlight=False)


def main(argv: Sequence[str] | None = None) -> int:
    """Print the group table of the 4forums dev split and the alert rates of the forumscraper threads."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--threshold", type=float, default=0.6)
    parser.add_argument("--list", action="store_true", help="list every alert on the forumscraper threads")
    args = parser.parse_args(argv)
    console = Console(width=max(Console().width, 160))
    console.print(group_table(args.data_dir, args.threshold))
    console.print(forum_table(args.data_dir, args.threshold, console, args.list))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""`modassist-lab eval duplicates`: the duplicated-quote score on the 4forums dev threads (quotes inline)."""

from __future__ import annotations

import argparse

from rich.console import Console
from rich.progress import track

from classifiers.duplicates import QuoteDuplicateDetector
from config.settings import get_settings
from lab.commands import add_data_dir, add_plot, add_threshold
from lab.datasets.iac import load_iac
from lab.evaluation import binary_metrics, metrics_table, plot_note, plot_pr_curves

POSITIVE_FROM = 0.6
NEGATIVE_UP_TO = 0.2
LABELLINGS = {
    "id": "spans whose quoted post id is an earlier post of the thread (the corpus' attribution)",
    "author": "also spans with no post id whose quoted author wrote an earlier post",
    "text": "also spans with no post id whose text stands verbatim in an earlier post",
}


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `eval duplicates`."""
    parser = sub.add_parser(
        "duplicates",
        help="duplicated-quote score on the 4forums dev threads",
        description=f"Posts whose in-thread quoted share is >= {POSITIVE_FROM} are positives, <= "
        f"{NEGATIVE_UP_TO} negatives (from the corpus' quote spans); the quotes stand inline, unmarked.",
    )
    add_data_dir(parser)
    add_threshold(parser)
    add_plot(parser, "duplicates")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Score every post of the dev threads in thread order and compare with the labels."""
    settings = get_settings()
    data_dir = args.data_dir or settings.data_dir
    threshold = args.threshold if args.threshold is not None else settings.thresholds.duplicated_quote
    console = Console(highlight=False)
    threads = load_iac(data_dir)
    detector = QuoteDuplicateDetector()
    labels: dict[str, list[bool]] = {name: [] for name in LABELLINGS}
    scores: dict[str, list[float]] = {name: [] for name in LABELLINGS}
    for item in track(threads, description="scoring threads", console=console, transient=True):
        state = detector.begin_thread(item.thread.id, item.thread.title)
        for post in item.thread.posts:
            score = state.review(post).score
            for name in LABELLINGS:
                share = item.in_thread_quoted_share(post, resolve=name)
                if share >= POSITIVE_FROM or share <= NEGATIVE_UP_TO:
                    labels[name].append(share >= POSITIVE_FROM)
                    scores[name].append(score)
    rows = [binary_metrics(name, labels[name], scores[name], threshold) for name in LABELLINGS]
    console.print(
        metrics_table(f"duplicated_quote, 4forums dev ({len(threads)} threads), by labelling", rows)
    )
    for name, meaning in LABELLINGS.items():
        console.print(f"  [bold]{name}[/]: {meaning}")
    png = plot_pr_curves(
        args.plot,
        "duplicated_quote, 4forums dev",
        [(name, labels[name], scores[name]) for name in LABELLINGS],
        threshold,
    )
    console.print(plot_note(png), markup=False)
    return 0

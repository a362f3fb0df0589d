"""`modassist-lab eval inflammatory`: the inflammatory score on the dev-test split of each labelled corpus.

The split is fixed and deterministic (`classifiers.training.inflammatory.dev_test_part`: C3 by article, the
tweet corpora by a hash of the text) and the shipped model is trained on the other part only. For each corpus
(C3, OLID, HateXplain, Davidson; labels as `lab/datasets/toxicity.py` defines them) it prints ROC-AUC, average
precision and precision/recall/F1 at the flag threshold, for modassist and, in the same run, for the offline
peer alt-profanity-check (when installed: `pip install -e '.[train]'`); then the mean ROC-AUC over the
corpora, a calibration check (mean score against the share of annotators, per score band), and writes a
precision-recall curve PNG.
"""

from __future__ import annotations

import argparse
import itertools
import time
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

from classifiers.inflammatory import InflammatoryDetector
from classifiers.training.inflammatory import dev_test_part
from config.settings import get_settings
from lab.commands import add_command, add_data_dir, add_plot, add_threshold
from lab.datasets.toxicity import CORPUS_NAMES, LabelledText, read_corpus
from lab.evaluation import BinaryMetrics, binary_metrics, metrics_table, plot_note, plot_pr_curves
from lab.peer import peer_probability


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `eval inflammatory`."""
    parser = add_command(
        sub,
        "inflammatory",
        "inflammatory score per corpus on the dev-test split, against alt-profanity-check",
        __doc__,
    )
    add_data_dir(parser)
    parser.add_argument("--model", type=Path, help="model file (default: the shipped one)")
    add_threshold(parser)
    parser.add_argument("--no-peer", action="store_true", help="do not measure alt-profanity-check")
    add_plot(parser, "inflammatory")
    parser.set_defaults(func=run)


def dev_test_rows(data_dir: Path) -> dict[str, list[LabelledText]]:
    """The dev-test part of every corpus."""
    return {
        name: [r for r in read_corpus(data_dir, name) if dev_test_part(r.corpus, r.group)]
        for name in CORPUS_NAMES
    }


def calibration_table(scores: np.ndarray, soft: np.ndarray) -> Table:
    """Mean score against the mean share of annotators, per score band."""
    table = Table(
        title="calibration (C3, OLID, HateXplain dev-test): score vs share of annotators",
        title_justify="left",
    )
    for column in ("score band", "texts", "mean score", "mean share"):
        table.add_column(column, justify="right")
    edges = [0.0, 0.1, 0.2, 0.4, 0.6, 0.8, 1.0001]
    for low, high in itertools.pairwise(edges):
        inside = (scores >= low) & (scores < high)
        if inside.any():
            table.add_row(
                f"{low:.1f}-{min(high, 1.0):.1f}",
                str(int(inside.sum())),
                f"{scores[inside].mean():.3f}",
                f"{soft[inside].mean():.3f}",
            )
    return table


def run(args: argparse.Namespace) -> int:
    """Score every dev-test text with modassist and the peer, print the tables, write the PR curve."""
    settings = get_settings()
    data_dir = args.data_dir or settings.data_dir
    threshold = args.threshold if args.threshold is not None else settings.thresholds.inflammatory
    console = Console(highlight=False)
    corpora = dev_test_rows(data_dir)
    detector = InflammatoryDetector.load(args.model or settings.models.inflammatory)
    ours: list[BinaryMetrics] = []
    peer: list[BinaryMetrics] = []
    curves = []
    calibration_scores, calibration_soft = [], []
    seconds = 0.0
    for name, rows in corpora.items():
        texts = [r.text for r in rows]
        labels = [bool(r.label) for r in rows]
        started = time.perf_counter()
        scores = detector.score_texts(texts)
        seconds += time.perf_counter() - started
        ours.append(binary_metrics(name, labels, scores, threshold))
        curves.append((f"modassist {name}", labels, scores))
        if name != "davidson":
            calibration_scores.append(scores)
            calibration_soft.append(np.array([r.soft for r in rows]))
        peer_scores = None if args.no_peer else peer_probability(texts)
        if peer_scores is not None:
            peer.append(binary_metrics(name, labels, peer_scores, 0.5))
            curves.append((f"peer {name}", labels, peer_scores))
    n_texts = sum(len(rows) for rows in corpora.values())
    console.print(metrics_table(f"modassist inflammatory ({detector.version}), dev-test split", ours))
    if peer:
        console.print(metrics_table("alt-profanity-check (threshold 0.5), same texts", peer))
    elif not args.no_peer:
        console.print("alt-profanity-check is not installed (pip install -e '.\\[train]'): peer not measured")
    summary = Table(title="ROC-AUC per corpus", title_justify="left")
    for column in ("corpus", "modassist", "peer", "difference"):
        summary.add_column(column, justify="left" if column == "corpus" else "right")
    for i, m in enumerate(ours):
        p = peer[i].roc_auc if peer else float("nan")
        summary.add_row(m.name, f"{m.roc_auc:.4f}", f"{p:.4f}", f"{m.roc_auc - p:+.4f}")
    mean_ours = float(np.mean([m.roc_auc for m in ours]))
    mean_peer = float(np.mean([m.roc_auc for m in peer])) if peer else float("nan")
    summary.add_row("mean", f"{mean_ours:.4f}", f"{mean_peer:.4f}", f"{mean_ours - mean_peer:+.4f}")
    console.print(summary)
    if peer and "davidson" in corpora:
        console.print(
            "alt-profanity-check was trained on the Davidson tweets, so its Davidson figure is partly "
            "in-sample; benchmarks/inflammatory_limits.py refits its recipe without the dev-test rows."
        )
    console.print(calibration_table(np.concatenate(calibration_scores), np.concatenate(calibration_soft)))
    console.print(
        f"{n_texts:,} texts scored in {seconds:.2f} s ({n_texts / max(seconds, 1e-9):,.0f} texts/s)"
    )
    written = plot_pr_curves(args.plot, "inflammatory: precision-recall on dev-test", curves, threshold)
    console.print(plot_note(written), markup=False)
    return 0

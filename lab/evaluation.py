"""Shared measurement helpers for the `modassist-lab eval ...` commands: metrics, tables, PR curves."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
from rich.table import Table
from sklearn.metrics import average_precision_score, precision_recall_curve, roc_auc_score

from bot.errors import DataError


@dataclass(frozen=True, slots=True)
class BinaryMetrics:
    """How well scores separate positives from negatives, and how the flag at `threshold` does."""

    name: str
    positives: int
    negatives: int
    roc_auc: float
    average_precision: float
    threshold: float
    precision: float
    recall: float
    f1: float


def binary_metrics(
    name: str, labels: npt.ArrayLike, scores: npt.ArrayLike, threshold: float
) -> BinaryMetrics:
    """ROC-AUC, average precision and precision/recall/F1 of `score >= threshold`."""
    y = np.asarray(labels, dtype=bool)
    s = np.asarray(scores, dtype=float)
    if y.all() or not y.any():
        raise DataError(
            f"{name}: need both positives and negatives to measure; is --data-dir the shared data folder?"
        )
    flagged = s >= threshold
    tp = int((flagged & y).sum())
    precision = tp / int(flagged.sum()) if flagged.any() else 0.0
    recall = tp / int(y.sum())
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return BinaryMetrics(
        name=name,
        positives=int(y.sum()),
        negatives=int((~y).sum()),
        roc_auc=float(roc_auc_score(y, s)),
        average_precision=float(average_precision_score(y, s)),
        threshold=threshold,
        precision=precision,
        recall=recall,
        f1=f1,
    )


def metrics_table(title: str, rows: Sequence[BinaryMetrics]) -> Table:
    """A readable table of several measurements."""
    table = Table(title=title, title_justify="left")
    for column in ("data", "pos", "neg", "ROC-AUC", "AP", "thr", "prec", "recall", "F1"):
        table.add_column(column, justify="left" if column == "data" else "right")
    for m in rows:
        table.add_row(
            m.name,
            str(m.positives),
            str(m.negatives),
            f"{m.roc_auc:.4f}",
            f"{m.average_precision:.4f}",
            f"{m.threshold:.2f}",
            f"{m.precision:.3f}",
            f"{m.recall:.3f}",
            f"{m.f1:.3f}",
        )
    return table


NO_MATPLOTLIB = (
    "matplotlib is not installed: no precision-recall curve written "
    "(install it with `.venv/bin/pip install -e '.[train]'`)"
)


def plot_note(written: Path | None) -> str:
    """The line that says where the curves went, or plainly that they could not be drawn."""
    return f"precision-recall curves: {written}" if written is not None else NO_MATPLOTLIB


def plot_pr_curves(
    path: Path,
    title: str,
    curves: Sequence[tuple[str, npt.ArrayLike, npt.ArrayLike]],
    threshold: float | None = None,
) -> Path | None:
    """Write precision-recall curves (name, labels, scores) to a PNG; None when matplotlib is missing."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    fig, ax = plt.subplots(figsize=(6.4, 4.8), dpi=120)
    for name, labels, scores in curves:
        y = np.asarray(labels, dtype=bool)
        s = np.asarray(scores, dtype=float)
        precision, recall, thresholds = precision_recall_curve(y, s)
        ap = average_precision_score(y, s)
        (line,) = ax.plot(recall, precision, label=f"{name} (AP {ap:.3f})")
        if threshold is not None and len(thresholds):
            at = int(np.searchsorted(thresholds, threshold))
            at = min(at, len(thresholds) - 1)
            ax.plot(recall[at], precision[at], "o", color=line.get_color())
    ax.set_xlabel("recall")
    ax.set_ylabel("precision")
    ax.set_xlim(0, 1.01)
    ax.set_ylim(0, 1.01)
    ax.grid(alpha=0.3)
    ax.set_title(title + (f"  (dot: threshold {threshold:.2f})" if threshold is not None else ""))
    ax.legend(loc="lower left")
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path

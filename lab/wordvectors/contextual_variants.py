"""Variants of the contextual table compared on the evaluation sets (the rows of README.md's table).

Needs the caches of `build` (single-token vectors) and `contextual` (sums and counts) in `out/`, and the
shipped single-token table for the vocabulary and weights:
    PYTHONPATH=. python -m lab.wordvectors.contextual_variants
Variants: contextual means only for tokens seen at least `min` times (the rest single-token), each
family (contextual, single-token) centred on its own mean before the shared PCA, and the top PCA
directions dropped. AUC of cosine(reply, title + opening post) per set, dev split of the short threads.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from classifiers.wordvectors import WordVectors
from lab.wordvectors import build
from lab.wordvectors import evaluate as ev

Array = npt.NDArray[np.float32]


def unit(x: Array) -> Array:
    """Rows scaled to unit length (zero rows stay zero)."""
    out: Array = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    return out


def row(
    name: str,
    raw: Array,
    keep: npt.NDArray[np.bool_],
    base: WordVectors,
    vocab: list[str],
    sets: dict[str, ev.Pairs],
    drop: int = 0,
) -> None:
    """Print one variant: PCA-128 on the non-zero kept rows, the top `drop` directions zeroed."""
    fitted = keep & (np.abs(raw).sum(axis=1) > 0)
    vectors, _, _ = build.pca(raw, fitted, 128)
    vectors[:, :drop] = 0.0
    wv = WordVectors(vectors.astype(np.float16).astype(np.float32), base.weights, vocab, {})
    aucs = " ".join(f"{ev.auc(ev.cosines(wv, p), p[2]):10.4f}" for p in sets.values())
    print(f"{name:48s} {aucs}", flush=True)


def main() -> None:
    """Print the variants' AUCs."""
    base = WordVectors.load(build.OUT / "single_token.npz")
    vocab = build.load_vocab_from(build.OUT / "single_token.npz")
    single = np.load(sorted(build.OUT.glob("token_embeddings-*.npy"))[0], allow_pickle=False)
    with np.load(sorted(build.OUT.glob("contextual-*.npz"))[0], allow_pickle=False) as z:
        sums, counts = z["sums"], z["counts"]
    keep = np.array([not build.skipped(t) for t in vocab])
    sets = {"hand": ev.hand_pairs(), "qatar": ev.qatar_pairs(build.DATA), "iac": ev.iac_pairs(build.DATA)}
    sets["short-dev"] = ev.short_thread_pairs(ev.SHORT_THREADS)
    print(f"{'variant':48s} " + " ".join(f"{n:>10s}" for n in sets))
    row("single-token (shipped)", single, keep, base, vocab, sets)
    seen = (counts > 0) & keep
    means = np.zeros_like(sums)
    means[seen] = unit(sums[seen] / counts[seen, None])
    for least in (1, 5, 20):
        ctx = (counts >= least) & keep
        mixed = single.copy()
        mixed[ctx] = means[ctx]
        row(f"contextual if seen >= {least}", mixed, keep, base, vocab, sets)
        other = keep & ~ctx
        mixed[ctx] -= means[ctx].mean(axis=0)
        mixed[other] -= single[other].mean(axis=0)
        row(f"contextual if seen >= {least}, families centred", mixed, keep, base, vocab, sets)
    only = np.where(seen[:, None], means, 0.0).astype(np.float32)
    row("contextual only (unseen tokens zero)", only, keep, base, vocab, sets)
    mixed = np.where(seen[:, None], means, single).astype(np.float32)
    for drop in (1, 2, 4):
        row(f"contextual if seen >= 1, top {drop} PCA dims dropped", mixed, keep, base, vocab, sets, drop)
        row(f"single-token, top {drop} PCA dims dropped", single, keep, base, vocab, sets, drop)


if __name__ == "__main__":
    main()

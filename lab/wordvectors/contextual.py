"""Contextual-average distillation: each token's vector is the mean of its contextual outputs over a corpus.

The single-token table of `build.py` encodes every token alone (`[CLS] t [SEP]`), which gives poor static
vectors. Here (the "contextual average" of X2Static and similar work) the numpy MiniLM runs over real
forum posts, and for every token id the last-layer output vectors at its occurrences (the vectors mean
pooling averages) are summed, at most `--cap` occurrences per token; `[CLS]`, `[SEP]` and `[PAD]` are
skipped. The mean of each seen token is scaled to unit length; tokens never seen keep their
single-token vector, so every ordinary token has a vector. Then PCA, the corpus SIF weights, int8
storage and the metadata are those of `build.py`.

Corpus: the post texts of IAC 4forums (`threads_*_dev.jsonl`) and Qatar Living
(`qatarliving_threads_dev.jsonl`: subject, body, comments), cut into chunks of at most 126 WordPiece
tokens (128 with `[CLS]` and `[SEP]`) at word starts, shuffled with a fixed seed, and taken until
`--tokens` tokens. Not C3 (non-commercial licence), not the short-thread set (the evaluation set).

Run from the worktree root with the lab venv (see README.md):
    OPENBLAS_NUM_THREADS=2 PYTHONPATH=. .labvenv/bin/python -m lab.wordvectors.contextual --speed
    OPENBLAS_NUM_THREADS=2 PYTHONPATH=. .labvenv/bin/python -m lab.wordvectors.contextual --tokens N
The sums are cached in `out/` (keyed by the model digest, corpus size, cap and seed).
"""

from __future__ import annotations

import hashlib
import json
import random
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import numpy.typing as npt

from classifiers.wordvectors import WordPieceTokenizer
from lab.wordvectors import build
from lab.wordvectors.minilm import MiniLM, model_dir

Array = npt.NDArray[np.float32]
IntArray = npt.NDArray[np.int64]

CHUNK = 126  # WordPiece tokens per chunk, 128 with [CLS] and [SEP]
PAD = 0
CAP = 200
SEED = 13


def post_chunks(vocab: list[str], data: Path, size: int = CHUNK) -> list[list[int]]:
    """Every corpus post as token id chunks of at most `size`, cut before a word start where possible."""
    tokenizer = WordPieceTokenizer(vocab)
    continuation = np.array([t.startswith("##") for t in vocab])
    chunks: list[list[int]] = []
    for text in build.corpus_texts(10**9, data):
        ids = tokenizer.ids(text)
        start = 0
        while start < len(ids):
            end = min(start + size, len(ids))
            cut = end
            while end < len(ids) and cut > start + size // 2 and continuation[ids[cut]]:
                cut -= 1
            end = cut if end < len(ids) and cut > start + size // 2 else end
            chunks.append(ids[start:end])
            start = end
    return [c for c in chunks if c]


def select_chunks(chunks: list[list[int]], budget: int, seed: int = SEED) -> list[list[int]]:
    """A seeded shuffle of the chunks, taken until `budget` tokens."""
    order = list(range(len(chunks)))
    random.Random(seed).shuffle(order)
    out, total = [], 0
    for i in order:
        if total >= budget:
            break
        out.append(chunks[i])
        total += len(chunks[i])
    return out


def batches(chunks: list[list[int]], max_rows: int = 8192) -> Iterator[tuple[IntArray, IntArray]]:
    """Padded ([CLS] ... [SEP]) id and mask batches of similar lengths, about `max_rows` positions each."""
    ordered = sorted(chunks, key=len)
    i = 0
    while i < len(ordered):
        n = 1  # ascending lengths: the group's last chunk is its longest
        while i + n < len(ordered) and (n + 1) * (len(ordered[i + n]) + 2) <= max_rows:
            n += 1
        group = ordered[i : i + n]
        width = len(group[-1]) + 2
        ids = np.full((len(group), width), PAD, dtype=np.int64)
        mask = np.zeros_like(ids)
        for row, c in enumerate(group):
            ids[row, : len(c) + 2] = [build.CLS, *c, build.SEP]
            mask[row, : len(c) + 2] = 1
        yield ids, mask
        i += n


def accumulate(sums: Array, counts: IntArray, ids: IntArray, states: Array, mask: IntArray, cap: int) -> None:
    """Add each real token's state to its id's sum, up to `cap` occurrences per id (in place)."""
    flat_ids = ids.reshape(-1)
    flat = states.reshape(-1, states.shape[-1])
    real = (mask.reshape(-1) == 1) & (flat_ids != build.CLS) & (flat_ids != build.SEP) & (flat_ids != PAD)
    pos = np.flatnonzero(real)
    order = pos[np.argsort(flat_ids[pos], kind="stable")]
    sorted_ids = flat_ids[order]
    uniq, starts = np.unique(sorted_ids, return_index=True)
    rank = np.arange(len(order)) - np.repeat(starts, np.diff(np.append(starts, len(order))))
    accepted = counts[sorted_ids] + rank < cap
    order, sorted_ids = order[accepted], sorted_ids[accepted]
    if len(order) == 0:
        return
    uniq, starts = np.unique(sorted_ids, return_index=True)
    sums[uniq] += np.add.reduceat(flat[order], starts, axis=0)
    counts[uniq] += np.diff(np.append(starts, len(order)))


def contextual_sums(
    model: MiniLM, chunks: list[list[int]], vocab_size: int, cap: int
) -> tuple[Array, IntArray, float]:
    """(sums [V, H], occurrence counts [V], tokens per second of the forward pass)."""
    hidden = int(model.config["hidden_size"])
    sums = np.zeros((vocab_size, hidden), dtype=np.float32)
    counts = np.zeros(vocab_size, dtype=np.int64)
    total = sum(len(c) + 2 for c in chunks)
    done, forward, started = 0, 0.0, time.monotonic()
    for k, (ids, mask) in enumerate(batches(chunks)):
        t0 = time.monotonic()
        states = model.hidden_states(ids, mask)
        forward += time.monotonic() - t0
        accumulate(sums, counts, ids, states, mask, cap)
        done += int(mask.sum())
        if k % 20 == 0:
            print(
                f"  {done}/{total} tokens, {time.monotonic() - started:.0f}s, "
                f"{done / max(forward, 1e-9):.0f} tokens/s",
                file=sys.stderr,
                flush=True,
            )
    return sums, counts, done / max(forward, 1e-9)


def contextual_vectors(single: Array, sums: Array, counts: IntArray, keep: npt.NDArray[np.bool_]) -> Array:
    """Unit mean of the contextual states where seen, the single-token vector elsewhere; skipped rows 0."""
    seen = (counts > 0) & keep
    out = single.copy()
    means = sums[seen] / counts[seen, None]
    out[seen] = means / np.maximum(np.linalg.norm(means, axis=1, keepdims=True), 1e-12)
    out[~keep] = 0.0
    return out


def cached_sums(
    vocab: list[str], data: Path, budget: int, cap: int
) -> tuple[Array, IntArray, dict[str, float]]:
    """The contextual sums for the corpus selection, computed once and cached in out/."""
    digest = hashlib.sha256((model_dir() / "model.safetensors").read_bytes()).hexdigest()[:16]
    cache = build.OUT / f"contextual-{digest}-{budget}-{cap}-{SEED}.npz"
    if cache.is_file():
        with np.load(cache, allow_pickle=False) as z:
            return z["sums"], z["counts"], json.loads(str(z["info"]))
    chunks = select_chunks(post_chunks(vocab, data), budget)
    started = time.monotonic()
    sums, counts, rate = contextual_sums(MiniLM.load(), chunks, len(vocab), cap)
    info = {
        "chunks": len(chunks),
        "tokens": sum(len(c) for c in chunks),
        "tokens_per_s": round(rate, 1),
        "seconds": round(time.monotonic() - started, 1),
    }
    build.OUT.mkdir(parents=True, exist_ok=True)
    np.savez(cache, sums=sums, counts=counts, info=np.array(json.dumps(info)))
    return sums, counts, info


def measure_speed(vocab: list[str], data: Path, tokens: int = 20_000) -> None:
    """Tokens per second of the forward pass on a sample of corpus chunks (OPENBLAS_NUM_THREADS applies)."""
    chunks = select_chunks(post_chunks(vocab, data), tokens)
    model = MiniLM.load()
    for max_rows in (2048, 4096, 8192):
        started, done = time.monotonic(), 0
        for ids, mask in batches(chunks, max_rows):
            model.hidden_states(ids, mask)
            done += int(mask.sum())
        print(f"batches of ~{max_rows} positions: {done / (time.monotonic() - started):.0f} tokens/s")


CONTEXTUAL_METHOD = (
    "contextual-average distillation (X2Static-style): the last-layer output vector of every occurrence "
    "of a token in {chunks} corpus chunks ({tokens} tokens; [CLS]/[SEP]/[PAD] skipped) averaged per token "
    "id, at most {cap} occurrences each, and L2-normalised; {seen} tokens seen, the other {unseen} kept "
    "their single-token vector ([CLS] t [SEP], mean-pooled, L2-normalised); then PCA (centred) fitted on "
    "these vectors"
)
CORPUS = (
    "post texts of IAC 4forums (threads_*_dev.jsonl) and Qatar Living (qatarliving_threads_dev.jsonl: "
    "subject, body, comments), in chunks of at most 126 WordPiece tokens, seeded shuffle (seed {seed})"
)


def main(argv: list[str] | None = None) -> int:
    """Build the contextual table (or, with --speed, only measure the forward pass)."""
    parser = build.table_parser("Contextual-average static vectors from all-MiniLM-L6-v2.")
    parser.add_argument("--tokens", type=int, default=300_000, help="corpus tokens to run the model over")
    parser.add_argument("--cap", type=int, default=CAP, help="occurrences averaged per token at most")
    parser.add_argument("--speed", action="store_true", help="only measure tokens/s of the forward pass")
    args = parser.parse_args(argv)
    vocab = build.load_vocab(model_dir())
    if args.speed:
        measure_speed(vocab, args.data_dir)
        return 0
    single = build.cached_token_embeddings(vocab)
    sums, counts, info = cached_sums(vocab, args.data_dir, args.tokens, args.cap)
    keep = np.array([not build.skipped(t) for t in vocab])
    raw = contextual_vectors(single, sums, counts, keep)
    seen = int(((counts > 0) & keep).sum())
    method = CONTEXTUAL_METHOD.format(
        chunks=info["chunks"], tokens=info["tokens"], cap=args.cap, seen=seen, unseen=int(keep.sum()) - seen
    )
    extra = {"corpus": CORPUS.format(seed=SEED), "forward_pass": info}
    build.write_table(raw, vocab, args, method, extra)
    return 0


if __name__ == "__main__":
    sys.exit(main())

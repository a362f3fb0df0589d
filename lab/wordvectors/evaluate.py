"""Measure the static word vectors: variants of the table, speed, and off-topic separation.

Run from the worktree root with any venv that has numpy (the lab venv also gives `--teacher`):
    python -m lab.wordvectors.evaluate [--variants] [--speed] [--teacher] [--short-threads FILE]
    python -m lab.wordvectors.evaluate --compare TABLE.npz OTHER.npz   # two tables, their blend, soft overlap
All figures are ROC-AUC of cosine(reply, title + opening post), with off-topic as the negative class
(a higher cosine should mean on-topic), unless said otherwise.
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import statistics
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from classifiers.wordvectors import DEFAULT_MODEL_PATH, WordVectors
from lab.wordvectors import build
from lab.wordvectors.threads import THREADS

Pairs = tuple[list[str], list[str], list[int]]  # anchors, replies, 1 = on topic
SHORT_THREADS = Path(__file__).resolve().parents[1] / "short_threads" / "threads.jsonl"


def auc(scores: Sequence[float] | npt.NDArray[Any], labels: Sequence[int] | npt.NDArray[Any]) -> float:
    """ROC-AUC by ranks (ties get their mean rank)."""
    s, y = np.asarray(scores, dtype=np.float64), np.asarray(labels)
    order = s.argsort(kind="mergesort")
    ranks = np.empty(len(s))
    sorted_s = s[order]
    i = 0
    while i < len(s):
        j = i
        while j + 1 < len(s) and sorted_s[j + 1] == sorted_s[i]:
            j += 1
        ranks[order[i : j + 1]] = (i + j) / 2 + 1
        i = j + 1
    pos, neg = int(y.sum()), int(len(y) - y.sum())
    return float((ranks[y == 1].sum() - pos * (pos + 1) / 2) / (pos * neg))


def cosines(wv: WordVectors, pairs: Pairs) -> npt.NDArray[np.float32]:
    """cosine(anchor, reply) for each pair."""
    anchors, replies, _ = pairs
    sims: npt.NDArray[np.float32] = np.einsum("ij,ij->i", wv.embed_many(anchors), wv.embed_many(replies))
    return sims


def hand_pairs() -> Pairs:
    """The hand-written threads of `threads.py`."""
    anchors, replies, labels = [], [], []
    for title, opening, posts in THREADS:
        for text, off in posts:
            anchors.append(f"{title}\n{opening}")
            replies.append(text)
            labels.append(0 if off else 1)
    return anchors, replies, labels


def qatar_pairs(data: Path) -> Pairs:
    """Qatar Living: Good replies (on topic) against Bad ones (not relevant to the question)."""
    anchors, replies, labels = [], [], []
    with (data / "semeval2015_qatarliving" / "qatarliving_threads_dev.jsonl").open(encoding="utf-8") as fh:
        for line in fh:
            raw = json.loads(line)
            anchor = f"{raw.get('subject') or ''}\n{raw.get('body') or ''}"
            for c in raw.get("comments", []):
                if c.get("label") in ("Good", "Bad"):
                    anchors.append(anchor)
                    replies.append(c.get("cbody") or "")
                    labels.append(int(c["label"] == "Good"))
    return anchors, replies, labels


def iac_pairs(data: Path, seed: int = 1) -> Pairs:
    """IAC 4forums: each thread's own replies against as many replies drawn from other threads."""
    threads: list[dict[str, Any]] = []
    for name in ("threads_political_sample_dev.jsonl", "threads_nonpolitical_pool_dev.jsonl"):
        with (data / "iac_4forums" / name).open(encoding="utf-8") as fh:
            threads.extend(json.loads(line) for line in fh)
    rng = random.Random(seed)
    anchors, replies, labels = [], [], []
    for k, t in enumerate(threads):
        anchor = f"{t['title']}\n{t['posts'][0]['text']}"
        own = [p["text"] for p in t["posts"][1:]][:10]
        for text in own:
            other = threads[rng.choice([i for i in range(len(threads)) if i != k])]
            anchors += [anchor, anchor]
            replies += [text, rng.choice(other["posts"][1:] or other["posts"])["text"]]
            labels += [1, 0]
    return anchors, replies, labels


def short_thread_pairs(path: Path, split: str = "dev") -> Pairs:
    """The labelled short-thread set: every non-opening post of the `split` threads (never the test split)."""
    if split == "test":
        raise ValueError("the test split is kept aside")
    anchors, replies, labels = [], [], []
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            t = json.loads(line)
            if t.get("split") != split:
                continue
            anchor = f"{t['title']}\n{t['posts'][0]['text']}"
            for p in t["posts"][1:]:
                anchors.append(anchor)
                replies.append(p["text"])
                labels.append(0 if p["off_topic"] else 1)
    return anchors, replies, labels


def short_thread_details(path: Path, embed: Callable[[list[str]], npt.NDArray[np.float32]]) -> None:
    """Dev split only: pooled AUC, AUC over replies of 8+ words, and how often the intruder ranks lowest."""
    anchors, replies, labels = short_thread_pairs(path)
    a, r = embed(anchors), embed(replies)
    sims, y = np.einsum("ij,ij->i", a, r), np.asarray(labels)
    long = np.array([len(t.split()) >= 8 for t in replies])
    lowest, intruders = 0, 0
    for _, group in itertools.groupby(range(len(anchors)), key=lambda i: anchors[i]):
        idx = list(group)
        if (y[idx] == 0).any():
            intruders += 1
            lowest += int(y[idx][int(np.argmin(sims[idx]))] == 0)
    print(
        f"  pooled AUC {auc(sims, y):.4f} (n={len(y)}, off-topic {int((y == 0).sum())}); "
        f"replies of 8+ words AUC {auc(sims[long], y[long]):.4f} (n={int(long.sum())}); "
        f"intruder has the thread's lowest cosine in {lowest}/{intruders} intruder threads"
    )


def variant(
    raw: npt.NDArray[np.float32], vocab: list[str], weights: npt.NDArray[np.float32], dims: int, centre: bool
) -> WordVectors:
    """A table built in memory: PCA to `dims` (centred or not), then `weights`."""
    keep = np.array([not build.skipped(t) for t in vocab])
    vectors, _, components = build.pca(raw, keep, dims)
    if not centre:
        vectors[keep] = raw[keep] @ components.T
    return WordVectors(vectors.astype(np.float16).astype(np.float32), weights, vocab, {})


def compare_variants(sets: dict[str, Pairs], data: Path) -> None:
    """AUC of each weighting / PCA choice on each pair set."""
    vocab = build.load_vocab_from(DEFAULT_MODEL_PATH)
    raw = np.load(sorted(build.OUT.glob("token_embeddings-*.npy"))[0], allow_pickle=False)
    counts, df, docs = build.token_counts(build.corpus_texts(20_000, data), vocab)
    flat = np.ones(len(vocab), dtype=np.float32)
    flat[[i for i, t in enumerate(vocab) if build.skipped(t)]] = 0
    weightings = {
        "no weights": flat,
        "zipf SIF a=1e-4 (model2vec)": build.zipf_sif_weights(vocab),
        "idf": build.idf_weights(vocab, df, docs),
        **{
            f"corpus SIF a={a:g}": build.corpus_sif_weights(vocab, counts, a, pool_numbers=False)
            for a in (1e-3, 1e-4, 3e-5, 1e-5)
        },
        "corpus SIF a=3e-5, numbers pooled": build.corpus_sif_weights(vocab, counts),
    }
    print(f"token counts from {docs} posts, {int(counts.sum())} tokens; AUC per set:")
    print(f"{'variant':48s} " + " ".join(f"{n:>10s}" for n in sets))
    runs = [(name, w, 128, True) for name, w in weightings.items()]
    shipped = weightings["corpus SIF a=3e-5, numbers pooled"]
    runs += [
        ("shipped weights, PCA not centred", shipped, 128, False),
        ("shipped weights, d=256", shipped, 256, True),
    ]
    for name, w, dims, centre in runs:
        wv = variant(raw, vocab, w, dims, centre)
        row = [auc(cosines(wv, p), p[2]) for p in sets.values()]
        print(f"{name:48s} " + " ".join(f"{a:10.4f}" for a in row), flush=True)


Embed = Callable[[list[str]], npt.NDArray[np.float32]]


def blend(a: WordVectors, b: WordVectors) -> Embed:
    """Text vectors whose cosine is the mean of the two tables' cosines (unit vectors joined / sqrt 2)."""

    def embed(texts: list[str]) -> npt.NDArray[np.float32]:
        joined = np.concatenate([a.embed_many(texts), b.embed_many(texts)], axis=1) / np.sqrt(2.0)
        out: npt.NDArray[np.float32] = joined.astype(np.float32)
        return out

    return embed


def token_table(path: Path) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
    """The table's token vectors scaled to unit length (zero rows stay zero) and its weights."""
    with np.load(path, allow_pickle=False) as z:
        vectors = z["vectors"].astype(np.float32)
        if "scales" in z:
            vectors *= z["scales"].astype(np.float32)[:, None]
        weights = z["weights"].astype(np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.where(norms > 0, norms, 1.0), weights


def soft_overlap_scores(path: Path, short: Path, min_weight: float = 0.3) -> tuple[list[float], list[int]]:
    """Dev split: per post token of weight > min_weight, its best cosine to the (weight > min_weight)
    tokens of the title, opening post and earlier posts; the weight-averaged best cosines (0 if none)."""
    vectors, weights = token_table(path)
    tokenizer = WordVectors.load(path).tokenizer
    scores, labels = [], []
    with short.open(encoding="utf-8") as fh:
        threads = [t for t in map(json.loads, fh) if t.get("split") == "dev"]
    for t in threads:
        context = [
            i for i in tokenizer.ids(f"{t['title']}\n{t['posts'][0]['text']}") if weights[i] > min_weight
        ]
        for p in t["posts"][1:]:
            own = [i for i in tokenizer.ids(p["text"]) if weights[i] > min_weight]
            if own and context:
                best = (vectors[own] @ vectors[context].T).max(axis=1)
                scores.append(float((best * weights[own]).sum() / weights[own].sum()))
            else:
                scores.append(0.0)
            labels.append(0 if p["off_topic"] else 1)
            context += own
    return scores, labels


def compare_tables(paths: list[Path], sets: dict[str, Pairs], short: Path) -> None:
    """Plain cosine AUC per set for each table and the 50/50 blend of the first two; soft overlap on dev."""
    tables = [WordVectors.load(p) for p in paths]
    embeds: dict[str, Embed] = {p.name: wv.embed_many for p, wv in zip(paths, tables, strict=True)}
    if len(tables) >= 2:
        embeds["blend 50/50"] = blend(tables[0], tables[1])
    print(f"{'table':28s} " + " ".join(f"{n:>10s}" for n in sets) + f" {'soft-ovl':>10s}")
    soft = {p.name: soft_overlap_scores(p, short) for p in paths} if short.is_file() else {}
    if len(soft) >= 2:
        (sa, y), (sb, _) = soft[paths[0].name], soft[paths[1].name]
        soft["blend 50/50"] = ([(x + z) / 2 for x, z in zip(sa, sb, strict=True)], y)
    for name, embed in embeds.items():
        row = []
        for anchors, replies, labels in sets.values():
            sims = np.einsum("ij,ij->i", embed(anchors), embed(replies))
            row.append(auc(sims, labels))
        if name in soft:
            row.append(auc(*soft[name]))
        print(f"{name:28s} " + " ".join(f"{a:10.4f}" for a in row), flush=True)
    if short.is_file():
        for name, embed in embeds.items():
            print(f"short threads, dev split, {name}:")
            short_thread_details(short, embed)


def speed(wv: WordVectors, texts: list[str], repeats: int = 3) -> tuple[float, float]:
    """Median posts per second of embed_many on `texts`: with an empty word cache, and a warm one."""
    cold: list[float] = []
    warm: list[float] = []
    for _ in range(repeats):
        wv.tokenizer._cache.clear()
        for rates in (cold, warm):
            started = time.perf_counter()
            wv.embed_many(texts)
            rates.append(len(texts) / (time.perf_counter() - started))
    return statistics.median(cold), statistics.median(warm)


def main() -> None:
    """Print the measurements asked for on the command line."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL_PATH)
    parser.add_argument("--data-dir", type=Path, default=build.DATA)
    parser.add_argument("--variants", action="store_true")
    parser.add_argument("--speed", action="store_true")
    parser.add_argument("--teacher", action="store_true", help="also the full model (lab venv only)")
    parser.add_argument("--short-threads", type=Path, default=SHORT_THREADS)
    parser.add_argument(
        "--compare", type=Path, nargs="+", help="tables to compare (and the blend of the first two)"
    )
    args = parser.parse_args()
    sets = {"hand": hand_pairs(), "qatar": qatar_pairs(args.data_dir), "iac": iac_pairs(args.data_dir)}
    if args.short_threads.is_file():
        sets["short-dev"] = short_thread_pairs(args.short_threads)
    if args.variants:
        compare_variants(sets, args.data_dir)
        return
    if args.compare:
        compare_tables(args.compare, sets, args.short_threads)
        return
    wv = WordVectors.load(args.model)
    for name, pairs in sets.items():
        sims, labels = cosines(wv, pairs), np.asarray(pairs[2])
        print(
            f"{name:10s} n={len(labels):5d} AUC={auc(sims, labels):.4f} "
            f"mean cos on-topic {sims[labels == 1].mean():.3f} off-topic {sims[labels == 0].mean():.3f}"
        )
    if args.short_threads.is_file():
        print("short threads, dev split, static vectors:")
        short_thread_details(args.short_threads, wv.embed_many)
        if args.teacher:
            from lab.wordvectors.minilm import SentenceEncoder

            print("short threads, dev split, the full all-MiniLM-L6-v2 (teacher):")
            short_thread_details(args.short_threads, SentenceEncoder().encode)
    if args.speed:
        texts = [t for t in build.corpus_texts(10**9, args.data_dir) if t.strip()]
        texts = (texts * (10_000 // len(texts) + 1))[:10_000]
        words = sum(len(t.split()) for t in texts) / len(texts)
        cold, warm = speed(wv, texts)
        print(
            f"embed_many on 10,000 forum posts ({words:.0f} words on average), median of 3: "
            f"{cold:,.0f} posts/s from an empty word cache, {warm:,.0f} posts/s with it warm"
        )


if __name__ == "__main__":
    main()

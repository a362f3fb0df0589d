"""The distillation corpus: chunks of forum and social-media posts with the teacher's sentence vectors.

Training time only (student venv, `lab/sentence/README.md`). Run from the repository root:

    OMP_NUM_THREADS=2 PYTHONPATH=. .studentvenv/bin/python -m lab.sentence.corpus --data-dir ../shared/data

Texts: the post bodies of IAC 4forums, SemEval-2015 Qatar Living (subjects, questions, comments), OLID,
HateXplain, Davidson et al. and the forumscraper JSON threads (and their titles). Not C3 (its licence is
non-commercial) and not `lab/short_threads` (the evaluation set). Each post gives several chunks, since the
detector mostly encodes short replies and titles: its first up-to-126 WordPiece tokens (cut at a word start),
its sentences, and one random span of 3-12 words; duplicates are dropped and the chunks shuffled (seed 17).
The teacher (all-MiniLM-L6-v2, `torchbert.load_teacher`) encodes them in shards written to
`lab/sentence/out/` (gitignored; the texts are never stored, only token ids and vectors), so training can
start on the shards done so far.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import re
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import torch

from classifiers.wordvectors import WordVectors
from lab.sentence.torchbert import load_teacher, padded

OUT = Path(__file__).resolve().parent / "out"
MAX_BODY = 126  # + [CLS] and [SEP] = 128, the encoder's limit
CLS, SEP = 101, 102
_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")


def _jsonl(path: Path) -> Iterator[dict[str, object]]:
    with path.open(encoding="utf-8") as fh:
        yield from (json.loads(line) for line in fh if line.strip())


def post_texts(data: Path) -> Iterator[str]:
    """Every post body and title of the allowed sources."""
    for name in ("threads_political_sample_dev.jsonl", "threads_nonpolitical_pool_dev.jsonl"):
        for t in _jsonl(data / "iac_4forums" / name):
            yield str(t.get("title") or "")
            yield from (str(p.get("text") or "") for p in t.get("posts", []))  # type: ignore[union-attr]
    for q in _jsonl(data / "semeval2015_qatarliving" / "qatarliving_threads_dev.jsonl"):
        yield str(q.get("subject") or "")
        yield str(q.get("body") or "")
        yield from (str(c.get("cbody") or "") for c in q.get("comments", []))  # type: ignore[union-attr]
    yield from _csv(data / "olid_offenseval2019" / "olid-training-v1.0.tsv", "tweet", "\t")
    yield from _csv(data / "hatexplain" / "hatexplain_val.csv", "text", ",")
    yield from _csv(data / "davidson_hate_offensive" / "labeled_data.csv", "tweet", ",")
    for path in sorted((data / "forum_markup" / "forumscraper_json").glob("*.json")):
        thread = json.loads(path.read_text(encoding="utf-8"))
        yield str(thread.get("title") or "")
        yield from (str(p.get("content") or "") for p in thread.get("posts", []))


def _csv(path: Path, column: str, delimiter: str) -> Iterator[str]:
    with path.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh, delimiter=delimiter):
            yield row.get(column) or ""


def chunks_of(text: str, rng: random.Random) -> Iterator[str]:
    """The post's opening (whole if short), its sentences, and one short span."""
    words = text.split()
    if not words:
        return
    yield " ".join(words[:110])
    if len(words) > 110:
        start = rng.randrange(0, len(words) - 60)
        yield " ".join(words[start : start + 110])
    sentences = [s for s in (x.strip() for x in _SENTENCE.split(text)) if len(s.split()) >= 2]
    if len(sentences) > 1:
        yield from rng.sample(sentences, min(len(sentences), 4))
    if len(words) > 6:
        n = rng.randint(3, 12)
        start = rng.randrange(0, max(1, len(words) - n))
        yield " ".join(words[start : start + n])


def build_ids(data: Path, seed: int = 17) -> list[np.ndarray]:
    """Token id rows ([CLS] ... [SEP]) of the distinct chunks, shuffled."""
    tokenizer = WordVectors.load().tokenizer
    rng = random.Random(seed)
    seen: set[str] = set()
    rows: list[np.ndarray] = []
    for text in post_texts(data):
        for chunk in chunks_of(text, rng):
            key = chunk.lower()
            if key in seen:
                continue
            seen.add(key)
            body = tokenizer.ids(chunk)[:MAX_BODY]
            if body:
                rows.append(np.array([CLS, *body, SEP], dtype=np.int32))
    rng.shuffle(rows)
    return rows


def encode_shard(teacher: torch.nn.Module, rows: list[np.ndarray], batch_tokens: int = 4096) -> np.ndarray:
    """The teacher's unit vectors of `rows` (batched by similar length, returned in the rows' order)."""
    order = sorted(range(len(rows)), key=lambda i: len(rows[i]))
    out = np.zeros((len(rows), 384), dtype=np.float32)
    start = 0
    while start < len(order):
        end = start
        while end < len(order) and (end - start + 1) * len(rows[order[end]]) <= batch_tokens:
            end += 1
        end = max(end, start + 1)
        with torch.no_grad():
            out[order[start:end]] = teacher(padded(rows, order[start:end])).numpy()
        start = end
    return out


def save_shard(path: Path, rows: list[np.ndarray], vectors: np.ndarray) -> None:
    """Flat ids, offsets and the teacher's vectors (float16)."""
    lengths = np.array([len(r) for r in rows], dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    np.savez(path, ids=np.concatenate(rows), offsets=offsets, vectors=vectors.astype(np.float16))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=Path("../shared/data"))
    parser.add_argument("--shard", type=int, default=4000, help="chunks per shard")
    parser.add_argument("--max-tokens", type=int, default=1_500_000, help="stop after this many tokens")
    parser.add_argument("--skip", type=int, default=0, help="start at this shard (the ones before are done)")
    args = parser.parse_args()
    OUT.mkdir(exist_ok=True)
    rows = build_ids(args.data_dir)
    total = sum(len(r) for r in rows)
    short = sum(len(r) <= 18 for r in rows)
    print(f"{len(rows)} distinct chunks, {total} tokens; {short} of at most 16 WordPieces", flush=True)
    teacher = load_teacher()
    done, started = 0, time.perf_counter()
    for k in range(args.skip * args.shard, len(rows), args.shard):
        part = rows[k : k + args.shard]
        save_shard(OUT / f"shard-{k // args.shard:03d}.npz", part, encode_shard(teacher, part))
        done += sum(len(r) for r in part)
        rate = done / (time.perf_counter() - started)
        print(f"shard {k // args.shard}: {done} tokens, {rate:.0f} tokens/s", flush=True)
        if done >= args.max_tokens:
            break


if __name__ == "__main__":
    main()

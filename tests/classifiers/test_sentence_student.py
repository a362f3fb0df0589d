"""A distilled student in the sentence model format: narrower layers and a projection to the output dims."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from classifiers.offtopic.semantic import default_word_vectors
from classifiers.persistence import ModelError, save_model
from classifiers.sentence import (
    FORMAT_VERSION,
    LINEAR_NAMES,
    MODEL_KIND,
    NORM_NAMES,
    SentenceEncoder,
    vocab_digest,
)

HIDDEN, FF, DIMS, POSITIONS = 64, 256, 384, 128


def student_arrays(seed: int) -> dict[str, npt.NDArray[Any]]:
    """A random 1-layer student (hidden 64, 2 heads of 32): token table int8 with scales, float16 matrices."""
    rng = np.random.default_rng(seed)
    vocab = len(default_word_vectors().tokenizer.vocab)

    def normal(*shape: int, scale: float = 0.05) -> npt.NDArray[np.float32]:
        return (rng.standard_normal(shape) * scale).astype(np.float32)

    arrays: dict[str, npt.NDArray[Any]] = {
        "embeddings.word_embeddings.weight": rng.integers(-127, 128, (vocab, HIDDEN)).astype(np.int8),
        "embeddings.word_embeddings.weight.scale": np.full(vocab, 0.5 / 127, dtype=np.float32),
        "embeddings.position_embeddings.weight": normal(POSITIONS, HIDDEN).astype(np.float16),
        "embeddings.token_type_embeddings.weight": normal(1, HIDDEN),
        "embeddings.LayerNorm.weight": np.ones(HIDDEN, dtype=np.float32),
        "embeddings.LayerNorm.bias": np.zeros(HIDDEN, dtype=np.float32),
        "projection.weight": normal(DIMS, HIDDEN, scale=0.2).astype(np.float16),
        "projection.bias": normal(DIMS),
    }
    shapes = dict.fromkeys(LINEAR_NAMES, (HIDDEN, HIDDEN))
    shapes.update({"intermediate.dense": (FF, HIDDEN), "output.dense": (HIDDEN, FF)})
    for name, (rows, cols) in shapes.items():
        arrays[f"encoder.layer.0.{name}.weight"] = normal(rows, cols).astype(np.float16)
        arrays[f"encoder.layer.0.{name}.bias"] = normal(rows)
    for name in NORM_NAMES:
        arrays[f"encoder.layer.0.{name}.weight"] = np.ones(HIDDEN, dtype=np.float32)
        arrays[f"encoder.layer.0.{name}.bias"] = np.zeros(HIDDEN, dtype=np.float32)
    return arrays


def write_student(path: Path, seed: int = 5, **meta: Any) -> Path:
    tokenizer = default_word_vectors().tokenizer
    save_model(
        path,
        MODEL_KIND,
        student_arrays(seed),
        {
            "format_version": FORMAT_VERSION,
            "layers": 1,
            "heads": 2,
            "hidden": HIDDEN,
            "dims": DIMS,
            "eps": 1e-12,
            "cls_id": tokenizer.vocab.index("[CLS]"),
            "sep_id": tokenizer.vocab.index("[SEP]"),
            "max_tokens": POSITIONS,
            "vocab_sha256": vocab_digest(tokenizer.vocab),
            **meta,
        },
    )
    return path


def load(path: Path) -> SentenceEncoder:
    tokenizer = default_word_vectors().tokenizer
    return SentenceEncoder.load(tokenizer, vocab_digest(tokenizer.vocab), path)


def test_a_student_reads_its_dimensions_from_the_file(tmp_path: Path) -> None:
    student = load(write_student(tmp_path / "student.npz"))
    assert student.dims == DIMS and student.max_tokens == POSITIONS
    vectors = student.encode_many(["The bus was late again", "", "word " * 500])
    assert vectors.shape == (3, DIMS)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert len(student.ids("word " * 500)) == POSITIONS


def test_the_projection_is_applied_after_mean_pooling(tmp_path: Path) -> None:
    """The student's vector is the unit-length projection of the mean of its last hidden states (checked with
    a zero bias, where the projection of the unit pooled state has the same direction)."""
    transformer = load(write_student(tmp_path / "student.npz")).transformer
    assert transformer.projection is not None and transformer.dims == DIMS
    weights, bias = transformer.projection
    assert weights.shape == (HIDDEN, DIMS) and bias.shape == (DIMS,)
    rows = np.random.default_rng(3).standard_normal((7, HIDDEN)).astype(np.float32)
    transformer.projection, transformer.dims = None, HIDDEN
    pooled = transformer.encode(rows)  # the unit mean state, as a model without projection gives it
    transformer.projection, transformer.dims = (weights, np.zeros_like(bias)), DIMS
    expected = pooled @ weights
    expected /= np.linalg.norm(expected)
    assert pooled.shape == (HIDDEN,)
    assert np.abs(transformer.encode(rows) - expected).max() < 1e-5


def test_a_student_gives_known_vectors(tmp_path: Path) -> None:
    """Regression: the random student of seed 5 gives these values (written when students were added)."""
    student = load(write_student(tmp_path / "student.npz"))
    vector = student.encode("Has the number 12 bus stopped running on Sundays?")
    assert np.abs(vector[:4] - KNOWN).max() < 1e-6


KNOWN = np.array([0.0607428, -0.01368847, -0.09985404, 0.12956688], dtype=np.float32)


def test_metadata_that_disagrees_with_the_arrays_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="dims"):
        load(write_student(tmp_path / "student.npz", dims=256))
    with pytest.raises(ModelError, match="dims"):
        load(write_student(tmp_path / "other.npz", hidden=384))

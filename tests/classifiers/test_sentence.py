"""The numpy sentence encoder (all-MiniLM-L6-v2, int8 weights): meaning, safety, limits."""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import numpy as np
import pytest

from classifiers.offtopic.semantic import default_sentence_encoder, default_word_vectors
from classifiers.persistence import ModelError
from classifiers.sentence import (
    DEFAULT_SENTENCE_PATH,
    MAX_TOKENS,
    SentenceEncoder,
    gelu,
    layer_norm,
    vocab_digest,
)
from classifiers.wordvectors import WordPieceTokenizer


@pytest.fixture(scope="module")
def encoder() -> SentenceEncoder:
    return default_sentence_encoder()


def test_vectors_are_unit_length_and_read_only(encoder: SentenceEncoder) -> None:
    v = encoder.encode("The bus was late again")
    assert v.shape == (encoder.dims,) == (384,)
    assert abs(float(np.linalg.norm(v)) - 1.0) < 1e-5
    with pytest.raises(ValueError):
        v[0] = 1.0
    assert encoder.encode("The bus was late again") is v  # the cache


def test_the_encoder_reads_meaning_not_shared_words(encoder: SentenceEncoder) -> None:
    bus, train, striker = encoder.encode_many(
        ["The bus was late again this morning", "My train is delayed", "Our striker was late to the match"]
    )
    assert float(bus @ train) > float(bus @ striker)


@pytest.mark.parametrize("text", ["", "\u200b\u0000 \U0001f600", "@everyone **bold** https://example.org/x"])
def test_odd_text_gives_a_unit_vector(encoder: SentenceEncoder, text: str) -> None:
    assert abs(float(np.linalg.norm(encoder.encode(text))) - 1.0) < 1e-5


def test_a_long_text_is_cut_at_max_tokens(encoder: SentenceEncoder) -> None:
    long = "word " * 5000
    assert len(encoder.ids(long)) == MAX_TOKENS
    assert np.allclose(encoder.encode(long), encoder.encode("word " * 2000), atol=1e-6)


def test_a_model_for_another_vocabulary_is_refused() -> None:
    tokenizer = WordPieceTokenizer(["[UNK]", "[CLS]", "[SEP]", "bus"])
    with pytest.raises(ModelError, match="another vocabulary"):
        SentenceEncoder.load(tokenizer, "0" * 64)


def test_a_damaged_model_file_is_a_model_error(tmp_path: Path) -> None:
    damaged = tmp_path / "sentence.npz"
    damaged.write_bytes(DEFAULT_SENTENCE_PATH.read_bytes()[: 1 << 20])
    tokenizer = default_word_vectors().tokenizer
    with pytest.raises(ModelError):
        SentenceEncoder.load(tokenizer, "x", damaged)


TEXTS = [
    "The bus was late again",
    "",
    "Our striker scored twice and the keeper saved a penalty in injury time, the title is ours " * 8,
    "same here",
    "word " * 300,
    "Has anyone tried the new sourdough starter from the market? Mine will not rise at all.",
]


def test_texts_encoded_together_match_texts_encoded_one_by_one(encoder: SentenceEncoder) -> None:
    encoder.forget()
    together = encoder.encode_many(TEXTS)
    encoder.forget()
    alone = np.stack([encoder.encode(text) for text in TEXTS])
    assert together.shape == (len(TEXTS), 384)
    assert np.abs(together - alone).max() < 1e-6
    # Duplicates and already cached texts are served from the cache, in the order asked.
    again = encoder.encode_many([TEXTS[3], TEXTS[0], TEXTS[3]])
    assert np.array_equal(again, alone[[3, 0, 3]])


def test_the_batched_transformer_keeps_each_text_to_its_own_tokens(encoder: SentenceEncoder) -> None:
    transformer = encoder.transformer
    rng = np.random.default_rng(17)
    lengths = [5, 1, 40, 128]
    rows = rng.standard_normal((sum(lengths), 384)).astype(np.float32) * 0.05
    before = rows.copy()
    together = transformer.encode_many(rows, lengths)
    starts = np.cumsum([0, *lengths])
    alone = np.stack([transformer.encode(rows[a:b]) for a, b in itertools.pairwise(starts)])
    assert np.abs(together - alone).max() < 1e-6
    assert np.array_equal(rows, before)  # the caller's rows are not changed


def test_gelu_and_layer_norm_match_a_float64_reference() -> None:
    x = np.linspace(-12.0, 12.0, 20001, dtype=np.float32).reshape(3, -1)
    before = x.copy()
    exact = np.array([0.5 * v * (1.0 + math.erf(v / math.sqrt(2.0))) for v in x.ravel().tolist()])
    out = gelu(x)
    assert out.dtype == np.float32
    assert np.abs(out.ravel() - exact).max() < 1e-6
    weight, bias = np.float32(1.5), np.float32(-0.25)
    x64 = x.astype(np.float64)
    centred = x64 - x64.mean(axis=-1, keepdims=True)
    reference = centred / np.sqrt((centred**2).mean(axis=-1, keepdims=True) + 1e-12) * 1.5 - 0.25
    assert np.abs(layer_norm(x, weight, bias, 1e-12) - reference).max() < 1e-5
    assert np.array_equal(x, before)


def test_the_teacher_file_gives_the_vectors_it_gave_before_students_were_supported() -> None:
    """Known values (main's encoder, before the projection for students was added): the teacher's path
    through `Transformer` is unchanged to the bit."""
    tokenizer = default_word_vectors().tokenizer
    teacher = SentenceEncoder.load(tokenizer, vocab_digest(tokenizer.vocab), DEFAULT_SENTENCE_PATH)
    assert teacher.dims == 384 and teacher.transformer.projection is None
    bus, match = teacher.encode_many(
        ["The bus was late again", "Our striker scored twice and the keeper saved a penalty"]
    )
    known_bus = [0.03157573, 0.00036402, 0.03799513, 0.04937682, 0.06688143, 0.04055577]
    known_match = [0.07062095, 0.07664547, -0.09379227, 0.04755113, 0.10017903, 0.08486861]
    assert np.abs(bus[:6] - known_bus).max() < 1e-7
    assert np.abs(match[:6] - known_match).max() < 1e-7

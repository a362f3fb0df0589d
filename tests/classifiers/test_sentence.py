"""The numpy sentence encoder (all-MiniLM-L6-v2, int8 weights): meaning, safety, limits."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from classifiers.offtopic.semantic import default_sentence_encoder, default_word_vectors
from classifiers.persistence import ModelError
from classifiers.sentence import DEFAULT_SENTENCE_PATH, MAX_TOKENS, SentenceEncoder
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

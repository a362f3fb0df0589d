"""Normalisation and the definition of a post's words."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from classifiers.text import (
    boilerplate_spans,
    is_boilerplate_line,
    normalize,
    tokenize,
    word_key_spans,
    word_keys,
    words,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  Hello   World ", "hello world"),
        ("Ｆｕｌｌ width", "full width"),
        ("zero\u200bwidth", "zerowidth"),
        ("soft\u00adhyphen", "softhyphen"),
        ("line\nbreaks\tand  tabs", "line breaks and tabs"),
        ("STRASSE", "strasse"),
        ("Straße", "strasse"),
    ],
)
def test_normalize(raw: str, expected: str) -> None:
    assert normalize(raw) == expected


@pytest.mark.parametrize(
    "line",
    [
        "Please, Log in or Register to view URLs content!",
        "please log in or register to view urls content",
        "IMG-0375.jpg",
        "photo 2 (1).PNG",
        "Top",
        "Click to expand...",
        "View attachment 12345",
        "\u00a0Top\u00a0",
    ],
)
def test_boilerplate_lines(line: str) -> None:
    assert is_boilerplate_line(line)


@pytest.mark.parametrize(
    "line",
    ["Top of the morning to you all", "The file was called report.pdf and I read it twice.", "Stop it.", ""],
)
def test_ordinary_lines_are_not_boilerplate(line: str) -> None:
    assert not is_boilerplate_line(line)


def test_boilerplate_never_counts_as_words() -> None:
    text = "Please, Log in or Register to view URLs content!\nReal words here.\nIMG-1.jpg\nTop"
    assert words(text) == ["real", "words", "here"]
    assert [w.decode() for w in word_keys(text)] == ["real", "words", "here"]
    assert len(boilerplate_spans(text)) == 3


def test_token_spans_point_into_the_original_text() -> None:
    text = "Don’t   SHOUT,\nplease\u200b!"
    tokens = tokenize(text)
    assert [t.word for t in tokens] == ["don't", "shout", "please"]
    assert [text[t.start : t.end] for t in tokens] == ["Don’t", "SHOUT", "please"]


@given(st.text(max_size=300))
def test_word_keys_and_their_spans_agree(text: str) -> None:
    keys = word_keys(text)
    spans = word_key_spans(text)
    if spans is not None:
        assert len(spans) == len(keys)
        for start, end in spans:
            assert 0 <= start < end <= len(text)


@given(st.text(max_size=300))
def test_fast_and_slow_word_paths_agree(text: str) -> None:
    assert words(text) == [t.word for t in tokenize(text)]


@given(st.text(alphabet=st.characters(codec="ascii"), max_size=300))
def test_ascii_word_keys_are_alphanumeric_runs(text: str) -> None:
    for key in word_keys(text):
        assert key and all(chr(b).isalnum() or chr(b) == "_" for b in key)
        assert key == key.lower()

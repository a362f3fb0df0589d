"""Normalisation and the definition of a post's words."""

from __future__ import annotations

import re
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from classifiers import shingles as shm
from classifiers.shingles import key_shingles, shingles
from classifiers.text import (
    _ASCII_TABLE,
    _BOILERPLATE_HINTS,
    _TOP_LINE,
    ascii_word_bounds,
    boilerplate_spans,
    is_boilerplate_line,
    normalize,
    shingle_hashes,
    strip_invisible,
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


# -- the fast paths for plain ASCII text give what reading every line gives ---------------------------------


def _spans_reading_every_line(text: str) -> list[tuple[int, int]]:
    """Boilerplate spans the plain way: the hint check, then every line through `is_boilerplate_line`."""
    lowered = text.lower()
    if not any(hint in lowered for hint in _BOILERPLATE_HINTS) and not _TOP_LINE.search(lowered):
        return []
    spans, pos = [], 0
    for line in text.split("\n"):
        end = pos + len(line)
        if len(line) <= 160 and is_boilerplate_line(line):
            spans.append((pos, end))
        pos = end + 1
    return spans


def _blanked(text: str) -> str:
    for start, end in _spans_reading_every_line(text):
        text = text[:start] + " " * (end - start) + text[end:]
    return text


_PIECES = [
    "Please, Log in or Register to view URLs content!",
    "please log in or register  to view links content",
    "IMG_2041.JPG",
    "holiday photo.jpeg",
    "notes .txt",
    "a .pdf and more",
    "View attachment 12",
    "Click to expand...",
    "Top",
    " top\r",
    "\rtop",
    "\x0btop",
    "stop the topic",
    "harbourwatch said:",
    "bob said",
    "she said so",
    "unsaid",
    "expand",
    "jpg images",
    "register",
]
_ascii_texts = st.lists(
    st.one_of(st.sampled_from(_PIECES), st.text(alphabet=st.characters(codec="ascii"), max_size=40)),
    max_size=8,
).flatmap(lambda parts: st.sampled_from(["\n", " ", "\r\n", "\n\n"]).map(lambda sep: sep.join(parts)))


@given(_ascii_texts)
def test_ascii_boilerplate_spans_read_only_the_lines_that_matter(text: str) -> None:
    assert boilerplate_spans(text) == _spans_reading_every_line(text)


@given(_ascii_texts)
def test_ascii_word_keys_skip_exactly_the_boilerplate(text: str) -> None:
    assert word_keys(text) == _blanked(text).encode("ascii").lower().translate(_ASCII_TABLE).split()


@given(_ascii_texts)
def test_ascii_word_spans_are_the_runs_of_word_characters(text: str) -> None:
    translated = _blanked(text).encode("ascii").translate(_ASCII_TABLE)
    expected = [m.span() for m in re.finditer(rb"\S+", translated)]
    assert word_key_spans(text) == expected
    starts, ends = ascii_word_bounds(_blanked(text))
    assert list(zip(starts.tolist(), ends.tolist(), strict=True)) == expected


def test_boilerplate_needs_a_hint_somewhere() -> None:
    # "\rtop" reads as "top" line by line, but without a hint in the text nothing is boilerplate.
    assert boilerplate_spans("first line\n\rtop\nlast") == []
    assert boilerplate_spans("bob said:\n\rtop\nlast") == [(0, 9), (10, 14)]


# -- hashed shingles (numpy) are the shingles of `word_keys` ----------------------------------------------

_mixed_texts = st.one_of(
    _ascii_texts,
    st.text(max_size=300),
    st.lists(
        st.one_of(
            st.sampled_from(
                [
                    *_PIECES,
                    "Ｔｏｐ",
                    "café au lait",
                    "naïve",
                    "x" * 300,
                    "ab" * 200,
                    "don’t",
                    "To\u200bp",
                    "id\u200biot",
                    "℠",
                    "ﬁne",
                ]
            ),
            st.text(alphabet="ab é\n", max_size=30),
        ),
        max_size=10,
    ).map(" ".join),
)


def _first_places(values: list[int]) -> list[int]:
    """Where each value first stands: equal values give equal places, different ones different places."""
    first: dict[int, int] = {}
    return [first.setdefault(v, i) for i, v in enumerate(values)]


@given(_mixed_texts, st.integers(min_value=2, max_value=6))
def test_hashed_shingles_are_the_shingles_of_the_word_keys(text: str, size: int) -> None:
    keys = word_keys(text)
    found = shingles(text, size)
    assert found.words == len(keys)
    assert _first_places(found.hashes) == _first_places(shingle_hashes(keys, size))
    assert found.hashes == key_shingles(keys, size).hashes
    assert found.letters() == sum(map(len, keys))
    for first in range(len(keys)):
        assert found.letters(first, len(keys)) == sum(map(len, keys[first:]))
    if found.aligned:
        assert list(zip(found.starts.tolist(), found.ends.tolist(), strict=True)) == word_key_spans(text)


def test_hashed_shingles_of_long_texts_and_long_words() -> None:
    words_ = [f"w{i % 5000}" for i in range(30_000)] + ["z" * 3000, "y" * 256, "z" * 3000]
    text = " ".join(words_ + words_[:10])
    found = shingles(text, 5)
    assert found.words == len(words_) + 10
    assert found.hashes[:6] == found.hashes[len(words_) : len(words_) + 6]
    # 5,000 different runs repeat round the cycle of words; 3 more hold the long words.
    assert len(set(found.hashes[: len(words_) - 4])) == 5_000 + 3


# -- the line-by-line Unicode paths give what the whole-text ones gave -----------------------------------


def _keys_the_plain_way(text: str) -> list[bytes]:
    folded = unicodedata.normalize("NFKC", strip_invisible(_blanked(text))).casefold()
    return [w.encode("utf-8") for w in re.findall(r"\w+", folded)]


def _spans_the_plain_way(text: str) -> list[tuple[int, int]] | None:
    text = _blanked(text)
    index = [i for i, ch in enumerate(text) if strip_invisible(ch)]  # invisible characters left out
    cleaned = "".join(text[i] for i in index)
    spans = []
    for m in re.finditer(r"\w+", cleaned):
        piece = m.group()
        if not piece.isascii() and len(re.findall(r"\w+", unicodedata.normalize("NFKC", piece))) != 1:
            return None
        spans.append((index[m.start()], index[m.end() - 1] + 1))
    return spans if len(spans) == len(_keys_the_plain_way(cleaned)) else None


@given(_mixed_texts)
def test_word_keys_and_spans_match_the_plain_way(text: str) -> None:
    assert word_keys(text) == _keys_the_plain_way(text)
    assert boilerplate_spans(text) == _spans_reading_every_line(text)
    assert word_key_spans(text) == _spans_the_plain_way(text)


def test_texts_longer_than_the_kept_powers_hash_alike(monkeypatch: pytest.MonkeyPatch) -> None:
    text = " ".join(f"w{i % 700}" for i in range(5_000))
    kept = shingles(text, 5).hashes
    monkeypatch.setattr(shm, "_POWERS_KEPT", 1_000)
    monkeypatch.setattr(shm, "_LETTER_POWERS", shm._Powers(shm._WORD_BASE))
    monkeypatch.setattr(shm, "_WORD_POWERS", shm._Powers(shm._RUN_BASE))
    assert shingles(text, 5).hashes == kept
    assert len(shm._LETTER_POWERS.kept[0]) == 0  # made for that text only

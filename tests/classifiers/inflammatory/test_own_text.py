"""A post's own words: the faster blanking of repeats and boilerplate gives what the first version gave."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from classifiers.inflammatory import InflammatoryDetector
from classifiers.inflammatory.detector import _blank
from classifiers.shingles import key_shingles
from classifiers.text import boilerplate_spans, forget_oldest, word_key_spans, word_keys
from classifiers.thread import Post


# The first version, kept as the oracle: a sorted merge and a per-character blank in Python.
def _merge_v1(spans: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _blank_v1(text: str, spans: Sequence[tuple[int, int]]) -> str:
    if not spans:
        return text
    parts, pos = [], 0
    for start, end in _merge_v1(spans):
        start = max(start, pos)
        if start >= end:
            continue
        parts.append(text[pos:start])
        parts.append("".join("\n" if ch == "\n" else " " for ch in text[start:end]))
        pos = end
    parts.append(text[pos:])
    return "".join(parts)


class _OwnTextV1:
    def __init__(self, max_shingles: int = 50_000) -> None:
        self.seen: dict[int, None] = {}
        self.max = max_shingles

    def own_text(self, text: str) -> tuple[str, int]:
        keys = word_keys(text)
        # The shingle hash the state keeps (was `shingle_hashes`, Python's tuple hash): the memory is
        # compared below, so both must hash alike; which hash it is changes no blanking.
        hashes = key_shingles(keys, 6).hashes
        repeated: list[tuple[int, int]] = []
        if self.seen and not self.seen.keys().isdisjoint(hashes):
            spans = word_key_spans(text)
            if spans is not None and len(spans) == len(keys):
                repeated = [(spans[i][0], spans[i + 5][1]) for i, h in enumerate(hashes) if h in self.seen]
        own = _blank_v1(text, boilerplate_spans(text) + repeated)
        self.seen.update(dict.fromkeys(hashes))
        forget_oldest(self.seen, self.max)
        return own, sum(e - s for s, e in _merge_v1(repeated))


WORDS = [
    "the",
    "budget",
    "rail",
    "you",
    "idiot",
    "café",
    "naïve",
    "x\u200by",
    "℠",
    "ｆｕｌｌ",
    "😀",
    "a.b",
    "—",
]
BOILERPLATE = ["Please, Log in or Register to view URLs content!", "Click to expand...", "Someone said:"]


@st.composite
def threads(draw: st.DrawFn) -> list[str]:
    """Posts that often paste runs of words of earlier posts, with boilerplate lines between."""
    posts: list[str] = []
    for _ in range(draw(st.integers(1, 6))):
        pieces: list[str] = []
        for _ in range(draw(st.integers(0, 6))):
            kind = draw(st.sampled_from(["words", "paste", "boilerplate", "newline"]))
            if kind == "paste" and posts:
                source = draw(st.sampled_from(posts)).split(" ")
                start = draw(st.integers(0, len(source)))
                pieces.append(" ".join(source[start : start + draw(st.integers(1, 14))]))
            elif kind == "boilerplate":
                pieces.append("\n" + draw(st.sampled_from(BOILERPLATE)) + "\n")
            elif kind == "newline":
                pieces.append("\n")
            else:
                pieces.append(" ".join(draw(st.lists(st.sampled_from(WORDS), min_size=1, max_size=12))))
        posts.append(" ".join(pieces))
    return posts


@pytest.fixture(scope="module")
def detector() -> InflammatoryDetector:
    return InflammatoryDetector.load()


@settings(max_examples=200, deadline=None)
@given(threads())
def test_own_text_is_what_the_first_version_gave(detector: InflammatoryDetector, posts: list[str]) -> None:
    state, oracle = detector.begin_thread("t", "x"), _OwnTextV1()
    for i, text in enumerate(posts):
        assert state.own_text(Post(id=str(i), text=text)) == oracle.own_text(text)
    assert list(state._seen) == list(oracle.seen)


@settings(max_examples=300, deadline=None)
@given(
    st.text(alphabet=st.sampled_from(list("ab \n\t😀é")), max_size=30),
    st.lists(st.tuples(st.integers(0, 32), st.integers(0, 32)), max_size=6),
)
def test_blank_is_what_the_first_version_gave(text: str, spans: list[tuple[int, int]]) -> None:
    assert _blank(text, spans) == _blank_v1(text, spans)


def test_a_long_pasted_quote_is_one_blank_run(detector: InflammatoryDetector) -> None:
    earlier = " ".join(f"word{i}" for i in range(300))
    state = detector.begin_thread("t", "x")
    state.own_text(Post(id="1", text=earlier))
    own, ignored = state.own_text(Post(id="2", text=f"Quoting: {earlier}\nMy own reply here."))
    assert own.split() == ["Quoting:", "My", "own", "reply", "here."]
    assert ignored == len(earlier)


@pytest.mark.parametrize(
    ("earlier", "post"),
    [
        # Repeats six words apart: two runs, the comma between them is the poster's own.
        (["w0 w1 w2 w3 w4 w5", "w6 w7 w8 w9 w10 w11"], "w0 w1 w2 w3 w4 w5, w6 w7 w8 w9 w10 w11!"),
        # Repeats five words apart share a word: one run, counted once.
        (["w0 w1 w2 w3 w4 w5", "w5 w6 w7 w8 w9 w10"], "w0 w1 w2 w3 w4 w5; w6 w7 w8 w9 w10."),
        (["a b c d e f g h"], "x a b c d e f g h y, a b c d e f!"),
    ],
)
def test_runs_of_repeats_next_to_each_other(
    detector: InflammatoryDetector, earlier: list[str], post: str
) -> None:
    state, oracle = detector.begin_thread("t", "x"), _OwnTextV1()
    for i, text in enumerate(earlier):
        assert state.own_text(Post(id=str(i), text=text)) == oracle.own_text(text)
    assert state.own_text(Post(id="new", text=post)) == oracle.own_text(post)

"""The off-topic detector's loops in the C extension give what their Python versions give: the words of a
post (`ascii_words`, `content_terms`: its regular expressions and stop-word filter) and the thread memory's
sums over term weights (`add_weights`, `term_overlap`: the same doubles, bit for bit)."""

from __future__ import annotations

import random
import struct
from collections.abc import Iterable
from types import ModuleType

import pytest
from hypothesis import given
from hypothesis import strategies as st

from classifiers import shingles as shingles_module
from classifiers.offtopic import OffTopicDetector, memory, state, words
from classifiers.thread import Post

native: ModuleType | None = shingles_module.native
needs_native = pytest.mark.skipif(native is None, reason="C extension not built (or MODASSIST_PURE_PYTHON)")

# Every character that changes how a word is cut: the joiners ' . -, the "'s" that is dropped, \w
# characters outside [a-z0-9_] (capitals end a possessive's word boundary but are not word characters here).
_ascii = st.one_of(
    st.text(alphabet="as'.-_ 0S9\nZ!", max_size=60),
    st.text(alphabet=st.characters(max_codepoint=127), max_size=300),
    st.lists(
        st.sampled_from(["it's", "'s", "s'", "a.b", "x-", "-y", "''s", "'ss", "_", "1.5", "'S", "s's"]),
        max_size=20,
    ).map("".join),
)
_words = st.lists(
    st.one_of(
        st.sampled_from(["the", "a", "I", "1st", "²nd", "٣x", "ok", "don't", "", "x", "naïve", "z9"]),
        st.text(max_size=6),
    ),
    max_size=40,
)


@needs_native
@given(_ascii)
def test_ascii_words_are_the_regular_expressions_words(text: str) -> None:
    assert native is not None
    assert native.ascii_words(text) == words.python_ascii_words(text)
    assert native.ascii_words(text.lower()) == words.python_ascii_words(text.lower())


@needs_native
@given(_words)
def test_content_terms_are_the_filters_terms(items: list[str]) -> None:
    assert native is not None
    stop = words._STOP_WORDS
    assert native.content_terms(items, stop) == words.python_content_terms(items, stop)
    assert native.content_terms(iter(items), frozenset(items[:3])) == words.python_content_terms(
        items, frozenset(items[:3])
    )


@needs_native
def test_bad_arguments_raise_instead_of_crashing() -> None:
    assert native is not None
    with pytest.raises(ValueError, match="not ASCII"):
        native.ascii_words("café")
    with pytest.raises(TypeError):
        native.ascii_words(b"bytes")
    with pytest.raises(TypeError, match="set"):
        native.content_terms(["word"], ["a", "list"])
    with pytest.raises(TypeError, match="str"):
        native.content_terms(["word", 7], frozenset())
    with pytest.raises(TypeError, match="iterable"):
        native.content_terms(7, frozenset())
    assert native.ascii_words("") == [] and native.content_terms([], frozenset()) == []


_terms = st.sampled_from(["ferry", "pier", "timetable", "goal", "x", "é", ""])
_weights = st.dictionaries(_terms, st.floats(-1e6, 1e6, allow_nan=False) | st.integers(-5, 5), max_size=7)


def _bits(values: Iterable[float]) -> list[str]:
    """The doubles' bytes, so that equal means bit for bit."""
    return [struct.pack("<d", v).hex() for v in values]


@needs_native
@given(_weights, _weights, st.floats(1e-3, 1e12), st.floats(0, 1e9))
def test_add_weights_gives_the_same_doubles(
    profile: dict[str, float], weights: dict[str, float], scale: float, sq: float
) -> None:
    assert native is not None
    by_c, by_python = dict(profile), dict(profile)
    c_sq = native.add_weights(by_c, weights, scale, sq)
    python_sq = memory.python_add_weights(by_python, weights, scale, sq)
    assert list(by_c) == list(by_python)
    assert _bits([c_sq, *map(float, by_c.values())]) == _bits([python_sq, *map(float, by_python.values())])


@needs_native
@given(_weights, _weights, _weights)
def test_term_overlap_gives_the_same_doubles(
    weights: dict[str, float], anchor: dict[str, float], thread: dict[str, float]
) -> None:
    assert native is not None
    by_c = native.term_overlap(weights, anchor, thread)
    assert _bits(by_c) == _bits(map(float, memory.python_term_overlap(weights, anchor, thread)))


@needs_native
def test_the_thread_loops_refuse_what_is_not_a_dict_of_numbers() -> None:
    assert native is not None
    with pytest.raises(TypeError):
        native.add_weights({}, [("a", 1.0)], 1.0, 0.0)
    with pytest.raises(TypeError):
        native.add_weights({}, {"a": "1"}, 1.0, 0.0)
    same = {"a": 1.0}
    with pytest.raises(ValueError, match="two dicts"):
        native.add_weights(same, same, 1.0, 0.0)
    with pytest.raises(TypeError):
        native.term_overlap({"a": 1.0}, {"a": None}, {})


@needs_native
def test_the_detector_scores_alike_both_ways(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(7)
    vocabulary = ["ferry", "pier", "timetable", "harbour", "council's", "boats", "it's", "Monday", "7.30"]
    vocabulary += ["e-mail", "we're", "striker", "goal"]
    texts = [" ".join(rng.choice(vocabulary) for _ in range(rng.randint(3, 40))) for _ in range(30)]
    posts = [Post(f"p{i}", text) for i, text in enumerate(texts)]

    def scores() -> list[float]:
        state = OffTopicDetector.load(style="discussion").begin_thread("t", "Harbour ferry timetable")
        return [state.review(post).score for post in posts]

    by_c = scores()
    monkeypatch.setattr(words, "_ascii_words", words.python_ascii_words)
    monkeypatch.setattr(words, "_content_terms", words.python_content_terms)
    monkeypatch.setattr(state, "add_weights", memory.python_add_weights)
    monkeypatch.setattr(state, "term_overlap", memory.python_term_overlap)
    assert scores() == by_c

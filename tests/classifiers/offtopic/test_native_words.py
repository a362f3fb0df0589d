"""The off-topic detector's words read by the C extension (`ascii_words`, `content_terms`) are the words
its regular expressions and stop-word filter give (`python_ascii_words`, `python_content_terms`)."""

from __future__ import annotations

import random
from types import ModuleType

import pytest
from hypothesis import given
from hypothesis import strategies as st

from classifiers import shingles as shingles_module
from classifiers.offtopic import OffTopicDetector, words
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
    assert scores() == by_c

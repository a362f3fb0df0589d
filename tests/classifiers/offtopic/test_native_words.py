"""The off-topic detector's loops in the C extension give what their Python versions give: the words of a
post (`ascii_words`, `content_terms`: its regular expressions and stop-word filter), the thread memory's
sums over term weights (`add_weights`, `term_overlap`: the same doubles, bit for bit), a post's own terms
weighed (`term_weights`, likewise) and its shingles hashed (`tuple_hashes`: Python's tuple hash)."""

from __future__ import annotations

import random
import struct
from collections.abc import Iterable
from types import ModuleType

import numpy as np
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
    logs, idf = memory.LOG_TABLE, _IDF
    with pytest.raises(TypeError, match="strs"):
        native.term_weights(["ferry", 7], None, _INDEX, idf, logs)
    with pytest.raises(TypeError, match="bools"):
        native.term_weights(["ferry"], [1], _INDEX, idf, logs)
    with pytest.raises(ValueError, match="as long as"):
        native.term_weights(["ferry"], [], _INDEX, idf, logs)
    with pytest.raises(TypeError, match="float64"):
        native.term_weights(["ferry"], None, _INDEX, idf.astype(np.float32), logs)
    with pytest.raises(IndexError):
        native.term_weights(
            ["ferry"], None, {"ferry": 4}, idf, logs
        )  # the unknown-word row is not an index row
    with pytest.raises(ValueError, match="at least 1"):
        native.tuple_hashes(["a"], 0)


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
    monkeypatch.setattr(state, "term_weights", memory.python_term_weights)
    monkeypatch.setattr(state, "tuple_hashes", memory.python_tuple_hashes)
    monkeypatch.setattr(memory, "tuple_hashes", memory.python_tuple_hashes)
    assert scores() == by_c


@needs_native
@given(
    st.lists(st.text(max_size=3), max_size=12) | st.lists(st.binary(max_size=3), max_size=12),
    st.integers(1, 5),
)
def test_tuple_hashes_are_pythons_tuple_hashes(items: list[str], size: int) -> None:
    assert native is not None
    assert native.tuple_hashes(items, size) == memory.python_tuple_hashes(items, size)
    assert native.tuple_hashes(items, size) == [
        hash(tuple(items[i : i + size])) for i in range(len(items) - size + 1)
    ]


_IDF = np.array([1.5, 2.25, 0.1, 7.0, 11.0])  # the last one weighs the terms the index lacks
_INDEX = {"ferry": 0, "pier": 1, "timetable": 2, "goal": 3}


@needs_native
@given(
    st.lists(_terms, max_size=30).flatmap(
        lambda t: st.tuples(st.just(t), st.none() | st.lists(st.booleans(), min_size=len(t), max_size=len(t)))
    ),
    st.integers(1, 8),
)
def test_term_weights_gives_the_same_doubles(
    terms_and_mask: tuple[list[str], list[bool] | None], table_size: int
) -> None:
    assert native is not None
    terms, mask = terms_and_mask
    logs = memory.LOG_TABLE[:table_size]
    by_c = native.term_weights(terms, mask, _INDEX, _IDF, logs)
    by_python = memory.python_term_weights(terms, mask, _INDEX, _IDF, logs)
    if by_python is None:  # a count past the table
        assert by_c is None
        return
    assert by_c is not None
    (c_weights, *c_rest), (p_weights, *p_rest) = by_c, by_python
    assert list(c_weights) == list(p_weights)
    assert _bits(c_weights.values()) == _bits(p_weights.values())
    assert c_rest == p_rest


def test_a_term_repeated_past_the_table_is_weighed_alike() -> None:
    # More repeats than LOG_TABLE holds: the logarithm is taken, as the table's own entries were.
    detector = OffTopicDetector.load(style="discussion")
    thread = detector.begin_thread("t", "Harbour ferry timetable")
    n = memory.LOG_TABLE.shape[0] + 5
    vector, counted = thread._vector(["harbour"] * n + ["pier"], [False] * n + [True])
    idf = detector.model.idf_oov[detector.model.index["harbour"]]
    assert counted == n and list(vector.weights) == ["harbour"]
    assert vector.weights["harbour"] == (1.0 + np.log(np.array([float(n)])))[0] * idf
    assert memory.LOG_TABLE[-1] == (1.0 + np.log(np.array([float(n - 5)])))[0]

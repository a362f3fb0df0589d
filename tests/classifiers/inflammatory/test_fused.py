"""The C extension's linear stage (`classifiers._linear` through `fused_scores`) gives the numpy path's scores
and dense features bit for bit: on hostile and odd texts, on batches with texts long enough to be counted per
term, and through the model's `decision`."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from classifiers.inflammatory import fused
from classifiers.inflammatory.detector import InflammatoryDetector
from classifiers.inflammatory.features import _MULTIPLIERS
from classifiers.inflammatory.model import InflammatoryModel
from classifiers.inflammatory.normalise import _normalise, _tables
from classifiers.inflammatory.scoring import DEDUP_ABOVE, text_and_sentence_scores

needs_native = pytest.mark.skipif(
    fused.native is None, reason="C extension not built (or MODASSIST_PURE_PYTHON)"
)


@pytest.fixture(scope="module")
def model() -> InflammatoryModel:
    return InflammatoryDetector.load().model


def _numpy_path(model: InflammatoryModel, texts: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    occ = model.features.occurrences(texts)
    doc, best = text_and_sentence_scores(occ, model._table)
    return doc, best, occ.dense


def _assert_same(model: InflammatoryModel, texts: list[str]) -> None:
    found = fused.fused_scores(model.features, model._table, texts)
    assert found is not None
    for by_c, by_numpy in zip(found, _numpy_path(model, texts), strict=True):
        assert by_c.shape == by_numpy.shape
        assert by_c.tobytes() == by_numpy.tobytes()  # bit for bit, -inf and all


_WRITTEN = [
    "You are SO dumb. Absolute wannabe!! Go away.",
    "",
    "   ",
    "ok",
    "I d i o t. f.u.c.k this, and @everyone read https://example.com/x?y=1 now",
    "Line one.\nLine two! Line three? Yes. No.  Two  spaces.",
    "Ünïcödé wörds, 日本語のテキスト, emoji 🙂🙂🙂 and ＦＵＬＬＷＩＤＴＨ letters",
    "st00pid m0r0n !d10t $h1t",
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa " * 3,
    ". . . ! ! ? ? .",
    "\u200b\u200dzero\u200bwidth joiners\ufeff",
]


@needs_native
def test_written_texts_score_alike_both_ways(model: InflammatoryModel) -> None:
    _assert_same(model, _WRITTEN)
    for text in _WRITTEN:
        _assert_same(model, [text])


@needs_native
def test_texts_counted_per_term_score_alike_both_ways(model: InflammatoryModel) -> None:
    # Past DEDUP_ABOVE occurrences a text (and a sentence) is counted per term by the numpy path; the fast
    # path reads those texts again that way, wherever they stand in the batch.
    huge_sentence = "you utter clown " * (DEDUP_ABOVE // 30)
    huge_text = "Calm words here. " * (DEDUP_ABOVE // 40) + "What a moron."
    texts = ["short and fine", huge_sentence, "a second short one.", huge_text, ""]
    _assert_same(model, texts)
    _assert_same(model, [huge_text])


@needs_native
@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.text(
            alphabet=st.one_of(
                st.sampled_from(list("abcXYZ019 .!?\n\t@#$'-_*")),
                st.characters(codec="utf-8", exclude_categories=("Cs",)),
            ),
            max_size=120,
        ),
        min_size=1,
        max_size=6,
    )
)
def test_any_batch_scores_alike_both_ways(texts: list[str]) -> None:
    _assert_same(InflammatoryDetector.load().model, texts)


@needs_native
def test_decision_is_the_same_without_the_extension(
    model: InflammatoryModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    texts = [*_WRITTEN, "Nobody asked for your opinion, troll."]
    by_c = model.decision(texts)
    monkeypatch.setattr(fused, "native", None)
    assert model.decision(texts).tobytes() == by_c.tobytes()


@needs_native
def test_bad_arguments_raise_instead_of_crashing(model: InflammatoryModel) -> None:
    native = fused.native
    assert native is not None
    codes = np.ascontiguousarray(_normalise(["some words"]).codes)
    table = model._table
    word = _tables().word
    good = (codes, word, _MULTIPLIERS, 19, 20, (3, 4, 5), 7, table.slot, table.values)
    assert native.chunk_sums(*good) is not None
    for position, bad in [
        (2, _MULTIPLIERS[:5]),  # too few multipliers
        (3, 18),  # a slot table of another size
        (5, (4, 3)),  # sizes not increasing
        (5, ()),
        (8, table.values[:, :1].copy()),  # rows of one value
    ]:
        args = list(good)
        args[position] = bad
        with pytest.raises(ValueError):
            native.chunk_sums(*args)
    broken = table.slot.copy()
    broken[:] = table.values.shape[0]  # every slot past the values
    with pytest.raises(IndexError):
        native.chunk_sums(*good[:7], broken, table.values)
    with pytest.raises(TypeError):
        native.chunk_sums(*good[:5], [3, 4, 5], *good[6:])
    # Sizes below 3 and a text that starts with a word code are left to the numpy path.
    assert native.chunk_sums(*good[:5], (2, 3), *good[6:]) is None
    assert native.chunk_sums(codes[1:], *good[1:]) is None

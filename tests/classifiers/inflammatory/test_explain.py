"""Explanations from the model itself: exact shares of the score, mapped back to the characters written."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from classifiers.inflammatory import InflammatoryDetector, TextFeatures, second_stage_inputs, standardise
from classifiers.inflammatory.attribution import INSULT, NEITHER, VIOLENCE, Attribution
from classifiers.inflammatory.detector import _reason
from classifiers.inflammatory.explain import Phrase, _units_by_pattern, phrases, unit_weights, units
from classifiers.inflammatory.features import COUNTED_NAMES, DENSE_NAMES
from classifiers.inflammatory.scoring import occurrence_shares, text_and_sentence_scores
from classifiers.result import Detection, Evidence
from classifiers.thread import Post

FILLER = "The council met on Tuesday to discuss the budget and the new depot. "
TEXTS = [
    "You are a pathetic idiot and a clueless moron.",
    "I disagree with the budget. The numbers do not add up. Frankly you are a clown!",
    "d u m b. ＤＵＭＢ. id\u200biot. 🙂🙂 https://example.com/x @someone sooooo stupid!!!",
    FILLER * 30 + "Frankly the councillor is a pathetic moron. " + FILLER * 10,
    "",
    "   ",
    "https://example.com/only-a-link",
    "idiot " * 1_400,  # a linear score far past the second stage's bound
    "idiot " * 4_000,  # past the limit where norms count repeats
]


@pytest.fixture(scope="module")
def detector() -> InflammatoryDetector:
    return InflammatoryDetector.load()


# -- exact sums ----------------------------------------------------------------------------------------------


def test_shares_add_up_to_the_linear_scores(detector: InflammatoryDetector) -> None:
    model = detector.model
    occ = model.features.occurrences(TEXTS, spans=True)
    doc, best = text_and_sentence_scores(occ, model._table)
    shares = occurrence_shares(occ, model._table)
    assert np.allclose(
        np.bincount(occ.doc, weights=shares.text, minlength=len(TEXTS)), doc, rtol=0, atol=1e-9
    )
    assert np.allclose(
        np.bincount(occ.doc, weights=shares.sentence, minlength=len(TEXTS)), best, rtol=0, atol=1e-9
    )
    assert doc[0] > 0 and best[1] > doc[1]  # a text and a worst sentence that carry weight
    assert doc[-2] + model.linear_bias > 8 > doc[-1] + model.linear_bias  # bounded, and counted norms


def test_attributions_add_up_to_the_score_less_what_no_word_carries(detector: InflammatoryDetector) -> None:
    """The score minus the attributed log-odds is the score of a text with the same style features but no
    linear score and no lexicon words."""
    model = detector.model
    occ = model.features.occurrences(TEXTS)
    raw = occ.dense.copy()
    raw[:, [DENSE_NAMES.index(name) for name in COUNTED_NAMES]] = 0.0
    dense = standardise(raw, model.dense_mean, model.dense_scale)
    bias = np.full(len(TEXTS), model.linear_bias)
    rest = second_stage_inputs(bias, bias, dense) @ model.meta_coef + model.meta_bias
    attributed = np.array([a.log_odds.sum() for a in model.attributions(TEXTS)])
    assert np.allclose(model.decision(TEXTS) - attributed, rest, rtol=0, atol=1e-9)


def test_attributions_do_not_depend_on_the_batch(detector: InflammatoryDetector) -> None:
    together = detector.model.attributions(TEXTS[:4])
    for text, found in zip(TEXTS[:4], together, strict=True):
        alone = detector.model.attributions([text])[0]
        assert np.array_equal(np.sort(found.first), np.sort(alone.first))
        assert np.isclose(found.log_odds.sum(), alone.log_odds.sum(), rtol=0, atol=1e-9)
        assert found.passages == alone.passages


# -- spans of the original text ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "insult"),
    [
        ("Everyone here knows you are d u m b and always were.", "d u m b"),
        ("Everyone here knows you are an !d10t and always were.", "!d10t"),
        ("Everyone here knows you are ＤＵＭＢ and always were.", "ＤＵＭＢ"),
        ("Everyone here knows you are an id\u200bi\u200bot and always were.", "id\u200bi\u200bot"),
        ("Read https://example.com/a?b=1&c=2 before posting, you moron.", "moron"),
        ("𝕿𝖍𝖎𝖘 😀🎉👍🏽 from @someone: you are a moron.", "moron"),
        ("😀😀😀😀 d u m b 🎉🎉 ＤＵＭＢ", "d u m b"),
        ("😀😀😀😀 d u m b 🎉🎉 ＤＵＭＢ", "ＤＵＭＢ"),
    ],
)
def test_evidence_is_the_insult_as_written(detector: InflammatoryDetector, text: str, insult: str) -> None:
    found = [text[e.start : e.end] for e in detector.explain(text)]
    start = text.index(insult)
    assert any(f.endswith(insult) for f in found), found
    assert any(e.end == start + len(insult) for e in detector.explain(text))


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                "you",
                "are",
                "a",
                "moron",
                "d u m b",
                "!d10t",
                "ＤＵＭＢ",
                "id\u200biot",
                "😀",
                "𝕏",
                "sooooo",
                "http://x.io/a",
                "@bob",
                ".",
                "!!",
                "\n",
                " ",
                "\u200b",
                "wh4t",
                "i.d.i.o.t",
            ]
        ),
        max_size=30,
    ).map(" ".join)
)
def test_occurrence_spans_stay_inside_the_text_and_on_what_was_read(text: str) -> None:
    occ = TextFeatures().occurrences(["before", text, "after"], spans=True)
    assert occ.first is not None and occ.last is not None
    mine = occ.doc == 1
    firsts, lasts = occ.first[mine], occ.last[mine]
    assert np.all((firsts >= 0) & (firsts <= lasts) & (lasts < len(text)))
    for first, last in zip(firsts.tolist(), lasts.tolist(), strict=True):
        assert not text[first].isspace() and not text[last].isspace()
        assert text[first] != "\u200b" and text[last] != "\u200b"


def test_nothing_to_explain(detector: InflammatoryDetector) -> None:
    assert detector.explain("") == []
    assert detector.explain("   \n\t ") == []
    assert detector.explain("https://example.com/only-a-link") == []
    assert detector.model.attributions([]) == []
    state = detector.begin_thread("t", "x")
    assert state.review(Post(id="p1", text="https://example.com/only-a-link")).evidence == ()


# -- words and phrases ---------------------------------------------------------------------------------------


def _attribution(text: str, weights: dict[str, float], insults: tuple[str, ...] = ()) -> Attribution:
    """One span per listed word (its first occurrence), weighing what is given."""
    firsts = [text.index(w) for w in weights]
    lasts = [f + len(w) - 1 for f, w in zip(firsts, weights, strict=True)]
    return Attribution(
        np.array(firsts, dtype=np.int64),
        np.array(lasts, dtype=np.int64),
        np.array(list(weights.values())),
        np.array([INSULT if w in insults else NEITHER for w in weights], dtype=np.int8),
    )


def _shown(text: str, found: list[Phrase]) -> list[str]:
    return [text[p.start : p.end] for p in found]


def test_phrases_join_neighbours_and_intensifiers() -> None:
    text = "Honestly you are so dumb, a lying fraud and a clown."
    weights = {"dumb": 1.0, "lying": 0.5, "fraud": 0.8, "clown": 0.6, "you": 0.9, "Honestly": 0.01}
    found = phrases(text, _attribution(text, weights))
    assert _shown(text, found) == ["a lying fraud", "so dumb", "a clown"]
    assert found[0].log_odds == pytest.approx(1.3)
    assert "you" not in _shown(text, found)  # a function word says nothing on its own
    assert "Honestly" not in _shown(text, found)  # below 15% of the strongest


def test_a_span_over_two_words_is_shared_and_links_are_never_evidence() -> None:
    text = "see https://example.com/x clown car"
    pair = Attribution(
        np.array([text.index("https"), text.index("clown")]),
        np.array([text.index("https") + 5, len(text) - 1]),
        np.array([0.8, 1.0]),
        np.zeros(2, dtype=np.int8),
    )
    found = phrases(text, pair)
    assert _shown(text, found) == ["clown car"]
    assert found[0].log_odds == pytest.approx(1.0)


def test_long_text_evidence_covers_its_worst_passages(detector: InflammatoryDetector) -> None:
    text = (
        FILLER * 20
        + "Frankly the councillor is a pathetic moron. "
        + FILLER * 20
        + "And the treasurer is a lying fraud and a crook. "
        + FILLER * 20
    )
    found = [text[e.start : e.end] for e in detector.explain(text)]
    assert any("moron" in f for f in found)
    assert any("fraud" in f or "crook" in f for f in found)
    assert not any("council" in f.casefold() and "councillor" not in f for f in found)


# -- reasons -------------------------------------------------------------------------------------------------


def test_reason_names_the_insults_then_violence_else_the_strongest_each_once() -> None:
    text = "people can be so dumb and steal money, a wannabe, still dumb, kill"

    def at(words: str, weight: float, kind: int, last: bool = False) -> Phrase:
        start = text.rindex(words) if last else text.index(words)
        return Phrase(start, start + len(words), weight, kind)

    found = [at("so dumb", 0.8, INSULT), at("steal", 0.3, NEITHER), at("wannabe", 0.25, INSULT)]
    found.append(at("dumb", 0.2, INSULT, last=True))
    assert _reason(text, found, 0.62) == "insulting language: 'so dumb', 'wannabe' (score 0.62)."
    assert _reason(text, [at("kill", 0.9, VIOLENCE), *found], 0.62) == (
        "insulting language: 'so dumb', 'wannabe', 'kill' (score 0.62)."
    )
    # No insult: the strongest words, whatever they are (an insult the word lists miss comes first here).
    threat = [at("people", 0.5, NEITHER), at("kill", 0.4, VIOLENCE), at("steal", 0.3, NEITHER)]
    assert _reason(text, threat, 0.7) == "insulting language: 'people', 'kill', 'steal' (score 0.70)."
    plain = [at("people", 0.5, NEITHER), at("steal", 0.3, NEITHER)]
    assert _reason(text, plain, 0.7) == "insulting language: 'people', 'steal' (score 0.70)."
    assert _reason(text, [], 0.7) == "inflammatory tone (score 0.70)."
    shorter_first = [at("dumb", 0.9, INSULT, last=True), *found]
    assert _reason(text, shorter_first, 0.62) == "insulting language: 'so dumb', 'wannabe' (score 0.62)."


def test_batch_and_single_reviews_explain_alike(detector: InflammatoryDetector) -> None:
    texts = [*TEXTS[:4], "Shut up, you worthless pathetic idiot.", ""]
    items = [(detector.begin_thread(f"t{i}", "x"), Post(id=f"p{i}", text=t)) for i, t in enumerate(texts)]
    batch = detector.review_batch(items)
    for text, judged in zip(texts, batch, strict=True):
        alone = detector.begin_thread("u", "x").review(Post(id="q", text=text))
        assert isinstance(judged, Detection)
        assert judged.reasons == alone.reasons
        assert judged.evidence == alone.evidence
        assert all(isinstance(e, Evidence) and e.note.startswith("raises") for e in judged.evidence)


def test_units_keep_spaced_letters_and_leet_together() -> None:
    text = "d u m b, (!d10t) and i.d.i.o.t."
    found = units(text)
    assert [text[slice(*found.span(i))] for i in range(len(found))] == [
        "d u m b",
        "!d10t",
        "and",
        "i.d.i.o.t",
    ]


@settings(max_examples=300, deadline=None)
@given(
    st.text(alphabet=st.sampled_from(list("ab1!?.,()'\"“… \t\n\u00a0\u2003\u3000\u200b😀Ｄ")), max_size=40)
)
def test_units_by_arrays_match_the_pattern(text: str) -> None:
    fast, slow = units(text), _units_by_pattern(text)
    assert np.array_equal(fast.starts, slow.starts) and np.array_equal(fast.ends, slow.ends)


def test_the_model_marks_its_lexicon_words(detector: InflammatoryDetector) -> None:
    text = "You 1d10t, they will k i l l the vermin and the budget."
    weights, lexicon = unit_weights(units(text), detector.model.attributions([text])[0])
    found = units(text)
    kinds = {text[slice(*found.span(i))]: int(lexicon[i]) for i in range(len(found))}
    assert kinds["1d10t"] == INSULT and kinds["vermin"] == INSULT  # an insult, a dehumanising word
    assert kinds["k i l l"] == VIOLENCE
    assert kinds["budget"] == NEITHER and kinds["You"] == NEITHER
    assert weights.shape == (len(found),)


def test_empty_texts_in_a_row_keep_the_batch_in_step(detector: InflammatoryDetector) -> None:
    """Two empty texts in a row made three line breaks, squeezed to one: the texts after them were scored
    as the text before (and explained with its words)."""
    texts = ["you idiot", "", "", "you are nice", "\u200b", "\u200b", "what a moron"]
    alone = np.concatenate([detector.model.decision([t]) for t in texts])
    assert np.allclose(detector.model.decision(texts), alone, rtol=0, atol=1e-12)
    found = detector.model.attributions(texts)
    assert [int(a.log_odds.shape[0] > 0) for a in found] == [1, 0, 0, 1, 0, 0, 1]

"""Explanations (step 5): what a model says raised a text's score, as words and phrases of the original text.

A model explains itself with an `Attribution` per text (`classifiers.inflammatory.attribution`): spans of
the text and how much each raised the score. `phrases` sums them per unit of explanation (a word as written,
or a run of spaced-out letters) and picks the strongest words and phrases.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from classifiers.inflammatory.attribution import Attribution
from classifiers.inflammatory.normalise import _words

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]

# A unit of explanation: a run of non-space characters, or a run of three or more one-character pieces split
# by one separator ("d u m b"), which the model reads as one word.
_UNIT = re.compile(r"(?:(?<!\S)\w[ .\-_*]){2,}\w(?![^\s.,;:!?)\]\"'])|\S+")
_TRIM = "\"'“”‘’()[]{}<>«».,;:?!…"
# Links and mentions: the model reads each as one placeholder; never evidence on their own.
_PLACEHOLDER = re.compile(r"(?:https?://|www\.|@\w)", re.IGNORECASE)
_INTENSIFIERS = frozenset(_words("a absolute absolutely an complete really so such too total utter very"))
_FUNCTION_WORDS = frozenset(
    _words(
        "a all am an and are as at be been being but by can could did do does for he her here his how i if "
        "in is it its just me my no not of on or our really she should so such than that the their them then "
        "there these they this those to too us very was we were what who why will with would you your yours"
    )
)
COVER_ABOVE = 1500  # characters: a longer text's evidence covers each of its worst passages
_COVERED = 3  # passages


@dataclass(frozen=True, slots=True)
class Phrase:
    """A word or phrase of the text (start, end), how much it raised the score (log-odds), and whether the
    model counts a word of it as an insult."""

    start: int
    end: int
    log_odds: float
    insult: bool


def units(text: str) -> list[tuple[int, int]]:
    """The units of explanation of `text` as (start, end) spans: words without surrounding punctuation, and
    runs of spaced-out letters."""
    found = []
    for m in _UNIT.finditer(text):
        start, end = m.span()
        while start < end and text[start] in _TRIM and not _is_leet_start(text, start, end):
            start += 1
        while end > start and text[end - 1] in _TRIM:
            end -= 1
        if end > start:
            found.append((start, end))
    return found


def _is_leet_start(text: str, start: int, end: int) -> bool:
    # "!d10t": a symbol that stands for a letter at the start of a word is part of the word.
    return text[start] == "!" and end - start > 1 and text[start + 1].isalnum()


def unit_weights(spans: Sequence[tuple[int, int]], attribution: Attribution) -> tuple[F64, Bools]:
    """Per unit, the sum of the attributed log-odds and whether an insult lies in it. A span over several
    units is shared evenly between them; one over none (punctuation alone) is left out."""
    n = len(spans)
    weights, insult = np.zeros(n), np.zeros(n, dtype=bool)
    if not n or not attribution.log_odds.shape[0]:
        return weights, insult
    starts = np.array([s for s, _ in spans], dtype=np.int64)
    ends = np.array([e for _, e in spans], dtype=np.int64)
    lo = np.searchsorted(ends, attribution.first, side="right")
    hi = np.searchsorted(starts, attribution.last, side="right") - 1
    count = np.maximum(hi - lo + 1, 0)
    if not count.any():
        return weights, insult
    index = np.repeat(lo, count) + np.arange(int(count.sum())) - np.repeat(np.cumsum(count) - count, count)
    weights += np.bincount(
        index, weights=np.repeat(attribution.log_odds / np.maximum(count, 1), count), minlength=n
    )
    insult[index[np.repeat(attribution.insult, count)]] = True
    return weights, insult


def phrases(text: str, attribution: Attribution, *, limit: int = 5) -> list[Phrase]:
    """The words and phrases that raised the score most, strongest first.

    A word counts when it raised the score by at least 15% of the strongest word (and 0.05), and by 30% of
    the strongest of its own passage; function words, links and mentions only count inside a phrase. Words
    next to each other make one phrase, as does an intensifier or article before a word ("so dumb"). In a
    long text the strongest word of each of its worst passages is kept.
    """
    spans = units(text)
    if not spans:
        return []
    weights, insult = unit_weights(spans, attribution)
    strongest = float(weights.max())
    if strongest <= 0:
        return []
    passage = _passage_of(spans, attribution.passages)
    local = _strongest_by_passage(weights, passage)
    words = [_plain(text[s:e]) for s, e in spans]
    eligible = (weights >= max(0.15 * strongest, 0.05)) & (weights >= 0.3 * local)
    ranked = [
        int(i)
        for i in np.argsort(-weights, kind="stable")
        if eligible[i] and words[i] not in _FUNCTION_WORDS and not _PLACEHOLDER.match(text[slice(*spans[i])])
    ]
    kept: set[int] = set()
    if len(text) > COVER_ABOVE:
        for p in range(_COVERED):
            kept.update([i for i in ranked if passage[i] == p][:1])
    found = _phrases(text, spans, words, (weights, insult), set(ranked[: limit * 2]) | kept)
    found.sort(key=lambda group: -group[0].log_odds)
    covering = [phrase for phrase, members in found if members & kept]
    others = [phrase for phrase, members in found if not members & kept]
    return sorted((covering + others)[:limit], key=lambda phrase: -phrase.log_odds)


def _plain(word: str) -> str:
    return word.strip(_TRIM).casefold()


def _passage_of(spans: Sequence[tuple[int, int]], passages: tuple[tuple[int, int], ...]) -> I64:
    """Per unit, the index of the passage it starts in (-1: none)."""
    starts = np.array([s for s, _ in spans], dtype=np.int64)
    passage = np.full(len(spans), -1, dtype=np.int64)
    for k, (first, last) in enumerate(passages):
        passage[(starts >= first) & (starts < last)] = k
    return passage


def _strongest_by_passage(weights: F64, passage: I64) -> F64:
    """Per unit, the strongest weight of its passage (at least 1e-9); the strongest of all for a unit in
    none."""
    local = np.full(weights.shape[0], max(float(weights.max()), 1e-9))
    inside = passage >= 0
    if inside.any():
        best = np.full(int(passage.max()) + 1, -np.inf)
        np.maximum.at(best, passage[inside], weights[inside])
        local[inside] = np.maximum(best[passage[inside]], 1e-9)
    return local


def _phrases(
    text: str, spans: Sequence[tuple[int, int]], words: list[str], unit: tuple[F64, Bools], chosen: set[int]
) -> list[tuple[Phrase, set[int]]]:
    """Chosen units next to each other joined into phrases, with an intensifier or article just before
    ("so dumb"); each phrase weighs what its units weigh together, and the chosen units it holds."""
    weights, insult = unit
    found: list[tuple[Phrase, set[int]]] = []
    for i in sorted(chosen):
        start, end = spans[i]
        weight, insulting = float(weights[i]), bool(insult[i])
        if i > 0 and i - 1 not in chosen and words[i - 1] in _INTENSIFIERS:
            start = spans[i - 1][0]
            weight += float(weights[i - 1])
        if found and i - 1 in chosen and text[found[-1][0].end : spans[i][0]].strip() == "":
            last, members = found[-1]
            joined = Phrase(last.start, end, last.log_odds + weight, last.insult or insulting)
            found[-1] = (joined, members | {i})
        else:
            found.append((Phrase(start, end, weight, insulting), {i}))
    return found

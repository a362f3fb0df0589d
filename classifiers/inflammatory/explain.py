"""Explanations (step 5): what a model says raised a text's score, as words and phrases of the original text.

A model explains itself with an `Attribution` per text (`classifiers.inflammatory.attribution`): spans of
the text and how much each raised the score. `phrases` sums them per unit of explanation (a word as written,
or a run of spaced-out letters) and picks the strongest words and phrases.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from classifiers.inflammatory.attribution import Attribution
from classifiers.inflammatory.normalise import _words

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
I8 = npt.NDArray[np.int8]

# A unit of explanation: a run of non-space characters, or a run of three or more one-character pieces split
# by one separator ("d u m b"), which the model reads as one word.
_SPACED = re.compile(r"(?:(?<!\S)\w[ .\-_*]){2,}\w(?![^\s.,;:!?)\]\"'])")
_UNIT = re.compile(_SPACED.pattern + r"|\S+")
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
    """A word or phrase of the text (start, end), how much it raised the score (log-odds), and the most
    telling of what its words are in the model's lexicons (`attribution.INSULT`, `VIOLENCE`, `NEITHER`)."""

    start: int
    end: int
    log_odds: float
    lexicon: int


@dataclass(frozen=True, slots=True)
class Units:
    """The units of explanation of a text, in order: words without surrounding punctuation, and runs of
    spaced-out letters, as (start, end) spans."""

    text: str
    starts: I64
    ends: I64

    def __len__(self) -> int:
        return int(self.starts.shape[0])

    def span(self, i: int) -> tuple[int, int]:
        """The (start, end) of unit `i`."""
        return int(self.starts[i]), int(self.ends[i])

    def word(self, i: int) -> str:
        """Unit `i` as a plain word (folded, without surrounding punctuation)."""
        return self.text[self.starts[i] : self.ends[i]].strip(_TRIM).casefold()


def units(text: str) -> Units:
    """The units of explanation of `text` (vectorised; by regular expression when it spaces out letters)."""
    if _SPACED.search(text):
        return _units_by_pattern(text)
    codes = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    kinds = _code_kinds()[np.minimum(codes, _ABOVE_KINDS)]
    space = kinds == _SPACE_KIND
    edges = np.diff(np.concatenate(([1], space.astype(np.int8), [1])))
    starts, ends = np.flatnonzero(edges == -1), np.flatnonzero(edges == 1)
    keep = kinds == 0
    starter = keep.copy()
    # "!d10t": a symbol that stands for a letter at the start of a word is part of the word.
    for i in np.flatnonzero(codes[:-1] == ord("!")).tolist():
        starter[i] = text[i + 1].isalnum()
    firsts, lasts = np.flatnonzero(starter), np.flatnonzero(keep)
    if not lasts.shape[0]:
        return Units(text, np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64))
    at = np.minimum(np.searchsorted(firsts, starts), firsts.shape[0] - 1)
    first = firsts[at]
    last = lasts[np.maximum(np.searchsorted(lasts, ends) - 1, 0)]
    ok = (first >= starts) & (first < ends) & (last >= first) & (last < ends)
    return Units(text, first[ok].astype(np.int64), last[ok].astype(np.int64) + 1)


def _units_by_pattern(text: str) -> Units:
    found = []
    for m in _UNIT.finditer(text):
        start, end = m.span()
        while start < end and text[start] in _TRIM and not _is_leet_start(text, start, end):
            start += 1
        while end > start and text[end - 1] in _TRIM:
            end -= 1
        if end > start:
            found.append((start, end))
    spans = np.array(found, dtype=np.int64).reshape(-1, 2)
    return Units(text, spans[:, 0].copy(), spans[:, 1].copy())


def _is_leet_start(text: str, start: int, end: int) -> bool:
    return text[start] == "!" and end - start > 1 and text[start + 1].isalnum()


_kinds_cache: list[npt.NDArray[np.int8]] = []
_SPACE_KIND, _TRIM_KIND = 1, 2
_ABOVE_KINDS = 0x3001  # the code points `\s` matches (`str.isspace`) and `_TRIM` all lie below


def _code_kinds() -> npt.NDArray[np.int8]:
    """Per code point up to U+3000, 1 for a space, 2 for a character trimmed off words, else 0; entry
    U+3001 (0) stands for every code point above. A lookup costs a tenth of `np.isin` on a text."""
    if not _kinds_cache:
        kinds = np.zeros(_ABOVE_KINDS + 1, dtype=np.int8)
        kinds[[c for c in range(_ABOVE_KINDS) if chr(c).isspace()]] = _SPACE_KIND
        kinds[[ord(c) for c in _TRIM]] = _TRIM_KIND
        _kinds_cache.append(kinds)
    return _kinds_cache[0]


def unit_weights(found: Units, attribution: Attribution) -> tuple[F64, I8]:
    """Per unit, the sum of the attributed log-odds and the most telling lexicon kind of the spans in it. A
    span over several units is shared evenly between them; one over none (punctuation alone) is left out."""
    n = len(found)
    weights, lexicon = np.zeros(n), np.zeros(n, dtype=np.int8)
    if not n or not attribution.log_odds.shape[0]:
        return weights, lexicon
    lo = np.searchsorted(found.ends, attribution.first, side="right")
    hi = np.searchsorted(found.starts, attribution.last, side="right") - 1
    count = np.maximum(hi - lo + 1, 0)
    if not count.any():
        return weights, lexicon
    index = np.repeat(lo, count) + np.arange(int(count.sum())) - np.repeat(np.cumsum(count) - count, count)
    weights += np.bincount(
        index, weights=np.repeat(attribution.log_odds / np.maximum(count, 1), count), minlength=n
    )
    np.maximum.at(lexicon, index, np.repeat(attribution.lexicon, count))
    return weights, lexicon


def phrases(text: str, attribution: Attribution, *, limit: int = 5) -> list[Phrase]:
    """The words and phrases that raised the score most, strongest first.

    A word counts when it raised the score by at least 15% of the strongest word (and 0.05), and by 30% of
    the strongest of its passage (the whole text, or in a long text its sentence); function words, links and
    mentions only count inside a phrase. Words next to each other make one phrase, as does an intensifier or
    article before a word ("so dumb"). In a long text the strongest word of each of its three worst
    passages is kept.
    """
    found = units(text)
    if not len(found):
        return []
    weights, lexicon = unit_weights(found, attribution)
    strongest = float(weights.max())
    if strongest <= 0:
        return []
    long = len(text) > COVER_ABOVE
    passage = _passage_of(found, attribution.passages if long else ())
    local = _strongest_by_passage(weights, passage)
    eligible = np.flatnonzero((weights >= max(0.15 * strongest, 0.05)) & (weights >= 0.3 * local))
    ranked = [
        int(i)
        for i in eligible[np.argsort(-weights[eligible], kind="stable")]
        if found.word(i) not in _FUNCTION_WORDS and not _PLACEHOLDER.match(text, int(found.starts[i]))
    ]
    kept: set[int] = set()
    if long:
        for p in range(_COVERED):
            kept.update([i for i in ranked if passage[i] == p][:1])
    groups = _phrases(found, (weights, lexicon), set(ranked[: limit * 2]) | kept)
    groups.sort(key=lambda group: -group[0].log_odds)
    covering = [phrase for phrase, members in groups if members & kept]
    others = [phrase for phrase, members in groups if not members & kept]
    return sorted((covering + others)[:limit], key=lambda phrase: -phrase.log_odds)


def _passage_of(found: Units, passages: tuple[tuple[int, int], ...]) -> I64:
    """Per unit, the index of the passage it starts in (-1: none; passages do not overlap)."""
    passage = np.full(len(found), -1, dtype=np.int64)
    if not passages:
        return passage
    bounds = np.array(passages, dtype=np.int64)
    order = np.argsort(bounds[:, 0], kind="stable")
    k = np.searchsorted(bounds[order, 0], found.starts, side="right") - 1
    inside = (k >= 0) & (found.starts < bounds[order[np.maximum(k, 0)], 1])
    passage[inside] = order[k[inside]]
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


def _phrases(found: Units, unit: tuple[F64, I8], chosen: set[int]) -> list[tuple[Phrase, set[int]]]:
    """Chosen units next to each other joined into phrases, with an intensifier or article just before
    ("so dumb"); each phrase weighs what its units weigh together, and the chosen units it holds."""
    weights, lexicon = unit
    groups: list[tuple[Phrase, set[int]]] = []
    for i in sorted(chosen):
        start, end = found.span(i)
        weight, kind = float(weights[i]), int(lexicon[i])
        if i > 0 and i - 1 not in chosen and found.word(i - 1) in _INTENSIFIERS:
            start = int(found.starts[i - 1])
            weight += float(weights[i - 1])
        if groups and i - 1 in chosen and found.text[groups[-1][0].end : start].strip() == "":
            last, members = groups[-1]
            joined = Phrase(last.start, end, last.log_odds + weight, max(last.lexicon, kind))
            groups[-1] = (joined, members | {i})
        else:
            groups.append((Phrase(start, end, weight, kind), {i}))
    return groups

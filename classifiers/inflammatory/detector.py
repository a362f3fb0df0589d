"""The detector and its thread state: scores, reasons and evidence (by occlusion, step 5) for a post's own
words."""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from classifiers.inflammatory.model import DEFAULT_MODEL_PATH, InflammatoryModel
from classifiers.inflammatory.normalise import _tables, _words
from classifiers.result import Category, Detection, DetectorFailure, Evidence
from classifiers.suite import DEFAULT_THRESHOLDS
from classifiers.text import (
    boilerplate_spans,
    forget_oldest,
    shingle_hashes,
    word_key_spans,
    word_keys,
)
from classifiers.thread import Post

DEFAULT_THRESHOLD = DEFAULT_THRESHOLDS["inflammatory"]

F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
U64 = npt.NDArray[np.uint64]
Bools = npt.NDArray[np.bool_]

# ------------------------------------------------------------------------------------------------------------
# The detector
# ------------------------------------------------------------------------------------------------------------

# A unit of explanation: a run of non-space characters, or a run of three or more one-character pieces split
# by
# one separator ("d u m b"), which the model reads as one word.
_UNIT = re.compile(r"(?:(?<!\S)\w[ .\-_*]){2,}\w(?![^\s.,;:!?)\]\"'])|\S+")
_TRIM = "\"'“”‘’()[]{}<>«».,;:?!…"
_QUOTE_SHINGLE = 6  # words in a row that count as repeating an earlier post
_EXPLAIN_WHOLE = 1500  # characters: a longer text is explained in its most inflammatory passages
_EXPLAIN_PASSAGES = 3
_SENTENCE = re.compile(r"[^.!?\n]+[.!?]*")
_INTENSIFIERS = frozenset(_words("a absolute absolutely an complete really so such too total utter very"))
_FUNCTION_WORDS = frozenset(
    _words(
        "a all am an and are as at be been being but by can could did do does for he her here his how i if "
        "in "
        "is it its just me my no not of on or our really she should so such than that the their them then "
        "there these they this those to too us very was we were what who why will with would you your yours"
    )
)


def _deobfuscate_word(word: str) -> str:
    return word.strip(_TRIM).casefold()


@dataclass(frozen=True, slots=True)
class _Unit:
    start: int
    end: int


def _units(text: str) -> list[_Unit]:
    units = []
    for m in _UNIT.finditer(text):
        start, end = m.span()
        while start < end and text[start] in _TRIM and not _is_leet_start(text, start, end):
            start += 1
        while end > start and text[end - 1] in _TRIM:
            end -= 1
        if end > start:
            units.append(_Unit(start, end))
    return units


def _is_leet_start(text: str, start: int, end: int) -> bool:
    # "!d10t": a symbol that stands for a letter at the start of a word is part of the word.
    return text[start] == "!" and end - start > 1 and text[start + 1].isalnum()


def _blank(text: str, spans: Sequence[tuple[int, int]]) -> str:
    """`text` with the given spans replaced by spaces (line breaks kept), so positions stay put."""
    if not spans:
        return text
    parts = []
    pos = 0
    for start, end in _merge(spans):
        if start < pos:
            start = pos
        if start >= end:
            continue
        parts.append(text[pos:start])
        parts.append("".join("\n" if ch == "\n" else " " for ch in text[start:end]))
        pos = end
    parts.append(text[pos:])
    return "".join(parts)


class InflammatoryDetector:
    """Scores how inflammatory a post's own words are; implements `classifiers.suite.Detector`.

    `threshold` only decides when reasons and evidence are worth computing (at `explain_from` x threshold and
    above); whether a post is flagged is the suite's decision.
    """

    category: Category = "inflammatory"

    def __init__(
        self, model: InflammatoryModel, *, threshold: float = DEFAULT_THRESHOLD, explain_from: float = 0.5
    ) -> None:
        if not 0.0 <= threshold <= 1.0:
            raise ValueError(f"threshold must be within [0, 1], got {threshold}")
        self.model = model
        self.version = model.version
        self.threshold = threshold
        self.explain_from = explain_from
        self.load_seconds = 0.0

    @classmethod
    def load(cls, path: Path | None = None, **kwargs: Any) -> InflammatoryDetector:
        """The detector with the model at `path` (default: the shipped model). Raises ModelError."""
        started = time.perf_counter()
        model = InflammatoryModel.load(path or DEFAULT_MODEL_PATH)
        _tables()  # build the character tables now rather than on the first post
        detector = cls(model, **kwargs)
        detector.load_seconds = time.perf_counter() - started
        return detector

    def use_threshold(self, value: float) -> None:
        """Follow the suite's flag threshold: reasons are computed from `explain_from` x threshold."""
        self.threshold = value

    def begin_thread(self, thread_id: str, title: str) -> InflammatoryThreadState:
        """A fresh state for a thread."""
        return InflammatoryThreadState(self)

    def score_texts(self, texts: Sequence[str], batch_size: int = 512) -> F64:
        """Calibrated probabilities for a batch of texts (for evaluation and benchmarks)."""
        parts = [self.model.decision(texts[i : i + batch_size]) for i in range(0, len(texts), batch_size)]
        return self.model.calibrate(np.concatenate(parts) if parts else np.zeros(0))

    def explain(self, text: str, *, limit: int = 5) -> list[Evidence]:
        """The words and phrases whose removal lowers the score most, as spans of `text`, strongest first."""
        units = _units(text)
        if not units:
            return []
        drops = np.full(len(units), -np.inf)
        # Each word is compared with the strongest of its own passage (a long post's evidence covers each of
        # its worst passages), and with the strongest overall.
        local = np.full(len(units), np.inf)
        starts = np.array([u.start for u in units])
        for first, last in self._contexts(text):
            inside = np.flatnonzero((starts >= first) & (starts < last))
            inside = inside[[units[i].end <= last for i in inside]] if inside.shape[0] else inside
            if not inside.shape[0]:
                continue
            context = text[first:last]
            variants = [context] + [
                context[: units[i].start - first]
                + " " * (units[i].end - units[i].start)
                + context[units[i].end - first :]
                for i in inside
            ]
            scores = np.concatenate(
                [self.model.decision(variants[i : i + 256]) for i in range(0, len(variants), 256)]
            )
            drops[inside] = scores[0] - scores[1:]
            local[inside] = max(float(drops[inside].max()), 1e-9)
        strongest = float(drops.max())
        if strongest <= 0:
            return []
        words = [text[u.start : u.end].casefold() for u in units]
        floor = max(0.15 * strongest, 0.05)
        # Function words ("be", "you") can raise the score but say nothing on their own: only in a phrase.
        chosen = {
            int(i)
            for i in np.argsort(-drops)[: limit * 2]
            if drops[i] >= floor
            and drops[i] >= 0.3 * local[i]
            and _deobfuscate_word(words[i]) not in _FUNCTION_WORDS
        }
        # A phrase: chosen units next to each other, with an intensifier or article just before ("so dumb").
        phrases: list[tuple[int, int, float]] = []
        for i in sorted(chosen):
            u = units[i]
            start = u.start
            if i > 0 and i - 1 not in chosen and _deobfuscate_word(words[i - 1]) in _INTENSIFIERS:
                start = units[i - 1].start
            if phrases and i - 1 in chosen and text[phrases[-1][1] : u.start].strip() == "":
                first, _, weight = phrases[-1]
                phrases[-1] = (first, u.end, weight + float(drops[i]))
            else:
                phrases.append((start, u.end, float(drops[i])))
        phrases.sort(key=lambda p: -p[2])
        return [
            Evidence(start, end, note=f"raises the inflammatory score by {weight:.2f} (log-odds)")
            for start, end, weight in phrases[:limit]
        ]

    def _contexts(self, text: str) -> list[tuple[int, int]]:
        """Where to look for evidence: the whole text, or in a long one its most inflammatory passages."""
        if len(text) <= _EXPLAIN_WHOLE:
            return [(0, len(text))]
        pieces: list[tuple[int, int]] = []
        for m in _SENTENCE.finditer(text):
            start, end = m.span()
            while end - start > _EXPLAIN_WHOLE:  # a very long sentence: windows that end at a space
                cut = text.rfind(" ", start + _EXPLAIN_WHOLE // 2, start + _EXPLAIN_WHOLE)
                cut = cut if cut > start else start + _EXPLAIN_WHOLE
                pieces.append((start, cut))
                start = cut
            if text[start:end].strip():
                pieces.append((start, end))
        scores = np.concatenate(
            [
                self.model.decision([text[a:b] for a, b in pieces[i : i + 512]])
                for i in range(0, len(pieces), 512)
            ]
        )
        top = np.argsort(-scores)[:_EXPLAIN_PASSAGES]
        return [pieces[i] for i in sorted(top)]

    def review_text(self, text: str) -> Detection:
        """Judge one text (a post's own words) on its own."""
        score = float(self.score_texts([text])[0]) if text.strip() else 0.0
        return self._judge(text, score)

    def review_batch(
        self, items: Sequence[tuple[InflammatoryThreadState, Post]]
    ) -> list[Detection | DetectorFailure]:
        """Judge posts of one or several threads, in order, scoring their texts in one vectorised batch.

        A post that cannot be judged gets a `DetectorFailure`; the others are judged as usual (if the batch
        fails, each text is scored again on its own, which gives the same scores).
        """
        owns: list[tuple[str, int] | DetectorFailure] = []
        for state, post in items:
            try:
                owns.append(state.own_text(post))
            except Exception as exc:
                owns.append(DetectorFailure.of("inflammatory", exc))
        texts = [own[0] for own in owns if not isinstance(own, DetectorFailure)]
        scores = self._scores_isolated(texts)
        found: list[Detection | DetectorFailure] = []
        next_score = iter(scores)
        for own in owns:
            if isinstance(own, DetectorFailure):
                found.append(own)
                continue
            text, ignored = own
            score = next(next_score)
            if isinstance(score, DetectorFailure):
                found.append(score)
                continue
            try:
                found.append(_with_ignored(self._judge(text, score if text.strip() else 0.0), ignored))
            except Exception as exc:
                found.append(DetectorFailure.of("inflammatory", exc))
        return found

    def _scores_isolated(self, texts: Sequence[str]) -> list[float | DetectorFailure]:
        """Scores of `texts` in one batch; if that fails, text by text, so only the failing ones fail."""
        if not texts:
            return []
        try:
            return [float(score) for score in self.score_texts(texts)]
        except Exception:
            pass
        scores: list[float | DetectorFailure] = []
        for text in texts:
            try:
                scores.append(float(self.score_texts([text])[0]))
            except Exception as exc:
                scores.append(DetectorFailure.of("inflammatory", exc))
        return scores

    def _judge(self, text: str, score: float) -> Detection:
        """The detection for `text` scored `score`: reasons and evidence when it may be flagged."""
        reasons: tuple[str, ...] = ()
        evidence: tuple[Evidence, ...] = ()
        if score >= self.explain_from * self.threshold:
            found = self.explain(text)
            if found:
                shown: list[str] = []
                for e in found:
                    phrase = _SPACES_ANY.sub(" ", text[e.start : e.end])
                    if len(shown) < 3 and not any(phrase.casefold() in p.casefold() for p in shown):
                        shown.append(phrase)
                words = ", ".join(f"'{p}'" for p in shown)
                reasons = (f"insulting language: {words} (score {score:.2f}).",)
            else:
                reasons = (f"inflammatory tone (score {score:.2f}).",)
            evidence = tuple(found)
        return Detection("inflammatory", score, reasons, evidence, {"model_version": self.version})


def _with_ignored(detection: Detection, ignored: int) -> Detection:
    """Note in the details how many characters pasted from earlier posts were not judged."""
    if not ignored:
        return detection
    details = {**detection.details, "repeated_chars_ignored": ignored}
    return Detection(detection.category, detection.score, detection.reasons, detection.evidence, details)


_SPACES_ANY = re.compile(r"\s+")


class InflammatoryThreadState:
    """Judges each post of a thread on its own words.

    Marked quotes (`post.quotes`) are never read. Where quotes are pasted inline, passages that repeat an
    earlier
    post of the thread word for word (six words or more) are blanked first, so quoting a troll to object to it
    is not the quoter's insult. Memory is bounded by `max_shingles`.
    """

    def __init__(self, detector: InflammatoryDetector, max_shingles: int = 50_000) -> None:
        self._detector = detector
        self._seen: dict[int, None] = {}
        self._max = max_shingles

    def review(self, post: Post) -> Detection:
        """Judge `post`, then remember its words so later posts that paste them are not blamed for them."""
        own, ignored = self.own_text(post)
        return _with_ignored(self._detector.review_text(own), ignored)

    def own_text(self, post: Post) -> tuple[str, int]:
        """The post's text with boilerplate and passages repeating earlier posts blanked, and how many
        characters were blanked as repeats; the post's words are then remembered for later posts."""
        keys = word_keys(post.text)
        hashes = shingle_hashes(keys, _QUOTE_SHINGLE)
        repeated: list[tuple[int, int]] = []
        if self._seen and not self._seen.keys().isdisjoint(hashes):
            spans = word_key_spans(post.text)
            if spans is not None and len(spans) == len(keys):
                repeated = [
                    (spans[i][0], spans[i + _QUOTE_SHINGLE - 1][1])
                    for i, h in enumerate(hashes)
                    if h in self._seen
                ]
        own = _blank(post.text, boilerplate_spans(post.text) + repeated)
        self._seen.update(dict.fromkeys(hashes))
        forget_oldest(self._seen, self._max)
        return own, sum(e - s for s, e in _merge(repeated))


def _merge(spans: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged
